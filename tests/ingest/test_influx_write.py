"""InfluxDB's write API (issue 18, item 11): ``/api/v2/write`` and ``/write``, raw HTTP.

What an InfluxDB client sees (status codes and InfluxDB's ``{"code", "message"}``
bodies) and what SensorGrid keeps (samples, dead letters). The real client library
against a live server is in ``test_influx_client.py``.
"""

import base64
import gzip
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sensorgrid.ingest import pipeline, replay
from sensorgrid.ingest.envelope import Envelope
from sensorgrid.ingest.models import IngestKey
from sensorgrid.ingest.mqtt import config
from sensorgrid.inventory.models import Quantity
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import hours_ago

V2 = "/api/v2/write?org=acme&bucket=sensors"
WHEN = hours_ago(1)
NS = int(WHEN.timestamp()) * 10**9


@pytest.fixture
def key(world) -> str:
    holder = IngestKey(organization=world.org_a, name="telegraf")
    secret = holder.issue()
    holder.save()
    return secret


@pytest.fixture
def node_credential(world) -> str:
    credential = world.node_a.issue_credential()
    world.node_a.save(update_fields=["credential_digest"])
    return credential


def write(body: str | bytes, credential: str | None, path: str = V2, **headers: str):
    client = APIClient()
    if credential is not None:
        headers.setdefault("HTTP_AUTHORIZATION", f"Token {credential}")
    data = body.encode() if isinstance(body, str) else body
    return client.post(path, data=data, content_type="text/plain; charset=utf-8", **headers)


def samples(node) -> list[tuple[str, float]]:
    rows = Sample.objects.filter(node=node).order_by("quantity__key", "ts")
    return [(row.quantity.key, row.value) for row in rows]


def test_lines_of_an_organizations_nodes_are_stored_and_answered_204(world, key):
    body = (
        f"air,device={world.node_a.device_id} co2=612i,temperature=21.4 {NS}\n"
        f"air,device={world.public_node.device_id} humidity=41.5,motion=true {NS}\n"
    )
    response = write(body, key)
    assert response.status_code == 204, response.content
    assert response.content == b""
    assert samples(world.node_a) == [("co2", 612), ("temperature", 21.4)]
    assert samples(world.public_node) == [("humidity", 41.5), ("motion", 1.0)]  # true is 1
    assert not DeadLetter.objects.exists()
    assert {row.ts for row in Sample.objects.all()} == {WHEN}


def test_a_node_credential_writes_lines_without_a_device_tag_for_its_node(world, node_credential):
    response = write(f"air co2=600 {NS}\nco2 value=601 {NS + 10**9}", node_credential)
    assert response.status_code == 204, response.content
    assert samples(world.node_a) == [("co2", 600), ("co2", 601)]


def test_lines_without_a_device_tag_follow_a_renamed_node(world, node_credential):
    # The node's device id is remembered with its credential (no query per request);
    # renaming the node must not send the next lines to the old id.
    assert write(f"air co2=600 {NS}", node_credential).status_code == 204
    world.node_a.device_id = "renamed-a"
    world.node_a.save(update_fields=["device_id"])
    response = write(f"air co2=601 {NS + 10**9}", node_credential)
    assert response.status_code == 204, response.content
    assert samples(world.node_a) == [("co2", 600), ("co2", 601)]
    assert not DeadLetter.objects.exists()


def test_a_node_credential_naming_another_node_stores_nothing_403(world, node_credential):
    body = f"air co2=600 {NS}\nair,device={world.public_node.device_id} co2=1 {NS}"
    response = write(body, node_credential)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "may not write for device 'secretA-public-node'" in response.json()["message"]
    assert not Sample.objects.exists()
    assert DeadLetter.objects.get().reason == "forbidden-device"


