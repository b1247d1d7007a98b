"""/api/v1/ routes of the images app."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
