"""One page of a listing, newest or oldest first, after a cursor row (the Files and Responses APIs' ``after``)."""

from __future__ import annotations

import sqlite3
from typing import Any


def page(
    conn: sqlite3.Connection,
    table: str,
    tiebreak: str,
    *,
    equal: dict[str, Any],
    cursor: sqlite3.Row | None,
    order: str,
    limit: int,
) -> list[sqlite3.Row]:
    """Rows of ``table`` ordered by ``created_at`` then ``tiebreak``, matching ``equal``, after ``cursor``.

    ``table``, ``tiebreak`` and the keys of ``equal`` are the caller's constants, never user values;
    the values are bound as parameters.
    """
    direction = "DESC" if order == "desc" else "ASC"
    clauses = [f"{column} = ?" for column, value in equal.items() if value is not None]
    params: list[Any] = [value for value in equal.values() if value is not None]
    if cursor is not None:
        clauses.append(f"(created_at, {tiebreak}) {'<' if direction == 'DESC' else '>'} (?, ?)")
        params += [cursor["created_at"], cursor[tiebreak]]
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    statement = f"SELECT * FROM {table} {where} ORDER BY created_at {direction}, {tiebreak} {direction} LIMIT ?"
    return conn.execute(statement, (*params, limit)).fetchall()
