"""``grid(executor="batch")`` on the real Llama Stack 0.7.3 and OGX 1.5.0 servers, and ``executor="jsonl"``.

The servers run their ``inline::reference`` batches provider (``ci/*-run.yaml``), which answers
``/v1/chat/completions`` lines; llamabook renders each request into the chat messages the server
itself builds for a ``prompt=`` reference, and these tests hold it to that, to the thread executor's
frame, to the run log, and to resuming a batch after the kernel that sent it died.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import llamabook as lb
from llamabook import checks
from llamabook.grid.lines import chat_messages
from support.servers import Server

TEMPLATE = "You name countries. Name the country of {{city}} in one word."
CITIES = [{"city": "Paris"}, {"city": "Rome"}, {"city": "Oslo"}]
OPTIONS: dict[str, Any] = {"temperature": 0, "max_output_tokens": 64}
BATCH_COLUMNS = ["batch_id", "custom_id"]


@pytest.fixture(params=["llama-stack", "ogx"])
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue("llama_stack_server" if request.param == "llama-stack" else "ogx_server")


def client_on(server: Server, home: Path) -> lb.Client:
    return lb.Client(home, base_url=server.url)


def batch_ids(client: lb.Client) -> list[str]:
    """Every batch the server has, newest first."""
    listed = client.backend.sdk().get("/batches", cast_to=object, options={"params": {"limit": 100}})
    return [b["id"] for b in listed["data"]]


def read_file_of(client: lb.Client) -> Any:
    return lambda file_id: (client.backend.file_content(file_id), client.backend.get_file(file_id).filename)


def test_a_batch_line_holds_the_messages_the_server_builds_for_the_prompt(server: Server, tmp_path: Path, data: Path) -> None:
    """The server stores the chat completion its Responses API made: its input messages are ours."""
    client = client_on(server, tmp_path / "home")
    prompt = client.prompts.save(None, "You check invoices for {{who}}. The invoice: {{invoice}}")
    call = {"prompt": prompt, "variables": {"who": "Ann", "invoice": data / "invoice.pdf"}, "instructions": "Be brief.", **OPTIONS}
    ours = chat_messages(client.responses.prepare("Who is billed?", **call), read_file_of(client))
    client.responses.create("Who is billed?", **call)
    stored = client.backend.sdk().get("/chat/completions", cast_to=object, options={"params": {"limit": 1, "order": "desc"}})
    theirs = [{k: v for k, v in message.items() if v is not None} for message in stored["data"][0]["input_messages"]]
    assert ours == theirs
    assert [m["role"] for m in ours] == ["system", "system", "user", "user"]  # prompt, instructions, input, the PDF's text
    assert ours[0]["content"] == "You check invoices for Ann. The invoice: [File: invoice]"
    assert "Dublin Bicycle Co." in ours[3]["content"]


def test_a_batch_grid_gives_the_thread_grids_frame_and_its_rows_are_logged(server: Server, tmp_path: Path) -> None:
    asked = {"names_norway": checks.contains("Norway")}
    threads = client_on(server, tmp_path / "threads").grid(TEMPLATE, CITIES, checks=asked, progress=False, **OPTIONS)
    client = client_on(server, tmp_path / "batch")
    before = batch_ids(client)
    frame = client.grid(TEMPLATE, CITIES, checks=asked, executor="batch", progress=False, **OPTIONS)
    new = [b for b in batch_ids(client) if b not in before]
    assert len(new) == 1
    columns = list(threads.columns)
    at = columns.index("response_id") + 1
    assert list(frame.columns) == [*columns[:at], *BATCH_COLUMNS, *columns[at:]]
    assert (frame.dtypes[columns] == threads.dtypes[columns]).all()
    assert list(frame.status) == ["completed"] * 3 and frame.error.isna().all()
    assert list(frame.output_text) == list(threads.output_text)  # the same messages, greedy: the same answers
    assert list(frame.batch_id) == new * 3 and frame.response_id.isna().all()
    assert frame.custom_id.str.fullmatch(r"[0-9a-f]{64}").all() and frame.custom_id.is_unique
    assert (frame.output_tokens > 0).all() and (frame.input_tokens > 0).all()
    assert list(frame.check_names_norway) == list(threads.check_names_norway)
    assert frame.check_names_norway.notna().all()
    # Again, either way: every row from the run log, no new batch
    for executor in ("batch", "threads"):
        again = client.grid(TEMPLATE, CITIES, checks=asked, executor=executor, progress=False, **OPTIONS)
        assert again.cached.all() and list(again.output_text) == list(frame.output_text)
    assert batch_ids(client)[: len(new)] == new and len(batch_ids(client)) == len(before) + 1
    plan = client.backend.store.batches.list()
    assert [(p.batch_id, p.status, p.merged) for p in plan] == [(new[0], "completed", True)]


CHILD = """
import sys
import llamabook as lb
from llamabook.grid.executors import batch as server_batches
server_batches.POLL_FIRST_S = 600  # submit, look once, then wait: the test kills this process meanwhile
frame = lb.Client(sys.argv[1], base_url=sys.argv[2]).grid(
    {template!r}, {rows!r}, executor="batch", progress=False, **{options!r}
)
print(frame[["status", "error", "batch_id"]].to_json(orient="records"))
"""


def start_and_kill(
    server: Server, home: Path, rows: list[dict[str, str]], sig: int = signal.SIGKILL
) -> tuple[str, Any, str]:
    """A kernel that submits the grid's batch and gets ``sig`` while it runs: the batch id the home
    recorded, the plan, and what the kernel printed (its grid's rows, when Ctrl-C let it return)."""
    code = CHILD.format(template=TEMPLATE, rows=rows, options=OPTIONS)
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(home), server.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    plans = None
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if child.poll() is not None:
                pytest.fail(f"the child grid ended by itself: {child.stderr.read().decode()[-2000:]}")
            if (home / "llamabook.db").exists():
                plans = lb.Client(home, base_url=server.url).backend.store.batches.list()
                if plans and plans[0].batch_id:
                    break
            time.sleep(0.1)
        else:
            pytest.fail("the child grid recorded no batch in 60 s")
        time.sleep(0.5)  # past the first poll: the kernel is waiting for the next one
        child.send_signal(sig)
        printed, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert plans is not None
    return str(plans[0].batch_id), plans[0], printed.decode()


def test_a_grid_run_again_after_its_kernel_died_follows_the_same_batch(server: Server, tmp_path: Path) -> None:
    home = tmp_path / "home"
    batch_id, plan, _ = start_and_kill(server, home, CITIES)
    assert not plan.merged
    client = client_on(server, home)
    before = batch_ids(client)
    frame = client.grid(TEMPLATE, CITIES, executor="batch", progress=False, **OPTIONS)
    assert batch_ids(client) == before  # nothing submitted again
    assert list(frame.batch_id) == [batch_id] * 3
    assert list(frame.status) == ["completed"] * 3 and frame.output_text.str.len().gt(0).all()
    assert client.backend.store.batches.list()[0].merged


def test_a_cancelled_batch_keeps_its_rows_and_the_next_run_sends_only_the_unfinished(ogx_server: Server, tmp_path: Path) -> None:
    home = tmp_path / "home"
    rows = [{"city": city} for city in ("Paris", "Rome", "Oslo", "Lima", "Cairo", "Quito", "Hanoi", "Dakar")]
    batch_id, _, _ = start_and_kill(ogx_server, home, rows)
    client = client_on(ogx_server, home)
    cancelled = client.backend.sdk().post(f"/batches/{batch_id}/cancel", cast_to=object)
    assert cancelled["status"] in ("cancelling", "cancelled")
    frame = client.grid(TEMPLATE, rows, executor="batch", progress=False, **OPTIONS)
    assert len(frame) == 8 and list(frame.city) == [r["city"] for r in rows]
    for status, error, text in zip(frame.status, frame.error, frame.output_text):
        if status == "cancelled":
            assert error.startswith(f"BatchCancelled: batch {batch_id} was cancelled") and pd.isna(text)
        else:  # a row the server finished and returned (OpenAI returns them; these servers return none)
            assert status == "completed" and text
    assert (frame.status == "cancelled").any()
    finished = int((frame.status == "completed").sum())
    again = client.grid(TEMPLATE, rows, executor="batch", progress=False, **OPTIONS)
    assert list(again.status) == ["completed"] * 8
    assert int(again.cached.sum()) == finished and again.batch_id.nunique() == (2 if finished else 1)


def test_ctrl_c_while_a_batch_runs_returns_every_row_and_the_next_run_collects_it(ogx_server: Server, tmp_path: Path) -> None:
    home = tmp_path / "home"
    batch_id, _, printed = start_and_kill(ogx_server, home, CITIES, signal.SIGINT)
    rows = json.loads(printed.strip().splitlines()[-1])
    assert [r["status"] for r in rows] == ["in_progress"] * 3 and {r["batch_id"] for r in rows} == {batch_id}
    assert all(f"still running on the server as {batch_id}" in r["error"] for r in rows)
    client = client_on(ogx_server, home)
    before = batch_ids(client)
    frame = client.grid(TEMPLATE, CITIES, executor="batch", progress=False, **OPTIONS)
    assert batch_ids(client) == before and list(frame.status) == ["completed"] * 3 and list(frame.batch_id) == [batch_id] * 3


def test_a_batch_the_server_fails_as_a_whole_fails_every_row_with_its_reason(server: Server, tmp_path: Path) -> None:
    """Validation failures (here an unknown model, which a grid refuses itself) fail the whole batch."""
    from llamabook.grid.executors import batch as server_batches
    from llamabook.grid.lines import ENDPOINT, request_line, to_jsonl

    jobs = client_on(server, tmp_path / "home").backend.batch_jobs()
    lines = [request_line("a", {"model": "no/such", "messages": [{"role": "user", "content": "Hi"}]})]
    submitted = jobs.submit(to_jsonl(lines), "bad.jsonl", ENDPOINT, {})
    assert submitted.id.startswith("batch_")
    batch = server_batches._follow(jobs, submitted.id, 1, False, None, "")
    assert batch.status == "failed" and batch.output_file_id is None
    missing = server_batches._missing_result(batch)
    assert missing["status"] == "failed"
    assert missing["error"] == (
        f"BatchFailed: batch {batch.id} failed: Model 'no/such' does not exist or is not supported (line 1); "
        "the next run of the grid sends it again"
    )


def get_weather(city: str) -> str:
    """The weather in a city."""
    return "rain"


def test_a_batch_grid_with_tools_reads_the_calls_back_as_the_thread_grid_does(llama_stack_server: Server, tmp_path: Path) -> None:
    """Tools go in each line in Chat Completions' form; the calls come back as tool_calls / tool_name."""
    named = {"type": "function", "name": "get_weather"}  # the suite's upstream honours only a named choice
    options = {**OPTIONS, "tools": [get_weather], "tool_choice": named}
    asked = {"weather": checks.called("get_weather")}
    threads = client_on(llama_stack_server, tmp_path / "threads").grid(TEMPLATE, CITIES, checks=asked, progress=False, **options)
    frame = client_on(llama_stack_server, tmp_path / "batch").grid(
        TEMPLATE, CITIES, checks=asked, executor="batch", progress=False, **options
    )
    for grid in (threads, frame):
        assert list(grid.status) == ["completed"] * 3, grid[["status", "error"]]
        assert list(grid.tool_name) == ["get_weather"] * 3 and grid.check_weather.all()
        assert all(isinstance(json.loads(json.loads(calls)[0]["arguments"])["city"], str) for calls in grid.tool_calls)
