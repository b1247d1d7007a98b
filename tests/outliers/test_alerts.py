"""The image_outlier rule kind: an outlier opens an alert through the rules and the outbox."""

import pytest

from sensorgrid.alerts.models import Alert, Channel, Delivery
from sensorgrid.outliers import service
from tests.outliers.conftest import START, STEP, store_picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(world, normal_day):
    return service.train(world.node_a, "camera", kind="pca")


def make_rule(client, world, **changes):
    body = {
        "organization": world.org_a.pk,
        "name": "Camera watch",
        "kind": "image_outlier",
        "scope": "node",
        "node": world.node_a.pk,
        "params": {"names": ["camera"], "clear_after": 2},
        **changes,
    }
    return client.post("/api/v1/alert-rules/", body, format="json")


def test_an_outlier_opens_one_alert_with_a_delivery_and_normal_pictures_resolve_it(
    world, client_for, model, django_capture_on_commit_callbacks
):
    channel = Channel.objects.create(
        organization=world.org_a, name="ops", kind="webhook",
        config={"url": "https://hooks.example.org/ops"},
    )  # fmt: skip
    created = make_rule(client_for(world.alice), world, channels=[channel.pk])
    assert created.status_code == 201, created.content
    assert created.json()["params"] == {"names": ["camera"], "clear_after": 2}
    later = START + 100 * STEP
    with django_capture_on_commit_callbacks(execute=True):
        for i, anomaly in enumerate(["covered", "object", None, None, None]):
            service.score_image(store_picture(world.node_a, later + i * STEP, anomaly).pk)
    alert = Alert.objects.get()
    assert alert.rule_id == created.json()["id"] and alert.quantity is None
    assert alert.started_at == later
    # The open alert followed the second outlier; 2 normal pictures in a row resolved it.
    assert f"picture 'camera' at {later + STEP:%Y-%m-%d %H:%M:%S}Z is an outlier" in alert.message
    assert alert.resolved_at == alert.last_ts == later + 3 * STEP
    events = sorted(Delivery.objects.filter(alert=alert).values_list("event", flat=True))
    assert events == ["alert.opened", "alert.resolved"]


def test_a_rule_for_other_image_names_stays_quiet(world, client_for, model):
    created = make_rule(client_for(world.alice), world, params={"names": ["door"]})
    assert created.status_code == 201
    service.score_image(store_picture(world.node_a, START + 100 * STEP, "covered").pk)
    assert not Alert.objects.exists()


def test_the_rule_watches_nodes_not_quantities_and_checks_its_parameters(world, client_for):
    alice = client_for(world.alice)
    with_quantity = make_rule(alice, world, quantity="co2")
    assert with_quantity.status_code == 400
    assert "watches nodes" in with_quantity.json()["quantity"][0]
    bad = make_rule(alice, world, params={"names": "camera", "clear_after": 0, "x": 1})
    assert bad.status_code == 400
    assert set(bad.json()["params"]) == {"names", "clear_after", "x"}
