import csv
import io
from datetime import timedelta

import pytest

from sensorgrid.inventory.models import Quantity
from sensorgrid.telemetry import timeseries
from sensorgrid.telemetry.models import Rollup
from tests import factories as f
from tests.telemetry.timeseries_helpers import BASE, at, iso, send


def url(node, **params) -> str:
    query = "&".join(f"{k.rstrip('_')}={v}" for k, v in params.items())
    return f"/api/v1/nodes/{node.pk}/timeseries/?{query}"


def points(body, quantity="co2") -> list[tuple[str, float]]:
    series = {s["quantity"]: s for s in body["series"]}[quantity]
    return [(p["ts"], p["value"]) for p in series["points"]]


def window(start, end) -> dict[str, str]:
    return {"from_": iso(start), "to": iso(end)}


def test_raw_samples_in_the_range_oldest_first(world, client_for):
    node = world.node_a
    send(node, (at(0, 20), {"co2": 500}), (at(0, 10), {"co2": 400}), (at(1, 10), {"co2": 900}))
    send(node, (at(2), {"co2": 1}))  # at `to`: the range is half-open
    response = client_for(world.alice).get(url(node, quantity="co2", **window(at(0), at(2))))
    assert response.status_code == 200
    body = response.json()
    assert body["node"] == node.pk and body["bucket"] == "raw" and body["agg"] is None
    assert (body["from"], body["to"]) == (iso(at(0)), iso(at(2)))
    assert body["series"][0]["unit"] == "ppm"
    assert points(body) == [(iso(at(0, 10)), 400), (iso(at(0, 20)), 500), (iso(at(1, 10)), 900)]


@pytest.mark.parametrize(
    ("bucket", "agg", "expected"),
    [
        ("1h", "avg", [(at(0), 500), (at(1), 800)]),
        ("1h", "min", [(at(0), 400), (at(1), 800)]),
        ("1h", "max", [(at(0), 600), (at(1), 800)]),
        ("1h", "count", [(at(0), 2), (at(1), 1)]),
        ("1h", "sum", [(at(0), 1000), (at(1), 800)]),
        ("15m", "avg", [(at(0), 400), (at(0, 45), 600), (at(1), 800)]),
        ("5m", "max", [(at(0, 5), 400), (at(0, 50), 600), (at(1), 800)]),
        ("1m", "count", [(at(0, 5), 1), (at(0, 50), 1), (at(1), 1)]),
        ("1d", "avg", [(at(0), 600)]),
    ],
)
def test_bucket_aggregates(world, client_for, bucket, agg, expected):
    send(world.node_a, (at(0, 5), {"co2": 400}), (at(0, 50), {"co2": 600}), (at(1), {"co2": 800}))
    params = {"quantity": "co2", "bucket": bucket, "agg": agg, **window(at(0), at(24))}
    body = client_for(world.alice).get(url(world.node_a, **params)).json()
    assert (body["bucket"], body["agg"]) == (bucket, agg)
    assert points(body) == [(iso(ts), value) for ts, value in expected]


def test_partial_buckets_at_the_edges_are_exact(world):
    node = world.node_a
    co2 = Quantity.objects.get(key="co2").pk
    send(
        node,
        *[(at(0, m), {"co2": v}) for m, v in [(10, 100), (50, 200), (70, 300), (110, 400)]],
        (at(2, 10), {"co2": 500}),
        (at(2, 40), {"co2": 600}),
    )

    def sums(start, end, bucket="1h"):
        result = timeseries.query(node.pk, [co2], start, end, bucket, timeseries.Agg.SUM)
        return [(p.ts, p.value) for p in result[co2]]

    # Two partial hours, no whole one: only the samples inside [00:30, 01:30).
    assert sums(at(0, 30), at(1, 30)) == [(at(0), 200), (at(1), 300)]
    # Partial, whole, partial.
    assert sums(at(0, 30), at(2, 30)) == [(at(0), 200), (at(1), 700), (at(2), 500)]
    # Inside one hour.
    assert sums(at(2, 5), at(2, 15)) == [(at(2), 500)]
    # A day, cut on both sides.
    assert sums(at(0, 30), at(2, 30), "1d") == [(at(0), 1400)]
    # The whole hour comes from its rollup: doctoring the rollup shows through,
    # while the edges come from raw samples.
    Rollup.objects.filter(node=node, resolution=3600, bucket=at(1)).update(sum=7000)
    assert sums(at(0, 30), at(2, 30)) == [(at(0), 200), (at(1), 7000), (at(2), 500)]


