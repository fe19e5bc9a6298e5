"""Stored responses keep what is llamabook's own: the trace, and whether the answer was replayed from a cassette."""

from __future__ import annotations

from pathlib import Path

import pytest

from llamabook.store import Store, database
from llamabook.store.migrations import MIGRATIONS
from llamabook.types import OutputMessage, OutputText, Response, ResponseTrace, Usage


def answer(response_id: str, replayed: bool) -> Response:
    return Response(
        id=response_id, created_at=1_700_000_000, status="completed", model="m", replayed=replayed,
        output=[OutputMessage(id="msg_1", content=[OutputText(text="Dublin.")])],
        usage=Usage(input_tokens=3, output_tokens=2, total_tokens=5), trace=ResponseTrace(latency_s=0.25),
    )  # fmt: skip


def test_a_stored_response_keeps_replayed_here_and_for_a_server(tmp_path: Path) -> None:
    store = Store(tmp_path)
    try:
        for response_id, replayed in (("resp_live", False), ("resp_replayed", True)):
            store.responses.save(answer(response_id, replayed), [])
            back = store.responses.get(response_id)
            assert back.replayed is replayed and back.latency_s == (None if replayed else 0.25)
        remote = store.remote("http://server.test")
        for response_id, replayed in (("resp_a", False), ("resp_b", True)):
            remote.keep_response(answer(response_id, replayed), whole=True)
            filled = remote.fill_in(answer(response_id, False).model_copy(update={"trace": None}))
            kept = remote.kept_failure(response_id)
            assert filled.replayed is replayed and kept is not None and kept.replayed is replayed
    finally:
        store.close()


def test_a_home_from_before_replayed_opens_with_its_responses_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "MIGRATIONS", MIGRATIONS[:9])  # the schema before migration 10
    old = database.Database(tmp_path / "llamabook.db")
    old.connection().execute(
        "INSERT INTO responses (id, seq, created_at, model, status, latency_s, response_json, input_items_json, "
        "messages_json) VALUES (?, 1, ?, 'm', 'completed', 0.5, ?, '[]', '[]')",
        ("resp_old", 1_700_000_000, answer("resp_old", False).model_dump_json()),
    )
    old.close()
    monkeypatch.setattr(database, "MIGRATIONS", MIGRATIONS)
    store = Store(tmp_path)
    try:
        assert store.db.schema_version() == len(MIGRATIONS) >= 10  # later migrations apply too
        kept = store.responses.get("resp_old")
        assert kept.replayed is False and kept.latency_s == 0.5
    finally:
        store.close()
