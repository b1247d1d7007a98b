from django.urls import path

from sensorgrid.fidelity.api import views

urlpatterns = [
    path(
        "nodes/<int:pk>/status-history/",
        views.NodeStatusHistoryView.as_view(),
        name="node-status-history",
    ),
    path("node-status/", views.NodeStatusCountsView.as_view(), name="node-status-counts"),
]
