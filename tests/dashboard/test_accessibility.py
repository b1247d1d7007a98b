"""axe-core (from npm, test-only: node_modules/axe-core) on every dashboard page, in a
real Chromium: as alice (owner), bob (inspector) and anonymous (the pages without a
login), in the light and the dark scheme, on a desktop and on a 390 px phone. Zero
violations; on the phone nothing scrolls sideways.

The pages come from the URL resolver (tests/dashboard/every_page.py), their parameters
filled with objects of a data set on the demo data, so a new page is checked without
editing this module, and a page nothing can fill fails the test by name.

The pages' CSP allows no injected script: the contexts bypass it to load axe.
Needs Debian's /usr/bin/chromium (.ci/run installs it) and `make assets` (npm ci).
"""

import pytest

from tests.dashboard import every_page
from tests.dashboard.liveserver import PASSWORD, SensorGridServer
from tests.dashboard.marks import BROWSER

AXE = every_page.REPOSITORY / "node_modules/axe-core/axe.min.js"

pytestmark = [
    *BROWSER,
    pytest.mark.skipif(not AXE.exists(), reason="axe-core not installed: run `make assets`"),
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Routes whose GET is not an HTML document of its own (a test that they stay the only ones:
# a new one must be looked at, not silently skipped).
NOT_DOCUMENTS = {
    "dashboard:nodes-csv",
    "dashboard:alert-row",
    "dashboard:outlier-row",
    "dashboard:node-connect-status",
}

# axe's violations as plain data: rule, impact, the elements (CSS selectors) and advice.
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  }));
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = SensorGridServer(tmp_path_factory.mktemp("a11y")).start()
    node = server.node("alice", "demo-co2-002")
    credential = server.credential("alice", node["id"])
    server.ingest(credential, {"device": "demo-co2-002", "values": {"co2": 812, "temp": 21.5}})
    server.objects = every_page.build_in(server.environment)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def signed_in(browser, server):
    """Each user's cookies (Playwright storage state), signed in once."""
    states = {"anonymous": None}
    for user in ("alice", "bob"):
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{server.base}/login/?next=/sites/")
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{server.base}/sites/")
        states[user] = context.storage_state()
        context.close()
    return states


@pytest.fixture(scope="module")
def pages(browser, server, signed_in):
    """Each user's pages: every route GET as that user, sorted (every_page.visit)."""
    found = {}
    for user, state in signed_in.items():
        context = browser.new_context(storage_state=state)
        found[user] = every_page.visit(context.request, server.base, server.objects)
        context.close()
    return found


def test_every_route_is_a_page_an_action_or_a_known_non_page(pages):
    owner = pages["alice"]
    assert owner.unfilled == [], (
        f"routes no object of every_page.build() fills (add it to OBJECT_OF_PATH): {owner.unfilled}"
    )
    assert set(owner.not_documents) == NOT_DOCUMENTS
    # Every page opens to its owner, but the 404 and another address's invitation link;
    # only the login page sends her elsewhere (she is signed in already).
    assert owner.redirected == ["dashboard:login"]
    refused = {name: code for name, code in owner.status.items() if code != 200}
    assert refused == {"/no-such-page/": 404, "dashboard:invitation": 403}
    # The owner's pages include the management forms and every detail page.
    for name in ("dashboard:node", "dashboard:channel-edit", "dashboard:dead-letter"):
        assert name in owner.pages
    assert "dashboard:node-rotate" in owner.actions
    inspector = pages["bob"]
    assert (
        inspector.status["dashboard:node"] == 200 and inspector.status["dashboard:site-new"] == 403
    )
    anonymous = pages["anonymous"].pages
    assert {"dashboard:login", "dashboard:public", "dashboard:invitation"} <= set(anonymous)
    assert "dashboard:sites" not in anonymous


def check(browser, server, state, paths, scheme: str, viewport: dict) -> list[str]:
    """axe on each path in one context; the failures, one line per violation."""
    context = browser.new_context(
        storage_state=state, color_scheme=scheme, viewport=viewport, bypass_csp=True
    )
    page = context.new_page()
    failures = []
    try:
        for path in paths:
            page.goto(server.base + path)
            page.add_script_tag(path=str(AXE))
            for violation in page.evaluate(RUN_AXE):
                failures.append(
                    f"{path}: {violation['id']} ({violation['impact']}) {violation['help']}: "
                    f"{', '.join(violation['targets'])}"
                )
            if viewport == PHONE:
                width = page.evaluate("() => document.documentElement.scrollWidth")
                if width > PHONE["width"]:
                    failures.append(f"{path}: scrolls sideways at 390 px ({width} px wide)")
    finally:
        context.close()
    return failures


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("user", ["alice", "bob", "anonymous"])
def test_no_page_has_an_accessibility_violation(
    browser, server, signed_in, pages, user, scheme, viewport
):
    paths = list(pages[user].pages.values())
    failures = check(browser, server, signed_in[user], paths, scheme, viewport)
    assert failures == [], f"{len(failures)} problems on {len(paths)} pages:\n" + "\n".join(
        failures
    )
