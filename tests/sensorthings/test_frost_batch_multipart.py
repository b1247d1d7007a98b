"""$batch in OData 4.0's multipart/mixed form (STA 1.1 section 11.2), through HTTP as the
demo users: FROST-Server's BatchTests 01-05 (FROST-Server.Tests c04batch) with their
request texts as sent and their expected answers compared whole, as the Java does; each
part behind the same walls as a request of its own, change sets that are atomic,
Content-ID references, requests with CRLF or LF line ends, and malformed bodies refused
whole (400).

The answers are FROST-Server's bytes: LF line ends, ``http/1.1 201 no text`` status lines,
FROST's ``Not Found`` body for a 404 part and nothing after the closing delimiter. Tests
03-05 are FROST's current ones, which ask for ``$count=true`` (FROST counts only on
request since its ``defaultCount`` setting became false, as this service does)."""

# ruff: noqa: F401, F811

import email.parser
import json
import random

import pytest

from sensorgrid.sensorthings.write import batch
from tests.sensorthings.conformance_client import (
    HOST,
    ROOT,
    Sta,
    alice,
    anonymous,
    bob,
    charlie,
    demo,
)

BATCH = "batch_36522ad7-fc75-4b56-8c71-56071383e77b"
CHANGESET = "changeset_77162fcd-b8da-41ac-a9f8-9357efbbd"
SERVICE = f"{HOST}{ROOT}"
UNLIKELY = 9223372036854775806
NOT_FOUND = '{"code":404,"type":"error","message":"Not Found"}'
SENSOR = (
    "{\r\n"
    '  "name": "DS18B20",\r\n'
    '  "description": "DS18B20 is an air temperature sensor",\r\n'
    '  "encodingType": "application/pdf",\r\n'
    '  "metadata": "http://datasheets.maxim-ic.com/en/ds/DS18B20.pdf"\r\n'
    "}"
)


def datastream(observed_property: int, sensor: str = '"$sensor1"') -> str:
    return (
        "{\r\n"
        '  "name": "Temperature Thing 5",\r\n'
        '  "description": "The temperature of thing 5",\r\n'
        '  "unitOfMeasurement": {\r\n'
        '    "name": "degree Celsius",\r\n'
        '    "symbol": "°C",\r\n'
        '    "definition": "http://unitsofmeasure.org/ucum.html#para-30"\r\n'
        "  },\n"
        '  "observationType": "http://www.opengis.net/def/observationType/OGCOM/2.0/OM_Measurement",\r\n'
        f'  "ObservedProperty": {{"@iot.id": {observed_property}}},\r\n'
        f'  "Sensor": {{"@iot.id": {sensor}}}\r\n'
        "}"
    )


def post_batch(sta: Sta, boundary: str, body: str) -> str:
    """FROST's postBatch: the body as UTF-8, ``multipart/mixed;boundary=…``; a 200, whose
    body it returns as text."""
    response = sta.client.post(
        f"{ROOT}/$batch", body.encode(), content_type=f"multipart/mixed;boundary={boundary}"
    )
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("multipart/mixed; boundary=batch_")
    return response.content.decode()


def boundaries(text: str) -> tuple[str, str]:
    """As FROST's test finds them: the first line (the batch's delimiter), and the 40
    characters after the first ``boundary=`` (a change set's boundary)."""
    start = text.find("boundary=") + 9
    return text.split("\n", 1)[0], text[start : start + 40]


def parts(response) -> list:
    """The response read back by the standard library's MIME parser: per top-level part
    either (status, headers, body) or a list of those (a change set)."""
    head = f"Content-Type: {response['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser().parsebytes(head + response.content)
    assert not message.defects, message.defects

    def http(part):
        assert part.get_content_type() == "application/http"
        raw = part.get_payload(decode=True).decode()
        head, _, body = raw.partition("\n\n")
        status_line, *header_lines = head.split("\n")
        headers = dict(line.split(": ", 1) for line in header_lines)
        if part["Content-ID"]:
            headers["Content-ID"] = part["Content-ID"]
        version, status, phrase = status_line.split(" ", 2)
        assert (version, phrase) == ("http/1.1", "no text"), status_line
        return int(status), headers, body

    return [
        [http(p) for p in part.get_payload()] if part.is_multipart() else http(part)
        for part in message.get_payload()
    ]


