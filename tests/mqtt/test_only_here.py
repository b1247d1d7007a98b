"""Only sensorgrid.mqtt imports paho: one place to check when paho changes.

The package pins what SensorGrid relies on (the private names of the fast path and the
outbound guard's socket hook, tests/mqtt/test_paho_contract.py) and guards every
callback. A client built elsewhere on paho directly would have neither.
"""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "sensorgrid"
PACKAGE = SRC / "mqtt"


def paho_imports(text: str, where: str) -> list[str]:
    """``where:line imports name`` for each import of paho in ``text``, at any depth."""
    found = []
    for node in ast.walk(ast.parse(text, where)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        found += [
            f"{where}:{node.lineno} imports {name}"
            for name in names
            if name == "paho" or name.startswith("paho.")
        ]
    return found


def test_no_module_outside_sensorgrid_mqtt_imports_paho():
    modules = [path for path in SRC.rglob("*.py") if PACKAGE not in path.parents]
    assert len(modules) > 100  # the walk found the source tree
    offenders = [
        line
        for path in modules
        for line in paho_imports(path.read_text(), str(path.relative_to(SRC.parent)))
    ]
    assert offenders == [], "use sensorgrid.mqtt.make_client instead:\n" + "\n".join(offenders)


def test_the_check_sees_every_spelling_of_an_import_of_paho():
    text = (
        "import json, paho\n"
        "import paho.mqtt.client as mqtt\n"
        "def f():\n"
        "    from paho.mqtt import publish\n"
        "from .paho import nothing\n"  # a relative import is ours, not paho
        "import pahoish\n"
    )
    assert paho_imports(text, "x.py") == [
        "x.py:1 imports paho",
        "x.py:2 imports paho.mqtt.client",
        "x.py:4 imports paho.mqtt",
    ]
    assert paho_imports((PACKAGE / "client.py").read_text(), "client.py")
