"""A throwaway Mosquitto with the dynamic security plugin per test (tests/support)."""

import pytest

from sensorgrid.brokerauth.dynsec import Dynsec
from sensorgrid.mqtt import parse
from tests.support.dynsec_broker import DynsecMosquitto


@pytest.fixture
def dynsec_broker(tmp_path, settings):
    """The broker, with the settings pointing SensorGrid's admin account at it."""
    broker = DynsecMosquitto(tmp_path / "dynsec").start()
    settings.SENSORGRID_MQTT_ADMIN_URL = broker.url
    settings.SENSORGRID_MQTT_ADMIN_USERNAME = broker.admin
    settings.SENSORGRID_MQTT_ADMIN_PASSWORD = broker.admin_password
    yield broker
    broker.stop()


@pytest.fixture
def dynsec(dynsec_broker):
    """An admin connection to ``dynsec_broker``'s plugin."""
    with Dynsec(parse(dynsec_broker.admin_url), timeout=10) as client:
        yield client