def test_bad_lines_are_400_with_the_first_line_number_and_the_good_lines_are_stored(world, key):
    device = world.node_a.device_id
    body = (
        f"air,device={device} co2=600 {NS}\n"
        f"air,device={device} co2= {NS}\n"  # line 2: unparsable
        f'air,device={device} co2=610,temperature="warm" {NS + 10**9}\n'  # line 3: a string
        f"air,device=nobody co2=620 {NS}\n"  # line 4: unknown node
    )
    response = write(body, key)
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == "invalid" and answer["line"] == 2
    assert answer["message"].startswith(
        f"partial write: line 2: malformed: unable to parse 'air,device={device} co2= {NS}'"
    )
    assert "3 line(s) with a refusal, kept as dead letters" in answer["message"]
    # The co2 of line 3 is stored; its string temperature alone is refused.
    assert samples(world.node_a) == [("co2", 600), ("co2", 610)]
    letters = {letter.reason: letter for letter in DeadLetter.objects.all()}
    assert set(letters) == {"malformed", "invalid-value", "unknown-device"}
    assert letters["invalid-value"].detail == "temperature: 'warm' is not a number"
    assert bytes(letters["unknown-device"].payload) == f"air,device=nobody co2=620 {NS}".encode()
    assert letters["malformed"].decoder == "influx_line"


def test_the_first_refused_line_is_named_whichever_step_refused_it(world, key):
    body = f"air,device=nobody co2=1 {NS}\nair,device=x co2= {NS}\n"
    answer = write(body, key).json()
    assert answer["line"] == 1
    assert answer["message"].startswith("partial write: line 1: unknown-device: ")


def test_a_refused_line_replays_alike_once_its_quantity_exists(world, key):
    body = f"air,device={world.node_a.device_id} radon=3 {NS}"
    response = write(body, key, path="/api/v2/write?org=o&bucket=b&precision=ns")
    assert response.status_code == 400
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.topic) == (
        "unknown-quantity",
        "/api/v2/write?bucket=b&precision=ns",
    )
    Quantity.objects.create(key="radon", name="Radon", unit="Bq/m³")
    assert replay.replay(letter).stored
    assert samples(world.node_a) == [("radon", 3)]
    assert {row.ts for row in Sample.objects.all()} == {WHEN}


