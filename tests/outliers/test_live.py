"""A scored picture reaches the members following its node over /ws/live/, nobody else."""

import pytest
from asgiref.sync import sync_to_async

from sensorgrid.outliers import service
from tests.live.conftest import connect, frames_until, subscribe
from tests.live.test_consumer import run
from tests.outliers.conftest import START, STEP, store_picture

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@sync_to_async
def train_and_score(node, anomaly):
    for i in range(12):
        store_picture(node, START + i * STEP)
    service.train(node, "camera", kind="pca")
    return service.score_image(store_picture(node, START + 20 * STEP, anomaly).pk)


@run
async def test_an_outlier_is_pushed_to_members_following_the_node(world):
    node = world.public_node
    member = await connect(world.alice)
    await subscribe(member, node=node.pk)
    stranger = await connect(None)  # follows the node through its public installation
    await subscribe(stranger, node=node.pk)
    score = await train_and_score(node, "covered")
    (*_, frame) = await frames_until(member, lambda f: f["type"] == "outlier")
    assert frame["node"] == node.pk
    outlier = frame["outlier"]
    assert (outlier["id"], outlier["image"], outlier["name"]) == (
        score.pk,
        score.image_id,
        "camera",
    )
    assert outlier["is_outlier"] is True and outlier["score"] > outlier["threshold"]
    assert outlier["model_version"] == 1 and outlier["ts"].endswith("Z")
    assert await stranger.receive_nothing(timeout=0.5)
    await member.disconnect()
    await stranger.disconnect()
