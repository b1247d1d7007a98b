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
    # Created by operators only, refused (403) to everybody else before the body is read:
    # memberships (owners invite; nobody is made a member without accepting).
    operators_create: bool = False


RESOURCES = [
    Resource(
        "membership",
        ("membership_bob",),
        (),
        {"role": "owner"},
        lambda w, o: {"organization": o.organization_id, "user": "dave", "role": "inspector"},
        operators_create=True,
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
    method: str,
    who: str,
    public: bool,
    parent_public: bool = False,
    deleted: int = 204,
    operators_create: bool = False,
) -> int:
    if method == "GET":
        return 200 if who in ("superuser", "owner", "inspector") or public else 404
    if who == "anonymous":
        return 401
    if method == "POST" and operators_create:
        return 201 if who == "superuser" else 403
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
    want = expected(
        method,
        who,
        public,
        resource.parent_public(world, obj),
        resource.deleted,
        resource.operators_create,
    )
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


# -- every registered route ---------------------------------------------------------------
#
# The matrix above is written per resource; the tests below walk the URL resolver, so a
# route added later without a place here fails test_every_api_route_is_covered.


def api_routes() -> dict[str, tuple[str, object]]:
    """Every named route under /api/: name -> (route, pattern)."""
    from django.urls import URLResolver, get_resolver

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif pattern.name:
                yield pattern.name, prefix + str(pattern.pattern), pattern

    return {
        name: (route, pattern)
        for name, route, pattern in walk(get_resolver().url_patterns, "")
        if route.startswith("api/")
    }


#: Routes the wall tests do not walk, each with the reason.
EXEMPT = {
    "api-root": "links only, no data",
    "schema": "the OpenAPI description: no data",
    "swagger-ui": "the API browser page: no data",
    "auth-token": "exchanges a password for a token; tests/accounts and tests/tenancy/test_auth",
    "apitoken-list": "per user, not per organization: tests/accounts/test_api_tokens.py",
    "apitoken-detail": "per user: test_another_users_token_is_not_found_and_not_revoked",
    "ingest": "device credentials, not users: tests/ingest (test_http, test_ingest_keys)",
    "ingest-decoder": "device credentials, not users: tests/ingest (test_lorawan)",
    "ingest-ttn-device": "device credentials, not users: tests/ingest/test_lorawan_envelopes",
    "ingest-images": "device credentials, not users: tests/images/test_http_ingest.py",
    "geo-layer": "keyed by layer name, not id: tests/geo (layer visibility per organization)",
    "geo-vehicle-track": "tests/geo/test_vehicles.py::test_another_organizations_vehicle_track…",
    "quantity-detail": "a global registry everybody reads: test_quantities_are_read_by_all…",
    # keyed by a score, behind its picture's walls (the files come from the images store)
    "outlier-reconstruction": "tests/outliers/test_api.py (another organization's scores)",
    "outlier-acknowledge": "tests/outliers/test_api.py (another organization's scores)",
    # keyed by a share link's token: tests/boards/test_api.py (revoked, another board's)
    "shared-board": "tests/boards/test_api.py::test_an_organization_share_shows_the_board…",
    "shared-board-panel": "tests/boards/test_api.py::test_a_share_token_of_another_board…",
    # POST only, keyed by a mailed token: tests/tenancy/test_invitation_accept_api.py
    "invitation-accept": "test_a_forwarded_link_adds_nobody, test_an_unusable_token_is_one_400…",
}

#: For every route that takes an object id: org B's object (foreign to alice and dave).
FOREIGN = {
    "organization": lambda w, x: w.org_b,
    "membership": lambda w, x: Membership.objects.get(user=w.charlie),
    "invitation": lambda w, x: x["invitation_b"],
    "site": lambda w, x: w.site_b,
    "room": lambda w, x: w.room_b,
    "nodemodel": lambda w, x: x["model_b"],
    "node": lambda w, x: w.node_b,
    "installation": lambda w, x: w.installation_b,
    "ingestkey": lambda w, x: x["key_b"],
    "deadletter": lambda w, x: x["letter_b"],
    "alertchannel": lambda w, x: w.channel_b,
    "alertrule": lambda w, x: w.rule_b,
    "alert": lambda w, x: x["alert_b"],
    "delivery": lambda w, x: x["delivery_b"],
    "forwarder": lambda w, x: x["forwarder_b"],
    "image": lambda w, x: x["image_b"],
    "board": lambda w, x: x["board_b"],
    "boardshare": lambda w, x: x["share_b"],
}


def covered_by_resource_tests() -> set[str]:
    names = {f"{r.basename}-{kind}" for r in RESOURCES for kind in ("list", "detail")}
    return names | set(NODE_READS) | {"gateway-list", "organization-list", "organization-detail"}


def foreign_of(name: str):
    """The FOREIGN entry for a route name: its longest basename prefix."""
    for basename in sorted(FOREIGN, key=len, reverse=True):
        if name.startswith(f"{basename}-"):
            return FOREIGN[basename]
    return None


@pytest.fixture
def foreign_objects(world, settings, tmp_path):
    """Org B's objects of the resources the world does not hold yet ("secretB" names)."""
    from sensorgrid.alerts.models import Delivery, Forwarder
    from sensorgrid.boards.models import Board, BoardShare
    from sensorgrid.ingest.models import IngestKey
    from sensorgrid.telemetry.models import DeadLetter
    from sensorgrid.tenancy.invitations import issue
    from tests import factories as f
    from tests.alerts.test_api import alert_of

    alert = alert_of(world, world.org_b, world.node_b)
    key = IngestKey(organization=world.org_b, name="secretB key")
    key.issue()
    key.save()
    names = {field.name for field in DeadLetter._meta.fields}
    extra = {"last_received_at": "2026-01-01T00:00:00Z"} if "last_received_at" in names else {}
    letter = DeadLetter.objects.create(
        received_at="2026-01-01T00:00:00Z", source="http", topic="t", decoder="json",
        payload=b"{}", reason="unknown-device", device_id="secretB-letter",
        organization=world.org_b, **extra,
    )  # fmt: skip
    orphan = DeadLetter.objects.create(
        received_at="2026-01-01T00:00:00Z", source="http", topic="t", decoder="json",
        payload=b"{}", reason="unknown-device", device_id="secretX-orphan", **extra,
    )  # fmt: skip
    invitation, _token = issue(world.org_b, "secretB@example.org", "owner", world.charlie)
    board = Board.objects.create(organization=world.org_b, name="secretB board", slug="b")
    share = BoardShare(board=board, mode="organization")
    share.issue()
    share.save()
    return {
        "board_b": board,
        "invitation_b": invitation,
        "share_b": share,
        "image_b": _picture_of(world.node_b, settings, tmp_path),
        "model_b": f.NodeModelFactory(organization=world.org_b, name="secretB model"),
        "key_b": key,
        "letter_b": letter,
        "orphan": orphan,
        "alert_b": alert,
        "delivery_b": Delivery.objects.get(alert=alert),
        "forwarder_b": Forwarder.objects.create(
            organization=world.org_b, name="secretB forwarder", channel=world.channel_b
        ),
    }


def _picture_of(node, settings, tmp_path):
    """A picture of ``node`` with its objects in a temporary image store."""
    import io
    from dataclasses import replace

    from django.utils.timezone import now
    from PIL import Image as Pillow

    from sensorgrid.images.ingest import store_many
    from sensorgrid.images.models import Image
    from sensorgrid.ingest.envelope import Authority, Envelope

    settings.STORAGES = {
        **settings.STORAGES,
        "images": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "images", "allow_overwrite": True},
        },
    }
    data = io.BytesIO()
    Pillow.new("RGB", (8, 8)).save(data, "PNG")
    authority = Authority(node.organization_id, node.pk, "node", node.pk)
    sent = Envelope("http", "/api/v1/ingest/images/?name=secretB", data.getvalue(), now())
    store_many([replace(sent, authority=authority)])
    return Image.objects.get(node=node)


