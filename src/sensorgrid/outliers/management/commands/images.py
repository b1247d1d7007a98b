"""sensorgrid images train | versions | score: outlier models of camera nodes (docs/images.md)."""

import argparse
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from sensorgrid import timestamps
from sensorgrid.extras import MissingExtra, require
from sensorgrid.inventory.models import Node
from sensorgrid.outliers import detector, features
from sensorgrid.outliers.models import OutlierModel, OutlierScore


def moment(value: str) -> datetime:
    try:
        return timestamps.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


class Command(BaseCommand):
    help = "Outlier models of camera nodes: train a version, list versions, score pictures."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="train|versions|score")
        train = sub.add_parser(
            "train",
            help="train a new model version on a node's normal pictures of NAME",
            description="Train a new version on the node's pictures of NAME taken in "
            "[--from, --to) (or the first N of them); the newest version scores new "
            "pictures, older versions and their scores are kept.",
        )
        for each in (train,):
            each.add_argument("node", help="the node: its device id or its number (id)")
            each.add_argument("name", help="the image name, e.g. camera")
        train.add_argument("--from", dest="start", type=moment, help="ISO 8601 or epoch")
        train.add_argument("--to", dest="end", type=moment, help="ISO 8601 or epoch (excluded)")
        train.add_argument("--first", type=positive, metavar="N", help="only the first N pictures")
        train.add_argument(
            "--kind", choices=detector.KINDS, default="mlp", help="mlp (default) or pca"
        )
        train.add_argument(
            "--quantile",
            type=float,
            default=detector.DEFAULT_QUANTILE,
            help="threshold: this quantile of the training errors (0.99) …",
        )
        train.add_argument(
            "--margin", type=float, default=detector.DEFAULT_MARGIN, help="… times this (1.5)"
        )
        train.add_argument("--seed", type=int, default=0, help="training seed (deterministic)")
        train.add_argument(
            "--score", action="store_true", help="then score the pictures taken after training's"
        )
        versions = sub.add_parser("versions", help="the model versions of a node's NAME")
        versions.add_argument("node")
        versions.add_argument("name")
        score = sub.add_parser(
            "score", help="score a node's stored pictures of NAME with the newest version"
        )
        score.add_argument("node")
        score.add_argument("name")
        score.add_argument("--from", dest="start", type=moment)
        score.add_argument("--to", dest="end", type=moment)
        for each in (train, versions, score):
            each.add_argument("--organization", help="the node's organization (slug)")

    def handle(self, *args, action: str, **options):
        try:
            if action in ("train", "score"):  # before any work: say what to install
                features.numpy_module()
                if action == "train":
                    require("sklearn", "outliers", "sensorgrid images train")
            getattr(self, f"do_{action}")(**options)
        except MissingExtra as exc:
            raise CommandError(str(exc)) from None

    def node(self, reference: str, organization: str | None) -> Node:
        nodes = Node.objects.select_related("organization")
        if organization:
            nodes = nodes.filter(organization__slug=organization)
        query = Q(device_id__iexact=reference)
        if reference.isdigit():
            query |= Q(pk=int(reference))
        found = list(nodes.filter(query)[:5])
        if not found:
            raise CommandError(
                f"No node {reference!r}" + (f" in {organization}." if organization else ".")
            )
        if len(found) > 1:
            listed = ", ".join(f"id {n.pk} ({n.organization.slug})" for n in found)
            raise CommandError(f"{reference!r} names several nodes: {listed}. Use the id.")
        return found[0]

    def do_train(self, node, name, start, end, first, kind, quantile, margin, seed, score,
                 organization=None, **options):  # fmt: skip
        from sensorgrid.outliers import service

        target = self.node(node, organization)
        if start and end and start >= end:
            raise CommandError("--from must be before --to.")
        try:
            model = service.train(
                target, name, start=start, end=end, first=first, kind=kind,
                quantile=quantile, margin=margin, seed=seed,
            )  # fmt: skip
        except detector.TrainingError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{target.device_id} {name}: version {model.version} ({model.kind}) trained on "
            f"{model.pictures} pictures from {model.first_ts:%Y-%m-%d %H:%M:%S} to "
            f"{model.last_ts:%Y-%m-%d %H:%M:%S} UTC; threshold {model.threshold:.6g} "
            f"(training error mean {model.training_error_mean:.6g}, "
            f"max {model.training_error_max:.6g})"
        )
        if score:
            self.score(target, name, model.last_ts, None, model)

    def do_versions(self, node, name, organization=None, **options):
        target = self.node(node, organization)
        models = OutlierModel.objects.filter(node=target, name=name).order_by("-version")
        if not models:
            raise CommandError(f"{target.device_id} has no model for {name!r}: train one first.")
        for model in models:
            scored = OutlierScore.objects.filter(model=model)
            outliers = scored.filter(is_outlier=True).count()
            self.stdout.write(
                f"v{model.version} {model.kind} {model.created_at:%Y-%m-%d %H:%M} "
                f"{model.pictures} pictures, threshold {model.threshold:.6g}, "
                f"{scored.count()} scored, {outliers} outliers"
            )

    def do_score(self, node, name, start, end, organization=None, **options):
        target = self.node(node, organization)
        model = OutlierModel.objects.current(target.pk, name)
        if model is None:
            raise CommandError(f"{target.device_id} has no model for {name!r}: train one first.")
        self.score(target, name, start, end, model)

    def score(self, node: Node, name: str, start, end, model: OutlierModel) -> None:
        from sensorgrid.images.models import Image
        from sensorgrid.outliers import service

        images = Image.objects.filter(node=node, name=name).order_by("ts", "pk")
        if start:
            images = images.filter(ts__gt=start)
        if end:
            images = images.filter(ts__lt=end)
        scored = outliers = 0
        for image_id in images.values_list("pk", flat=True).iterator():
            result = service.score_image(image_id, model)
            if result is not None:
                scored += 1
                outliers += result.is_outlier
        self.stdout.write(f"scored {scored} pictures with v{model.version}: {outliers} outliers")
