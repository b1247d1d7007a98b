"""Personas and a small world shared by the tests.

alice owns org A, bob inspects org A, charlie owns org B, dave is staff without any
membership, root is a superuser. Org A has one private and one public installation;
names of A's private objects contain "secretA" so a leak is easy to spot in any body.
"""

from dataclasses import dataclass

import pytest
from django.test import Client
from rest_framework.test import APIClient

from sensorgrid.events import PHASES
from sensorgrid.ingest import cache
from sensorgrid.inventory.models import Installation, Node, NodeModel, Room, Site
from sensorgrid.tenancy.models import Membership, Organization, Role, User
from tests import factories as f


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A transactional test must restore the database it flushed (serialized_rollback).

    Without it, Django's flush after the test re-creates the content types with new
    ids, and the next test that restores the serialized database fails on a duplicate
    content type: an error in a test far away, depending on the order. Found when the
    first transactional tests without it came in (issue 20)."""
    wrong = [
        item.nodeid
        for item in items
        for marker in item.iter_markers("django_db")
        if marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback")
    ]
    if wrong:
        raise pytest.UsageError(
            "django_db(transaction=True) needs serialized_rollback=True: " + ", ".join(wrong)
        )


_failed: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        _failed.append(
            report.nodeid if report.when == "call" else f"{report.nodeid} ({report.when})"
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    """The failed tests' ids once more, as the very last lines of the run.

    Under CI pytest prints each failure's whole message in the short summary; a long
    one (a /metrics body, a server log) pushed the ids out of the tail that CI shows."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if _failed and reporter is not None:
        reporter.write_line(f"failed ({len(_failed)}): " + " ".join(_failed[:20]))


@dataclass
class World:
    alice: User
    bob: User
    charlie: User
    dave: User
    root: User
    org_a: Organization
    org_b: Organization
    site_a: Site  # private
    room_a: Room
    node_a: Node
    installation_a: Installation
    public_site: Site  # made public by public_installation
    public_room: Room
    public_node: Node
    public_installation: Installation
    model_a: NodeModel  # private to org A
    shared_model: NodeModel
    membership_bob: Membership
    site_b: Site
    room_b: Room
    node_b: Node
    installation_b: Installation


@pytest.fixture
def world(db) -> World:
    alice = f.UserFactory(username="alice")
    bob = f.UserFactory(username="bob")
    charlie = f.UserFactory(username="charlie")
    dave = f.UserFactory(username="dave", is_staff=True)
    root = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    org_a = f.OrganizationFactory(name="Org A", slug="org-a")
    org_b = f.OrganizationFactory(name="Org B", slug="org-b")
    f.MembershipFactory(user=alice, organization=org_a, role=Role.OWNER)
    membership_bob = f.MembershipFactory(user=bob, organization=org_a, role=Role.INSPECTOR)
    f.MembershipFactory(user=charlie, organization=org_b, role=Role.OWNER)

    site_a = f.SiteFactory(organization=org_a, name="secretA site")
    room_a = f.RoomFactory(site=site_a, name="secretA room")
    model_a = f.NodeModelFactory(organization=org_a, name="secretA model")
    node_a = f.NodeFactory(organization=org_a, device_id="secretA-node", model=model_a)
    installation_a = f.InstallationFactory(node=node_a, room=room_a)

    public_site = f.SiteFactory(organization=org_a, name="Public school")
    public_room = f.RoomFactory(site=public_site, name="Public classroom")
    public_node = f.NodeFactory(organization=org_a, device_id="secretA-public-node")
    public_installation = f.InstallationFactory(node=public_node, room=public_room, is_public=True)
    shared_model = f.NodeModelFactory(organization=None, name="Shared model")

    site_b = f.SiteFactory(organization=org_b, name="secretB site")
    room_b = f.RoomFactory(site=site_b, name="secretB room")
    node_b = f.NodeFactory(organization=org_b, device_id="secretB-node")
    installation_b = f.InstallationFactory(node=node_b, room=room_b)
    return World(**{k: v for k, v in locals().items() if k in World.__dataclass_fields__})


@pytest.fixture
def client_for():
    """An API client signed in (by token) as the given user, or anonymous for None."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            from sensorgrid.accounts.models import ApiToken

            _, key = ApiToken.objects.issue(user, "test")
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def admin_as(world, client):
    """``admin_as("alice")``: Django's test client signed in to the admin (a session, as a
    browser) as that persona of ``world``, made staff first, as an operator would."""

    def login(persona: str) -> Client:
        user = getattr(world, persona)
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def fresh_ingest_directory():
    # The ingest cache maps device ids to node ids; each test has its own rows.
    cache.directory.clear()
    yield
    cache.directory.clear()


@pytest.fixture
def listen(settings):
    """``listen(EventClass, consumer, phase)``: one more consumer of an event
    (settings ``AFTER_COMMIT_CONSUMERS``, ``sensorgrid.events``) for this test only."""

    def add(kind, consumer, phase="after-ack"):
        path = f"{kind.__module__}.{kind.__qualname__}"
        configured = {
            key: list(entries) for key, entries in settings.AFTER_COMMIT_CONSUMERS.items()
        }
        entries = configured.setdefault(path, [])
        # in phase order (sensorgrid.events checks it): first of its phase, after-ack last
        earlier = sum(1 for _, other in entries if PHASES.index(other) < PHASES.index(phase))
        entries.insert(len(entries) if phase == "after-ack" else earlier, (consumer, phase))
        settings.AFTER_COMMIT_CONSUMERS = configured
        return consumer

    return add


@pytest.fixture(autouse=True)
def fresh_request_throttles():
    # DRF's rate history (the token endpoint's 30/min) lives in the cache, not in the
    # test's transaction; login lockouts (django-axes) are rows, rolled back anyway.
    # Only the in-process cache: a shared Redis is never flushed from a test.
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2's million rounds cost ~0.5 s per user; tests need no brute-force resistance.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
