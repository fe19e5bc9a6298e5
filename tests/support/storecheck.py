"""What a llamabook home holds, as plain data: compare two snapshots to prove nothing changed.

A snapshot is every row of every table (read through a separate SQLite connection, so it is
what a fresh process would see after a crash or a close) and the sha256 of every other file
under the home. SQLite's own ``-wal`` / ``-shm`` files are left out: their bytes change on any
read, their rows are already in the table dump.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

DB_NAME = "llamabook.db"
_SQLITE_SIDE_FILES = (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm", DB_NAME + "-journal")


def tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    return [name for (name,) in rows if not name.startswith("sqlite_")]


def db_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted, read on a fresh connection (empty if there is no database)."""
    if not path.exists():
        return {}
    conn = sqlite3.connect(path)
    try:
        # Each table name comes from sqlite_master, never from a caller.
        return {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in tables(conn)}
    finally:
        conn.close()


def file_hashes(home: Path) -> dict[str, str]:
    """sha256 of every file under ``home`` except the SQLite database and its side files."""
    found = {}
    for path in sorted(home.rglob("*")):
        if path.is_file() and path.name not in _SQLITE_SIDE_FILES:
            found[str(path.relative_to(home))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def snapshot(home: Path) -> dict[str, Any]:
    """Rows and files of a home; equal snapshots mean nothing stored was changed or lost."""
    return {"rows": db_rows(home / DB_NAME), "files": file_hashes(home)}


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Human-readable differences between two snapshots (empty when they are equal)."""
    changes = []
    for table in sorted(set(before["rows"]) | set(after["rows"])):
        old, new = before["rows"].get(table, []), after["rows"].get(table, [])
        if old != new:
            added = len([r for r in new if r not in old])
            removed = len([r for r in old if r not in new])
            changes.append(f"table {table}: {added} row(s) added or changed, {removed} removed")
    for name in sorted(set(before["files"]) | set(after["files"])):
        if before["files"].get(name) != after["files"].get(name):
            state = "added" if name not in before["files"] else "removed" if name not in after["files"] else "changed"
            changes.append(f"file {name}: {state}")
    return changes


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` of a database file: ``"ok"`` when it is sound."""
    conn = sqlite3.connect(path)
    try:
        return "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()
