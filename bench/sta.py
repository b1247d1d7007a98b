"""SensorThings API benchmark (issue 25, "Speed"): the requests of FROST-Server's slow
issues through /sta/v1.1/, each beside the hand-written SQL that answers the same
question on the same database in the same run. Real PostgreSQL, one run.

    .venv/bin/python bench/sta.py [--database postgres://postgres@127.0.0.1:5432/sg_sta_bench]
                                  [--things 500] [--observations 1000000] [--other 0.2]

Prints one JSON line. The database named is dropped and created anew. The issue's scale
is ``--observations 10000000`` (500 Things × 4 Datastreams over one year, plus 20 % more
in a second organization, ``--other 0.2``).

Requests go through Django's test client in this process (the view, the walls, the
serializer and every SQL statement; no socket), as alice, a member of the first
organization, with her API token. Each is repeated ``--repeat`` times after one warm-up;
p50/p95 in milliseconds. The SQL floors are the queries a person would write by hand
against ``telemetry_sample`` (the samples are the Observations).
"""

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

from common import recreate_database, setup_django

QUANTITIES = ["co2", "temperature", "humidity", "pm2_5"]
YEAR_END = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_START = YEAR_END - timedelta(days=365)


def seed(things: int, observations: int, other: float) -> dict:
    from django.db import connection

    from sensorgrid.accounts.models import ApiToken
    from sensorgrid.inventory.models import Node, NodeModel, Quantity
    from sensorgrid.sensorthings import mirror
    from sensorgrid.telemetry import partitions
    from sensorgrid.tenancy.models import Membership, Organization, Role, User

    quantities = list(Quantity.objects.filter(key__in=QUANTITIES))
    assert len(quantities) == len(QUANTITIES), "the quantity registry lacks a benchmark quantity"
    model = NodeModel.objects.create(organization=None, manufacturer="Bench", name="Bench sensor")
    model.quantities.add(*quantities)
    organizations = []
    for slug, count in (("bench-a", things), ("bench-b", max(1, round(things * other)))):
        organization = Organization.objects.create(name=slug, slug=slug)
        Node.objects.bulk_create(
            [
                Node(organization=organization, device_id=f"{slug}-{i:05d}", model=model)
                for i in range(count)
            ]
        )
        organizations.append(organization)
    alice = User.objects.create_user("alice", password="bench")
    Membership.objects.create(user=alice, organization=organizations[0], role=Role.OWNER)
    root = User.objects.create_user("root", password="bench", is_superuser=True, is_staff=True)
    _, alice_key = ApiToken.objects.issue(alice, "bench")
    _, root_key = ApiToken.objects.issue(root, "bench")

    if partitions.is_partitioned():
        partitions.ensure(back=14, ahead=1, today=YEAR_END.date())
    per_series = max(1, observations // (things * len(QUANTITIES)))
    step = (YEAR_END - YEAR_START) / per_series
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for organization in organizations:
            cursor.execute(
                """
                INSERT INTO telemetry_sample (node_id, quantity_id, ts, value)
                SELECT n.id, q.id, %s + (i * %s), round((random() * 1000)::numeric, 1)
                FROM inventory_node n
                CROSS JOIN (SELECT id FROM inventory_quantity WHERE key = ANY(%s)) q
                CROSS JOIN generate_series(0, %s - 1) i
                WHERE n.organization_id = %s
                """,
                [YEAR_START, step, QUANTITIES, per_series, organization.pk],
            )
    seeded = time.perf_counter() - started
    with connection.cursor() as cursor:
        # As a settled table is: statistics and the visibility map (index-only scans), for
        # the SQL floors and the endpoint alike.
        cursor.execute("VACUUM ANALYZE telemetry_sample")
    mirror.ensure()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM telemetry_sample")
        total = cursor.fetchone()[0]
    return {
        "organization": organizations[0].pk,
        "alice": alice_key,
        "root": root_key,
        "per_series": per_series,
        "samples": total,
        "seed_s": round(seeded, 1),
    }


def timed(function, repeat: int) -> dict:
    function()  # warm-up: plans, caches, the mirror check
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        durations.append((time.perf_counter() - started) * 1000)
    durations.sort()
    return {
        "p50_ms": round(statistics.median(durations), 2),
        "p95_ms": round(durations[max(0, int(len(durations) * 0.95) - 1)], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/sg_sta_bench")
    parser.add_argument("--things", type=int, default=500)
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--other", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    # One JSON line on stdout: no request log lines in between.
    os.environ.setdefault("SENSORGRID_LOG_LEVEL", "WARNING")
    recreate_database(args.database)
    setup_django(args.database)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from sensorgrid.sensorthings.models import Datastream

    world = seed(args.things, args.observations, args.other)
    load_before = [round(x, 1) for x in os.getloadavg()]
    alice = Client(HTTP_AUTHORIZATION=f"Token {world['alice']}", HTTP_HOST="localhost")
    root = Client(HTTP_AUTHORIZATION=f"Token {world['root']}", HTTP_HOST="localhost")
    stream = (
        Datastream.objects.filter(store="samples", organization_id=world["organization"])
        .order_by("pk")
        .first()
    )
    assert stream is not None, "the mirror made no samples Datastream"
    node, quantity = stream.node_id, stream.quantity_id

    def get(client, path: str) -> dict:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        return json.loads(response.content)

    def sql(statement: str, params: list):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall()

        return run

    def iso(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    results: dict = {}
    one = f"/sta/v1.1/Datastreams({stream.pk})/Observations"

    # 1. exact count of one Datastream's Observations
    answer = get(alice, f"{one}?$count=true&$top=1")
    assert answer["@iot.count"] == world["per_series"], answer["@iot.count"]
    results["count_one_datastream"] = {
        "sta": timed(lambda: get(alice, f"{one}?$count=true&$top=1"), args.repeat),
        "sql": timed(
            sql(
                "SELECT count(*) FROM telemetry_sample WHERE node_id = %s AND quantity_id = %s",
                [node, quantity],
            ),
            args.repeat,
        ),
    }

    # 2. exact count of every visible Observation (the tenant's samples)
    visible = get(alice, "/sta/v1.1/Observations?$count=true&$top=1")["@iot.count"]
    results["count_all_visible"] = {
        "count": visible,
        "sta": timed(lambda: get(alice, "/sta/v1.1/Observations?$count=true&$top=1"), args.repeat),
        "sql": timed(
            sql(
                "SELECT count(*) FROM telemetry_sample s JOIN inventory_node n ON n.id = s.node_id "
                "WHERE n.organization_id = %s",
                [world["organization"]],
            ),
            args.repeat,
        ),
    }

    # 3. one year of a Datastream, newest 100 (and a day wider: FROST #1877)
    for label, start in (
        ("range_one_year", YEAR_START),
        ("range_one_year_and_a_day", YEAR_START - timedelta(days=1)),
    ):
        expression = quote(f"phenomenonTime ge {iso(start)} and phenomenonTime lt {iso(YEAR_END)}")
        path = f"{one}?$filter={expression}&$orderby=phenomenonTime%20desc&$top=100"
        assert len(get(alice, path)["value"]) == min(100, world["per_series"])
        results[label] = {
            "sta": timed(lambda path=path: get(alice, path), args.repeat),
            "sql": timed(
                sql(
                    "SELECT ts, value FROM telemetry_sample WHERE node_id = %s "
                    "AND quantity_id = %s AND ts >= %s AND ts < %s ORDER BY ts DESC LIMIT 100",
                    [node, quantity, start, YEAR_END],
                ),
                args.repeat,
            ),
        }

    # 4. the latest Observation of every Thing (FROST #287), with its statement count
    latest = (
        "/sta/v1.1/Things?$top=1000&$expand=Datastreams($expand=Observations("
        "$orderby=phenomenonTime%20desc;$top=1))"
    )
    with CaptureQueriesContext(connection) as statements:
        body = get(alice, latest)
    assert len(body["value"]) == args.things
    results["latest_of_every_thing"] = {
        "things": len(body["value"]),
        "statements": len(statements.captured_queries),
        "sta": timed(lambda: get(alice, latest), max(3, args.repeat // 4)),
        "sql": timed(
            sql(
                "SELECT s.* FROM inventory_node n CROSS JOIN inventory_quantity q "
                "CROSS JOIN LATERAL (SELECT ts, value FROM telemetry_sample "
                "WHERE node_id = n.id AND quantity_id = q.id ORDER BY ts DESC LIMIT 1) s "
                "WHERE n.organization_id = %s AND q.key = ANY(%s)",
                [world["organization"], QUANTITIES],
            ),
            max(3, args.repeat // 4),
        ),
    }

    # 5. keyset paging: page 5 costs what page 1 costs
    first_page = f"{one}?$top=100&$orderby=phenomenonTime%20desc"
    link = first_page
    for _ in range(4):
        next_link = get(alice, link).get("@iot.nextLink")
        assert next_link, "fewer than five pages: seed more Observations"
        parts = urlsplit(next_link)
        link = f"{parts.path}?{parts.query}"
    page1 = timed(lambda: get(alice, first_page), args.repeat)
    page5 = timed(lambda: get(alice, link), args.repeat)
    results["paging"] = {
        "page1": page1,
        "page5": page5,
        "ratio_p50": round(page5["p50_ms"] / page1["p50_ms"], 2),
    }

    # 6. what the tenant wall costs: the same request as a member and as a superuser
    member = timed(lambda: get(alice, f"{one}?$count=true&$top=100"), args.repeat)
    superuser = timed(lambda: get(root, f"{one}?$count=true&$top=100"), args.repeat)
    results["tenant_filter"] = {
        "member": member,
        "superuser": superuser,
        "overhead_p50": round(member["p50_ms"] / superuser["p50_ms"] - 1, 3),
    }

    for item in results.values():
        if "sta" in item and "sql" in item:
            item["ratio_p50"] = round(item["sta"]["p50_ms"] / max(item["sql"]["p50_ms"], 0.01), 1)
    print(
        json.dumps(
            {
                "benchmark": "sta",
                "things": args.things,
                "observations": world["samples"],
                "per_datastream": world["per_series"],
                "seed_s": world["seed_s"],
                # the machine's load average (1, 5, 15 min) before and after the requests
                "load_before": load_before,
                "load_after": [round(x, 1) for x in os.getloadavg()],
                **results,
            }
        )
    )


if __name__ == "__main__":
    main()