@pytest.fixture
def things(alice) -> list[int]:
    """FROST's createEntities: six Things with properties.int 8…13."""
    return [
        alice.create(
            "Things",
            {"name": f"Thing {i}", "description": "It's a thing.", "properties": {"int": i + 8}},
        )
        for i in range(6)
    ]


@pytest.fixture
def observed_property(alice) -> int:
    return alice.create(
        "ObservedProperties",
        {
            "name": "ObservedProperty 1",
            "definition": "http://ucom.org/temperature",
            "description": "The temperature of the thing.",
        },
    )


def newest(sta: Sta, entity_set: str) -> int:
    """FROST's getLastestEntityIdForPath."""
    return sta.get(entity_set, **{"$orderby": "id desc", "$top": "1"}).value[0]["@iot.id"]


def test_01_batch_request(alice, things):
    batch_content = (
        f"--{BATCH}\r\n"
        "Content-Type: application/http\r\n"
        "\r\n"
        f"GET /v1.1/Things({things[0]})?$select=name HTTP/1.1\r\n"
        "Host: localhost\r\n"
        "\r\n"
        "\r\n"
        f"--{BATCH}\r\n"
        f"Content-Type: multipart/mixed;boundary={CHANGESET}\r\n"
        "\r\n"
        f"--{CHANGESET}\r\n"
        "Content-Type: application/http\r\n"
        "Content-ID: 1\r\n"
        "\r\n"
        "POST /v1.1/Things HTTP/1.1\r\n"
        "Host: localhost\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 36\r\n"
        "\r\n"
        '{"name":"New","description":"Thing"}\r\n'
        f"--{CHANGESET}\r\n"
        "Content-Type: application/http\r\n"
        "Content-ID: 2\r\n"
        "\r\n"
        f"PATCH /v1.1/Things({things[0]}) HTTP/1.1\r\n"
        "Host: localhost\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 18\r\n"
        "\r\n"
        '{"name":"Patched"}\r\n'
        f"--{CHANGESET}--\r\n"
        f"--{BATCH}\r\n"
        "Content-Type: application/http\r\n"
        "\r\n"
        f"GET /v1.1/Things({UNLIKELY}) HTTP/1.1\r\n"
        "Host: localhost\r\n"
        "\r\n"
        "\r\n"
        f"--{BATCH}--"
    )
    response = post_batch(alice, BATCH, batch_content)
    thing_id = newest(alice, "Things")
    batch_boundary, mixed_boundary = boundaries(response)
    # Note (FROST's): using LF line terminator instead of recommended CRLF, see
    # https://datatracker.ietf.org/doc/html/rfc7230#section-3.5
    assert response == (
        batch_boundary + "\n"
        "Content-Type: application/http\n"
        "\n"
        "http/1.1 200 no text\n"
        "Content-Type: application/json; charset=UTF-8\n"
        "\n"
        '{"name":"Thing 0"}\n' + batch_boundary + "\n"
        "Content-Type: multipart/mixed; boundary=" + mixed_boundary + "\n"
        "\n"
        "--" + mixed_boundary + "\n"
        "Content-Type: application/http\n"
        "Content-ID: 1\n"
        "\n"
        "http/1.1 201 no text\n"
        "Location: " + SERVICE + "/Things(" + str(thing_id) + ")\n"
        "\n"
        "\n"
        "--" + mixed_boundary + "\n"
        "Content-Type: application/http\n"
        "Content-ID: 2\n"
        "\n"
        "http/1.1 200 no text\n"
        "\n"
        "\n"
        "--" + mixed_boundary + "--\n" + batch_boundary + "\n"
        "Content-Type: application/http\n"
        "\n"
        "http/1.1 404 no text\n"
        "\n"
        '{"code":404,"type":"error","message":"Not Found"}\n' + batch_boundary + "--"
    )
    assert len(mixed_boundary) == 40 and response.count(mixed_boundary) == 4
    assert alice.get(f"Things({things[0]})").body["name"] == "Patched"
    assert alice.get(f"Things({thing_id})").body["name"] == "New"


