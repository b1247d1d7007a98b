"""Data files shipped inside the package, as a pipeline's ``url``: ``bundled:<path>``.

The demo's sample layer must load without internet, and pipelines must never read a
file an owner names: ``file:`` URLs stay refused (``file:///etc/passwd``, the
deployment's settings). So ``bundled:`` reaches one directory of the package,
``sensorgrid/geo/bundled/``, and nothing else: a relative path of plain names (letters,
digits, ``_ . -``; none starting with a dot, so no ``..``), no absolute path, no
backslash, no symbolic link out of the directory, a file that exists. What is there is
what the package ships (pyproject's package-data), read-only.
"""

import re
from pathlib import Path

SCHEME = "bundled:"
ROOT = (Path(__file__).parent.parent / "bundled").resolve()

_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")

TYPES = {
    ".geojson": "application/geo+json",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".gml": "application/gml+xml",
    ".xml": "application/xml",
}


def is_bundled(url: object) -> bool:
    return isinstance(url, str) and url.startswith(SCHEME)


def available() -> list[str]:
    """The names a ``bundled:`` URL may use, e.g. ``demo/street-trees.geojson``."""
    if not ROOT.is_dir():
        return []
    return sorted(
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("*")
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(ROOT).parts)
    )


def resolve(url: str) -> Path:
    """The file ``url`` names under ``ROOT``; ValueError saying why not otherwise."""
    name = url[len(SCHEME) :] if is_bundled(url) else url
    parts = name.split("/")
    if not name or "\\" in name or not all(_PART.fullmatch(part) for part in parts):
        raise ValueError(
            f"{url!r} does not name a bundled file: write bundled:<path> with a path "
            "inside SensorGrid's sensorgrid/geo/bundled/ directory (plain names joined "
            "by /; no '..', no absolute path)"
        )
    path = (ROOT / name).resolve()
    if not path.is_relative_to(ROOT) or not path.is_file():
        known = ", ".join(available()) or "none"
        raise ValueError(f"there is no bundled file {name!r}; bundled files: {known}")
    return path


def read(url: str, limit: int) -> tuple[bytes, str]:
    """The file's bytes and content type (by suffix); ValueError as ``resolve``, or if the
    file is larger than ``limit`` bytes (SENSORGRID_GEO_FETCH_MAX_BYTES, as downloads)."""
    path = resolve(url)
    if path.stat().st_size > limit:
        raise ValueError(f"{url} is larger than {limit} bytes (SENSORGRID_GEO_FETCH_MAX_BYTES)")
    return path.read_bytes(), TYPES.get(path.suffix.lower(), "application/octet-stream")
