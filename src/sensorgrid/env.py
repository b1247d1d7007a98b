"""Typed helpers that read settings from the environment.

Every default is safe for a local demo; production sets the variables. A secret can
also be read from a file named by ``NAME_FILE`` (Docker/Kubernetes secrets).
"""

import os
from pathlib import Path


class ConfigurationError(ValueError):
    """An environment variable holds a value SensorGrid cannot use."""


def env(name: str, default: str = "") -> str:
    """Return ``name`` from the environment, or the content of the file ``name_FILE``.

    An empty variable counts as unset, so ``NAME=`` next to ``NAME_FILE`` reads the file.
    """
    if os.environ.get(name):
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigurationError(f"{name}_FILE={path!r} cannot be read: {exc}") from exc
    return default


def envbool(name: str, default: bool = False) -> bool:
    raw = env(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a boolean (use true or false)")


def envint(name: str, default: int) -> int:
    raw = env(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not an integer") from None


def envfloat(name: str, default: float) -> float:
    raw = env(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from None


def envlist(name: str, default: list[str]) -> list[str]:
    raw = env(name, "").strip()
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]
