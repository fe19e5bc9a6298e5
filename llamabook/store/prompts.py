"""Prompt versions in SQLite: immutable rows plus a default pointer."""

from __future__ import annotations

import json
import sqlite3
import time

from ..errors import PromptNotFound, VersionConflict, VersionNotFound
from ..templates import check_declared
from ..types import Prompt, new_prompt_id
from .database import Database


def _prompt(row: sqlite3.Row) -> Prompt:
    return Prompt(
        prompt_id=row["prompt_id"],
        prompt=row["template"],
        version=row["version"],
        variables=json.loads(row["variables_json"]),
        is_default=row["version"] == row["default_version"],
    )


_SELECT = """
    SELECT v.prompt_id, v.version, v.template, v.variables_json, p.default_version
    FROM prompt_versions v JOIN prompts p ON p.prompt_id = v.prompt_id
"""


class PromptStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, template: str, variables: list[str]) -> Prompt:
        check_declared(template, variables)
        prompt_id = new_prompt_id()
        now = time.time()
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO prompts (prompt_id, default_version, latest_version, created_at) VALUES (?, 1, 1, ?)",
                (prompt_id, now),
            )
            conn.execute(
                "INSERT INTO prompt_versions (prompt_id, version, template, variables_json, created_at) "
                "VALUES (?, 1, ?, ?, ?)",
                (prompt_id, template, json.dumps(variables), now),
            )
        return Prompt(prompt_id=prompt_id, prompt=template, version=1, variables=variables, is_default=True)

    def update(self, prompt_id: str, template: str, version: int, variables: list[str], set_as_default: bool) -> Prompt:
        check_declared(template, variables)
        with self.db.write() as conn:
            head = self._head(conn, prompt_id)
            latest = head["latest_version"]
            if version != latest:
                raise VersionConflict(prompt_id, version, latest)
            new_version = latest + 1
            conn.execute(
                "INSERT INTO prompt_versions (prompt_id, version, template, variables_json, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (prompt_id, new_version, template, json.dumps(variables), time.time()),
            )
            default = new_version if set_as_default else head["default_version"]
            conn.execute(
                "UPDATE prompts SET latest_version = ?, default_version = ? WHERE prompt_id = ?",
                (new_version, default, prompt_id),
            )
        return Prompt(
            prompt_id=prompt_id,
            prompt=template,
            version=new_version,
            variables=variables,
            is_default=default == new_version,
        )

    def get(self, prompt_id: str, version: int | None = None) -> Prompt:
        conn = self.db.connection()
        if version is None:
            row = conn.execute(_SELECT + " WHERE v.prompt_id = ? AND v.version = p.default_version", (prompt_id,)).fetchone()
        else:
            row = conn.execute(_SELECT + " WHERE v.prompt_id = ? AND v.version = ?", (prompt_id, version)).fetchone()
        if row is None:
            self._head(conn, prompt_id)  # raises PromptNotFound if the prompt itself is missing
            raise VersionNotFound(f"Prompt {prompt_id} has no version {version}; see prompts.versions({prompt_id!r})")
        return _prompt(row)

    def list(self) -> list[Prompt]:
        rows = self.db.connection().execute(
            _SELECT + " WHERE v.version = p.default_version ORDER BY p.created_at DESC, v.prompt_id DESC"
        )
        return [_prompt(r) for r in rows]

    def versions(self, prompt_id: str) -> list[Prompt]:
        with self.db.read() as conn:
            self._head(conn, prompt_id)
            rows = conn.execute(_SELECT + " WHERE v.prompt_id = ? ORDER BY v.version", (prompt_id,)).fetchall()
        return [_prompt(r) for r in rows]

    def set_default(self, prompt_id: str, version: int) -> Prompt:
        with self.db.write() as conn:
            self._head(conn, prompt_id)
            exists = conn.execute(
                "SELECT 1 FROM prompt_versions WHERE prompt_id = ? AND version = ?", (prompt_id, version)
            ).fetchone()
            if not exists:
                raise VersionNotFound(f"Prompt {prompt_id} has no version {version}; see prompts.versions({prompt_id!r})")
            conn.execute("UPDATE prompts SET default_version = ? WHERE prompt_id = ?", (version, prompt_id))
        return self.get(prompt_id, version)

    def delete(self, prompt_id: str) -> None:
        with self.db.write() as conn:
            self._head(conn, prompt_id)
            conn.execute("DELETE FROM prompt_versions WHERE prompt_id = ?", (prompt_id,))
            conn.execute("DELETE FROM prompts WHERE prompt_id = ?", (prompt_id,))

    @staticmethod
    def _head(conn: sqlite3.Connection, prompt_id: str) -> sqlite3.Row:
        row = conn.execute(
            "SELECT default_version, latest_version FROM prompts WHERE prompt_id = ?", (prompt_id,)
        ).fetchone()
        if row is None:
            raise PromptNotFound(f"Prompt {prompt_id!r} not found; see client.prompts.list()")
        return row
