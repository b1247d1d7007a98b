from tests.dashboard.conftest import browser  # noqa: F401 (one Chromium per module)
