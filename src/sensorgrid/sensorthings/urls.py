"""/sta/v1.1/: the SensorThings API (docs/sensorthings.md)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