def test_02_batch_request_with_change_set_referencing_new_entities(
    alice, things, observed_property
):
    post1, post2 = SENSOR, datastream(observed_property)
    # FROST sends Java's String.length() as Content-Length: one short for the "°"
    batch_content = (
        f"--{BATCH}\r\n"
        f"Content-Type: multipart/mixed;boundary={CHANGESET}\r\n"
        "\r\n"
        f"--{CHANGESET}\r\n"
        "Content-Type: application/http\r\n"
        "Content-ID: sensor1\r\n"
        "\r\n"
        "POST /v1.1/Sensors HTTP/1.1\r\n"
        "Host: localhost\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(post1)}\r\n"
        "\r\n"
        f"{post1}\r\n"
        f"--{CHANGESET}\r\n"
        "Content-Type: application/http\r\n"
        "Content-ID: any\r\n"
        "\r\n"
        f"POST /v1.1/Things({things[0]})/Datastreams HTTP/1.1\r\n"
        "Host: localhost\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(post2)}\r\n"
        "\r\n"
        f"{post2}\r\n"
        f"--{CHANGESET}--\r\n"
        f"--{BATCH}--"
    )
    response = post_batch(alice, BATCH, batch_content)
    sensor_id, datastream_id = newest(alice, "Sensors"), newest(alice, "Datastreams")
    batch_boundary, mixed_boundary = boundaries(response)
    assert response == (
        batch_boundary + "\n" + "Content-Type: multipart/mixed; boundary=" + mixed_boundary + "\n"
        "\n"
        "--" + mixed_boundary + "\n"
        "Content-Type: application/http\n"
        "Content-ID: sensor1\n"
        "\n"
        "http/1.1 201 no text\n"
        "Location: " + SERVICE + "/Sensors(" + str(sensor_id) + ")\n"
        "\n"
        "\n"
        "--" + mixed_boundary + "\n"
        "Content-Type: application/http\n"
        "Content-ID: any\n"
        "\n"
        "http/1.1 201 no text\n"
        "Location: " + SERVICE + "/Datastreams(" + str(datastream_id) + ")\n"
        "\n"
        "\n"
        "--" + mixed_boundary + "--\n" + batch_boundary + "--"
    )
    made = alice.get(f"Datastreams({datastream_id})", **{"$expand": "Sensor,Thing"}).body
    assert made["Sensor"]["@iot.id"] == sensor_id and made["Thing"]["@iot.id"] == things[0]
    assert made["unitOfMeasurement"]["symbol"] == "°C"


def _two_gets(first: str, second: str) -> str:
    return (
        "--batch_test\r\n"
        "Content-Type: application/http\r\n"
        "\r\n"
        f"GET {first} HTTP/1.1\r\n"
        "\r\n"
        "\r\n"
        "--batch_test\r\n"
        "Content-Type: application/http\r\n"
        "\r\n"
        f"GET {second} HTTP/1.1\r\n"
        "\r\n"
        "\r\n"
        "--batch_test--"
    )


def _two_things_counted(response: str) -> str:
    """The answer FROST's tests 04 and 05 expect."""
    batch_boundary = response.split("\n", 2)[0]
    return (
        batch_boundary + "\n"
        "Content-Type: application/http\n"
        "\n"
        "http/1.1 200 no text\n"
        "Content-Type: application/json; charset=UTF-8\n"
        "\n"
        '{"@iot.count":1,"value":[{"name":"Thing 2"}]}\n' + batch_boundary + "\n"
        "Content-Type: application/http\n"
        "\n"
        "http/1.1 200 no text\n"
        "Content-Type: application/json; charset=UTF-8\n"
        "\n"
        '{"@iot.count":1,"value":[{"name":"Thing 3"}]}\n' + batch_boundary + "--"
    )


