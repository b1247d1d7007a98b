"""The wheel a server installs: built from this checkout, installed where no checkout is.

`python -m build` makes the wheel; a fresh virtual environment in a temporary directory
installs it with pip (its dependencies from the package index, no Node.js) and runs what
docs/deployment.md tells an operator to run: `sensorgrid --version`, `check --deploy` with
the production variables (the secret key from a file), `migrate`, `collectstatic`, and
`serve`, whose dashboard page loads the vendored map library. A wheel that misses a
template, a migration, an example or a browser library fails here, not on a city's server.
"""

import os
import re
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

import sensorgrid
from tests.servers import free_port, wait_for_port
from tests.support.commands import Sensorgrid, stop

pytestmark = [
    pytest.mark.deploy,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="packaging, not the database: tested in the SQLite pass",
    ),
]

CHECKOUT = Path(__file__).resolve().parents[2]
PACKAGE = CHECKOUT / "src" / "sensorgrid"
VENDOR = "dashboard/static/dashboard/vendor"
HOST = "sensors.example.org"
WHEELHOUSE = CHECKOUT / "var" / "wheelhouse"


def build_wheel(source: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def package_files() -> set[str]:
    """Every file of the package in this checkout, as the wheel names it."""
    return {
        f"sensorgrid/{path.relative_to(PACKAGE).as_posix()}"
        for path in PACKAGE.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix != ".pyc"
        and path.name != ".installed"  # the Makefile's marker that `make assets` ran
    }


def copy_checkout(destination: Path, *, vendor: bool = True) -> Path:
    """What `python -m build` reads, copied: setuptools keeps a build/ directory in the
    source tree whose leftovers (a file deleted since) would end up in the next wheel."""
    destination.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(CHECKOUT / name, destination / name)
    skip = ["__pycache__", "*.egg-info", *([] if vendor else ["vendor"])]
    shutil.copytree(CHECKOUT / "src", destination / "src", ignore=shutil.ignore_patterns(*skip))
    return destination


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> tuple[Path, set[str]]:
    expected = package_files()
    outdir = tmp_path_factory.mktemp("dist")
    done = build_wheel(copy_checkout(tmp_path_factory.mktemp("build") / "checkout"), outdir)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (built,) = outdir.glob("sensorgrid-*.whl")
    return built, expected


def pip_install(python: Path, wheel: Path, directory: Path) -> None:
    """``pip install wheel`` with its dependencies from the index, kept in a wheelhouse.

    The first run downloads them (a minute on a busy machine); later runs install from
    var/wheelhouse/ without the network, and download again only when a requirement changed.
    """

    def pip(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            # This checkout's pip installs into the new venv: one made without its own
            # pip is ready in a second instead of twenty.
            [sys.executable, "-m", "pip", "--python", str(python), *args],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=directory,
        )

    offline = (
        "install",
        "--quiet",
        "--no-compile",
        "--no-index",
        "--find-links",
        str(WHEELHOUSE),
        str(wheel),
    )
    if pip(*offline).returncode == 0:
        return
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    done = pip("download", "--quiet", "--dest", str(WHEELHOUSE), str(wheel))
    assert done.returncode == 0, done.stderr[-3000:]
    for ours in WHEELHOUSE.glob("sensorgrid-*"):
        ours.unlink()
    done = pip(*offline)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Sensorgrid:
    """The wheel in a fresh venv outside the checkout, run with production variables."""
    home = tmp_path_factory.mktemp("server")
    assert CHECKOUT not in home.parents
    venv = home / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    pip_install(python, wheel[0], home)
    secret = home / "secret_key"
    secret.write_text("s3cr3t-" + os.urandom(40).hex() + "\n")
    secret.chmod(0o600)
    # Nothing of this process's configuration leaks in: no SENSORGRID_* variable, no
    # PYTHONPATH to the checkout, no Django settings module of the test run.
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SENSORGRID_", "DJANGO_", "PYTHON", "PROMETHEUS_"))
    }
    environment |= {
        # docs/configuration.md, "Production", with the key from a file
        "SENSORGRID_SECRET_KEY_FILE": str(secret),
        "SENSORGRID_DEBUG": "false",
        "SENSORGRID_ALLOWED_HOSTS": HOST,
        "SENSORGRID_SECURE_SSL_REDIRECT": "true",
        "SENSORGRID_SECURE_COOKIES": "true",
        "SENSORGRID_HSTS_SECONDS": "31536000",
        "SENSORGRID_HSTS_PRELOAD": "true",
        "SENSORGRID_VAR_DIR": str(home / "var"),
        "SENSORGRID_STATIC_ROOT": str(home / "static"),
        "SENSORGRID_DATABASE_URL": f"sqlite:///{home / 'sensorgrid.sqlite3'}",
    }
    return Sensorgrid(python, environment, home)


