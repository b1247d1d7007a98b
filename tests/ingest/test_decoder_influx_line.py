"""Decoder ``influx_line`` (issue 18, item 11): InfluxDB line protocol into messages.

Vectors from InfluxDB's line protocol reference: escaping of commas, equals signs and
spaces in measurements, tag keys and values and field keys; backslashes and quotes in
string fields; integer ``i``, unsigned ``u``, float, boolean spellings; precisions.
"""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorgrid.ingest import decoders
from sensorgrid.ingest.decoders.influx_line import lines
from sensorgrid.ingest.envelope import Decoded, DecodeError, Message
from tests.ingest.conftest import envelope

T = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
T_NS = int(T.timestamp()) * 10**9


def decode(body: str | bytes, **query: str) -> Decoded:
    query = {"bucket": "b", "precision": "ns", **query}
    topic = "/api/v2/write?" + "&".join(f"{k}={v}" for k, v in query.items())
    payload = body.encode() if isinstance(body, str) else body
    return decoders.get("influx_line").decode(envelope(payload, topic=topic))


def message(body: str, **query: str) -> Message:
    decoded = decode(body, **query)
    assert not decoded.refusals, decoded.refusals
    (only,) = decoded.messages
    return only


def test_a_telegraf_line_is_one_message_of_its_device():
    line = f"airquality,device=room-101,site=school co2=612i,temperature=21.4 {T_NS}"
    assert message(line) == Message(
        0, "room-101", T, (("co2", 612), ("temperature", 21.4)), line.encode()
    )


@pytest.mark.parametrize(
    ("line", "device", "values"),
    [
        # Escaped comma, equals sign and space in tag keys, tag values and field keys.
        (r"m,device=room\,101 co2=1", "room,101", {"co2": 1.0}),
        (r"m,device=a\=b co2=1", "a=b", {"co2": 1.0}),
        (r"m,device=hall\ 2 co2=1", "hall 2", {"co2": 1.0}),
        (r"my\ meas,device=x temp\ c=1", "x", {"temp c": 1.0}),
        (r"m,device=x a\,b=1,c\=d=2", "x", {"a,b": 1.0, "c=d": 2.0}),
        # Value types: float, integer, unsigned, booleans in every spelling.
        (
            "m,device=x a=1.5e3,b=-7i,c=18446744073709551615u",
            "x",
            {"a": 1500.0, "b": -7, "c": 2**64 - 1},
        ),
        ("m,device=x a=t,b=T,c=true,d=True,e=TRUE", "x", dict.fromkeys("abcde", 1.0)),
        ("m,device=x a=f,b=F,c=false,d=False,e=FALSE", "x", dict.fromkeys("abcde", 0.0)),
        # Strings are passed on (the pipeline refuses them per field), unescaped.
        (r'm,device=x s="say \"hi\" C:\\temp",co2=1', "x", {"s": 'say "hi" C:\\temp', "co2": 1.0}),
    ],
)
def test_escaping_and_value_types_follow_the_line_protocol(line, device, values):
    found = message(line)
    assert found.device == device
    assert found.values == tuple(values.items())  # in the line's order
    assert [type(v) for _, v in found.values] == [type(v) for v in values.values()]


