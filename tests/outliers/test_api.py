"""Scores in the API: ?outlier= on the pictures, scores over time, reconstructions,
model versions and acknowledging, for members only (also of a public installation's
pictures: the pictures are public, what the organization's model says of them is not)."""

import pytest

from sensorgrid.outliers import service
from tests.outliers.conftest import START, STEP, store_picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(world):
    """The public node: a day of normal pictures, a PCA model, then a normal and a covered one."""
    node = world.public_node
    for i in range(72):
        store_picture(node, START + i * STEP)
    service.train(node, "camera", kind="pca")
    # the next night, like the training pictures (their light)
    normal = service.score_image(store_picture(node, START + 77 * STEP).pk)
    outlier = service.score_image(store_picture(node, START + 78 * STEP, "covered").pk)
    return node, normal, outlier


def test_pictures_filter_on_their_verdict_and_carry_their_score(world, client_for, scored):
    node, normal, outlier = scored
    alice = client_for(world.alice)
    flagged = alice.get(f"/api/v1/nodes/{node.pk}/images/?outlier=true").json()["results"]
    assert [p["id"] for p in flagged] == [outlier.image_id]
    shown = flagged[0]["outlier"]
    assert shown["is_outlier"] is True and shown["model_version"] == 1
    assert shown["score"] == pytest.approx(outlier.score)
    passed = alice.get(f"/api/v1/nodes/{node.pk}/images/?outlier=false").json()["results"]
    assert [p["id"] for p in passed] == [normal.image_id]  # unscored pictures match neither
    bad = alice.get(f"/api/v1/nodes/{node.pk}/images/?outlier=maybe")
    assert bad.status_code == 400 and "outlier" in bad.json()
    # The pictures are public (a public installation), their verdicts are not.
    for stranger in (None, world.charlie):
        public = client_for(stranger).get(f"/api/v1/nodes/{node.pk}/images/").json()["results"]
        assert outlier.image_id in [p["id"] for p in public]
        assert all(p["outlier"] is None for p in public)
        asked = client_for(stranger).get(f"/api/v1/nodes/{node.pk}/images/?outlier=true")
        assert asked.status_code == 400 and "outlier" in asked.json()
    detail = client_for(None).get(f"/api/v1/images/{outlier.image_id}/").json()
    assert detail["outlier"] is None
    assert alice.get(f"/api/v1/images/{outlier.image_id}/").json()["outlier"]["is_outlier"]


def test_scores_over_time_follow_the_pictures_walls(world, client_for, scored):
    node, normal, outlier = scored
    url = f"/api/v1/nodes/{node.pk}/outlier-scores/"
    rows = client_for(world.alice).get(url).json()["results"]
    assert [r["id"] for r in rows] == [outlier.pk, normal.pk]  # newest first
    assert rows[0]["is_outlier"] and rows[0]["threshold"] == pytest.approx(outlier.threshold)
    only = client_for(world.alice).get(url, {"outlier": "true", "version": 1}).json()
    assert [r["id"] for r in only["results"]] == [outlier.pk]
    # Scores are for members, also of a public installation's pictures; inspectors too.
    assert len(client_for(world.bob).get(url).json()["results"]) == 2
    assert client_for(None).get(url).status_code == 404
    assert client_for(world.charlie).get(url).status_code == 404
    assert (
        client_for(None).get(f"/api/v1/nodes/{world.node_a.pk}/outlier-scores/").status_code == 404
    )
    assert (
        client_for(world.charlie)
        .get(f"/api/v1/nodes/{world.node_a.pk}/outlier-scores/")
        .status_code
        == 404
    )
    assert client_for(world.alice).get(url, {"from": "yesterday"}).status_code == 400


def test_the_reconstruction_is_a_png_behind_the_same_walls(world, client_for, scored):
    _node, _normal, outlier = scored
    url = f"/api/v1/outlier-scores/{outlier.pk}/reconstruction/"
    answer = client_for(world.alice).get(url)
    assert answer.status_code == 200 and answer["Content-Type"] == "image/png"
    assert b"".join(answer.streaming_content).startswith(b"\x89PNG")
    assert answer["X-Content-Type-Options"] == "nosniff"
    for stranger in (None, world.charlie):  # the picture is public, its reconstruction not
        assert client_for(stranger).get(url).status_code == 404
    assert (
        client_for(world.charlie).get("/api/v1/outlier-scores/999999/reconstruction/").status_code
        == 404
    )


def test_model_versions_are_for_members(world, client_for, scored):
    node, *_ = scored
    url = f"/api/v1/nodes/{node.pk}/outlier-models/"
    versions = client_for(world.alice).get(url).json()
    assert [(v["name"], v["version"], v["kind"], v["pictures"]) for v in versions] == [
        ("camera", 1, "pca", 72)
    ]
    assert client_for(world.bob).get(url).status_code == 200  # an inspector is a member
    assert client_for(None).get(url).status_code == 404
    assert client_for(world.charlie).get(url).status_code == 404


def test_owners_acknowledge_an_outlier_once(world, client_for, scored):
    _node, _normal, outlier = scored
    url = f"/api/v1/outlier-scores/{outlier.pk}/acknowledge/"
    assert client_for(world.bob).post(url).status_code == 403  # inspector
    assert client_for(world.charlie).post(url).status_code == 404
    assert client_for(None).post(url).status_code in (401, 403)
    first = client_for(world.alice).post(url)
    assert first.status_code == 200 and first.json()["acknowledged_at"]
    again = client_for(world.alice).post(url).json()
    assert again["acknowledged_at"] == first.json()["acknowledged_at"]


def test_another_organizations_scores_behave_as_missing(world, client_for):
    node = world.node_b
    for i in range(12):
        store_picture(node, START + i * STEP)
    service.train(node, "camera", kind="pca")
    score = service.score_image(store_picture(node, START + 30 * STEP, "black").pk)
    routes = [
        ("get", f"/api/v1/outlier-scores/{score.pk}/reconstruction/"),
        ("post", f"/api/v1/outlier-scores/{score.pk}/acknowledge/"),
        ("get", f"/api/v1/nodes/{node.pk}/outlier-scores/"),
        ("get", f"/api/v1/nodes/{node.pk}/outlier-models/"),
    ]
    for persona in (world.alice, world.bob, world.dave):
        for method, url in routes:
            answer = getattr(client_for(persona), method)(url)
            assert answer.status_code == 404, (persona, url)
            assert b"secretB" not in answer.content
    for method, url in routes:
        assert getattr(client_for(None), method)(url).status_code in (401, 403, 404)
        assert getattr(client_for(world.charlie), method)(url).status_code == 200, url
