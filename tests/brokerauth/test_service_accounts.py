"""Service accounts at a real plugin broker: the ingest service and MQTT alert channels."""

import pytest

from sensorgrid.alerts.models import Channel, ChannelKind
from sensorgrid.brokerauth import accounts
from tests import factories as f
from tests.brokerauth.probe import Probe

pytestmark = pytest.mark.django_db


def sync(dynsec):
    result = accounts.diff(accounts.desired(), accounts.actual(dynsec))
    dynsec.execute(result.commands)
    return result


def logs_in(url: str) -> bool:
    probe = Probe(url)
    try:
        return probe.connect()
    finally:
        probe.close()


@pytest.fixture
def broker(dynsec_broker, settings):
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json"]
    settings.SENSORGRID_MQTT_URL = dynsec_broker.url_for("sg-ingest", "first")
    return dynsec_broker


def test_a_new_ingest_password_is_drift_and_is_set(broker, dynsec, settings):
    sync(dynsec)
    assert logs_in(broker.url_for("sg-ingest", "first"))
    settings.SENSORGRID_MQTT_URL = broker.url_for("sg-ingest", "second")
    drift = sync(dynsec)
    assert [str(change) for change in drift.changes] == ["change client sg-ingest: new password"]
    assert logs_in(broker.url_for("sg-ingest", "second"))
    assert not logs_in(broker.url_for("sg-ingest", "first"))
    assert not sync(dynsec)


def channel(topic: str, username: str | None = None, password: str = "channel-pw") -> Channel:
    made = Channel.objects.create(
        organization=f.OrganizationFactory(), name="to our broker", kind=ChannelKind.MQTT
    )
    made.config = {
        "url": f"mqtt://{username or f'sg-channel-{made.pk}'}@127.0.0.1:1883",
        "topic": topic,
        "password": password,
    }
    made.save()
    return made


def test_a_channel_publishes_on_its_topic_only(broker, dynsec):
    alerts = channel("alerts/org-a")
    sync(dynsec)
    url = broker.url_for(f"sg-channel-{alerts.pk}", "channel-pw")
    probe = Probe(url)
    assert probe.connect()
    assert not probe.publish("alerts/org-a", "{}")[1]
    assert probe.publish("alerts/org-b", "{}") == ("Not authorized", True)
    probe.close()


def test_a_channel_may_not_publish_where_the_ingest_reads_devices(broker, dynsec):
    forged = channel("sensorgrid/someone-elses-device/up")
    sync(dynsec)
    probe = Probe(broker.url_for(f"sg-channel-{forged.pk}", "channel-pw"))
    assert probe.connect()
    assert probe.publish("sensorgrid/someone-elses-device/up", "{}") == ("Not authorized", True)
    probe.close()


@pytest.mark.parametrize("username", ["node-1", "sg-ingest", "admin", "alerts"])
def test_a_channel_cannot_take_over_another_account(broker, dynsec, username):
    channel("alerts/x", username=username, password="takeover")
    sync(dynsec)
    assert not logs_in(broker.url_for(username, "takeover"))
    assert logs_in(broker.admin_url)
    assert logs_in(broker.url_for("sg-ingest", "first"))


def test_a_deleted_or_disabled_channel_loses_its_account(broker, dynsec):
    gone, off = channel("alerts/a"), channel("alerts/b")
    sync(dynsec)
    gone_name, off_name = f"sg-channel-{gone.pk}", f"sg-channel-{off.pk}"
    gone.delete()
    off.enabled = False
    off.save()
    assert sorted(str(change) for change in sync(dynsec).changes) == sorted(
        [
            f"delete client {gone_name}",
            f"delete client {off_name}",
            f"delete role {gone_name}",
            f"delete role {off_name}",
        ]
    )
    assert not logs_in(broker.url_for(off_name, "channel-pw"))
    assert not sync(dynsec)


@pytest.mark.parametrize("username", ["node-1", "sg-channel-1", "admin"])
def test_the_ingest_url_cannot_name_a_node_a_channel_or_the_admin(settings, username):
    settings.SENSORGRID_MQTT_ADMIN_USERNAME = "admin"
    settings.SENSORGRID_MQTT_URL = f"mqtt://{username}:pw@127.0.0.1:1883"
    assert accounts.services().accounts == {}