def test_03_batch_request_with_encoded_chars_in_url(alice, things):
    response = post_batch(
        alice,
        "batch_test",
        "--batch_test\r\n"
        "Content-Type: application/http\r\n"
        "\r\n"
        "GET Things?$count=true&$filter=properties/int%20eq%2010&$select=name HTTP/1.1\r\n"
        "\r\n"
        "\r\n"
        "--batch_test--",
    )
    batch_boundary = response.split("\n", 2)[0]
    assert response == (
        batch_boundary + "\n"
        "Content-Type: application/http\n"
        "\n"
        "http/1.1 200 no text\n"
        "Content-Type: application/json; charset=UTF-8\n"
        "\n"
        '{"@iot.count":1,"value":[{"name":"Thing 2"}]}\n' + batch_boundary + "--"
    )
    # FROST's earlier BatchTests sent this request without $count=true and expected the
    # same count: its server then counted by default (the "defaultCount" setting, whose
    # default is false now). This service counts on $count=true only, as documented.
    response = post_batch(
        alice,
        "batch_test",
        "--batch_test\r\n"
        "Content-Type: application/http\r\n"
        "\r\n"
        "GET Things?$filter=properties/int%20eq%2010&$select=name HTTP/1.1\r\n"
        "\r\n"
        "\r\n"
        "--batch_test--",
    )
    batch_boundary = response.split("\n", 2)[0]
    assert response == (
        batch_boundary + "\n"
        "Content-Type: application/http\n"
        "\n"
        "http/1.1 200 no text\n"
        "Content-Type: application/json; charset=UTF-8\n"
        "\n"
        '{"value":[{"name":"Thing 2"}]}\n' + batch_boundary + "--"
    )


def test_04_batch_request_with_absolute_uri(alice, things):
    response = post_batch(
        alice,
        "batch_test",
        _two_gets(
            f"{SERVICE}/Things?$count=true&$filter=properties/int%20eq%2010&$select=name",
            f"{SERVICE}/Things?$count=true&$filter=properties/int%20eq%2011&$select=name",
        ),
    )
    assert response == _two_things_counted(response)


def test_05_batch_request_with_resource_path_relative_to_batch_request(alice, things):
    response = post_batch(
        alice,
        "batch_test",
        _two_gets(
            "Things?$count=true&$filter=properties/int%20eq%2010&$select=name",
            "Things?$count=true&$filter=properties/int%20eq%2011&$select=name",
        ),
    )
    assert response == _two_things_counted(response)


# --- beyond FROST's five: atomic change sets, references, walls per part ----------------


def _part(
    request: str,
    content_id: str | None = None,
    body: str = "",
    content_type: str = "application/json",
) -> str:
    head = "Content-Type: application/http\r\n"
    if content_id:
        head += f"Content-ID: {content_id}\r\n"
    inner = f"Content-Type: {content_type}\r\n" if body else ""
    return f"{head}\r\n{request} HTTP/1.1\r\n{inner}\r\n{body}"


def _change_set(name: str, *members: str) -> str:
    inner = "".join(f"--{name}\r\n{member}\r\n" for member in members)
    return f"Content-Type: multipart/mixed; boundary={name}\r\n\r\n{inner}--{name}--"


def _batch(*units: str) -> str:
    return "".join(f"--b\r\n{unit}\r\n" for unit in units) + "--b--\r\n"


def _post(sta: Sta, body: str):
    return sta.client.post(
        f"{ROOT}/$batch", body.encode(), content_type="multipart/mixed; boundary=b"
    )


LOCATION = {
    "name": "l",
    "description": "d",
    "encodingType": "application/geo+json",
    "location": {"type": "Point", "coordinates": [1, 2]},
}
FEATURE = {k: v for k, v in LOCATION.items() if k != "location"} | {"feature": LOCATION["location"]}
SENSOR_BODY = '{"name": "%s", "description": "d", "encodingType": "text/plain", "metadata": "m"}'


