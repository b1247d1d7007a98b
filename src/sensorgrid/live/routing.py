"""WebSocket routes (mounted by sensorgrid.asgi)."""

from django.urls import path

from sensorgrid.live.consumers import LiveConsumer

websocket_urlpatterns = [path("ws/live/", LiveConsumer.as_asgi())]
