"""The container and systemd files (Dockerfile, compose.yaml, deploy/systemd/) against the code.

No container engine runs here, so what the files promise is checked where it can fail:
every SensorGrid process they start is a `sensorgrid` command whose `--help` works in this
environment and knows each option given; every variable they set is one SensorGrid reads
(``NAME_FILE`` only for names read through ``sensorgrid.env.env``, which is what reads the
file); every secret file is a mounted secret; every health check path resolves to a view
that answers. systemd units pass `systemd-analyze verify` (with this environment's
executable in place of /opt/sensorgrid), or are parsed where it is missing.
"""

import configparser
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.urls import Resolver404, resolve

from tests.servers import STAY_ROOT, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
SYSTEMD = ROOT / "deploy" / "systemd"
SENSORGRID = Path(sys.executable).with_name("sensorgrid")
UNITS = ["sensorgrid-serve.service", "sensorgrid-ingest@.service", "sensorgrid-worker.service"]


def read_names() -> tuple[set[str], set[str]]:
    """(every SENSORGRID_* name the code reads, those read through env(), which takes _FILE)."""
    through_env, other = set(), set()
    for path in (ROOT / "src" / "sensorgrid").rglob("*.py"):
        text = path.read_text()
        through_env |= set(
            re.findall(r"\benv(?:int|bool|float|list)?\(\s*\"(SENSORGRID_\w+)\"", text)
        )
        other |= set(re.findall(r"environ(?:\.get)?[\[(]\s*\"(SENSORGRID_\w+)\"", text))
    return through_env | other, through_env


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def sensorgrid_services() -> dict[str, dict]:
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("image") == "sensorgrid:local"
    }


