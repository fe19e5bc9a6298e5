"""Batches that can't hang: ``grid(executor="batch")``'s limits, ``resume=False``, ``client.batches``,
terminal statuses, error lines through the error translator, and missing values never sent.

The restart case runs against the session's real Llama Stack server, restarted in place (same
port, same state: ``Server.restart``), because that is what leaves a batch ``in_progress`` for good
and a cancel of it ``cancelling`` for good (measured on Llama Stack 0.7.3 and OGX 1.5.0: the
reference provider resumes nothing at start-up). The states a real server can't be brought to on
cue (expired, a batch that creeps, one the server forgot) come from ``tests/support/batchproxy.py``, a
loopback proxy in front of the same real server that rewrites only the status of chosen batches.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import llamabook as lb
from llamabook.grid.executors import batch as server_batches
from support.batchproxy import BatchFaultProxy
from support.servers import Server

TEMPLATE = "Name the country of {{city}} in one word."
CITIES = [{"city": "Paris"}, {"city": "Rome"}, {"city": "Oslo"}]
OPTIONS: dict[str, Any] = {"temperature": 0, "max_output_tokens": 16, "progress": False}
SCHEMA = {"type": "object", "properties": {"country": {"type": "string"}}, "required": ["country"]}
MISSING = [float("nan"), None, pd.NA, pd.NaT]


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Polls at most 0.3 s apart (5 s by default), so a finished batch is seen at once."""
    monkeypatch.setattr(server_batches, "POLL_MAX_S", 0.3)


@pytest.fixture
def proxy(llama_stack_server: Server) -> Iterator[BatchFaultProxy]:
    running = BatchFaultProxy(llama_stack_server.url).start()
    yield running
    running.stop()


@pytest.fixture(params=["llama-stack", "ogx"])
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue("llama_stack_server" if request.param == "llama-stack" else "ogx_server")


def answered(frame: pd.DataFrame) -> bool:
    """Every row has the model's answer (cut off at the 16 tokens of OPTIONS, mostly: ``incomplete``)."""
    return bool(frame.status.isin(["completed", "incomplete"]).all() and frame.output_text.str.len().gt(0).all())


def assert_no_value(errors: Any, rows: range) -> None:
    """Each row's error is the grid's MissingVariables advice naming it (rows of the same request share one)."""
    for row in rows:
        error = errors[row]
        match = re.search(r"\. Rows? ([\d, and]+) ha(?:s|ve) no value in the column\(s\) 'city': fill them in", error)
        assert error.startswith("MissingVariables: ") and match, error
        assert str(row) in re.findall(r"\d+", match.group(1))


def plan_of(client: lb.Client, batch_id: str) -> Any:
    return next(plan for plan in client.batches.list() if plan.batch_id == batch_id)


# ---- before anything is sent ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ({"batch_stall": -1}, "batch_stall is a number of seconds above 0"),
        ({"batch_stall": 0}, "batch_stall is a number of seconds above 0"),
        ({"batch_timeout": "24h"}, "batch_timeout is a number of seconds above 0"),
        ({"batch_timeout": float("nan")}, "batch_timeout is a number of seconds above 0"),
        ({"batch_stall": True}, "batch_stall is a number of seconds above 0"),
        ({"resume": "no"}, "resume must be True or False"),
    ],
)
def test_a_bad_limit_is_refused_before_anything_is_stored_or_sent(
    quick_client: lb.Client, given: dict[str, Any], fragment: str
) -> None:
    """Checked before the executor itself: the embedded backend's BatchesUnsupported comes after."""
    with pytest.raises(lb.InvalidRequest, match=fragment) as caught:
        quick_client.grid(TEMPLATE, CITIES, executor="batch", **given, **OPTIONS)
    assert not isinstance(caught.value, lb.BatchesUnsupported)
    assert len(quick_client.prompts.list()) == 0


@pytest.mark.parametrize("given", [{"batch_stall": 60}, {"batch_timeout": 60}, {"resume": False}])
@pytest.mark.parametrize("executor", ["threads", "jsonl"])
def test_the_limits_belong_to_the_batch_executor(quick_client: lb.Client, tmp_path: Path, executor: str, given: dict[str, Any]) -> None:
    path = {"path": tmp_path / "r.jsonl"} if executor == "jsonl" else {}
    with pytest.raises(lb.InvalidRequest, match="belong to executor='batch'"):
        quick_client.grid(TEMPLATE, CITIES, executor=executor, **path, **given, **OPTIONS)
    assert len(quick_client.prompts.list()) == 0 and not (tmp_path / "r.jsonl").exists()


def test_forgetting_a_batch_the_home_does_not_follow_is_not_found(quick_client: lb.Client) -> None:
    assert quick_client.batches.list() == []
    with pytest.raises(lb.NotFound, match="No grid plan in this home follows batch 'batch_nope'"):
        quick_client.batches.forget("batch_nope")


