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
        self._writer = _Writer(self._commit_deferred, self._release_connection)
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

    def _release_connection(self) -> None:
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
        held = getattr(self._local, "held", None)
        if held is not None:  # inside deferred(): committed later, by the writer thread
            held.append(work)
            return None
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

    def _commit_deferred(self, group: list[_Job]) -> None:
        """Commit the writer's group in one go (two SQL statements fewer per job than savepoints);
        if a job fails, the whole transaction is rolled back and run again a savepoint per job.

        Deferred jobs only execute SQL (the rows of ``write_grouped`` calls), so running them again
        after a rollback is safe.
        """
        if len(group) > 1:
            try:
                with self.write() as conn:
                    for job in group:
                        job.work(conn)
            except Exception:
                pass  # someone's row failed: find whose below
            else:
                for job in group:
                    job.done = True
                    job.wake.set()
                return
        self._commit_group(group)

    @contextmanager
    def deferred(self) -> Iterator[DeferredWrites]:
        """Hold this thread's :meth:`write_grouped` calls until the block ends, then hand them to a
        writer thread as one all-or-nothing job, and go on without waiting for the commit.

        For many threads that each end a unit of work with a few small rows (a grid's calls): each
        goes on at once instead of queueing for a commit, while the writer commits whatever has
        come in meanwhile in one transaction. Those ``write_grouped`` calls return None. Reads see
        the rows once they are committed: ``.wait()`` on the yielded object waits for this block's,
        :meth:`flush` for every block's so far; then its ``.error`` says why they did not land, if
        they did not. A nested block joins the outer one.
        """
        outer = getattr(self._local, "held", None)
        if outer is not None:
            yield self._local.held_job
            return
        works: list[Callable[[sqlite3.Connection], Any]] = []
        job = _Job(_all(works))
        job.held = works
        self._local.held, self._local.held_job = works, job
        try:
            yield job
        finally:
            self._local.held = self._local.held_job = None
            if works:  # also after an error: what was written before it is kept
                self._writer.put(job)
            else:
                job.done = True
                job.wake.set()

    def flush(self) -> None:
        """Wait until every write handed over by :meth:`deferred` so far is committed (or failed)."""
        self._writer.flush()

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
        self._writer.flush()
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


class _Job:
    __slots__ = ("work", "wake", "done", "value", "error", "held")

    def __init__(self, work: Callable[[sqlite3.Connection], Any]) -> None:
        self.work = work
        self.wake = _Signal()
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None
        self.held: list[Callable[[sqlite3.Connection], Any]] | None = None  # a deferred block's writes

    def discard(self) -> None:
        """Drop what a :meth:`Database.deferred` block has written so far (called inside the block)."""
        if self.held is not None:
            self.held.clear()

    def wait(self) -> None:
        """Until this job is committed (or has failed: then ``error`` says why)."""
        self.wake.wait()

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


#: What :meth:`Database.deferred` yields: ``done`` once committed or failed, ``error`` why it failed.
DeferredWrites = _Job


def _all(works: list[Callable[[sqlite3.Connection], Any]]) -> Callable[[sqlite3.Connection], None]:
    def run(conn: sqlite3.Connection) -> None:
        for work in works:
            work(conn)

    return run


class _Writer:
    """The thread that commits deferred jobs, in the order they came, many to a transaction.

    Started on the first job; it ends once idle for ``LINGER_S``, or at once when a
    :meth:`flush` finds nothing left (so a process that forks after a grid has no extra thread).
    It commits as soon as it can (whatever came in meanwhile shares the transaction): a process
    killed before that loses those rows, so the window is kept short.
    """

    LIMIT = 1000  # queued jobs before a producer waits for the writer
    LINGER_S = 1.0

    def __init__(self, commit: Callable[[list[_Job]], None], release: Callable[[], None]) -> None:
        self._commit = commit
        self._release = release  # closes the writer's own connection as it ends
        self._cond = threading.Condition(threading.Lock())
        self._pending: list[_Job] = []
        self._thread: threading.Thread | None = None
        self._queued = 0
        self._committed = 0
        self._stop_when_idle = False

    def put(self, job: _Job) -> None:
        with self._cond:
            while len(self._pending) >= self.LIMIT:
                self._cond.wait()
            self._pending.append(job)
            self._queued += 1
            self._stop_when_idle = False
            if self._thread is None or not self._thread.is_alive():  # (a forked child has no writer yet)
                self._thread = threading.Thread(target=self._run, name="llamabook-db-writer", daemon=True)
                self._thread.start()
            elif len(self._pending) == 1:
                self._cond.notify_all()  # the writer may be waiting for work

    def flush(self) -> None:
        with self._cond:
            target, ending = self._queued, self._thread
            self._stop_when_idle = True
            self._cond.notify_all()
            while self._committed < target or (self._stop_when_idle and self._thread is not None):
                if self._thread is None or not self._thread.is_alive():
                    self._thread = None
                    break
                self._cond.wait(0.5)
            stopped = self._stop_when_idle  # else another job came in: the writer goes on
        if stopped and ending is not None:
            ending.join()  # it has left its loop; let it close its connection and end

    def _run(self) -> None:
        while True:
            with self._cond:
                deadline = time.monotonic() + self.LINGER_S
                while not self._pending and not self._stop_when_idle:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if not self._pending:
                    self._thread = None
                    self._cond.notify_all()
                    break
                group, self._pending = self._pending, []
                self._cond.notify_all()  # producers waiting on LIMIT
            try:
                self._commit(group)  # errors go to the jobs (KeyboardInterrupt only reaches the main thread)
            finally:
                for job in group:  # never leave a waiter hanging, whatever stopped the commit
                    if not job.done:
                        job.error = job.error or RuntimeError("the home's writer thread stopped before committing")
                        job.done = True
                        job.wake.set()
                with self._cond:
                    self._committed += len(group)
                    self._cond.notify_all()
        self._release()


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
