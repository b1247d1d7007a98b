"""`sensorgrid broker sync` as an operator types it: the demo broker command hands it over."""

import os
import subprocess
import sys

SENSORGRID = [sys.executable, "-c", "from sensorgrid.cli import main; main()"]


def sensorgrid(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SENSORGRID, *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_broker_sync_on_the_command_line(dynsec_broker, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("SENSORGRID_")}
    env.update(
        SENSORGRID_DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        SENSORGRID_VAR_DIR=str(tmp_path),
        SENSORGRID_MQTT_URL=dynsec_broker.url_for("sg-ingest", "ingest-pw"),
        SENSORGRID_MQTT_ROUTES="sensorgrid/{device}/up=json",
        SENSORGRID_MQTT_ADMIN_USERNAME=dynsec_broker.admin,
        SENSORGRID_MQTT_ADMIN_PASSWORD=dynsec_broker.admin_password,
    )
    assert sensorgrid("migrate", "-v0", env=env).returncode == 0

    dry = sensorgrid("broker", "sync", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        "create role sg-ingest: publishClientReceive sensorgrid/+/up, "
        "subscribeLiteral sensorgrid/+/up",
        "create client sg-ingest: enabled",
        "change default publishClientReceive: deny",
        "3 change(s), 3 command(s) to apply (dry run: nothing changed)",
    ]
    applied = sensorgrid("broker", "sync", env=env)
    assert applied.stdout.splitlines()[-1] == "3 change(s), 3 command(s) applied"

    env["SENSORGRID_MQTT_ADMIN_PASSWORD"] = "wrong"
    refused = sensorgrid("broker", "sync", env=env)
    assert refused.returncode == 1
    assert "refused the admin login" in refused.stderr


def test_an_admin_named_sg_admin_survives_two_syncs(tmp_path):
    """The shipped configs name the admin sg-admin (an owned-looking name): sync must never
    delete it, nor a client that holds a role SensorGrid does not own."""
    from sensorgrid.brokerauth.dynsec import Dynsec
    from sensorgrid.mqtt import parse
    from tests.brokerauth.probe import Probe
    from tests.support.dynsec_broker import DynsecMosquitto

    broker = DynsecMosquitto(tmp_path / "dynsec", admin="sg-admin").start()
    try:
        with Dynsec(parse(broker.admin_url), timeout=10) as dynsec:
            dynsec.execute(
                [
                    {"command": "createRole", "rolename": "ops"},
                    {"command": "createClient", "username": "sg-ops", "password": "ops-pw"},
                    {"command": "addClientRole", "username": "sg-ops", "rolename": "ops"},
                ]
            )
        env = {k: v for k, v in os.environ.items() if not k.startswith("SENSORGRID_")}
        env.update(
            SENSORGRID_DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
            SENSORGRID_VAR_DIR=str(tmp_path),
            SENSORGRID_MQTT_URL=broker.url_for("sg-ingest", "ingest-pw"),
            SENSORGRID_MQTT_ROUTES="sensorgrid/{device}/up=json",
            SENSORGRID_MQTT_ADMIN_USERNAME=broker.admin,
            SENSORGRID_MQTT_ADMIN_PASSWORD=broker.admin_password,
        )
        assert sensorgrid("migrate", "-v0", env=env).returncode == 0
        first = sensorgrid("broker", "sync", env=env)
        assert first.returncode == 0, first.stderr
        assert "sg-admin" not in first.stdout and "sg-ops" not in first.stdout
        second = sensorgrid("broker", "sync", env=env)
        assert second.returncode == 0, second.stderr
        assert second.stdout.splitlines()[-1] == "in sync"

        for url in (broker.admin_url, broker.url_for("sg-ops", "ops-pw")):
            probe = Probe(url)
            assert probe.connect(), url
            probe.close()
    finally:
        broker.stop()


def test_an_admin_named_like_a_node_is_refused_at_start(settings):
    from sensorgrid.brokerauth import accounts

    settings.SENSORGRID_MQTT_ADMIN_USERNAME = "node-admin"
    assert [error.id for error in accounts.check_admin_username()] == ["brokerauth.E001"]
    settings.SENSORGRID_MQTT_ADMIN_USERNAME = "sg-admin"
    settings.SENSORGRID_MQTT_ADMIN_URL = "mqtt://node-1:pw@broker:1883"
    assert [error.id for error in accounts.check_admin_username()] == ["brokerauth.E001"]
    settings.SENSORGRID_MQTT_ADMIN_URL = ""
    assert accounts.check_admin_username() == []
