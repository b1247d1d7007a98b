"""The demo's simulated devices are its installed nodes: each simulator `sensorgrid demo`
starts feeds installed nodes of the demo data, in the organization it registers in,
and every node of the demo data is fed by one of them (issue 19, item 1)."""

import math

from django.core.management import call_command

from sensorgrid.alerts import demo as alerts_demo
from sensorgrid.alerts.models import AlertRule
from sensorgrid.inventory import demo, device_ids
from sensorgrid.inventory.models import Installation, Node, Site
from sensorgrid.runtime.management.commands.demo import SIMULATORS
from sensorgrid.simulator import profiles, registration, run
from sensorgrid.simulator.profiles.vehicle import ROUTE


def simulated() -> dict[str, tuple[str, str]]:
    """device id (as stored) → (profile, organization) of the demo's simulators."""
    return {
        device_ids.canonical(device_id): (profile, organization)
        for _name, profile, organization, _seed, names in SIMULATORS
        for device_id in names
    }


def test_every_simulated_device_is_an_installed_node_of_the_demo_and_back():
    nodes = {device_id: slug for device_id, slug, *_ in demo.NODES}
    assert {d: org for d, (_, org) in simulated().items()} == nodes
    assert sum(1 for profile, _ in simulated().values() if profile == "vehicle") == 10


def test_registering_the_demos_simulators_installs_nothing_new(db):
    call_command("loaddemo", "--password", "pw")
    before = Node.objects.count()
    for _name, profile, organization, seed, names in SIMULATORS:
        devices = run.devices(profiles.get(profile), 0, seed, names)
        nodes = registration.register(profiles.get(profile), devices, organization)
        for node in nodes.values():
            assert node.installations.filter(end=None).exists(), node
            # Its model decodes what the simulator sends: the hall's Elsys frames, the
            # room monitors' JSON (no codec).
            assert node.model.codec == profiles.get(profile).codec, node
    assert Node.objects.count() == before


def test_the_demo_sites_lie_within_a_few_kilometres_of_the_buses():
    sites = [site for org in demo.ORGANIZATIONS for site in org[4].values()]
    for _address, lat, lon, _rooms in sites:
        nearest = min(
            math.dist((lat, lon * math.cos(math.radians(lat))), (a, b * math.cos(math.radians(a))))
            for a, b in ROUTE
        )
        assert nearest * 111 < 3, (lat, lon)  # km


def test_an_older_demo_database_gets_the_new_sites_and_its_dead_nodes_uninstalled(db):
    call_command("loaddemo", "--password", "pw")
    # As the demo before issue 19 left it: a weather station in the open office.
    office = Installation.objects.get(node__device_id="demo-co2-102")
    old = Installation.objects.create(
        node=Node.objects.create(
            organization=office.node.organization, device_id="demo-weather-101"
        ),
        room=office.room,
        start=office.start,
    )
    Site.objects.filter(name="Main building").update(address="1 River Road, Springfield")
    call_command("loaddemo", "--password", "pw")
    assert Installation.objects.get(pk=old.pk).end is not None
    assert Site.objects.get(name="Main building").address.endswith("München")


def test_the_demo_has_an_example_alert_rule_once(db):
    call_command("loaddemo", "--password", "pw")
    alerts_demo.example_rule()
    rule = alerts_demo.example_rule()
    assert AlertRule.objects.filter(name=alerts_demo.NAME).count() == 1
    assert (rule.kind, rule.room.name, rule.quantity.key) == ("threshold", "Classroom 1", "co2")
