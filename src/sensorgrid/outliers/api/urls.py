"""/api/v1/ routes of the outliers app."""

from django.urls import URLPattern, path

from sensorgrid.outliers.api import views

urlpatterns: list[URLPattern] = [
    path(
        "nodes/<int:pk>/outlier-scores/", views.NodeScoresView.as_view(), name="node-outlier-scores"
    ),
    path(
        "nodes/<int:pk>/outlier-models/", views.NodeModelsView.as_view(), name="node-outlier-models"
    ),
    path(
        "outlier-scores/<int:pk>/reconstruction/",
        views.ReconstructionView.as_view(),
        name="outlier-reconstruction",
    ),
    path(
        "outlier-scores/<int:pk>/acknowledge/",
        views.AcknowledgeView.as_view(),
        name="outlier-acknowledge",
    ),
]
