"""Human labels (``client.annotations``): one value per call and label name, with a note.

A call is its run-log key (``grid_results.cache_key``, a grid row's ``call_key``), so a label outlives
re-runs and replays of the same grid; a response no grid logged is keyed by its response id. Setting a
label again overwrites it (value, note and ``updated_at``; ``created_at`` stays): one value per name,
no history. Not per backend, as the run log isn't: the same key is the same logged call everywhere.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .database import Database
from .runs import CHUNK, _chunks

_SELECT = "SELECT call_key, name, value_json, note, response_id, created_at, updated_at FROM annotations "
#: The statements of :meth:`AnnotationStore._where`, by the column matched (a constant: no value is formatted in)
_IN = {column: _SELECT + f"WHERE {column} IN " for column in ("call_key", "response_id")}


@dataclass(frozen=True)
class Annotation:
    """One label: ``value`` (any JSON value) named ``name`` on the call ``call_key``, with its ``note``."""

    call_key: str
    name: str
    value: Any
    note: str | None
    response_id: str | None
    created_at: float
    updated_at: float


class AnnotationStore:
    """The human labels kept in one home database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, call_key: str, name: str, value_json: str, note: str | None, response_id: str | None) -> Annotation:
        """Set ``name`` on ``call_key`` (overwriting its value and note); ``value_json`` is checked JSON text."""
        now = time.time()
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO annotations (call_key, name, value_json, note, response_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (call_key, name) DO UPDATE SET value_json = excluded.value_json, note = excluded.note, "
                "response_id = COALESCE(excluded.response_id, annotations.response_id), "
                "updated_at = excluded.updated_at",
                (call_key, name, value_json, note, response_id, now, now),
            )
            row = conn.execute(_SELECT + "WHERE call_key = ? AND name = ?", (call_key, name)).fetchone()
        return _annotation(row)

    def get(self, call_key: str, name: str | None = None) -> list[Annotation]:
        """The labels of ``call_key`` (only ``name``'s when given), by name."""
        conn = self.db.connection()
        if name is None:
            rows = conn.execute(_SELECT + "WHERE call_key = ? ORDER BY name", (call_key,))
        else:
            rows = conn.execute(_SELECT + "WHERE call_key = ? AND name = ?", (call_key, name))
        return [_annotation(row) for row in rows]

    def of_keys(self, keys: Iterable[str], chunk: int = CHUNK) -> list[Annotation]:
        """Every label of any of ``keys`` (indexed ``IN (...)`` queries of ``chunk`` keys, one read snapshot)."""
        return self._where("call_key", keys, chunk)

    def _where(self, column: str, values: Iterable[str], chunk: int) -> list[Annotation]:
        wanted = sorted(set(values))
        found: list[Annotation] = []
        if not wanted:
            return found
        with self.db.read() as conn:
            for part in _chunks(wanted, chunk):
                marks = ",".join("?" * len(part))
                statement = _IN[column]
                rows = conn.execute(statement + f"({marks})", part)
                found += [_annotation(row) for row in rows]
        return found

    def of_responses(self, response_ids: Iterable[str], chunk: int = CHUNK) -> list[Annotation]:
        """Every label kept with any of ``response_ids`` (indexed, as :meth:`of_keys`)."""
        return self._where("response_id", response_ids, chunk)

    def all(self, name: str | None = None) -> list[Annotation]:
        """Every label (only those named ``name`` when given), oldest first."""
        conn = self.db.connection()
        if name is None:
            rows = conn.execute(_SELECT + "ORDER BY created_at, call_key")
        else:
            rows = conn.execute(_SELECT + "WHERE name = ? ORDER BY created_at, call_key", (name,))
        return [_annotation(row) for row in rows]

    def delete(self, call_key: str, name: str) -> bool:
        """Drop one label; False when there was none."""
        with self.db.write() as conn:
            gone = conn.execute("DELETE FROM annotations WHERE call_key = ? AND name = ?", (call_key, name))
            return gone.rowcount > 0

    def call_of_response(self, response_id: str) -> str | None:
        """The run-log key of the grid call that made ``response_id`` (indexed), or None when no grid logged it."""
        row = self.db.connection().execute(
            "SELECT cache_key FROM grid_results WHERE response_id = ? ORDER BY created_at DESC LIMIT 1", (response_id,)
        ).fetchone()
        return row["cache_key"] if row else None


def _annotation(row: Any) -> Annotation:
    return Annotation(
        call_key=row["call_key"],
        name=row["name"],
        value=json.loads(row["value_json"]),
        note=row["note"],
        response_id=row["response_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


__all__ = ["Annotation", "AnnotationStore"]
