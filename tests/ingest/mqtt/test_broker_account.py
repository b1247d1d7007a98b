"""The broker account of the ingest service and the simulator: the URL's user, else
SENSORGRID_MQTT_USERNAME / SENSORGRID_MQTT_PASSWORD (the demo's password files)."""

import ssl

import pytest

from sensorgrid.ingest.mqtt.broker import from_settings
from sensorgrid.mqtt import Broker, make_client


def test_the_account_comes_from_settings_when_the_url_names_none(settings):
    settings.SENSORGRID_MQTT_USERNAME = "sensorgrid-ingest"
    settings.SENSORGRID_MQTT_PASSWORD = "from-a-file"
    broker = from_settings("mqtt://broker.example.org:1883")
    assert (broker.username, broker.password) == ("sensorgrid-ingest", "from-a-file")
    assert broker.display == "mqtt://sensorgrid-ingest@broker.example.org:1883"  # no password
    named = from_settings("mqtt://other:secret@broker.example.org:1883")
    assert (named.username, named.password) == ("other", "secret")


def test_tls_files_given_on_the_command_line_win_over_settings(settings, tmp_path):
    settings.SENSORGRID_MQTT_CA_FILE = "/etc/ssl/settings-ca.crt"
    broker = from_settings("mqtts://broker.example.org", ca_file=str(tmp_path / "ca.crt"))
    assert broker.tls and broker.port == 8883 and broker.ca_file == str(tmp_path / "ca.crt")


def test_a_tls_context_that_does_not_check_the_host_name_is_refused():
    context = ssl.create_default_context()
    context.check_hostname = False
    with pytest.raises(ValueError, match="name"):
        make_client(Broker("broker.example.org", 8883, tls=True), name="t", tls_context=context)
