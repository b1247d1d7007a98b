import json

from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Authority
from sensorgrid.ingest.events import Committed
from sensorgrid.inventory.models import Node, Quantity
from sensorgrid.telemetry.models import DeadLetter, Latest, Rollup, Sample
from tests.ingest.conftest import envelope, hours_ago


def body(*messages) -> bytes:
    return json.dumps(list(messages)).encode()


def msg(device, ts, **values):
    return {"device": device, "ts": ts.isoformat(), "values": values}


def test_values_are_stored_once_even_when_sent_twice(world):
    payload = body(msg(world.node_a.device_id, hours_ago(1), co2=612, temperature=21.5))
    first = pipeline.ingest(envelope(payload), "json")
    second = pipeline.ingest(envelope(payload), "json")
    assert (first.accepted, first.duplicates) == (2, 0)
    assert (second.accepted, second.duplicates) == (0, 2)
    assert Sample.objects.filter(node=world.node_a).count() == 2
    hourly = Rollup.objects.get(
        node=world.node_a, quantity=Quantity.objects.get(key="co2"), resolution=3600
    )
    assert (hourly.count, hourly.sum) == (1, 612)


def test_latest_values_follow_the_newest_sample_not_the_last_received(world):
    device = world.node_a.device_id
    pipeline.ingest(envelope(body(msg(device, hours_ago(1), co2=700))), "json")
    pipeline.ingest(envelope(body(msg(device, hours_ago(2), co2=500))), "json")  # late
    latest = Latest.objects.get(node=world.node_a, quantity__key="co2")
    assert latest.value == 700


def test_unknown_devices_and_bad_values_become_dead_letters_with_reasons(world):
    good = msg(world.node_a.device_id, hours_ago(1), co2=600)
    payload = body(
        good,
        msg("nobody-has-this", hours_ago(1), co2=600),
        msg(world.node_a.device_id, hours_ago(1), co2=-5, radon=3),
        {"device": world.node_a.device_id, "values": "not an object"},
    )
    outcome = pipeline.ingest(envelope(payload), "json")
    assert outcome.accepted == 1
    reasons = {r.index: r.reason for r in outcome.rejected}
    assert reasons == {1: "unknown-device", 2: "out-of-range", 3: "malformed"}
    letters = DeadLetter.objects.order_by("pk")
    assert [letter.reason for letter in letters] == ["malformed", "unknown-device", "out-of-range"]
    unknown = letters.get(reason="unknown-device")
    assert json.loads(bytes(unknown.payload))["device"] == "nobody-has-this"
    assert "radon" in letters.get(reason="out-of-range").detail  # every problem is named


def test_a_credential_of_another_organization_does_not_find_the_device(world):
    # Devices are looked up within the sender's organization (issue 16): the refusal
    # is the sender's, with the sender's payload, and names no node of the other one.
    payload = body(msg(world.node_a.device_id, hours_ago(1), co2=600))
    outcome = pipeline.ingest(envelope(payload, Authority(world.org_b.pk)), "json")
    assert [r.reason for r in outcome.rejected] == ["unknown-device"]
    assert not Sample.objects.exists()
    letter = DeadLetter.objects.get()
    assert (letter.organization_id, letter.node_id) == (world.org_b.pk, None)
    assert json.loads(bytes(letter.payload))["device"] == world.node_a.device_id


def test_a_node_credential_writes_only_for_its_node(world):
    payload = body(msg(world.public_node.device_id, hours_ago(1), co2=600))
    outcome = pipeline.ingest(envelope(payload, Authority(world.org_a.pk, world.node_a.pk)), "json")
    assert outcome.refused.reason == "forbidden-device"


def test_unparsable_payloads_are_kept_whole(world):
    outcome = pipeline.ingest(envelope(b"{not json"), "json")
    assert outcome.refused.reason == "malformed"
    assert bytes(DeadLetter.objects.get().payload) == b"{not json"


