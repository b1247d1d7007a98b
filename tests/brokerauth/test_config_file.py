"""Syncing the plugin's file of a stopped broker ends where a live sync ends."""

import json

import pytest
from django.core.management import call_command

from sensorgrid.brokerauth import accounts, config_file
from sensorgrid.brokerauth.dynsec import Dynsec
from sensorgrid.mqtt import parse
from tests import factories as f
from tests.brokerauth.probe import Probe
from tests.support.dynsec_broker import DynsecMosquitto

pytestmark = pytest.mark.django_db


@pytest.fixture
def stopped(tmp_path, settings):
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json"]
    settings.SENSORGRID_MQTT_URL = "mqtt://sg-ingest:ingestpw@127.0.0.1:1883"
    broker = DynsecMosquitto(tmp_path / "broker")  # initialised, not started
    yield broker
    broker.stop()


def test_a_file_synced_offline_is_what_the_broker_enforces(stopped):
    a1, a2 = f.NodeFactory(device_id="a1"), f.NodeFactory(device_id="a2")
    credential = a1.issue_credential()
    a1.save()
    a2.issue_credential()
    a2.save()
    path = stopped.directory / "dynamic-security.json"
    data = config_file.read(path)
    result = accounts.diff(
        accounts.desired(), config_file.state(data), {a1.broker_username: credential}
    )
    assert result.waiting == [a2.broker_username]
    config_file.write(path, config_file.apply(data, result.commands))

    stopped.start()
    device = Probe(stopped.url_for(a1.broker_username, credential))
    assert device.connect()
    assert not device.publish("sensorgrid/a1/up", "{}")[1]
    assert device.publish("sensorgrid/a2/up", "{}") == ("Not authorized", True)
    device.close()
    assert Probe(stopped.url_for("sg-ingest", "ingestpw")).connect()
    assert not Probe(stopped.url_for(a2.broker_username, "anything")).connect()
    with Dynsec(parse(stopped.admin_url), timeout=10) as dynsec:  # the admin is intact
        live = accounts.diff(accounts.desired(), accounts.actual(dynsec))
    assert not live and live.waiting == [a2.broker_username]


def test_the_command_syncs_the_file_and_a_second_run_is_in_sync(stopped, capsys):
    node = f.NodeFactory(device_id="a1")
    node.issue_credential()
    node.save()
    path = stopped.directory / "dynamic-security.json"
    before = path.read_text()
    call_command("broker_sync", "--config-file", str(path), "--dry-run")
    assert path.read_text() == before
    out = capsys.readouterr().out.splitlines()
    assert f"create client {node.broker_username}: disabled" in out

    call_command("broker_sync", "--config-file", str(path))
    capsys.readouterr()
    call_command("broker_sync", "--config-file", str(path))
    assert capsys.readouterr().out.splitlines()[0] == "in sync"
    names = [client["username"] for client in json.loads(path.read_text())["clients"]]
    assert names == ["admin", node.broker_username, "sg-ingest"]
    assert path.stat().st_mode & 0o077 == 0


def test_a_file_that_is_not_the_plugins_is_a_clear_error(tmp_path):
    from django.core.management.base import CommandError

    wrong = tmp_path / "mosquitto.conf"
    wrong.write_text("listener 1883\n")
    with pytest.raises(CommandError, match="mosquitto_ctrl dynsec init"):
        call_command("broker_sync", "--config-file", str(wrong))
