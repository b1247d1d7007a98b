"""A node model names its codec by a checked key (issue 18, item 3)."""

import json

import pytest
from django.core.management import call_command

from sensorgrid.ingest import codecs, pipeline
from sensorgrid.inventory.models import NodeModel
from sensorgrid.telemetry.models import Sample
from tests import factories as f
from tests.ingest.conftest import envelope

URL = "/api/v1/node-models/"


def model_of(world, **fields) -> dict:
    return {"organization": world.org_a.pk, "manufacturer": "Elsys", "name": "ERS", **fields}


def test_a_known_codec_is_stored(world, client_for):
    response = client_for(world.alice).post(URL, model_of(world, codec="elsys"), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["codec"] == "elsys"
    assert NodeModel.objects.get(pk=response.json()["id"]).codec == "elsys"


def test_an_unknown_codec_is_400_listing_the_known_keys(world, client_for):
    response = client_for(world.alice).post(
        URL, model_of(world, codec="decentlab_dl_iam_typo"), format="json"
    )
    assert response.status_code == 400
    [message] = response.json()["codec"]
    assert message.startswith("'decentlab_dl_iam_typo' is no codec; known: ")
    for key in ("cayenne_lpp", "dragino_lht65", "elsys", "milesight_am300"):
        assert key in message
    assert not NodeModel.objects.filter(name="ERS").exists()


def test_an_unknown_codec_is_refused_on_update_too(world, client_for):
    response = client_for(world.alice).patch(
        f"{URL}{world.model_a.pk}/", {"codec": "ttn_v3"}, format="json"
    )
    assert response.status_code == 400 and "is no codec" in response.json()["codec"][0]


def test_no_codec_is_allowed(world, client_for):
    response = client_for(world.alice).post(URL, model_of(world, codec=""), format="json")
    assert response.status_code == 201 and response.json()["codec"] == ""


def test_the_old_field_name_decoder_is_still_understood_on_input(world, client_for):
    response = client_for(world.alice).post(URL, model_of(world, decoder="elsys"), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["codec"] == "elsys" and "decoder" not in response.json()
    refused = client_for(world.alice).post(URL, model_of(world, decoder="json"), format="json")
    assert refused.status_code == 400 and "codec" in refused.json()


def test_node_models_are_filtered_by_codec(world, client_for):
    f.NodeModelFactory(organization=world.org_a, name="LHT65", codec="dragino_lht65")
    results = client_for(world.alice).get(URL, {"codec": "dragino_lht65"}).json()["results"]
    assert [m["name"] for m in results] == ["LHT65"]


def test_the_demos_elsys_model_reads_its_frames_with_the_elsys_codec(db):
    call_command("loaddemo", "--password", "pw-for-this-test")
    elsys = NodeModel.objects.get(manufacturer="Elsys", organization=None)
    assert elsys.codec == "elsys"
    assert all(m.codec in ("", *codecs.available()) for m in NodeModel.objects.all())
    node = elsys.nodes.get()
    uplink = {
        "end_device_ids": {"device_id": "hall", "dev_eui": node.device_id},
        "received_at": "2026-11-23T08:00:11.412Z",
        # Elsys' ERS CO2 example frame: 22.6 °C, 41 %, 39 lx, 6 PIR events, 776 ppm
        "uplink_message": {"f_port": 5, "frm_payload": "AQDiAikEACcFBgYDCA=="},
    }
    outcome = pipeline.ingest(envelope(json.dumps(uplink).encode()), "ttn")
    assert outcome.rejected == []
    assert {s.quantity.key: s.value for s in Sample.objects.select_related("quantity")} == {
        "temperature": 22.6,
        "humidity": 41.0,
        "illuminance": 39.0,
        "motion_count": 6.0,
        "co2": 776.0,
    }


@pytest.mark.parametrize("stale", ["json", "ttn_v3"])
def test_the_admin_refuses_a_stale_key(world, stale):
    from django.core.exceptions import ValidationError

    model = f.NodeModelFactory(organization=world.org_a, codec=stale)
    with pytest.raises(ValidationError, match="is no codec"):
        model.full_clean()
