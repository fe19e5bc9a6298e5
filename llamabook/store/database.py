"""SQLite access: one connection per thread, WAL, migrations, short write transactions."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .migrations import MIGRATIONS

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
        self._queue: list[_Job] = []
        self._queue_lock = threading.Lock()
        self._leading = False
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
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def write_grouped(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``work`` in a write transaction, shared with writes other threads submit meanwhile.

        Returns (or raises) once that transaction is committed, as :meth:`write` does. Many
        threads saving small rows at once then pay for one commit per group instead of one
        each: the first thread to arrive commits everything queued while it waited.
        """
        job = _Job(work)
        with self._queue_lock:
            self._queue.append(job)
            lead = not self._leading
            self._leading = True
        if not lead:
            try:
                job.wake.wait()  # woken when a leader has committed this job, or to lead the next group
            except BaseException:  # Ctrl-C while queued: withdraw, unless already promoted to lead
                with self._queue_lock:
                    if not job.wake.is_set():
                        self._queue.remove(job)
                        raise
                job.wake.wait()
            if job.done:
                return job.result()
        with self._queue_lock:
            group, self._queue = self._queue, []
        try:
            self._commit_group(group)
        finally:
            with self._queue_lock:
                if self._queue:
                    self._queue[0].wake.set()  # hand over: the oldest waiter commits the next group
                else:
                    self._leading = False
        return job.result()

    def _commit_group(self, group: list[_Job]) -> None:
        """Commit a group; errors go to the jobs they belong to (a failed commit: to all)."""
        try:
            with self.write() as conn:
                if len(group) == 1:
                    group[0].value = group[0].work(conn)
                    return
                for job in group:
                    # A savepoint each: one job's error rolls back only that job.
                    conn.execute("SAVEPOINT job")
                    try:
                        job.value = job.work(conn)
                    except Exception as exc:
                        job.error = exc
                        conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
        except Exception as exc:
            for job in group:
                job.error = job.error or exc
        except BaseException as exc:  # KeyboardInterrupt: the waiting threads must not hang
            for job in group:
                job.error = job.error or exc
            raise
        finally:
            for job in group:
                job.done = True
                job.wake.set()

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


class _Job:
    __slots__ = ("work", "wake", "done", "value", "error")

    def __init__(self, work: Callable[[sqlite3.Connection], Any]) -> None:
        self.work = work
        self.wake = _Signal()
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class _Signal:
    """A one-shot wake-up: a bare lock, cheaper to set than a ``threading.Event``."""

    __slots__ = ("_lock", "_set")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self._set = False

    def set(self) -> None:
        if not self._set:
            self._set = True
            self._lock.release()

    def is_set(self) -> bool:
        return self._set

    def wait(self) -> None:
        self._lock.acquire()
        self._lock.release()


def _statements(script: str) -> list[str]:
    # executescript() would commit our transaction; run statement by statement instead.
    return [s.strip() for s in script.split(";") if s.strip()]
