import pytest

from sensorgrid.ingest import cache


@pytest.fixture(autouse=True)
def fresh_directory():
    cache.directory.clear()
    yield
    cache.directory.clear()