def test_every_api_route_is_covered():
    routes = api_routes()
    walked = {name for name, (_, p) in routes.items() if "pk" in p.pattern.regex.groupindex}
    lists = {name for name, (_, p) in routes.items() if not p.pattern.regex.groupindex}
    uncovered = [
        name
        for name in routes
        if name not in set(EXEMPT) | covered_by_resource_tests() | lists
        and not (name in walked and foreign_of(name))
    ]
    assert uncovered == [], f"add these routes to FOREIGN or EXEMPT (with a reason): {uncovered}"
    assert not set(EXEMPT) - set(routes), "EXEMPT names a route that no longer exists"
    assert "membership-detail" in routes and "deadletter-replay" in routes  # the walk works


ID_ROUTES = sorted(
    name
    for name, (_, p) in api_routes().items()
    if "pk" in p.pattern.regex.groupindex and name not in EXEMPT
)
LIST_ROUTES = sorted(
    name
    for name, (_, p) in api_routes().items()
    if not p.pattern.regex.groupindex and name not in EXEMPT
)


@pytest.mark.parametrize("name", ID_ROUTES)
@pytest.mark.parametrize("persona", ["alice", "dave"])
def test_every_id_route_hides_foreign_objects(world, foreign_objects, client_for, name, persona):
    obj = foreign_of(name)(world, foreign_objects)
    url = reverse(name, args=[obj.pk])
    client = client_for(getattr(world, persona))
    for method in ("get", "post", "patch", "put", "delete"):
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code in (404, 405), (method, url, response.content[:300])
        assert_no_leak(world, persona, response)
    root = client_for(world.root).get(url)
    assert root.status_code in (200, 405), (url, root.content[:300])


