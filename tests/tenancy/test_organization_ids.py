"""The two questions pages, feeds and views ask instead of testing ``is_superuser``
themselves: which organizations may this user act on, and whose node values may he read."""

from datetime import timedelta

from django.contrib.auth.models import AnonymousUser

from sensorgrid.inventory.models import Node
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import Action, organization_ids
from tests import factories as f


def test_members_view_their_organizations_and_only_owners_change_them(world):
    assert world.org_a.pk in organization_ids(world.alice, Action.CHANGE)  # owner
    assert world.org_a.pk in organization_ids(world.bob, Action.VIEW)  # inspector
    assert world.org_a.pk not in organization_ids(world.bob, Action.CHANGE)
    assert world.org_a.pk not in organization_ids(world.charlie, Action.VIEW)  # stranger
    assert not organization_ids(world.dave, Action.VIEW)  # staff, member of nothing


def test_a_superuser_acts_on_every_organization_without_being_a_member(world):
    founded_later = f.OrganizationFactory()
    ids = organization_ids(world.root, Action.CHANGE)
    assert all(pk in ids for pk in (world.org_a.pk, world.org_b.pk, founded_later.pk))
    assert Organization.objects.filter(ids.q("pk")).count() == Organization.objects.count()


def test_anonymous_and_deactivated_users_act_on_no_organization(world):
    assert not organization_ids(AnonymousUser())
    assert not organization_ids(None)
    world.alice.is_active = world.root.is_active = False
    assert not organization_ids(world.alice, Action.VIEW)
    assert not organization_ids(world.root, Action.VIEW)
    assert Organization.objects.filter(organization_ids(world.alice).q("pk")).count() == 0


def test_a_public_installation_publishes_its_nodes_values_only_while_it_lasts(world):
    readable = set(Node.objects.readable_by(world.charlie).values_list("pk", flat=True))
    assert readable == {world.node_b.pk, world.public_node.pk}
    assert set(Node.objects.readable_by(AnonymousUser()).values_list("pk", flat=True)) == {
        world.public_node.pk
    }
    # The node itself (device id, credentials) stays with the members.
    assert not Node.objects.for_user(world.charlie).filter(pk=world.public_node.pk).exists()
    before = world.public_installation.start - timedelta(seconds=1)
    assert not Node.objects.readable_by(None, before).filter(pk=world.public_node.pk).exists()


def test_members_and_superusers_read_every_node_of_their_organizations(world):
    org_a_nodes = {world.node_a.pk, world.public_node.pk}
    assert set(Node.objects.readable_by(world.bob).values_list("pk", flat=True)) == org_a_nodes
    assert Node.objects.readable_by(world.root).count() == Node.objects.count()
