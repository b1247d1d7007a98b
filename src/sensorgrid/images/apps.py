"""Pictures from camera nodes: ingest, object storage, outlier detection (docs/images.md)."""

from django.apps import AppConfig


class ImagesConfig(AppConfig):
    """Device images in object storage and the autoencoder that flags unusual ones."""

    name = "sensorgrid.images"
    verbose_name = "Images"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from sensorgrid.images import ingest  # noqa: F401  # registers the ``image`` decoder
        from sensorgrid.images.models import Image
        from sensorgrid.images.storage import delete_on_commit

        def _objects_go_with_their_row(sender: type, instance: Image, **kwargs: object) -> None:
            # Every way a row goes (node or organization deleted, retention, the admin):
            # its objects are deleted once that transaction commits.
            delete_on_commit(instance.keys)

        post_delete.connect(
            _objects_go_with_their_row,
            sender=Image,
            dispatch_uid="images-delete-objects",
            weak=False,
        )
