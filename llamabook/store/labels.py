"""Prompt labels (``production`` → version 2 of a prompt), one table per backend, with every move kept.

Kept in the home database also for a server: the Prompts API has only its one default pointer,
which stays the server's.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..types.prompts import LabelMove
from .database import Database


class LabelStore:
    """The prompt labels of one backend ("local", or a server's base URL)."""

    def __init__(self, db: Database, scope: str) -> None:
        self.db = db
        self.scope = scope

    def version(self, prompt_id: str, label: str) -> int | None:
        """The version ``label`` points at, or None."""
        row = self.db.connection().execute(
            "SELECT version FROM prompt_labels WHERE scope = ? AND prompt_id = ? AND label = ?",
            (self.scope, prompt_id, label),
        ).fetchone()
        return row["version"] if row else None

    def move(
        self, prompt_id: str, label: str, version: int | None, evidence: dict[str, Any] | None = None
    ) -> LabelMove | None:
        """Point ``label`` at ``version`` (None removes it); the move is recorded with its ``evidence`` (a gate's
        figures, JSON-able). None if nothing changed."""
        now = time.time()
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT version FROM prompt_labels WHERE scope = ? AND prompt_id = ? AND label = ?",
                (self.scope, prompt_id, label),
            ).fetchone()
            before = row["version"] if row else None
            if before == version:
                return None
            if version is None:
                conn.execute(
                    "DELETE FROM prompt_labels WHERE scope = ? AND prompt_id = ? AND label = ?",
                    (self.scope, prompt_id, label),
                )
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO prompt_labels (scope, prompt_id, label, version, updated_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (self.scope, prompt_id, label, version, now),
                )
            conn.execute(
                "INSERT INTO prompt_label_moves (scope, prompt_id, label, from_version, to_version, moved_at, evidence_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.scope, prompt_id, label, before, version, now, _json(evidence)),
            )
        return LabelMove(
            prompt_id=prompt_id, label=label, from_version=before, to_version=version, moved_at=now, evidence=evidence
        )

    def of_prompts(self) -> dict[tuple[str, int], list[str]]:
        """(prompt id, version) → its labels, sorted."""
        rows = self.db.connection().execute(
            "SELECT prompt_id, version, label FROM prompt_labels WHERE scope = ? ORDER BY label", (self.scope,)
        )
        found: dict[tuple[str, int], list[str]] = {}
        for row in rows:
            found.setdefault((row["prompt_id"], row["version"]), []).append(row["label"])
        return found

    def history(self, prompt_id: str) -> list[LabelMove]:
        """Every move of this prompt's labels, oldest first."""
        rows = self.db.connection().execute(
            "SELECT prompt_id, label, from_version, to_version, moved_at, evidence_json FROM prompt_label_moves "
            "WHERE scope = ? AND prompt_id = ? ORDER BY seq",
            (self.scope, prompt_id),
        )
        return [_move(dict(row)) for row in rows]

    def forget_prompt(self, prompt_id: str) -> None:
        """Drop the labels of a deleted prompt (its history stays)."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM prompt_labels WHERE scope = ? AND prompt_id = ?", (self.scope, prompt_id))


def _json(evidence: dict[str, Any] | None) -> str | None:
    return None if evidence is None else json.dumps(evidence, sort_keys=True, allow_nan=False)


def _move(row: dict[str, Any]) -> LabelMove:
    text = row.pop("evidence_json")
    return LabelMove(**row, evidence=json.loads(text) if text else None)