@pytest.mark.parametrize(
    ("precision", "stamp"),
    [
        ("ns", T_NS + 123_456_789),
        ("us", T_NS // 1000 + 123_456),
        ("ms", T_NS // 10**6 + 123),
        ("s", T_NS // 10**9),
        ("m", T_NS // (60 * 10**9)),
        ("h", T_NS // (3600 * 10**9)),
    ],
)
def test_the_precision_says_the_unit_of_timestamps(precision, stamp):
    expected = {
        "ns": T.replace(microsecond=123_456),  # stored to the microsecond
        "us": T.replace(microsecond=123_456),
        "ms": T.replace(microsecond=123_000),
        "s": T,
        "m": T,
        "h": T,
    }[precision]
    assert message(f"m,device=x co2=1 {stamp}", precision=precision).ts == expected


def test_a_line_without_timestamp_takes_the_time_of_receipt():
    assert message("m,device=x co2=1").ts is None


def test_the_first_device_tag_names_the_node_then_the_credentials_node():
    assert message("m,host=pi,node=n,device_id=d,device=x co2=1").device == "x"
    assert message("m,host=pi,node=n co2=1").device == "n"
    assert message("m,host=pi co2=1").device == "pi"
    assert message("m,site=s co2=1", device="node-7").device == "node-7"
    assert message("m,host=pi co2=1", device="node-7").device == "pi"


def test_the_tags_that_name_the_node_are_a_setting(settings):
    settings.SENSORGRID_INFLUX_DEVICE_TAGS = ["dev_eui", "device"]
    assert message("m,device=x,dev_eui=a8 co2=1").device == "a8"
    (refusal,) = decode("m,host=pi co2=1").refusals
    assert refusal.detail == "no tag names the node (dev_eui, device)"


def test_a_field_named_value_takes_the_measurements_name():
    assert message("co2,device=x value=612i").values == (("co2", 612),)


def test_the_bucket_measurement_field_prefixes_fields_with_the_measurement():
    found = message("pm,device=x 2_5=8,value=3", bucket="measurement_field")
    assert dict(found.values) == {"pm_2_5": 8.0, "pm": 3.0}


def test_comments_blank_lines_and_crlf_are_skipped_and_lines_keep_their_numbers():
    body = "# from the gateway\r\n\r\nm,device=x co2=1\r\n  \nbad line\nm,device=y co2=2\n"
    decoded = decode(body)
    assert [(m.index + 1, m.device, m.raw) for m in decoded.messages] == [
        (3, "x", b"m,device=x co2=1"),
        (6, "y", b"m,device=y co2=2"),
    ]
    assert [(r.index, r.reason, r.raw) for r in decoded.refusals] == [(4, "malformed", b"bad line")]
    assert decoded.refusals[0].detail.startswith("unable to parse 'bad line': Failed to parse")


def test_a_newline_inside_a_string_field_does_not_end_the_line():
    body = 'm,device=x note="line one\nline two",co2=1\nm,device=y co2=2'
    decoded = decode(body)
    assert [(m.index + 1, m.device) for m in decoded.messages] == [(1, "x"), (3, "y")]
    assert dict(decoded.messages[0].values)["note"] == "line one\nline two"
    # An escaped quote does not close the string, and a quote in a tag opens none.
    assert list(lines(b'm,device=a"b s="x\\"\ny"\nm,device=c co2=1')) == [
        (1, b'm,device=a"b s="x\\"\ny"'),
        (3, b"m,device=c co2=1"),
    ]


@pytest.mark.parametrize(
    ("line", "reason", "detail"),
    [
        ("m co2=1", "malformed", "no tag names the node (device, device_id, node, host)"),
        ("m,device=x", "malformed", "unable to parse 'm,device=x': "),
        ("m,device=x co2=", "malformed", "unable to parse 'm,device=x co2=': "),
        ("m,device=x co2=1 12.5", "malformed", "unable to parse 'm,device=x co2=1 12.5': "),
        ("m,device=x co2=nan", "malformed", "unable to parse 'm,device=x co2=nan': "),
        ("m,device=x co2=1i9", "malformed", "unable to parse 'm,device=x co2=1i9': "),
        (
            "m,device=x co2=1 99999999999999999",
            "bad-timestamp",
            "timestamp 99999999999999999 (s) is out of range",
        ),
    ],
)
def test_a_line_that_cannot_be_read_is_refused_alone(line, reason, detail):
    precision = "s" if reason == "bad-timestamp" else "ns"
    body = f"m,device=ok co2=1\n{line}\nm,device=ok2 co2=2"
    decoded = decode(body, precision=precision)
    assert [m.device for m in decoded.messages] == ["ok", "ok2"]
    (refusal,) = decoded.refusals
    assert (refusal.index, refusal.reason, refusal.raw) == (1, reason, line.encode())
    assert refusal.detail.startswith(detail)


def test_an_unterminated_string_runs_to_the_end_of_the_body_and_is_refused():
    decoded = decode('m,device=ok co2=1\nm,device=x s="open\nm,device=y co2=2')
    assert [m.device for m in decoded.messages] == ["ok"]
    assert [(r.index, r.raw) for r in decoded.refusals] == [
        (1, b'm,device=x s="open\nm,device=y co2=2')
    ]


def test_a_long_refused_line_is_quoted_short():
    (refusal,) = decode("m,device=x co2=" + "9" * 500 + "z").refusals
    assert len(refusal.detail) < 200 and "…" in refusal.detail


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"", "writing requires points"),
        (b"\n# only a comment\n", "writing requires points"),
        (b"m,device=x co2=1\n\xff", "the body is not UTF-8 text"),
    ],
)
def test_a_body_without_lines_or_not_utf8_is_refused_whole(body, detail):
    with pytest.raises(DecodeError) as caught:
        decode(body)
    assert caught.value.reason == "malformed" and caught.value.detail.startswith(detail)


def test_an_unknown_precision_in_the_topic_is_refused_whole():
    with pytest.raises(DecodeError):
        decode("m,device=x co2=1", precision="fortnight")


line_text = st.text(
    alphabet=st.sampled_from(list('m,device=x co2=1i"\\ \n\t#tfu.e-9')), max_size=60
)


@settings(max_examples=400, deadline=None)
@given(body=line_text | st.binary(max_size=80))
def test_any_body_is_decoded_or_refused_whole_and_every_line_is_accounted_for(body):
    payload = body.encode() if isinstance(body, str) else body
    try:
        decoded = decode(payload)
    except DecodeError:
        return
    indexes = [m.index for m in decoded.messages] + [r.index for r in decoded.refusals]
    assert len(indexes) == len(set(indexes))
    for found in decoded.messages:
        assert found.device and found.values


def test_a_string_left_open_across_a_megabyte_of_newlines_is_one_line_read_once():
    # Rescanning the joined line at each newline took hours for this body; it is one
    # (unterminated) line, refused as such, read in linear time.
    body = b'm,device=d f="' + b"\n" * 1_000_000
    assert [number for number, _ in lines(body)] == [1]
    (refusal,) = decode(body).refusals
    assert refusal.index == 0
