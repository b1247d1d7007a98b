"""HTTP batch ingest (issue 24, target 2): 4 sender processes → ``sensorgrid serve --workers 2``.

    .venv/bin/python bench/http_ingest.py [--batches 400] [--repeat 1] [--database postgres://…]

One run, real PostgreSQL, a fresh database. Three servers, one after the other, each
taking the same number of batches of 500 readings (250 messages of co2 and temperature,
20 nodes with their own node credentials, the workload of bench/store.py) from
``--senders`` processes at once, each on a keep-alive connection of its own:

- ``reference``: the baseline, ``bench/http_reference.py`` under the same uvicorn with
  the same workers — a hand-written collector (orjson, COPY, ``ON CONFLICT DO NOTHING``,
  answer after commit) without any of SensorGrid's features;
- ``json``: ``sensorgrid serve``, ``POST /api/v1/ingest/`` (SensorGrid JSON);
- ``influx``: ``sensorgrid serve``, ``POST /api/v2/write`` with the same readings as line
  protocol, gzip, ``Authorization: Token``, as Telegraf sends them.

Bodies are built before the clock starts (by the parent, handed to each sender in a
file); each sender posts one body untimed first (connection, the server's first
credential lookup), then waits for the common start. The clock runs from the start to
the last answer of the last sender; every answer is checked (200 with every value
accepted, 204 for line protocol) and the stored rows are counted afterwards. CPU per
process group from /proc/<pid>/stat (utime + stime) over the same window: the
senders, the server (uvicorn's parent and its workers), the PostgreSQL backends
connected to the database (the bench's own excluded; the WAL writer and checkpointer,
shared with the machine, are not counted). Prints one JSON line with readings/s,
CPU µs per reading of each group, each worker's share of the server's CPU (the
kernel hands the four connections to the two workers: 3:1 is possible) and the load
average before and after.
"""

import argparse
import gzip
import http.client
import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import (
    ROOT,
    TICK,
    descendants,
    free_port,
    recreate_database,
    setup_django,
    ticks,
    wait_healthy,
)

NODES = 20

JSON = ("/api/v1/ingest/", "Bearer", {"Content-Type": "application/json"}, 200)
INFLUX = (
    "/api/v2/write?org=bench&bucket=bench&precision=ns",
    "Token",
    {"Content-Type": "text/plain; charset=utf-8", "Content-Encoding": "gzip"},
    204,
)


def fixtures() -> list[tuple[str, str, int]]:
    """20 nodes with node credentials: (device id, credential, node id)."""
    from django.db import connection

    from sensorgrid.inventory.models import Node
    from sensorgrid.tenancy.models import Organization

    org = Organization.objects.create(name="Bench", slug="bench")
    nodes = []
    for i in range(NODES):
        node = Node(organization=org, device_id=f"bench-{i:03d}")
        credential = node.issue_credential()
        node.save()
        nodes.append((node.device_id, credential, node.pk))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE ref_sample (node_id int, quantity_id int, ts timestamptz, "
            "value double precision, PRIMARY KEY (node_id, quantity_id, ts))"
        )
    return nodes


