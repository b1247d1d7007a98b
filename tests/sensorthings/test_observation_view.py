"""The view ``sensorthings_observation_row``: both stores as one relation, ids that
decode to the indexed key, JSON results of every type (SQLite and PostgreSQL)."""

from datetime import timedelta

import pytest

from sensorgrid.sensorthings import ids
from sensorgrid.sensorthings.models import ObservationRow
from tests.sensorthings.conftest import BEFORE_PUBLIC, MARCH, RESULTS, write_samples

pytestmark = pytest.mark.django_db


def test_samples_are_observations_of_their_series_datastream(world, sta):
    co2 = sta.datastream(world.node_a, sta.co2)
    rows = list(ObservationRow.objects.filter(datastream=co2).order_by("phenomenon_time"))
    assert [(r.phenomenon_time, r.result_number) for r in rows] == [
        (MARCH, 400.0),
        (MARCH + timedelta(minutes=5), 410.0),
    ]
    first = rows[0]
    assert first.pk == ids.encode_sample(co2.pk, MARCH)
    assert (first.node_id, first.quantity_id, first.observation_id) == (
        world.node_a.pk,
        sta.co2.pk,
        None,
    )
    assert first.organization_id == world.org_a.pk
    assert first.result is None and first.parameters is None


def test_every_sample_of_a_series_with_a_datastream_is_there_once(world, sta):
    assert ObservationRow.objects.filter(node_id__isnull=False).count() == 6
    public = sta.datastream(world.public_node, sta.co2)
    assert set(
        ObservationRow.objects.filter(datastream=public).values_list("phenomenon_time", flat=True)
    ) == {BEFORE_PUBLIC, MARCH}


def test_observations_store_rows_keep_every_json_result_type(sta):
    rows = list(
        ObservationRow.objects.filter(datastream=sta.text_stream).order_by("phenomenon_time")
    )
    assert [r.result for r in rows] == RESULTS
    # numbers (and only numbers) are in result_number, for comparisons in $filter
    assert [r.result_number for r in rows] == [21.0, 21.5, None, None, None, None, None]
    assert [r.pk for r in rows] == [
        ids.encode_observation(sta.text_stream.pk, o.pk) for o in sta.observations
    ]
    assert {r.observation_id for r in rows} == {o.pk for o in sta.observations}
    assert {r.node_id for r in rows} == {None}


def test_an_id_finds_its_row_through_the_indexed_lookup(world, sta):
    co2 = sta.datastream(world.node_a, sta.co2)
    for row in ObservationRow.objects.filter(datastream__in=[co2, sta.text_stream]):
        assert list(ObservationRow.objects.filter(ids.lookup(row.pk))) == [row]
    assert not ObservationRow.objects.filter(ids.lookup(ids.encode(co2.pk, 12345))).exists()
    assert not ObservationRow.objects.filter(ids.lookup(ids.encode(999_999, 1))).exists()


def test_milliseconds_are_floored_like_the_python_encoding(world, sta):
    co2 = sta.datastream(world.node_a, sta.co2)
    odd = MARCH + timedelta(hours=1, microseconds=999_600)
    write_samples((world.node_a, sta.co2, odd, 1.0))
    row = ObservationRow.objects.get(datastream=co2, phenomenon_time=odd)
    assert row.pk == ids.encode_sample(co2.pk, odd)
    assert ids.decode(row.pk)[1] % 1000 == 999
    assert list(ObservationRow.objects.filter(ids.lookup(row.pk))) == [row]


def test_sample_details_join_their_sample(world, sta):
    from sensorgrid.sensorthings.models import SampleDetails

    SampleDetails.objects.create(
        node=world.node_a,
        quantity=sta.co2,
        ts=MARCH,
        parameters={"method": "NDIR"},
        result_time=MARCH + timedelta(seconds=3),
    )
    row = ObservationRow.objects.get(
        pk=ids.encode_sample(sta.datastream(world.node_a, sta.co2).pk, MARCH)
    )
    assert row.parameters == {"method": "NDIR"}
    assert row.result_time == MARCH + timedelta(seconds=3)


def test_a_series_without_datastream_is_no_observation(world, sta):
    from sensorgrid.sensorthings.models import Datastream

    Datastream.objects.filter(node=world.node_b).delete()
    assert not ObservationRow.objects.filter(node_id=world.node_b.pk).exists()