@pytest.mark.parametrize("as_frame", [False, True], ids=["list-of-dicts", "DataFrame"])
def test_a_missing_value_in_any_form_is_a_failed_row_and_no_line(quick_client: lb.Client, tmp_path: Path, as_frame: bool) -> None:
    rows = [{"city": "Paris"}, *({"city": value} for value in MISSING)]
    path = tmp_path / "requests.jsonl"
    frame = quick_client.grid(TEMPLATE, pd.DataFrame(rows) if as_frame else rows, executor="jsonl", path=path, progress=False)
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and "Paris" in lines[0]
    assert list(frame.status) == ["pending", "failed", "failed", "failed", "failed"]
    assert_no_value(frame.error, range(1, 5))


# ---- the real server, restarted while a batch runs ------------------------------------------
STORY = "Write a long story about {{city}}, its streets and its people."
LONG_ROWS = [{"city": city} for city in ("Paris", "Rome", "Oslo", "Lima", "Cairo", "Quito", "Hanoi", "Dakar")]


def test_batches_a_restarted_server_abandoned_end_typed_and_run_afresh(llama_stack_server: Server, tmp_path: Path) -> None:
    """The server runs one batch at a time: ``long`` runs, ``short`` waits behind it; both are left for good by the restart."""
    client = lb.Client(tmp_path / "home", base_url=llama_stack_server.url)
    long_options = {**OPTIONS, "max_output_tokens": 64}
    with pytest.raises(lb.BatchStalled, match=r"did not finish within 0.3 s \(batch_timeout=0.3\)") as long_wait:
        client.grid(STORY, LONG_ROWS, executor="batch", batch_timeout=0.3, **long_options)
    with pytest.raises(lb.BatchStalled, match="batch_timeout") as short_wait:
        client.grid(TEMPLATE, CITIES, executor="batch", batch_timeout=0.3, **OPTIONS)
    long_id, short_id = long_wait.value.batch_id, short_wait.value.batch_id
    assert {(p.batch_id, p.merged) for p in client.batches.list()} == {(long_id, False), (short_id, False)}
    assert client.backend.batch_jobs().retrieve(long_id).status in ("validating", "in_progress")

    llama_stack_server.restart()

    # Following the abandoned batch ends at the stall limit, naming it and what to do
    started = time.monotonic()
    with pytest.raises(lb.BatchStalled) as stalled:
        client.grid(TEMPLATE, CITIES, executor="batch", batch_stall=1, **OPTIONS)
    assert 1 <= time.monotonic() - started < 10
    error = stalled.value
    assert (error.batch_id, error.limit) == (short_id, "batch_stall") and error.status in ("validating", "in_progress")
    for advice in (short_id, "made no progress for 1 s", "resume=False", f"client.batches.forget('{short_id}')", "cancel("):
        assert advice in str(error)
    assert not plan_of(client, short_id).merged  # kept: the same call goes on waiting

    # resume=False submits afresh, and the new batch is the one the home follows
    fresh = client.grid(TEMPLATE, CITIES, executor="batch", resume=False, **OPTIONS)
    assert answered(fresh) and fresh.batch_id.nunique() == 1 and fresh.batch_id[0] != short_id
    assert plan_of(client, fresh.batch_id[0]).merged and short_id not in {p.batch_id for p in client.batches.list()}

    # A cancel the restarted server can't carry out stays 'cancelling': past the stall limit, the wait ends
    assert client.batches.cancel(long_id).status == "cancelling"
    cancelled = client.grid(STORY, LONG_ROWS, executor="batch", batch_stall=1, **long_options)
    assert list(cancelled.status) == ["cancelled"] * 8 and list(cancelled.batch_id) == [long_id] * 8
    assert cancelled.error.str.startswith(f"BatchCancelled: batch {long_id} was cancelled: the server left it 'cancelling'").all()
    plan = plan_of(client, long_id)
    assert (plan.status, plan.merged) == ("cancelling", True)  # closed: the next run submits afresh
    assert client.backend.batch_jobs().retrieve(long_id).status == "cancelling"  # still, on the server


# ---- states a real server can't be brought to on cue -----------------------------------------
def test_a_frozen_batch_stalls_and_one_the_server_forgot_is_submitted_afresh(proxy: BatchFaultProxy, tmp_path: Path) -> None:
    client = lb.Client(tmp_path / "home", base_url=proxy.url)
    proxy.fates = ["frozen"]
    with pytest.raises(lb.BatchStalled, match="made no progress for 0.5 s") as stalled:
        client.grid(TEMPLATE, CITIES, executor="batch", batch_stall=0.5, **OPTIONS)
    frozen = stalled.value.batch_id
    assert proxy.looks[frozen] >= 2 and not plan_of(client, frozen).merged
    proxy.fated[frozen] = "gone"  # the server lost its batches (its state wiped): nothing to follow
    # (no short stall limit here: the reference provider counts a chunk of 4 requests at once, when all are done)
    frame = client.grid(TEMPLATE, CITIES, executor="batch", **OPTIONS)
    assert answered(frame) and frame.batch_id[0] != frozen


