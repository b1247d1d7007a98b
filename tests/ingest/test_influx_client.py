"""The ``influxdb-client`` library, unchanged, against a live SensorGrid (issue 18, item 11).

As a Telegraf or application user would: the client's own Point, record and dict
forms, its escaping, its precisions and its gzip, over real HTTP.
"""

import gzip
import re
import tomllib
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from sensorgrid.ingest.models import IngestKey
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests import factories as f
from tests.ingest.conftest import hours_ago

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WHEN = hours_ago(1)


@pytest.fixture
def key(world) -> str:
    holder = IngestKey(organization=world.org_a, name="influx client")
    secret = holder.issue()
    holder.save()
    return secret


def stored() -> list[tuple[str, str, float]]:
    rows = Sample.objects.order_by("node__device_id", "quantity__key", "ts")
    return [(row.node.device_id, row.quantity.key, row.value) for row in rows]


@pytest.mark.parametrize("gzip", [False, True])
def test_points_records_and_dicts_are_stored(world, live_server, key, gzip):
    # A device id that needs every escape of a tag value.
    hall = f.NodeFactory(organization=world.org_a, device_id="hall 2,east=1").device_id
    device = world.node_a.device_id
    with InfluxDBClient(url=live_server.url, token=key, org="acme", enable_gzip=gzip) as client:
        api = client.write_api(write_options=SYNCHRONOUS)
        point = (
            Point("air")
            .tag("device", device)
            .tag("site", "school")
            .field("co2", 612)
            .field("temperature", 21.4)
            .time(WHEN, WritePrecision.S)
        )
        api.write(bucket="sensors", record=point, write_precision=WritePrecision.S)
        api.write(
            bucket="sensors",
            record=f"air,device={device} humidity=41i {int(WHEN.timestamp() * 1000)}",
            write_precision=WritePrecision.MS,
        )
        api.write(
            bucket="sensors",
            record={
                "measurement": "co2",
                "tags": {"device": hall},
                "fields": {"value": 700.0},
                "time": WHEN,
            },
        )
    assert stored() == [
        ("hall 2,east=1", "co2", 700),
        (device, "co2", 612),
        (device, "humidity", 41),
        (device, "temperature", 21.4),
    ]
    assert {row.ts for row in Sample.objects.all()} == {WHEN}
    assert not DeadLetter.objects.exists()


def test_a_refused_line_raises_400_naming_it_and_the_rest_is_stored(world, live_server, key):
    device = world.node_a.device_id
    with InfluxDBClient(url=live_server.url, token=key, org="acme") as client:
        api = client.write_api(write_options=SYNCHRONOUS)
        records = [
            Point("air").tag("device", device).field("co2", 600).time(WHEN),
            Point("air").tag("device", device).field("temperature", "warm").time(WHEN),
        ]
        with pytest.raises(ApiException) as caught:
            api.write(bucket="sensors", record=records)
    assert caught.value.status == 400
    assert "partial write: line 2: invalid-value: temperature: 'warm' is not a number" in (
        caught.value.body
    )
    assert stored() == [(device, "co2", 600)]
    assert DeadLetter.objects.get().reason == "invalid-value"


def test_a_wrong_token_raises_401(world, live_server):
    with InfluxDBClient(url=live_server.url, token="not-a-credential", org="acme") as client:
        api = client.write_api(write_options=SYNCHRONOUS)
        with pytest.raises(ApiException) as caught:
            api.write(bucket="sensors", record="air,device=x co2=1")
    assert caught.value.status == 401
    assert not Sample.objects.exists()


def test_the_telegraf_configuration_in_the_docs_writes_as_telegraf_would(world, live_server):
    """docs/devices.md's telegraf.conf, carried out as Telegraf does: global tags and its
    host tag, processors.rename, the output's fieldinclude, a gzip body of lines in ns,
    ``{url}/api/v2/write?bucket=…&org=…`` with ``Authorization: Token``."""
    docs = (Path(__file__).parents[2] / "docs" / "devices.md").read_text(encoding="utf-8")
    config = tomllib.loads(re.search(r"```toml\n(# /etc/telegraf.*?)```", docs, re.S)[1])
    output = config["outputs"]["influxdb_v2"][0]
    node = f.NodeFactory(organization=world.org_a, device_id=config["global_tags"]["device"])
    credential = node.issue_credential()
    node.save(update_fields=["credential_digest"])
    token = output["token"].replace("${INGEST_TOKEN}", credential)

    gathered = {"co2": "612i", "temp": "21.4", "humidity": "41.5", "uptime": "3600i"}
    for rename in config["processors"]["rename"][0]["replace"]:
        gathered[rename["dest"]] = gathered.pop(rename["field"])
    fields = {k: v for k, v in gathered.items() if k in output["fieldinclude"]}
    tags = {**config["global_tags"], "host": "gateway-101"}
    line = (
        "air,"
        + ",".join(f"{k}={v}" for k, v in sorted(tags.items()))
        + " "
        + ",".join(f"{k}={v}" for k, v in sorted(fields.items()))
        + f" {int(WHEN.timestamp()) * 10**9}\n"
    )
    base = output["urls"][0].replace("https://sensorgrid.example.org", live_server.url)
    query = urllib.parse.urlencode({"bucket": output["bucket"], "org": output["organization"]})
    request = urllib.request.Request(
        f"{base}/api/v2/write?{query}",
        data=gzip.compress(line.encode()),
        headers={
            "Authorization": f"Token {token}",
            "Content-Encoding": "gzip",
            "Content-Type": "text/plain; charset=utf-8",
            "User-Agent": "Telegraf/1.36.0 Go/1.24",
        },
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 204
    assert stored() == [
        ("room-101", "co2", 612),
        ("room-101", "humidity", 41.5),
        ("room-101", "temperature", 21.4),
    ]
    assert not DeadLetter.objects.exists()  # uptime was left out by fieldinclude
