"""The autoencoder and the PCA baseline on the simulator's scene, without a database."""

import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from sensorgrid.outliers import detector, features
from sensorgrid.simulator import scenes

START = datetime(2026, 6, 1, tzinfo=UTC)
STEP = timedelta(minutes=20)


def pictures(times, anomaly=None):
    return features.matrix([scenes.encode(scenes.picture(1, 1, at, anomaly)) for at in times])


@pytest.fixture(scope="module")
def normal():
    return pictures([START + i * STEP for i in range(72)])


@pytest.fixture(scope="module")
def mlp(normal):
    return detector.train(normal, "mlp", seed=0)


@pytest.fixture(scope="module")
def later():
    """Times of the next day, at other minutes than the training pictures."""
    return [START + timedelta(days=1, minutes=7) + i * timedelta(minutes=47) for i in range(30)]


def test_the_scene_is_the_same_for_the_same_seed_camera_and_time():
    at = START + timedelta(hours=9, minutes=3)
    assert (scenes.picture(1, 1, at) == scenes.picture(1, 1, at)).all()
    assert not (scenes.picture(1, 1, at) == scenes.picture(2, 1, at)).all()
    assert scenes.anomaly_at(1, 1, at, rate=0.5) == scenes.anomaly_at(1, 1, at, rate=0.5)


def test_the_scene_is_darker_at_night_than_at_noon():
    night = scenes.picture(1, 1, START + timedelta(hours=2)).mean()
    noon = scenes.picture(1, 1, START + timedelta(hours=12)).mean()
    assert night < noon * 0.5
    assert scenes.picture(1, 1, START + timedelta(hours=12), "black").mean() < 10


def test_about_the_chosen_share_of_pictures_carries_an_anomaly():
    drawn = [scenes.anomaly_at(3, 1, START + i * STEP) for i in range(2000)]
    share = sum(a is not None for a in drawn) / len(drawn)
    assert 0.03 < share < 0.07
    assert {a for a in drawn if a} == set(scenes.ANOMALIES)


def test_a_picture_becomes_a_downscaled_grayscale_vector():
    data = scenes.encode(scenes.picture(1, 1, START + timedelta(hours=12)))
    vector = features.vector(data)
    assert vector.shape == (32 * 32,) and vector.dtype == np.float32
    assert vector.min() >= 0.0 and vector.max() <= 1.0
    png = scenes.encode(scenes.picture(1, 1, START + timedelta(hours=12)), "PNG")
    assert np.abs(features.vector(png) - vector).max() < 0.05  # JPEG or PNG: one scene


def test_bytes_that_are_no_picture_are_refused():
    with pytest.raises(features.UnreadablePicture):
        features.vector(b"<html>not a picture</html>")


def test_the_autoencoder_flags_every_kind_of_anomaly_and_passes_normal_pictures(mlp, later):
    normal = mlp.errors(pictures(later))
    assert (normal <= mlp.threshold).all()
    for anomaly in scenes.ANOMALIES:
        errors = mlp.errors(pictures(later[:10], anomaly))
        assert (errors > mlp.threshold).all(), anomaly


def test_the_pca_baseline_misses_black_frames(normal, later):
    # A linear model reconstructs "the scene, very dark" well: the documented weakness.
    pca = detector.train(normal, "pca")
    assert (pca.errors(pictures(later[:10], "covered")) > pca.threshold).all()
    assert (pca.errors(pictures(later[:10], "black")) <= pca.threshold).all()


def test_training_is_deterministic_for_a_seed(normal):
    once, again = (detector.train(normal[:20], "mlp", seed=3, max_iter=20) for _ in range(2))
    assert again.threshold == once.threshold
    assert all((again.arrays[k] == once.arrays[k]).all() for k in once.arrays)
    other = detector.train(normal[:20], "mlp", seed=4, max_iter=20)
    assert not (other.arrays["w0"] == once.arrays["w0"]).all()


def test_the_threshold_is_the_quantile_of_training_errors_times_the_margin(normal, mlp):
    errors = mlp.errors(normal)
    assert mlp.threshold == pytest.approx(float(np.quantile(errors, 0.99)) * 1.5, rel=1e-5)
    assert mlp.info["pictures"] == 72 and mlp.info["quantile"] == 0.99


def test_a_stored_model_scores_like_the_trained_one(mlp, later):
    again = detector.Detector.loads(mlp.dumps())
    x = pictures(later[:3])
    assert np.allclose(again.errors(x), mlp.errors(x))
    assert again.threshold == mlp.threshold and again.kind == "mlp"
    _error, outlier, reconstruction = again.score(x[0])
    assert not outlier and reconstruction.shape == (1024,)
    assert features.png(reconstruction).startswith(b"\x89PNG")


def test_an_archive_with_pickled_objects_is_refused_without_unpickling(tmp_path):
    class Boom:
        def __reduce__(self):
            return (open, (str(tmp_path / "ran"), "w"))

    out = io.BytesIO()
    np.savez(out, __meta__=np.frombuffer(b'{"format": 1, "kind": "mlp", "threshold": 1}', np.uint8),
             mean=np.array([Boom()], dtype=object))  # fmt: skip
    with pytest.raises(ValueError, match="allow_pickle"):
        detector.Detector.loads(out.getvalue())
    assert not (tmp_path / "ran").exists()


def test_too_few_pictures_or_bad_parameters_are_refused(normal):
    with pytest.raises(detector.TrainingError, match="at least 10"):
        detector.train(normal[:5])
    with pytest.raises(detector.TrainingError, match="quantile"):
        detector.train(normal, quantile=1.5)
    with pytest.raises(detector.TrainingError, match="margin"):
        detector.train(normal, margin=0.5)
    with pytest.raises(detector.TrainingError, match="unknown model kind"):
        detector.train(normal, kind="forest")


def test_the_camera_profile_sends_the_scene_with_its_anomalies_on_the_images_route():
    import base64
    import json

    from sensorgrid.simulator import profiles

    camera = profiles.get("camera")
    device = camera.device(1, 1)
    times = [START + i * STEP for i in range(400)]
    black = next(at for at in times if scenes.anomaly_at(1, 1, at) == "black")
    uplink = camera.encode(device, camera.reading(device, black), black, 1)
    assert uplink.topic == f"sensorgrid/{device.device_id}/image/camera"
    body = json.loads(uplink.payload)
    assert body["ts"].startswith(black.strftime("%Y-%m-%dT%H:%M:%S"))
    assert features.vector(base64.b64decode(body["data"])).mean() < 0.05
