"""The baseline of bench/http_ingest.py: an HTTP batch collector as a careful person writes
it by hand, the HTTP twin of ``../shared/bench/batched_collector.py``.

A bare ASGI app under the same uvicorn (httptools, uvloop, one process per worker):
``Authorization: Bearer <credential>`` looked up in a dict loaded at start, the
body parsed with orjson, every message's device checked against the credential's,
the rows COPYed into a temporary stage table and inserted ``ON CONFLICT DO NOTHING``
(idempotent, answered after commit), ``{"accepted", "duplicates"}`` as the answer.
None of SensorGrid's features: no validation of quantities, ranges or timestamps, no
dead letters, no rollups, no latest values, no last_seen, no rate limit, no middleware.

    REF_DSN=postgres://… REF_CREDENTIALS=/tmp/credentials.json \
        .venv/bin/python -m uvicorn --app-dir bench http_reference:app --workers 2

``REF_CREDENTIALS`` maps each credential to its device id and node id; the table
``ref_sample`` (node_id, quantity_id, ts, value; primary key the first three) is
created by bench/http_ingest.py.
"""

import asyncio
import json
import os

import orjson
import psycopg

QUANTITIES = {"co2": 1, "temperature": 2, "humidity": 3}
STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS ref_stage "
    "(node_id int, quantity_id int, ts timestamptz, value double precision) "
    "ON COMMIT DELETE ROWS"
)
MERGE = "INSERT INTO ref_sample SELECT * FROM ref_stage ON CONFLICT DO NOTHING"
CONNECTIONS = 4

credentials: dict[bytes, tuple[str, int]] = {}
pool: asyncio.Queue = asyncio.Queue()


async def startup() -> None:
    with open(os.environ["REF_CREDENTIALS"]) as f:
        for credential, (device, node_id) in json.load(f).items():
            credentials[credential.encode()] = (device, node_id)
    for _ in range(CONNECTIONS):
        conn = await psycopg.AsyncConnection.connect(os.environ["REF_DSN"])
        await conn.execute(STAGE)
        await conn.commit()
        pool.put_nowait(conn)


async def answer(send, status: int, body: dict) -> None:
    payload = orjson.dumps(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"] == "/healthz":
        await answer(send, 200, {"ok": True})
        return
    authorization = dict(scope["headers"]).get(b"authorization", b"")
    sender = credentials.get(authorization.removeprefix(b"Bearer "))
    if sender is None:
        await answer(send, 401, {"detail": "unknown credential"})
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    try:
        body = orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError:
        await answer(send, 400, {"detail": "not JSON"})
        return
    device, node_id = sender
    rows = []
    for m in body if isinstance(body, list) else [body]:
        if m["device"] != device:
            await answer(send, 403, {"detail": "another device"})
            return
        for key, value in m["values"].items():
            rows.append((node_id, QUANTITIES[key], m["ts"], value))
    conn = await pool.get()
    try:
        async with conn.transaction(), conn.cursor() as cur:
            async with cur.copy("COPY ref_stage FROM STDIN") as copy:
                for row in rows:
                    await copy.write_row(row)
            await cur.execute(MERGE)
            inserted = cur.rowcount
    finally:
        pool.put_nowait(conn)
    await answer(send, 200, {"accepted": inserted, "duplicates": len(rows) - inserted})
