"""The mosquitto.conf of docs/deployment.md works as printed: Mosquitto starts with it
(ports swapped for free ones, paths moved into a temporary directory, certificates from
a throwaway CA), refuses anonymous clients on both listeners, speaks TLS only on the
device port and lets the dynamic security admin in over TLS with the host name checked.
Edit the documented file and this test runs the edit."""

import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from sensorgrid.mqtt import Broker, make_client
from tests.servers import STAY_ROOT, free_port, wait_for_port
from tests.support.tls import Authority

DOC = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"
MARKER = "<!-- tests/brokerauth/test_documented_config.py starts Mosquitto with this file -->"
PLUGIN = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"


def documented() -> str:
    """The ```conf block right after the marker."""
    text = DOC.read_text()
    assert MARKER in text, "the marker above the documented mosquitto.conf is gone"
    found = re.match(r"\s*```conf\n(.*?)\n```", text.split(MARKER, 1)[1], re.DOTALL)
    assert found, "no ```conf block right after the marker"
    return found[1]


def test_the_documented_file_says_what_production_needs():
    lines = [line.strip() for line in documented().splitlines() if not line.startswith("#")]
    for required in (
        "listener 1883 127.0.0.1",
        "listener 8883",
        "allow_anonymous false",
        "max_queued_messages 0",
        "persistence true",
    ):
        assert required in lines, required
    assert not any(line.startswith(("password_file", "acl_file")) for line in lines)
    assert_packet_limit(lines)


def assert_packet_limit(lines: list[str]) -> None:
    """The broker bounds packets, above what the ingest takes by default (review R-5)."""
    from django.conf import settings

    from sensorgrid.ingest.mqtt.config import max_packet_size

    (limit,) = [int(line.split()[1]) for line in lines if line.startswith("max_packet_size ")]
    default = max_packet_size(settings.SENSORGRID_MQTT_MAX_MESSAGE_BYTES)
    assert default is not None and default <= limit < 16 * 1024 * 1024


@pytest.fixture
def broker(tmp_path):
    """Mosquitto with the documented file; yields (plain port, TLS port, admin, CA)."""
    ca = Authority.make(tmp_path / "pki")
    server = ca.issue("mqtt.example.org", hosts=("localhost",))
    clients_ca = Authority.make(tmp_path / "clients", common_name="Device CA")
    data = tmp_path / "lib"
    data.mkdir()
    admin_password = "documented-admin"
    ctrl = shutil.which("mosquitto_ctrl") or "/usr/bin/mosquitto_ctrl"
    subprocess.run(
        [ctrl, "dynsec", "init", str(data / "dynamic-security.json"), "sg-admin", admin_password],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    plain, tls = free_port(), free_port()
    config = documented()
    for documented_text, here in (
        ("listener 1883 127.0.0.1", f"listener {plain} 127.0.0.1"),
        ("listener 8883", f"listener {tls} 127.0.0.1"),  # no test listens on every address
        ("/etc/mosquitto/certs/mqtt.example.org.crt", str(server.cert)),
        ("/etc/mosquitto/certs/mqtt.example.org.key", str(server.key)),
        ("/etc/mosquitto/certs/clients-ca.crt", str(clients_ca.cert)),
        ("/var/lib/mosquitto/", f"{data}/"),
    ):
        assert documented_text in config, documented_text
        config = config.replace(documented_text, here)
    settings = [line for line in config.splitlines() if not line.startswith("#")]
    assert not any("/etc/" in line or "/var/" in line for line in settings), "a path not moved"
    path = tmp_path / "mosquitto.conf"
    path.write_text(
        config
        + f"\nlog_dest file {tmp_path}/mosquitto.log\n"
        + (STAY_ROOT if os.geteuid() == 0 else "")
    )
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    process = subprocess.Popen(
        [mosquitto, "-c", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        try:
            wait_for_port(plain)
            wait_for_port(tls)
        except AssertionError:
            process.kill()
            log = (
                (tmp_path / "mosquitto.log").read_text(errors="replace")
                if (tmp_path / "mosquitto.log").exists()
                else ""
            )
            raise AssertionError(
                f"Mosquitto did not start with the documented file: {process.stderr.read()!r} {log}"
            ) from None
        yield plain, tls, ("sg-admin", admin_password), ca
    finally:
        process.terminate()
        process.wait(15)


def connack(broker: Broker, timeout: float = 10) -> str:
    """The broker's answer to a CONNECT, or the connection error."""
    answered = threading.Event()
    answer: list[str] = []

    def on_connect(client, userdata, flags, reason_code, properties):
        answer.append(str(reason_code))
        answered.set()

    client = make_client(broker, name="test", callbacks={"on_connect": on_connect})
    try:
        client.start(wait=True)
    except OSError as exc:
        return f"error: {exc}"
    try:
        return answer[0] if answered.wait(timeout) else "no answer"
    finally:
        client.stop()


@pytest.mark.skipif(not Path(PLUGIN).exists(), reason="Mosquitto's dynamic security plugin")
def test_mosquitto_runs_the_documented_file(broker):
    plain, tls, (admin, password), ca = broker
    ca_file = str(ca.cert)
    # Nobody without an account, on either listener.
    assert connack(Broker("127.0.0.1", plain)) == "Not authorized"
    assert connack(Broker("localhost", tls, tls=True, ca_file=ca_file)) == "Not authorized"
    # The admin of the plugin, on the loopback and over TLS to the certificate's name.
    assert connack(Broker("127.0.0.1", plain, username=admin, password=password)) == "Success"
    over_tls = Broker(
        "localhost", tls, tls=True, ca_file=ca_file, username=admin, password=password
    )
    assert connack(over_tls) == "Success"
    # The device port speaks TLS only; its certificate names no other host.
    assert connack(Broker("127.0.0.1", tls, username=admin, password=password), 2) != "Success"
    mismatch = Broker(
        "127.0.0.1", tls, tls=True, ca_file=ca_file, username=admin, password=password
    )
    assert "mismatch" in connack(mismatch)