@pytest.mark.parametrize("name", LIST_ROUTES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_every_list_route_keeps_the_wall(world, foreign_objects, client_for, name, persona):
    client = client_for(None if persona == "anonymous" else getattr(world, persona))
    response = client.get(reverse(name), {"page_size": 1000})
    assert response.status_code in (200, 401, 403), (name, response.content[:300])
    assert_no_leak(world, persona, response)
    body = response.content.decode()
    # Letters nobody can claim (unknown devices, no credential) are for operators only.
    assert ("secretX-orphan" in body) == (persona == "root" and name == "deadletter-list")


# -- self-grant and moves into a foreign organization --------------------------------------


def test_nobody_makes_himself_owner_of_an_organization_he_can_see(world, client_for):
    for persona in ("charlie", "dave", "bob"):
        response = client_for(getattr(world, persona)).post(
            reverse("membership-list"),
            {"organization": world.org_a.pk, "user": persona, "role": "owner"},
            format="json",
        )
        assert response.status_code in (400, 403), (persona, response.content)
    owners = Membership.objects.filter(organization=world.org_a, role=Role.OWNER)
    assert list(owners.values_list("user__username", flat=True)) == ["alice"]


# (resource, own object of alice, field, foreign parent of org B)
MOVES = [
    ("site", "site_a", "organization", lambda w: w.org_b),
    ("room", "room_a", "site", lambda w: w.site_b),
    ("installation", "installation_a", "room", lambda w: w.room_b),
    ("nodemodel", "model_a", "organization", lambda w: w.org_b),
    ("node", "node_a", "organization", lambda w: w.org_b),
    ("membership", "membership_bob", "organization", lambda w: w.org_b),
    ("alertchannel", "channel_a", "organization", lambda w: w.org_b),
    ("alertrule", "rule_a", "organization", lambda w: w.org_b),
]


@pytest.mark.parametrize(("basename", "attr", "field", "target"), MOVES, ids=[m[0] for m in MOVES])
def test_an_owner_cannot_move_his_object_into_a_foreign_organization(
    world, client_for, basename, attr, field, target
):
    obj = getattr(world, attr)
    before = getattr(obj, f"{field}_id")
    response = client_for(world.alice).patch(
        reverse(f"{basename}-detail", args=[obj.pk]), {field: target(world).pk}, format="json"
    )
    assert response.status_code == 400, response.content  # org B is invisible to alice
    obj.refresh_from_db()
    assert getattr(obj, f"{field}_id") == before
    assert_no_leak(world, "alice", response)


# charlie's objects of org B, moved into org A, which he sees through its public installation.
PUBLIC_MOVES = [
    ("site", "site_b", "organization", lambda w: w.org_a),
    ("room", "room_b", "site", lambda w: w.public_site),
    ("installation", "installation_b", "room", lambda w: w.public_room),
    ("alertchannel", "channel_b", "organization", lambda w: w.org_a),
]


@pytest.mark.parametrize(
    ("basename", "attr", "field", "target"), PUBLIC_MOVES, ids=[m[0] for m in PUBLIC_MOVES]
)
def test_an_owner_cannot_move_his_object_into_an_organization_he_only_sees(
    world, client_for, basename, attr, field, target
):
    obj = getattr(world, attr)
    before = getattr(obj, f"{field}_id")
    response = client_for(world.charlie).patch(
        reverse(f"{basename}-detail", args=[obj.pk]), {field: target(world).pk}, format="json"
    )
    assert response.status_code == 403, response.content
    assert field in response.json()
    obj.refresh_from_db()
    assert getattr(obj, f"{field}_id") == before
