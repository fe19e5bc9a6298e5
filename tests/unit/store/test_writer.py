"""The grid's lean path: each prompt version read once, and each call's rows handed to a writer thread.

A grid makes one :class:`~llamabook.store.writer.Writer` (``Database.writer()``) and gives each call a
:class:`~llamabook.store.writer.Unit`; the stores' writes given that unit (``Database.apply(work, unit)``)
join it instead of committing at once. The writer's one thread commits whatever units have come in,
many to a transaction, each unit whole or not at all, and an error stays with its unit; a unit never
submitted (a call the grid dropped) lands nothing; leaving the writer's block commits what was
submitted and ends its thread. Writes given no unit still commit before they return. A grid runs
every call that way, so its workers never queue for a commit, and still keeps the store's rules: a
call whose rows can't be stored fails (and is not in the run log), and nothing is left running after
the grid returns. Runs on the scripted engine and real SQLite files.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import pandas as pd
import pytest
from pydantic import BaseModel

import llamabook as lb
from llamabook.store.database import Database
from llamabook.store.writer import Unit, Writer
from support.scripted_engine import ScriptedEngine
from support.write_counter import WriteCounter

TEMPLATE = "Grade this answer: {{answer}}"


class Verdict(BaseModel):
    a: int


def writer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "llamabook-db-writer"]


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "units.db")
    with database.write() as conn:
        conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, block INTEGER NOT NULL)")
    yield database
    database.close()


def count_rows(path: Path) -> int:
    """Rows in ``t`` as another connection (another process, say) sees them."""
    other = sqlite3.connect(path)
    try:
        return other.execute("SELECT COUNT(*) FROM t").fetchone()[0]
    finally:
        other.close()


FAILING = {7, 27, 47, 67, 87, 107, 127, 147, 167, 187}  # each of these units' third row collides
DROPPED = {b for b in range(200) if b % 10 == 3}  # units made but never submitted (calls a grid dropped)


def test_units_land_whole_or_not_at_all_and_keep_their_errors(db: Database) -> None:
    with db.write() as conn:  # a row that is there before any unit runs
        conn.execute("INSERT INTO t (n, block) VALUES (-1, -1)")
    # Which transaction each unit's rows ran in: the writer's transactions, numbered as they begin.
    transactions: dict[int, set[int]] = {}
    current = WriteCounter(db)
    units: dict[int, Unit] = {}

    def block(writer: Writer, b: int) -> None:
        unit = Unit()
        for n in range(3):  # three rows per unit
            row = (b * 3 + n if not (b in FAILING and n == 2) else -1, b)

            def insert(c: sqlite3.Connection, row: tuple[int, int] = row) -> None:
                transactions.setdefault(row[1], set()).add(current.begun)
                c.execute("INSERT INTO t (n, block) VALUES (?, ?)", row)

            assert db.apply(insert, unit) is None
        assert len(unit.works) == 3
        # held in the unit, not written: nothing of this block is in the table yet
        assert db.connection().execute("SELECT COUNT(*) FROM t WHERE block = ?", (b,)).fetchone()[0] == 0
        units[b] = unit
        if b not in DROPPED:
            writer.submit(unit)

    with db.writer() as writer, ThreadPoolExecutor(16) as pool:
        with db.write():  # the writer waits behind this: the units pile up and share its transactions
            done, stuck = wait([pool.submit(block, writer, b) for b in range(200)], timeout=30)
        assert not stuck  # (a write given a unit but committed at once would be stuck behind us)
        for future in done:
            future.result()
        empty = Unit()
        writer.submit(empty)
        assert empty.committed.is_set() and empty.error is None  # an empty unit is done at once
    assert writer_threads() == []  # leaving the block ends the writer: a fork after a grid copies no extra thread

    submitted = {b: u for b, u in units.items() if b not in DROPPED}
    assert all(u.committed.is_set() for u in submitted.values())  # leaving the block waited for every unit
    assert not any(units[b].committed.is_set() for b in DROPPED)
    assert {b for b, u in units.items() if u.error is not None} == FAILING  # each error stays with its unit
    assert all(isinstance(units[b].error, sqlite3.IntegrityError) for b in FAILING)
    landed = set(submitted) - FAILING
    # a failing unit's rows ran in a transaction with rows of units that landed: kept apart from it, they still landed
    assert any(transactions[b] & set().union(*(transactions[o] for o in landed)) for b in FAILING)
    other = sqlite3.connect(db.path)
    try:
        blocks = dict(other.execute("SELECT block, COUNT(*) FROM t GROUP BY block").fetchall())
    finally:
        other.close()
    # every landed unit whole; a failing unit left none of its rows, a dropped one none either
    assert blocks == {-1: 1, **{b: 3 for b in landed}}
    assert not DROPPED & set(transactions)  # a unit never submitted never ran


def test_writes_without_a_unit_commit_before_apply_returns_and_leaving_the_writer_commits_the_rest(db: Database) -> None:
    db.apply(lambda c: c.execute("INSERT INTO t (n, block) VALUES (1, 1)"))
    assert count_rows(db.path) == 1  # committed: another connection sees it as soon as apply returns

    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # another writer of the same file, in the way of the grid's writer for a while
        with db.write():
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        with db.writer() as writer:
            unit = Unit()
            db.apply(lambda c: c.execute("INSERT INTO t (n, block) VALUES (2, 2)"), unit)
            db.apply(lambda c: c.execute("INSERT INTO t (n, block) VALUES (3, 2)"), unit)
            assert count_rows(db.path) == 1  # held in the unit, not written
            writer.submit(unit)
            assert writer_threads() == ["llamabook-db-writer"]
            time.sleep(0.2)
            assert not unit.committed.is_set() and count_rows(db.path) == 1  # the writer waits for the holder
            threading.Timer(0.3, release.set).start()  # the holder lets go while the block is being left
        # leaving the block waited for the unit to be committed, and ended the writer's thread
        assert unit.committed.is_set() and unit.error is None
        assert count_rows(db.path) == 3
        assert writer_threads() == []
    finally:
        release.set()
        holder.join()


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
