"""The device-side offline queue: what a device keeps until the broker has it.

One SQLite file per simulator run (docs/devices.md, "Offline queue"). A message is
written to the queue when it is generated, in the same transaction as the device's
next sequence number and simulated time, and deleted only once the broker
acknowledged it (QoS 1 PUBACK). A restarted simulator therefore resends everything
that was not acknowledged, and resumes generating where it stopped. Each device keeps
at most ``limit`` messages; beyond that the oldest is dropped and counted.

Not thread-safe: one thread owns a queue.
"""

import sqlite3
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS message (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    UNIQUE (device, sequence)
);
CREATE TABLE IF NOT EXISTS device (
    device TEXT PRIMARY KEY,
    next_sequence INTEGER NOT NULL DEFAULT 0,
    first_tick INTEGER,  -- the device's first simulated instant in this queue
    next_tick INTEGER,
    dropped INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True, slots=True)
class Queued:
    id: int
    device: str
    sequence: int
    topic: str
    payload: bytes


class OfflineQueue:
    """A durable, bounded FIFO of messages per device."""

    def __init__(self, path: Path | str, limit: int = 10_000) -> None:
        if limit < 1:
            raise ValueError("the queue limit must be at least 1")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.limit = limit
        # One thread at a time, but not necessarily the one that opened it.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # WAL + NORMAL: a killed process loses nothing committed (the OS has the
        # writes); only a power cut may lose the last transactions.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def put(self, device: str, topic: str, payload: bytes, next_tick: int | None = None) -> int:
        """Queue a message; return its sequence number (per device, from 0).

        ``next_tick`` is the device's next simulated instant, saved with the message so
        that a restart continues after it. Drops the device's oldest message when full.
        """
        with self._transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO device (device, first_tick) VALUES (?, ?)",
                (device, None if next_tick is None else next_tick - 1),
            )
            (sequence,) = self._db.execute(
                "SELECT next_sequence FROM device WHERE device = ?", (device,)
            ).fetchone()
            self._db.execute(
                "INSERT INTO message (device, sequence, topic, payload) VALUES (?, ?, ?, ?)",
                (device, sequence, topic, payload),
            )
            self._db.execute(
                "UPDATE device SET next_sequence = ?, next_tick = coalesce(?, next_tick) "
                "WHERE device = ?",
                (sequence + 1, next_tick, device),
            )
            (count,) = self._db.execute(
                "SELECT count(*) FROM message WHERE device = ?", (device,)
            ).fetchone()
            if count > self.limit:
                over = count - self.limit
                self._db.execute(
                    "DELETE FROM message WHERE id IN (SELECT id FROM message WHERE device = ? "
                    "ORDER BY id LIMIT ?)",
                    (device, over),
                )
                self._db.execute(
                    "UPDATE device SET dropped = dropped + ? WHERE device = ?", (over, device)
                )
        return sequence

    def skip(self, device: str, next_tick: int) -> None:
        """Record that the device's instants before ``next_tick`` are done (sent nothing)."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO device (device, next_tick, first_tick) VALUES (?, ?, ?) "
                "ON CONFLICT (device) DO UPDATE SET next_tick = excluded.next_tick",
                (device, next_tick, next_tick),
            )

    def next_sequence(self, device: str) -> int:
        """The sequence number the device's next message gets."""
        row = self._db.execute(
            "SELECT next_sequence FROM device WHERE device = ?", (device,)
        ).fetchone()
        return row[0] if row else 0

    def ticks(self, device: str) -> tuple[int | None, int | None]:
        """(first, next) simulated tick of the device in this queue."""
        sql = "SELECT first_tick, next_tick FROM device WHERE device = ?"
        row = self._db.execute(sql, (device,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def next_tick(self, device: str) -> int | None:
        row = self._db.execute(
            "SELECT next_tick FROM device WHERE device = ?", (device,)
        ).fetchone()
        return row[0] if row else None

    def oldest(self, after: int = 0, limit: int = 100) -> list[Queued]:
        """Queued messages with an id above ``after``, oldest first (so in order per device)."""
        rows = self._db.execute(
            "SELECT id, device, sequence, topic, payload FROM message WHERE id > ? "
            "ORDER BY id LIMIT ?",
            (after, limit),
        ).fetchall()
        return [Queued(i, d, s, t, bytes(p)) for i, d, s, t, p in rows]

    def ack(self, ids: list[int]) -> None:
        """Forget acknowledged messages (ids of messages already dropped are ignored)."""
        if ids:
            with self._transaction():
                self._db.executemany("DELETE FROM message WHERE id = ?", [(i,) for i in ids])

    def pending(self, device: str | None = None) -> int:
        if device is None:
            return self._db.execute("SELECT count(*) FROM message").fetchone()[0]
        return self._db.execute(
            "SELECT count(*) FROM message WHERE device = ?", (device,)
        ).fetchone()[0]

    def dropped(self, device: str | None = None) -> int:
        if device is None:
            return self._db.execute("SELECT coalesce(sum(dropped), 0) FROM device").fetchone()[0]
        row = self._db.execute("SELECT dropped FROM device WHERE device = ?", (device,)).fetchone()
        return row[0] if row else 0

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, traceback) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
