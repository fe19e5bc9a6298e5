"""Prompt names: ``tutor`` → ``pmpt_…``, one table per backend ("local", or a server's base URL).

Names are kept in the home database also for a server: the Prompts API has no names.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from .database import Database

log = logging.getLogger("llamabook")

#: The file earlier versions kept names in (``{scope: {name: prompt_id}}``); imported once, then renamed.
ALIASES_FILE = "aliases.json"


class NameStore:
    """The prompt names of one backend."""

    def __init__(self, db: Database, scope: str) -> None:
        self.db = db
        self.scope = scope

    def get(self, name: str) -> str | None:
        """The prompt id named ``name``, or None."""
        row = self.db.connection().execute(
            "SELECT prompt_id FROM prompt_names WHERE scope = ? AND name = ?", (self.scope, name)
        ).fetchone()
        return row["prompt_id"] if row else None

    def set(self, name: str, prompt_id: str) -> None:
        """Point ``name`` at ``prompt_id`` (a name names one prompt; a prompt may have several names)."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO prompt_names (scope, name, prompt_id, created_at) VALUES (?, ?, ?, ?)",
                (self.scope, name, prompt_id, time.time()),
            )

    def all(self) -> dict[str, str]:
        """name → prompt id."""
        rows = self.db.connection().execute(
            "SELECT name, prompt_id FROM prompt_names WHERE scope = ? ORDER BY name", (self.scope,)
        )
        return {row["name"]: row["prompt_id"] for row in rows}

    def by_prompt(self) -> dict[str, list[str]]:
        """prompt id → its names, sorted."""
        found: dict[str, list[str]] = {}
        for name, prompt_id in self.all().items():
            found.setdefault(prompt_id, []).append(name)
        return found

    def forget_prompt(self, prompt_id: str) -> None:
        """Drop the names of a deleted prompt."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM prompt_names WHERE scope = ? AND prompt_id = ?", (self.scope, prompt_id))


def import_aliases_file(home: Path, db: Database) -> None:
    """Move the names of an ``aliases.json`` into the database, once (the file is renamed after).

    Names already in the database win. A file that can't be read is left where it is, with a warning.
    """
    path = home / ALIASES_FILE
    if not path.is_file():
        return
    try:
        data = json.loads(path.read_text())
        tables = {
            str(scope): {str(name): str(pid) for name, pid in table.items()}
            for scope, table in data.items()
            if isinstance(table, dict)
        }
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("llamabook: cannot read the prompt names in %s (%s); fix or delete the file to import them", path, exc)
        return
    now = time.time()
    with db.write() as conn:
        for scope, table in tables.items():
            for name, prompt_id in table.items():
                conn.execute(
                    "INSERT OR IGNORE INTO prompt_names (scope, name, prompt_id, created_at) VALUES (?, ?, ?, ?)",
                    (scope, name, prompt_id, now),
                )
    path.replace(path.with_name(ALIASES_FILE + ".imported"))
