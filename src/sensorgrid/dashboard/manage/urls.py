"""URLs of the management pages, part of the dashboard's namespace."""

from django.urls import path

from sensorgrid.dashboard.manage import site_pages

urlpatterns = [
    path("sites/", site_pages.sites_page, name="sites"),
    path("sites/new/", site_pages.site_new, name="site-new"),
    path("sites/<int:pk>/edit/", site_pages.site_edit, name="site-edit"),
    path("sites/<int:pk>/delete/", site_pages.site_delete, name="site-delete"),
    path("sites/<int:pk>/rooms/new/", site_pages.room_new, name="room-new"),
    path("rooms/<int:pk>/edit/", site_pages.room_edit, name="room-edit"),
    path("rooms/<int:pk>/delete/", site_pages.room_delete, name="room-delete"),
]
