"""Pictures as the API shows them: metadata and the links to their bytes."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sensorgrid.images.api import hooks
from sensorgrid.images.models import Image
from sensorgrid.inventory.models import Node
from sensorgrid.tenancy.scoping import Action


class ImageListSerializer(serializers.ListSerializer):
    """Adds the fields other apps register (``hooks.FIELDS``) with one call per page."""

    def to_representation(self, data):  # type: ignore[no-untyped-def]
        images = list(data.all() if hasattr(data, "all") else data)
        rows = super().to_representation(images)
        registered = hooks.fields()
        members: set[int] = set()
        if any(field.members_only for _key, field in registered):
            request = self.context.get("request")
            user = getattr(request, "user", None)
            members = member_nodes(user, {image.node_id for image in images})
        for key, field in registered:
            shown = [i for i in images if not field.members_only or i.node_id in members]
            values = field.values(shown) if shown else {}
            for image, row in zip(images, rows, strict=True):
                row[key] = values.get(image.pk)
        return rows


def member_nodes(user, node_ids: set[int]) -> set[int]:  # type: ignore[no-untyped-def]
    """Those of ``node_ids`` whose organization ``user`` belongs to (all: a superuser)."""
    if user is None or not node_ids:
        return set()
    members = Node.objects.for_user(user, Action.VIEW).filter(pk__in=node_ids)
    return set(members.values_list("pk", flat=True))


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
