"""The demo's example dashboard of each organization (``sensorgrid demo``): the devices the
simulators feed, in every panel type (pictures where the organization has a camera)."""

from django.db import transaction

from sensorgrid.boards import layout
from sensorgrid.boards.models import Board
from sensorgrid.inventory.models import Node
from sensorgrid.tenancy.models import Organization

NAME = "Overview"


def _panels(nodes: dict[str, int]) -> list[dict]:
    rooms = [nodes[d] for d in nodes if d.startswith("demo-co2-")]
    weather = [nodes[d] for d in nodes if d.startswith("demo-weather-")]
    buses = [nodes[d] for d in nodes if d.startswith("demo-bus-")]
    panels: list[dict] = []
    if rooms:
        panels.append(
            {"id": "co2", "type": "timeseries", "title": "CO2 in the rooms", "x": 0, "y": 0,
             "w": 8, "h": 4, "series": [{"node": n, "quantity": "co2"} for n in rooms[:4]],
             "bucket": "15m", "agg": "avg"}
        )  # fmt: skip
        panels.append(
            {"id": "now", "type": "stat", "title": "CO2 now", "x": 8, "y": 0, "w": 4, "h": 2,
             "node": rooms[0], "quantity": "co2", "gauge": True, "min": 400, "max": 2000,
             "thresholds": [{"value": 1000, "color": "warning"},
                            {"value": 1400, "color": "critical"}]}
        )  # fmt: skip
        panels.append(
            {"id": "rooms", "type": "table", "title": "Rooms now", "x": 0, "y": 4, "w": 6,
             "h": 3, "nodes": rooms, "quantities": ["co2", "temperature", "humidity"]}
        )  # fmt: skip
    if weather:
        panels.append(
            {"id": "weather", "type": "timeseries", "title": "Outdoors", "x": 0, "y": 7,
             "w": 6, "h": 4, "series": [{"node": n, "quantity": "temperature"} for n in weather],
             "bucket": "1h", "agg": "avg"}
        )  # fmt: skip
    if buses:
        panels.append(
            {"id": "speed", "type": "timeseries", "title": "Bus speed", "x": 0, "y": 7, "w": 6,
             "h": 4, "series": [{"node": n, "quantity": "speed"} for n in buses[:4]],
             "bucket": "5m", "agg": "avg"}
        )  # fmt: skip
    cameras = [nodes[d] for d in nodes if d.startswith("demo-cam-")]
    if cameras:
        panels.append(
            {"id": "camera", "type": "image", "title": "Roof camera", "x": 6, "y": 8, "w": 6,
             "h": 4, "node": cameras[0], "name": "camera"}
        )  # fmt: skip
    panels.append(
        {"id": "map", "type": "map", "title": "Where", "x": 6, "y": 4, "w": 6, "h": 4, "nodes": []}
    )
    panels.append(
        {"id": "alerts", "type": "alerts", "title": "Open alerts", "x": 8, "y": 2, "w": 4,
         "h": 2, "state": "open", "limit": 5}
    )  # fmt: skip
    return panels


@transaction.atomic
def example_boards() -> list[Board]:
    """One "Overview" per organization that has nodes, made once (found by its slug)."""
    made = []
    for organization in Organization.objects.order_by("pk"):
        nodes = dict(
            Node.objects.filter(organization=organization)
            .order_by("device_id")
            .values_list("device_id", "pk")
        )
        if not nodes:
            continue
        board = Board.objects.filter(organization=organization, slug="overview").first()
        if board is None:
            clean = layout.validate(
                {"range": "24h", "refresh": 0, "panels": _panels(nodes)}, organization.pk
            )
            board = Board.objects.create(
                organization=organization, name=NAME, slug="overview", layout=clean
            )
        made.append(board)
    return made