def bodies(nodes, start: datetime, batches: int, batch_size: int, fmt: str) -> list:
    """(credential, body) per batch; batch b is node b % 20's, its own minutes."""
    made = []
    for b in range(batches):
        device, credential, _ = nodes[b % len(nodes)]
        base = start + timedelta(minutes=b * batch_size // 2)
        readings = [
            (base + timedelta(seconds=30 * i), 400 + i % 600, 20 + (i % 50) / 10)
            for i in range(batch_size // 2)
        ]
        if fmt == "influx":
            lines = "".join(
                f"air,device={device} co2={co2}i,temperature={t} {int(ts.timestamp()) * 10**9}\n"
                for ts, co2, t in readings
            )
            made.append((credential, gzip.compress(lines.encode())))
        else:
            messages = [
                {"device": device, "ts": ts.isoformat(), "values": {"co2": co2, "temperature": t}}
                for ts, co2, t in readings
            ]
            made.append((credential, json.dumps(messages).encode()))
    return made


def start_server(
    kind: str, database: str, workers: int, work: Path
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "SENSORGRID_DATABASE_URL": database,
        "SENSORGRID_INGEST_RATE": "100000/sec",
        "SENSORGRID_LOG_LEVEL": "WARNING",
        "REF_DSN": database,
        "REF_CREDENTIALS": str(work / "credentials.json"),
    }
    if kind == "reference":
        command = [
            *(sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "bench")),
            *("http_reference:app", "--port", str(port), "--workers", str(workers)),
            *("--loop", "uvloop", "--http", "httptools", "--no-access-log"),
            *("--log-level", "warning"),
        ]
    else:
        command = [
            *(sys.executable, "-m", "sensorgrid", "serve"),
            *("--port", str(port), "--workers", str(workers)),
        ]
    log = open(work / f"{kind}-server.log", "w")  # noqa: SIM115 (the server's lifetime)
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_healthy(process, port, timeout=180)  # two workers importing Django on a loaded machine
    return process, port


def run(
    kind: str, args, work: Path, shares: list[list], fmt, count_sql: str, expected: int
) -> dict:
    """One server, the senders at once; readings/s and CPU per reading per group."""
    import psycopg

    server, port = start_server(kind, args.database, args.workers, work)
    poll = psycopg.connect(args.database, autocommit=True)
    own = poll.execute("SELECT pg_backend_pid()").fetchone()[0]
    database = args.database.rsplit("/", 1)[1]
    before = poll.execute(count_sql).fetchone()[0]
    senders = []
    try:
        for k, share in enumerate(shares):
            path = work / f"{kind}-{k}.pickle"
            path.write_bytes(pickle.dumps((fmt, share)))
            senders.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--send", str(path), "--port", str(port)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for sender in senders:  # each has posted its untimed first body
            if sender.stdout.readline().strip() != "ready":
                raise RuntimeError("a sender failed before the start")
        workers = descendants(server.pid)
        backends = [
            pid
            for (pid,) in poll.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                (database, own),
            ).fetchall()
        ]
        groups = {
            "senders": [s.pid for s in senders],
            "server": [server.pid, *workers],
            "postgres": backends,
        }
        profilers = [
            subprocess.Popen(
                [
                    *(str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid)),
                    *("-r", "200", "-f", "raw", "--nonblocking", "-o"),
                    str(Path(args.profile) / f"{kind}-{pid}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid in (workers or [server.pid] if args.profile else [])
        ]
        started = {p: ticks(p) for pids in groups.values() for p in pids}
        began = time.perf_counter()
        for sender in senders:
            sender.stdin.write("go\n")
            sender.stdin.flush()
        reports = [json.loads(sender.stdout.readline()) for sender in senders]
        elapsed = time.perf_counter() - began
        # backends the pool opened during the window count from zero
        backends += [
            pid
            for (pid,) in poll.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                (database, own),
            ).fetchall()
            if pid not in backends
        ]
        groups["postgres"] = backends
        used = {
            group: sum(ticks(p) - started.get(p, 0) for p in pids) / TICK
            for group, pids in groups.items()
        }
        per_worker = [(ticks(p) - started.get(p, 0)) / TICK for p in workers]
        for profiler in profilers:  # py-spy writes its samples when interrupted
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=60)
        for sender in senders:
            sender.wait(timeout=60)
        failures = [r["failure"] for r in reports if r.get("failure")]
        if failures:
            raise RuntimeError(f"{kind}: {failures[0]}")
        timed = sum(r["readings"] for r in reports)
        stored = poll.execute(count_sql).fetchone()[0] - before
        if stored != expected:
            raise RuntimeError(f"{kind}: {stored} rows stored, {expected} sent")
    finally:
        for sender in senders:
            if sender.poll() is None:
                sender.kill()
        server.terminate()
        server.wait(timeout=20)
        poll.close()
    total = sum(used.values())
    return {
        "readings_per_s": round(timed / elapsed),
        "cpu_us_per_reading": {g: round(s * 1e6 / timed, 1) for g, s in used.items()},
        "cpu_us_per_reading_all": round(total * 1e6 / timed, 1),
        "cores": {g: round(s / elapsed, 2) for g, s in used.items()},
        "worker_cpu_share": sorted(round(w / max(sum(per_worker), 1e-9), 2) for w in per_worker),
    }


