"""Pictures leave with their organization's retention and with their node: rows and
objects, on both stores, only once the deleting transaction commits."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from sensorgrid.images import retention
from sensorgrid.images.models import Image
from tests.images.conftest import objects
from tests.images.test_api import stored


def test_retention_deletes_old_pictures_and_their_objects(store_kind, world, images_dir):
    now = timezone.now().replace(microsecond=0)
    old = stored(world.node_a, ts=now - timedelta(days=40))
    recent = stored(world.node_a, ts=now - timedelta(days=2))
    other = stored(world.node_b, ts=now - timedelta(days=400))  # org B keeps everything
    world.org_a.raw_retention_days = 30
    world.org_a.save()
    assert retention.prune(dry_run=True) == {"org-a": 1}
    assert Image.objects.count() == 3
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert retention.prune() == {"org-a": 1}
    assert set(Image.objects.all()) == {recent, other}
    assert objects(store_kind, images_dir) == {*recent.keys, *other.keys}
    assert not set(old.keys) & objects(store_kind, images_dir)


def test_the_prune_command_reports(world, capsys):
    stored(world.node_a, ts=timezone.now() - timedelta(days=40))
    world.org_a.raw_retention_days = 30
    world.org_a.save()
    call_command("prune_images", "--dry-run")
    assert "org-a: 1 pictures expired" in capsys.readouterr().out
    call_command("prune_images")
    assert not Image.objects.exists()


def test_deleting_a_node_deletes_its_objects_after_commit(store_kind, world, images_dir):
    mine = stored(world.node_a)
    kept = stored(world.node_b)
    with TestCase.captureOnCommitCallbacks(execute=True):
        world.node_a.delete()
    assert list(Image.objects.all()) == [kept]
    assert objects(store_kind, images_dir) == set(kept.keys)
    assert mine.key not in objects(store_kind, images_dir)


def test_a_rolled_back_deletion_keeps_the_objects(world, images_dir):
    image = stored(world.node_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        world.node_a.delete()
        raise RuntimeError("changed my mind")
    assert Image.objects.get() == image
    assert objects("filesystem", images_dir) == set(image.keys)


def test_the_worker_task_prunes(world):
    from sensorgrid.images import tasks

    stored(world.node_a, ts=timezone.now() - timedelta(days=40))
    world.org_a.raw_retention_days = 30
    world.org_a.save()
    assert tasks.prune.call_local() == {"org-a": 1}
