"""The annotations table (migration 11): one label per call and name, set again overwrites, looked up in chunks."""

from __future__ import annotations

from pathlib import Path

import pytest

from llamabook.store import Store
from llamabook.store.migrations import MIGRATIONS


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    made = Store(tmp_path)
    yield made
    made.close()


def test_migration_11_makes_the_table_and_indexes_the_run_log_by_response(store: Store) -> None:
    conn = store.db.connection()
    assert store.db.schema_version() == len(MIGRATIONS) >= 11
    columns = [row["name"] for row in conn.execute("PRAGMA table_info(annotations)")]
    assert columns == ["call_key", "name", "value_json", "note", "response_id", "created_at", "updated_at"]
    indexes = {row["name"] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"annotations_response", "grid_results_response"} <= indexes
    plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN SELECT cache_key FROM grid_results WHERE response_id = 'r'"))
    assert "grid_results_response" in plan


def test_set_again_overwrites_value_and_note_and_keeps_created_at(store: Store) -> None:
    labels = store.annotations
    first = labels.put("k1", "correct", "true", "looks right", "resp_1")
    again = labels.put("k1", "correct", "false", None, None)
    assert (again.value, again.note, again.response_id) == (False, None, "resp_1")  # the response id is kept
    assert again.created_at == first.created_at and again.updated_at >= first.updated_at
    assert [a.value for a in labels.get("k1")] == [False]
    labels.put("k1", "tone", '"friendly"', None, None)
    assert [(a.name, a.value) for a in labels.get("k1")] == [("correct", False), ("tone", "friendly")]
    assert [a.name for a in labels.get("k1", "tone")] == ["tone"]
    assert labels.get("other") == []


def test_of_keys_and_of_responses_find_labels_across_chunks(store: Store) -> None:
    labels = store.annotations
    for i in range(7):
        labels.put(f"key{i}", "ok", str(i % 2 == 0).lower(), None, f"resp_{i}")
    found = labels.of_keys([f"key{i}" for i in range(0, 7, 2)] + ["missing"], chunk=2)
    assert sorted((a.call_key, a.value) for a in found) == [("key0", True), ("key2", True), ("key4", True), ("key6", True)]
    assert [a.call_key for a in labels.of_responses(["resp_3", "resp_9"], chunk=1)] == ["key3"]
    assert labels.of_keys([]) == [] and len(labels.all()) == 7 and labels.all("other") == []


def test_delete_and_the_call_of_a_logged_response(store: Store) -> None:
    store.runs.put("cachekey", {"response_id": "resp_logged", "status": "completed"})
    assert store.annotations.call_of_response("resp_logged") == "cachekey"
    assert store.annotations.call_of_response("resp_elsewhere") is None
    store.annotations.put("cachekey", "ok", "1", None, "resp_logged")
    assert store.annotations.delete("cachekey", "ok") is True
    assert store.annotations.delete("cachekey", "ok") is False
    assert store.annotations.get("cachekey") == []
