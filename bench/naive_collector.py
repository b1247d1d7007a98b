"""The baseline: a collector as people write it by hand.

One MQTT subscriber (persistent session, QoS 1); for each message it parses the
JSON and INSERTs each value with autocommit; paho acknowledges when the callback
returns, so each message is acknowledged after its commit, like `sensorgrid ingest`.
Node and quantity ids are looked up once and kept in dicts (kinder than most scripts).

    python bench/naive_collector.py --broker-port 1883 --database postgres://… --idle-exit 2
"""

import argparse
import json
import threading
import time
from datetime import datetime

import paho.mqtt.client as paho
import psycopg
from paho.mqtt.enums import CallbackAPIVersion


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--broker-port", type=int, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--client-id", default="naive-collector")
    parser.add_argument("--idle-exit", type=float, default=2.0)
    args = parser.parse_args()

    db = psycopg.connect(args.database, autocommit=True)
    nodes = dict(db.execute("SELECT device_id, id FROM inventory_node").fetchall())
    quantities = dict(db.execute("SELECT key, id FROM inventory_quantity").fetchall())
    last_message = [time.monotonic()]
    subscribed = threading.Event()

    def on_connect(client, userdata, flags, reason_code, properties):
        client.subscribe("sensorgrid/+/up", qos=1)

    def on_subscribe(client, userdata, mid, reason_codes, properties):
        subscribed.set()

    def on_message(client, userdata, message):
        last_message[0] = time.monotonic()
        body = json.loads(message.payload)
        node = nodes[message.topic.split("/")[1]]
        ts = datetime.fromisoformat(body["ts"])
        for key, value in body["values"].items():
            db.execute(
                "INSERT INTO telemetry_sample (node_id, quantity_id, ts, value) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (node, quantities[key], ts, value),
            )

    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=args.client_id,
        clean_session=False,
    )
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect("127.0.0.1", args.broker_port)
    client.loop_start()
    subscribed.wait(10)
    last_message[0] = time.monotonic()
    while time.monotonic() - last_message[0] < args.idle_exit:
        time.sleep(0.1)
    client.disconnect()
    client.loop_stop()


if __name__ == "__main__":
    main()
