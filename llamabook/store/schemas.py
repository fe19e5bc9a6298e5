"""Default output schemas of prompt versions, one table per backend ("local", or a server's base URL).

Kept in the home database also for a server: the Prompts API has no field for a schema. A version's
schema is set once, when the version is stored (versions are immutable: another schema is another version).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from .database import Database


@dataclass(frozen=True)
class StoredSchema:
    """A prompt version's default output schema: the wire ``format.name`` and the JSON Schema."""

    name: str
    json_schema: dict[str, Any]


class PromptSchemaStore:
    """The default output schemas of one backend's prompt versions."""

    def __init__(self, db: Database, scope: str) -> None:
        self.db = db
        self.scope = scope

    def get(self, prompt_id: str, version: int) -> StoredSchema | None:
        """The schema of this version, or None when it has none."""
        row = self.db.connection().execute(
            "SELECT name, schema_json FROM prompt_schemas WHERE scope = ? AND prompt_id = ? AND version = ?",
            (self.scope, prompt_id, version),
        ).fetchone()
        return StoredSchema(row["name"], json.loads(row["schema_json"])) if row else None

    def set(self, prompt_id: str, version: int, name: str, json_schema: dict[str, Any]) -> None:
        """Give this version its schema (key order kept: it is the order the model writes the fields in)."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO prompt_schemas (scope, prompt_id, version, name, schema_json, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (self.scope, prompt_id, version, name, json.dumps(json_schema), time.time()),
            )

    def of_prompts(self) -> dict[tuple[str, int], StoredSchema]:
        """(prompt id, version) → its schema, for every version that has one."""
        rows = self.db.connection().execute(
            "SELECT prompt_id, version, name, schema_json FROM prompt_schemas WHERE scope = ?", (self.scope,)
        )
        return {(row["prompt_id"], row["version"]): StoredSchema(row["name"], json.loads(row["schema_json"])) for row in rows}

    def forget_prompt(self, prompt_id: str) -> None:
        """Drop the schemas of a deleted prompt."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM prompt_schemas WHERE scope = ? AND prompt_id = ?", (self.scope, prompt_id))
