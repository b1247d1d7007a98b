"""URLs of the list pages, part of the dashboard's namespace."""

from django.urls import path

from sensorgrid.dashboard.lists import node_pages

urlpatterns = [
    path("nodes/", node_pages.nodes_page, name="nodes"),
    path("nodes/export.csv", node_pages.nodes_csv, name="nodes-csv"),
]
