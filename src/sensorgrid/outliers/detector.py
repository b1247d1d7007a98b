"""Training and scoring outlier models: an autoencoder (MLP) and the PCA baseline.

Both learn to reconstruct the downscaled grayscale pictures (``features``) of one node
and image name from a set of normal pictures; a picture the model reconstructs badly
(mean squared error above the threshold) is an outlier.

- ``mlp`` (the default): scikit-learn's ``MLPRegressor`` trained input → input on the
  pictures minus their mean, through a bottleneck (1024 → 128 → 16 → 128 → 1024, tanh).
  It is non-linear, so it learns that the scene gets darker at night without accepting
  a black frame as "the scene, very dark".
- ``pca`` (the documented baseline): the first principal components of the same
  vectors; a linear model, so brightness scaled down to black is reconstructed well.

The threshold is the ``quantile`` (default 0.99) of the training pictures'
reconstruction errors times ``margin`` (default 1.5): the training errors of a model
are a little optimistic for pictures it has not seen.

**Stored safely**: a trained model is kept as its arrays (weights, biases, mean,
components) in an ``.npz`` archive plus JSON metadata, written by the server and read
with ``numpy.load(allow_pickle=False)`` — no pickle, no joblib, so a model file cannot
run code even if someone replaced it. Scoring is a numpy forward pass over those arrays;
only training needs scikit-learn. Training is deterministic for a given ``seed``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sensorgrid import extras
from sensorgrid.outliers.features import FEATURE, numpy_module

if TYPE_CHECKING:
    import numpy

KINDS = ("mlp", "pca")
FORMAT = 1  # of the archive: a reader refuses other formats
DEFAULT_QUANTILE = 0.99
DEFAULT_MARGIN = 1.5
HIDDEN = (128, 16, 128)
PCA_COMPONENTS = 16
#: fewer normal pictures than this cannot make a model worth trusting
MIN_PICTURES = 10


class TrainingError(ValueError):
    """The chosen pictures cannot make a model (too few, wrong parameters)."""


@dataclass
class Detector:
    """A trained model: what it needs to score, and how it was trained."""

    kind: str
    threshold: float
    arrays: dict[str, numpy.ndarray]
    info: dict[str, Any] = field(default_factory=dict)

    # -- scoring -----------------------------------------------------------------

    def reconstruct(self, x: numpy.ndarray) -> numpy.ndarray:
        """Reconstructions of the rows of ``x`` (float32 vectors from ``features``)."""
        np = numpy_module()
        a = self.arrays
        z = np.atleast_2d(x).astype(np.float32) - a["mean"]
        if self.kind == "pca":
            centred = z - a["pca_mean"]
            z = centred @ a["components"].T @ a["components"] + a["pca_mean"]
        else:
            layers = int(a["layers"][0])
            for i in range(layers):
                z = z @ a[f"w{i}"] + a[f"b{i}"]
                if i < layers - 1:
                    z = np.tanh(z)
        return z + a["mean"]

    def errors(self, x: numpy.ndarray) -> numpy.ndarray:
        """The mean squared reconstruction error of each row of ``x``."""
        np = numpy_module()
        x = np.atleast_2d(x).astype(np.float32)
        return ((self.reconstruct(x) - x) ** 2).mean(axis=1)

    def score(self, x: numpy.ndarray) -> tuple[float, bool, numpy.ndarray]:
        """(error, is outlier, reconstruction) of one picture vector."""
        reconstruction = self.reconstruct(x)
        error = float(((reconstruction[0] - x) ** 2).mean())
        return error, error > self.threshold, reconstruction[0]

    # -- storage -----------------------------------------------------------------

    def dumps(self) -> bytes:
        """The model as an ``.npz`` archive of numeric arrays (no pickled objects)."""
        np = numpy_module()
        meta = {"format": FORMAT, "kind": self.kind, "threshold": self.threshold, **self.info}
        out = io.BytesIO()
        encoded = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        np.savez_compressed(out, __meta__=encoded, **self.arrays)
        return out.getvalue()

    @classmethod
    def loads(cls, data: bytes) -> Detector:
        """A model from ``dumps``'s bytes; never unpickles (``allow_pickle=False``)."""
        np = numpy_module()
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        meta = json.loads(arrays.pop("__meta__").tobytes().decode())
        if meta.pop("format", None) != FORMAT or meta.get("kind") not in KINDS:
            raise ValueError("not an outlier model archive of a known format")
        kind, threshold = meta.pop("kind"), float(meta.pop("threshold"))
        if any(a.dtype.kind not in "fiu" for a in arrays.values()):
            raise ValueError("a model archive holds numbers only")
        return cls(kind, threshold, arrays, meta)


