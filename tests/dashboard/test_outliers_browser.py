"""The live outlier page in a real Chromium (Playwright), on the demo data: the demo's
roof camera (harbour-offices) gets its first model on a normal day (simulator.normal_day),
the worker runs; charlie (owner), erin (inspector of the same organization) and alice
(another organization) have /outliers/ open when the camera posts a normal picture
and then a covered lens. Both scores appear live on charlie's and erin's pages with
the picture, its reconstruction, the error against the threshold and the verdict;
charlie acknowledges the outlier, erin has no control to; alice sees none of it.

Needs Debian's /usr/bin/chromium (.ci/run installs it) and the outliers extra.
"""

import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from sensorgrid.extras import installed
from tests.dashboard.liveserver import PASSWORD, SensorGridServer
from tests.dashboard.marks import BROWSER

pytestmark = [
    *BROWSER,
    pytest.mark.skipif(not installed("sklearn"), reason="needs the outliers extra"),
]
#: seconds a score may take from the post to the page (worker, then the follower)
ARRIVAL_MS = 60_000

CAMERA, SEED = "demo-cam-101", 1  # the demo's camera (runtime demo SIMULATORS)
LATER = datetime(2026, 1, 15, 9, 0, 20, tzinfo=UTC)  # after the model's normal day
SETUP = f"""
from sensorgrid.inventory.models import Node
from sensorgrid.simulator import normal_day
from sensorgrid.tenancy.models import Membership, Organization, Role, User
node = Node.objects.get(device_id={CAMERA!r})
normal_day.first_model(node, {SEED}, 1, kind="pca")
erin = User.objects.create_user("erin", password={PASSWORD!r})
Membership.objects.create(
    user=erin, organization=node.organization, role=Role.INSPECTOR,
)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = SensorGridServer(tmp_path_factory.mktemp("outliers")).start()
    server.manage("shell", "-c", SETUP)
    server.start_worker()
    camera = server.node("charlie", CAMERA)
    server.camera = camera
    server.camera_credential = server.credential("charlie", camera["id"])
    yield server
    server.stop()


def post_picture(server, anomaly: str | None, ago: int) -> None:
    from sensorgrid.simulator import scenes

    # A fixed time, not now: a picture's noise is seeded by its time, and a normal daytime
    # picture's error is 0.8-0.95 of this model's threshold, above it about once in 400
    # (tests/outliers/test_demo_camera.py). At 09:00 of this day it is 0.8.
    at = LATER - timedelta(seconds=ago)
    data = scenes.encode(scenes.picture(SEED, 1, at, anomaly))
    stamp = at.isoformat().replace("+00:00", "Z")
    request = urllib.request.Request(
        f"{server.base}/api/v1/ingest/images/?name=camera&ts={stamp}",
        data=data,
        headers={
            "Authorization": f"Bearer {server.camera_credential}",
            "Content-Type": "image/jpeg",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def open_outliers(browser, server, user: str):
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{server.base}/login/?next=/outliers/")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server.base}/outliers/")
    page.wait_for_selector('#live-state[data-state="connected"]')
    page.problems = problems
    return page


def test_scores_appear_live_owners_acknowledge_inspectors_cannot_others_see_nothing(
    browser, server
):
    from playwright.sync_api import expect

    owner = open_outliers(browser, server, "charlie")
    inspector = open_outliers(browser, server, "erin")
    stranger = open_outliers(browser, server, "alice")
    for page in (owner, inspector, stranger):
        assert page.locator("li[data-score]").count() == 0
    post_picture(server, None, ago=20)
    post_picture(server, "covered", ago=10)

    outlier = owner.locator('li[data-score][data-outlier="true"]')
    expect(outlier).to_have_count(1, timeout=ARRIVAL_MS)
    expect(owner.locator('li[data-score][data-outlier="false"]')).to_have_count(
        1, timeout=ARRIVAL_MS
    )
    # Newest first: the covered lens (taken last) above the normal picture.
    assert owner.locator("li[data-score]").first.get_attribute("data-outlier") == "true"
    expect(outlier.locator(".badge")).to_have_text("Outlier")
    score_id = outlier.get_attribute("data-score")
    pictures = outlier.locator("img")
    assert "/thumbnail/?stream=1" in pictures.nth(0).get_attribute("src")
    assert f"/outlier-scores/{score_id}/reconstruction/" in pictures.nth(1).get_attribute("src")
    # Both pictures load (the thumbnail and the reconstruction PNG, through the walls).
    owner.wait_for_function(
        "(id) => [...document.querySelectorAll(`li[data-score='${id}'] img`)]"
        ".every((i) => i.complete && i.naturalWidth > 0)",
        arg=score_id,
    )
    error = float(outlier.locator('[data-field="score"]').inner_text())
    threshold = float(outlier.locator('[data-field="threshold"]').inner_text().split()[0])
    assert error > threshold
    assert "Roof camera · camera" in outlier.locator(".outlier-title").inner_text()

    seen = inspector.locator(f'li[data-score="{score_id}"]')
    expect(seen).to_have_count(1, timeout=ARRIVAL_MS)
    expect(inspector.locator("li[data-score]")).to_have_count(2)
    assert seen.get_by_role("button", name="Acknowledge").count() == 0
    expect(seen).to_contain_text("Not acknowledged yet")

    outlier.get_by_role("button", name="Acknowledge").click()
    owner.wait_for_url(f"{server.base}/outliers/")
    expect(owner.locator(f'li[data-score="{score_id}"]')).to_contain_text("Acknowledged by charlie")

    # alice (Riverside School) heard nothing, and a fresh page shows nothing either.
    assert stranger.locator("li[data-score]").count() == 0
    stranger.reload()
    assert stranger.locator("li[data-score]").count() == 0
    answer = stranger.request.get(f"{server.base}/outliers/{score_id}/row/")
    assert answer.status == 404
    for page in (owner, inspector, stranger):
        assert page.problems == [], page.problems
        page.context.close()
