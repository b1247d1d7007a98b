"""Pictures as the API shows them: metadata and the links to their bytes."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sensorgrid.images.api import hooks
from sensorgrid.images.models import Image


class ImageListSerializer(serializers.ListSerializer):
    """Adds the fields other apps register (``hooks.FIELDS``) with one call per page."""

    def to_representation(self, data):  # type: ignore[no-untyped-def]
        images = list(data.all() if hasattr(data, "all") else data)
        rows = super().to_representation(images)
        for key, field in hooks.fields():
            values = field(images)
            for image, row in zip(images, rows, strict=True):
                row[key] = values.get(image.pk)
        return rows


class ImageSerializer(serializers.ModelSerializer):
    node = serializers.IntegerField(source="node_id", read_only=True)
    original_url = serializers.SerializerMethodField(
        help_text="The picture (EXIF GPS removed); from S3 a redirect to a signed URL."
    )
    thumbnail_url = serializers.SerializerMethodField(
        help_text="A WebP at most SENSORGRID_IMAGE_THUMBNAIL_PX (320) pixels wide and high."
    )

    class Meta:
        model = Image
        list_serializer_class = ImageListSerializer
        fields = [
            "id",
            "node",
            "name",
            "ts",
            "received_at",
            "content_type",
            "size",
            "width",
            "height",
            "sha256",
            "original_url",
            "thumbnail_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_original_url(self, image: Image) -> str:
        return self._url("image-original", image)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, image: Image) -> str:
        return self._url("image-thumbnail", image)

    def _url(self, name: str, image: Image) -> str:
        path = reverse(name, kwargs={"pk": image.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path