def train(
    x: numpy.ndarray,
    kind: str = "mlp",
    quantile: float = DEFAULT_QUANTILE,
    margin: float = DEFAULT_MARGIN,
    seed: int = 0,
    max_iter: int = 1000,
) -> Detector:
    """A model of the normal pictures in the rows of ``x``; deterministic for ``seed``."""
    np = numpy_module()
    if kind not in KINDS:
        raise TrainingError(f"unknown model kind {kind!r}; known: {', '.join(KINDS)}")
    if not 0.5 <= quantile <= 1.0:
        raise TrainingError("the threshold quantile must be between 0.5 and 1")
    if margin < 1.0:
        raise TrainingError("the threshold margin must be at least 1")
    if len(x) < MIN_PICTURES:
        raise TrainingError(f"{len(x)} pictures; a model needs at least {MIN_PICTURES}")
    x = np.asarray(x, dtype=np.float32)
    mean = x.mean(axis=0)
    z = x - mean
    arrays: dict[str, Any] = {"mean": mean}
    if kind == "pca":
        decomposition = extras.require("sklearn.decomposition", "outliers", FEATURE)
        components = min(PCA_COMPONENTS, len(x) - 1, x.shape[1])
        pca = decomposition.PCA(n_components=components, random_state=seed).fit(z)
        arrays["components"] = pca.components_.astype(np.float32)
        arrays["pca_mean"] = pca.mean_.astype(np.float32)
        info: dict[str, Any] = {"components": components}
    else:
        network = extras.require("sklearn.neural_network", "outliers", FEATURE)
        exceptions = extras.require("sklearn.exceptions", "outliers", FEATURE)
        import warnings

        model = network.MLPRegressor(
            hidden_layer_sizes=HIDDEN,
            activation="tanh",
            alpha=1e-4,
            max_iter=max_iter,
            tol=1e-7,
            n_iter_no_change=30,
            random_state=seed,
        )
        threads = extras.require("threadpoolctl", "outliers", FEATURE)
        # One BLAS thread: the matrices are small, and on a busy machine (the worker beside
        # the web and ingest processes) several threads each fight for the cores.
        with warnings.catch_warnings(), threads.threadpool_limits(limits=1):
            # Stopping at max_iter is a choice (bounded training time), not a fault.
            warnings.simplefilter("ignore", exceptions.ConvergenceWarning)
            model.fit(z, z)
        for i, (w, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
            arrays[f"w{i}"] = w.astype(np.float32)
            arrays[f"b{i}"] = b.astype(np.float32)
        arrays["layers"] = np.array([len(model.coefs_)], dtype=np.int32)
        info = {"hidden": list(HIDDEN), "iterations": int(model.n_iter_)}
    detector = Detector(kind, 0.0, arrays, info)
    errors = detector.errors(x)
    detector.threshold = float(np.quantile(errors, quantile)) * margin
    detector.info.update(
        {
            "size": round(x.shape[1] ** 0.5),
            "pictures": len(x),
            "quantile": quantile,
            "margin": margin,
            "seed": seed,
            "training_error_mean": float(errors.mean()),
            "training_error_max": float(errors.max()),
        }
    )
    return detector
