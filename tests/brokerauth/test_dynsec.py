"""The dynamic security client against a real Mosquitto with the plugin."""

import os
import subprocess
import sys

import pytest

from sensorgrid.brokerauth.dynsec import Dynsec, DynsecError, admin_broker
from sensorgrid.env import ConfigurationError
from sensorgrid.mqtt import parse
from tests.servers import free_port
from tests.support.dynsec_broker import DynsecMosquitto
from tests.support.tls import Authority


def test_commands_go_in_batches_and_answer_in_order(dynsec):
    created = dynsec.execute(
        [{"command": "createRole", "rolename": f"sg-test-{i}"} for i in range(25)], batch=10
    )
    assert [response.command["rolename"] for response in created] == [
        f"sg-test-{i}" for i in range(25)
    ]
    roles = dynsec.run({"command": "listRoles", "count": -1})["roles"]
    assert {f"sg-test-{i}" for i in range(25)} <= set(roles)


def test_a_refused_command_names_itself_and_the_broker_error_but_no_password(dynsec):
    dynsec.execute([{"command": "createClient", "username": "node-1", "password": "s3cret"}])
    with pytest.raises(DynsecError) as refused:
        dynsec.execute([{"command": "createClient", "username": "node-1", "password": "s3cret"}])
    assert refused.value.error == "Client already exists"
    assert refused.value.command["username"] == "node-1"
    assert "createClient" in str(refused.value) and "node-1" in str(refused.value)
    assert "s3cret" not in str(refused.value)


def test_accepted_errors_do_not_stop_the_batch(dynsec):
    responses = dynsec.execute(
        [
            {"command": "deleteClient", "username": "node-404"},
            {"command": "createRole", "rolename": "sg-after"},
        ],
        accept={"Client not found"},
    )
    assert [response.error for response in responses] == ["Client not found", ""]
    assert dynsec.run({"command": "getRole", "rolename": "sg-after"})["role"]["rolename"]


def test_a_wrong_admin_password_is_a_clear_error(dynsec_broker):
    with pytest.raises(DynsecError, match="refused the admin login"):
        Dynsec(parse(dynsec_broker.url_for("admin", "wrong")), timeout=5).connect()


def test_a_broker_that_is_down_is_a_clear_error():
    with pytest.raises(DynsecError, match="cannot reach the broker"):
        Dynsec(parse(f"mqtt://admin:x@127.0.0.1:{free_port()}"), timeout=5).connect()


def test_the_admin_account_comes_from_settings(settings):
    settings.SENSORGRID_MQTT_URL = "mqtt://ingest:pw@broker.example:1883"
    settings.SENSORGRID_MQTT_ADMIN_URL = ""
    settings.SENSORGRID_MQTT_ADMIN_USERNAME = "admin"
    settings.SENSORGRID_MQTT_ADMIN_PASSWORD = "adminpw"
    broker = admin_broker()
    assert (broker.host, broker.port, broker.username, broker.password) == (
        "broker.example",
        1883,
        "admin",
        "adminpw",
    )
    settings.SENSORGRID_MQTT_ADMIN_URL = "mqtts://127.0.0.1:8883"
    assert admin_broker().tls and admin_broker().username == "admin"


def test_without_an_admin_account_it_says_what_to_set(settings):
    settings.SENSORGRID_MQTT_ADMIN_URL = ""
    settings.SENSORGRID_MQTT_ADMIN_USERNAME = ""
    with pytest.raises(ConfigurationError, match="SENSORGRID_MQTT_ADMIN_USERNAME"):
        admin_broker()


def test_the_admin_password_can_come_from_a_file(tmp_path):
    secret = tmp_path / "admin-password"
    secret.write_text("from-a-file\n")
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("SENSORGRID_MQTT")
    }
    environment["SENSORGRID_MQTT_ADMIN_PASSWORD_FILE"] = str(secret)
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from sensorgrid import settings; print(settings.SENSORGRID_MQTT_ADMIN_PASSWORD)",
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "from-a-file"


def test_the_admin_connects_over_tls_checked_against_the_configured_ca(tmp_path, settings):
    ca = Authority.make(tmp_path / "pki")
    server = ca.issue("broker", hosts=("127.0.0.1",))
    broker = DynsecMosquitto(tmp_path / "tls", tls=(server.cert, server.key)).start()
    try:
        settings.SENSORGRID_MQTT_ADMIN_URL = broker.url
        settings.SENSORGRID_MQTT_ADMIN_USERNAME = broker.admin
        settings.SENSORGRID_MQTT_ADMIN_PASSWORD = broker.admin_password
        settings.SENSORGRID_MQTT_CA_FILE = str(ca.cert)
        assert broker.url.startswith("mqtts://")
        with Dynsec.from_settings(timeout=10) as dynsec:
            assert "admin" in dynsec.run({"command": "listClients"})["clients"]

        stranger = Authority.make(tmp_path / "other", common_name="Someone else's CA")
        settings.SENSORGRID_MQTT_CA_FILE = str(stranger.cert)
        with pytest.raises(DynsecError, match=r"cannot reach the broker .*CERTIFICATE_VERIFY"):
            Dynsec.from_settings(timeout=5).connect()
    finally:
        broker.stop()
