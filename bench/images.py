"""Image outlier detection: quality against the PCA baseline, and scoring throughput.

    .venv/bin/python bench/images.py [--cameras 3] [--train-days 2] [--test-days 3]
                                     [--interval 10] [--rate 0.05] [--seed 1]

No database, no broker: the simulator's camera scene (``sensorgrid.simulator.scenes``,
the ``camera`` profile's pictures: light following the day, sensor noise) is rendered
every ``--interval`` minutes as JPEG for each of ``--cameras`` cameras. Each camera's
first ``--train-days`` days of normal pictures train both models, the autoencoder
(``mlp``, the default) and the PCA baseline, with the default threshold (the 0.99
quantile of the training errors × 1.5). The next ``--test-days`` days carry injected
anomalies (share ``--rate``: an object in view, a covered lens, a black frame) and are
scored by both:

- precision: flagged pictures that carry an anomaly; recall: anomalies flagged (also
  per anomaly kind); false positives per camera and day;
- scoring throughput: pictures/s of what the worker does per picture (decode the JPEG,
  downscale, reconstruct, error, the reconstruction as PNG), one thread;
- training time per model.

Prints one JSON line; docs/images.md quotes a run.
"""

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sensorgrid.settings")

import django

django.setup()

from sensorgrid.outliers import detector, features  # noqa: E402
from sensorgrid.simulator import scenes  # noqa: E402

START = datetime(2026, 3, 2, tzinfo=UTC)


def quality(flags: list[bool], truth: list[str | None]) -> dict:
    tp = sum(f and t is not None for f, t in zip(flags, truth, strict=True))
    fp = sum(f and t is None for f, t in zip(flags, truth, strict=True))
    positives = sum(t is not None for t in truth)
    per_kind = {
        kind: round(
            sum(f for f, t in zip(flags, truth, strict=True) if t == kind)
            / max(1, sum(t == kind for t in truth)),
            3,
        )
        for kind in scenes.ANOMALIES
    }
    return {
        "precision": round(tp / max(1, tp + fp), 3),
        "recall": round(tp / max(1, positives), 3),
        "false_positives": fp,
        "recall_by_kind": per_kind,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=3)
    parser.add_argument("--train-days", type=float, default=2)
    parser.add_argument("--test-days", type=float, default=3)
    parser.add_argument("--interval", type=float, default=10, help="minutes between pictures")
    parser.add_argument("--rate", type=float, default=scenes.ANOMALY_RATE)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    step = timedelta(minutes=args.interval)
    n_train = int(args.train_days * 1440 / args.interval)
    n_test = int(args.test_days * 1440 / args.interval)
    flags: dict[str, list[bool]] = {"mlp": [], "pca": []}
    truth: list[str | None] = []
    training_seconds: dict[str, list[float]] = {"mlp": [], "pca": []}
    scoring = {"pictures": 0, "seconds": 0.0}
    for camera in range(1, args.cameras + 1):
        train = [
            scenes.encode(scenes.picture(args.seed, camera, START + i * step))
            for i in range(n_train)
        ]
        x = features.matrix(train)
        models = {}
        for kind in flags:
            began = time.perf_counter()
            models[kind] = detector.train(x, kind, seed=0)
            training_seconds[kind].append(time.perf_counter() - began)
        for i in range(n_train, n_train + n_test):
            at = START + i * step
            anomaly = scenes.anomaly_at(args.seed, camera, at, args.rate)
            data = scenes.encode(scenes.picture(args.seed, camera, at, anomaly))
            truth.append(anomaly)
            for kind, model in models.items():
                began = time.perf_counter()
                _error, outlier, reconstruction = model.score(features.vector(data))
                if kind == "mlp":  # the worker's path: the reconstruction is stored too
                    features.png(reconstruction)
                    scoring["seconds"] += time.perf_counter() - began
                    scoring["pictures"] += 1
                flags[kind].append(outlier)
    days = args.cameras * args.test_days
    result = {
        "cameras": args.cameras,
        "training_pictures_per_camera": n_train,
        "test_pictures": len(truth),
        "anomalies": sum(t is not None for t in truth),
        "autoencoder": {
            **quality(flags["mlp"], truth),
            "false_positives_per_camera_day": round(
                sum(f and t is None for f, t in zip(flags["mlp"], truth, strict=True)) / days, 3
            ),
            "training_seconds": round(sum(training_seconds["mlp"]) / args.cameras, 2),
        },
        "pca_baseline": {
            **quality(flags["pca"], truth),
            "training_seconds": round(sum(training_seconds["pca"]) / args.cameras, 2),
        },
        "scoring_pictures_per_second": round(scoring["pictures"] / scoring["seconds"], 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
