"""The grid's lean path: each prompt version read once, and each call's rows handed to a writer thread.

``Database.deferred`` holds a thread's grouped writes and queues them, all or nothing, for one writer
thread; ``flush`` waits for them. A grid runs every call that way, so its workers never queue for a
commit, and still keeps the store's rules: a call whose rows can't be stored fails (and is not in
the run log), and nothing is left running after the grid returns. Runs on the scripted engine and
real SQLite files.
"""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from pydantic import BaseModel

import llamabook as lb
from llamabook.store.database import Database
from scripted_engine import ScriptedEngine

TEMPLATE = "Grade this answer: {{answer}}"


class Verdict(BaseModel):
    a: int


def writer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "llamabook-db-writer"]


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "deferred.db")
    with database.write() as conn:
        conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, block INTEGER NOT NULL)")
    yield database
    database.close()


def test_deferred_blocks_land_whole_or_not_at_all_and_keep_their_errors(db: Database) -> None:
    handles = {}
    with db.write() as conn:  # a row that is there before any block runs
        conn.execute("INSERT INTO t (n, block) VALUES (-1, -1)")

    def block(b: int) -> None:
        with db.deferred() as writes:
            for n in range(3):  # three rows per block; block 7's third row collides with the row above
                row = (b * 3 + n if not (b == 7 and n == 2) else -1, b)
                returned = db.write_grouped(lambda c, row=row: c.execute("INSERT INTO t (n, block) VALUES (?, ?)", row))
                assert returned is None  # held, not committed yet
            with db.deferred() as inner:  # a nested block joins the outer one
                assert inner is writes
        handles[b] = writes

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(block, range(200)))
    db.flush()
    assert all(h.done for h in handles.values())
    assert [b for b, h in handles.items() if h.error is not None] == [7]
    assert isinstance(handles[7].error, sqlite3.IntegrityError)
    blocks = dict(db.connection().execute("SELECT block, COUNT(*) FROM t GROUP BY block").fetchall())
    assert blocks == {-1: 1, **{b: 3 for b in range(200) if b != 7}}  # block 7 left none of its rows
    assert writer_threads() == []  # flush ends the writer: a fork after a grid copies no extra thread


def test_writes_outside_a_deferred_block_still_commit_before_they_return(db: Database) -> None:
    db.write_grouped(lambda c: c.execute("INSERT INTO t (n, block) VALUES (1, 1)"))
    other = sqlite3.connect(db.path)
    try:
        assert other.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 1
    finally:
        other.close()
    with db.deferred():
        db.write_grouped(lambda c: c.execute("INSERT INTO t (n, block) VALUES (2, 2)"))
    db.close()  # close waits for deferred rows too
    other = sqlite3.connect(db.path)
    try:
        assert other.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 2
    finally:
        other.close()


def test_a_grid_over_a_version_with_a_default_schema_sends_and_parses_it_on_every_call(tmp_path: Path) -> None:
    engine = ScriptedEngine(answer=lambda messages: '{"a": 1}' if "good" in str(messages) else '{"a": "one"}')
    with lb.Client(tmp_path / "home", engine=engine) as client:
        client.prompts.save("grader", TEMPLATE, schema=Verdict)
        rows = [{"answer": "good"}, {"answer": "bad"}, {"answer": "good too"}]
        grid = client.grid("grader", rows, concurrency=3, progress=False)
        assert [c.options.json_schema for c in engine.calls] == [Verdict.model_json_schema()] * 3
        assert grid["status"].tolist() == ["completed", "failed", "completed"]
        assert grid.loc[1, "error"].startswith("OutputInvalid") and "$.a" in grid.loc[1, "error"]
        stored = client.responses.retrieve(grid.loc[0, "response_id"])
        assert stored.text["format"]["name"] == "Verdict" and stored.prompt.version == "1"


def test_a_grid_runs_the_version_it_read_at_its_start(tmp_path: Path) -> None:
    """Each version is read once for all its calls: deleting the prompt mid-grid doesn't fail later rows."""
    deleted = threading.Event()

    def answer(messages: list[dict[str, object]]) -> str:
        if not deleted.is_set():
            client.prompts.delete(prompt.prompt_id)
            deleted.set()
        return "ok"

    engine = ScriptedEngine(answer=answer)
    with lb.Client(tmp_path / "home", engine=engine) as client:
        prompt = client.prompts.save("grader", TEMPLATE)
        grid = client.grid(prompt, [{"answer": str(i)} for i in range(4)], concurrency=1, progress=False)
        assert deleted.is_set() and grid["status"].tolist() == ["completed"] * 4
        assert [c.system for c in engine.calls] == [[f"Grade this answer: {i}"] for i in range(4)]
        with pytest.raises(lb.PromptNotFound):
            client.responses.create(prompt=prompt.prompt_id, variables={"answer": "0"})


def test_a_call_whose_rows_cannot_be_stored_fails_is_not_logged_and_runs_again(tmp_path: Path) -> None:
    engine = ScriptedEngine()
    home = tmp_path / "home"
    with lb.Client(home, engine=engine) as client:
        client.prompts.save("grader", TEMPLATE)
        conn = client.backend.store.db.connection()
        conn.execute(  # a real SQLite failure for one call's response row (as a full disk would give)
            "CREATE TRIGGER refuse BEFORE INSERT ON responses WHEN NEW.response_json LIKE '%answer: 3%' "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
        )
        rows = [{"answer": str(i)} for i in range(6)]
        grid = client.grid("grader", rows, concurrency=4, progress=False)
        assert grid["status"].tolist() == ["completed"] * 3 + ["failed"] + ["completed"] * 2
        assert "refused by the test trigger" in grid.loc[3, "error"] and pd.isna(grid.loc[3, "response_id"])
        logged = {r for (r,) in conn.execute("SELECT response_id FROM grid_results")}
        stored = {r for (r,) in conn.execute("SELECT id FROM responses")}
        assert logged == set(grid["response_id"].dropna()) and logged <= stored  # every logged call is stored
        assert writer_threads() == []
        conn.execute("DROP TRIGGER refuse")
        again = client.grid("grader", rows, concurrency=4, progress=False)
        assert again["cached"].tolist() == [True] * 3 + [False] + [True] * 2  # only the failed call again
        assert again["status"].eq("completed").all() and len(engine.calls) == 7
