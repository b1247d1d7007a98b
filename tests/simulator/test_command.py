"""``sensorgrid simulate --register`` and ``--backfill`` through call_command."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sensorgrid.inventory.models import Node
from sensorgrid.telemetry.models import DeadLetter, Sample


def simulate(tmp_path, *args) -> str:
    out = StringIO()
    call_command("simulate", *args, "--queue", str(tmp_path / "q.sqlite3"), stdout=out)
    return out.getvalue()


def test_register_creates_missing_nodes_once(world, tmp_path):
    args = ["--profile", "lorawan", "--count", "2", "--register", "--organization", "org-a"]
    simulate(tmp_path, *args, "--backfill", "1m", "--duration", "0")
    simulate(tmp_path, *args, "--count", "3", "--backfill", "1m", "--duration", "0")
    nodes = Node.objects.filter(alias__startswith="Simulated lorawan")
    assert nodes.count() == 3
    assert {n.organization_id for n in nodes} == {world.org_a.pk}
    assert {n.model.codec for n in nodes} == {"cayenne_lpp"}
    assert len({n.model_id for n in nodes}) == 1


def test_register_refuses_an_unknown_organization(world, tmp_path):
    with pytest.raises(CommandError, match="no organization"):
        simulate(tmp_path, "--profile", "room", "--register", "--organization", "nope")


def test_backfill_writes_history_through_the_ingest_library(world, tmp_path):
    output = simulate(
        tmp_path,
        *["--profile", "outdoor", "--count", "2", "--rate", "0.01", "--seed", "3"],
        *["--register", "--organization", "org-a", "--backfill", "2h", "--duration", "0"],
    )
    # 2 devices × 72 messages × 5 quantities
    assert "backfill: 144 messages, 720 samples stored, 0 dead letters" in output
    assert Sample.objects.count() == 720 and not DeadLetter.objects.exists()


def test_backfill_with_spikes_counts_dead_letters(world, tmp_path):
    output = simulate(
        tmp_path,
        *["--profile", "kpi", "--count", "3", "--rate", "0.05", "--faults", "spikes"],
        *["--register", "--organization", "org-a", "--backfill", "2h", "--duration", "0"],
    )
    assert DeadLetter.objects.filter(reason="out-of-range").count() > 0
    assert f"{DeadLetter.objects.count()} dead letters" in output


def test_http_needs_a_json_profile(world, tmp_path):
    with pytest.raises(CommandError, match="--transport http sends SensorGrid JSON"):
        simulate(tmp_path, "--profile", "vehicle", "--transport", "http", "--duration", "1")


def test_register_treats_the_same_device_id_in_another_organization_as_another_device(
    world, tmp_path
):
    # Device ids are unique per organization (ignoring case): org-b's node of the same
    # id neither blocks org-a's run nor is taken over by it.
    theirs = Node.objects.create(organization=world.org_b, device_id="SIM-ROOM-1-1")
    simulate(
        tmp_path,
        *["--profile", "room", "--count", "1", "--register", "--organization", "org-a"],
        *["--backfill", "1m", "--duration", "0"],
    )
    ours = Node.objects.get(organization=world.org_a, device_id="sim-room-1-1")
    theirs.refresh_from_db()
    assert ours.pk != theirs.pk and theirs.organization_id == world.org_b.pk


def test_register_finds_a_node_of_its_organization_whatever_the_case(world, tmp_path):
    Node.objects.create(organization=world.org_a, device_id="SIM-ROOM-1-1", alias="Kept")
    simulate(
        tmp_path,
        *["--profile", "room", "--count", "1", "--register", "--organization", "org-a"],
        *["--backfill", "1m", "--duration", "0"],
    )
    assert list(
        Node.objects.filter(device_id__iexact="sim-room-1-1").values_list("alias", flat=True)
    ) == ["Kept"]


def test_device_ids_name_the_devices_so_a_run_feeds_existing_nodes(world, tmp_path):
    output = simulate(
        tmp_path,
        *["--profile", "room", "--device-ids", "secretA-node,new-one", "--register"],
        *["--organization", "org-a", "--backfill", "10m", "--duration", "0"],
    )
    assert "registered: 2 nodes in org-a" in output
    assert Sample.objects.filter(node=world.node_a).exists()  # the existing node got data
    assert Node.objects.filter(organization=world.org_a, device_id="new-one").exists()
    with pytest.raises(CommandError, match="repeated"):
        simulate(tmp_path, "--profile", "room", "--device-ids", "a,a", "--duration", "0")
