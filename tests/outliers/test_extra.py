"""Without the outliers extra, training says what to install (a subprocess on its own
SQLite database whatever the test run's database, like tests/test_core_install.py)."""

from tests.test_core_install import core  # noqa: F401  (the fixture: extras unimportable)


def test_training_without_the_extra_names_it(core):  # noqa: F811
    done = core.run("images", "train", "cam-1", "camera", check=False)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "pip install 'sensorgrid[outliers]'" in done.stderr
    assert "Traceback" not in done.stderr
