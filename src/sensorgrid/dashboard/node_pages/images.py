"""The "Images" tab: the node's pictures as a timeline of thumbnails, newest first,
optionally of one name, paged; ``?image=<id>`` shows one picture full size above it.
The same pictures and walls as ``GET /api/v1/nodes/{id}/images/`` (docs/images.md):
the page is for members of the node's organization, its pictures are the API's
downloads, streamed (``?stream=1``) so the page's CSP (images of this origin) holds
with an S3 store too. The full view shows the sha256 of the stored bytes (what a
download gives) beside that of the bytes sent, when metadata removal changed them.
"""

from django.contrib.auth.decorators import login_required
from django.urls import reverse

from sensorgrid.dashboard.node_pages.tabs import (
    node_context,
    node_or_404,
    page_or_error,
    render_tab,
)
from sensorgrid.images import storage
from sensorgrid.images.models import Image


@login_required
def images_page(request, pk: int):
    node = node_or_404(request, pk)
    pictures = Image.objects.filter(node=node)
    names = sorted(set(pictures.values_list("name", flat=True).distinct()))
    name = request.GET.get("name") or ""
    if name:
        pictures = pictures.filter(name=name)
    page, error = page_or_error(request, pictures.order_by("-ts", "-pk"))
    shown = None
    stored_sha256 = ""
    raw = request.GET.get("image") or ""
    if raw.isdigit() and len(raw) < 19:
        shown = pictures.filter(pk=int(raw)).first()
        if shown is None:
            error = error or "That picture is not one of this node's (with this name)."
        else:
            # What is stored differs from what was sent when metadata was cut (I-2).
            try:
                stored_sha256 = storage.sha256(shown.key)
            except FileNotFoundError:
                stored_sha256 = ""
    context = node_context(
        request,
        node,
        "images",
        page=page,
        error=error,
        names=names,
        name=name,
        shown=shown,
        stored_sha256=stored_sha256,
        api=reverse("node-images", args=[node.pk]),
    )
    return render_tab(
        request, node, "dashboard/node/images.html", context, status=400 if error else 200
    )