def test_several_quantities_in_request_order(world, client_for):
    send(world.node_a, (at(1), {"co2": 700, "temperature": 21.5}))
    params = {"quantity": "temperature,co2", **window(at(0), at(2))}
    body = client_for(world.bob).get(url(world.node_a, **params)).json()
    assert [(s["quantity"], s["unit"]) for s in body["series"]] == [
        ("temperature", "°C"),
        ("co2", "ppm"),
    ]
    assert points(body, "temperature") == [(iso(at(1)), 21.5)]
    assert points(body, "co2") == [(iso(at(1)), 700)]


def test_defaults_last_24_hours_raw_every_reported_quantity(world, client_for):
    from datetime import UTC, datetime

    recent = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    send(world.node_a, (recent, {"co2": 650, "humidity": 40}), (at(0), {"co2": 1}))
    body = client_for(world.alice).get(url(world.node_a)).json()
    assert (body["bucket"], body["agg"]) == ("raw", None)
    assert [s["quantity"] for s in body["series"]] == ["co2", "humidity"]
    assert points(body) == [(iso(recent), 650)]  # at(0) is three days old


def test_epoch_seconds_are_accepted(world, client_for):
    send(world.node_a, (at(1), {"co2": 700}))
    params = {"quantity": "co2", "from_": int(at(0).timestamp()), "to": int(at(2).timestamp())}
    body = client_for(world.alice).get(url(world.node_a, **params)).json()
    assert body["from"] == iso(at(0))
    assert points(body) == [(iso(at(1)), 700)]


