"""Observation ids: Datastream id << 43 | milliseconds (samples) or row id (observations)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensorgrid.sensorthings import ids
from sensorgrid.sensorthings.errors import StaError

TIMES = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@given(st.integers(1, ids.MAX_DATASTREAM_ID), TIMES)
def test_a_sample_id_round_trips_to_its_datastream_and_millisecond(datastream_id, ts):
    n = ids.encode_sample(datastream_id, ts)
    assert 0 < n < 2**63
    got_datastream, ms = ids.decode(n)
    assert got_datastream == datastream_id
    start = ids.from_millis(ms)
    assert start <= ts < start + timedelta(milliseconds=1)


@given(st.integers(1, ids.MAX_DATASTREAM_ID), st.integers(1, ids.LOW_MASK))
def test_an_observation_id_round_trips(datastream_id, row_id):
    assert ids.decode(ids.encode_observation(datastream_id, row_id)) == (datastream_id, row_id)


def test_the_layout_is_the_documented_one():
    ts = datetime(2026, 3, 1, 10, 0, 0, 123_999, tzinfo=UTC)
    # 2026-03-01T10:00:00Z is 1772359200 s after 1970; the microseconds are floored
    assert ids.encode_sample(7, ts) == (7 << 43) | 1_772_359_200_123


@pytest.mark.parametrize(
    ("datastream_id", "ts"),
    [
        (1, datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (2**20, datetime(2026, 1, 1, tzinfo=UTC)),
        (0, datetime(2026, 1, 1, tzinfo=UTC)),
        (1, datetime(2249, 1, 1, tzinfo=UTC)),
    ],
)
def test_what_63_bits_cannot_hold_is_refused_with_400(datastream_id, ts):
    with pytest.raises(StaError) as refused:
        ids.encode_sample(datastream_id, ts)
    assert refused.value.status == 400


def test_an_observation_row_id_beyond_43_bits_is_refused():
    with pytest.raises(StaError):
        ids.encode_observation(1, 2**43)


@pytest.mark.parametrize("n", [-1, 0, 2**63, 2**70])
def test_ids_no_observation_can_have_decode_to_datastream_0(n):
    assert ids.decode(n)[0] == 0


@pytest.mark.django_db
def test_an_id_of_no_datastream_locates_nothing():
    assert ids.locate(ids.encode(123, 5)) is None
    assert ids.locate(-5) is None


@pytest.mark.django_db
def test_locate_gives_the_sample_key_and_the_store(world, sta):
    from tests.sensorthings.conftest import MARCH

    co2 = sta.datastream(world.node_a, sta.co2)
    located = ids.locate(ids.encode_sample(co2.pk, MARCH))
    assert located is not None and located.store == "samples"
    assert located.sample == {
        "node_id": world.node_a.pk,
        "quantity_id": sta.co2.pk,
        "ts__gte": MARCH,
        "ts__lt": MARCH + timedelta(milliseconds=1),
    }
    first = sta.observations[0]
    located = ids.locate(ids.encode_observation(sta.text_stream.pk, first.pk))
    assert located is not None and located.store == "observations"
    assert located.observation_id == first.pk and located.sample is None
