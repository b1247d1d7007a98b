"""What STA writes beside the samples follows the organization's raw-data retention."""

from datetime import UTC, datetime, timedelta

from sensorgrid.sensorthings import models as m
from sensorgrid.sensorthings.write import create, retention
from tests.sensorthings.test_write import numeric_stream, post_value

NOW = datetime(2026, 3, 10, tzinfo=UTC)


def test_old_observations_and_sample_details_go_with_the_retention(world, sta):
    world.org_a.raw_retention_days = 7
    world.org_a.save()
    datastream = numeric_stream(world)
    post_value(world, datastream, 500, at="2026-03-01T00:00:00Z")
    post_value(world, datastream, 510, at="2026-03-09T00:00:00Z")
    for day in (1, 9):
        create(
            "Observations",
            {
                "result": day,
                "phenomenonTime": f"2026-03-0{day}T00:00:00Z",
                "Datastream": {"@iot.id": sta.text_stream.pk},
            },
            user=world.alice,
            organization=world.org_a,
        )
    foreign = m.Observation.objects.create(
        datastream=m.Datastream.objects.create(
            organization=world.org_b,
            node=world.node_b,
            sensor=sta.text_stream.sensor,
            observed_property=sta.text_stream.observed_property,
            name="B",
        ),
        phenomenon_time=NOW - timedelta(days=300),
        result=1,
    )
    result = retention.prune(NOW)
    cutoff = NOW - timedelta(days=7)
    assert not m.Observation.objects.filter(
        datastream__organization=world.org_a, phenomenon_time__lt=cutoff
    ).exists()
    assert m.Observation.objects.filter(datastream=sta.text_stream, result=9).exists()
    assert list(
        m.SampleDetails.objects.filter(node=datastream.node).values_list("ts", flat=True)
    ) == [datetime(2026, 3, 9, tzinfo=UTC)]
    assert m.Observation.objects.filter(pk=foreign.pk).exists()  # org B keeps everything
    assert result.deleted["org-a"][1] == 1
