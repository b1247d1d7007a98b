from django.urls import path

from sensorgrid.geo.api import fleet, radio, views

urlpatterns = [
    path("", views.LayerListView.as_view(), name="geo-layers"),
    path("nodes/", views.NodeLocationsView.as_view(), name="geo-nodes"),
    path("vehicles/", fleet.VehiclesView.as_view(), name="geo-vehicles"),
    path("vehicles/<int:node>/track/", fleet.VehicleTrackView.as_view(), name="geo-vehicle-track"),
    path("gateways/", radio.GatewaysView.as_view(), name="geo-gateways"),
    path("coverage/", radio.CoverageView.as_view(), name="geo-coverage"),
    path("<str:layer>/", views.LayerFeaturesView.as_view(), name="geo-layer"),
]