def test_a_creeping_batch_ends_at_the_timeout_and_a_forgotten_plan_is_submitted_afresh(proxy: BatchFaultProxy, tmp_path: Path) -> None:
    client = lb.Client(tmp_path / "home", base_url=proxy.url)
    proxy.fates = ["creeping"]
    started = time.monotonic()
    with pytest.raises(lb.BatchStalled, match=r"did not finish within 1 s \(batch_timeout=1\): status 'in_progress', 2 of 3") as slow:
        client.grid(TEMPLATE, CITIES, executor="batch", batch_timeout=1, batch_stall=30, **OPTIONS)
    assert 1 <= time.monotonic() - started < 5
    creeping = slow.value.batch_id
    client.batches.forget(creeping)
    assert client.batches.list() == []
    with pytest.raises(lb.NotFound):
        client.batches.forget(creeping)
    frame = client.grid(TEMPLATE, CITIES, executor="batch", **OPTIONS)
    assert answered(frame) and frame.batch_id[0] != creeping


@pytest.mark.parametrize(
    ("fate", "status", "error"),
    [
        ("cancelled", "cancelled", "BatchCancelled: batch {id} was cancelled before this request finished"),
        ("cancelling", "cancelled", "BatchCancelled: batch {id} was cancelled: the server left it 'cancelling' with no change for 0.5 s"),
        ("expired", "failed", "BatchExpired: batch {id} expired before this request ran"),
        ("failed", "failed", "BatchFailed: batch {id} failed: worker crashed"),
    ],
)
def test_a_batch_that_ends_without_answers_fails_its_rows_and_the_next_run_submits_afresh(
    proxy: BatchFaultProxy, tmp_path: Path, fate: str, status: str, error: str
) -> None:
    client = lb.Client(tmp_path / "home", base_url=proxy.url)
    proxy.fates = [fate]
    frame = client.grid(TEMPLATE, CITIES, executor="batch", batch_stall=0.5, **OPTIONS)
    ended = frame.batch_id[0]
    assert proxy.fated == {ended: fate}
    assert list(frame.status) == [status] * 3 and list(frame.batch_id) == [ended] * 3
    assert frame.error.str.startswith(error.format(id=ended)).all()
    assert frame.error.str.endswith("the next run of the grid sends it again").all()
    assert not frame.error.str.contains(r"\.py|Traceback|File \"").any()
    assert plan_of(client, ended).merged
    again = client.grid(TEMPLATE, CITIES, executor="batch", **OPTIONS)
    assert answered(again) and again.batch_id[0] != ended and not again.cached.any()


# ---- error lines and missing values on the real servers --------------------------------------
def test_an_error_line_is_the_thread_executors_typed_error(server: Server, tmp_path: Path) -> None:
    """llama-cpp-python's server refuses a json_schema response_format with a 500 and its traceback."""
    rows = CITIES[:2]
    threads = lb.Client(tmp_path / "threads", base_url=server.url).grid(TEMPLATE, rows, schema=SCHEMA, **OPTIONS)
    batch = lb.Client(tmp_path / "batch", base_url=server.url).grid(TEMPLATE, rows, schema=SCHEMA, executor="batch", **OPTIONS)
    assert list(batch.status) == ["failed"] * 2
    assert batch.error[0].startswith("OutputFormatUnsupported: The server can't hold 'llamacpp/smollm2' to a JSON schema")
    assert list(batch.error) == list(threads.error)
    assert not batch.error.str.contains(r"\.py|Traceback|File \"|site-packages").any()


def test_a_missing_value_is_never_sent_in_a_batch(llama_stack_server: Server, tmp_path: Path) -> None:
    client = lb.Client(tmp_path / "home", base_url=llama_stack_server.url)
    rows = [{"city": "Paris"}, *({"city": value} for value in MISSING)]
    frame = client.grid(TEMPLATE, rows, executor="batch", **OPTIONS)
    assert answered(frame[:1]) and list(frame.status[1:]) == ["failed"] * 4
    assert_no_value(frame.error, range(1, 5))
    (plan,) = client.batches.list()
    sent = client.backend.file_content(plan.input_file_id).decode().splitlines()
    assert len(sent) == 1 and "Paris" in sent[0] and plan.requests == 1
