"""URLs of the management pages, part of the dashboard's namespace."""

from django.urls import path

from sensorgrid.dashboard.manage import (
    channel_pages,
    ingest_key_pages,
    invitation_pages,
    node_model_pages,
    node_pages,
    organization_pages,
    site_pages,
)

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
    path("organizations/", organization_pages.organizations_page, name="organizations"),
    path("organizations/new/", organization_pages.organization_new, name="organization-new"),
    path("organizations/<int:pk>/", organization_pages.organization_page, name="organization"),
    path(
        "organizations/<int:pk>/edit/",
        organization_pages.organization_edit,
        name="organization-edit",
    ),
    path("organizations/<int:pk>/invite/", invitation_pages.invite, name="invite"),
    path("organizations/<int:pk>/ingest-keys/new/", ingest_key_pages.key_new, name="key-new"),
    path("ingest-keys/<int:pk>/revoke/", ingest_key_pages.key_revoke, name="key-revoke"),
    path("members/<int:pk>/role/", organization_pages.member_role, name="member-role"),
    path("members/<int:pk>/remove/", organization_pages.member_remove, name="member-remove"),
    path(
        "invitations/<int:pk>/withdraw/",
        invitation_pages.invitation_withdraw,
        name="invitation-withdraw",
    ),
    path("invite/<str:token>/", invitation_pages.invitation_page, name="invitation"),
    path("node-models/", node_model_pages.node_models_page, name="node-models"),
    path("node-models/new/", node_model_pages.node_model_new, name="node-model-new"),
    path("node-models/<int:pk>/edit/", node_model_pages.node_model_edit, name="node-model-edit"),
    path("alert-channels/", channel_pages.channels_page, name="channels"),
    path("alert-channels/new/", channel_pages.channel_new, name="channel-new"),
    path("alert-channels/<int:pk>/edit/", channel_pages.channel_edit, name="channel-edit"),
    path("alert-channels/<int:pk>/delete/", channel_pages.channel_delete, name="channel-delete"),
]
