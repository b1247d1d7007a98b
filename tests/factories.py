from datetime import UTC, datetime

import factory

from sensorgrid.inventory.models import Installation, Node, NodeModel, Room, Site
from sensorgrid.tenancy.models import Membership, Organization, Role, User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.OWNER


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    latitude = 52.5
    longitude = 13.4


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Room {n}")
    area = 50.0
    height = 3.0
    max_occupancy = 25


class NodeModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NodeModel

    organization = None
    manufacturer = "Acme"
    name = factory.Sequence(lambda n: f"Model {n}")
    codec = factory.SelfAttribute("decoder")

    class Params:
        # The field's name until issue 18 (item 3); tests written before still pass it.
        decoder = ""


class NodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Node

    organization = factory.SubFactory(OrganizationFactory)
    device_id = factory.Sequence(lambda n: f"dev-{n:04d}")
    alias = factory.LazyAttribute(lambda n: f"alias of {n.device_id}")


class InstallationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Installation

    node = factory.SubFactory(NodeFactory)
    room = factory.SubFactory(
        RoomFactory, site__organization=factory.SelfAttribute("...node.organization")
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = None
    is_public = False