def test_a_failing_change_set_is_rolled_back_and_answered_by_its_failure_alone(
    alice, charlie, things, observed_property
):
    theirs = charlie.create(
        "ObservedProperties", {"name": "Harbour", "definition": "d", "description": "d"}
    )
    sensors = len(alice.all("Sensors"))
    response = _post(
        alice,
        _batch(
            _change_set(
                "cs1",
                _part("POST Sensors", "s1", SENSOR_BODY % "rolled back"),
                # charlie's ObservedProperty is as missing for alice: 400, all undone
                _part(f"POST Things({things[0]})/Datastreams", "ds", datastream(theirs, '"$s1"')),
            ),
            _part("GET $s1"),  # nothing to name any more
            _change_set(
                "cs2",
                _part("POST Sensors", "s2", SENSOR_BODY % "kept"),
                _part("PATCH $s2", "rename", '{"name": "renamed"}'),
                _part(
                    f"POST Things({things[1]})/Datastreams",
                    "ds2",
                    datastream(observed_property, '"$s2"'),
                ),
            ),
            _part("GET $s2?$select=name"),
            _part(
                "POST $ds2/Observations",
                "o",
                json.dumps({"result": 21.5, "FeatureOfInterest": FEATURE}),
            ),
        ),
    )
    failed, gone, kept, read, observation = parts(response)
    status, headers, body = failed
    assert (status, headers["Content-ID"]) == (400, "ds")
    assert f"No ObservedProperty with id {theirs}" in body
    assert gone[0] == 400 and "$s1 names no entity created earlier" in gone[2]
    assert [(s, h["Content-ID"]) for s, h, _ in kept] == [
        (201, "s2"),
        (200, "rename"),
        (201, "ds2"),
    ]
    assert read[:1] == (200,) and read[2] == '{"name":"renamed"}'
    assert observation[0] == 201, observation
    names = [s["name"] for s in alice.all("Sensors")]
    assert len(names) == sensors + 1 and "renamed" in names and "rolled back" not in names
    stream = int(kept[2][1]["Location"].rsplit("(", 1)[1].rstrip(")"))
    assert [o["result"] for o in alice.get(f"Datastreams({stream})/Observations").value] == [21.5]


def test_each_part_meets_the_walls_of_a_request_of_its_own(alice, bob, charlie, anonymous, things):
    mine = things[0]
    # bob inspects alice's organization: he reads, every write is a 403, per part
    response = _post(
        bob,
        _batch(
            _part(f"GET Things({mine})?$select=name"),
            _change_set("cs", _part("POST Things", "t", '{"name": "x", "description": "y"}')),
            _part(f"PATCH Things({mine})", body='{"name": "bob was here"}'),
            _part(f"DELETE Things({mine})"),
        ),
    )
    assert [p[0] for p in parts(response)] == [200, 403, 403, 403]
    assert parts(response)[1][1]["Content-ID"] == "t"
    # charlie is another organization: alice's Thing is missing through every request
    response = _post(
        charlie,
        _batch(
            _part(f"GET Things({mine})"),
            _part(f"GET Things({mine})/Datastreams"),
            _part(f"PATCH Things({mine})", body='{"name": "charlie was here"}'),
            _part(f"DELETE Things({mine})"),
            _part(
                "POST Locations",
                body=json.dumps({**LOCATION, "Things": [{"@iot.id": mine}]}),
            ),
            _change_set(
                "cs",
                _part("POST Things", "t", '{"name": "Charlie\'s", "description": "d"}'),
                _part("PATCH $t", "p", '{"properties": {"n": 1}}'),
            ),
        ),
    )
    found = parts(response)
    assert [p[0] for p in found[:5]] == [404, 404, 404, 404, 400]
    assert {p[2] for p in found[:4]} == {NOT_FOUND}  # as for an id that never existed
    assert [p[0] for p in found[5]] == [201, 200]
    theirs = int(found[5][0][1]["Location"].rsplit("(", 1)[1].rstrip(")"))
    assert alice.get(f"Things({theirs})").status == 404
    assert charlie.get(f"Things({theirs})").body["properties"] == {"n": 1}
    assert alice.get(f"Things({mine})").body["name"] == "Thing 0"
    # the public may not send a batch at all
    assert _post(anonymous, _batch(_part("GET Things"))).status_code == 401


