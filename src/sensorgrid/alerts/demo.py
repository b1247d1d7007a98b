"""The demo's example alert rule: CO2 above 1,400 ppm for five minutes in a classroom.

The classroom monitors climb past it in most lessons (sensorgrid.simulator.profiles.room),
so a fresh demo shows an alert firing and clearing in its first school day.
"""

from sensorgrid.alerts.models import AlertRule, RuleKind, Scope, Severity
from sensorgrid.inventory.models import Quantity, Room
from sensorgrid.tenancy.models import Organization

NAME = "Classroom CO2 too high"


def example_rule(organization: str = "riverside-school", room: str = "Classroom 1") -> AlertRule:
    """The rule, created once (idempotent: found by its name in the organization)."""
    org = Organization.objects.get(slug=organization)
    rule, _ = AlertRule.objects.get_or_create(
        organization=org,
        name=NAME,
        defaults={
            "scope": Scope.ROOM,
            "room": Room.objects.get(site__organization=org, name=room),
            "quantity": Quantity.objects.get(key="co2"),
            "kind": RuleKind.THRESHOLD,
            "params": {"above": 1400, "clear": 1200, "for_seconds": 300},
            "severity": Severity.WARNING,
        },
    )
    return rule
