"""Every page of the dashboard, for the tests that must visit all of them (accessibility).

The pages come from the URL resolver (the `dashboard` namespace), not from a list kept
by hand: a page added tomorrow is visited too. A route's parameter is filled with an
object of the data set `build()` makes on the demo data, chosen by the path in front of
the parameter (`sites/<int:pk>/edit/` takes the site); a route with a path this module
does not know is reported, so the test fails naming it instead of skipping it.
"""

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from django.urls import URLPattern, get_resolver, reverse

REPOSITORY = Path(__file__).resolve().parents[2]

# The path in front of a route's parameter -> the object of build() that fills it.
OBJECT_OF_PATH = {
    "nodes": "node",
    "gateways": "gateway",
    "sites": "site",
    "rooms": "room",
    "installations": "installation",
    "organizations": "organization",
    "members": "member",
    "boards": "board",
    "boards/shared": "board_share_token",
    "invitations": "invitation",
    "invite": "invitation_token",
    "ingest-keys": "ingest_key",
    "node-models": "node_model",
    "alert-channels": "channel",
    "alerts/rules": "rule",
    "alerts": "alert",
    "dead-letters": "dead_letter",
    "outliers": "outlier_score",
}
# Pages of the layout outside the dashboard's namespace: the status page and a 404.
OTHER_PAGES = ["/status/", "/no-such-page/"]
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
# A placeholder for a route no object fills: an action (POST only) answers a GET with 405
# before it looks the object up, so it is recognised without one.
NOBODY = 2_147_483_000


def build() -> dict:
    """Run inside the server's process (`sensorgrid shell`): the objects the demo data
    lacks (alert, rule, channel, ingest key, node model, invitation, dead letter, a
    scored picture) in alice's organization, and the primary key (or token) of one
    object of each kind."""
    from django.utils import timezone

    from sensorgrid.alerts.models import Alert, AlertRule, Channel, ChannelKind, Severity
    from sensorgrid.ingest.models import IngestKey
    from sensorgrid.inventory.models import Node, NodeModel, Protocol, Quantity
    from sensorgrid.telemetry.models import DeadLetter, Reason, Source
    from sensorgrid.tenancy import invitations
    from sensorgrid.tenancy.models import Membership, Organization, Role, User

    now = timezone.now()
    alice = User.objects.get(username="alice")
    organization = Organization.objects.get(slug="riverside-school")
    node = Node.objects.get(device_id="demo-co2-002")
    installation = node.installations.get(end=None)
    co2 = Quantity.objects.get(key="co2")
    channel = Channel.objects.create(
        organization=organization,
        name="Caretaker's mail",
        kind=ChannelKind.EMAIL,
        config={"to": ["caretaker@example.org"]},
    )
    rule = AlertRule.objects.create(
        organization=organization,
        name="CO2 above 1400 ppm",
        scope="node",
        node=node,
        quantity=co2,
        kind="threshold",
        params={"above": 1400},
    )
    rule.channels.add(channel)
    alert = Alert.objects.create(
        organization=organization,
        rule=rule,
        node=node,
        quantity=co2,
        severity=Severity.WARNING,
        message="1520 > 1400",
        started_at=now,
        opened_at=now,
        last_value=1520,
        last_ts=now,
    )
    key = IngestKey(organization=organization, name="TTN webhook")
    key.issue()
    key.save()
    model = NodeModel.objects.create(
        organization=organization,
        manufacturer="Riverside workshop",
        name="CO2 box",
        protocol=Protocol.MQTT,
    )
    model.quantities.add(co2)
    invitation, token = invitations.issue(organization, "carol@example.org", Role.INSPECTOR, alice)
    letter = DeadLetter.objects.create(
        received_at=now,
        last_received_at=now,
        source=Source.HTTP,
        topic="/api/v1/ingest/",
        decoder="json",
        content_type="application/json",
        payload=b'{"device": "demo-co2-002", "values": {"co2": "high"}}',
        reason=Reason.INVALID_VALUE,
        detail="co2: 'high' is not a number",
        device_id=node.device_id,
        organization=organization,
        node=node,
    )
    return {
        "outlier_score": scored_picture(node, now),
        "node": node.pk,
        "site": installation.room.site_id,
        "room": installation.room_id,
        "installation": installation.pk,
        "organization": organization.pk,
        "member": Membership.objects.get(organization=organization, user__username="bob").pk,
        "invitation": invitation.pk,
        "invitation_token": token,
        **example_board(organization, node),
        "ingest_key": key.pk,
        "node_model": model.pk,
        "channel": channel.pk,
        "rule": rule.pk,
        "alert": alert.pk,
        "dead_letter": letter.pk,
        "gateway": heard_gateway(node, now),
    }


