"""/sta/v1.1/: the SensorThings API (docs/sensorthings.md).

One view takes every path below the root: resource paths (``Things(1)/Datastreams``)
are parsed by ``paths.py`` against the entity-set registry, not by URL patterns.
"""

from django.urls import URLPattern, path, re_path

from sensorgrid.sensorthings import views

urlpatterns: list[URLPattern] = [
    path("", views.service, name="sensorthings-root"),
    re_path(r"^(?P<path>.+)$", views.service, name="sensorthings"),
]
