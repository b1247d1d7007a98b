"""One settings surface: every SENSORGRID_* variable is read once, in settings.py, through
the env helpers, and documented in docs/configuration.md; the code reads settings, never
its own defaults. A variable documented but not read was silently ignored (issue 17)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "sensorgrid"
SETTINGS = SRC / "settings.py"
HELPERS = {"env", "envbool", "envint", "envfloat", "envlist"}
NAME = re.compile(r"SENSORGRID_\w+")

#: Names in the docs that are not variables of settings.py, each with the reason.
NOT_SETTINGS: dict[str, str] = {
    # A prefix that stands for a family of names (written `SENSORGRID_X_*`) or a variable
    # read by another program belongs here, with why.
    "SENSORGRID_API_TOKEN": "Grafana's, not SensorGrid's: its provisioned Infinity data "
    "source sends it (deploy/grafana, docs/grafana.md)",
}


def read_by_settings() -> list[str]:
    """Names passed to env helpers in settings.py, in source order (repeats included)."""
    names = []
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in HELPERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and str(node.args[0].value).startswith("SENSORGRID_")
        ):
            names.append(node.args[0].value)
    return names


def documented(path: Path) -> set[str]:
    return set(NAME.findall(path.read_text()))


def is_read(name: str, read: set[str]) -> bool:
    # Every variable can come from a file named by NAME_FILE (sensorgrid.env.env).
    return name in read or (name.endswith("_FILE") and name.removesuffix("_FILE") in read)


def python_sources():
    for path in sorted(SRC.rglob("*.py")):
        yield path, ast.parse(path.read_text(), filename=str(path))


def test_every_variable_named_in_the_docs_is_read_by_settings():
    read = set(read_by_settings())
    pages = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
    unread = {
        f"{name} ({page.relative_to(ROOT)})"
        for page in pages
        for name in documented(page)
        if not is_read(name, read) and name not in NOT_SETTINGS
    }
    assert not unread, "documented but never read from the environment: " + ", ".join(
        sorted(unread)
    )


def test_every_variable_read_is_listed_in_the_configuration_page():
    listed = documented(ROOT / "docs" / "configuration.md")
    missing = sorted(set(read_by_settings()) - listed)
    assert not missing, f"read by settings.py, missing from docs/configuration.md: {missing}"


def test_each_variable_is_read_once():
    names = read_by_settings()
    assert sorted({n for n in names if names.count(n) > 1}) == []


def test_the_allow_list_holds_only_names_the_docs_still_use():
    everywhere = set().union(
        *(documented(p) for p in [*(ROOT / "docs").glob("*.md"), ROOT / "README.md"])
    )
    assert set(NOT_SETTINGS) <= everywhere


def test_no_code_repeats_a_default_with_getattr():
    """``getattr(settings, "SENSORGRID_X", default)`` hides a second default from the
    reader of settings.py; declare the variable there and read ``settings.SENSORGRID_X``."""
    found = []
    for path, tree in python_sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and str(node.args[1].value).startswith("SENSORGRID_")
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


def test_every_setting_the_code_uses_is_declared():
    used = set()
    for _path, tree in python_sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("SENSORGRID_")
                and isinstance(node.value, ast.Name)
                and node.value.id == "settings"
            ):
                used.add(node.attr)
    declared = {
        target.id
        for node in ast.parse(SETTINGS.read_text()).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert sorted(used - declared) == []
