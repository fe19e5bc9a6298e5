"""Grid batches: which batch (or JSONL file) holds the requests of a grid's plan, so a re-run resumes it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .database import Database


@dataclass(frozen=True)
class GridBatch:
    """One plan of a grid's requests, sent as a server batch (``batch_id``) or written to ``path``."""

    plan_key: str
    scope: str
    executor: str
    batch_id: str | None
    input_file_id: str | None
    path: str | None
    requests: int
    status: str
    created_at: float
    merged_at: float | None

    @property
    def merged(self) -> bool:
        """True once its results are in the run log (or it ended with none to keep)."""
        return self.merged_at is not None


class GridBatchStore:
    """The plans of grids run on a server's Batches API or written as JSONL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, plan_key: str) -> GridBatch | None:
        row = self.db.connection().execute("SELECT * FROM grid_batches WHERE plan_key = ?", (plan_key,)).fetchone()
        return GridBatch(**dict(row)) if row else None

    def start(
        self, plan_key: str, scope: str, executor: str, requests: int, *, batch_id: str | None = None,
        input_file_id: str | None = None, path: str | None = None, status: str = "validating",
    ) -> GridBatch:  # fmt: skip
        """Record a new plan (replacing a finished one of the same requests)."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO grid_batches (plan_key, scope, executor, batch_id, input_file_id, path, requests, "
                "status, created_at, merged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (plan_key, scope, executor, batch_id, input_file_id, path, requests, status, time.time()),
            )
        found = self.get(plan_key)
        assert found is not None
        return found

    def set_status(self, plan_key: str, status: str, *, merged: bool = False) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE grid_batches SET status = ?, merged_at = CASE WHEN ? THEN ? ELSE merged_at END WHERE plan_key = ?",
                (status, merged, time.time(), plan_key),
            )

    def list(self, scope: str | None = None) -> list[GridBatch]:
        """Every plan (of one backend when ``scope`` is given), newest first."""
        conn = self.db.connection()
        if scope is None:
            rows = conn.execute("SELECT * FROM grid_batches ORDER BY created_at DESC").fetchall()
        else:
            rows = conn.execute("SELECT * FROM grid_batches WHERE scope = ? ORDER BY created_at DESC", (scope,)).fetchall()
        return [GridBatch(**dict(row)) for row in rows]

    def forget(self, batch_id: str) -> int:
        """Drop the plans that follow ``batch_id`` (the next run of their grid submits afresh); how many there were."""
        with self.db.write() as conn:
            return conn.execute("DELETE FROM grid_batches WHERE batch_id = ?", (batch_id,)).rowcount
