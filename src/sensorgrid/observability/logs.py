"""Logging configuration: readable lines in a terminal, JSON lines for log shippers.

``settings.LOGGING = logs.config(level, format)``. Every record goes to stdout, one
event per line. ``SENSORGRID_LOG_FORMAT``:

- ``text``: ``time level logger: message`` and the context fields as ``key=value``;
- ``json``: one JSON object per line (python-json-logger), for Fluent-Bit & co.;
- ``auto`` (default): ``text`` if stdout is a terminal, ``json`` otherwise, so a
  developer reads text and a container's log collector gets JSON.

Every record carries ``request_id`` (None outside a request); ``node``, ``device``,
``route`` and any other ``extra=`` fields are passed through as they are.
"""

import logging
import sys
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from sensorgrid.env import ConfigurationError
from sensorgrid.observability.context import REQUEST_ID

FORMATS = ("auto", "text", "json")
#: Context fields shown by the text format when a record has them.
CONTEXT_FIELDS = ("request_id", "route", "node", "device")


def resolve_format(name: str, stream: TextIO) -> str:
    """``text`` or ``json`` for ``name``; ``auto`` looks at whether ``stream`` is a TTY."""
    name = name.strip().lower() or "auto"
    if name not in FORMATS:
        raise ConfigurationError(
            f"SENSORGRID_LOG_FORMAT={name!r} is not a log format (use {', '.join(FORMATS)})"
        )
    if name == "auto":
        isatty = getattr(stream, "isatty", None)
        return "text" if isatty is not None and isatty() else "json"
    return name


#: With ``quiet``: the loggers kept at the configured level (SensorGrid's own) and those
#: held at WARNING even so (one line per request); every other logger, the frameworks'
#: (uvicorn, huey's per-task lines, amqtt, Django), at WARNING.
QUIET_OWN = "sensorgrid"
QUIET_WARNING_ONLY = ("sensorgrid.http",)


def config(level: str = "INFO", log_format: str = "auto", quiet: bool = False) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary (Django's ``LOGGING``).

    ``quiet`` (``SENSORGRID_LOG_QUIET``, set by ``sensorgrid demo`` for its children):
    SensorGrid's own lines at ``level``, no per-request lines, the rest at WARNING.
    """
    formatter = resolve_format(log_format, sys.stdout)
    loggers: dict[str, dict[str, str]] = {"django.request": {"level": "ERROR"}}
    root = level.upper()
    if quiet:
        loggers[QUIET_OWN] = {"level": level.upper()}
        loggers.update({name: {"level": "WARNING"} for name in QUIET_WARNING_ONLY})
        levels = logging.getLevelNamesMapping()
        root = max(root, "WARNING", key=lambda name: levels.get(name, logging.INFO))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": f"{__name__}.ContextFilter"}},
        "formatters": {
            "text": {"()": f"{__name__}.TextFormatter"},
            "json": {"()": f"{__name__}.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": formatter,
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": root},
        "loggers": loggers,
    }


class ContextFilter(logging.Filter):
    """Add the current request id to every record (a handler filter: sees them all)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(_JsonFormatter):
    """``{"time", "level", "logger", "message", "request_id", …extras}`` on one line."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)


class TextFormatter(logging.Formatter):
    """``2025-01-01 12:00:00,000 INFO sensorgrid.http: message request_id=… route=…``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = [
            f"{name}={value}"
            for name in CONTEXT_FIELDS
            if (value := getattr(record, name, None)) not in (None, "")
        ]
        if not context:
            return text
        # After the message's first line, so a traceback stays below it.
        first, _, rest = text.partition("\n")
        return f"{first} {' '.join(context)}" + (f"\n{rest}" if rest else "")
