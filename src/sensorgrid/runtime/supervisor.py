"""Run several `sensorgrid` commands as children of one process and stop them together.

The demo's process manager: each part (broker, ingest, web, simulators) is a child
process with its output prefixed by its name; when one dies the others are
stopped, and SIGINT/SIGTERM stop them all, last started first.
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

STOP_SECONDS = 15


@dataclass
class Child:
    name: str
    process: subprocess.Popen[str]
    #: copies the child's output to ours; started right after the child
    pump: threading.Thread | None = field(repr=False, default=None)
    lines: list[str] = field(repr=False, default_factory=list)
    #: lines it printed so far (``lines`` keeps the first 500 and the latest)
    printed: int = 0

    def wait_for(self, text: str, timeout: float) -> bool:
        """Wait until the child printed ``text`` (True) or died / timed out (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.1)
        return any(text in line for line in self.lines)


class Supervisor:
    def __init__(self, output=None, environment: dict | None = None) -> None:
        """``environment``: variables every child gets (such as a shared metrics dir)."""
        self.children: list[Child] = []
        self.environment = dict(environment or {})
        self.stopping = threading.Event()
        self._output = output or sys.stdout
        self._lock = threading.Lock()

    def start(self, name: str, *arguments: str, environment: dict | None = None) -> Child:
        """Start ``sensorgrid <arguments>`` as a child named ``name``."""
        process = subprocess.Popen(
            [sys.executable, "-m", "sensorgrid", *arguments],
            env={**os.environ, **self.environment, **(environment or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            # Its own process group: Ctrl-C reaches the supervisor only, which stops the
            # children in order (the broker last), not all at once mid-sentence.
            start_new_session=True,
        )
        child = Child(name, process)
        child.pump = threading.Thread(target=self._pump, args=(child,), daemon=True)
        child.pump.start()
        self.children.append(child)
        return child

    def wait(self) -> int:
        """Block until stopped or a child dies; then stop the rest. Returns an exit code."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self.stopping.set())
        failed = None
        while not self.stopping.is_set():
            failed = next((c for c in self.children if c.process.poll() is not None), None)
            if failed is not None:
                self._say(f"{failed.name} exited with {failed.process.returncode}; stopping")
                break
            self.stopping.wait(0.5)
        if failed is None:
            self._say("stopping, last started first")
        self.stop()
        return 1 if failed is not None else 0

    def stop(self) -> None:
        """Stop the children one by one, last started first.

        One at a time: the ingest service must commit and acknowledge its last batch
        while the broker is still there.
        """
        for child in reversed(self.children):
            said = child.printed
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
            try:
                child.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self._say(f"{child.name} did not stop in {STOP_SECONDS}s; killing it")
                child.process.kill()
                child.process.wait()
            if child.pump is not None:
                child.pump.join(timeout=2)
            if child.printed == said:
                # One calm line per process: its own last words, or this.
                code = child.process.returncode
                self._say(f"{child.name:>10} | stopped" + (f" (exit {code})" if code else ""))

    def _pump(self, child: Child) -> None:
        assert child.process.stdout is not None  # started with stdout=PIPE
        for line in child.process.stdout:
            child.lines.append(line)
            child.printed += 1
            if len(child.lines) > 1000:  # the start-up lines and the last ones suffice
                del child.lines[500]
            if line.strip():
                self._say(f"{child.name:>10} | {line.rstrip()}")

    def _say(self, text: str) -> None:
        # One write with its newline: print() writes the newline apart, and Django's
        # OutputWrapper (a command's stdout) ends each write with one, a blank line.
        with self._lock:
            self._output.write(text + "\n")
            self._output.flush()
