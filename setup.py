"""Build hook: a wheel without the dashboard's browser libraries is refused.

The libraries (Leaflet, uPlot) come from the npm registry through `make assets` into
src/sensorgrid/dashboard/static/dashboard/vendor/, which git ignores. A wheel built from
a checkout that skipped that step would install fine and then serve maps and charts that
never load, so the build stops with the command to run instead. What must be there is
read from the pages and scripts themselves (every `vendor/…` they load, and every file a
vendored stylesheet points to), so a new library needs no list here. An editable install
(`pip install -e`, `make install`) reads the checkout directly and is not checked: it
runs before `make assets`.

All metadata is in pyproject.toml; tests/deploy/test_wheel.py builds with and without
the files.
"""

import re
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PACKAGE = Path(__file__).resolve().parent / "src" / "sensorgrid"
STATIC = PACKAGE / "dashboard" / "static" / "dashboard"
VENDOR = STATIC / "vendor"
# `static 'dashboard/vendor/x.css'` in templates, `./vendor/x.js` in the dashboard's modules.
REFERENCE = re.compile(r"""["'](?:dashboard/|\./)vendor/([\w./-]+)["']""")
CSS_URL = re.compile(r"""url\(\s*["']?(?!data:|https?:|/)([\w./-]+)""")


def missing_vendor_files() -> list[str]:
    """Vendored files the dashboard loads that are not in the source tree."""
    wanted = set()
    for pattern in ("templates/**/*.html", "static/**/*.js"):
        for source in (PACKAGE / "dashboard").glob(pattern):
            if VENDOR not in source.parents:
                wanted.update(REFERENCE.findall(source.read_text(encoding="utf-8")))
    for stylesheet in VENDOR.glob("*.css"):
        wanted.update(CSS_URL.findall(stylesheet.read_text(encoding="utf-8")))
    if not wanted:
        return ["(no vendor/ reference found in the dashboard: the check is broken)"]
    return sorted(name for name in wanted if not (VENDOR / name).is_file())


class BuildPyWithAssets(build_py):
    def run(self) -> None:
        if not getattr(self, "editable_mode", False):
            missing = missing_vendor_files()
            if missing:
                raise SystemExit(
                    "error: the dashboard's browser libraries are missing from "
                    f"{VENDOR.relative_to(PACKAGE.parents[1])}/: {', '.join(missing)}. "
                    "Run `make assets` (npm ci and copy) before building the package."
                )
        super().run()


setup(cmdclass={"build_py": BuildPyWithAssets})
