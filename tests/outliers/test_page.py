"""The outlier page (/outliers/) and its cards: members see their organizations' scored
pictures newest first with the reconstruction, error, threshold and verdict; owners
acknowledge an outlier (and with it the open image-outlier alert it is part of),
inspectors cannot (403); other organizations' scores never appear; anonymous users
are sent to the login page. The Images tab links here and shows the stored bytes' hash."""

import hashlib

import pytest
from django.test import Client

from sensorgrid.alerts.models import Alert
from sensorgrid.images import storage
from sensorgrid.outliers import service
from tests.outliers.conftest import START, STEP, store_picture
from tests.outliers.test_alerts import make_rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(world, normal_day, client_for, django_capture_on_commit_callbacks):
    """Node A: a model, an image-outlier rule, then a normal picture and two outliers;
    node B (another organization): an outlier of its own."""
    service.train(world.node_a, "camera", kind="pca")
    assert make_rule(client_for(world.alice), world).status_code == 201
    later = START + 100 * STEP
    with django_capture_on_commit_callbacks(execute=True):
        a = [
            service.score_image(store_picture(world.node_a, later + i * STEP, anomaly).pk)
            for i, anomaly in enumerate([None, "covered", "object"])
        ]
    for i in range(12):
        store_picture(world.node_b, START + i * STEP)
    service.train(world.node_b, "camera", kind="pca")
    b = service.score_image(store_picture(world.node_b, later, "object").pk)
    return a, b


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def cards(html: str) -> list[str]:
    return html.split('<li class="outlier-card')[1:]


def test_members_see_their_scored_pictures_newest_first_and_owners_acknowledge(world, scored):
    (normal, covered, thing), foreign = scored
    page = browser(world.alice).get("/outliers/")
    assert page.status_code == 200
    html = page.content.decode()
    shown = cards(html)
    order = [thing, covered, normal]  # newest first
    assert len(shown) == 3 and f'data-score="{foreign.pk}"' not in html
    assert all(f'data-score="{s.pk}"' in c for s, c in zip(order, shown, strict=True))
    first = shown[0]
    assert f"/api/v1/images/{thing.image_id}/thumbnail/?stream=1" in first
    assert f"/api/v1/outlier-scores/{thing.pk}/reconstruction/" in first
    assert f"{thing.score:.6f}" in first and f"{thing.threshold:.6f}" in first
    assert "Outlier" in first and "Acknowledge</button>" in first
    assert "Normal" in shown[2] and "Acknowledge" not in shown[2]
    only = cards(browser(world.alice).get("/outliers/?show=outliers").content.decode())
    assert len(only) == 2
    # The alert the outliers opened is acknowledged with the first outlier looked at.
    alert = Alert.objects.get(node=world.node_a)
    assert alert.acknowledged_at is None
    done = browser(world.alice).post(
        f"/outliers/{covered.pk}/acknowledge/", {"next": "/outliers/?show=open"}
    )
    assert done.status_code == 302 and done["Location"] == "/outliers/?show=open"
    covered.refresh_from_db()
    alert.refresh_from_db()
    assert covered.acknowledged_by == world.alice and alert.acknowledged_by == world.alice
    left = cards(browser(world.alice).get("/outliers/?show=open").content.decode())
    assert len(left) == 1 and f'data-score="{thing.pk}"' in left[0]
    row = browser(world.alice).get(f"/outliers/{covered.pk}/row/").content.decode()
    assert "Acknowledged by alice" in row and "<button" not in row


def test_inspectors_see_but_cannot_acknowledge(world, scored):
    (_normal, covered, _thing), _foreign = scored
    html = browser(world.bob).get("/outliers/").content.decode()
    assert len(cards(html)) == 3 and "Acknowledge</button>" not in html
    assert browser(world.bob).post(f"/outliers/{covered.pk}/acknowledge/").status_code == 403
    covered.refresh_from_db()
    assert covered.acknowledged_at is None


def test_other_organizations_and_anonymous_see_none_of_it(world, scored):
    (_normal, covered, _thing), foreign = scored
    html = browser(world.charlie).get("/outliers/").content.decode()
    assert [f'data-score="{foreign.pk}"' in c for c in cards(html)] == [True]
    for path in (f"/outliers/{covered.pk}/row/", f"/outliers/?node={world.node_a.pk}"):
        assert browser(world.charlie).get(path).status_code == 404
    assert browser(world.charlie).post(f"/outliers/{covered.pk}/acknowledge/").status_code == 404
    assert browser(world.alice).get(f"/outliers/?organization={world.org_b.pk}").status_code == 404
    for path in ("/outliers/", f"/outliers/{covered.pk}/row/"):
        answer = browser().get(path)
        assert answer.status_code == 302 and answer["Location"].startswith("/login/?next=")
    assert browser().post(f"/outliers/{covered.pk}/acknowledge/").status_code == 302
    covered.refresh_from_db()
    assert covered.acknowledged_at is None


def test_the_images_tab_links_the_nodes_outliers_and_shows_the_stored_hash(world, scored):
    (normal, *_), _foreign = scored
    alice = browser(world.alice)
    node = world.node_a.pk
    page = alice.get(f"/nodes/{node}/images/?image={normal.image_id}").content.decode()
    assert f'href="/outliers/?node={node}"' in page
    stored = hashlib.sha256(storage.read(normal.image.key)).hexdigest()
    assert f'data-field="stored-sha256">{stored}</code>' in page
    assert len(cards(alice.get(f"/outliers/?node={node}").content.decode())) == 3
