"""Demo data: two organizations, their sites, rooms, nodes and one public installation.

Idempotent: running it again finds what exists and creates only what is missing.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from sensorgrid.inventory.models import (
    Installation,
    Node,
    NodeModel,
    Protocol,
    Quantity,
    Room,
    Site,
)
from sensorgrid.tenancy.models import Membership, Organization, Role, User

DEFAULT_PASSWORD = "demo-password"
#: The platform operator: a superuser, the only demo user who sees every organization.
OPERATOR = "operator"
INSTALLED_SINCE = datetime(2026, 1, 1, tzinfo=UTC)
#: Where the demo's sites are: their pages and charts show Munich's wall-clock time.
TIME_ZONE = "Europe/Berlin"

SHARED_MODELS = [
    # (manufacturer, name, protocol, codec: "" when the device sends JSON, keys, interval)
    ("SensorGrid", "CO2 Monitor", Protocol.MQTT, "", ["co2", "temperature", "humidity"], 60),
    (
        "Elsys",
        "ERS CO2",
        Protocol.LORAWAN,
        "elsys",
        ["co2", "temperature", "humidity", "illuminance", "motion"],
        600,
    ),
    (
        "SensorGrid",
        "Weather Station",
        Protocol.HTTP,
        "",
        ["temperature", "humidity", "pressure", "pm2_5", "pm10", "wind_speed"],
        300,
    ),
    (
        "SensorGrid",
        "City Air KPI Sensor",
        Protocol.MQTT,
        "",
        ["temperature", "humidity", "pm2_5", "co2", "noise"],
        60,
    ),
    ("SensorGrid", "Bus Tracker", Protocol.MQTT, "", ["speed", "heading", "battery"], 30),
    # pictures, no values: its outlier model is the outliers app's (sensorgrid.outliers.demo)
    ("SensorGrid", "Camera", Protocol.MQTT, "", [], 600),
]

# The sites lie in Munich's old town, where the simulated buses drive
# (sensorgrid.simulator.profiles.vehicle.ROUTE): a map of the demo shows them together.
# a room: (name, floor, outdoor, area m², height m, max occupancy)
RoomSpec = tuple[str, int | None, bool, float | None, float | None, int | None]
# organization slug, name, owner, inspectors, sites {name: (address, lat, lon, rooms)}
ORGANIZATIONS: list[
    tuple[str, str, str, list[str], dict[str, tuple[str, float, float, list[RoomSpec]]]]
] = [
    (
        "riverside-school",
        "Riverside School",
        "alice",
        ["bob"],
        {
            "Main building": (
                "Frauenstraße 20, 80469 München",
                48.1338,
                11.5781,
                [
                    ("Classroom 1", 0, False, 60.0, 3.0, 30),
                    ("Classroom 2", 1, False, 55.0, 3.0, 28),
                    ("Schoolyard", 0, True, 900.0, None, 400),
                ],
            ),
            "Sports hall": (
                "Reichenbachstraße 25, 80469 München",
                48.1318,
                11.5760,
                [
                    ("Hall", 0, False, 600.0, 8.0, 200),
                    ("Sports field", 0, True, 2000.0, None, 300),
                ],
            ),
        },
    ),
    (
        "harbour-offices",
        "Harbour Offices",
        "charlie",
        [],
        {
            "Harbour tower": (
                "Arnulfstraße 30, 80335 München",
                48.1429,
                11.5561,
                [
                    ("Meeting room", 3, False, 30.0, 2.8, 12),
                    ("Open office", 2, False, 250.0, 3.0, 40),
                    ("Roof terrace", 8, True, 120.0, None, 30),
                ],
            ),
            "Bus depot": (
                "Dachauer Straße 90, 80335 München",
                48.1497,
                11.5551,
                [("Fleet on the road", None, True, None, None, None)],
            ),
        },
    ),
]

#: The fleet: ten buses, as the vehicle proof of concept had.
BUSES = [f"demo-bus-{n:02d}" for n in range(1, 11)]

# device id, organization slug, model name, alias, room name, public. Each is a device
# ``sensorgrid demo`` simulates (its SIMULATORS name these ids; a test keeps them in step).
NODES = [
    ("demo-co2-001", "riverside-school", "CO2 Monitor", "Classroom 1 monitor", "Classroom 1", True),
    (
        "demo-co2-002",
        "riverside-school",
        "CO2 Monitor",
        "Classroom 2 monitor",
        "Classroom 2",
        False,
    ),
    (
        "70b3d57ed0000001",
        "riverside-school",
        "ERS CO2",
        "Hall LoRaWAN sensor",
        "Hall",
        False,
    ),
    (
        "demo-weather-001",
        "riverside-school",
        "Weather Station",
        "Schoolyard station",
        "Schoolyard",
        False,
    ),
    (
        "demo-weather-002",
        "riverside-school",
        "Weather Station",
        "Sports field station",
        "Sports field",
        False,
    ),
    (
        "demo-co2-101",
        "harbour-offices",
        "CO2 Monitor",
        "Meeting room monitor",
        "Meeting room",
        False,
    ),
    ("demo-co2-102", "harbour-offices", "CO2 Monitor", "Open office monitor", "Open office", False),
    (
        "demo-kpi-101",
        "harbour-offices",
        "City Air KPI Sensor",
        "Roof air sensor",
        "Roof terrace",
        False,
    ),
    ("demo-cam-101", "harbour-offices", "Camera", "Roof camera", "Roof terrace", False),
    *[
        (bus, "harbour-offices", "Bus Tracker", f"Bus {n}", "Fleet on the road", False)
        for n, bus in enumerate(BUSES, start=1)
    ],
]

#: Nodes of earlier demo versions that no simulator feeds: their installations end,
#: so a demo database from before shows only live tiles.
RETIRED = ["demo-weather-101"]


@dataclass
class DemoSummary:
    users: list[str]
    password: str
    operator: str
    organizations: list[str]
    nodes: int


@transaction.atomic
def load(password: str = DEFAULT_PASSWORD) -> DemoSummary:
    models = {}
    for manufacturer, name, protocol, codec, keys, interval in SHARED_MODELS:
        model, _ = NodeModel.objects.get_or_create(
            organization=None,
            manufacturer=manufacturer,
            name=name,
            defaults={"protocol": protocol, "codec": codec, "sampling_interval": interval},
        )
        model.quantities.add(*Quantity.objects.filter(key__in=keys))
        models[name] = model

    users, organizations, rooms = [], {}, {}
    for slug, org_name, owner, inspectors, sites in ORGANIZATIONS:
        organization, _ = Organization.objects.get_or_create(
            slug=slug, defaults={"name": org_name, "time_zone": TIME_ZONE}
        )
        organizations[slug] = organization
        for username, role in [(owner, Role.OWNER), *[(i, Role.INSPECTOR) for i in inspectors]]:
            user, _ = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.org", "is_staff": True}
            )
            user.set_password(password)
            user.save(update_fields=["password"])
            Membership.objects.get_or_create(
                user=user, organization=organization, defaults={"role": role}
            )
            users.append(username)
        for site_name, (address, lat, lon, site_rooms) in sites.items():
            # update_or_create: an older demo database gets the current addresses too.
            site, _ = Site.objects.update_or_create(
                organization=organization,
                name=site_name,
                defaults={"address": address, "latitude": lat, "longitude": lon},
            )
            for room_name, floor, outdoor, area, height, occupancy in site_rooms:
                # get_or_create: changes made in the demo stay (migration 0012 marked an
                # older demo database's rooms 0 m high outdoors).
                rooms[room_name], _ = Room.objects.get_or_create(
                    site=site,
                    name=room_name,
                    defaults={
                        "floor": floor,
                        "outdoor": outdoor,
                        "area": area,
                        "height": height,
                        "max_occupancy": occupancy,
                    },
                )

    retired = Installation.objects.filter(
        node__device_id__in=RETIRED, node__organization__in=organizations.values(), end=None
    )
    retired.update(end=timezone.now())
    for device_id, slug, model_name, alias, room_name, public in NODES:
        node, created = Node.objects.get_or_create(
            organization=organizations[slug],
            device_id__iexact=device_id,
            defaults={"device_id": device_id, "model": models[model_name], "alias": alias},
        )
        if created:
            node.issue_credential()
            node.save(update_fields=["credential_digest"])
        if not node.installations.exists():
            Installation.objects.create(
                node=node, room=rooms[room_name], start=INSTALLED_SINCE, is_public=public
            )

    operator, _ = User.objects.get_or_create(
        username=OPERATOR, defaults={"email": f"{OPERATOR}@example.org"}
    )
    operator.is_staff = operator.is_superuser = True
    operator.set_password(password)
    operator.save(update_fields=["password", "is_staff", "is_superuser"])

    return DemoSummary(users, password, OPERATOR, list(organizations), len(NODES))
