"""A feature of an extra says which extra to install; a broken library says what broke."""

import sys

import pytest

from sensorgrid import extras


def test_a_missing_library_names_the_extra_and_the_feature():
    with pytest.raises(extras.MissingExtra) as raised:
        extras.require("sensorgrid_absent_lib.sub", "geo", "The WFS source")
    assert str(raised.value) == (
        "The WFS source needs sensorgrid_absent_lib, which is not installed: "
        "pip install 'sensorgrid[geo]'"
    )
    assert not extras.installed("sensorgrid_absent_lib")


def test_a_library_that_fails_to_import_something_of_its_own_is_not_blamed_on_the_extra(
    tmp_path, monkeypatch
):
    (tmp_path / "sensorgrid_broken_lib.py").write_text("import sensorgrid_absent_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert extras.installed("sensorgrid_broken_lib")
    with pytest.raises(ModuleNotFoundError, match="sensorgrid_absent_dependency") as raised:
        extras.require("sensorgrid_broken_lib", "geo", "The WFS source")
    assert not isinstance(raised.value, extras.MissingExtra)
    sys.modules.pop("sensorgrid_broken_lib", None)


def test_an_installed_library_is_returned():
    assert extras.require("json", "geo", "Parsing").dumps([1]) == "[1]"
