"""A suspended organization's devices are refused at ingest (issue 20).

HTTP: a node credential or an ingest key of the organization gets 403 "organization
suspended", nothing is stored, and the same credential works again once unsuspended
(the credential cache of this process is cleared at once). MQTT: a message resolved
to one of its nodes becomes an ``organization-suspended`` dead letter of that node,
which its owners can replay after the suspension.
"""

import json

from django.utils import timezone
from rest_framework.test import APIClient

from sensorgrid.ingest import pipeline
from sensorgrid.ingest.models import IngestKey
from sensorgrid.inventory import credentials
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import envelope, hours_ago


def set_suspended(organization, suspended: bool) -> None:
    organization.suspended_at = timezone.now() if suspended else None
    organization.save(update_fields=["suspended_at"])


def post(client, credential: str, device: str):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential}")
    message = {"device": device, "ts": hours_ago(1).isoformat(), "values": {"co2": 700}}
    return client.post("/api/v1/ingest/", json.dumps(message), content_type="application/json")


def test_a_node_credential_of_a_suspended_organization_gets_403(world):
    api_client = APIClient()
    node = world.node_a
    credential = node.issue_credential()
    node.save(update_fields=["credential_digest"])
    assert post(api_client, credential, node.device_id).status_code == 200  # cached now
    set_suspended(world.org_a, True)
    response = post(api_client, credential, node.device_id)
    assert response.status_code == 403
    assert "organization suspended" in response.json()["detail"]
    assert Sample.objects.filter(node=node).count() == 1
    set_suspended(world.org_a, False)
    assert post(api_client, credential, node.device_id).status_code == 200
    assert Sample.objects.filter(node=node).count() == 1  # the same timestamp: a duplicate


def test_an_ingest_key_of_a_suspended_organization_gets_403(world):
    api_client = APIClient()
    key = "sgk_suspension_test_key"
    IngestKey.objects.create(
        organization=world.org_a, name="gateway", digest=credentials.digest(key)
    )
    set_suspended(world.org_a, True)
    response = post(api_client, key, world.node_a.device_id)
    assert response.status_code == 403
    assert "organization suspended" in response.json()["detail"]
    assert not Sample.objects.exists()
    # another organization is not concerned
    node_b = world.node_b
    credential = node_b.issue_credential()
    node_b.save(update_fields=["credential_digest"])
    assert post(api_client, credential, node_b.device_id).status_code == 200


def test_an_mqtt_message_of_a_suspended_organizations_node_is_a_dead_letter(world):
    body = {"device": world.node_a.device_id, "ts": hours_ago(1).isoformat(), "values": {"co2": 1}}
    mqtt = {"source": "mqtt", "topic": f"sensorgrid/{world.node_a.device_id}/up"}
    assert pipeline.ingest(envelope(json.dumps(body).encode(), **mqtt), "json").accepted == 1
    set_suspended(world.org_a, True)
    body["ts"] = hours_ago(2).isoformat()
    outcome = pipeline.ingest(envelope(json.dumps(body).encode(), **mqtt), "json")
    assert outcome.accepted == 0
    assert [r.reason for r in outcome.rejected] == ["organization-suspended"]
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.node_id, letter.organization_id) == (
        "organization-suspended",
        world.node_a.pk,
        world.org_a.pk,
    )
    assert "organization suspended" in letter.detail
    assert Sample.objects.filter(node=world.node_a).count() == 1
    # unsuspended: the next message is stored
    set_suspended(world.org_a, False)
    body["ts"] = hours_ago(3).isoformat()
    assert pipeline.ingest(envelope(json.dumps(body).encode(), **mqtt), "json").accepted == 1