def send(path: str, port: int) -> None:
    """A sender process: post the first body untimed, say ready, wait for go, post the rest."""
    fmt, share = pickle.loads(Path(path).read_bytes())
    where, scheme, headers, expected = INFLUX if fmt == "influx" else JSON
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    readings, failure = 0, None

    def post(credential: str, body: bytes, size: int) -> None:
        conn.request(
            "POST", where, body=body, headers={"Authorization": f"{scheme} {credential}", **headers}
        )
        response = conn.getresponse()
        answer = response.read()
        if response.status != expected:
            raise RuntimeError(f"{response.status} {answer[:300]!r}")
        if expected == 200 and json.loads(answer)["accepted"] != size:
            raise RuntimeError(f"not all accepted: {answer[:300]!r}")

    try:
        (credential, body, size), *timed = share
        post(credential, body, size)
        print("ready", flush=True)
        sys.stdin.readline()
        for credential, body, size in timed:
            post(credential, body, size)
            readings += size
    except Exception as exc:  # reported to the parent, which withholds the figure
        failure = f"{type(exc).__name__}: {exc}"
    print(json.dumps({"readings": readings, "failure": failure}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/sg_bench_http")
    parser.add_argument("--batches", type=int, default=400, help="timed batches per server")
    parser.add_argument("--batch-size", type=int, default=500, help="readings per batch")
    parser.add_argument("--senders", type=int, default=4, help="sender processes")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the three servers")
    parser.add_argument(
        "--only", default="reference,json,influx", help="which servers, comma-separated"
    )
    parser.add_argument(
        "--profile",
        help="directory: py-spy samples each server process over the timed window "
        "(collapsed stacks, one file per process; costs the server a little CPU)",
    )
    parser.add_argument("--send", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        send(args.send, args.port)
        return
    load_before = os.getloadavg()
    recreate_database(args.database)
    setup_django(args.database)
    nodes = fixtures()
    work = Path(tempfile.mkdtemp(prefix="sg-bench-http-"))
    (work / "credentials.json").write_text(json.dumps({c: (d, pk) for d, c, pk in nodes}))
    kinds = args.only.split(",")
    # Each run writes its own minutes, all in the past: nothing is a duplicate.
    per_run = args.batches + args.senders
    span = per_run * (args.batch_size // 2) // 1440 + 2
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(
        days=span * (len(kinds) * args.repeat + 1)
    )
    results: dict[str, list[dict]] = {kind: [] for kind in kinds}
    number = 0
    for _ in range(args.repeat):
        for kind in kinds:
            fmt = "influx" if kind == "influx" else "json"
            made = bodies(
                nodes, start + timedelta(days=span * number), per_run, args.batch_size, fmt
            )
            number += 1
            shares = [
                [(c, b, args.batch_size) for c, b in made[k :: args.senders]]
                for k in range(args.senders)
            ]
            table = "ref_sample" if kind == "reference" else "telemetry_sample"
            results[kind].append(
                run(
                    kind,
                    args,
                    work,
                    shares,
                    fmt,
                    f"SELECT count(*) FROM {table}",
                    per_run * args.batch_size,
                )
            )
    best = {kind: max(runs, key=lambda r: r["readings_per_s"]) for kind, runs in results.items()}
    out = {
        "bench": "http_ingest",
        "database": "postgresql",
        "senders": args.senders,
        "workers": args.workers,
        "batch_size": args.batch_size,
        "batches": args.batches,
        "repeat": args.repeat,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        **{f"{kind}_readings_per_s": best[kind]["readings_per_s"] for kind in kinds},
    }
    if "reference" in best:
        for kind in kinds:
            if kind != "reference":
                out[f"{kind}_vs_reference"] = round(
                    best[kind]["readings_per_s"] / best["reference"]["readings_per_s"], 2
                )
    if "json" in best and "influx" in best:
        out["influx_vs_json"] = round(
            best["influx"]["readings_per_s"] / best["json"]["readings_per_s"], 2
        )
    out["runs"] = results
    print(json.dumps(out))


if __name__ == "__main__":
    main()
