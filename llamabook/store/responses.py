"""Stored responses: the wire object, its input items and the messages the model saw."""

from __future__ import annotations

import json
import sqlite3

from ..errors import ResponseNotFound
from ..types import DeletedObject, InputItem, Response, ResponseTrace
from .database import Database
from .writer import Unit
from .pages import page


def _response(row: sqlite3.Row) -> Response:
    response = Response.model_validate_json(row["response_json"])
    response.trace = ResponseTrace(
        messages=json.loads(row["messages_json"]),
        latency_s=row["latency_s"],
        prompt_version=row["prompt_version"],
        engine=row["engine"],
        backend="local",
        usage_source=row["usage_source"],
        finish_reason=row["finish_reason"],
    )
    response.replayed = bool(row["replayed"])
    return response


class ResponseStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, response: Response, input_items: list[InputItem], unit: Unit | None = None) -> None:
        """Store a finished response (committed now, or with a grid's ``unit``)."""
        trace = response.trace or ResponseTrace()
        usage = response.usage
        row = (
            response.id,
            response.created_at,
            response.model,
            response.status,
            response.prompt.id if response.prompt else None,
            trace.prompt_version,
            usage.input_tokens if usage else None,
            usage.output_tokens if usage else None,
            trace.latency_s,
            response.model_dump_json(),
            json.dumps([item.model_dump(mode="json") for item in input_items]),
            json.dumps(trace.messages),
            trace.engine,
            trace.usage_source,
            trace.finish_reason,
            int(response.replayed),
        )

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO responses (id, seq, created_at, model, status, prompt_id, prompt_version, input_tokens, "
                "output_tokens, latency_s, response_json, input_items_json, messages_json, engine, usage_source, "
                "finish_reason, replayed) SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
                "FROM responses",
                row,
            )

        self.db.apply(insert, unit)

    def get(self, response_id: str) -> Response:
        return _response(self._row(response_id))

    def list(self, limit: int, order: str, after: str | None, model: str | None) -> list[Response]:
        cursor = self._row(after) if after else None
        rows = page(self.db.connection(), "responses", "seq", equal={"model": model}, cursor=cursor, order=order, limit=limit)
        return [_response(r) for r in rows]

    def input_items(self, response_id: str, limit: int, order: str) -> list[InputItem]:
        items = [InputItem.model_validate(i) for i in json.loads(self._row(response_id)["input_items_json"])]
        if order == "desc":
            items.reverse()
        return items[:limit]

    def delete(self, response_id: str) -> DeletedObject:
        with self.db.write() as conn:
            deleted = conn.execute("DELETE FROM responses WHERE id = ?", (response_id,)).rowcount
        if not deleted:
            raise ResponseNotFound(f"Response {response_id!r} not found; see client.responses.list()")
        return DeletedObject(id=response_id, object="response", deleted=True)

    def _row(self, response_id: str) -> sqlite3.Row:
        row = self.db.connection().execute("SELECT * FROM responses WHERE id = ?", (response_id,)).fetchone()
        if row is None:
            raise ResponseNotFound(f"Response {response_id!r} not found; see client.responses.list()")
        return row
