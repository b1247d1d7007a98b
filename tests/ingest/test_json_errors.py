"""A body that is not JSON is refused with the parser's position (issue 18, item 10)."""

import json

from rest_framework.test import APIClient

from sensorgrid.telemetry.models import DeadLetter

URL = "/api/v1/ingest/"


def client_of(node) -> APIClient:
    credential = node.issue_credential()
    node.save(update_fields=["credential_digest"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential}")
    return client


def test_a_pretty_printed_document_with_a_syntax_error_names_the_parsers_position(world):
    # json.dumps(indent=2) with the comma after "co2": 600 removed: line 5, column 5.
    body = json.dumps(
        {"device": world.node_a.device_id, "values": {"co2": 600, "temperature": 21.5}}, indent=2
    ).replace("600,", "600")
    response = client_of(world.node_a).post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("invalid JSON: Expecting ',' delimiter: line 5 column 5 (char ")
    letter = DeadLetter.objects.get()
    assert letter.reason == "malformed" and letter.detail == detail


def test_ndjson_keeps_naming_the_line_of_a_broken_document(world):
    good = json.dumps({"device": world.node_a.device_id, "values": {"co2": 600}})
    body = f'{good}\n{{"device": \n{good}\n'
    response = client_of(world.node_a).post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("line 2: invalid JSON: Expecting value")
