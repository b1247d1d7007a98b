"""The mirrors: SensorGrid's entities have their STA rows, made, renamed and deleted with them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sensorgrid.inventory.models import Quantity
from sensorgrid.sensorthings import mirror
from sensorgrid.sensorthings.models import (
    Datastream,
    HistoricalLocation,
    Location,
    ObservationRow,
    ObservedProperty,
    Sensor,
    Thing,
)
from tests import factories as f
from tests.sensorthings.conftest import MARCH, write_samples

pytestmark = pytest.mark.django_db


def test_every_quantity_is_a_shared_observed_property(world):
    co2 = Quantity.objects.get(key="co2")
    prop = ObservedProperty.objects.get(quantity=co2)
    assert prop.organization is None
    assert (prop.name, prop.definition) == ("Carbon dioxide", mirror.DEFINITION_BASE + "co2")
    mirror.ensure()
    assert ObservedProperty.objects.filter(quantity__isnull=False).count() == (
        Quantity.objects.count()
    )


def test_node_models_sites_installations_and_nodes_have_their_rows(world):
    sensor = Sensor.objects.get(node_model=world.model_a)
    assert sensor.organization == world.org_a and sensor.name == "Acme secretA model"
    assert Sensor.objects.get(node_model=world.shared_model).organization is None
    location = Location.objects.get(site=world.site_a)
    assert location.organization == world.org_a
    assert location.location == {"type": "Point", "coordinates": [13.4, 52.5]}
    assert (location.min_lon, location.min_lat, location.max_lon, location.max_lat) == (
        13.4,
        52.5,
        13.4,
        52.5,
    )
    historical = HistoricalLocation.objects.get(installation=world.installation_a)
    assert historical.node == world.node_a and historical.time == world.installation_a.start
    assert list(historical.locations.all()) == [location]
    assert Thing.objects.filter(node=world.node_a).exists()
    # the active installation gives the Thing its current Location
    assert list(world.node_a.sta_locations.all()) == [location]


def test_a_model_measures_its_quantities_in_datastreams(world):
    co2 = Quantity.objects.get(key="co2")
    world.model_a.quantities.add(co2)
    ds = Datastream.objects.get(node=world.node_a, quantity=co2, store="samples")
    assert ds.sensor == Sensor.objects.get(node_model=world.model_a)
    assert ds.observed_property == ObservedProperty.objects.get(quantity=co2)
    assert ds.name == "alias of secretA-node Carbon dioxide"  # the node's alias names it
    assert ds.unit_of_measurement == {
        "name": "parts per million",
        "symbol": "ppm",
        "definition": "http://www.opengis.net/def/uom/UCUM/0/%5Bppm%5D",
    }
    assert ds.observation_type == mirror.OM_MEASUREMENT
    assert ds.organization == world.org_a


def test_a_value_of_a_new_series_is_an_observation_after_ensure(world):
    """Ingestion writes with raw SQL (no signal): ensure() finds the new series."""
    noise = Quantity.objects.get(key="noise")
    assert mirror.missing() == set()
    write_samples((world.node_b, noise, MARCH, 55.0))
    assert "series" in mirror.missing()
    assert mirror.ensure() == {"series"}
    ds = Datastream.objects.get(node=world.node_b, quantity=noise)
    # node_b has no model: the shared unknown sensor measures it
    assert ds.sensor.name == mirror.UNKNOWN_SENSOR and ds.sensor.organization is None
    assert list(
        ObservationRow.objects.filter(datastream=ds).values_list("result_number", flat=True)
    ) == [55.0]
    assert mirror.ensure() == set()


def test_ensure_is_one_statement_when_all_is_in_step(world, django_assert_num_queries):
    mirror.ensure()
    with django_assert_num_queries(1):
        assert mirror.ensure() == set()
    with django_assert_num_queries(1):
        assert mirror.ensure(organization_ids=[world.org_a.pk]) == set()


def test_ensure_scoped_to_organizations_leaves_the_others(world):
    noise = Quantity.objects.get(key="noise")
    write_samples((world.node_b, noise, MARCH, 55.0), (world.node_a, noise, MARCH, 50.0))
    mirror.ensure(organization_ids=[world.org_a.pk])
    assert Datastream.objects.filter(quantity=noise).get().node == world.node_a
    mirror.ensure()
    assert Datastream.objects.filter(quantity=noise).count() == 2


def test_ensure_repairs_what_was_made_around_the_signals(world):
    Location.objects.all().delete()
    HistoricalLocation.objects.all().delete()
    Sensor.objects.all().delete()
    ObservedProperty.objects.all().delete()
    Thing.objects.all().delete()
    repaired = mirror.ensure()
    assert {"locations", "historical_locations", "sensors", "observed_properties", "things"} <= (
        repaired
    )
    assert Location.objects.filter(site=world.public_site).exists()
    assert HistoricalLocation.objects.get(installation=world.public_installation).locations.get(
        site=world.public_site
    )
    assert world.public_node.sta_locations.get().site == world.public_site
    assert mirror.ensure() == set()


def test_renames_follow(world, sta):
    world.site_a.name = "secretA site, renamed"
    world.site_a.latitude = 48.0
    world.site_a.save()
    location = Location.objects.get(site=world.site_a)
    assert location.name == "secretA site, renamed"
    assert location.location["coordinates"] == [13.4, 48.0] and location.min_lat == 48.0
    sta.co2.name = "CO₂"
    sta.co2.save()
    assert ObservedProperty.objects.get(quantity=sta.co2).name == "CO₂"
    ds = sta.datastream(world.node_a, sta.co2)
    assert ds.name == "alias of secretA-node CO₂"
    world.node_a.alias = "Lab sensor"
    world.node_a.save()
    assert sta.datastream(world.node_a, sta.co2).name == "Lab sensor CO₂"
    world.model_a.name = "Mark II"
    world.model_a.save()
    assert Sensor.objects.get(node_model=world.model_a).name == "Acme Mark II"


def test_a_name_set_through_sta_is_kept_on_rename(world, sta):
    ds = sta.datastream(world.node_a, sta.co2)
    Datastream.objects.filter(pk=ds.pk).update(name="My CO2")
    world.node_a.alias = "Lab sensor"
    world.node_a.save()
    assert Datastream.objects.get(pk=ds.pk).name == "My CO2"


def test_a_new_model_becomes_the_sensor_of_the_nodes_datastreams(world, sta):
    public_ds = sta.datastream(world.public_node, sta.co2)
    assert public_ds.sensor.node_model is None  # unknown model
    world.public_node.model = world.shared_model
    world.public_node.save()
    public_ds.refresh_from_db()
    assert public_ds.sensor == Sensor.objects.get(node_model=world.shared_model)


def test_deleting_the_source_deletes_the_mirror(world, sta):
    noise = Quantity.objects.get(key="noise")
    write_samples((world.node_b, noise, MARCH, 55.0))
    mirror.ensure()
    noise.delete()
    assert not ObservedProperty.objects.filter(name="Noise level").exists()
    assert not Datastream.objects.filter(node=world.node_b, name__endswith="Noise level").exists()
    location_pk = Location.objects.get(site=world.site_b).pk
    world.site_b.delete()  # its rooms and installations go with it
    assert not Location.objects.filter(pk=location_pk).exists()
    assert not HistoricalLocation.objects.filter(node=world.node_b).exists()
    node_pk = world.node_a.pk
    world.node_a.delete()
    assert not Datastream.objects.filter(node_id=node_pk).exists()
    assert not Thing.objects.filter(node_id=node_pk).exists()
    assert not ObservationRow.objects.filter(node_id=node_pk).exists()


def test_current_locations_follow_the_active_installation(world, sta):
    location_a = Location.objects.get(site=world.site_a)
    assert list(world.node_a.sta_locations.all()) == [location_a]
    # the installation ends (an edit): the node is nowhere now
    world.installation_a.end = timezone.now() - timedelta(minutes=1)
    world.installation_a.save()
    assert not world.node_a.sta_locations.exists()
    # a new installation elsewhere
    room = f.RoomFactory(site=world.public_site)
    f.InstallationFactory(node=world.node_a, room=room, start=timezone.now() - timedelta(seconds=5))
    assert list(world.node_a.sta_locations.values_list("site", flat=True)) == [world.public_site.pk]
    assert HistoricalLocation.objects.filter(node=world.node_a).count() == 2


def test_an_installation_ending_as_time_passes_is_seen_by_ensure(world, sta):
    soon = timezone.now() + timedelta(hours=1)
    world.installation_a.end = soon
    world.installation_a.save()
    assert world.node_a.sta_locations.exists()
    assert mirror.ensure(now=soon + timedelta(seconds=1)) == {"current_stale"}
    assert not world.node_a.sta_locations.exists()


def test_locations_linked_through_sta_are_left_alone(world, sta):
    own = Location.objects.create(organization=world.org_a, name="Bench", location=None)
    own.things.add(world.node_a)
    world.installation_a.delete()
    assert list(world.node_a.sta_locations.all()) == [own]
    mirror.ensure()
    assert list(world.node_a.sta_locations.all()) == [own]


@pytest.mark.parametrize(
    ("geometry", "box"),
    [
        ({"type": "Point", "coordinates": [1, 2]}, (1, 2, 1, 2)),
        ({"type": "Point", "coordinates": [1, 2, 300]}, (1, 2, 1, 2)),
        ({"type": "LineString", "coordinates": [[1, 2], [-3, 5]]}, (-3, 2, 1, 5)),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 3], [0, 3], [0, 0]]]},
            (0, 0, 4, 3),
        ),
        (
            {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[0, 0], [1, 1], [0, 1], [0, 0]]],
                    [[[5, -5], [6, 6], [5, 6], [5, -5]]],
                ],
            },
            (0, -5, 6, 6),
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "MultiPoint", "coordinates": [[1, 1], [2, 3]]},
            },
            (1, 1, 2, 3),
        ),
        (
            {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Point", "coordinates": [7, 8]},
                    {"type": "Point", "coordinates": [-7, -8]},
                ],
            },
            (-7, -8, 7, 8),
        ),
        ({"type": "Point", "coordinates": []}, None),
        ({"type": "Point", "coordinates": ["a", "b"]}, None),
        ({"type": "Point", "coordinates": [float("nan"), 1]}, None),
        ("POINT(1 2)", None),
        (None, None),
    ],
)
def test_bbox_of_any_geometry(geometry, box):
    assert mirror.bbox(geometry) == box
    fields = mirror.bbox_fields(geometry)
    assert tuple(fields.values()) == (box or (None, None, None, None))


def test_sta_sync_repairs_and_refreshes_what_no_signal_saw(world, sta):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from sensorgrid.inventory.models import Site

    Site.objects.filter(pk=world.site_a.pk).update(name="renamed by SQL")
    Quantity.objects.filter(pk=sta.co2.pk).update(unit="ppb")
    Thing.objects.filter(node=world.node_b).delete()
    with pytest.raises(CommandError, match="things"):
        call_command("sta", "sync", "--check")
    out = StringIO()
    call_command("sta", "sync", stdout=out)
    assert "things" in out.getvalue()
    assert Location.objects.get(site=world.site_a).name == "renamed by SQL"
    assert sta.datastream(world.node_a, sta.co2).unit_of_measurement["symbol"] == "ppb"
    assert Thing.objects.filter(node=world.node_b).exists()
    out = StringIO()
    call_command("sta", "sync", "--check", stdout=out)
    assert "in place" in out.getvalue()


def test_a_node_moved_to_another_organization_takes_its_sta_rows_along(world, sta):
    from sensorgrid.sensorthings import walls

    world.node_a.organization = world.org_b
    world.node_a.save()
    co2 = sta.datastream(world.node_a, sta.co2)
    assert co2.organization == world.org_b
    assert not walls.visible("Datastreams", world.alice).filter(pk=co2.pk).exists()
    assert walls.visible("Observations", world.charlie).filter(datastream=co2).count() == 2
    assert set(
        HistoricalLocation.objects.filter(node=world.node_a).values_list("organization", flat=True)
    ) == {world.org_b.pk}


def test_a_save_of_other_fields_leaves_the_mirrors_alone(world, sta, django_assert_num_queries):
    world.node_a.credential_digest = "x" * 64
    with django_assert_num_queries(1):  # the UPDATE alone (no broker outbox in tests)
        world.node_a.save(update_fields=["credential_digest"])


def test_sync_gives_a_moved_nodes_rows_its_organization(world, sta):
    from django.core.management import call_command

    from sensorgrid.inventory.models import Node

    Node.objects.filter(pk=world.node_a.pk).update(organization=world.org_b)
    call_command("sta", "sync", stdout=None)
    assert sta.datastream(world.node_a, sta.co2).organization == world.org_b
