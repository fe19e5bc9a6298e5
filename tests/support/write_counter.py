"""Counting a home database's write transactions, for tests of how writes share them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from llamabook.store.database import Database


class WriteCounter:
    """Wraps ``db.write`` so ``begun`` counts the write transactions begun from now on (committed or rolled back).

    Counted under the database's write lock, so ``begun`` read inside a transaction is that transaction's number.
    """

    def __init__(self, db: Database) -> None:
        self.begun = 0
        real_write = db.write

        @contextmanager
        def counted_write() -> Iterator[sqlite3.Connection]:
            with real_write() as conn:
                self.begun += 1
                yield conn

        db.write = counted_write  # type: ignore[method-assign]
