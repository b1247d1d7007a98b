"""``sensorgrid …`` run as a separate process, the way an operator runs it.

One class for every test that must see an install from outside: a core install without
the extras' libraries (tests/test_core_install.py runs this interpreter with them made
unimportable) and the built wheel in a fresh virtual environment (tests/deploy/).
"""

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Sensorgrid:
    """``python -m sensorgrid`` of one interpreter, environment and working directory."""

    python: Path | str
    environment: dict[str, str]
    directory: Path

    def run(
        self, *args: str, check: bool = True, timeout: float = 120, **environment: str
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(self.python), "-m", "sensorgrid", *args],
            env={**self.environment, **environment},
            cwd=self.directory,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert not check or done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])
        return done

    def start(self, name: str, *args: str, **environment: str) -> subprocess.Popen[bytes]:
        """A long-running command, its output in ``<name>.log``; stop it with ``stop``."""
        with (self.directory / f"{name}.log").open("w") as log:
            return subprocess.Popen(
                [str(self.python), "-m", "sensorgrid", *args],
                env={**self.environment, **environment},
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text()


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL after 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
