"""Demo data: two organizations, their sites, rooms, nodes and one public installation.

Idempotent: running it again finds what exists and creates only what is missing.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction

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
]

# organization slug, name, owner, inspectors, sites {name: (address, lat, lon, rooms)}
ORGANIZATIONS = [
    (
        "riverside-school",
        "Riverside School",
        "alice",
        ["bob"],
        {
            "Main building": (
                "1 River Road, Springfield",
                52.5200,
                13.4050,
                [("Classroom 1", 60.0, 3.0, 30), ("Classroom 2", 55.0, 3.0, 28)],
            ),
            "Sports hall": (
                "3 River Road, Springfield",
                52.5210,
                13.4075,
                [("Hall", 600.0, 8.0, 200)],
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
                "10 Quay Street, Springfield",
                52.5100,
                13.3900,
                [("Meeting room", 30.0, 2.8, 12), ("Open office", 250.0, 3.0, 40)],
            ),
        },
    ),
]

# device id, organization slug, model name, alias, room name, public
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
    ("70b3d57ed0000001", "riverside-school", "ERS CO2", "Hall LoRaWAN sensor", "Hall", False),
    (
        "demo-co2-101",
        "harbour-offices",
        "CO2 Monitor",
        "Meeting room monitor",
        "Meeting room",
        False,
    ),
    (
        "demo-weather-101",
        "harbour-offices",
        "Weather Station",
        "Roof weather",
        "Open office",
        False,
    ),
]


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
        organization, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": org_name})
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
            site, _ = Site.objects.get_or_create(
                organization=organization,
                name=site_name,
                defaults={"address": address, "latitude": lat, "longitude": lon},
            )
            for room_name, area, height, occupancy in site_rooms:
                rooms[room_name], _ = Room.objects.get_or_create(
                    site=site,
                    name=room_name,
                    defaults={"area": area, "height": height, "max_occupancy": occupancy},
                )

    for device_id, slug, model_name, alias, room_name, public in NODES:
        node, created = Node.objects.get_or_create(
            device_id=device_id,
            defaults={
                "organization": organizations[slug],
                "model": models[model_name],
                "alias": alias,
            },
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