def test_the_wheel_holds_every_file_of_the_package(wheel):
    """Templates, static files and the vendored libraries, migrations, examples, schemas."""
    built, expected = wheel
    with zipfile.ZipFile(built) as archive:
        names = set(archive.namelist())
    assert expected - names == set()
    vendored = {name for name in names if f"/{VENDOR}/" in name}
    assert {f"sensorgrid/{VENDOR}/leaflet-src.esm.js", f"sensorgrid/{VENDOR}/uPlot.esm.js"} <= (
        vendored
    )
    assert any("/migrations/0001_initial.py" in name for name in names)
    assert any(name.startswith("sensorgrid/geo/examples/") for name in names)


def test_a_checkout_without_the_browser_libraries_builds_no_wheel(tmp_path):
    done = build_wheel(copy_checkout(tmp_path / "checkout", vendor=False), tmp_path / "dist")
    assert done.returncode != 0
    assert "Run `make assets`" in done.stdout + done.stderr
    assert "leaflet-src.esm.js" in done.stdout + done.stderr
    assert not list((tmp_path / "dist").glob("*.whl"))


def test_the_installed_command_prints_its_version(installed):
    assert installed.run("--version").stdout.strip() == f"sensorgrid {sensorgrid.__version__}"
    where = installed.run("shell", "-c", "import sensorgrid; print(sensorgrid.__file__)")
    assert Path(where.stdout.split()[-1]).is_relative_to(installed.directory / "venv")


def test_the_deployment_checks_pass_with_the_production_variables(installed):
    done = installed.run("check", "--deploy", "--fail-level", "WARNING")
    assert "System check identified no issues (0 silenced)." in done.stdout, done.stderr


def test_it_migrates_collects_static_files_and_serves_the_dashboard_with_its_libraries(
    installed,
):
    installed.run("migrate", "--no-input", "-v0")
    installed.run("collectstatic", "--no-input", "-v0")
    collected = installed.directory / "static" / VENDOR.removeprefix("dashboard/static/")
    assert (collected / "leaflet-src.esm.js").is_file()
    session = installed.run("shell", "-c", OPERATOR_SESSION).stdout.split()[-1]

    port = free_port()
    server = installed.start("serve", "serve", "--port", str(port))
    try:
        wait_for_port(port, timeout=60)

        def get(path: str) -> tuple[int, bytes]:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}",
                # as the TLS proxy of docs/deployment.md forwards it
                headers={"Host": HOST, "X-Forwarded-Proto": "https", "Cookie": session},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()

        status, page = get("/")
        assert status == 200
        stylesheet = re.search(rb'href="(/static/dashboard/vendor/leaflet\.css)"', page)
        assert stylesheet, page[:2000]
        script = re.search(rb'src="(/static/dashboard/map\.js)"', page)
        assert script, page[:2000]
        vendor_dir = PACKAGE / VENDOR
        assert get(stylesheet[1].decode()) == (200, (vendor_dir / "leaflet.css").read_bytes())
        status, module = get(script[1].decode())
        assert status == 200 and b"./vendor/leaflet-src.esm.js" in module
        library = get("/static/dashboard/vendor/leaflet-src.esm.js")
        assert library == (200, (vendor_dir / "leaflet-src.esm.js").read_bytes())
        marker = get("/static/dashboard/vendor/images/marker-icon.png")
        assert marker == (200, (vendor_dir / "images" / "marker-icon.png").read_bytes())
    finally:
        stop(server)
    assert "Traceback" not in installed.log("serve")


# A signed-in operator's session cookie, made by the installed code itself.
OPERATOR_SESSION = """
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from sensorgrid.tenancy.models import User
user = User.objects.create_user("operator", password="not-used-here-0")
store = import_module(settings.SESSION_ENGINE).SessionStore()
store[SESSION_KEY] = str(user.pk)
store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
store[HASH_SESSION_KEY] = user.get_session_auth_hash()
store.create()
print(f"{settings.SESSION_COOKIE_NAME}={store.session_key}")
"""
