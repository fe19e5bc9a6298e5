"""The grid's run log: one finished call per row, keyed by a hash of the full request."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

from .database import Database
from .writer import Unit

#: Keys per ``IN (...)`` query of :meth:`RunLog.get_many`: well below SQLite's variable limit (999 before 3.32).
CHUNK = 500


class RunLog:
    """Finished grid calls, so running the same grid again repeats none of them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str) -> dict[str, Any] | None:
        row = self.db.connection().execute("SELECT result_json FROM grid_results WHERE cache_key = ?", (key,)).fetchone()
        return json.loads(row["result_json"]) if row else None

    def get_many(self, keys: Iterable[str], chunk: int = CHUNK) -> dict[str, dict[str, Any]]:
        """The logged results of ``keys`` as ``{key: result}``; keys not logged are left out.

        Indexed ``IN (...)`` queries of ``chunk`` keys each (never one query per key), in one read
        snapshot: 100,000 keys take 400 queries. Each result is a new dict; a key given twice is
        looked up once and maps to one dict.
        """
        if chunk < 1:
            raise ValueError(f"chunk must be at least 1, not {chunk}")
        wanted = sorted(set(keys))  # sorted: each query reads neighbouring pages of the key index
        found: dict[str, dict[str, Any]] = {}
        if not wanted:
            return found
        with self.db.read() as conn:
            # First the rowids (from the key index alone), then the rows in rowid order: the table's
            # pages are read front to back instead of at random.
            rowids: list[int] = []
            for part in _chunks(wanted, chunk):
                marks = ",".join("?" * len(part))
                rowids += [row[0] for row in conn.execute(f"SELECT rowid FROM grid_results WHERE cache_key IN ({marks})", part)]
            rowids.sort()
            for part in _chunks(rowids, chunk):
                marks = ",".join("?" * len(part))
                rows = conn.execute(f"SELECT cache_key, result_json FROM grid_results WHERE rowid IN ({marks})", part).fetchall()
                # One parse per chunk (each text is a JSON object put() wrote) rather than one per row:
                # faster, and the chunk's results share their key strings.
                results = json.loads("[" + ",".join(row[1] for row in rows) + "]")
                found.update(zip((row[0] for row in rows), results))
        return found

    def put(self, key: str, result: dict[str, Any], unit: Unit | None = None) -> None:
        """Log a finished call (committed now, or with a grid's ``unit``)."""
        row = (key, result.get("response_id"), json.dumps(result), time.time())
        self.db.apply(
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO grid_results (cache_key, response_id, result_json, created_at) VALUES (?, ?, ?, ?)",
                row,
            ),
            unit,
        )

    def put_many(self, results: dict[str, dict[str, Any]]) -> None:
        """Log many finished calls (a batch's answers) in one transaction."""
        now = time.time()
        rows = [(key, result.get("response_id"), json.dumps(result), now) for key, result in results.items()]
        with self.db.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO grid_results (cache_key, response_id, result_json, created_at) VALUES (?, ?, ?, ?)",
                rows,
            )


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
