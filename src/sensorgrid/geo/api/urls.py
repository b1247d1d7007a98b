from django.urls import path

from sensorgrid.geo.api import views

urlpatterns = [
    path("", views.LayerListView.as_view(), name="geo-layers"),
    path("nodes/", views.NodeLocationsView.as_view(), name="geo-nodes"),
    path("<str:layer>/", views.LayerFeaturesView.as_view(), name="geo-layer"),
]
