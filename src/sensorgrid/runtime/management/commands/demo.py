from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from sensorgrid.inventory import demo


class Command(BaseCommand):
    help = "Run SensorGrid on embedded defaults with demo data (the README's first command)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--password", default=demo.DEFAULT_PASSWORD)

    def handle(self, *args, host: str, port: int, password: str, **options):
        call_command("migrate", interactive=False, verbosity=0)
        summary = demo.load(password)
        database = settings.DATABASES["default"]
        url = f"http://{host}:{port}"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    self.style.SUCCESS(f"SensorGrid demo on {url}/"),
                    f"  API        {url}/api/v1/   (docs: {url}/api/docs/)",
                    f"  admin      {url}/admin/",
                    f"  logins     {', '.join(summary.users)} / password {password!r}",
                    f"  database   {database['ENGINE'].rsplit('.', 1)[-1]}: {database['NAME']}",
                    "  Ctrl-C stops it; the data stays for the next run.",
                    "",
                ]
            )
        )
        call_command("serve", host=host, port=port)
