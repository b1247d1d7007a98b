from django.urls import path

from sensorgrid.telemetry.api import views

urlpatterns = [
    path("nodes/<int:pk>/timeseries/", views.NodeTimeseriesView.as_view(), name="node-timeseries"),
    path("nodes/<int:pk>/latest/", views.NodeLatestView.as_view(), name="node-latest"),
    path(
        "installations/<int:pk>/timeseries/",
        views.InstallationTimeseriesView.as_view(),
        name="installation-timeseries",
    ),
]
