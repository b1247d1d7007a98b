"""DELETE through the SensorThings API: the cascades of OGC 18-088 section 10.4, on both
stores, and what happens to SensorGrid's own objects behind the mirrors."""

import sys

import pytest

from sensorgrid.inventory.models import Installation, Node, Site
from sensorgrid.sensorthings import models as m
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.write import create, delete
from sensorgrid.telemetry.models import Latest, Rollup, Sample
from tests.sensorthings.test_write import numeric_stream, post_value, thing_body


def test_deleting_a_thing_takes_its_datastreams_observations_and_history(world, sta):
    node = create("Things", thing_body(), user=world.alice, organization=world.org_a)
    [location] = node.sta_locations.all()
    [datastream] = m.Datastream.objects.filter(node=node)
    sensor, prop = datastream.sensor, datastream.observed_property
    feature = m.FeatureOfInterest.objects.get(location=location)
    delete("Things", node, user=world.alice)
    assert not Node.objects.filter(pk=node.pk).exists()
    assert not m.Datastream.objects.filter(pk=datastream.pk).exists()
    assert not m.Observation.objects.filter(datastream_id=datastream.pk).exists()
    assert not m.HistoricalLocation.objects.filter(node_id=node.pk).exists()
    # Locations, Sensors, ObservedProperties and FeaturesOfInterest stay.
    for kept in (location, sensor, prop, feature):
        assert type(kept).objects.filter(pk=kept.pk).exists()


def test_deleting_a_numeric_datastream_deletes_its_series(world, sta):
    datastream = numeric_stream(world)
    post_value(world, datastream, 500)
    node, quantity = datastream.node, datastream.quantity
    delete("Datastreams", datastream, user=world.alice)
    for model in (Sample, Rollup, Latest, m.SampleDetails):
        assert not model.objects.filter(node=node, quantity=quantity).exists()
    # Another node's series of the same quantity is untouched.
    assert Sample.objects.filter(node=world.node_a, quantity=quantity).exists()


def test_deleting_a_location_takes_the_historical_locations_that_named_it(world):
    node = create("Things", thing_body(), user=world.alice, organization=world.org_a)
    [location] = node.sta_locations.all()
    assert m.HistoricalLocation.objects.filter(locations=location).exists()
    delete("Locations", location, user=world.alice)
    assert not m.HistoricalLocation.objects.filter(node=node).exists()
    assert Node.objects.filter(pk=node.pk).exists()


def test_deleting_a_sensor_or_observed_property_takes_their_datastreams(world, sta):
    node = create("Things", thing_body(), user=world.alice, organization=world.org_a)
    [datastream] = m.Datastream.objects.filter(node=node)
    delete("Sensors", datastream.sensor, user=world.alice)
    assert not m.Datastream.objects.filter(pk=datastream.pk).exists()
    second = create("Things", thing_body(), user=world.alice, organization=world.org_a)
    [datastream] = m.Datastream.objects.filter(node=second)
    delete("ObservedProperties", datastream.observed_property, user=world.alice)
    assert not m.Datastream.objects.filter(pk=datastream.pk).exists()


def test_deleting_a_feature_of_interest_takes_its_observations_and_samples(world, sta):
    datastream = numeric_stream(world)
    post_value(world, datastream, 500)
    details = m.SampleDetails.objects.get(node=datastream.node)
    feature = details.feature_of_interest
    delete("FeaturesOfInterest", feature, user=world.alice)
    assert not Sample.objects.filter(node=datastream.node).exists()
    assert not Rollup.objects.filter(node=datastream.node).exists()


def test_a_mirror_deletes_the_sensorgrid_object_and_the_catalogue_is_refused(world, sta):
    site_location = m.Location.objects.get(site=world.site_a)
    historical = m.HistoricalLocation.objects.get(installation=world.installation_a)
    delete("HistoricalLocations", historical, user=world.alice)
    assert not Installation.objects.filter(pk=world.installation_a.pk).exists()
    delete("Locations", site_location, user=world.alice)
    assert not Site.objects.filter(pk=world.site_a.pk).exists()
    co2 = m.ObservedProperty.objects.get(quantity=sta.co2)
    with pytest.raises(StaError) as refused:
        delete("ObservedProperties", co2, user=world.alice)
    assert refused.value.status == 403


def test_only_owners_of_the_organization_delete(world, sta):
    for user in (world.bob, world.charlie):
        with pytest.raises(StaError) as refused:
            delete("Datastreams", sta.text_stream, user=user)
        assert refused.value.status == 403
    assert m.Datastream.objects.filter(pk=sta.text_stream.pk).exists()


