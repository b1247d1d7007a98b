"""Node models in the dashboard (Django test client): owners create and edit their
organization's models with a codec from the codec registry; the shared catalogue is
read-only for them; inspectors read; strangers get the 404."""

import pytest
from django.test import Client

from sensorgrid.inventory.models import NodeModel

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_alice_lists_her_models_and_the_catalogue_not_org_bs(world):
    NodeModel.objects.create(organization=world.org_b, manufacturer="Acme", name="secretB model")
    page = body(signed_in(world.alice).get("/node-models/"))
    assert "secretA model" in page and "Shared model" in page and "shared catalogue" in page
    assert "secretB model" not in page
    assert f"/node-models/{world.model_a.pk}/edit/" in page
    assert f"/node-models/{world.shared_model.pk}/edit/" not in page  # the operators'


def test_alice_creates_a_model_with_a_codec_from_the_registry(world):
    alice = signed_in(world.alice)
    form = body(alice.get("/node-models/new/"))
    assert '<option value="elsys">' in form and "cayenne_lpp" in form
    response = alice.post(
        "/node-models/new/",
        {
            "organization": world.org_a.pk,
            "manufacturer": "Elsys",
            "name": "ERS CO2",
            "protocol": "lorawan",
            "codec": "elsys",
            "quantities": ["co2", "temperature"],
            "sampling_interval": "600",
        },
    )
    assert response.status_code == 302, body(response)
    model = NodeModel.objects.get(name="ERS CO2")
    assert (model.organization, model.codec, model.protocol) == (world.org_a, "elsys", "lorawan")
    assert sorted(model.quantities.values_list("key", flat=True)) == ["co2", "temperature"]
    assert model.sampling_interval == 600
    # a node of org A can now name it
    assert "Elsys ERS CO2" in body(alice.get("/nodes/new/"))


def test_an_unknown_codec_or_a_foreign_organization_is_refused(world):
    alice = signed_in(world.alice)
    data = {"manufacturer": "X", "name": "Y", "protocol": "mqtt", "sampling_interval": "60"}
    response = alice.post(
        "/node-models/new/", {**data, "organization": world.org_a.pk, "codec": "nope"}
    )
    assert "Select a valid choice" in body(response)
    response = alice.post(
        "/node-models/new/", {**data, "organization": world.org_b.pk, "codec": ""}
    )
    assert "Select a valid choice" in body(response)
    assert not NodeModel.objects.filter(name="Y").exists()


def test_alice_edits_her_model(world):
    alice = signed_in(world.alice)
    path = f"/node-models/{world.model_a.pk}/edit/"
    assert 'value="secretA model"' in body(alice.get(path))
    response = alice.post(
        path,
        {
            "manufacturer": "Acme",
            "name": "secretA model v2",
            "protocol": "http",
            "codec": "",
            "sampling_interval": "120",
        },
    )
    assert response.status_code == 302
    world.model_a.refresh_from_db()
    assert (world.model_a.name, world.model_a.protocol, world.model_a.sampling_interval) == (
        "secretA model v2",
        "http",
        120,
    )


def test_the_catalogue_and_inspectors_are_read_only(world):
    alice = signed_in(world.alice)
    assert alice.get(f"/node-models/{world.shared_model.pk}/edit/").status_code == 403
    assert (
        alice.post(f"/node-models/{world.shared_model.pk}/edit/", {"name": "mine"}).status_code
        == 403
    )
    bob = signed_in(world.bob)
    page = body(bob.get("/node-models/"))
    assert "secretA model" in page and "/edit/" not in page and "/node-models/new/" not in page
    assert bob.get("/node-models/new/").status_code == 403
    assert bob.post(f"/node-models/{world.model_a.pk}/edit/", {"name": "bob's"}).status_code == 403
    world.shared_model.refresh_from_db()
    world.model_a.refresh_from_db()
    assert world.shared_model.name == "Shared model" and world.model_a.name == "secretA model"


def test_charlie_from_org_b_gets_the_404(world):
    charlie = signed_in(world.charlie)
    assert charlie.get(f"/node-models/{world.model_a.pk}/edit/").status_code == 404
    assert charlie.post(f"/node-models/{world.model_a.pk}/edit/", {"name": "x"}).status_code == 404
    assert charlie.get("/node-models/999999/edit/").status_code == 404
    assert "secretA" not in body(charlie.get("/node-models/"))
