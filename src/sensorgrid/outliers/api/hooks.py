"""The outliers app's additions to the images API: ``?outlier=`` and each picture's score.

A picture's verdict is that of the newest model version that scored it. Both are for
members of the node's organization only (``members_only``), also on a public
installation's pictures: scores and reconstructions are never public (docs/images.md).
"""

from collections.abc import Sequence
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse

from sensorgrid.images.api.hooks import FIELDS, FILTERS, ImageField, ImageFilter
from sensorgrid.outliers.models import OutlierScore

TRUE, FALSE = ("true", "1"), ("false", "0")


def newest_scores(images: QuerySet | None = None) -> QuerySet:
    """Each picture's score by the newest version that scored it (one per picture)."""
    scores = OutlierScore.objects.select_related("model").order_by("image_id", "-model__version")
    return scores if images is None else scores.filter(image__in=images)


def _verdict() -> Subquery:
    newest = OutlierScore.objects.filter(image=OuterRef("pk")).order_by("-model__version")
    return Subquery(newest.values("is_outlier")[:1])


def filter_outliers(images: QuerySet, raw: str) -> QuerySet:
    wanted = raw.strip().lower()
    if wanted not in TRUE + FALSE:
        raise ValueError("Must be true or false.")
    return images.annotate(_outlier=_verdict()).filter(_outlier=wanted in TRUE)


def score_json(score: OutlierScore) -> dict[str, Any]:
    return {
        "id": score.pk,
        "score": score.score,
        "threshold": score.threshold,
        "is_outlier": score.is_outlier,
        "model_version": score.model.version,
        "scored_at": score.scored_at,
        "acknowledged_at": score.acknowledged_at,
        "reconstruction_url": reverse("outlier-reconstruction", args=[score.pk]),
    }


def outlier_fields(images: Sequence[Any]) -> dict[int, object]:
    found: dict[int, object] = {}
    for score in newest_scores().filter(image_id__in=[i.pk for i in images]):
        found.setdefault(score.image_id, score_json(score))
    return found


def register() -> None:
    FILTERS.add(
        "outlier",
        ImageFilter(
            filter_outliers,
            "true: only pictures the outlier model flagged; false: only those it passed "
            "(the verdict of the newest model version that scored each picture; unscored "
            "pictures match neither). Members of the node's organization only.",
            members_only=True,
        ),
    )
    FIELDS.add("outlier", ImageField(outlier_fields, members_only=True))