def test_a_part_goes_through_the_same_dispatch_as_a_request(alice, things):
    response = _post(
        alice,
        _batch(
            _part(
                f"PATCH Things({things[0]})",
                body='[{"op": "add", "path": "/properties/floor", "value": 3}]',
                content_type="application/json-patch+json",
            ),
            _part(f"GET Things({things[0]})/properties/floor/$value"),
            _part("POST Things", body="{not json"),
            _part("POST Things", body='{"name": "x"}', content_type="text/plain"),
            _part("POST $batch", body='{"requests": []}'),
            _part("GET /v1.0/Things"),
            _part("GET Things?$top=-1"),
        ),
    )
    found = parts(response)
    assert found[0][0] == 200 and "Content-Type" not in found[0][1]  # a write: status only
    assert found[1] == (200, {"Content-Type": "text/plain; charset=utf-8"}, "3")
    assert [p[0] for p in found[2:]] == [400, 400, 400, 404, 400]
    assert "not JSON" in found[2][2] and "A batch cannot contain a batch." in found[4][2]


def test_a_batch_with_lf_line_ends_is_read_as_with_crlf(alice, things):
    """FROST reads a batch line by line (Java's readLine), so a client may end lines with
    LF alone; the answer is the same either way."""
    body = _batch(
        _part(f"GET Things({things[0]})?$select=name"),
        _change_set("cs", _part(f"PATCH Things({things[1]})", "1", '{"name": "LF"}')),
    )
    for sent in (body, body.replace("\r\n", "\n")):
        found = parts(_post(alice, sent))
        assert found[0] == (
            200,
            {"Content-Type": "application/json; charset=UTF-8"},
            '{"name":"Thing 0"}',
        )
        assert found[1] == [(200, {"Content-ID": "1"}, "")]
    assert alice.get(f"Things({things[1]})").body["name"] == "LF"


MALFORMED = [
    ("multipart/mixed", "--b--", "needs its boundary"),
    ("multipart/mixed; boundary=b", '{"requests": []}', 'has no delimiter line "--b"'),
    (
        "multipart/mixed; boundary=b",
        "--b\r\nContent-Type: application/http\r\n\r\nGET Things HTTP/1.1\r\n",
        'does not end with its closing line "--b--"',
    ),
    (
        "multipart/mixed; boundary=b",
        "--b\r\n\r\nGET Things HTTP/1.1\r\n\r\n--b--",
        "Part 1 has no Content-Type",
    ),
    (
        "multipart/mixed; boundary=b",
        "--b\r\nContent-Type: text/plain\r\n\r\nGET Things\r\n--b--",
        "Part 1 is text/plain",
    ),
    (
        "multipart/mixed; boundary=b",
        "--b\r\nContent-Type: application/http\r\n\r\nFETCH Things HTTP/1.1\r\n--b--",
        "FETCH is not a method",
    ),
    (
        "multipart/mixed; boundary=b",
        "--b\r\nContent-Type: application/http\r\n\r\nGET\r\n--b--",
        '"GET" is not a request line',
    ),
    (
        "multipart/mixed; boundary=b",
        "--b\r\nContent-Type: application/http\r\n\r\n\r\n--b--",
        "Part 1 holds no request",
    ),
    (
        "multipart/mixed; boundary=b",
        "--b\r\nContent-Type: application/http\r\n\r\nPOST Things HTTP/1.1\r\n"
        "Content-Type: application/json\r\n{}\r\n--b--",
        'Part 1: a line of its request headers is not "Name: value"',
    ),
    (
        "multipart/mixed; boundary=b",
        "--b\r\n" + _change_set("c", _part("POST Things", body="{}")) + "\r\n--b--",
        "Part 1.1 has no Content-ID",
    ),
    (
        "multipart/mixed; boundary=b",
        "--b\r\n" + _change_set("c", _part("POST Things", "a b", "{}")) + "\r\n--b--",
        "Content-ID 'a b' may hold only",
    ),
    (
        "multipart/mixed; boundary=b",
        _batch(_part("GET Things", "1"), _part("GET Things", "1")),
        "Part 2: Content-ID '1' is used twice",
    ),
    (
        "multipart/mixed; boundary=b",
        "--b\r\n"
        + _change_set("c", _change_set("d", _part("POST Things", "1", "{}")))
        + "\r\n--b--",
        "Part 1.1 is a change set inside a change set",
    ),
    (
        "multipart/mixed; boundary=b",
        "--b\r\n" + _change_set("c") + "\r\n--b--",
        "Part 1 is a change set without a request",
    ),
    (
        "multipart/mixed; boundary=b",
        "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n"
        + _part("POST Things", "1", "{}")
        + "\r\n--b--",
        'The change set of part 1 does not end with its closing line "--c--"',
    ),
    (
        "multipart/related; boundary=b",
        _batch(_part("GET Things")),
        "Send a batch as application/json",
    ),
]


