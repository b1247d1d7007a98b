"""``--register``: the nodes (and node models) of simulated devices, created if missing."""

from django.db import transaction
from django.db.models.functions import Lower

from sensorgrid.inventory.models import Node, NodeModel, Protocol
from sensorgrid.simulator.profiles import Device, Profile
from sensorgrid.tenancy.models import Organization

PROTOCOLS = {"lorawan": Protocol.LORAWAN, "elsys": Protocol.LORAWAN}


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

    Idempotent: existing nodes are kept (the demo's installed nodes among them). Device
    ids are unique per organization, ignoring case: a node with the same id in another
    organization is another device and no concern of this run.
    """
    try:
        org = Organization.objects.get(slug=organization)
    except Organization.DoesNotExist:
        raise RegistrationError(f"no organization with slug {organization!r}") from None
    model = node_model(profile, org)
    existing = {
        node.device_id.lower(): node
        for node in Node.objects.annotate(lowered=Lower("device_id")).filter(
            organization=org, lowered__in=[d.device_id.lower() for d in devices]
        )
    }
    nodes = {}
    for device in devices:
        node = existing.get(device.device_id.lower())
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
