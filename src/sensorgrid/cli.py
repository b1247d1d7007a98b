"""The ``sensorgrid`` console script: Django's manage.py with our settings."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        # Django's own --version would print Django's version, not ours.
        from sensorgrid import __version__

        print(f"sensorgrid {__version__}")
        return
    # First of all: prometheus_client reads PROMETHEUS_MULTIPROC_DIR once, on import.
    from sensorgrid.observability import multiprocess

    multiprocess.configure_environment()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sensorgrid.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["sensorgrid", *args])


if __name__ == "__main__":
    main()
