"""The geo API: every filter, pagination, errors as 400/404, and the tenancy wall."""

from datetime import UTC, datetime

import pytest

from sensorgrid.geo.models import Feature, Layer
from sensorgrid.inventory.models import Quantity
from sensorgrid.telemetry.models import Latest


def feature(layer, fid, lon, lat, valid_from=None, valid_to=None, **properties):
    return Feature.objects.create(
        layer=layer,
        external_id=fid,
        geometry={"type": "Point", "coordinates": [lon, lat]},
        properties=properties,
        min_x=lon,
        max_x=lon,
        min_y=lat,
        max_y=lat,
        valid_from=valid_from,
        valid_to=valid_to,
    )


@pytest.fixture
def layers(world):
    trees = Layer.objects.create(organization=world.org_a, key="trees", name="secretA trees")
    feature(
        trees,
        "t1",
        13.40,
        52.52,
        species="Linde",
        height=12,
        planted="1985-04-01",
        district="Mitte",
    )
    feature(
        trees, "t2", 13.41, 52.53, species="Ahorn", height=5, planted="2003-10-12", district="Mitte"
    )
    feature(trees, "t3", 13.29, 52.45, species="Eiche", height=25.5, planted="1921-01-01")
    feature(trees, "t4", 2.35, 48.85, species="Platane", height="7", district="Paris")
    events = Layer.objects.create(
        organization=world.org_a, key="events", name="Events", is_public=True
    )
    feature(
        events,
        "e1",
        13.40,
        52.52,
        datetime(2026, 12, 5, 16, tzinfo=UTC),
        datetime(2026, 12, 5, 21, tzinfo=UTC),
        title="Market",
    )
    feature(
        events,
        "e2",
        13.40,
        52.52,
        datetime(2026, 12, 20, 18, tzinfo=UTC),
        datetime(2026, 12, 20, 20, tzinfo=UTC),
        title="Concert",
    )
    feature(events, "e3", 13.40, 52.52, title="Always")
    foreign = Layer.objects.create(organization=world.org_b, key="b-secret", name="secretB layer")
    feature(foreign, "b1", 13.40, 52.52, name="secretB")
    return trees, events, foreign


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [f["id"] for f in response.json()["features"]]


def get(client, path, **params):
    return client.get(f"/api/geo/{path}/", params)


def test_a_layer_is_a_geojson_feature_collection(world, layers, client_for):
    response = get(client_for(world.alice), "trees")
    assert response["Content-Type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 4 and body["numberReturned"] == 4
    assert body["layer"]["key"] == "trees"
    first = body["features"][0]
    assert first == {
        "type": "Feature",
        "id": "t1",
        "geometry": {"type": "Point", "coordinates": [13.4, 52.52]},
        "properties": {
            "species": "Linde",
            "height": 12,
            "planted": "1985-04-01",
            "district": "Mitte",
        },
    }


def test_a_layer_can_be_addressed_by_id(world, layers, client_for):
    trees = layers[0]
    assert ids(get(client_for(world.alice), str(trees.pk))) == ["t1", "t2", "t3", "t4"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"bbox": "13.3,52.5,13.5,52.6"}, ["t1", "t2"]),
        ({"bbox": "13.0,52.0,14.0,53.0"}, ["t1", "t2", "t3"]),
        ({"bbox": "170,-10,-170,10"}, []),  # across the antimeridian
        ({"species": "Linde"}, ["t1"]),
        ({"height": "12"}, ["t1"]),
        ({"height": "7"}, ["t4"]),  # the string "7" matches too
        ({"species__ne": "Linde"}, ["t2", "t3", "t4"]),
        ({"district__ne": "Mitte"}, ["t3", "t4"]),  # missing counts as different
        ({"species__in": "Linde,Eiche"}, ["t1", "t3"]),
        ({"height__gte": "12"}, ["t1", "t3"]),
        ({"height__lte": "12"}, ["t1", "t2"]),
        ({"height__gte": "5", "height__lte": "12"}, ["t1", "t2"]),
        ({"planted__gte": "2000-01-01"}, ["t2"]),
        ({"planted__lte": "1990-12-31"}, ["t1", "t3"]),
        ({"planted__lte": "1990"}, []),  # a number: compared with numbers only
        ({"height__lte": "100"}, ["t1", "t2", "t3"]),  # not the text "7" of t4
        ({"district__missing": "true"}, ["t3"]),
        ({"district__missing": "false"}, ["t1", "t2", "t4"]),
        ({"district": "Mitte", "bbox": "13.405,52.5,13.5,52.6"}, ["t2"]),
        ({"nosuchfield": "x"}, []),
    ],
)
def test_features_are_filtered(world, layers, client_for, params, expected):
    assert ids(get(client_for(world.alice), "trees", **params)) == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-12-05T17:00:00Z", ["e1", "e3"]),
        ("2026-12-05T18:00:00+01:00", ["e1", "e3"]),
        ("2026-12-20T19:30:00Z", ["e2", "e3"]),
        ("2026-12-10", ["e3"]),
    ],
)
def test_at_selects_the_features_valid_then(world, layers, client_for, at, expected):
    response = get(client_for(None), "events", at=at)
    assert ids(response) == expected


