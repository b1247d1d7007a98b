"""The marks of every browser test module (``pytestmark = BROWSER``): slow, run in the
SQLite pass only (each module starts one server on SQLite demo data of its own), and
skipped where Debian's Chromium or the built assets are missing."""

from pathlib import Path

import pytest
from django.conf import settings

from tests.dashboard.liveserver import CHROMIUM

#: One of the assets `make assets` builds: without them the pages load no script.
VENDOR = Path(settings.BASE_DIR) / "dashboard/static/dashboard/vendor/uPlot.esm.js"
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

BROWSER = [
    pytest.mark.slow,
    pytest.mark.skipif(ON_POSTGRES, reason="one server on SQLite demo data: the SQLite pass"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin"),
    pytest.mark.skipif(not VENDOR.exists(), reason="assets not built: run `make assets`"),
]
