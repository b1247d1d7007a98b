"""One series in time order across the samples partitions (observations.by_partitions).

The answers are the same wherever a series' samples lie: in monthly partitions, in the
default partition before, between or after them (SQLite has no partitions: the same
answers from one table). On PostgreSQL, a series newest first (or oldest first) reads the
partitions in their order and stops at the first that holds rows; the others are never
executed (EXPLAIN ANALYZE), where a Merge Append descended the index of every partition.
"""

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sensorgrid.isotime import iso
from sensorgrid.sensorthings import mirror, observations
from sensorgrid.telemetry import partitions
from tests.sensorthings.conftest import write_samples

ROOT = "/sta/v1.1/"
#: Monthly partitions the tests make (far from the months the migrations make).
MONTHS = [(2020, 1), (2020, 2), (2020, 3)]
LATEST = "Things?$expand=Datastreams($expand=Observations($orderby=phenomenonTime desc;$top=1))"
OLDEST = "Things?$expand=Datastreams($expand=Observations($orderby=phenomenonTime asc;$top=1))"

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def z(moment: datetime) -> str:
    return iso(moment)


@pytest.fixture
def spread(world, sta):
    """node_a's co2 (10:00 and 10:05 on 2026-03-01, in the default partition) gets
    samples in three monthly partitions and in the default partition before and between
    them; public_node's temperature has samples in the partitions only."""
    if partitions.is_partitioned():
        for year, month in MONTHS:
            partitions.create(partitions.month(year, month))
        observations.forget_partitions()
    mixed = [at(2019, 12, 15), at(2020, 1, 10), at(2020, 2, 10), at(2020, 3, 10), at(2020, 5, 1)]
    inside = [at(2020, 1, 20), at(2020, 2, 20), at(2020, 3, 20)]
    write_samples(
        *[(world.node_a, sta.co2, ts, 1.0 + i) for i, ts in enumerate(mixed)],
        *[(world.public_node, sta.temperature, ts, 20.0 + i) for i, ts in enumerate(inside)],
    )
    mirror.ensure()
    yield {
        "mixed": sta.datastream(world.node_a, sta.co2),
        "inside": sta.datastream(world.public_node, sta.temperature),
        "mixed_times": [*mixed, at(2026, 3, 1, 10, 0), at(2026, 3, 1, 10, 5)],
        "inside_times": inside,
    }
    observations.forget_partitions()


def get(client, path, status=200):
    response = client.get(ROOT + path)
    assert response.status_code == status, (path, response.status_code, response.content[:500])
    return response.json()


def times(body) -> list[str]:
    return [o["phenomenonTime"] for o in body["value"]]


def walk(client, path) -> list[str]:
    page = get(client, path)
    seen = times(page)
    while "@iot.nextLink" in page:
        parts = urlsplit(page["@iot.nextLink"])
        response = client.get(f"{parts.path}?{parts.query}")
        assert response.status_code == 200, response.content[:500]
        page = response.json()
        seen += times(page)
    return seen


def test_the_samples_lie_where_the_test_says(spread):
    if not partitions.is_partitioned():
        pytest.skip("SQLite has no partitions")
    names = {p.name for p in partitions.existing()}
    assert {partitions.month(*m).name for m in MONTHS} <= names
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, count(*) FROM telemetry_sample "
            "WHERE node_id = %s AND quantity_id = %s GROUP BY 1",
            [spread["mixed"].node_id, spread["mixed"].quantity_id],
        )
        where = dict(cursor.fetchall())
    assert where == {
        "telemetry_sample_default": 4,
        "telemetry_sample_202001": 1,
        "telemetry_sample_202002": 1,
        "telemetry_sample_202003": 1,
    }


def test_a_datastreams_phenomenon_time_spans_partitions_and_default(client_for, world, spread):
    alice = client_for(world.alice)
    mixed, inside = spread["mixed_times"], spread["inside_times"]
    assert get(alice, f"Datastreams({spread['mixed'].pk})")["phenomenonTime"] == (
        f"{z(mixed[0])}/{z(mixed[-1])}"
    )
    assert get(alice, f"Datastreams({spread['inside'].pk})")["phenomenonTime"] == (
        f"{z(inside[0])}/{z(inside[-1])}"
    )


