"""`sensorgrid dbroles` refuses what it cannot do before it touches a database."""

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.deploy
POSTGRES = "postgres://postgres@127.0.0.1:5432/sensorgrid_example"


def printed(*args: str, capsys) -> str:
    call_command("dbroles", "--print", "--database-url", POSTGRES, *args)
    return capsys.readouterr().out


def test_it_prints_the_roles_and_never_a_password(capsys, tmp_path):
    secret = tmp_path / "owner.pw"
    secret.write_text("do-not-print-me\n")
    out = printed("--owner-password-file", str(secret), capsys=capsys)
    assert 'ALTER DATABASE "sensorgrid_example" OWNER TO "sensorgrid_owner";' in out
    assert (
        'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "sensorgrid_app"'
        in out
    )
    assert 'GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO "sensorgrid_reporting"' in out
    assert "TRUNCATE" not in out and "do-not-print-me" not in out
    assert "\\password sensorgrid_owner" in out


def test_a_reporting_login_needs_its_organization():
    with pytest.raises(CommandError, match="--reporting-login and --organization go together"):
        call_command("dbroles", "--print", "--database-url", POSTGRES, "--reporting-login", "g")


@pytest.mark.parametrize("name", ["Grafana", "g'; DROP ROLE postgres; --", 'g"x', "1g", "g" * 64])
def test_it_refuses_a_role_name_it_would_have_to_quote(name):
    with pytest.raises(CommandError, match="is not a role name"):
        call_command(
            "dbroles",
            "--print",
            "--database-url",
            POSTGRES,
            "--reporting-login",
            name,
            "--organization",
            "acme",
        )


def test_it_works_on_postgresql_only():
    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("dbroles", "--print", "--database-url", "sqlite:///var/x.sqlite3")


def test_an_unreadable_password_file_is_named(tmp_path):
    with pytest.raises(CommandError, match=r"missing\.pw cannot be read"):
        call_command(
            "dbroles",
            "--apply",
            "--database-url",
            POSTGRES,
            "--app-password-file",
            str(tmp_path / "missing.pw"),
        )
