"""Checked ingest credentials are trusted for a while; revoking one is not delayed here."""

import time

from django.urls import reverse

from sensorgrid.inventory.models import Node
from tests.ingest.test_ingest_keys import create_key, send


def test_a_rotated_credential_is_refused_at_once_after_it_was_trusted(world, client_for):
    alice = client_for(world.alice)
    rotate = reverse("node-rotate-credential", args=[world.node_a.pk])
    old = alice.post(rotate).json()["credential"]
    assert send(old, world.node_a.device_id).status_code == 200  # now trusted

    new = alice.post(rotate).json()["credential"]
    assert send(old, world.node_a.device_id).status_code == 401
    assert send(new, world.node_a.device_id).status_code == 200


def test_a_deleted_key_is_refused_at_once_after_it_was_trusted(world, client_for):
    alice = client_for(world.alice)
    created = create_key(alice, world.org_a)
    assert send(created["key"], world.node_a.device_id).status_code == 200
    assert alice.delete(f"/api/v1/ingest-keys/{created['id']}/").status_code == 204
    assert send(created["key"], world.node_a.device_id).status_code == 401


def test_a_change_made_elsewhere_is_noticed_within_the_ttl(world, client_for, settings):
    """Another process's rotation reaches this one only through the database; a
    queryset update (no signal) stands in for it."""
    settings.SENSORGRID_INGEST_CREDENTIAL_TTL = 0.3
    rotate = reverse("node-rotate-credential", args=[world.node_a.pk])
    old = client_for(world.alice).post(rotate).json()["credential"]
    assert send(old, world.node_a.device_id).status_code == 200
    Node.objects.filter(pk=world.node_a.pk).update(credential_digest="0" * 64)
    time.sleep(0.4)
    assert send(old, world.node_a.device_id).status_code == 401


def test_with_no_ttl_every_request_looks_the_credential_up(world, client_for, settings):
    settings.SENSORGRID_INGEST_CREDENTIAL_TTL = 0
    rotate = reverse("node-rotate-credential", args=[world.node_a.pk])
    old = client_for(world.alice).post(rotate).json()["credential"]
    assert send(old, world.node_a.device_id).status_code == 200
    Node.objects.filter(pk=world.node_a.pk).update(credential_digest="0" * 64)
    assert send(old, world.node_a.device_id).status_code == 401
