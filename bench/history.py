"""Long history benchmark: ten years of 1-minute data of one node (5.26 M samples),
1,000-bucket queries through the time-series code against hand-written SQL over the raw
samples, and the node page's 1-year view through a real `sensorgrid serve`.

    flock /work/notes/bench.lock .venv/bin/python bench/history.py \\
        [--database postgres://postgres@127.0.0.1:5432/sensorgrid_bench_history] [--years 10]
        [--reuse]     # measure again what a previous run seeded (seeding takes minutes)

The database named is dropped and created anew. The samples are seeded in SQL
(generate_series into the monthly partitions), the hourly and daily rollups computed
from them in SQL, exactly what the batch writer would have kept; then ANALYZE.

Measured, each at 40 positions (p50/p95):

- ``hour_1000``: ``timeseries.query`` of 1,000 hourly buckets (about six weeks, edges
  unaligned so both are partial), anywhere in the ten years; baseline the same
  aggregation written by hand over ``telemetry_sample`` (``GROUP BY`` the bucket).
- ``day_1000``: 1,000 daily buckets (2.7 years), same baseline.
- ``page_1y``: what the History tab's "1 y" preset loads, over HTTP from a running
  server with a logged-in member's session: the page (HTML) and then the time-series
  API call its script makes (``bucket=1d&from=now-365d``), timed together.

Prints one JSON line.
"""

import argparse
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from common import recreate_database, setup_django, signed_in, timed

RAW_SQL = """
SELECT floor(extract(epoch FROM ts) / %(s)s)::bigint * %(s)s AS b,
       count(*), sum(value), min(value), max(value)
FROM telemetry_sample
WHERE node_id = %(node)s AND quantity_id = %(quantity)s AND ts >= %(start)s AND ts < %(end)s
GROUP BY b ORDER BY b
"""


def fixtures():
    from sensorgrid.inventory.models import Node, Quantity
    from sensorgrid.tenancy.models import Membership, Organization, User

    org = Organization.objects.create(name="Bench", slug="bench")
    node = Node.objects.create(organization=org, device_id="bench-history")
    user = User.objects.create_user("bench", "bench@example.org", "bench-password")
    Membership.objects.create(user=user, organization=org, role="owner")
    return node, Quantity.objects.get(key="co2"), user


