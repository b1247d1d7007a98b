import os
import subprocess
import sys

import pytest

from sensorgrid import env as envmod


def test_a_secret_can_come_from_a_file(tmp_path, monkeypatch):
    secret = tmp_path / "key"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("SENSORGRID_SECRET_KEY", raising=False)
    monkeypatch.setenv("SENSORGRID_SECRET_KEY_FILE", str(secret))
    assert envmod.env("SENSORGRID_SECRET_KEY") == "from-a-file"
    monkeypatch.setenv("SENSORGRID_SECRET_KEY", "direct")
    assert envmod.env("SENSORGRID_SECRET_KEY") == "direct"


def test_an_unreadable_secret_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("X_SECRET", raising=False)
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(envmod.ConfigurationError, match="X_SECRET_FILE"):
        envmod.env("X_SECRET")


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("0", False), ("", None)])
def test_booleans(monkeypatch, raw, value):
    monkeypatch.setenv("X_FLAG", raw)
    assert envmod.envbool("X_FLAG", default=None) is value


def test_a_bad_boolean_or_integer_names_the_variable(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(envmod.ConfigurationError, match="X_FLAG"):
        envmod.envbool("X_FLAG")
    with pytest.raises(envmod.ConfigurationError, match="X_INT"):
        envmod.envint("X_INT", 1)


def run_check(tmp_path, **variables) -> subprocess.CompletedProcess:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("SENSORGRID_")
    }
    environment.update(SENSORGRID_VAR_DIR=str(tmp_path), **variables)
    return subprocess.run(
        [sys.executable, "-m", "sensorgrid", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_production_variables(tmp_path):
    result = run_check(
        tmp_path,
        SENSORGRID_SECRET_KEY="x7" * 30 + "-production-secret-Kq",
        SENSORGRID_ALLOWED_HOSTS="sensors.example.org",
        SENSORGRID_SECURE_SSL_REDIRECT="true",
        SENSORGRID_HSTS_SECONDS="31536000",
        SENSORGRID_HSTS_PRELOAD="true",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_check_deploy_flags_the_local_defaults(tmp_path):
    result = run_check(tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr + result.stdout


def settings_of(tmp_path, code: str, **variables) -> subprocess.CompletedProcess:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("SENSORGRID_")
    }
    environment.update(SENSORGRID_VAR_DIR=str(tmp_path), **variables)
    return subprocess.run(
        [sys.executable, "-c", f"from sensorgrid import settings as s; {code}"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_postgresql_connections_are_pooled_unless_told_otherwise(tmp_path):
    url = "postgres://sg@db.example.org:5432/sensorgrid"
    show = "print(s.DATABASES['default'].get('OPTIONS', {}).get('pool'))"
    pooled = settings_of(tmp_path, show, SENSORGRID_DATABASE_URL=url)
    assert "'max_size': 8" in pooled.stdout, pooled.stderr
    unpooled = settings_of(tmp_path, show, SENSORGRID_DATABASE_URL=url, SENSORGRID_DB_POOL_SIZE="0")
    assert unpooled.stdout.strip() == "None", unpooled.stderr


def test_a_pool_and_persistent_connections_together_stop_start_up(tmp_path):
    result = settings_of(
        tmp_path,
        "pass",
        SENSORGRID_DATABASE_URL="postgres://sg@db.example.org:5432/sensorgrid",
        SENSORGRID_DB_CONN_MAX_AGE="60",
    )
    assert result.returncode != 0
    assert "SENSORGRID_DB_POOL_SIZE and SENSORGRID_DB_CONN_MAX_AGE" in result.stderr