def test_deleting_an_observation_of_the_observations_store(world, sta):
    row = create(
        "Observations",
        {"result": "x", "Datastream": {"@iot.id": sta.text_stream.pk}},
        user=world.alice,
        organization=world.org_a,
    )
    delete("Observations", row, user=world.alice)
    with pytest.raises(StaError) as again:
        delete("Observations", row, user=world.alice)
    assert again.value.status == 404


def test_a_filtered_collection_delete_takes_only_what_the_user_may_change(world, sta):
    from sensorgrid.sensorthings import walls
    from sensorgrid.sensorthings.write import delete_many
    from tests.sensorthings.conftest import MARCH

    early = dict(phenomenon_time__lt=MARCH.replace(minute=3))
    seen_by_bob = walls.visible("Observations", world.bob).filter(
        datastream=sta.text_stream, **early
    )
    assert delete_many("Observations", seen_by_bob, user=world.bob) == 0
    assert m.Observation.objects.filter(datastream=sta.text_stream).count() == 7
    mine = walls.visible("Observations", world.alice).filter(datastream=sta.text_stream, **early)
    assert delete_many("Observations", mine, user=world.alice) == 3
    assert m.Observation.objects.filter(datastream=sta.text_stream).count() == 4
    # Samples: node_a's co2 at 10:00 goes, 10:05 stays, and the rollups follow.
    co2 = sta.datastream(world.node_a, sta.co2)
    samples = walls.visible("Observations", world.alice).filter(datastream=co2, **early)
    assert delete_many("Observations", samples, user=world.alice) == 1
    assert list(
        Sample.objects.filter(node=world.node_a, quantity=sta.co2).values_list("value", flat=True)
    ) == [410]
    hour = Rollup.objects.get(node=world.node_a, quantity=sta.co2, resolution=3600)
    assert (hour.count, hour.sum) == (1, 410)
    # Other sets: what the filter selects and alice owns goes, with its cascades.
    things = walls.visible("Things", world.alice).filter(alias__startswith="alias of secretA-node")
    assert delete_many("Things", things, user=world.alice) == 1
    assert Node.objects.filter(pk=world.node_b.pk).exists()


def test_a_filtered_delete_of_both_stores_goes_a_chunk_at_a_time(
    world, sta, client_for, monkeypatch
):
    from tests.sensorthings.conftest import MARCH, write_samples

    deleting = sys.modules["sensorgrid.sensorthings.write.delete"]  # the package's delete()
    monkeypatch.setattr(deleting, "CHUNK", 2)  # 12 of alice's rows: six chunks
    hour = MARCH.replace(hour=11)
    write_samples(*[(world.node_a, sta.co2, hour.replace(minute=i), 500.0 + i) for i in range(7)])
    write_samples(*[(world.node_b, sta.co2, hour.replace(minute=i), 700.0) for i in range(3)])
    for i in range(5):
        m.Observation.objects.create(
            datastream=sta.text_stream, phenomenon_time=hour.replace(minute=i), result=f"t{i}"
        )
    window = (
        "$filter=phenomenonTime ge 2026-03-01T11:00:00Z and phenomenonTime lt 2026-03-01T12:00:00Z"
    )

    answer = client_for(world.alice).delete(f"/sta/v1.1/Observations?{window}")
    assert answer.status_code == 200, answer.content
    co2_a = Sample.objects.filter(node=world.node_a, quantity=sta.co2)
    assert list(co2_a.order_by("ts").values_list("value", flat=True)) == [400, 410]
    texts = m.Observation.objects.filter(datastream=sta.text_stream)
    assert not texts.filter(phenomenon_time__gte=hour).exists()
    assert texts.count() == len(sta.observations)
    assert not Rollup.objects.filter(node=world.node_a, quantity=sta.co2, bucket=hour).exists()
    latest = Latest.objects.get(node=world.node_a, quantity=sta.co2)
    assert (latest.ts, latest.value) == (MARCH.replace(minute=5), 410)
    # Charlie's rows in the window are not alice's to delete; a superuser's delete takes them.
    co2_b = Sample.objects.filter(node=world.node_b, quantity=sta.co2, ts__gte=hour)
    assert co2_b.count() == 3
    assert client_for(world.root).delete(f"/sta/v1.1/Observations?{window}").status_code == 200
    assert co2_b.count() == 0
