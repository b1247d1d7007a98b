from django.contrib.auth import views as auth
from django.urls import path

from sensorgrid.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.map_page, name="map"),
    path("nodes/<int:pk>/", views.node_page, name="node"),
    path("sites/<int:pk>/", views.site_page, name="site"),
    path("rooms/<int:pk>/", views.room_page, name="room"),
    path("public/", views.public_page, name="public"),
    path("login/", auth.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth.LogoutView.as_view(next_page="dashboard:login"), name="logout"),
]
