from django.contrib.auth import views as auth
from django.urls import path

from sensorgrid.dashboard import (
    alert_pages,
    fleet,
    gateway_pages,
    outlier_pages,
    token_pages,
    views,
)
from sensorgrid.dashboard.lists import urls as list_urls
from sensorgrid.dashboard.manage import urls as manage_urls
from sensorgrid.dashboard.node_pages import urls as node_urls

app_name = "dashboard"

urlpatterns = [
    path("", views.map_page, name="map"),
    *node_urls.urlpatterns,
    path("sites/<int:pk>/", views.site_page, name="site"),
    path("rooms/<int:pk>/", views.room_page, name="room"),
    path("public/", views.public_page, name="public"),
    path("fleet/", fleet.fleet_page, name="fleet"),
    path("gateways/<int:pk>/", gateway_pages.gateway_page, name="gateway"),
    path("alerts/", alert_pages.alerts_page, name="alerts"),
    path("alerts/<int:pk>/row/", alert_pages.alert_row, name="alert-row"),
    path("alerts/<int:pk>/acknowledge/", alert_pages.acknowledge, name="alert-acknowledge"),
    path("alerts/rules/", alert_pages.rules_page, name="rules"),
    path("alerts/rules/new/", alert_pages.rule_new_page, name="rule-new"),
    path("alerts/rules/<int:pk>/", alert_pages.rule_page, name="rule"),
    *outlier_pages.urlpatterns,
    path("account/tokens/", token_pages.tokens_page, name="tokens"),
    *list_urls.urlpatterns,
    *manage_urls.urlpatterns,
    path("login/", auth.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth.LogoutView.as_view(next_page="dashboard:login"), name="logout"),
]
