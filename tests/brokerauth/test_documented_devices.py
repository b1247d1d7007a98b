"""The device examples of docs/devices.md run as printed: the paho program and the
mosquitto_pub line publish over TLS (a throwaway CA, the host name checked) to a
Mosquitto whose only account is the documented node's, and the message arrives where
the ingest service would read it. Only the broker's address, the CA file and the
password are replaced."""

import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sensorgrid.mqtt import Broker, make_client
from tests.servers import wait_for_port
from tests.support.tls import Authority, mosquitto_tls

DOC = Path(__file__).resolve().parents[2] / "docs" / "devices.md"
CREDENTIAL = "sgn_documented-credential"


def block(after: str, language: str) -> str:
    """The first ```language block after the line ``after``."""
    text = DOC.read_text()
    assert after in text, f"{after!r} is gone from docs/devices.md"
    found = re.search(rf"```{language}\n(.*?)\n```", text.split(after, 1)[1], re.DOTALL)
    assert found, f"no ```{language} block after {after!r}"
    return found[1]


@pytest.fixture
def broker(tmp_path):
    """TLS Mosquitto for ``localhost`` letting in node-42 / CREDENTIAL only; (port, CA, log)."""
    ca = Authority.make(tmp_path / "pki")
    server = ca.issue("broker", hosts=("localhost",))
    mosquitto = mosquitto_tls(tmp_path / "mosquitto", ca, server)
    conf = mosquitto.directory / "mosquitto.conf"
    passwords = mosquitto.directory / "passwd"
    passwords.write_text(f"node-42:{CREDENTIAL}\n")
    subprocess.run(
        [shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd", "-U", str(passwords)],
        check=True,
    )
    conf.write_text(
        conf.read_text().replace("allow_anonymous true", "allow_anonymous false")
        + f"password_file {passwords}\n"
    )
    mosquitto.start()
    wait_for_port(mosquitto.port)
    received: list[tuple[str, bytes]] = []
    subscribed = threading.Event()
    listener = make_client(
        Broker(
            "localhost",
            mosquitto.port,
            tls=True,
            ca_file=str(ca.cert),
            username="node-42",
            password=CREDENTIAL,
        ),
        name="listener",
        callbacks={
            "on_connect": lambda c, *_: c.subscribe("sensorgrid/#", qos=1),
            "on_subscribe": lambda *_: subscribed.set(),
            "on_message": lambda c, u, m: received.append((m.topic, m.payload)),
        },
    )
    listener.start(wait=True)
    assert subscribed.wait(10)
    try:
        yield mosquitto.port, ca.cert, received
    finally:
        listener.stop()
        mosquitto.stop()


def arrived(received, topic: str) -> bytes:
    done = threading.Event()
    for _ in range(100):
        if any(t == topic for t, _ in received):
            return next(payload for t, payload in received if t == topic)
        done.wait(0.05)
    raise AssertionError(f"nothing arrived on {topic}: {received}")


def test_the_paho_example_publishes_over_tls(broker, tmp_path):
    port, ca, received = broker
    program = block("With paho-mqtt 2.x (Python):", "python")
    for documented, here in (
        ('"sgn_…"', repr(CREDENTIAL)),
        ('"ca.crt"', repr(str(ca))),
        ('client.connect("mqtt.example.org", 8883)', f'client.connect("localhost", {port})'),
    ):
        assert documented in program, documented
        program = program.replace(documented, here)
    script = tmp_path / "device.py"
    script.write_text(program + "\nassert info.is_published(), 'no PUBACK'\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert b'"co2": 612' in arrived(received, "sensorgrid/co2-7/up")


def test_the_mosquitto_pub_example_publishes_over_tls(broker):
    port, ca, received = broker
    command = block("With `mosquitto_pub` (Debian: `mosquitto-clients`):", "sh")
    for documented, here in (
        ("-h mqtt.example.org -p 8883", f"-h localhost -p {port}"),
        ("--cafile ca.crt", f"--cafile {ca}"),
    ):
        assert documented in command, documented
        command = command.replace(documented, here)
    done = subprocess.run(
        ["sh", "-c", command],
        env={"CREDENTIAL": CREDENTIAL, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert b'"co2": 612' in arrived(received, "sensorgrid/co2-7/up")
