"""``/api/v1/nodes/{id}/receptions/`` and ``/api/v1/gateways/``: LoRaWAN radio diagnostics."""

from datetime import UTC, datetime, timedelta

import pytest

from sensorgrid.telemetry.models import Reception

T0 = datetime(2025, 5, 25, 12, 0, tzinfo=UTC)


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def heard(node, minutes: float, gateway: str, rssi: float | None = -80, snr: float | None = 5):
    return Reception.objects.create(
        node=node,
        ts=T0 + timedelta(minutes=minutes),
        gateway_id=gateway,
        rssi=rssi,
        snr=snr,
        frequency=868_100_000,
        spreading_factor=7,
        frame_counter=int(minutes),
    )


def receptions_url(node) -> str:
    return f"/api/v1/nodes/{node.pk}/receptions/"


@pytest.fixture
def radio(world):
    """node_a heard by gw-a1 and gw-shared, public_node by gw-shared, node_b by gw-b1."""
    heard(world.node_a, 0, "gw-a1", -70, 8)
    heard(world.node_a, 0, "gw-shared", -100, -2)
    heard(world.node_a, 10, "gw-a1", -80, 6)
    heard(world.public_node, 5, "gw-shared", -90, 0)
    heard(world.node_b, 20, "gw-b1", -60, 10)


def test_members_see_the_receptions_newest_first(world, client_for, radio):
    for user in (world.alice, world.bob, world.root):
        response = client_for(user).get(receptions_url(world.node_a))
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == 3
        assert [(r["ts"], r["gateway_id"]) for r in body["results"]] == [
            (iso(T0 + timedelta(minutes=10)), "gw-a1"),
            (iso(T0), "gw-a1"),
            (iso(T0), "gw-shared"),
        ]
    assert body["results"][0] == {
        "ts": iso(T0 + timedelta(minutes=10)),
        "gateway_id": "gw-a1",
        "rssi": -80.0,
        "snr": 6.0,
        "frequency": 868_100_000,
        "spreading_factor": 7,
        "frame_counter": 10,
    }


@pytest.mark.parametrize("persona", ["charlie", "dave", None])
def test_others_get_404_like_for_the_time_series(world, client_for, radio, persona):
    client = client_for(getattr(world, persona) if persona else None)
    for node in (world.node_a, world.public_node):  # nodes are never public
        response = client.get(receptions_url(node))
        assert response.status_code == 404
        assert "gw-" not in response.content.decode()


def test_unknown_and_absurd_node_ids_are_404(world, client_for):
    for pk in (999_999, 2**63, 10**30):
        assert client_for(world.root).get(f"/api/v1/nodes/{pk}/receptions/").status_code == 404


def test_from_is_inclusive_and_to_exclusive(world, client_for, radio):
    response = client_for(world.alice).get(
        receptions_url(world.node_a),
        {"from": iso(T0), "to": iso(T0 + timedelta(minutes=10))},
    )
    assert [r["gateway_id"] for r in response.json()["results"]] == ["gw-a1", "gw-shared"]
    epoch = int((T0 + timedelta(minutes=1)).timestamp())
    response = client_for(world.alice).get(receptions_url(world.node_a), {"from": epoch})
    assert [r["frame_counter"] for r in response.json()["results"]] == [10]


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "9999-99-99"}, "to"),
        ({"from": "2025-05-26T00:00:00Z", "to": "2025-05-25T00:00:00Z"}, "from"),
    ],
)
def test_bad_ranges_are_400_naming_the_parameter(world, client_for, params, key):
    response = client_for(world.alice).get(receptions_url(world.node_a), params)
    assert response.status_code == 400
    assert list(response.json()) == [key]


def test_receptions_are_paginated(world, client_for):
    for minute in range(5):
        heard(world.node_a, minute, "gw-a1")
    body = client_for(world.alice).get(receptions_url(world.node_a), {"page_size": 2}).json()
    assert body["count"] == 5 and len(body["results"]) == 2 and body["next"]


