from django.apps import AppConfig


class OutliersConfig(AppConfig):
    """Autoencoders per node and image name that flag unusual pictures (docs/images.md)."""

    name = "sensorgrid.outliers"
    verbose_name = "Image outliers"

    def ready(self) -> None:
        # The image_outlier alert rule kind registers itself with the alerts app.
        from sensorgrid.outliers import alerting  # noqa: F401
        from sensorgrid.outliers.api import hooks

        # ?outlier= and each picture's score in the images API.
        hooks.register()
