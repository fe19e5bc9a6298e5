"""A grid's writer: each call's rows as one unit of work, committed by one thread, many units to a transaction.

A grid makes :class:`Database.writer` once and hands a :class:`Unit` to each call it makes; the
stores' writes (``RunLog.put``, ``ResponseStore.save``) given that unit join it instead of
committing at once. Its worker then goes on without queueing for a commit, and the writer commits
whatever units have come in meanwhile in one transaction. A unit lands whole or not at all;
one that is never submitted (a call the grid dropped) lands nothing.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

#: One write: SQL run on the transaction's connection.
Work = Callable[[sqlite3.Connection], Any]


class Database(Protocol):
    """What the writer needs of the home database (a :class:`~llamabook.store.Database` is one)."""

    def write(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def release_connection(self) -> None: ...


class Unit:
    """The rows of one unit of work (a grid's call): stored together, or not at all."""

    __slots__ = ("works", "committed", "error")

    def __init__(self) -> None:
        self.works: list[Work] = []
        #: set once the unit is committed, or has failed (then ``error`` says why)
        self.committed = threading.Event()
        self.error: BaseException | None = None

    def add(self, work: Work) -> None:
        """Make ``work`` part of this unit (it runs when the unit is committed)."""
        self.works.append(work)

    def wait(self) -> None:
        """Until this unit is committed (or has failed: then ``error`` says why)."""
        self.committed.wait()

    def _run(self, conn: sqlite3.Connection) -> None:
        for work in self.works:
            work(conn)


class Writer:
    """The thread that commits a grid's units, in the order they came, many to a transaction.

    A context manager: the thread starts on the first unit, and leaving the block waits for every
    unit submitted (:meth:`flush`) and ends it. It commits as soon as it can (whatever came in
    meanwhile shares the transaction): a process killed before that loses those rows, so a grid
    worker waits for its call before last (``Unit.wait``) before it starts another.
    """

    LIMIT = 1000  # queued units before a producer waits for the writer

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cond = threading.Condition(threading.Lock())
        self._pending: list[Unit] = []
        self._queued = self._committed = 0
        self._closing = False
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, unit: Unit) -> None:
        """Queue ``unit`` for the next commit (an empty one is done at once)."""
        if not unit.works:
            unit.committed.set()
            return
        with self._cond:
            while len(self._pending) >= self.LIMIT:
                self._cond.wait()
            self._pending.append(unit)
            self._queued += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="llamabook-db-writer", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def flush(self) -> None:
        """Wait until every unit submitted so far is committed (or has failed)."""
        with self._cond:
            target = self._queued
            while self._committed < target:
                self._cond.wait()

    def close(self) -> None:
        """Commit what is queued, then end the thread (and its connection)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._pending and not self._closing:
                        self._cond.wait()
                    if not self._pending:
                        return
                    group, self._pending = self._pending, []
                    self._cond.notify_all()  # producers waiting on LIMIT
                try:
                    self._commit(group)
                finally:
                    with self._cond:
                        self._committed += len(group)
                        self._cond.notify_all()
        finally:
            self._db.release_connection()

    def _commit(self, group: list[Unit]) -> None:
        """Commit ``group`` in one transaction; if it fails, once more with each unit kept apart, so an error stays with its unit.

        Kept apart under a savepoint each, still in one transaction; only if that transaction fails
        as a whole too (SQLite ended it, or its commit failed) is each unit committed on its own.
        """
        try:
            if len(group) > 1:
                try:
                    with self._db.write() as conn:
                        for unit in group:
                            unit._run(conn)
                    return
                except Exception:
                    pass  # someone's row failed: find whose below
                if self._commit_apart(group):
                    return
            for unit in group:
                try:
                    with self._db.write() as conn:
                        unit._run(conn)
                except Exception as exc:
                    unit.error = exc
        except BaseException as exc:
            for unit in group:
                unit.error = unit.error or exc
            raise
        finally:
            for unit in group:  # never leave a waiter hanging, whatever stopped the commit
                unit.committed.set()

    def _commit_apart(self, group: list[Unit]) -> bool:
        """``group`` in one transaction, each unit under a savepoint: a unit that fails is rolled back alone and keeps its error.

        False if the transaction failed as a whole (then nothing of it landed, and no unit's error is set).
        """
        failed: list[tuple[Unit, Exception]] = []
        try:
            with self._db.write() as conn:
                for unit in group:
                    conn.execute("SAVEPOINT unit")
                    try:
                        unit._run(conn)
                    except Exception as exc:
                        if not conn.in_transaction:
                            raise  # SQLite ended the whole transaction (a full disk, a trigger's RAISE(ROLLBACK))
                        conn.execute("ROLLBACK TO unit")
                        failed.append((unit, exc))
                    conn.execute("RELEASE unit")
        except Exception:
            return False
        for unit, exc in failed:
            unit.error = exc
        return True
