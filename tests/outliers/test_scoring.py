"""Training versions from stored pictures and scoring every new one on the worker."""

import pytest
from django.core.management import CommandError, call_command
from huey.contrib.djhuey import HUEY

from sensorgrid import events
from sensorgrid.images import storage
from sensorgrid.images.events import ImageStored
from sensorgrid.outliers import detector, features, service
from sensorgrid.outliers.models import OutlierModel, OutlierScore
from tests.outliers.conftest import START, STEP, store_picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker_inline():
    HUEY.immediate = True  # tasks run in-process at once, on an in-memory queue
    yield
    HUEY.immediate = False


def arrive(node, at, anomaly=None):
    """A picture stored and announced as the images app does (ImageStored)."""
    image = store_picture(node, at, anomaly)
    events.announce(ImageStored(image.pk, node.pk, node.organization_id, image.name, image.ts))
    return image


def train(node, *args):
    """Train through the command; the PCA baseline unless ``--kind`` says otherwise (it
    trains in milliseconds; the autoencoder's quality is test_detector.py's)."""
    kind = () if "--kind" in args else ("--kind", "pca")
    call_command("images", "train", node.device_id, "camera", *kind, *args)
    return OutlierModel.objects.current(node.pk, "camera")


def test_the_command_trains_a_version_on_the_chosen_range(world, normal_day, capsys):
    model = train(
        world.node_a, "--kind", "mlp", "--from", START.isoformat(),
        "--to", (START + 36 * STEP).isoformat(),
    )  # fmt: skip
    assert model.version == 1 and model.kind == "mlp" and model.pictures == 36
    assert model.first_ts == START and model.last_ts == START + 35 * STEP
    assert model.threshold > model.training_error_max > 0
    assert "version 1 (mlp) trained on 36 pictures" in capsys.readouterr().out
    # The archive is in the images storage, readable without pickle, as trained.
    trained = detector.Detector.loads(storage.read(model.archive_key))
    assert trained.threshold == pytest.approx(model.threshold)


def test_the_first_n_pictures_and_the_pca_baseline(world, normal_day):
    model = train(world.node_a, "--first", "20", "--quantile", "0.95")
    assert (model.pictures, model.kind, model.quantile) == (20, "pca", 0.95)
    assert model.last_ts == START + 19 * STEP


def test_every_new_picture_is_scored_after_commit_with_its_reconstruction(
    world, normal_day, worker_inline, django_capture_on_commit_callbacks
):
    model = train(world.node_a)
    later = START + 72 * STEP
    with django_capture_on_commit_callbacks(execute=True):
        normal = arrive(world.node_a, later + STEP)
        thing = arrive(world.node_a, later + 2 * STEP, "object")
        covered = arrive(world.node_a, later + 3 * STEP, "covered")
    scores = {s.image_id: s for s in OutlierScore.objects.all()}
    assert not scores[normal.pk].is_outlier
    assert scores[thing.pk].is_outlier and scores[covered.pk].is_outlier
    for score in scores.values():
        assert score.model == model and score.threshold == model.threshold
        assert score.node_id == world.node_a.pk and score.ts in (normal.ts, thing.ts, covered.ts)
        shown = storage.read(score.reconstruction_key)
        assert shown.startswith(b"\x89PNG")
    assert scores[covered.pk].score > model.threshold > scores[normal.pk].score


def test_pictures_without_a_model_are_not_queued(
    world, worker_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        arrive(world.node_a, START)
    assert not OutlierScore.objects.exists()


def test_retraining_adds_a_version_and_keeps_the_old_scores(world, normal_day):
    first = train(world.node_a, "--first", "36")
    picture = store_picture(world.node_a, START + 80 * STEP, "object")
    old = service.score_image(picture.pk)
    second = train(world.node_a, "--to", (START + 72 * STEP).isoformat())
    assert second.version == 2 and second.pictures == 72
    new = service.score_image(picture.pk)
    assert (old.model, new.model) == (first, second)
    assert OutlierScore.objects.filter(image=picture).count() == 2
    assert old.reconstruction_key != new.reconstruction_key
    assert service.score_image(picture.pk) == new  # scoring again changes nothing
    call_command("images", "versions", world.node_a.device_id, "camera")


def test_deleting_the_node_deletes_models_scores_and_their_objects(
    world, normal_day, django_capture_on_commit_callbacks
):
    model = train(world.node_a, "--first", "20")
    score = service.score_image(normal_day[-1].pk)
    keys = [model.archive_key, score.reconstruction_key]
    assert all(storage.exists(k) for k in keys)
    with django_capture_on_commit_callbacks(execute=True):
        world.node_a.delete()
    assert not OutlierModel.objects.exists() and not OutlierScore.objects.exists()
    assert not any(storage.exists(k) for k in keys)


def test_the_command_refuses_what_it_cannot_train(world, normal_day):
    with pytest.raises(CommandError, match="No node 'nowhere'"):
        call_command("images", "train", "nowhere", "camera")
    with pytest.raises(CommandError, match=r"0 pictures named 'door'.*at least 10"):
        call_command("images", "train", world.node_a.device_id, "door")
    with pytest.raises(CommandError, match="--from must be before --to"):
        call_command(
            "images", "train", world.node_a.device_id, "camera",
            "--from", "2026-06-02T00:00:00Z", "--to", "2026-06-01T00:00:00Z",
        )  # fmt: skip
    with pytest.raises(CommandError, match="has no model for 'camera'"):
        call_command("images", "versions", world.node_a.device_id, "camera")


def test_an_unreadable_stored_picture_does_not_stop_training_silently(world, normal_day):
    storage.save(normal_day[3].key, b"garbage", "image/jpeg")
    with pytest.raises(features.UnreadablePicture):
        service.train(world.node_a, "camera")


def test_a_picture_the_worker_cannot_read_is_logged_not_retried(
    world, normal_day, worker_inline, caplog
):
    from sensorgrid.outliers import tasks

    train(world.node_a)
    broken = store_picture(world.node_a, START + 80 * STEP)
    storage.save(broken.key, b"not a picture any more", "image/jpeg")
    assert tasks.score(broken.pk)() is None
    assert not OutlierScore.objects.exists()
    assert f"picture {broken.pk} not scored: not a readable picture" in caplog.text
