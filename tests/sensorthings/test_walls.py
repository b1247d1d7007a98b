"""The walls: who sees and who changes which rows of every entity set."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser

from sensorgrid.sensorthings import walls
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.models import (
    Datastream,
    FeatureOfInterest,
    HistoricalLocation,
    Location,
    ObservationRow,
    ObservedProperty,
    Sensor,
)
from sensorgrid.sensorthings.schema import ENTITY_SETS
from sensorgrid.tenancy.models import Membership, Role
from tests import factories as f
from tests.sensorthings.conftest import BEFORE_PUBLIC, MARCH

pytestmark = pytest.mark.django_db


@pytest.fixture
def features(world, sta):
    """The FeatureOfInterest of each site's Location."""
    # the mirrors made those of the sites where a node is installed (samples' features)
    return {
        site: FeatureOfInterest.objects.get_or_create(
            location=Location.objects.get(site=site),
            defaults={"organization": site.organization, "name": f"foi of {site.name}"},
        )[0]
        for site in (world.site_a, world.public_site, world.site_b)
    }


def ids(qs):
    return set(qs.values_list("pk", flat=True))


def used(column, organization):
    """What the organization's Datastreams use (shared mirrors are listed while used)."""
    return set(
        Datastream.objects.filter(organization=organization).values_list(f"{column}_id", flat=True)
    )


def user(world, name):
    return AnonymousUser() if name == "anonymous" else getattr(world, name)


def expected(world, sta, features, who: str) -> dict[str, set]:
    """What ``who`` sees of each set."""
    org_a = {
        "Things": {world.node_a.pk, world.public_node.pk},
        "Locations": ids(Location.objects.filter(site__in=[world.site_a, world.public_site])),
        "HistoricalLocations": ids(
            HistoricalLocation.objects.filter(
                installation__in=[world.installation_a, world.public_installation]
            )
        ),
        "Datastreams": ids(Datastream.objects.filter(organization=world.org_a)),
        "Sensors": used("sensor", world.org_a)
        | ids(Sensor.objects.filter(organization=world.org_a)),
        "ObservedProperties": used("observed_property", world.org_a),
        "Observations": ids(ObservationRow.objects.filter(organization=world.org_a)),
        "FeaturesOfInterest": {features[world.site_a].pk, features[world.public_site].pk},
    }
    public_ds = sta.datastream(world.public_node, sta.co2)
    public = {
        "Things": {world.public_node.pk},
        "Locations": ids(Location.objects.filter(site=world.public_site)),
        "HistoricalLocations": ids(
            HistoricalLocation.objects.filter(installation=world.public_installation)
        ),
        "Datastreams": {public_ds.pk},
        # what public Datastreams use (the node has no model: the unknown sensor)
        "Sensors": {public_ds.sensor_id},
        "ObservedProperties": {public_ds.observed_property_id},
        # only within the public installation's period
        "Observations": ids(
            ObservationRow.objects.filter(datastream=public_ds, phenomenon_time=MARCH)
        ),
        "FeaturesOfInterest": {features[world.public_site].pk},
    }
    org_b = {
        "Things": {world.node_b.pk},
        "Locations": ids(Location.objects.filter(site=world.site_b)),
        "HistoricalLocations": ids(
            HistoricalLocation.objects.filter(installation=world.installation_b)
        ),
        "Datastreams": ids(Datastream.objects.filter(organization=world.org_b)),
        "Sensors": used("sensor", world.org_b),
        "ObservedProperties": used("observed_property", world.org_b),
        "Observations": ids(ObservationRow.objects.filter(organization=world.org_b)),
        "FeaturesOfInterest": {features[world.site_b].pk},
    }
    if who in ("alice", "bob"):
        return {k: v | public[k] for k, v in org_a.items()}
    if who == "charlie":
        return {k: v | public[k] for k, v in org_b.items()}
    if who in ("anonymous", "dave"):  # dave: staff without membership sees the public
        return public
    return {k: ids(ENTITY_SETS[k].model._default_manager.all()) for k in ENTITY_SETS}


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "dave", "anonymous", "root"])
def test_every_set_shows_each_user_exactly_his_rows(world, sta, features, who):
    wanted = expected(world, sta, features, who)
    for name in ENTITY_SETS:
        got = ids(walls.visible(name, user(world, who)))
        assert got == wanted[name], (who, name)
        assert got, (who, name)  # nobody's view of a set is empty here: the test tests


def test_the_public_sees_a_public_nodes_observations_only_within_the_period(world, sta):
    anonymous = AnonymousUser()
    public_ds = sta.datastream(world.public_node, sta.co2)
    visible = walls.visible("Observations", anonymous).filter(datastream=public_ds)
    assert set(visible.values_list("phenomenon_time", flat=True)) == {MARCH}
    # the installation ends: what came after is private again, what came before stays public
    world.public_installation.end = MARCH - timedelta(days=1)
    world.public_installation.save()
    assert not walls.visible("Observations", anonymous).filter(datastream=public_ds).exists()
    world.public_installation.end = None
    world.public_installation.start = BEFORE_PUBLIC - timedelta(days=1)
    world.public_installation.save()
    assert walls.visible("Observations", anonymous).filter(datastream=public_ds).count() == 2
    # a value in the future of ``now`` is not published yet
    assert (
        not walls.visible("Observations", anonymous, now=MARCH - timedelta(hours=1))
        .filter(phenomenon_time=MARCH)
        .exists()
    )


