"""Inviting a colleague in a real Chromium (Playwright) on a phone-sized screen: alice
(owner) invites an address, the server writes the mail to a file (the demo's backend),
the colleague opens the link from it, chooses a username and a password and sees the
organization's sites; the link does not work a second time. bob (inspector) sees the
members without any form. No page scrolls sideways at 390 px, none reports a
Content-Security-Policy violation.

Needs Debian's /usr/bin/chromium (.ci/run installs it) and the built assets (`make assets`).
"""

import re

import pytest

from tests.dashboard.liveserver import (
    PHONE,
    SensorGridServer,
    fits_the_screen,
    log_in,
    wait_until,
    watched_page,
)
from tests.dashboard.marks import BROWSER

pytestmark = BROWSER


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = SensorGridServer(tmp_path_factory.mktemp("members"))
    server.environment["SENSORGRID_EMAIL_BACKEND"] = "file"  # as in `sensorgrid demo`
    server.start()
    yield server
    server.stop()


@pytest.fixture
def new_page(browser):
    contexts = []

    def open_page():
        context = browser.new_context(viewport=PHONE)
        contexts.append(context)
        return watched_page(context)

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, server, user: str) -> None:
    log_in(page, server.base, user, "/organizations/")


def mailed_link(server, to: str) -> str:
    """The invitation link in the mail file the server wrote for ``to``."""

    def find() -> str | None:
        for path in sorted((server.directory / "mail").glob("*.log")):
            text = path.read_text()
            if f"To: {to}" in text:
                match = re.search(r"(http://\S+/invite/\S+/)", text)
                if match:
                    return match.group(1)
        return None

    return wait_until(find, timeout=10)


def site_names(page) -> list[str]:
    return sorted(page.locator(".site-card h2").all_inner_texts())


def test_alice_invites_a_colleague_who_sets_a_password_and_sees_the_sites(server, new_page):
    alice = new_page()
    sign_in(alice, server, "alice")
    fits_the_screen(alice)
    alice.goto(f"{server.base}/sites/")
    sites = site_names(alice)
    assert sites
    alice.goto(f"{server.base}/organizations/")
    alice.locator("table.organizations a").first.click()
    organization = alice.get_by_role("heading", level=1).inner_text()
    fits_the_screen(alice)
    alice.get_by_label("E-mail address").fill("dana@example.org")
    alice.get_by_label("Role", exact=True).select_option("inspector")
    alice.get_by_role("button", name="Send invitation").click()
    assert "Invitation sent to dana@example.org" in alice.locator(".messages").inner_text()
    assert alice.locator('[data-invitation="dana@example.org"]').is_visible()
    fits_the_screen(alice)

    link = mailed_link(server, "dana@example.org")
    dana = new_page()
    dana.goto(link)
    assert dana.get_by_role("heading", level=1).inner_text() == f"Join {organization}"
    fits_the_screen(dana)
    dana.get_by_label("Username").fill("dana")
    dana.get_by_label("Password", exact=True).fill("Sunflower meadow 42")
    dana.get_by_label("Password confirmation").fill("Sunflower meadow 42")
    dana.get_by_role("button", name="Create account and join").click()
    dana.wait_for_url(f"{server.base}/sites/")
    assert site_names(dana) == sites
    assert "dana" in dana.locator(".account").inner_text()
    fits_the_screen(dana)

    stranger = new_page()
    stranger.goto(link)
    assert "does not work" in stranger.get_by_role("heading", level=1).inner_text()

    alice.reload()
    assert alice.locator('[data-member="dana"]').is_visible()
    assert not alice.locator('[data-invitation="dana@example.org"]').count()
    assert alice.problems == [] and dana.problems == [] and stranger.problems == []


def test_bob_the_inspector_sees_the_members_without_forms(server, new_page):
    bob = new_page()
    sign_in(bob, server, "bob")
    bob.locator("table.organizations a").first.click()
    assert bob.locator('[data-member="alice"]').is_visible()
    assert bob.locator("form.manage-form, form.inline-form").count() == 0
    assert bob.get_by_role("button", name="Send invitation").count() == 0
    fits_the_screen(bob)
    assert bob.problems == []


def organization_names(page, server) -> list[str]:
    page.goto(f"{server.base}/organizations/")
    return page.locator("table.organizations td:first-child a").all_inner_texts()


def test_an_existing_user_joins_only_when_he_accepts(server, new_page):
    """alice invites charlie's address as owner: charlie is no member until he signs in
    from the link and presses Join (security review: owners made any user a member)."""
    alice = new_page()
    sign_in(alice, server, "alice")
    alice.locator("table.organizations a").first.click()
    organization = alice.get_by_role("heading", level=1).inner_text()
    alice.get_by_label("E-mail address").fill("charlie@example.org")
    alice.get_by_label("Role", exact=True).select_option("owner")
    alice.get_by_role("button", name="Send invitation").click()
    assert "Invitation sent to charlie@example.org" in alice.locator(".messages").inner_text()
    assert not alice.locator('[data-member="charlie"]').count()  # pending, not a member

    charlie = new_page()
    sign_in(charlie, server, "charlie")
    before = organization_names(charlie, server)
    assert organization not in before
    charlie.goto(mailed_link(server, "charlie@example.org"))
    assert charlie.get_by_role("heading", level=1).inner_text() == f"Join {organization}"
    fits_the_screen(charlie)
    assert organization_names(charlie, server) == before  # opening the link joins nothing
    charlie.goto(mailed_link(server, "charlie@example.org"))
    charlie.get_by_role("button", name=f"Join {organization}").click()
    charlie.wait_for_url(f"{server.base}/sites/")
    assert sorted(organization_names(charlie, server)) == sorted([*before, organization])
    alice.reload()
    assert alice.locator('[data-member="charlie"]').is_visible()
    assert alice.problems == [] and charlie.problems == []
