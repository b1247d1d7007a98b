"""Device list benchmark: /nodes/ and its CSV with 10,000 nodes of one organization.

    .venv/bin/python bench/node_list.py [--database postgres://postgres@127.0.0.1:5432/sg_devlist]
        [--nodes 10000] [--repeat 20]

Creates the nodes in a fresh database (a fifth installed in 200 rooms of 20 sites, a
twentieth with an open alert, statuses and last-seen times spread), signs in the owner
through Django's test client and times whole requests (middleware, queries, template)
for the first page, a late page, each sort, a search, filters and the CSV download.
Prints one JSON line: median and worst milliseconds per request.
"""

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

from common import recreate_database, setup_django

QUERIES = {
    "first page (name)": "/nodes/",
    "page 100": "/nodes/?page=100",
    "sort -last_seen": "/nodes/?sort=-last_seen",
    "sort status": "/nodes/?sort=status",
    "sort -alerts": "/nodes/?sort=-alerts",
    "search 'dev-00042'": "/nodes/?q=DEV-00042",
    "status=dead": "/nodes/?status=dead",
    "alerts=yes": "/nodes/?alerts=yes",
    "site filter": "/nodes/?site={site}",
    "room filter, -last_seen": "/nodes/?room={room}&sort=-last_seen",
}


def populate(count: int):
    from sensorgrid.alerts.models import Alert, AlertRule
    from sensorgrid.inventory.models import Installation, Node, NodeStatus, Quantity, Room, Site
    from sensorgrid.tenancy.models import Membership, Organization, Role, User

    owner = User.objects.create_user("owner", password="x")
    org = Organization.objects.create(name="Fleet", slug="fleet")
    Membership.objects.create(user=owner, organization=org, role=Role.OWNER)
    sites = Site.objects.bulk_create(Site(organization=org, name=f"site {i}") for i in range(20))
    rooms = Room.objects.bulk_create(Room(site=sites[i % 20], name=f"room {i}") for i in range(200))
    now = datetime.now(UTC)
    statuses = [NodeStatus.ALIVE] * 7 + [NodeStatus.MISSING, NodeStatus.DEAD, NodeStatus.UNKNOWN]
    nodes = Node.objects.bulk_create(
        Node(
            organization=org,
            device_id=f"dev-{i:05d}",
            alias=f"Sensor {i}" if i % 3 else "",
            status=statuses[i % 10],
            last_seen=None
            if statuses[i % 10] == NodeStatus.UNKNOWN
            else now - timedelta(seconds=i * 37),
        )
        for i in range(count)
    )
    start = now - timedelta(days=30)
    Installation.objects.bulk_create(
        Installation(node=node, room=rooms[i % 200], start=start)
        for i, node in enumerate(nodes[::5])
    )
    co2 = Quantity.objects.get(key="co2")
    rule = AlertRule.objects.create(
        organization=org, name="CO2", kind="threshold", params={"above": 1}, quantity=co2
    )
    Alert.objects.bulk_create(
        Alert(
            organization=org,
            rule=rule,
            node=node,
            quantity=co2,
            message="high",
            started_at=now,
            opened_at=now,
            last_value=2,
            last_ts=now,
        )
        for node in nodes[::20]
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return owner, sites[3].pk, rooms[7].pk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/sg_devlist")
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    recreate_database(args.database)
    setup_django(args.database)
    from django.test import Client

    owner, site, room = populate(args.nodes)
    client = Client()
    client.force_login(owner)
    result = {"nodes": args.nodes}
    paths = {**QUERIES, "CSV of all": "/nodes/export.csv"}
    for label, path in paths.items():
        path = path.format(site=site, room=room)
        times = []
        for _ in range(args.repeat if "CSV" not in label else max(3, args.repeat // 5)):
            begun = time.perf_counter()
            response = client.get(path, HTTP_HOST="localhost")
            if response.streaming:
                body = b"".join(response.streaming_content)
                assert body.count(b"\n") == args.nodes + 1, body.count(b"\n")
            assert response.status_code == 200, (path, response.status_code)
            times.append((time.perf_counter() - begun) * 1000)
        result[label] = {
            "median_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