def test_timed_features_say_when_they_are_valid(world, layers, client_for):
    market = get(client_for(None), "events").json()["features"][0]
    assert market["valid_from"] == "2026-12-05T16:00:00Z"
    assert market["valid_to"] == "2026-12-05T21:00:00Z"


def test_pages_follow_limit_and_offset_with_links(world, layers, client_for):
    client = client_for(world.alice)
    first = get(client, "trees", limit=3).json()
    assert [f["id"] for f in first["features"]] == ["t1", "t2", "t3"]
    assert first["numberMatched"] == 4
    (next_link,) = [link["href"] for link in first["links"] if link["rel"] == "next"]
    assert "offset=3" in next_link and "limit=3" in next_link
    second = client.get(next_link).json()
    assert [f["id"] for f in second["features"]] == ["t4"]
    assert [link["rel"] for link in second["links"]] == ["prev"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "0,80,10,95"}, "bbox"),
        ({"bbox": "nan,0,1,1"}, "bbox"),
        ({"at": "yesterday"}, "at"),
        ({"at": "99999-01-01"}, "at"),
        ({"limit": "0"}, "limit"),
        ({"limit": "100000"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"height__like": "1"}, "height__like"),
        ({"height__missing": "maybe"}, "height__missing"),
        ({"bad name!": "1"}, "bad name!"),
        ({"species": "a\x00b"}, "species"),
        ({"format": "xml"}, "format"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(
    world, layers, client_for, params, parameter
):
    response = get(client_for(world.alice), "trees", **params)
    assert response.status_code == 400, response.content
    assert parameter in response.json()


@pytest.mark.parametrize(
    ("user", "status"),
    [("alice", 200), ("bob", 200), ("charlie", 404), ("dave", 404), ("root", 200), (None, 404)],
)
def test_a_private_layer_is_seen_by_members_only(world, layers, client_for, user, status):
    client = client_for(getattr(world, user) if user else None)
    trees = layers[0]
    for ref in ("trees", str(trees.pk)):
        response = get(client, ref)
        assert response.status_code == status
        if status == 404:
            assert "secretA" not in response.content.decode()
            assert response.json()["detail"]


def test_a_public_layer_is_seen_by_everybody(world, layers, client_for):
    for user in (None, world.charlie, world.alice):
        assert ids(get(client_for(user), "events")) == ["e1", "e2", "e3"]


def test_unknown_layers_are_a_404(world, layers, client_for):
    client = client_for(world.alice)
    for ref in ("nope", "999999", "99999999999999999999999"):
        assert get(client, ref).status_code == 404


def test_the_layer_index_lists_what_the_user_may_see(world, layers, client_for):
    def keys(user):
        return sorted(layer["key"] for layer in client_for(user).get("/api/geo/").json()["layers"])

    assert keys(world.alice) == ["events", "trees"]
    assert keys(world.charlie) == ["b-secret", "events"]
    assert keys(None) == ["events"]
    body = client_for(None).get("/api/geo/").json()
    assert body["nodes"].endswith("/api/geo/nodes/")
    assert body["layers"][0]["url"].endswith("/api/geo/events/")


@pytest.fixture
def latest(world):
    co2 = Quantity.objects.get_or_create(key="co2", defaults={"name": "CO2", "unit": "ppm"})[0]
    now = datetime.now(UTC)
    Latest.objects.create(node_id=world.node_a.pk, quantity_id=co2.pk, ts=now, value=812.0)
    Latest.objects.create(node_id=world.public_node.pk, quantity_id=co2.pk, ts=now, value=640.0)
    Latest.objects.create(node_id=world.node_b.pk, quantity_id=co2.pk, ts=now, value=1200.0)
    return co2


def test_members_see_their_nodes_with_latest_values(world, latest, client_for):
    body = client_for(world.alice).get("/api/geo/nodes/").json()
    by_device = {f["properties"]["device_id"]: f for f in body["features"]}
    assert set(by_device) == {"secretA-node", "secretA-public-node"}
    node = by_device["secretA-node"]
    site = world.site_a
    assert node["geometry"] == {"type": "Point", "coordinates": [site.longitude, site.latitude]}
    assert node["properties"]["latest"]["co2"]["value"] == 812.0
    assert node["properties"]["latest"]["co2"]["unit"] == "ppm"
    assert node["properties"]["node"] == world.node_a.pk


@pytest.mark.parametrize("user", ["charlie", None])
def test_strangers_see_public_installations_only_without_node_identity(
    world, latest, client_for, user
):
    response = client_for(getattr(world, user) if user else None).get("/api/geo/nodes/")
    body = response.json()
    public = [
        f
        for f in body["features"]
        if f["properties"]["installation"] == world.public_installation.pk
    ]
    assert len(public) == 1
    assert public[0]["properties"]["room"] == "Public classroom"
    assert public[0]["properties"]["latest"]["co2"]["value"] == 640.0
    assert "device_id" not in public[0]["properties"]
    assert "secretA" not in response.content.decode()
    if user == "charlie":
        assert {f["properties"].get("device_id") for f in body["features"]} == {
            None,
            "secretB-node",
        }
    else:
        assert len(body["features"]) == 1


def test_ended_installations_and_values_from_before_are_not_shown(world, latest, client_for):
    from django.utils import timezone

    world.installation_a.end = timezone.now()
    world.installation_a.save()
    body = client_for(world.alice).get("/api/geo/nodes/").json()
    assert {f["properties"]["device_id"] for f in body["features"]} == {"secretA-public-node"}

    Latest.objects.filter(node_id=world.public_node.pk).update(ts=datetime(2000, 1, 1, tzinfo=UTC))
    world.public_installation.start = datetime(2020, 1, 1, tzinfo=UTC)
    world.public_installation.save()
    body = client_for(None).get("/api/geo/nodes/").json()
    assert body["features"][0]["properties"]["latest"] == {}


def test_nodes_can_be_narrowed_by_bbox(world, latest, client_for):
    client = client_for(world.alice)
    inside = client.get("/api/geo/nodes/", {"bbox": "13,52,14,53"}).json()
    outside = client.get("/api/geo/nodes/", {"bbox": "0,0,1,1"}).json()
    assert inside["numberMatched"] == 2 and outside["numberMatched"] == 0
    assert client.get("/api/geo/nodes/", {"bbox": "x"}).status_code == 400


@pytest.fixture
def portal(world):
    """Bicycle stands as a German portal names them: umlauts, and JSON null for unknown."""
    stands = Layer.objects.create(organization=world.org_a, key="stands", name="Stände")
    feature(stands, "s1", 13.40, 52.52, **{"Kapazität": 12, "Straße": "Unter den Linden"})
    feature(stands, "s2", 13.41, 52.52, **{"Kapazität": 4, "Straße": None})
    feature(stands, "s3", 13.42, 52.52, **{"Kapazität": None})
    feature(stands, "s4", 13.43, 52.52, **{"Überdacht": True})
    return stands


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"Kapazität__gte": "10"}, ["s1"]),
        ({"Kapazität__lte": "10"}, ["s2"]),
        ({"Kapazität": "4"}, ["s2"]),
        ({"Straße": "Unter den Linden"}, ["s1"]),
        ({"Überdacht": "true"}, ["s4"]),
        ({"Kapazität__isnull": "true"}, ["s3"]),  # JSON null, not a missing property
        ({"Kapazität__isnull": "false"}, ["s1", "s2"]),
        ({"Straße__isnull": "true"}, ["s2"]),
        ({"Straße__missing": "true"}, ["s3", "s4"]),
    ],
)
def test_filters_take_non_ascii_names_and_json_null(world, portal, client_for, params, expected):
    assert ids(get(client_for(world.alice), "stands", **params)) == expected


def test_isnull_takes_true_or_false_only(world, portal, client_for):
    response = get(client_for(world.alice), "stands", **{"Kapazität__isnull": "yes"})
    assert response.status_code == 400 and "Kapazität__isnull" in response.json()