def scored_picture(node, now) -> int:
    """A picture of ``node``, its thumbnail and an outlier score with its reconstruction
    (objects in the images store, rows as the outliers app writes them): the id of the
    score, so the outlier page and the Images tab show a card with every part."""
    import hashlib
    import io

    from PIL import Image as Pillow

    from sensorgrid.images import storage
    from sensorgrid.images.models import Image
    from sensorgrid.outliers.models import OutlierModel, OutlierScore

    def encoded(size, fmt: str) -> bytes:
        buffer = io.BytesIO()
        mode, color = ("L", 120) if fmt == "PNG" else ("RGB", (90, 120, 160))
        Pillow.new(mode, size, color).save(buffer, fmt)
        return buffer.getvalue()

    original = encoded((160, 120), "JPEG")
    digest = hashlib.sha256(original).hexdigest()
    key = storage.base_key(node.pk, "camera", now, digest) + ".jpg"
    storage.save(key, original, "image/jpeg")
    thumbnail = storage.derived_key(key, "thumb", "image/webp")
    storage.save(thumbnail, encoded((160, 120), "WEBP"), "image/webp")
    image = Image.objects.create(
        node=node, name="camera", ts=now, received_at=now, content_type="image/jpeg",
        size=len(original), width=160, height=120, sha256=digest, key=key,
        thumbnail_key=thumbnail,
    )  # fmt: skip
    model = OutlierModel.objects.create(
        node=node, name="camera", version=1, pictures=72, first_ts=now, last_ts=now, size=32,
        quantile=0.99, margin=1.5, threshold=0.0004, training_error_mean=0.0001,
        training_error_max=0.0003, archive_key="", archive_sha256="",
    )  # fmt: skip
    reconstruction = storage.derived_key(key, f"reconstruction-m{model.pk}", "image/png")
    storage.save(reconstruction, encoded((32, 32), "PNG"), "image/png")
    score = OutlierScore.objects.create(
        image=image, model=model, node=node, name="camera", ts=now, score=0.0081,
        threshold=0.0004, is_outlier=True, reconstruction_key=reconstruction,
    )  # fmt: skip
    return score.pk