def test_one_series_pages_in_time_order_across_partitions(client_for, world, spread):
    alice = client_for(world.alice)
    mixed = [z(t) for t in spread["mixed_times"]]
    path = f"Datastreams({spread['mixed'].pk})/Observations"
    assert walk(alice, f"{path}?$orderby=phenomenonTime desc&$top=2") == mixed[::-1]
    assert walk(alice, f"{path}?$top=3") == mixed
    assert walk(alice, f"{path}?$orderby=phenomenonTime asc&$top=1") == mixed
    assert times(get(alice, f"{path}?$top=2&$skip=2")) == mixed[2:4]
    assert (
        times(get(alice, f"{path}?$orderby=phenomenonTime desc&$top=3&$skip=2"))
        == (mixed[::-1][2:5])
    )
    before_march = f"{path}?$filter=phenomenonTime lt 2020-03-01T00:00:00Z"
    assert times(get(alice, f"{before_march}&$orderby=phenomenonTime desc&$top=1")) == [mixed[2]]
    counted = get(alice, f"{path}?$count=true&$top=1")
    assert counted["@iot.count"] == len(mixed)


def test_the_latest_and_oldest_observation_of_every_thing(client_for, world, spread):
    alice = client_for(world.alice)

    def first_of(body, datastream) -> str:
        for thing in body["value"]:
            for stream in thing["Datastreams"]:
                if stream["@iot.id"] == datastream.pk:
                    return times({"value": stream["Observations"]})[0]
        raise AssertionError(f"Datastream {datastream.pk} not expanded")

    latest, oldest = get(alice, LATEST), get(alice, OLDEST)
    mixed, inside = spread["mixed_times"], spread["inside_times"]
    assert first_of(latest, spread["mixed"]) == z(mixed[-1])
    assert first_of(latest, spread["inside"]) == z(inside[-1])
    assert first_of(oldest, spread["mixed"]) == z(mixed[0])
    assert first_of(oldest, spread["inside"]) == z(inside[0])


# --- PostgreSQL: the partitions are read in order, and the read stops ----------------------


def executed(plan: str, partition: str) -> list[bool]:
    """For each scan of ``partition`` in an EXPLAIN ANALYZE text: whether it ran."""
    return [
        "never executed" not in line
        for line in plan.splitlines()
        if f" on {partition} " in line and "Scan" in line
    ]


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def statements(client, path: str, *markers: str) -> list[str]:
    """The statements of GET ``path`` that hold every one of ``markers``."""
    with CaptureQueriesContext(connection) as captured:
        get(client, path)
    found = [q["sql"] for q in captured.captured_queries if all(m in q["sql"] for m in markers)]
    assert found, [q["sql"][:200] for q in captured.captured_queries]
    return found


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's (SQLite reads one table)")


def test_the_latest_observation_reads_the_newest_partition_only(
    postgresql, client_for, world, spread
):
    """The LATERAL of an expansion (as in "the latest Observation of every Thing"): the
    partitions of March and February 2020 answer (the newest and the one more that tells
    whether there are more); January is never read (a Merge Append read all three for
    every Datastream)."""
    alice = client_for(world.alice)
    path = (
        f"Datastreams({spread['inside'].pk})"
        "?$expand=Observations($orderby=phenomenonTime desc;$top=1)"
    )
    (sql,) = statements(alice, path, "CROSS JOIN LATERAL", "sensorthings_sample_row")
    plan = explain(sql)
    assert any(executed(plan, "telemetry_sample_202003")), plan
    scans = executed(plan, "telemetry_sample_202001")
    assert scans and not any(scans), plan


def test_one_series_newest_first_stops_at_the_newest_partition(
    postgresql, client_for, world, spread
):
    alice = client_for(world.alice)
    path = f"Datastreams({spread['inside'].pk})/Observations?$orderby=phenomenonTime desc&$top=1"
    (sql,) = statements(alice, path, "LIMIT 2")
    plan = explain(sql)  # the newest and one more: March and February
    scans = executed(plan, "telemetry_sample_202001")
    assert scans and not any(scans), plan


def test_a_datastreams_time_span_reads_one_partition_each_way(
    postgresql, client_for, world, spread
):
    """First and last sample of the series: January answers the first, March the last;
    February is never read."""
    alice = client_for(world.alice)
    path = f"Datastreams({spread['inside'].pk})"
    (sql,) = statements(alice, path, "sensorthings_sample_row")
    plan = explain(sql)
    scans = executed(plan, "telemetry_sample_202002")
    assert scans and not any(scans), plan
    assert any(executed(plan, "telemetry_sample_202001")), plan
    assert any(executed(plan, "telemetry_sample_202003")), plan
