"""A throwaway Mosquitto with the dynamic security plugin, as production runs it.

Anonymous clients are refused; the only account at the start is the admin that
``mosquitto_ctrl dynsec init`` creates (all rights on ``$CONTROL/dynamic-security/#``).
Tests and bench/broker_sync.py start one on a free port in a temporary directory::

    broker = DynsecMosquitto(tmp_path / "broker").start()
    broker.url            # mqtt://127.0.0.1:<port> (no user)
    broker.admin_url      # mqtt://admin:<password>@127.0.0.1:<port>
    broker.url_for("node-1", "secret")
    broker.stop()

``dynsec_broker`` in tests/brokerauth/conftest.py is the pytest fixture.
"""

import os
import secrets
import shutil
import signal
import subprocess
from pathlib import Path
from urllib.parse import quote

from tests.servers import STAY_ROOT, free_port, wait_for_port

PLUGIN = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"

CONF = """\
listener {port} 127.0.0.1
allow_anonymous false
plugin {plugin}
plugin_opt_config_file {directory}/dynamic-security.json
max_queued_messages 0
max_inflight_messages 0
persistence true
persistence_location {directory}/
autosave_interval 0
log_dest file {directory}/mosquitto.log
"""


class DynsecMosquitto:
    """Mosquitto on 127.0.0.1:<free port> with dynsec; ``admin`` / a random password."""

    def __init__(
        self, directory: Path, admin: str = "admin", tls: tuple[Path, Path] | None = None
    ) -> None:
        """``tls``: (certificate, key) of the server; the listener then speaks TLS only."""
        self.directory = directory
        self.tls = tls
        self.port = free_port()
        self.admin = admin
        self.admin_password = secrets.token_urlsafe(16)
        self.process: subprocess.Popen | None = None
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "dynamic-security.json"
        subprocess.run(
            [_ctrl(), "dynsec", "init", str(config), admin, self.admin_password],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        listener_tls = f"certfile {tls[0]}\nkeyfile {tls[1]}\n" if tls else ""
        (directory / "mosquitto.conf").write_text(
            CONF.format(port=self.port, plugin=PLUGIN, directory=directory)
            + listener_tls
            + (STAY_ROOT if os.geteuid() == 0 else "")
        )

    @property
    def scheme(self) -> str:
        return "mqtts" if self.tls else "mqtt"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return self.url_for(self.admin, self.admin_password)

    def url_for(self, username: str, password: str) -> str:
        user = f"{quote(username, safe='')}:{quote(password, safe='')}"
        return f"{self.scheme}://{user}@127.0.0.1:{self.port}"

    def start(self) -> "DynsecMosquitto":
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen(
            [mosquitto, "-c", str(self.directory / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=15)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        path = self.directory / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _ctrl() -> str:
    return shutil.which("mosquitto_ctrl") or "/usr/bin/mosquitto_ctrl"
