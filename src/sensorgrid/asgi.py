"""The ASGI application: Django (HTTP), Channels (WebSocket /ws/live/) and a lifespan
handler that captures the server's event loop for live publishing and, with
``sensorgrid serve --ingest`` (``SENSORGRID_SERVE_INGEST=1``), runs the MQTT ingest
service in a thread of this process (docs/dashboard.md)."""

import asyncio
import gc
import logging
import os
import threading
from typing import TYPE_CHECKING, Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sensorgrid.settings")
django.setup(set_prefix=False)  # before the imports below (as get_asgi_application)

from asgiref.sync import sync_to_async  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.layers import InMemoryChannelLayer, get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import close_old_connections  # noqa: E402

from sensorgrid.live import outlier_follower, status_follower  # noqa: E402
from sensorgrid.live.publish import publisher  # noqa: E402
from sensorgrid.live.routing import websocket_urlpatterns  # noqa: E402
from sensorgrid.runtime.http import OneHopASGIHandler  # noqa: E402

if TYPE_CHECKING:  # imported when --ingest asks for it: the web process alone needs no MQTT
    from sensorgrid.ingest.mqtt.service import Ingester

log = logging.getLogger(__name__)
INGEST_STOP_SECONDS = 30


def _build_ingester() -> "Ingester":
    from sensorgrid.ingest.mqtt import config
    from sensorgrid.ingest.mqtt.service import Ingester

    try:
        return Ingester(config.options(), config.route_table())
    finally:
        close_old_connections()


class Lifespan:
    """Answers ASGI lifespan events; everything else goes to ``app``."""

    def __init__(self, app) -> None:
        self.app = app
        self.ingester: Ingester | None = None
        self.thread: threading.Thread | None = None
        self.follower: asyncio.Task | None = None
        self.outliers: asyncio.Task | None = None
        # the SensorThings MQTT endpoint (SENSORGRID_STA_MQTT_PORT)
        self.sta_mqtt: Any = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        publisher.attach(asyncio.get_running_loop())
        if isinstance(get_channel_layer(), InMemoryChannelLayer):
            self.follower = asyncio.create_task(status_follower.follow())
            # Scores come from the worker: another process (live.outlier_follower).
            self.outliers = asyncio.create_task(outlier_follower.follow())
        if settings.SENSORGRID_SERVE_INGEST:
            self.ingester = await sync_to_async(_build_ingester, thread_sensitive=False)()
            self.thread = threading.Thread(target=self.ingester.run, name="ingest", daemon=True)
            self.thread.start()
            log.info("MQTT ingest runs in this web process (SENSORGRID_SERVE_INGEST)")
        if settings.SENSORGRID_STA_MQTT_PORT:
            from sensorgrid.sensorthings.mqtt import link_base
            from sensorgrid.sensorthings.mqtt.server import Server

            self.sta_mqtt = Server(
                settings.SENSORGRID_STA_MQTT_HOST, settings.SENSORGRID_STA_MQTT_PORT, link_base()
            )
            await self.sta_mqtt.start()
        # What start-up built (the app registry, models, URL patterns, settings) lives as
        # long as the process: keep it out of the cyclic collector, as the ingest does
        # (ingest.mqtt.service). A SensorThings read that builds many objects triggered
        # full collections walking all of it: in process, the latest Observation of every
        # Thing took ~150-160 ms of CPU instead of ~175-190 (docs/performance.md).
        gc.freeze()

    async def shutdown(self) -> None:
        if self.sta_mqtt is not None:
            await self.sta_mqtt.stop()
        if self.ingester is not None and self.thread is not None:
            self.ingester.stop()
            await asyncio.to_thread(self.thread.join, INGEST_STOP_SECONDS)
            if self.thread.is_alive():
                log.warning("the ingest thread did not stop within %ss", INGEST_STOP_SECONDS)
        for task in (self.follower, self.outliers):
            if task is not None:
                task.cancel()
        publisher.detach(asyncio.get_running_loop())


application = Lifespan(
    ProtocolTypeRouter(
        {
            "http": OneHopASGIHandler(),
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
            ),
        }
    )
)
