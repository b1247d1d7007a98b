import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the web app, API, admin and /ws/live/ over ASGI (uvicorn)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
        parser.add_argument(
            "--ingest",
            action="store_true",
            default=None,
            help="Also run the MQTT ingest service in this process (embedded setups: the "
            "in-memory channel layer only reaches this process). Env: SENSORGRID_SERVE_INGEST=1.",
        )

    def handle(self, *args, host: str, port: int, workers: int, ingest: bool | None, **options):
        ingest = settings.SENSORGRID_SERVE_INGEST if ingest is None else ingest
        if ingest and workers > 1:
            raise CommandError(
                "--ingest runs one ingest service inside the web process: use it with "
                "--workers 1, or run `sensorgrid ingest` beside several workers."
            )
        # The command line wins over the environment for this process. Read by the
        # lifespan handler of sensorgrid.asgi, which runs here: ingest means one worker,
        # and worker processes of --workers N read the (then false) environment again.
        settings.SENSORGRID_SERVE_INGEST = ingest
        uvicorn.run(
            "sensorgrid.asgi:application",
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            lifespan="on",
            # Header/body read timeouts and a connection cap (SENSORGRID_SERVE_*): uvicorn
            # has none of its own. A string: each worker process imports it.
            http="sensorgrid.runtime.limits:LimitedHttpToolsProtocol",
            # uvicorn's WebSocket protocol that lets a live delta's frame be written to
            # its followers' sockets as made once (docs/performance.md, Live push).
            ws="sensorgrid.runtime.websocket:LiveWebSocketProtocol",
            # Live frames are small JSON: compressing each one for each browser (its own
            # zlib stream per connection) costs CPU and memory per client for little,
            # and a compressed frame could not be shared between connections.
            ws_per_message_deflate=False,
            # Our logging (text or JSON lines, docs/operations.md) for everything;
            # the request middleware writes the access log, with the request id.
            log_config=None,
            access_log=False,
        )
