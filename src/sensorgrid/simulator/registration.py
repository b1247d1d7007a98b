"""``--register``: the nodes (and node models) of simulated devices, created if missing."""

from django.db import transaction

from sensorgrid.inventory import device_ids
from sensorgrid.inventory.models import Node, NodeModel, Protocol
from sensorgrid.simulator.profiles import Device, Profile
from sensorgrid.tenancy.models import Organization

PROTOCOLS = {"lorawan": Protocol.LORAWAN}


class RegistrationError(ValueError):
    pass


def node_model(profile: Profile, organization: Organization) -> NodeModel:
    """The organization's model for the profile's devices, shared by all its runs."""
    model, _ = NodeModel.objects.get_or_create(
        organization=organization,
        manufacturer="SensorGrid simulator",
        name=f"Simulated {profile.key}",
        defaults={
            "protocol": PROTOCOLS.get(profile.key, Protocol.MQTT),
            # The codec for binary frames (LoRaWAN); JSON payloads need none.
            "codec": profile.codec,
        },
    )
    return model


@transaction.atomic
def register(profile: Profile, devices: list[Device], organization: str) -> dict[str, Node]:
    """The nodes of ``devices`` in the organization with slug ``organization``.

    Idempotent: existing nodes are kept. A device id that belongs to a node of another
    organization is an error (device ids are unique across organizations).
    """
    try:
        org = Organization.objects.get(slug=organization)
    except Organization.DoesNotExist:
        raise RegistrationError(f"no organization with slug {organization!r}") from None
    model = node_model(profile, org)
    # Nodes store a DevEUI in lower case; the LoRaWAN profile's ids are upper case.
    wanted = [device_ids.canonical(d.device_id) for d in devices]
    existing = {n.device_id: n for n in Node.objects.filter(device_id__in=wanted)}
    foreign = sorted(d for d, node in existing.items() if node.organization_id != org.pk)
    if foreign:
        raise RegistrationError(
            f"device ids {', '.join(foreign)} belong to nodes of another organization"
        )
    nodes = {}
    for device in devices:
        node = existing.get(device_ids.canonical(device.device_id))
        if node is None:
            node = Node.objects.create(
                organization=org,
                device_id=device.device_id,
                alias=f"Simulated {profile.key} {device.index} (seed {device.seed})",
                model=model,
                metadata={"simulator": {"profile": profile.key, "seed": device.seed}},
            )
        nodes[device.device_id] = node
    return nodes


@transaction.atomic
def issue_credentials(nodes: dict[str, Node]) -> dict[str, str]:
    """New ingest credentials for the nodes (HTTP transport); old ones stop working."""
    issued = {}
    for device_id, node in nodes.items():
        issued[device_id] = node.issue_credential()
        node.save(update_fields=["credential_digest"])
    return issued