def build_in(environment: dict) -> dict:
    """build() in a server's environment (its database), as a `sensorgrid shell`."""
    code = "import json; from tests.dashboard.every_page import build; print(json.dumps(build()))"
    done = subprocess.run(
        [sys.executable, "-m", "sensorgrid", "shell", "-c", code],
        env=environment,
        cwd=REPOSITORY,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def heard_gateway(node, now) -> int:
    """A LoRaWAN gateway of the node's organization that heard it twice, and a second
    one once (as the ingest keeps them): the id of the first, for its page; the node's
    Radio tab then shows its per-gateway charts."""
    from datetime import timedelta

    from sensorgrid.telemetry.models import Gateway, Reception

    heard = [(20, "gw-hall", -97.0), (10, "gw-hall", -95.0), (10, "gw-roof", -110.0)]
    for minutes, gateway_id, rssi in heard:
        Reception.objects.create(
            node=node, ts=now - timedelta(minutes=minutes), gateway_id=gateway_id, rssi=rssi,
            snr=4.5, spreading_factor=9, frequency=868_100_000, frame_counter=minutes,
        )  # fmt: skip
    Gateway.objects.create(
        organization=node.organization, gateway_id="gw-roof", first_seen=now, last_seen=now
    )
    gateway = Gateway.objects.create(
        organization=node.organization, gateway_id="gw-hall", latitude=48.1374,
        longitude=11.5755, located_at=now, first_seen=now - timedelta(minutes=20),
        last_seen=now - timedelta(minutes=10),
    )  # fmt: skip
    return gateway.pk


@dataclass
class Route:
    name: str
    route: str
    path: str | None  # None: no object of the data set fills its parameter


@dataclass
class Pages:
    """What a user's GET of every route gave: pages to check and the rest, by name."""

    pages: dict[str, str] = field(default_factory=dict)  # name -> path
    status: dict[str, int] = field(default_factory=dict)  # name -> HTTP status
    refusals: list[str] = field(default_factory=list)  # another 403/404 page like one in pages
    status_seen: set[int] = field(default_factory=set)
    actions: list[str] = field(default_factory=list)  # POST only (405 to a GET)
    not_documents: list[str] = field(default_factory=list)  # CSV, fragments
    unfilled: list[str] = field(default_factory=list)  # no object for its parameter
    redirected: list[str] = field(default_factory=list)  # elsewhere (the login page asks)


def routes(objects: dict) -> list[Route]:
    """The page namespaces' routes (the dashboard's, the dashboards' at /boards/), with
    paths filled from the data set."""
    found = []
    for namespace in PAGE_NAMESPACES:
        found += namespace_routes(namespace, objects)
    return found + [Route(path, path, path) for path in OTHER_PAGES]


#: URL namespaces whose routes are pages (sensorgrid/urls.py includes them).
PAGE_NAMESPACES = ["dashboard", "boards"]


def namespace_routes(namespace: str, objects: dict) -> list[Route]:
    prefix, resolver = get_resolver().namespace_dict[namespace]
    found = []
    for pattern in resolver.url_patterns:
        assert isinstance(pattern, URLPattern), f"a nested include: {pattern}"
        route = prefix + str(pattern.pattern)
        parameters = PARAMETER.findall(route)
        name = f"{namespace}:{pattern.name}"
        if not parameters:
            found.append(Route(name, route, reverse(name)))
            continue
        kind = OBJECT_OF_PATH.get(route.split("<", 1)[0].rstrip("/"))
        if len(parameters) == 1 and kind in objects:
            found.append(Route(name, route, reverse(name, kwargs={parameters[0]: objects[kind]})))
        else:
            found.append(Route(name, route, None))
    return found


def visit(request, base: str, objects: dict) -> Pages:
    """GET every route with `request` (a Playwright APIRequestContext: a user's cookies)
    and sort the answers: full HTML documents are pages, whatever their status (a 403 or
    404 page is a page a user sees; the first of each is enough: they are one template)."""
    pages = Pages()
    for route in routes(objects):
        if route.path is None:
            placeholder = PARAMETER.sub(str(NOBODY), route.route)
            answer = request.get(f"{base}/{placeholder}", max_redirects=0)
            (pages.actions if answer.status == 405 else pages.unfilled).append(route.name)
            continue
        answer = request.get(base + route.path, max_redirects=0)
        if answer.status == 405:
            pages.actions.append(route.name)
        elif 300 <= answer.status < 400:
            pages.redirected.append(route.name)
        elif answer.headers.get("content-type", "").startswith("text/html") and (
            answer.text().lstrip()[:15].lower() == "<!doctype html>"
        ):
            pages.status[route.name] = answer.status
            if answer.status in (403, 404) and answer.status in pages.status_seen:
                pages.refusals.append(route.name)  # the same error page again
            else:
                pages.pages[route.name] = route.path
                pages.status_seen.add(answer.status)
        else:
            pages.not_documents.append(route.name)
    return pages


def example_board(organization, node) -> dict:
    """A dashboard of every panel type on ``node`` and a public share link of it: the
    board's id and the link's token (the shared page is checked as anybody sees it)."""
    from sensorgrid.boards import layout
    from sensorgrid.boards.models import Board, BoardShare, ShareMode

    at = {"x": 0, "w": 6, "h": 3}
    panels = [
        {"id": "c", "type": "timeseries", "y": 0, **at,
         "series": [{"node": node.pk, "quantity": "co2"}]},
        {"id": "s", "type": "stat", "y": 3, **at, "node": node.pk, "quantity": "co2", "gauge": True,
         "min": 400, "max": 2000, "thresholds": [{"value": 1000, "color": "warning"}]},
        {"id": "t", "type": "table", "y": 6, **at, "nodes": [node.pk]},
        {"id": "m", "type": "map", "y": 9, **at},
        {"id": "a", "type": "alerts", "y": 12, **at, "state": "all"},
        {"id": "i", "type": "image", "y": 15, **at, "node": node.pk, "name": "camera"},
    ]  # fmt: skip
    board = Board.objects.create(
        organization=organization, name="Classroom overview", slug="classroom-overview",
        layout=layout.validate({"panels": panels}, organization.pk),
    )  # fmt: skip
    from sensorgrid.tenancy.models import Membership, Role

    owner = Membership.objects.filter(organization=organization, role=Role.OWNER).first()
    # a link works while its creator is an owner of the board's organization
    share = BoardShare(board=board, mode=ShareMode.PUBLIC, created_by=owner.user)
    token = share.issue()
    share.save()
    return {"board": board.pk, "board_share_token": token}
