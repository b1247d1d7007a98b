from datetime import UTC, datetime, timedelta

import factory

from sensorgrid.inventory.models import Installation, Node, NodeModel, Quantity, Room, Site
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


# -- what happens to a node: radio receptions, health changes, refusals, alerts ----------


class ReceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "telemetry.Reception"

    node = factory.SubFactory(NodeFactory)
    ts = factory.Sequence(lambda n: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n))
    gateway_id = "gw-1"
    rssi = -90.0
    snr = 7.5
    frequency = 868_100_000
    spreading_factor = 7
    frame_counter = factory.Sequence(lambda n: n)


class NodeStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "fidelity.NodeStatusChange"

    node = factory.SubFactory(NodeFactory)
    from_status = "ALIVE"
    to_status = "MISSING"
    at = factory.Sequence(lambda n: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n))


class DeadLetterFactory(factory.django.DjangoModelFactory):
    """A refusal resolved to ``node`` (and its organization), as ingestion files one."""

    class Meta:
        model = "telemetry.DeadLetter"

    node = factory.SubFactory(NodeFactory)
    organization = factory.SelfAttribute("node.organization")
    device_id = factory.LazyAttribute(lambda d: d.node.device_id if d.node else "unknown-1")
    received_at = datetime(2026, 1, 1, tzinfo=UTC)
    last_received_at = factory.SelfAttribute("received_at")
    source = "http"
    topic = "/api/v1/ingest/"
    decoder = "json"
    payload = b'{"values": {"co2": -5}}'
    reason = "out-of-range"
    detail = "co2 = -5 is below the plausible minimum 0"


class AlertRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "alerts.AlertRule"

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = "threshold"
    params = factory.LazyFunction(lambda: {"above": 1000})
    quantity = factory.LazyFunction(lambda: Quantity.objects.get(key="co2"))


class AlertFactory(factory.django.DjangoModelFactory):
    """An open alert of ``node`` (``resolved_at`` set: a resolved one)."""

    class Meta:
        model = "alerts.Alert"

    node = factory.SubFactory(NodeFactory)
    organization = factory.SelfAttribute("node.organization")
    rule = factory.SubFactory(
        AlertRuleFactory, organization=factory.SelfAttribute("..node.organization")
    )
    quantity = factory.SelfAttribute("rule.quantity")
    severity = "warning"
    message = "CO2 1200 ppm > 1000"
    started_at = datetime(2026, 1, 1, tzinfo=UTC)
    opened_at = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)
    last_value = 1200.0