def seed(node_id: int, quantity_id: int, start: datetime, end: datetime) -> dict:
    """Samples every minute in [start, end), their rollups and latest value, in SQL."""
    from django.db import connection

    from sensorgrid.telemetry import partitions

    months = (end.year - start.year) * 12 + end.month - start.month + 1
    partitions.ensure(back=months, ahead=1, today=end.date())
    params = {"node": node_id, "quantity": quantity_id, "start": start, "end": end}
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO telemetry_sample (node_id, quantity_id, ts, value)
            SELECT %(node)s, %(quantity)s, ts,
                   400 + 300 * sin(extract(epoch FROM ts) / 86400 * 2 * pi())
                       + (extract(epoch FROM ts)::bigint / 60 * 7919) %% 97
            FROM generate_series(%(start)s::timestamptz, %(end)s::timestamptz
                                 - interval '1 minute', interval '1 minute') AS ts
            """,
            params,
        )
        samples = cursor.rowcount
        loaded = time.perf_counter()
        for seconds, unit in ((3600, "hour"), (86400, "day")):
            cursor.execute(
                f"""
                INSERT INTO telemetry_rollup
                    (node_id, quantity_id, resolution, bucket, "count", "sum", "min", "max")
                SELECT node_id, quantity_id, {seconds}, date_trunc('{unit}', ts, 'UTC'),
                       count(*), sum(value), min(value), max(value)
                FROM telemetry_sample WHERE node_id = %(node)s
                GROUP BY 1, 2, 4
                """,
                params,
            )
        cursor.execute(
            """
            INSERT INTO telemetry_latest (node_id, quantity_id, ts, value)
            SELECT node_id, quantity_id, ts, value FROM telemetry_sample
            WHERE node_id = %(node)s ORDER BY ts DESC LIMIT 1
            """,
            params,
        )
        cursor.execute("UPDATE inventory_node SET last_seen = %(end)s WHERE id = %(node)s", params)
        rolled = time.perf_counter()
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT pg_total_relation_size('telemetry_rollup')")
        (rollup_bytes,) = cursor.fetchone()
        cursor.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'telemetry_sample'::regclass"
        )
        (sample_bytes,) = cursor.fetchone()
    return {
        "samples": samples,
        "partitions": months,
        "seed_samples_s": round(loaded - began, 1),
        "seed_rollups_s": round(rolled - loaded, 1),
        "sample_table_mb": round(sample_bytes / 2**20),
        "rollup_table_mb": round(rollup_bytes / 2**20, 1),
    }


def query_benchmark(node_id, quantity_id, start, end, repeats) -> dict:
    from django.db import connection

    from sensorgrid.telemetry import timeseries

    result = {}
    span = (end - start).total_seconds()
    for name, bucket, seconds in (("hour_1000", "1h", 3600), ("day_1000", "1d", 86400)):
        width = timedelta(seconds=1000 * seconds)
        room = span - width.total_seconds() - seconds

        def window(i, width=width, room=room, seconds=seconds):
            # spread over the whole history, unaligned: both edges partial
            at = start + timedelta(seconds=int(room * ((i * 0.618034) % 1)))
            begin = timeseries.floor_to(at, seconds) + timedelta(minutes=17, seconds=37)
            return begin, begin + width

        def api(i, bucket=bucket, window=window):
            begin, finish = window(i)
            points = timeseries.query(node_id, [quantity_id], begin, finish, bucket, limit=2000)
            assert len(points[quantity_id]) == 1001, len(points[quantity_id])

        def raw(i, seconds=seconds, window=window):
            begin, finish = window(i)
            with connection.cursor() as cursor:
                cursor.execute(
                    RAW_SQL,
                    {
                        "s": seconds,
                        "node": node_id,
                        "quantity": quantity_id,
                        "start": begin,
                        "end": finish,
                    },
                )
                assert len(cursor.fetchall()) == 1001

        api(0)  # warm: plans, caches
        raw(0)
        api_p50, api_p95 = timed(api, repeats)
        raw_p50, raw_p95 = timed(raw, repeats)
        result.update(
            {
                f"{name}_query_p50_ms": api_p50,
                f"{name}_query_p95_ms": api_p95,
                f"{name}_raw_sql_p50_ms": raw_p50,
                f"{name}_raw_sql_p95_ms": raw_p95,
                f"{name}_raw_vs_query_p95": round(raw_p95 / api_p95, 1),
            }
        )
    return result


def page_benchmark(database: str, node_id: int, user, repeats: int) -> dict:
    """The History tab at "1 y": page, then its time-series call, from a real server."""
    points = []
    with signed_in(database, user) as get:

        def page(_i):
            get(f"/nodes/{node_id}/history/", "text/html")
            query = urlencode(
                {"quantity": "co2", "bucket": "1d", "from": str(int(time.time()) - 365 * 86400)}
            )
            answer = json.loads(
                get(f"/api/v1/nodes/{node_id}/timeseries/?{query}", "application/json")
            )
            points.append(sum(len(series["points"]) for series in answer["series"]))

        def api_only(_i):
            query = urlencode(
                {"quantity": "co2", "bucket": "1d", "from": str(int(time.time()) - 365 * 86400)}
            )
            get(f"/api/v1/nodes/{node_id}/timeseries/?{query}", "application/json")

        page(0)  # warm: the worker's first request imports and connects
        page_p50, page_p95 = timed(page, repeats)
        api_p50, api_p95 = timed(api_only, repeats)
    return {
        "page_1y_p50_ms": page_p50,
        "page_1y_p95_ms": page_p95,
        "page_1y_api_p50_ms": api_p50,
        "page_1y_api_p95_ms": api_p95,
        "page_1y_points": points[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database", default="postgres://postgres@127.0.0.1:5432/sensorgrid_bench_history"
    )
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database a previous run seeded"
    )
    args = parser.parse_args()
    if args.years < 3 and not args.reuse:
        # day_1000 spans 1,000 days (2.7 years) and needs room to move inside the history
        parser.error("--years must be 3 or more: the 1,000-day query spans 2.7 years")
    result = {"bench": "history", "database": "postgresql", "years": args.years}
    if args.reuse:  # the database a previous run seeded, as it is
        setup_django(args.database)
        from django.db import connection

        from sensorgrid.inventory.models import Node, Quantity
        from sensorgrid.tenancy.models import User

        node = Node.objects.get(device_id="bench-history")
        quantity, user = Quantity.objects.get(key="co2"), User.objects.get(username="bench")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT min(ts), max(ts) + interval '1 minute', count(*) FROM telemetry_sample"
            )
            start, end, samples = cursor.fetchone()
        result.update({"samples": samples, "reused": True})
    else:
        recreate_database(args.database)
        setup_django(args.database)
        node, quantity, user = fixtures()
        end = datetime.now(UTC).replace(second=0, microsecond=0)
        start = end - timedelta(days=round(365.25 * args.years))
        result.update(seed(node.pk, quantity.pk, start, end))
    result.update(query_benchmark(node.pk, quantity.pk, start, end, args.repeats))
    result.update(page_benchmark(args.database, node.pk, user, args.repeats))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
