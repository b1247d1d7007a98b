from django.urls import path

from sensorgrid.telemetry.api import receptions, views

urlpatterns = [
    path("nodes/<int:pk>/timeseries/", views.NodeTimeseriesView.as_view(), name="node-timeseries"),
    path("nodes/<int:pk>/latest/", views.NodeLatestView.as_view(), name="node-latest"),
    path(
        "nodes/<int:pk>/receptions/",
        receptions.NodeReceptionsView.as_view(),
        name="node-receptions",
    ),
    path(
        "installations/<int:pk>/timeseries/",
        views.InstallationTimeseriesView.as_view(),
        name="installation-timeseries",
    ),
    path("gateways/", receptions.GatewayListView.as_view(), name="gateway-list"),
]
