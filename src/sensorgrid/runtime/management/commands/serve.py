import uvicorn
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the web app, API and admin over ASGI (uvicorn)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")

    def handle(self, *args, host: str, port: int, workers: int, **options):
        uvicorn.run(
            "sensorgrid.asgi:application",
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            # Our logging (text or JSON lines, docs/operations.md) for everything;
            # the request middleware writes the access log, with the request id.
            log_config=None,
            access_log=False,
        )
