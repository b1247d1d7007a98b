"""/api/v1/ routes of the images app."""

from django.urls import URLPattern, path

from sensorgrid.images.api import ingest, views

urlpatterns: list[URLPattern] = [
    path("ingest/images/", ingest.ImageIngestView.as_view(), name="ingest-images"),
    path("nodes/<int:pk>/images/", views.NodeImagesView.as_view(), name="node-images"),
    path("images/<int:pk>/", views.ImageDetailView.as_view(), name="image-detail"),
    path("images/<int:pk>/original/", views.ImageOriginalView.as_view(), name="image-original"),
    path("images/<int:pk>/thumbnail/", views.ImageThumbnailView.as_view(), name="image-thumbnail"),
]
