"""The offline queue: order, bound with drop-oldest, durability across reopen."""

import pytest

from sensorgrid.simulator.queue import OfflineQueue


@pytest.fixture
def path(tmp_path):
    return tmp_path / "queue.sqlite3"


def test_it_keeps_messages_in_order_with_sequences_per_device(path):
    queue = OfflineQueue(path)
    for n in range(3):
        assert queue.put("a", "t/a", b"a%d" % n, next_tick=n + 1) == n
        assert queue.put("b", "t/b", b"b%d" % n) == n
    oldest = queue.oldest()
    assert [m.payload for m in oldest] == [b"a0", b"b0", b"a1", b"b1", b"a2", b"b2"]
    assert [m.payload for m in queue.oldest(after=oldest[3].id)] == [b"a2", b"b2"]
    queue.ack([oldest[0].id, oldest[2].id])
    assert [m.payload for m in queue.oldest()] == [b"b0", b"b1", b"a2", b"b2"]
    assert queue.pending("a") == 1 and queue.pending() == 4
    assert queue.ticks("a") == (0, 3)


def test_a_full_device_drops_its_oldest_and_counts_them(path):
    queue = OfflineQueue(path, limit=3)
    for n in range(5):
        queue.put("a", "t/a", b"%d" % n)
    queue.put("b", "t/b", b"b")
    assert [m.payload for m in queue.oldest() if m.device == "a"] == [b"2", b"3", b"4"]
    assert queue.dropped("a") == 2 and queue.dropped("b") == 0 and queue.dropped() == 2
    assert queue.put("a", "t/a", b"5") == 5  # sequences go on


def test_it_survives_reopening(path):
    queue = OfflineQueue(path)
    queue.put("a", "t/a", b"0", next_tick=10)
    queue.put("a", "t/a", b"1", next_tick=11)
    queue.ack([queue.oldest()[0].id])
    queue.close()
    again = OfflineQueue(path)
    assert [(m.sequence, m.payload) for m in again.oldest()] == [(1, b"1")]
    assert again.next_tick("a") == 11 and again.next_sequence("a") == 2
