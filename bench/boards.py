"""Dashboard load benchmark (issue 22: "a dashboard of 8 panels x 4 series over 7 days
loads <= 500 ms"): a board of 8 chart panels, each of 4 series (one node's co2,
temperature, humidity and pressure, 1-hour averages) over the last 7 days of 1-minute
samples, loaded through a real `sensorgrid serve` as its page does it: the board page
(HTML) and then the panels' time-series calls (one per node: the page groups a panel's
series by node), over one keep-alive connection one after the other (the browser sends
them at once: this is the slower, sequential bound).

    flock /work/notes/bench.lock .venv/bin/python bench/boards.py \\
        [--database postgres://postgres@127.0.0.1:5432/sensorgrid_bench_boards] [--repeats 20]

The database named is dropped and created anew; samples (8 nodes x 4 quantities x 7 days
x 1/min = 322,560) and their hourly rollups are seeded in SQL. Baseline, in the same run:
one node's History page and its one-series call over the same 7 days (the existing page
with one chart). Prints one JSON line.
"""

import argparse
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from common import recreate_database, setup_django, signed_in, timed

QUANTITIES = ["co2", "temperature", "humidity", "pressure"]
PANELS = 8
DAYS = 7


def seed(end: datetime) -> tuple:
    from django.db import connection

    from sensorgrid.boards import layout
    from sensorgrid.boards.models import Board
    from sensorgrid.inventory.models import Node, Quantity
    from sensorgrid.telemetry import partitions
    from sensorgrid.tenancy.models import Membership, Organization, User

    org = Organization.objects.create(name="Bench", slug="bench")
    user = User.objects.create_user("bench", "bench@example.org", "bench-password")
    Membership.objects.create(user=user, organization=org, role="owner")
    nodes = [Node.objects.create(organization=org, device_id=f"bench-{i}") for i in range(PANELS)]
    quantity_ids = list(Quantity.objects.filter(key__in=QUANTITIES).values_list("pk", flat=True))
    start = end - timedelta(days=DAYS)
    partitions.ensure(back=2, ahead=1, today=end.date())
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO telemetry_sample (node_id, quantity_id, ts, value)
            SELECT n, q, ts, 400 + 100 * sin(extract(epoch FROM ts) / 86400 * 2 * pi()) + n + q
            FROM unnest(%(nodes)s::int[]) AS n, unnest(%(quantities)s::int[]) AS q,
                 generate_series(%(start)s::timestamptz, %(end)s::timestamptz
                                 - interval '1 minute', interval '1 minute') AS ts
            """,
            {"nodes": [n.pk for n in nodes], "quantities": quantity_ids, "start": start,
             "end": end},
        )  # fmt: skip
        samples = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO telemetry_rollup
                (node_id, quantity_id, resolution, bucket, "count", "sum", "min", "max")
            SELECT node_id, quantity_id, 3600, date_trunc('hour', ts, 'UTC'),
                   count(*), sum(value), min(value), max(value)
            FROM telemetry_sample GROUP BY 1, 2, 4
            """
        )
        cursor.execute(
            """
            INSERT INTO telemetry_latest (node_id, quantity_id, ts, value)
            SELECT DISTINCT ON (node_id, quantity_id) node_id, quantity_id, ts, value
            FROM telemetry_sample ORDER BY node_id, quantity_id, ts DESC
            """
        )
        cursor.execute("VACUUM ANALYZE")
    panels = [
        {"id": f"p{i}", "type": "timeseries", "title": f"Node {i}", "x": (i % 2) * 6,
         "y": (i // 2) * 4, "w": 6, "h": 4, "bucket": "1h", "agg": "avg",
         "series": [{"node": node.pk, "quantity": q} for q in QUANTITIES]}
        for i, node in enumerate(nodes)
    ]  # fmt: skip
    board = Board.objects.create(
        organization=org,
        name="Bench",
        slug="bench",
        layout=layout.validate({"range": "7d", "panels": panels}, org.pk),
    )
    return user, [n.pk for n in nodes], board.pk, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database", default="postgres://postgres@127.0.0.1:5432/sensorgrid_bench_boards"
    )
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    recreate_database(args.database)
    setup_django(args.database)
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    user, nodes, board, samples = seed(end)
    points = []
    with signed_in(args.database, user) as get:

        def series_call(node: int, quantities: list[str]) -> int:
            frm = str(int(time.time()) - DAYS * 86400)
            query = urlencode({"quantity": ",".join(quantities), "bucket": "1h", "agg": "avg",
                               "from": frm})  # fmt: skip
            answer = json.loads(
                get(f"/api/v1/nodes/{node}/timeseries/?{query}", "application/json")
            )
            return sum(len(s["points"]) for s in answer["series"])

        def board_load(_i):
            get(f"/boards/{board}/", "text/html")
            points.append(sum(series_call(node, QUANTITIES) for node in nodes))

        def baseline(_i):
            get(f"/nodes/{nodes[0]}/history/", "text/html")
            series_call(nodes[0], ["co2"])

        board_load(0)  # warm: the worker's first request imports and connects
        baseline(0)
        board_p50, board_p95 = timed(board_load, args.repeats)
        base_p50, base_p95 = timed(baseline, args.repeats)
    print(
        json.dumps(
            {
                "bench": "boards",
                "database": "postgresql",
                "panels": PANELS,
                "series_per_panel": len(QUANTITIES),
                "days": DAYS,
                "samples": samples,
                "points_drawn": points[-1],
                "board_load_p50_ms": board_p50,
                "board_load_p95_ms": board_p95,
                "baseline_one_chart_p50_ms": base_p50,
                "baseline_one_chart_p95_ms": base_p95,
                "budget_ms": 500,
            }
        )
    )


if __name__ == "__main__":
    main()
