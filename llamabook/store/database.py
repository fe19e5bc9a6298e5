"""SQLite access: one connection per thread, WAL, migrations, short write transactions.

One write path (:meth:`Database.write`), plus a grid's :class:`~llamabook.store.writer.Writer`, to which
writes given a :class:`~llamabook.store.writer.Unit` go (:meth:`Database.apply`).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .migrations import MIGRATIONS
from .writer import Unit, Work, Writer

BUSY_TIMEOUT_MS = 60_000

# Writers in one process queue on a lock per database file: SQLite's own busy handler backs
# off for up to 100 ms at a time, which would serialize concurrent threads needlessly.
_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()


def _write_lock(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _write_locks_guard:
        return _write_locks.setdefault(key, threading.Lock())


class Database:
    """A SQLite file shared safely by threads (a connection each) and processes (WAL + locks)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._write_lock = _write_lock(self.path)
        self.migrate()

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # check_same_thread=False only so close() can close every thread's connection; each
            # connection is still used by the one thread that opened it.
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._set_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def release_connection(self) -> None:
        """Close this thread's connection (a thread that is about to end)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        with self._all_lock:
            if conn in self._all:
                self._all.remove(conn)
        conn.close()

    @staticmethod
    def _set_wal(conn: sqlite3.Connection) -> None:
        # Switching to WAL needs a moment alone with the file; another process may hold it.
        for attempt in range(50):
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError:
                time.sleep(0.05 * (attempt + 1))
        conn.execute("PRAGMA journal_mode = WAL")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A transaction holding the write lock from the start (BEGIN IMMEDIATE)."""
        conn = self.connection()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:  # some errors end it already (a full disk, RAISE(ROLLBACK)): keep theirs
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def apply(self, work: Work, unit: Unit | None = None) -> None:
        """Run ``work`` in a write transaction now; or, given a grid's ``unit``, as part of it (committed by its writer)."""
        if unit is not None:
            unit.add(work)
            return
        with self.write() as conn:
            work(conn)

    def writer(self) -> Writer:
        """A grid's writer: its :class:`Unit` s committed by one thread, many to a transaction (see :mod:`.writer`)."""
        return Writer(self)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several SELECTs."""
        conn = self.connection()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def migrate(self) -> None:
        with self.write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for number, script in enumerate(MIGRATIONS, start=1):
                if number in done:
                    continue
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", (number, time.time())
                )

    def schema_version(self) -> int:
        row = self.connection().execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


def _statements(script: str) -> list[str]:
    # executescript() would commit our transaction; run statement by statement instead.
    return [s.strip() for s in script.split(";") if s.strip()]
