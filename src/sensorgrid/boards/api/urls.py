"""/api/v1/ routes of the boards app."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
