from django.core.management.base import BaseCommand

from sensorgrid.inventory import demo


class Command(BaseCommand):
    help = (
        "Create the demo organizations, users (alice, bob, charlie; operator, a superuser), "
        "sites, rooms and nodes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=demo.DEFAULT_PASSWORD,
            help="Password of the demo users (default: %(default)s). Demo data only.",
        )

    def handle(self, *args, password: str, **options):
        summary = demo.load(password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: organizations {', '.join(summary.organizations)}; "
                f"{summary.nodes} nodes; users {', '.join(summary.users)} and the operator "
                f"{summary.operator} (superuser) with password {summary.password!r}."
            )
        )
