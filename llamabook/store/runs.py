"""The grid's run log: one finished call per row, keyed by a hash of the full request."""

from __future__ import annotations

import json
import time
from typing import Any

from .database import Database


class RunLog:
    """Finished grid calls, so running the same grid again repeats none of them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str) -> dict[str, Any] | None:
        row = self.db.connection().execute("SELECT result_json FROM grid_results WHERE cache_key = ?", (key,)).fetchone()
        return json.loads(row["result_json"]) if row else None

    def put(self, key: str, result: dict[str, Any]) -> None:
        """Log a finished call; many threads logging at once share one commit."""
        row = (key, result.get("response_id"), json.dumps(result), time.time())
        self.db.write_grouped(
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO grid_results (cache_key, response_id, result_json, created_at) VALUES (?, ?, ?, ?)",
                row,
            )
        )
