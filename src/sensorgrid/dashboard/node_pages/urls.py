"""URLs of the node's tabs, part of the dashboard's namespace."""

from django.urls import path

from sensorgrid.dashboard.node_pages import alerts, dead_letters, images, latest, radio, status

urlpatterns = [
    path("nodes/<int:pk>/", latest.node_page, name="node"),
    path("nodes/<int:pk>/history/", latest.history_page, name="node-history"),
    path("nodes/<int:pk>/alerts/", alerts.alerts_page, name="node-alerts"),
    path("nodes/<int:pk>/status/", status.status_page, name="node-status"),
    path("nodes/<int:pk>/radio/", radio.radio_page, name="node-radio"),
    path("nodes/<int:pk>/images/", images.images_page, name="node-images"),
    path("nodes/<int:pk>/dead-letters/", dead_letters.dead_letters_page, name="node-dead-letters"),
]