def test_timestamps_in_the_future_or_before_2000_are_refused(world):
    device = world.node_a.device_id
    payload = body(
        {"device": device, "ts": hours_ago(-1).isoformat(), "values": {"co2": 1}},
        {"device": device, "ts": 946684799, "values": {"co2": 1}},
        {"device": device, "ts": 1700000000000, "values": {"co2": 1}},  # epoch ms
    )
    outcome = pipeline.ingest(envelope(payload), "json")
    assert [r.reason for r in outcome.rejected] == ["bad-timestamp", "bad-timestamp"]
    assert outcome.accepted == 1


def test_ndjson_is_accepted(world):
    device = world.node_a.device_id
    lines = "\n".join(
        json.dumps(msg(device, hours_ago(h), co2=400 + h)) for h in (1, 2, 3)
    ).encode()
    outcome = pipeline.ingest(envelope(lines, content_type="application/x-ndjson"), "json")
    assert outcome.accepted == 3


def test_last_seen_moves_forward_and_consumers_run_after_commit(
    world, listen, django_capture_on_commit_callbacks
):
    seen = []
    listen(Committed, lambda report: seen.append(report.newest))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pipeline.ingest(envelope(body(msg(world.node_a.device_id, hours_ago(1), co2=1))), "json")
    assert seen == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert list(seen[0]) == [world.node_a.pk]
    assert Node.objects.get(pk=world.node_a.pk).last_seen is not None


def test_a_failing_consumer_does_not_break_ingest_or_the_next_consumer(
    world, listen, django_capture_on_commit_callbacks
):
    def broken(report):
        raise RuntimeError("boom")

    seen = []
    listen(Committed, broken, "before-ack")
    listen(Committed, lambda report: seen.append(len(report.rows)))
    with django_capture_on_commit_callbacks(execute=True):
        outcome = pipeline.ingest(
            envelope(body(msg(world.node_a.device_id, hours_ago(1), co2=1))), "json"
        )
    assert outcome.accepted == 1 and seen == [1]
    assert Sample.objects.filter(node=world.node_a).count() == 1


def test_deleting_a_node_removes_its_time_series(world):
    pipeline.ingest(envelope(body(msg(world.node_a.device_id, hours_ago(1), co2=1))), "json")
    world.node_a.delete()
    assert not Sample.objects.exists() and not Rollup.objects.exists()
    assert not Latest.objects.exists()


def test_a_refused_payload_does_not_make_the_named_node_look_alive(world):
    payload = body(msg(world.node_a.device_id, hours_ago(1), co2=600))
    pipeline.ingest(envelope(payload, Authority(world.org_b.pk)), "json")
    assert Node.objects.get(pk=world.node_a.pk).last_seen is None


def test_a_pretty_printed_object_is_one_document_not_ndjson(world):
    body = json.dumps(
        {"device": world.node_a.device_id, "ts": hours_ago(1).isoformat(), "values": {"co2": 640}},
        indent=2,
    ).encode()
    outcome = pipeline.ingest(envelope(body), "json")
    assert (outcome.accepted, outcome.refused, outcome.rejected) == (1, None, [])


def test_ndjson_without_its_content_type_is_still_read_line_by_line(world):
    device = world.node_a.device_id
    lines = "\n".join(
        json.dumps({"device": device, "ts": hours_ago(n).isoformat(), "values": {"co2": 500 + n}})
        for n in (1, 2, 3)
    ).encode()
    assert pipeline.ingest(envelope(lines, content_type="application/json"), "json").accepted == 3


def test_an_integer_too_long_to_read_is_malformed_not_a_decoder_error(world):
    body = b'{"device": "x", "values": {"co2": ' + b"9" * 5000 + b"}}"
    outcome = pipeline.ingest(envelope(body), "json")
    assert outcome.refused.reason == "malformed"
    assert "invalid JSON" in outcome.refused.detail
