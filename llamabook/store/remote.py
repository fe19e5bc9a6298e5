"""What the home keeps of a server's objects: uploaded file ids by content, and what a server does not store
of a response (the messages, latency, counted usage, the prompt as given, whether it was replayed from a
cassette, and failures it never saw)."""

from __future__ import annotations

import time

from ..types import PromptReference, Response, ResponseTrace, Usage
from .database import Database


class RemoteRecords:
    """The records of one server (by its base URL) in the home database."""

    def __init__(self, db: Database, server: str) -> None:
        self.db = db
        self.server = server

    # ---- files: identical bytes are uploaded once per server and purpose -----------------------
    def file_id(self, sha256: str, purpose: str) -> str | None:
        row = self.db.connection().execute(
            "SELECT file_id FROM remote_files WHERE server = ? AND sha256 = ? AND purpose = ?",
            (self.server, sha256, purpose),
        ).fetchone()
        return row["file_id"] if row else None

    def remember_file(self, sha256: str, purpose: str, file_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO remote_files (server, sha256, purpose, file_id, created_at) VALUES (?, ?, ?, ?, ?)",
                (self.server, sha256, purpose, file_id, time.time()),
            )

    def forget_file(self, file_id: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM remote_files WHERE server = ? AND file_id = ?", (self.server, file_id))

    # ---- responses ---------------------------------------------------------------------------------
    def keep_response(self, response: Response, *, whole: bool = False) -> None:
        """Keep the trace, usage and prompt of ``response``; with ``whole``, the response itself."""
        if response.trace is None:
            return
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO remote_responses "
                "(server, response_id, trace_json, usage_json, prompt_json, response_json, created_at, replayed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.server,
                    response.id,
                    response.trace.model_dump_json(),
                    response.usage.model_dump_json() if response.usage else None,
                    response.prompt.model_dump_json() if response.prompt else None,
                    response.model_dump_json() if whole else None,
                    response.created_at,
                    int(response.replayed),
                ),
            )

    def fill_in(self, response: Response) -> Response:
        """``response`` as read from the server, with what was kept of it here."""
        row = self.db.connection().execute(
            "SELECT trace_json, usage_json, prompt_json, replayed FROM remote_responses WHERE server = ? AND response_id = ?",
            (self.server, response.id),
        ).fetchone()
        if row is not None:
            response.trace = ResponseTrace.model_validate_json(row["trace_json"])
            response.replayed = bool(row["replayed"])
            if response.usage is None and row["usage_json"]:
                response.usage = Usage.model_validate_json(row["usage_json"])
            if row["prompt_json"]:
                response.prompt = PromptReference.model_validate_json(row["prompt_json"])
        return response

    def kept_failure(self, response_id: str) -> Response | None:
        """A response kept whole here (one that failed inside its stream), or None."""
        row = self.db.connection().execute(
            "SELECT response_json, trace_json, replayed FROM remote_responses WHERE server = ? AND response_id = ? "
            "AND response_json IS NOT NULL",
            (self.server, response_id),
        ).fetchone()
        if row is None:
            return None
        response = Response.model_validate_json(row["response_json"])
        response.trace = ResponseTrace.model_validate_json(row["trace_json"])
        response.replayed = bool(row["replayed"])
        return response

    def kept_failures(self, model: str | None) -> list[Response]:
        rows = self.db.connection().execute(
            "SELECT response_id FROM remote_responses WHERE server = ? AND response_json IS NOT NULL", (self.server,)
        ).fetchall()
        kept = [self.kept_failure(row["response_id"]) for row in rows]
        return [r for r in kept if r is not None and (model is None or r.model == model)]

    def forget_response(self, response_id: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM remote_responses WHERE server = ? AND response_id = ?", (self.server, response_id))
