"""A node's pictures and their downloads behind the time series' walls, on both stores."""

from datetime import UTC, datetime, timedelta

import pytest
import requests
from rest_framework.test import APIClient

from sensorgrid.images.ingest import store_many
from sensorgrid.images.models import Image
from sensorgrid.ingest.envelope import Authority, Envelope
from tests.images.conftest import picture

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


def stored(node, name="camera", ts=T0, data=None) -> Image:
    envelope = Envelope(
        source="http",
        topic=f"/api/v1/ingest/images/?name={name}&ts={ts.isoformat().replace('+00:00', 'Z')}",
        payload=data or picture(color=(ts.hour * 10 % 255, 80, 120)),
        received_at=ts,
        authority=Authority(node.organization_id, node.pk, "node", node.pk),
    )
    batch = store_many([envelope])
    assert batch.inserted == 1, batch.outcomes[0]
    return Image.objects.get(node=node, name=name, ts=ts)


@pytest.fixture
def pictures(world):
    """Node A's private pictures; the public node's before and during its installation."""
    world.public_installation.start = T0
    world.public_installation.save()
    return {
        "private": stored(world.node_a),
        "before": stored(world.public_node, ts=T0 - timedelta(days=1)),
        "during": stored(world.public_node, ts=T0 + timedelta(hours=1)),
    }


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_members_see_every_picture_others_get_404(world, pictures, client_for):
    url = f"/api/v1/nodes/{world.node_a.pk}/images/"
    assert ids(client_for(world.alice).get(url)) == [pictures["private"].pk]
    assert ids(client_for(world.bob).get(url)) == [pictures["private"].pk]  # inspector
    assert ids(client_for(world.root).get(url)) == [pictures["private"].pk]
    for user in (world.charlie, world.dave, None):
        assert client_for(user).get(url).status_code == 404
    assert client_for(world.alice).get("/api/v1/nodes/999999/images/").status_code == 404
    assert client_for(world.alice).get(f"/api/v1/nodes/{2**70}/images/").status_code == 404


def test_a_public_installation_publishes_its_period_only(world, pictures, client_for):
    url = f"/api/v1/nodes/{world.public_node.pk}/images/"
    everything = [pictures["during"].pk, pictures["before"].pk]
    assert ids(client_for(world.alice).get(url)) == everything
    for user in (None, world.charlie):
        assert ids(client_for(user).get(url)) == [pictures["during"].pk]
        for kind in ("", "original/", "thumbnail/"):
            before = client_for(user).get(f"/api/v1/images/{pictures['before'].pk}/{kind}")
            assert before.status_code == 404
            during = client_for(user).get(f"/api/v1/images/{pictures['during'].pk}/{kind}")
            assert during.status_code == 200
    world.public_installation.end = T0 + timedelta(minutes=30)  # ended before "during"
    world.public_installation.save()
    assert ids(client_for(None).get(url)) == []


@pytest.mark.parametrize("kind", ["", "original/", "thumbnail/"])
def test_another_organizations_picture_is_a_404(world, pictures, client_for, kind):
    url = f"/api/v1/images/{pictures['private'].pk}/{kind}"
    assert client_for(world.alice).get(url).status_code == 200
    for user in (world.charlie, world.dave, None):
        response = client_for(user).get(url)
        assert response.status_code == 404
        assert response.content == client_for(user).get(f"/api/v1/images/999999/{kind}").content


def test_the_list_filters_by_name_and_time_and_pages(world, client_for):
    for hour in range(5):
        stored(world.node_a, name="door" if hour % 2 else "yard", ts=T0 + timedelta(hours=hour))
    client = client_for(world.alice)
    url = f"/api/v1/nodes/{world.node_a.pk}/images/"
    body = client.get(url, {"name": "door"}).json()
    assert [row["ts"] for row in body["results"]] == [
        "2026-06-01T15:00:00Z",
        "2026-06-01T13:00:00Z",
    ]
    window = client.get(url, {"from": "2026-06-01T13:00:00Z", "to": "2026-06-01T15:00:00Z"})
    assert len(ids(window)) == 2
    paged = client.get(url, {"page_size": 2}).json()
    assert body["count"] == 2 and paged["count"] == 5 and len(paged["results"]) == 2
    bad = client.get(url, {"from": "soon"})
    assert bad.status_code == 400 and "from" in bad.json()
    row = client.get(url).json()["results"][0]
    assert row["original_url"].endswith(f"/api/v1/images/{row['id']}/original/")
    assert set(row) >= {"name", "ts", "content_type", "size", "width", "height", "sha256"}


def test_downloads_are_sandboxed_typed_and_cacheable(store_kind, world, pictures, client_for):
    image = pictures["private"]
    client = client_for(world.alice)
    response = client.get(f"/api/v1/images/{image.pk}/original/")
    if store_kind == "s3":  # a short-lived signed URL of the store
        assert response.status_code == 302
        fetched = requests.get(response["Location"], timeout=10)
        assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "image/jpeg"
        assert fetched.content[:2] == b"\xff\xd8"
        assert "X-Amz-Signature" in response["Location"]
        streamed = client.get(f"/api/v1/images/{image.pk}/original/", {"stream": "1"})
        assert streamed.status_code == 200 and streamed["Content-Type"] == "image/jpeg"
        assert b"".join(streamed.streaming_content)[:2] == b"\xff\xd8"
        return
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    etag = response["ETag"]
    again = client.get(f"/api/v1/images/{image.pk}/original/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    thumbnail = client.get(f"/api/v1/images/{image.pk}/thumbnail/")
    assert thumbnail["Content-Type"] == "image/webp" and thumbnail["ETag"] != etag


def test_the_detail_and_schema_describe_pictures(world, pictures, client_for):
    row = client_for(world.alice).get(f"/api/v1/images/{pictures['private'].pk}/").json()
    assert row["node"] == world.node_a.pk and row["content_type"] == "image/jpeg"
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/nodes/{id}/images/",
        "/api/v1/images/{id}/original/",
        "/api/v1/images/{id}/thumbnail/",
        "/api/v1/ingest/images/",
    ):
        assert path in schema["paths"], path