def test_csv_is_streamed_and_parses_back(world, client_for):
    send(world.node_a, (at(0, 10), {"co2": 400.5, "temperature": 20}), (at(1), {"co2": 800}))
    params = {"quantity": "co2,temperature", "bucket": "1h", "format": "csv"}
    response = client_for(world.alice).get(url(world.node_a, **params, **window(at(0), at(3))))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["ts"], r["quantity"], float(r["value"])) for r in rows] == [
        (iso(at(0)), "co2", 400.5),
        (iso(at(1)), "co2", 800),
        (iso(at(0)), "temperature", 20),
    ]
    # The Accept header works as well.
    plain = url(world.node_a, quantity="co2", **window(at(0), at(3)))
    response = client_for(world.alice).get(plain, HTTP_ACCEPT="text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines == ["ts,quantity,value", f"{iso(at(0, 10))},co2,400.5", f"{iso(at(1))},co2,800.0"]


def test_errors_are_json_even_when_csv_was_asked_for(world, client_for):
    response = client_for(world.alice).get(url(world.node_a, format="csv", bucket="2h"))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "bucket" in response.json()


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"quantity": "co2,radon"}, "quantity"),
        ({"bucket": "2h"}, "bucket"),
        ({"bucket": "1h", "agg": "median"}, "agg"),
        ({"from_": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from_": "2026-01-02", "to": "2026-01-01"}, "from"),
        ({"from_": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"to": "99999999999999999999"}, "to"),
        ({"from_": "1969-12-31"}, "from"),
        ({"format": "xml"}, "format"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(world, client_for, params, parameter):
    response = client_for(world.alice).get(url(world.node_a, **params))
    assert response.status_code == 400, response.content
    assert parameter in response.json()


def test_the_point_limit_is_checked_before_bucketed_queries(world, client_for, settings):
    settings.SENSORGRID_TIMESERIES_MAX_POINTS = 30
    client = client_for(world.alice)
    day = window(at(0), at(24))
    assert client.get(url(world.node_a, quantity="co2", bucket="1h", **day)).status_code == 200
    response = client.get(url(world.node_a, quantity="co2,temperature", bucket="1h", **day))
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "48" in detail and "30" in detail and "bigger bucket" in detail
    assert client.get(url(world.node_a, quantity="co2", bucket="15m", **day)).status_code == 400


def test_the_point_limit_counts_raw_samples(world, client_for, settings):
    settings.SENSORGRID_TIMESERIES_MAX_POINTS = 3
    send(world.node_a, *[(at(0, m), {"co2": 400 + m}) for m in range(4)])
    client = client_for(world.alice)
    ok = client.get(url(world.node_a, quantity="co2", **window(at(0), at(0, 3))))
    assert ok.status_code == 200 and len(points(ok.json())) == 3
    response = client.get(url(world.node_a, quantity="co2", **window(at(0), at(1))))
    assert response.status_code == 400
    assert "bucket=" in response.json()["detail"]


@pytest.mark.parametrize("endpoint", ["timeseries", "latest"])
def test_only_members_see_a_nodes_data(world, client_for, endpoint):
    send(world.node_a, (at(1), {"co2": 700}))
    path = f"/api/v1/nodes/{world.node_a.pk}/{endpoint}/"
    for user, status in [
        (world.alice, 200),
        (world.bob, 200),
        (world.root, 200),
        (world.charlie, 404),
        (world.dave, 404),
        (None, 404),
    ]:
        response = client_for(user).get(path)
        assert response.status_code == status, (user, response.content)
    # Nodes are never public, not even the one of a public installation.
    public = f"/api/v1/nodes/{world.public_node.pk}/{endpoint}/"
    assert client_for(None).get(public).status_code == 404


def test_unknown_and_absurd_ids_are_404(world, client_for):
    for pk in [999999, 2**63, 10**30]:
        response = client_for(world.root).get(f"/api/v1/nodes/{pk}/timeseries/")
        assert response.status_code == 404
        response = client_for(world.root).get(f"/api/v1/installations/{pk}/timeseries/")
        assert response.status_code == 404


def test_latest_values(world, client_for):
    send(world.node_a, (at(1), {"co2": 700, "temperature": 20}))
    send(world.node_a, (at(0), {"co2": 500}))  # late: not the latest
    body = client_for(world.bob).get(f"/api/v1/nodes/{world.node_a.pk}/latest/").json()
    assert body == {
        "node": world.node_a.pk,
        "values": [
            {"quantity": "co2", "unit": "ppm", "ts": iso(at(1)), "value": 700},
            {"quantity": "temperature", "unit": "°C", "ts": iso(at(1)), "value": 20},
        ],
    }


@pytest.fixture
def moved(world):
    """A node of org A that was in a public room from 01:00 to 02:00 on day BASE only."""
    node = f.NodeFactory(organization=world.org_a, device_id="moved-node")
    installation = f.InstallationFactory(
        node=node, room=world.public_room, start=at(1), end=at(2), is_public=True
    )
    samples = [(10, 100), (55, 200), (65, 300), (115, 400), (125, 500), (24 * 60 + 10, 600)]
    send(node, *[(at(0, m), {"co2": v}) for m, v in samples])
    return installation


def inst_url(installation, **params) -> str:
    query = "&".join(f"{k.rstrip('_')}={v}" for k, v in params.items())
    return f"/api/v1/installations/{installation.pk}/timeseries/?{query}"


@pytest.mark.parametrize(
    ("bucket", "agg", "expected"),
    [
        ("raw", "avg", [(at(1, 5), 300), (at(1, 55), 400)]),
        ("15m", "sum", [(at(1), 300), (at(1, 45), 400)]),
        ("1h", "count", [(at(1), 2)]),
        ("1d", "sum", [(at(0), 700)]),  # the day's rollup holds 1500
        ("1d", "max", [(at(0), 400)]),
    ],
)
def test_installation_data_stays_inside_its_period(moved, client_for, bucket, agg, expected):
    params = {"quantity": "co2", "bucket": bucket, "agg": agg, **window(at(-24), at(48))}
    response = client_for(None).get(inst_url(moved, **params))
    assert response.status_code == 200
    body = response.json()
    assert body["installation"] == moved.pk and body["node"] == moved.node_id
    assert points(body) == [(iso(ts), value) for ts, value in expected]


def test_installation_period_intersects_the_requested_range(moved, client_for):
    params = {"quantity": "co2", "bucket": "1h", "agg": "sum", **window(at(1, 30), at(5))}
    body = client_for(None).get(inst_url(moved, **params)).json()
    assert points(body) == [(iso(at(1)), 400)]
    params = {"quantity": "co2", **window(at(3), at(5))}
    assert points(client_for(None).get(inst_url(moved, **params)).json()) == []


def test_private_installations_are_for_members_only(world, client_for):
    send(world.node_a, (at(1), {"co2": 700}))
    installation = world.installation_a
    assert client_for(None).get(inst_url(installation)).status_code == 404
    assert client_for(world.charlie).get(inst_url(installation)).status_code == 404
    body = client_for(world.bob).get(inst_url(installation, **window(at(0), at(2)))).json()
    assert points(body) == [(iso(at(1)), 700)]


def test_installation_csv(moved, client_for):
    params = {"quantity": "co2", "format": "csv", "bucket": "1h", "agg": "max"}
    response = client_for(None).get(inst_url(moved, **params, **window(at(0), at(3))))
    assert b"".join(response.streaming_content).decode().splitlines() == [
        "ts,quantity,value",
        f"{iso(at(1))},co2,400.0",
    ]


def test_base_is_a_utc_midnight():
    # The expectations above rely on it (1d buckets start at BASE).
    assert BASE.hour == BASE.minute == 0 and BASE.utcoffset() == timedelta(0)
