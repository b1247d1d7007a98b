from django.utils.text import slugify
from rest_framework import serializers

from sensorgrid.api.hygiene import storable_json
from sensorgrid.boards import layout
from sensorgrid.boards.models import Board, BoardShare, ShareMode
from sensorgrid.tenancy.fields import ScopedPrimaryKeyRelatedField
from sensorgrid.tenancy.models import Organization, User

LAYOUT_HELP = (
    '{"range": "24h", "refresh": 0, "panels": [{"id", "type", "title", "x", "y", "w", "h", '
    "…the type's fields}]}: panel types timeseries, stat, table, map, alerts, image; a 12-column "
    "grid. Every node a panel names must be the organization's (400 otherwise). See "
    "docs/dashboard.md, Dashboards."
)


class BoardSerializer(serializers.ModelSerializer):
    """A board; the same document is what export gives and import (create) takes."""

    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
    slug = serializers.SlugField(max_length=100, required=False, allow_blank=True)
    layout = serializers.JSONField(help_text=LAYOUT_HELP, validators=[storable_json])
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Board
        fields = [
            "id",
            "organization",
            "name",
            "slug",
            "layout",
            "created_by",
            "created",
            "updated",
        ]
        read_only_fields = ["created", "updated"]
        validators: list = []  # the slug is made unique in validate() (it may be left out)

    def validate(self, attrs):
        instance = self.instance
        organization = attrs.get("organization", getattr(instance, "organization", None))
        if instance is not None and organization != instance.organization:
            raise serializers.ValidationError(
                {"organization": "A board cannot move to another organization."}
            )
        if "layout" in attrs:
            try:
                attrs["layout"] = layout.validate(attrs["layout"], organization.pk)
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"layout": error.detail}) from None
        name = attrs.get("name", getattr(instance, "name", ""))
        slug = attrs.get("slug") or getattr(instance, "slug", "") or slugify(name)[:100] or "board"
        others = Board.objects.filter(organization=organization, slug=slug)
        if instance is not None:
            others = others.exclude(pk=instance.pk)
        if others.exists():
            raise serializers.ValidationError(
                {"slug": "The organization has a board with this slug already."}
            )
        attrs["slug"] = slug
        return attrs

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["layout"] = layout.readable(instance.layout or {}, instance.organization_id)
        return data


class BoardExportSerializer(serializers.Serializer):
    format = serializers.IntegerField(help_text="1")
    name = serializers.CharField()
    slug = serializers.CharField()
    layout = serializers.JSONField()


def export_document(board: Board) -> dict:
    """The downloadable file: POST it with an ``organization`` to /api/v1/boards/ to import."""
    return {
        "format": layout.FORMAT,
        "name": board.name,
        "slug": board.slug,
        "layout": layout.readable(board.layout or {}, board.organization_id),
    }


class BoardShareSerializer(serializers.ModelSerializer):
    board = ScopedPrimaryKeyRelatedField(queryset=Board.objects.all())
    mode = serializers.ChoiceField(
        choices=ShareMode.choices,
        default=ShareMode.PUBLIC,
        help_text="public: only what anonymous users may see anyway (public installations); "
        "organization: the board as members see it, read-only, to whoever has the link.",
    )
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = BoardShare
        fields = ["id", "board", "mode", "prefix", "created_by", "created", "revoked_at"]
        read_only_fields = ["prefix", "created", "revoked_at"]


class NewBoardShareSerializer(BoardShareSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once: the link's secret.")
    url = serializers.CharField(read_only=True, help_text="The read-only page: /boards/shared/…")

    class Meta(BoardShareSerializer.Meta):
        fields = [*BoardShareSerializer.Meta.fields, "token", "url"]