def test_deleting_a_node_deletes_its_receptions(world, radio):
    world.node_a.delete()
    assert not Reception.objects.filter(gateway_id="gw-a1").exists()


# --- gateways -------------------------------------------------------------------------


def gateways(client, **params) -> dict[str, dict]:
    response = client.get("/api/v1/gateways/", params)
    assert response.status_code == 200, response.content
    return {row.pop("gateway_id"): row for row in response.json()["results"]}


def test_gateway_list_aggregates_the_receptions_of_my_nodes(world, client_for, radio):
    listed = gateways(client_for(world.alice))
    assert listed == {
        "gw-a1": {
            "first_seen": iso(T0),
            "last_seen": iso(T0 + timedelta(minutes=10)),
            "receptions": 2,
            "nodes": 1,
            "mean_rssi": -75.0,
            "mean_snr": 7.0,
        },
        "gw-shared": {
            "first_seen": iso(T0),
            "last_seen": iso(T0 + timedelta(minutes=5)),
            "receptions": 2,
            "nodes": 2,
            "mean_rssi": -95.0,
            "mean_snr": -1.0,
        },
    }


def test_gateway_list_is_ordered_by_last_reception(world, client_for, radio):
    response = client_for(world.root).get("/api/v1/gateways/")
    assert [row["gateway_id"] for row in response.json()["results"]] == [
        "gw-b1",
        "gw-a1",
        "gw-shared",
    ]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("bob", {"gw-a1", "gw-shared"}),
        ("charlie", {"gw-b1"}),
        ("dave", set()),  # staff, but a member of nothing
        (None, set()),
        ("root", {"gw-a1", "gw-shared", "gw-b1"}),
    ],
)
def test_gateway_list_shows_only_gateways_of_visible_nodes(
    world, client_for, radio, persona, expected
):
    client = client_for(getattr(world, persona) if persona else None)
    assert set(gateways(client)) == expected


def test_a_gateway_heard_by_two_organizations_counts_only_mine(world, client_for, radio):
    heard(world.node_b, 30, "gw-shared", -50, 12)
    assert gateways(client_for(world.charlie))["gw-shared"] == {
        "first_seen": iso(T0 + timedelta(minutes=30)),
        "last_seen": iso(T0 + timedelta(minutes=30)),
        "receptions": 1,
        "nodes": 1,
        "mean_rssi": -50.0,
        "mean_snr": 12.0,
    }


def test_gateway_list_since_restricts_every_aggregate(world, client_for, radio):
    listed = gateways(client_for(world.alice), since=iso(T0 + timedelta(minutes=5)))
    assert set(listed) == {"gw-a1", "gw-shared"}
    assert listed["gw-a1"]["receptions"] == 1 and listed["gw-a1"]["mean_rssi"] == -80.0
    assert listed["gw-shared"]["nodes"] == 1
    response = client_for(world.alice).get("/api/v1/gateways/", {"since": "soon"})
    assert response.status_code == 400 and list(response.json()) == ["since"]


def test_unknown_rssi_and_snr_give_null_means(world, client_for):
    heard(world.node_a, 0, "gw-quiet", rssi=None, snr=None)
    listed = gateways(client_for(world.alice))
    assert (listed["gw-quiet"]["mean_rssi"], listed["gw-quiet"]["mean_snr"]) == (None, None)


# --- admin ----------------------------------------------------------------------------


def test_admin_lists_receptions_read_only_and_scoped(world, admin_as, radio):
    for persona, sees, hidden in (("alice", "gw-a1", "gw-b1"), ("charlie", "gw-b1", "gw-a1")):
        client = admin_as(persona)
        body = client.get("/admin/telemetry/reception/").content.decode()
        assert sees in body and hidden not in body
    assert client.get("/admin/telemetry/reception/add/").status_code == 403
    reception = Reception.objects.filter(node=world.node_b).get()
    response = client.post(f"/admin/telemetry/reception/{reception.pk}/change/", {"rssi": 0})
    assert response.status_code == 403
    assert Reception.objects.get(pk=reception.pk).rssi == -60