def test_a_malformed_batch_is_refused_whole_with_what_is_wrong(alice, things):
    before = alice.get("Things", **{"$count": "true"}).body["@iot.count"]
    for content_type, body, message in MALFORMED:
        response = alice.client.post(f"{ROOT}/$batch", body.encode(), content_type=content_type)
        assert response.status_code == 400, (body, response.content[:300])
        assert message in response.json()["message"], (message, response.json())
    assert alice.get("Things", **{"$count": "true"}).body["@iot.count"] == before


def test_a_batch_is_bounded_in_requests_and_bytes(alice, monkeypatch, settings):
    monkeypatch.setattr(batch, "MAX_REQUESTS", 3)
    ok = _post(alice, _batch(*[_part("GET Things?$top=1")] * 3))
    assert [p[0] for p in parts(ok)] == [200, 200, 200]
    for count in (4, 40):
        response = _post(alice, _batch(*[_part("GET Things?$top=1")] * count))
        assert response.status_code == 400
        assert response.json()["message"] == "A batch holds at most 3 requests."
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    response = _post(alice, _batch(_part("POST Things", body='{"name": "%s"}' % ("x" * 3000))))
    assert response.status_code == 413


def test_broken_bodies_are_a_400_never_a_server_error(alice, things):
    valid = _batch(
        _part(f"GET Things({things[0]})"),
        _change_set("cs", _part(f"PATCH Things({things[1]})", "1", '{"name": "x"}')),
        _part("GET Things?$filter=properties/int%20eq%2010"),
    )
    rng = random.Random(25)
    cuts = sorted({rng.randrange(len(valid)) for _ in range(25)})
    bodies = [valid[:cut] for cut in cuts]
    for _ in range(25):
        chars = list(valid)
        for _ in range(3):
            chars[rng.randrange(len(chars))] = rng.choice('-\r\n:;$(){}" b\x00é')
        bodies.append("".join(chars))
    for body in bodies:
        response = _post(alice, body)
        assert response.status_code in (200, 400), (body, response.content[:300])


def test_reading_garbled_batches_raises_nothing_but_a_400():
    """The reader alone (no database): thousands of mutated bodies, odd Content-Types and
    nesting deeper than Python recurses are a batch or a 400, never another exception."""
    from sensorgrid.sensorthings.errors import StaError
    from sensorgrid.sensorthings.write import multipart

    valid = _batch(
        _part("GET Things(1)"),
        _change_set("c", _part("POST Things", "1", '{"name": "x"}')),
    ).encode()
    rng = random.Random(7)
    alphabet = b'-\r\n:;$(){}" bc\x00\xc3\xa9\xff=/'
    types = ["multipart/mixed; boundary=b", 'multipart/mixed; boundary="b"', "multipart/mixed"]
    bodies = []
    for _ in range(3000):
        data = bytearray(valid)
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(data) + 1)
            if rng.random() < 0.5:
                data[at:at] = bytes([rng.choice(alphabet)])
            else:
                del data[at : at + rng.randint(1, 10)]
        bodies.append((rng.choice(types), bytes(data)))
    nested = b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (d, d + 1)
        for d in range(1500)
    )
    bodies.append(("multipart/mixed; boundary=b0", nested))
    read = 0
    for content_type, body in bodies:
        try:
            multipart.requests(content_type, body)
            read += 1
        except StaError as exc:
            assert exc.status == 400 and exc.message
    assert 0 < read < len(bodies)
