"""`sensorgrid broker sync` as an operator types it: the demo broker command hands it over."""

import os
import subprocess
import sys

SENSORGRID = [sys.executable, "-c", "from sensorgrid.cli import main; main()"]


def sensorgrid(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SENSORGRID, *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_broker_sync_on_the_command_line(dynsec_broker, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("SENSORGRID_")}
    env.update(
        SENSORGRID_DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        SENSORGRID_VAR_DIR=str(tmp_path),
        SENSORGRID_MQTT_URL=dynsec_broker.url_for("sg-ingest", "ingest-pw"),
        SENSORGRID_MQTT_ROUTES="sensorgrid/{device}/up=json",
        SENSORGRID_MQTT_ADMIN_USERNAME=dynsec_broker.admin,
        SENSORGRID_MQTT_ADMIN_PASSWORD=dynsec_broker.admin_password,
    )
    assert sensorgrid("migrate", "-v0", env=env).returncode == 0

    dry = sensorgrid("broker", "sync", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        "create role sg-ingest: subscribeLiteral sensorgrid/+/up",
        "create client sg-ingest: enabled",
        "2 change(s), 2 command(s) to apply (dry run: nothing changed)",
    ]
    applied = sensorgrid("broker", "sync", env=env)
    assert applied.stdout.splitlines()[-1] == "2 change(s), 2 command(s) applied"

    env["SENSORGRID_MQTT_ADMIN_PASSWORD"] = "wrong"
    refused = sensorgrid("broker", "sync", env=env)
    assert refused.returncode == 1
    assert "refused the admin login" in refused.stderr