def sensorgrid_help(words: list[str]) -> str:
    """``sensorgrid <subcommand> --help``; the subcommand is one word, or two for `broker`."""
    subcommand = words[:2] if words[0] == "broker" else words[:1]
    done = subprocess.run(
        [str(SENSORGRID), *subcommand, "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, (words, done.stderr[-2000:])
    assert "usage: sensorgrid" in done.stdout, words
    return done.stdout


def assert_real_command(words: list[str]) -> None:
    usage = sensorgrid_help(words)
    for option in (word.split("=")[0] for word in words if word.startswith("--")):
        assert option in usage, f"`sensorgrid {' '.join(words)}`: {option} is not an option"


def assert_read(names: set[str], where: str) -> None:
    read, through_env = read_names()
    for name in names:
        if not name.startswith("SENSORGRID_"):
            assert name in {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PATH"}, (where, name)
        elif name.endswith("_FILE") and name[: -len("_FILE")] in through_env:
            continue
        else:
            assert name in read, f"{where} sets {name}, which SensorGrid does not read"


def http_paths(text: str) -> list[str]:
    return re.findall(r"http://[\w.\-]+(?::\d+)?(/[\w/\-]*)", text)


def assert_answering_path(path: str, client) -> None:
    try:
        resolve(path)
    except Resolver404:
        pytest.fail(f"{path} is no URL of SensorGrid")
    assert client.get(path).status_code == 200, path


def test_compose_runs_the_services_the_issue_lists():
    services = compose()["services"]
    assert {"postgres", "redis", "mosquitto", "sensorgrid-web", "sensorgrid-worker"} <= set(
        services
    )
    ingests = [name for name in sensorgrid_services() if name.startswith("sensorgrid-ingest-")]
    assert len(ingests) == 2
    for optional in ("prometheus", "grafana"):
        assert services[optional]["profiles"] == ["monitoring"]


def test_every_sensorgrid_service_runs_a_real_command_with_real_options():
    commands = {name: service["command"] for name, service in sensorgrid_services().items()}
    assert {words[0] for words in commands.values()} >= {"serve", "ingest", "worker", "migrate"}
    for words in commands.values():
        assert_real_command(words)
    # two ingest processes on one shared subscription with distinct instance numbers
    instances = [words[-1] for name, words in commands.items() if words[0] == "ingest"]
    assert sorted(instances) == ["1", "2"]


def test_every_variable_compose_sets_is_read_and_every_secret_is_mounted():
    document = compose()
    for name, service in sensorgrid_services().items():
        environment = service["environment"]
        assert_read(set(environment), f"compose.yaml {name}")
        mounted = {f"/run/secrets/{secret}" for secret in service.get("secrets", [])}
        for variable, value in environment.items():
            if variable.endswith("_FILE"):
                assert value in mounted, (name, variable, value)
            assert not re.search(r"PASSWORD$|SECRET_KEY$|DATABASE_URL$", variable), (
                f"{name} sets {variable} in the clear: use {variable}_FILE"
            )
    for secret in document["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    mosquitto = document["services"]["mosquitto"]
    config = mosquitto["volumes"][0].split(":")[0]
    text = (ROOT / config).read_text()
    assert "allow_anonymous false" in text and "mosquitto_dynamic_security.so" in text
    assert "persistence true" in text


def test_the_health_check_paths_exist_and_answer(client, db):
    web = sensorgrid_services()["sensorgrid-web"]
    paths = http_paths(" ".join(web["healthcheck"]["test"]))
    (healthcheck,) = re.findall(r"^HEALTHCHECK .*?CMD (.*)$", DOCKERFILE.read_text(), re.M | re.S)
    image_paths = http_paths(healthcheck)
    assert paths == ["/readyz"] and image_paths == ["/healthz"]
    for path in image_paths:
        assert_answering_path(path, client)
    resolve(paths[0])
    # the other processes serve no HTTP: the image's check is switched off for them
    for name, service in sensorgrid_services().items():
        if name != "sensorgrid-web":
            assert service["healthcheck"] == {"disable": True}, name


def test_the_dockerfile_builds_the_wheel_apart_and_runs_it_unprivileged():
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)$", text, re.M)
    assert [stage for _, stage in stages] == ["builder", "runtime"]
    builder, runtime = re.split(r"^FROM .* AS runtime$", text, flags=re.M)
    assert "make assets" in builder and "python -m build --wheel" in builder
    assert "npm" not in runtime and "COPY --from=builder /dist/" in runtime
    assert re.search(r"pip install --no-cache-dir /tmp/dist/sensorgrid-\*\.whl", runtime)
    (user,) = re.findall(r"^USER (\S+)$", runtime, re.M)
    assert not user.startswith(("root", "0"))
    (entrypoint,) = re.findall(r"^ENTRYPOINT (.*)$", runtime, re.M)
    (command,) = re.findall(r"^CMD (.*)$", runtime, re.M)
    assert yaml.safe_load(entrypoint) == ["sensorgrid"]
    assert_real_command(yaml.safe_load(command))
    environment = set(re.findall(r"\b([A-Z][A-Z_]+)=", runtime.split("ENV", 1)[1].split("COPY")[0]))
    assert_read(environment, "Dockerfile")


def units_for_this_machine(directory: Path) -> list[Path]:
    """The units with this environment's sensorgrid and the repository's environment file."""
    made = []
    for name in UNITS:
        text = (SYSTEMD / name).read_text()
        text = text.replace("/opt/sensorgrid/bin/sensorgrid", str(SENSORGRID))
        text = text.replace("/etc/sensorgrid/sensorgrid.env", str(SYSTEMD / "sensorgrid.env"))
        target = directory / name.replace("@.service", "@1.service")
        target.write_text(text)
        made.append(target)
    return made


def test_the_systemd_units_run_real_commands_with_variables_sensorgrid_reads():
    environment = {
        line.split("=", 1)[0]
        for line in (SYSTEMD / "sensorgrid.env").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert_read(environment, "deploy/systemd/sensorgrid.env")
    for name in UNITS:
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.optionxform = str  # type: ignore[assignment,method-assign]
        unit.read_string((SYSTEMD / name).read_text())
        words = shlex.split(unit["Service"]["ExecStart"].replace("%i", "1"))
        assert words[0] == "/opt/sensorgrid/bin/sensorgrid", name
        assert_real_command(words[1:])
        assert unit["Service"]["User"] == "sensorgrid"
        assert unit["Service"]["EnvironmentFile"] == "/etc/sensorgrid/sensorgrid.env"


def test_systemd_analyze_verifies_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the units are parsed by the test above")
    units = units_for_this_machine(tmp_path)
    done = subprocess.run(
        [analyze, "verify", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    # verify exits 0 on unknown keys and bad values; it names the file in its warnings
    complaints = [
        line for line in done.stderr.splitlines() if str(tmp_path) in line or "sensorgrid" in line
    ]
    assert done.returncode == 0 and complaints == [], done.stderr


def connack(port: int, username: str | None, password: str | None) -> int:
    """The CONNACK reason of an MQTT 3.1.1 connect to 127.0.0.1:``port`` (0: accepted)."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    answers: list[int] = []
    client.on_connect = lambda c, u, flags, reason, properties: answers.append(reason.value)
    if username is not None:
        client.username_pw_set(username, password)
    client.connect("127.0.0.1", port)
    deadline = time.monotonic() + 10
    while not answers and time.monotonic() < deadline:
        client.loop(timeout=0.2)
    client.disconnect()
    assert answers, "no CONNACK"
    return answers[0]


def test_the_compose_broker_starts_with_its_config_and_lets_in_only_the_dynsec_admin(tmp_path):
    """deploy/compose/mosquitto.conf and the entrypoint's init, on this machine's Mosquitto."""
    plugins = sorted(Path("/usr/lib").glob("**/mosquitto_dynamic_security.so"))
    if not plugins or not shutil.which("mosquitto_ctrl"):
        pytest.skip("Mosquitto's dynamic security plugin is not installed")
    service = compose()["services"]["mosquitto"]
    config = ROOT / service["volumes"][0].split(":")[0]
    from tests.brokerauth.test_documented_config import assert_packet_limit

    assert_packet_limit([line.strip() for line in config.read_text().splitlines()])
    port = free_port()
    text = (
        config.read_text()
        .replace("listener 1883", f"listener {port} 127.0.0.1")
        .replace("/usr/lib/mosquitto_dynamic_security.so", str(plugins[0]))
        .replace("/mosquitto/data/", f"{tmp_path}/")
        .replace("log_dest stdout", f"log_dest file {tmp_path}/mosquitto.log")
    ) + (STAY_ROOT if os.geteuid() == 0 else "")
    (tmp_path / "mosquitto.conf").write_text(text)
    # the entrypoint's first start: the plugin's file with the admin account
    (init,) = re.findall(r"(mosquitto_ctrl dynsec init \S+ \S+)", service["entrypoint"][-1])
    password = secrets.token_urlsafe(12)
    words = [*shlex.split(init.replace("/mosquitto/data/", f"{tmp_path}/")), password]
    subprocess.run(words, check=True, capture_output=True, timeout=30)
    broker = subprocess.Popen(
        [
            shutil.which("mosquitto") or "/usr/sbin/mosquitto",
            "-c",
            str(tmp_path / "mosquitto.conf"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        # paho reports 3.1.1's "not authorized" (5) as the MQTT 5 reason 135
        assert connack(port, None, None) == 135  # no anonymous clients
        assert connack(port, "sg-admin", "wrong") != 0
        assert connack(port, "sg-admin", password) == 0
        # broker sync denies receiving by default (accounts.DEFAULT_ACCESS): the admin
        # of this init still gets the plugin's answers through its own receive ACLs
        from sensorgrid.brokerauth.dynsec import Dynsec
        from sensorgrid.mqtt import parse

        deny = {"acltype": "publishClientReceive", "allow": False}
        url = f"mqtt://sg-admin:{password}@127.0.0.1:{port}"
        with Dynsec(parse(url), timeout=10) as dynsec:
            dynsec.execute([{"command": "setDefaultACLAccess", "acls": [deny]}])
        with Dynsec(parse(url), timeout=10) as dynsec:
            assert deny in dynsec.run({"command": "getDefaultACLAccess"})["acls"]
    finally:
        broker.terminate()
        broker.wait(timeout=15)