@pytest.mark.parametrize(
    ("precision", "stamp"),
    [
        ("ns", NS),
        ("us", NS // 1000),
        ("ms", NS // 10**6),
        ("s", NS // 10**9),
    ],
)
def test_the_precision_parameter_sets_the_unit_of_timestamps(world, key, precision, stamp):
    path = f"/api/v2/write?org=o&bucket=b&precision={precision}"
    response = write(f"air,device={world.node_a.device_id} co2=600 {stamp}", key, path=path)
    assert response.status_code == 204, response.content
    assert Sample.objects.get().ts == WHEN


def test_an_unknown_precision_is_400_as_influxdb_says_it(world, key):
    response = write("air,device=x co2=1", key, path="/api/v2/write?org=o&bucket=b&precision=h")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "invalid precision 'h'; valid precisions are ns, us, ms, s",
    }


def test_a_missing_bucket_is_404(key):
    response = write("air,device=x co2=1", key, path="/api/v2/write?org=o")
    assert response.status_code == 404
    assert response.json()["code"] == "not found"


@pytest.mark.parametrize("authorization", [None, "Token nope", "Token", "Basic !!!", "Digest abc"])
def test_without_a_valid_credential_it_is_401(world, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = write("air,device=x co2=1", None, **headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert not DeadLetter.objects.exists()


def test_an_api_token_of_a_user_is_not_an_ingest_credential(world, client_for):
    response = client_for(world.alice).post(
        V2, data=b"air,device=x co2=1", content_type="text/plain"
    )
    assert response.status_code == 401


def test_get_is_405(key):
    response = APIClient().get(V2, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 405
    assert response.json()["code"] == "method not allowed"


def test_a_gzip_body_is_unpacked(world, key):
    body = gzip.compress(f"air,device={world.node_a.device_id} co2=600 {NS}\n".encode())
    response = write(body, key, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 204, response.content
    assert samples(world.node_a) == [("co2", 600)]


def test_a_broken_gzip_body_is_400_and_kept(world, key):
    response = write(b"\x1f\x8b not gzip", key, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 400
    assert response.json()["message"].startswith("broken gzip body")
    assert DeadLetter.objects.get().reason == "malformed"


def test_another_content_encoding_is_415(world, key):
    response = write(b"air,device=x co2=1", key, HTTP_CONTENT_ENCODING="br")
    assert response.status_code == 415


def test_a_body_above_the_limit_is_413_packed_or_unpacked(world, key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    line = f"air,device={world.node_a.device_id} co2=600 {NS}\n".encode()
    too_big = line * (10_001 // len(line) + 1)
    response = write(too_big, key)
    assert response.status_code == 413
    assert response.json()["code"] == "request too large"
    # Packed it is small; unpacked it is above the limit: a gzip bomb is refused too.
    response = write(gzip.compress(too_big), key, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413
    assert not Sample.objects.exists()


def test_the_measurement_field_bucket_prefixes_quantities(world, key):
    path = "/api/v2/write?org=o&bucket=measurement_field"
    response = write(f"battery,device={world.node_a.device_id} level=87i {NS}", key, path=path)
    assert response.status_code == 204, response.content
    assert samples(world.node_a) == [("battery_level", 87)]


# --- the v1 form: /write?db=… --------------------------------------------------------


def test_v1_write_takes_the_credential_as_token_basic_password_or_p(world, key):
    device = world.node_a.device_id
    basic = base64.b64encode(f"telegraf:{key}".encode()).decode()
    for n, (path, headers) in enumerate(
        [
            ("/write?db=sensors", {"HTTP_AUTHORIZATION": f"Token {key}"}),
            ("/write?db=sensors", {"HTTP_AUTHORIZATION": f"Basic {basic}"}),
            (f"/write?db=sensors&u=telegraf&p={key}", {}),
        ]
    ):
        response = write(
            f"air,device={device} co2={600 + n} {NS // 10**9 + n}",
            None,
            path=path + "&precision=s",
            **headers,
        )
        assert response.status_code == 204, (path, response.content)
    assert samples(world.node_a) == [("co2", 600), ("co2", 601), ("co2", 602)]
    # The password never reaches a dead letter's topic.
    write("garbage", None, path=f"/write?db=sensors&u=t&p={key}")
    assert DeadLetter.objects.get().topic == "/write?bucket=sensors&precision=ns"


@pytest.mark.parametrize(
    ("precision", "divisor"),
    [("n", 1), ("u", 1000), ("ms", 10**6), ("s", 10**9), ("m", 60 * 10**9), ("h", 3600 * 10**9)],
)
def test_v1_precisions(world, key, precision, divisor):
    hour = NS // (3600 * 10**9) * 3600 * 10**9  # whole hours divide by every unit
    path = f"/write?db=sensors&precision={precision}"
    response = write(
        f"air,device={world.node_a.device_id} co2=600 {hour // divisor}", key, path=path
    )
    assert response.status_code == 204, response.content
    assert int(Sample.objects.get().ts.timestamp()) * 10**9 == hour


def test_v1_without_db_is_404(key):
    response = write("air,device=x co2=1", key, path="/write")
    assert response.status_code == 404
    assert json.loads(response.content)["code"] == "not found"


def test_an_mqtt_route_to_the_decoder_takes_what_telegraf_publishes(world, settings):
    # Telegraf's outputs.mqtt with data_format "influx": nanoseconds, whatever the topic.
    settings.SENSORGRID_MQTT_ROUTES = ["telegraf/#=influx_line"]
    match = config.route_table().match("telegraf/gw-1/air?precision=s")
    assert match is not None and match.route.decoder == "influx_line"
    envelope = Envelope(
        source=match.route.source,
        topic="telegraf/gw-1/air?precision=s",
        payload=f"air,device={world.node_a.device_id},host=gw-1 co2=612i {NS}\n".encode(),
        received_at=timezone.now(),
    )
    outcome = pipeline.ingest(envelope, match.route.decoder)
    assert (outcome.accepted, outcome.rejected, outcome.refused) == (1, [], None)
    assert Sample.objects.get().ts == WHEN
