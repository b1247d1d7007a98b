"""The tenancy wall, endpoint × method × persona.

Expected statuses are derived from three facts: who the persona is to the object's
organization (owner, inspector, stranger, anonymous, superuser), whether a public
installation publishes the object, and the rules in docs/api.md. Every response body
is also searched for the names of objects the persona must not see.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse

from sensorgrid.telemetry.models import Reception
from sensorgrid.tenancy.models import Membership, Role

PERSONAS = ["alice", "bob", "charlie", "dave", "anonymous", "root"]


@dataclass(frozen=True)
class Resource:
    basename: str
    objects: tuple[str, ...]  # World attributes: instances of this resource
    public: tuple[str, ...]  # which of them a public installation publishes
    patch: dict
    create: Any  # (world, obj) -> payload creating a sibling of obj in obj's organization
    # Whether the parent named in the create payload is visible to strangers (org A is
    # public through its public installation; nodes never are).
    parent_public: Any = lambda w, o: o.organization_id == w.org_a.pk
    deleted: int = 204  # what a permitted DELETE answers


RESOURCES = [
    Resource(
        "membership",
        ("membership_bob",),
        (),
        {"role": "owner"},
        lambda w, o: {"organization": o.organization_id, "user": "dave", "role": "inspector"},
    ),
    Resource(
        "site",
        ("site_a", "public_site", "site_b"),
        ("public_site",),
        {"name": "Renamed"},
        lambda w, o: {"organization": o.organization_id, "name": "New site"},
    ),
    Resource(
        "room",
        ("room_a", "public_room", "room_b"),
        ("public_room",),
        {"name": "Renamed"},
        lambda w, o: {"site": o.site_id, "name": "New room"},
        lambda w, o: o.site_id == w.public_site.pk,
    ),
    Resource(
        "nodemodel",
        ("model_a",),
        (),
        {"name": "Renamed"},
        lambda w, o: {"organization": o.organization_id, "manufacturer": "M", "name": "N"},
        deleted=409,  # node_a still uses it
    ),
    Resource(
        "node",
        ("node_a", "public_node", "node_b"),
        (),
        {"alias": "Renamed"},
        lambda w, o: {"organization": o.organization_id, "device_id": "brand-new-device"},
    ),
    Resource(
        "installation",
        ("installation_a", "public_installation", "installation_b"),
        ("public_installation",),
        {"end": "2030-01-01T00:00:00Z"},
        lambda w, o: {
            "node": o.node_id,
            "room": o.room_id,
            "start": "2020-01-01T00:00:00Z",
            "end": "2021-01-01T00:00:00Z",
        },
        # The node is never visible to strangers, but naming the public room (visible,
        # not theirs to change) is refused first.
        lambda w, o: o.room_id == w.public_room.pk,
    ),
    Resource(
        "alertchannel",
        ("channel_a", "channel_b"),
        (),
        {"name": "Renamed"},
        lambda w, o: {
            "organization": o.organization_id,
            "name": "New hook",
            "kind": "webhook",
            "config": {"url": "https://example.org/new-hook"},
        },
    ),
    Resource(
        "alertrule",
        ("rule_a", "rule_b"),
        (),
        {"name": "Renamed"},
        lambda w, o: {
            "organization": o.organization_id,
            "name": "New rule",
            "kind": "threshold",
            "params": {"above": 1000},
            "scope": "organization",
            "quantity": "co2",
        },
    ),
]


@pytest.fixture(autouse=True)
def alert_objects(request):
    """Alert channels and rules of org A and org B (secretA/secretB names, as the world's)."""
    if "world" not in request.fixturenames:
        return
    from sensorgrid.alerts.models import AlertRule, Channel
    from sensorgrid.inventory.models import Quantity

    world = request.getfixturevalue("world")
    for attr, org, name in (
        ("channel_a", world.org_a, "secretA hook"),
        ("channel_b", world.org_b, "secretB hook"),
    ):
        setattr(
            world,
            attr,
            Channel.objects.create(
                organization=org, name=name, kind="webhook", config={"url": "https://example.org/h"}
            ),
        )
    co2 = Quantity.objects.get(key="co2")
    for attr, org, name in (
        ("rule_a", world.org_a, "secretA rule"),
        ("rule_b", world.org_b, "secretB rule"),
    ):
        rule = AlertRule(
            organization=org, name=name, kind="threshold", params={"above": 1000}, quantity=co2
        )
        rule.save()
        setattr(world, attr, rule)


def relation(world, persona: str, organization_id: int | None) -> str:
    if persona == "anonymous":
        return "anonymous"
    user = getattr(world, persona)
    if user.is_superuser:
        return "superuser"
    membership = Membership.objects.filter(user=user, organization_id=organization_id).first()
    if membership is None:
        return "stranger"
    return "owner" if membership.role == Role.OWNER else "inspector"


def organization_of(obj) -> int:
    for path in ("organization_id", "site.organization_id", "node.organization_id"):
        value = obj
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        return value
    raise AssertionError(obj)


def expected(
    method: str, who: str, public: bool, parent_public: bool = False, deleted: int = 204
) -> int:
    if method == "GET":
        return 200 if who in ("superuser", "owner", "inspector") or public else 404
    if who == "anonymous":
        return 401
    ok = {"PATCH": 200, "DELETE": deleted, "POST": 201}[method]
    if who in ("superuser", "owner"):
        return ok
    if who == "inspector":
        return 403
    if method == "POST":  # a stranger names a parent: invisible → 400, visible → 403
        return 403 if parent_public else 400
    return 403 if public else 404


def forbidden_markers(world, persona: str) -> list[str]:
    """Names that must not appear in any body the persona receives."""
    return {
        "alice": ["secretB"],
        "bob": ["secretB"],
        "charlie": ["secretA"],
        "dave": ["secretA", "secretB"],
        "anonymous": ["secretA", "secretB"],
        "root": [],
    }[persona]


def assert_no_leak(world, persona, response):
    body = response.content.decode()
    for marker in forbidden_markers(world, persona):
        assert marker not in body, f"{persona} received {marker!r}: {body[:300]}"


CASES = [
    (resource, attr, persona)
    for resource in RESOURCES
    for attr in resource.objects
    for persona in PERSONAS
]


@pytest.mark.parametrize(
    ("resource", "attr", "persona"),
    CASES,
    ids=[f"{r.basename}-{a}-{p}" for r, a, p in CASES],
)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE", "POST"])
def test_wall(world, client_for, resource, attr, persona, method):
    obj = getattr(world, attr)
    client = client_for(None if persona == "anonymous" else getattr(world, persona))
    who = relation(world, persona, organization_of(obj))
    public = attr in resource.public
    detail = reverse(f"{resource.basename}-detail", args=[obj.pk])
    if method == "GET":
        response = client.get(detail)
    elif method == "PATCH":
        response = client.patch(detail, resource.patch, format="json")
    elif method == "DELETE":
        response = client.delete(detail)
    else:
        payload = resource.create(world, obj)
        response = client.post(reverse(f"{resource.basename}-list"), payload, format="json")
    want = expected(method, who, public, resource.parent_public(world, obj), resource.deleted)
    assert response.status_code == want, (who, response.content[:300])
    assert_no_leak(world, persona, response)
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("resource", RESOURCES, ids=[r.basename for r in RESOURCES])
@pytest.mark.parametrize("persona", PERSONAS)
def test_lists_show_exactly_what_persona_may_see(world, client_for, resource, persona):
    client = client_for(None if persona == "anonymous" else getattr(world, persona))
    response = client.get(reverse(f"{resource.basename}-list"), {"page_size": 1000})
    assert response.status_code == 200
    listed = {row["id"] for row in response.json()["results"]}
    model = getattr(world, resource.objects[0]).__class__
    visible = {
        obj.pk
        for obj in model.objects.all()
        if expected(
            "GET",
            relation(world, persona, organization_of(obj)),
            any(obj.pk == getattr(world, attr).pk for attr in resource.public),
        )
        == 200
    }
    if resource.basename == "nodemodel":
        visible |= set(model.objects.filter(organization=None).values_list("pk", flat=True))
    assert listed == visible
    assert_no_leak(world, persona, response)


@pytest.mark.parametrize("persona", PERSONAS)
def test_organizations_follow_the_wall(world, client_for, persona):
    client = client_for(None if persona == "anonymous" else getattr(world, persona))
    for org, public in ((world.org_a, True), (world.org_b, False)):
        who = relation(world, persona, org.pk)
        detail = reverse("organization-detail", args=[org.pk])
        assert client.get(detail).status_code == expected("GET", who, public)
        response = client.patch(detail, {"name": "Renamed"}, format="json")
        assert response.status_code == expected("PATCH", who, public)
    listed = {o["slug"] for o in client.get(reverse("organization-list")).json()["results"]}
    assert "org-a" in listed  # public through its public installation
    assert ("org-b" in listed) == (persona in ("charlie", "root"))


def test_inspector_sees_own_role_and_public_org_has_none(world, client_for):
    rows = client_for(world.bob).get(reverse("organization-list")).json()["results"]
    assert {r["slug"]: r["role"] for r in rows} == {"org-a": "inspector"}
    rows = client_for(world.charlie).get(reverse("organization-list")).json()["results"]
    assert {r["slug"]: r["role"] for r in rows} == {"org-a": None, "org-b": "owner"}


def test_any_user_creates_an_organization_and_owns_it(world, client_for):
    response = client_for(world.dave).post(
        reverse("organization-list"), {"name": "Dave's lab", "slug": "daves-lab"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["role"] == "owner"
    assert (
        client_for(None).post(reverse("organization-list"), {"name": "x", "slug": "x"}).status_code
        == 401
    )


def test_shared_catalogue_is_read_only_for_non_superusers(world, client_for):
    detail = reverse("nodemodel-detail", args=[world.shared_model.pk])
    assert client_for(None).get(detail).status_code == 200
    assert client_for(world.alice).patch(detail, {"name": "x"}, format="json").status_code == 403
    assert client_for(world.root).patch(detail, {"name": "x"}, format="json").status_code == 200
    payload = {"organization": None, "manufacturer": "M", "name": "Shared"}
    response = client_for(world.alice).post(reverse("nodemodel-list"), payload, format="json")
    assert response.status_code == 403


def test_quantities_are_read_by_all_and_written_by_administrators(world, client_for):
    url = reverse("quantity-list")
    keys = {q["key"] for q in client_for(None).get(url, {"page_size": 100}).json()["results"]}
    assert {"co2", "temperature", "humidity", "pm2_5", "speed", "rssi"} <= keys
    payload = {"key": "radon", "name": "Radon", "unit": "Bq/m³", "min_value": 0}
    assert client_for(world.alice).post(url, payload, format="json").status_code == 403
    assert client_for(world.root).post(url, payload, format="json").status_code == 201


NODE_READS = ["node-timeseries", "node-latest", "node-receptions"]
NODE_CASES = [
    (view, attr, persona)
    for view in NODE_READS
    for attr in ("node_a", "public_node", "node_b")
    for persona in PERSONAS
]


@pytest.mark.parametrize(
    ("view", "attr", "persona"),
    NODE_CASES,
    ids=[f"{v}-{a}-{p}" for v, a, p in NODE_CASES],
)
def test_node_data_is_for_members_only(world, client_for, view, attr, persona):
    node = getattr(world, attr)
    # Gateway ids carry the markers, so a leaked reception shows in the body.
    marker = "secretB" if node.organization_id == world.org_b.pk else "secretA"
    Reception.objects.create(node=node, ts="2026-01-01T00:00:00Z", gateway_id=f"{marker}-gw")
    client = client_for(None if persona == "anonymous" else getattr(world, persona))
    response = client.get(reverse(view, args=[node.pk]))
    # Nodes are never public, not even the one of a public installation.
    who = relation(world, persona, node.organization_id)
    assert response.status_code == expected("GET", who, public=False), response.content[:300]
    assert_no_leak(world, persona, response)


@pytest.mark.parametrize("persona", PERSONAS)
def test_gateways_heard_by_foreign_nodes_stay_hidden(world, client_for, persona):
    for node, marker in ((world.node_a, "secretA"), (world.node_b, "secretB")):
        Reception.objects.create(node=node, ts="2026-01-01T00:00:00Z", gateway_id=f"{marker}-gw")
    client = client_for(None if persona == "anonymous" else getattr(world, persona))
    response = client.get(reverse("gateway-list"))
    assert response.status_code == 200
    assert_no_leak(world, persona, response)
