"""Pictures in the admin: scoped like the API; read only (devices send them), deletable
(the objects go with the row once the deletion commits)."""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from sensorgrid.images.models import Image
from sensorgrid.tenancy.admin import TenantAdmin


@admin.register(Image)
class ImageAdmin(TenantAdmin):
    list_display = ["ts", "node", "name", "content_type", "width", "height", "size"]
    list_filter = ["content_type", "name"]
    date_hierarchy = "ts"
    search_fields = ["node__device_id", "name", "sha256"]
    list_select_related = ["node"]
    readonly_fields = [
        "node",
        "name",
        "ts",
        "received_at",
        "content_type",
        "size",
        "width",
        "height",
        "sha256",
        "key",
        "thumbnail_key",
        "preview",
    ]
    exclude = ["thumbnail_content_type"]

    @admin.display(description="thumbnail")
    def preview(self, image: Image) -> str:
        url = reverse("image-thumbnail", args=[image.pk])
        return format_html('<img src="{}?stream=1" alt="thumbnail of {}">', url, image)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        if obj is None:
            return super().has_change_permission(request)
        return super().has_change_permission(request, obj)
