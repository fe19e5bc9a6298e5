"""Server faults on cue: 429 (with and without Retry-After), 500/503, connections dropped before
an answer, mid-body and mid-stream, stalled streams and hangs past the timeout.

The only stand-in is the fault server (tests/support/faultserver.py), a real HTTP server on loopback
that a real server cannot be made to misbehave like. Every test asserts the outcome: retried
within bounds, then a clear typed error (single calls), a ``response.failed`` event (streams)
or a failed row (grids), with the rest finished and the store and run log consistent.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import llamabook as lb
from support.faultserver import MODEL, FaultServer
from support.storecheck import diff, snapshot

TIMEOUT_S = 0.6  # the engine's timeout in these tests: a hang or stall of 2 s is past it


@pytest.fixture
def server() -> Iterator[FaultServer]:
    running = FaultServer(latency_s=0.01).start()
    yield running
    running.stop()


def engine(server: FaultServer, *, retries: int, listed: bool = False) -> lb.OpenAICompatibleEngine:
    """The engine under test; ``listed``: it reads the model list from the server (GET /models)."""
    models = None if listed else [MODEL]
    return lb.OpenAICompatibleEngine(server.url, models=models, max_retries=retries, timeout=TIMEOUT_S)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def stored_responses(home: Path) -> list[tuple[str, str, str]]:
    """(id, status, output text) of every stored response."""
    with sqlite3.connect(home / "llamabook.db") as conn:
        rows = conn.execute("SELECT id, status, response_json FROM responses ORDER BY seq").fetchall()
    conn.close()
    return [(rid, status, lb.Response.model_validate_json(raw).output_text) for rid, status, raw in rows]


def count_faults(record_property: pytest.RecordProperty, server: FaultServer) -> None:
    """Report the faults this test injected (bench/reliability.py adds them up)."""
    record_property("faults_injected", server.faults)


# ---- single calls: retried by the HTTP client, then a typed error; nothing half-stored ----------


@pytest.mark.parametrize(
    ("steps", "calls", "least_wait_s"),
    [
        ([("status", 429, 1)], 2, 0.95),  # Retry-After: 1 s is honoured
        ([("status", 429)], 2, 0.3),  # no Retry-After: exponential backoff (0.5 s x jitter 0.75-1)
        ([("status", 500), ("status", 503)], 3, 0.3 + 0.7),
        ([("reset",)], 2, 0.3),  # connection closed before any answer
        ([("hang", 2)], 2, TIMEOUT_S),  # no answer within the timeout
    ],
    ids=["429-retry-after", "429-backoff", "500-then-503", "reset", "hang-past-timeout"],
)
def test_a_single_call_is_retried_within_bounds_then_answers(
    home: Path, server: FaultServer, steps: list[tuple], calls: int, least_wait_s: float,
    record_property: pytest.RecordProperty,
) -> None:  # fmt: skip
    server.plan = {"ping": list(steps)}
    with lb.Client(home, engine=engine(server, retries=2)) as client:
        response = client.responses.create(input="ping")
    times = server.calls["ping"]
    assert response.status == "completed" and response.output_text == "echo: ping"
    assert len(times) == calls  # each fault cost exactly one more attempt
    assert times[-1] - times[0] >= least_wait_s
    assert [status for _, status, _ in stored_responses(home)] == ["completed"]
    count_faults(record_property, server)


@pytest.mark.parametrize(
    ("step", "error", "fragment", "stream"),
    [
        (("status", 429), lb.EngineError, "answered 429", False),
        (("status", 500), lb.EngineError, "answered 500", False),
        (("status", 503, 0), lb.EngineError, "answered 503", True),
        (("reset",), lb.EngineUnavailable, "Could not reach", False),
        (("reset",), lb.EngineUnavailable, "Could not reach", True),
        (("hang", 2), lb.EngineUnavailable, "timed out", True),
    ],
    ids=["429", "500", "503-stream", "reset", "reset-stream", "hang-stream"],
)
def test_a_fault_that_persists_is_a_typed_error_and_stores_nothing(
    home: Path, server: FaultServer, step: tuple, error: type[Exception], fragment: str, stream: bool,
    record_property: pytest.RecordProperty,
) -> None:  # fmt: skip
    server.plan = {"ping": [step] * 5}
    with lb.Client(home, engine=engine(server, retries=1)) as client:
        before = snapshot(home)
        with pytest.raises(error, match=fragment) as caught:
            client.responses.create(input="ping", stream=stream)
        assert diff(before, snapshot(home)) == []  # refused before anything was stored
    assert len(server.calls["ping"]) == 2  # max_retries=1: one try and one retry, no more
    if step[0] == "status":
        assert caught.value.status_code == step[1] and caught.value.retryable
    assert server.url in str(caught.value)
    count_faults(record_property, server)


def test_the_model_list_dropped_mid_body_is_retried_then_reported(
    home: Path, server: FaultServer, record_property: pytest.RecordProperty
) -> None:
    server.plan = {"GET /models": [("drop_body",)]}
    with lb.Client(home, engine=engine(server, retries=1, listed=True)) as client:
        assert [m.id for m in client.models.list()] == [MODEL]  # the retry got the whole body
    server.plan = {"GET /models": [("drop_body",)] * 2}
    with lb.Client(home, engine=engine(server, retries=1, listed=True)) as client:
        with pytest.raises(lb.EngineUnavailable, match="mid-answer"):
            client.models.list()
        assert client.responses.list() == []
    assert len(server.calls["GET /models"]) == 4
    count_faults(record_property, server)


# ---- mid-stream: the answer had started, so it is not retried under the caller's feet ----------


@pytest.mark.parametrize(
    ("step", "fragment"),
    [(("drop_stream",), "dropped the connection mid-answer"), (("stall_stream", 2), "timed out")],
    ids=["dropped", "stalled"],
)
def test_a_stream_broken_mid_answer_ends_failed_with_its_partial_text_stored(
    home: Path, server: FaultServer, step: tuple, fragment: str, record_property: pytest.RecordProperty
) -> None:
    server.plan = {"ping": [step, step]}
    with lb.Client(home, engine=engine(server, retries=2)) as client:
        stream = client.responses.create(input="ping", stream=True)
        events = list(stream)
        assert [e.type for e in events][-1] == "response.failed"
        assert stream.text == "echo: ping"  # the first event arrived before the break
        failed = stream.response
        assert failed.status == "failed" and fragment in failed.error.message
        with pytest.raises(lb.EngineError, match=fragment) as caught:
            client.responses.create(input="ping")
        assert caught.value.retryable  # a broken connection: worth another try
        assert caught.value.response.status == "failed"
        assert client.responses.retrieve(failed.id).output_text == "echo: ping"
    assert len(server.calls["ping"]) == 2  # a started answer is never re-sent by the HTTP client
    assert [(s, text) for _, s, text in stored_responses(home)] == [("failed", "echo: ping")] * 2
    count_faults(record_property, server)


# ---- grids: retried by the grid's policy, failed rows recorded, the rest finished ---------------

GRID_PLAN: dict[str, list[tuple]] = {
    "row 0": [("status", 429, 0.2)],
    "row 1": [("status", 429)],
    "row 2": [("status", 500), ("status", 503)],
    "row 3": [("status", 500)] * 10,  # never recovers
    "row 4": [("reset",)],
    "row 5": [("drop_stream",)],
    "row 6": [("stall_stream", 2)],
    "row 7": [("hang", 2)],
    "row 8": [("status", 400)],  # not retryable
    "row 9": [("drop_stream",)] * 10,  # never recovers, each attempt's failed response kept
}
#: row -> (status, attempts) after one run with retries=2
EXPECTED = {0: ("completed", 2), 1: ("completed", 2), 2: ("completed", 3), 3: ("failed", 3), 4: ("completed", 2),
            5: ("completed", 2), 6: ("completed", 2), 7: ("completed", 2), 8: ("failed", 1), 9: ("failed", 3)}


def test_a_grid_under_faults_retries_records_failed_rows_and_finishes_the_rest(
    home: Path, server: FaultServer, record_property: pytest.RecordProperty
) -> None:
    rows = [{"n": str(i)} for i in range(14)]
    server.plan = {k: list(v) for k, v in GRID_PLAN.items()}
    with lb.Client(home, engine=engine(server, retries=0)) as client:  # only the grid's own retries
        grid = client.grid("row {{n}}", rows, concurrency=14, retries=2, progress=False)
        by_row = grid.set_index("row")
        for row in range(14):
            status, attempts = EXPECTED.get(row, ("completed", 1))
            assert (by_row.loc[row, "status"], by_row.loc[row, "attempts"]) == (status, attempts), row
            assert len(server.calls[f"row {row}"]) == attempts  # one server call per attempt, no more
        assert "429" not in str(by_row.loc[0, "error"])  # recovered rows carry no error
        assert "500" in by_row.loc[3, "error"] and "400" in by_row.loc[8, "error"]
        assert "mid-answer" in by_row.loc[9, "error"] and by_row.loc[9, "response_id"]
        done = by_row[by_row["status"] == "completed"]
        assert (done["output_text"] == [f"echo: row {r}" for r in done.index]).all()

        # The run log holds exactly the completed rows, each pointing at its stored response.
        with sqlite3.connect(home / "llamabook.db") as conn:
            logged = dict(conn.execute("SELECT response_id, result_json FROM grid_results").fetchall())
        conn.close()
        assert set(logged) == set(done["response_id"])
        statuses = {rid: status for rid, status, _ in stored_responses(home)}
        assert all(statuses[rid] == "completed" for rid in logged)
        # Failed attempts that had started answering are kept as failed responses, and only those.
        assert sorted(s for s in statuses.values() if s == "failed") == ["failed"] * (1 + 1 + 3)

        # Running it again calls only the failed rows; the others come from the log.
        before = {row: len(server.calls[f"row {row}"]) for row in range(14)}
        again = client.grid("row {{n}}", rows, concurrency=14, retries=0, progress=False).set_index("row")
    failed_rows = {3, 8, 9}
    assert {r for r in range(14) if not again.loc[r, "cached"]} == failed_rows
    assert all(len(server.calls[f"row {r}"]) - before[r] == (r in failed_rows) for r in range(14))
    assert (again.loc[sorted(set(range(14)) - failed_rows), "status"] == "completed").all()
    count_faults(record_property, server)


def test_a_grid_against_a_server_that_is_gone_fails_every_row_quickly(
    home: Path, record_property: pytest.RecordProperty
) -> None:
    gone = FaultServer().start()
    url = gone.url
    gone.stop()  # nothing listens there any more
    down = lb.OpenAICompatibleEngine(url, models=[MODEL], max_retries=0, timeout=TIMEOUT_S)
    started = time.monotonic()
    with lb.Client(home, engine=down) as client:
        before = snapshot(home)
        grid = client.grid("row {{n}}", [{"n": str(i)} for i in range(6)], concurrency=3, retries=1, progress=False)
        after = snapshot(home)
    assert (grid["status"] == "failed").all() and (grid["attempts"] == 2).all()
    assert grid["error"].str.contains("Could not reach").all()
    assert time.monotonic() - started < 10
    # Only the grid's prompt was stored; no response, no log row.
    assert [line for line in diff(before, after)] == ["table prompt_versions: 1 row(s) added or changed, 0 removed",
                                                      "table prompts: 1 row(s) added or changed, 0 removed"]
    record_property("faults_injected", int(grid["attempts"].sum()))  # each attempt met a closed port
