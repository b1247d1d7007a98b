"""``sensorgrid dbroles``: print or apply the least-privilege PostgreSQL roles.

    sensorgrid dbroles --print                       # the SQL, for psql or review
    sensorgrid dbroles --apply --database-url postgresql://postgres@/sensorgrid \\
        --owner-password-file owner.pw --app-password-file app.pw
    sensorgrid dbroles --apply --reporting-login grafana_acme --organization acme \\
        --password-file grafana.pw

``--apply`` connects as the given URL (default: SENSORGRID_DATABASE_URL), which must be
a superuser, because it creates roles and hands the database to the owner.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sensorgrid.dbroles import roles


def read_secret(path: str | None, what: str) -> str | None:
    if not path:
        return None
    try:
        secret = Path(path).read_text().strip()
    except OSError as exc:
        raise CommandError(f"{what}: {path} cannot be read: {exc}") from None
    if not secret:
        raise CommandError(f"{what}: {path} is empty")
    return secret


class Command(BaseCommand):
    help = (
        "Print (--print) or apply (--apply) the owner, application and reporting roles of "
        "the PostgreSQL database (docs/deployment.md, 'Database roles'); with "
        "--reporting-login and --organization, a reporting login that sees one organization."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--print", action="store_true", help="print the SQL")
        action.add_argument("--apply", action="store_true", help="run the SQL")
        parser.add_argument(
            "--database-url",
            help="a superuser's connection for --apply (default: SENSORGRID_DATABASE_URL)",
        )
        parser.add_argument("--owner", default=roles.OWNER, help="owner role name")
        parser.add_argument("--app", default=roles.APP, help="application role name")
        parser.add_argument(
            "--reporting", default=roles.REPORTING, help="reporting group role name"
        )
        parser.add_argument("--owner-password-file", help="the owner's password, for --apply")
        parser.add_argument("--app-password-file", help="the application's password")
        parser.add_argument(
            "--reporting-login", help="create this login of the reporting role instead"
        )
        parser.add_argument(
            "--organization", help="slug of the organization the reporting login sees"
        )
        parser.add_argument("--password-file", help="the reporting login's password")

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["database_url"]
        config = dj_database_url.parse(url) if url else settings.DATABASES["default"]
        if not config["ENGINE"].endswith("postgresql"):
            raise CommandError("database roles exist on PostgreSQL only; this database is not")
        names = roles.Roles(options["owner"], options["app"], options["reporting"])
        login, organization = options["reporting_login"], options["organization"]
        if bool(login) != bool(organization):
            raise CommandError("--reporting-login and --organization go together")
        try:
            if login:
                statements = roles.reporting_login_sql(names, login, organization)
                secrets = {login: read_secret(options["password_file"], "--password-file")}
            else:
                statements = roles.setup_sql(names, config["NAME"])
                secrets = {
                    names.owner: read_secret(options["owner_password_file"], "owner password"),
                    names.app: read_secret(options["app_password_file"], "app password"),
                }
        except roles.RoleNameError as exc:
            raise CommandError(str(exc)) from None

        if options["print"]:
            for statement in statements:
                self.stdout.write(f"{statement};\n")
            for name in secrets:
                self.stdout.write(f"-- then set a password: \\password {name}\n")
            return
        with connect(config) as connection, connection.transaction():
            cursor = connection.cursor()
            for statement in statements:
                cursor.execute(statement.encode())
            if login and cursor.rowcount != 1:
                raise CommandError(f"no organization has the slug {organization!r}")
            for name, secret in secrets.items():
                if secret:
                    cursor.execute(roles.password(name, secret).encode())
        done = f"reporting login {login} sees {organization}" if login else "roles applied"
        self.stdout.write(self.style.SUCCESS(f"{done} ({config['NAME']})"))


def connect(config: Mapping[str, Any]) -> psycopg.Connection[Any]:
    return psycopg.connect(
        dbname=config["NAME"],
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        autocommit=True,
    )
