"""URLs of the list pages, part of the dashboard's namespace."""

from django.urls import path

from sensorgrid.dashboard.lists import dead_letter_pages, node_pages

urlpatterns = [
    path("nodes/", node_pages.nodes_page, name="nodes"),
    path("nodes/export.csv", node_pages.nodes_csv, name="nodes-csv"),
    path("dead-letters/", dead_letter_pages.dead_letters_page, name="dead-letters"),
    path("dead-letters/<int:pk>/", dead_letter_pages.dead_letter_page, name="dead-letter"),
    path(
        "dead-letters/<int:pk>/replay/",
        dead_letter_pages.dead_letter_replay,
        name="dead-letter-replay",
    ),
]