def test_of_datastream_reads_the_samples_store_alone_with_the_same_rows(world, sta):
    from sensorgrid.sensorthings import observations

    co2 = sta.datastream(world.node_a, sta.co2)
    fast = observations.of_datastream(co2, world.bob)
    slow = ObservationRow.objects.filter(datastream=co2)
    columns = [f.attname for f in ObservationRow._meta.concrete_fields]
    assert fast.model.__name__ == "SampleRow"
    assert list(fast.order_by("-phenomenon_time").values_list(*columns)) == list(
        slow.order_by("-phenomenon_time").values_list(*columns)
    )
    texts = observations.of_datastream(sta.text_stream, world.bob)
    assert texts.count() == len(RESULTS)


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "anonymous", "root"])
def test_of_datastream_keeps_the_observation_wall(world, sta, who):
    from django.contrib.auth.models import AnonymousUser

    from sensorgrid.sensorthings import observations, walls

    user = AnonymousUser() if who == "anonymous" else getattr(world, who)
    for ds in [sta.datastream(world.public_node, sta.co2), sta.datastream(world.node_a, sta.co2)]:
        fast = set(observations.of_datastream(ds, user).values_list("pk", flat=True))
        walled = set(
            walls.visible("Observations", user).filter(datastream=ds).values_list("pk", flat=True)
        )
        assert fast == walled, (who, ds.name)
    public = observations.of_datastream(sta.datastream(world.public_node, sta.co2), None)
    assert list(public.values_list("phenomenon_time", flat=True)) == [MARCH]


def test_rows_no_id_can_name_are_left_out_not_an_error(world, sta):
    from sensorgrid.inventory.models import Quantity
    from sensorgrid.sensorthings import observations
    from sensorgrid.sensorthings.models import Datastream

    noise = Quantity.objects.get(key="noise")
    write_samples((world.node_b, noise, MARCH, 55.0))
    co2 = sta.datastream(world.node_b, sta.co2)
    huge = Datastream.objects.create(
        pk=ids.MAX_DATASTREAM_ID + 1,
        organization=world.org_b,
        node=world.node_b,
        quantity=noise,
        store="samples",
        sensor=co2.sensor,
        observed_property=co2.observed_property,
        name="beyond the ids",
    )
    assert not ObservationRow.objects.filter(datastream=huge).exists()
    assert not observations.of_datastream(huge, world.charlie).exists()
    assert ObservationRow.objects.filter(datastream=co2).count() == 1  # the rest still reads
    assert len(list(ObservationRow.objects.all())) == ObservationRow.objects.count() > 0


def test_a_sample_without_details_has_its_sites_feature_of_interest(world, sta):
    from sensorgrid.sensorthings.models import FeatureOfInterest, Location, SampleDetails

    co2 = sta.datastream(world.node_a, sta.co2)
    feature = FeatureOfInterest.objects.get(location__site=world.site_a)
    assert feature.feature == Location.objects.get(site=world.site_a).location
    rows = ObservationRow.objects.filter(datastream=co2)
    assert {r.feature_of_interest_id for r in rows} == {feature.pk}
    # a feature given through STA (details) wins
    own = FeatureOfInterest.objects.create(organization=world.org_a, name="The desk")
    SampleDetails.objects.create(
        node=world.node_a, quantity=sta.co2, ts=MARCH, feature_of_interest=own
    )
    row = ObservationRow.objects.get(datastream=co2, phenomenon_time=MARCH)
    assert row.feature_of_interest_id == own.pk
    # one feature per Location, reused by every Datastream of the node
    temperature = sta.datastream(world.node_a, sta.temperature)
    assert temperature.sample_feature_id == feature.pk


def test_a_moved_node_gets_its_new_sites_feature(world, sta):
    from datetime import UTC, datetime

    from sensorgrid.sensorthings.models import FeatureOfInterest
    from tests import factories as f

    world.installation_a.end = datetime(2026, 6, 1, tzinfo=UTC)
    world.installation_a.save()
    room = f.RoomFactory(site=world.public_site)
    f.InstallationFactory(node=world.node_a, room=room, start=datetime(2026, 6, 1, tzinfo=UTC))
    co2 = sta.datastream(world.node_a, sta.co2)
    assert co2.sample_feature == FeatureOfInterest.objects.get(location__site=world.public_site)