def test_an_installation_that_has_not_begun_publishes_nothing(world, sta):
    before = datetime(2025, 6, 1, tzinfo=UTC)
    assert not walls.visible("Things", None, now=before).exists()
    assert walls.visible("Things", None).exists()


def test_an_other_organizations_row_is_invisible_by_any_filter(world, sta):
    node_b_ds = sta.datastream(world.node_b, sta.co2)
    assert not walls.visible("Datastreams", world.alice).filter(pk=node_b_ds.pk).exists()
    assert not walls.visible("Observations", world.alice).filter(datastream=node_b_ds).exists()


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "dave", "anonymous", "root"])
def test_only_owners_change_and_only_their_organizations_rows(world, sta, features, who):
    for name, es in ENTITY_SETS.items():
        got = ids(walls.changeable(name, user(world, who)))
        everything = es.model._default_manager.all()
        if who == "alice":
            want = ids(everything.filter(organization=world.org_a))
        elif who == "charlie":
            want = ids(everything.filter(organization=world.org_b))
        elif who == "root":
            want = ids(everything)
        else:
            want = set()
        assert got == want, (who, name)
    # nobody but a superuser changes the shared catalogue
    assert not walls.changeable("ObservedProperties", world.alice).filter(quantity=sta.co2).exists()


def test_shared_mirrors_are_listed_while_used_and_always_referable(world, sta):
    noise = ObservedProperty.objects.get(quantity__key="noise")  # no Datastream uses it
    shared_sensor = Sensor.objects.get(node_model=world.shared_model)
    for who in (world.alice, world.charlie, None):
        assert not walls.visible("ObservedProperties", who).filter(pk=noise.pk).exists()
        assert not walls.visible("Sensors", who).filter(pk=shared_sensor.pk).exists()
    for owner in (world.alice, world.charlie):
        assert walls.referable("ObservedProperties", owner).filter(pk=noise.pk).exists()
        assert walls.referable("Sensors", owner).filter(pk=shared_sensor.pk).exists()
        assert not walls.changeable("ObservedProperties", owner).filter(pk=noise.pk).exists()
    assert not walls.referable("Sensors", None).exists()
    # alice's own rows are referable, charlie's are not
    assert not walls.referable("Sensors", world.alice).filter(organization=world.org_b).exists()
    assert walls.referable("Things", world.alice).filter(pk=world.node_a.pk).exists()
    assert not walls.referable("Things", world.alice).filter(pk=world.node_b.pk).exists()


def test_the_wall_is_one_statement(world, sta, django_assert_num_queries):
    # Observations: the memberships and the public periods first, as constants (PostgreSQL
    # pushes no subquery into the branches of the two-store view), then the rows
    with django_assert_num_queries(3):
        list(walls.visible("Observations", world.bob))
    with django_assert_num_queries(1):
        list(walls.visible("Sensors", None))


def test_a_writer_with_one_owned_organization_writes_there(world):
    assert walls.writer_organization(world.alice, None) == world.org_a
    assert walls.writer_organization(world.alice, "org-a") == world.org_a


def test_an_inspector_or_a_user_without_organization_may_not_write(world):
    for who, header in [(world.bob, None), (world.bob, "org-a"), (world.dave, None)]:
        with pytest.raises(StaError) as refused:
            walls.writer_organization(who, header)
        assert refused.value.status == 403


def test_anonymous_writers_must_sign_in(world):
    with pytest.raises(StaError) as refused:
        walls.writer_organization(AnonymousUser(), None)
    assert refused.value.status == 401


def test_an_owner_of_several_chooses_with_the_header(world):
    Membership.objects.create(user=world.alice, organization=world.org_b, role=Role.OWNER)
    with pytest.raises(StaError) as refused:
        walls.writer_organization(world.alice, None)
    assert refused.value.status == 400
    assert walls.ORGANIZATION_HEADER in refused.value.message
    assert "org-a" in refused.value.message and "org-b" in refused.value.message
    assert walls.writer_organization(world.alice, "org-b") == world.org_b


def test_a_header_naming_a_foreign_or_missing_organization_is_the_same_400(world):
    answers = []
    for slug in ("org-b", "no-such-org"):
        with pytest.raises(StaError) as refused:
            walls.writer_organization(world.alice, slug)
        answers.append((refused.value.status, refused.value.message.replace(slug, "X")))
    assert answers[0] == answers[1] and answers[0][0] == 400


def test_a_superuser_names_any_organization(world):
    assert walls.writer_organization(world.root, "org-b") == world.org_b
    with pytest.raises(StaError) as refused:
        walls.writer_organization(world.root, None)
    assert refused.value.status == 400
    f.MembershipFactory(user=world.root, organization=world.org_a, role=Role.OWNER)
    assert walls.writer_organization(world.root, None) == world.org_a
