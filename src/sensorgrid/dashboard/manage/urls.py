"""URLs of the management pages, part of the dashboard's namespace."""

from django.urls import path

from sensorgrid.dashboard.manage import node_pages, site_pages

urlpatterns = [
    path("sites/", site_pages.sites_page, name="sites"),
    path("sites/new/", site_pages.site_new, name="site-new"),
    path("sites/<int:pk>/edit/", site_pages.site_edit, name="site-edit"),
    path("sites/<int:pk>/delete/", site_pages.site_delete, name="site-delete"),
    path("sites/<int:pk>/rooms/new/", site_pages.room_new, name="room-new"),
    path("rooms/<int:pk>/edit/", site_pages.room_edit, name="room-edit"),
    path("rooms/<int:pk>/delete/", site_pages.room_delete, name="room-delete"),
    path("nodes/new/", node_pages.node_new, name="node-new"),
    path("nodes/<int:pk>/settings/", node_pages.node_settings, name="node-settings"),
    path("nodes/<int:pk>/rotate-credential/", node_pages.node_rotate, name="node-rotate"),
    path("nodes/<int:pk>/disable/", node_pages.node_disable, name="node-disable"),
    path("nodes/<int:pk>/enable/", node_pages.node_enable, name="node-enable"),
    path("nodes/<int:pk>/delete/", node_pages.node_delete, name="node-delete"),
    path("nodes/<int:pk>/install/", node_pages.node_install, name="node-install"),
    path("nodes/<int:pk>/move/", node_pages.node_move, name="node-move"),
    path("installations/<int:pk>/end/", node_pages.installation_end, name="installation-end"),
]
