"""client.grid: rows × versions × models, bounded concurrency, retries, the run log, resume.

Grid mechanics run on the scripted engine (``quick_client``, ``scripted``: its answer echoes what it was
sent) or on the fault server (HTTP faults); one grid runs end to end on the real embedded model.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import llamabook as lb
from faultserver import MODEL, FaultServer
from scripted_engine import ScriptedEngine

HERE = Path(__file__).parent


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer(latency_s=0.05).start()
    yield server
    server.stop()


def fault_client(home: Path, server: FaultServer, timeout: float = 5.0) -> lb.Client:
    engine = lb.OpenAICompatibleEngine(server.url, models=[MODEL], max_retries=0, timeout=timeout)
    return lb.Client(home, engine=engine)


def test_grid_on_the_embedded_model_with_versions_and_resume(client: lb.Client) -> None:
    p = client.prompts.create("What is the capital of {{country}}?", variables=["country"])
    client.prompts.update(p.prompt_id, prompt="Name the capital city of {{country}}.", version=1, variables=["country"])
    rows = pd.DataFrame({"country": ["Ireland", "France"], "continent": ["Europe", "Europe"]})
    grid = client.grid(p, rows, versions=[1, 2], concurrency=2, max_output_tokens=24, progress=False)
    assert len(grid) == 4
    assert list(grid.columns[:3]) == ["row", "country", "continent"]
    assert sorted(zip(grid["row"], grid["version"])) == [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert grid["status"].isin(["completed", "incomplete"]).all() and grid["error"].isna().all()
    assert (grid["cut_off"] == (grid["status"] == "incomplete")).all()  # incomplete only when cut off
    assert grid["output_text"].str.len().min() > 0
    assert grid["response_id"].tolist() == [r for r in grid["response_id"] if client.responses.retrieve(r)]
    assert (grid["input_tokens"] > 0).all() and not grid["cached"].any()
    stored = len(client.responses.list())
    again = client.grid(p, rows, versions=[1, 2], concurrency=2, max_output_tokens=24, progress=False)
    assert again["cached"].all() and len(client.responses.list()) == stored  # no repeated call
    assert again["output_text"].tolist() == grid["output_text"].tolist()
    assert str(grid["version"].dtype) == "Int64" and str(grid["latency_s"].dtype) == "Float64"


def test_rows_versions_and_models_each_send_their_own_prompt_once(tmp_path: Path) -> None:
    first, second = ScriptedEngine("test/first"), ScriptedEngine("test/second")
    with lb.Client(tmp_path / "home", engines=[first, second]) as client:
        p = client.prompts.create("What is the capital of {{country}}?", variables=["country"])
        client.prompts.update(p.prompt_id, prompt="Name the capital of {{country}}.", version=1, variables=["country"])
        rows = pd.DataFrame({"country": ["Ireland", "France"]})
        models = ["test/first", "test/second"]
        grid = client.grid(p, rows, versions=[1, 2], models=models, concurrency=3, input="Be brief.", progress=False)
        assert list(grid.columns[:2]) == ["row", "country"] and len(grid) == 8
        templates = {1: "What is the capital of {}?", 2: "Name the capital of {}."}
        expected = {
            (row, version, model): f"[system: {templates[version].format(country)}] echo: Be brief."
            for row, country in enumerate(["Ireland", "France"])
            for version in (1, 2)
            for model in models
        }
        assert dict(zip(zip(grid["row"], grid["version"], grid["model"]), grid["output_text"])) == expected
        assert (grid["status"] == "completed").all() and not grid["cut_off"].any() and grid["error"].isna().all()
        assert (grid["input_tokens"] == [len(o.split()) - 2 for o in grid["output_text"]]).all()  # system + user words
        assert (grid["output_tokens"] == [len(o.split()) for o in grid["output_text"]]).all()
        assert len(first.calls) == len(second.calls) == 4 and not grid["cached"].any()
        assert {c.model for c in first.calls} == {"test/first"} and {c.model for c in second.calls} == {"test/second"}

        again = client.grid(p, rows, versions=[1, 2], models=models, concurrency=3, input="Be brief.", progress=False)
        assert again["cached"].all() and len(first.calls) + len(second.calls) == 8  # all from the run log
        assert again["output_text"].tolist() == grid["output_text"].tolist()
        assert again["response_id"].tolist() == grid["response_id"].tolist()

        shorter = client.grid(p, rows, versions=[2], models=models[:1], input="Be brief.", max_output_tokens=3,
                              progress=False)  # fmt: skip
        assert not shorter["cached"].any() and len(first.calls) == 6  # other options: new calls
        assert shorter["output_text"].tolist() == ["[system: Name the ", "[system: Name the "]
        assert (shorter["status"] == "incomplete").all() and shorter["cut_off"].all()
        assert [c.options.max_output_tokens for c in first.calls[-2:]] == [3, 3]


def test_an_engine_failure_is_an_error_row_retried_when_it_may_pass(
    quick_client: lb.Client, scripted: ScriptedEngine
) -> None:
    scripted.fail("Cork")  # not retryable: the row fails at once
    scripted.fail("Dublin", times=2, status_code=503, retry_after=0.01)  # retryable: passes on the third attempt
    scripted.fail("Galway", status_code=429, retry_after=0.01)  # never passes: fails after every retry
    rows = [{"city": city} for city in ("Cork", "Dublin", "Galway", "Sligo")]
    grid = quick_client.grid("Weather in {{city}}?", rows, concurrency=4, retries=2, progress=False)
    by_row = grid.set_index("row")
    assert by_row["status"].tolist() == ["failed", "completed", "failed", "completed"]
    assert by_row["attempts"].tolist() == [1, 3, 3, 1]
    assert by_row.loc[0, "error"] == "EngineError: scripted failure on 'Cork'"
    assert by_row.loc[2, "error"] == "EngineError: scripted failure on 'Galway'"
    assert by_row.loc[1, "output_text"] == "[system: Weather in Dublin?] echo:"
    calls = [call.system[0] for call in scripted.calls]
    assert {city: calls.count(f"Weather in {city}?") for city in ("Cork", "Dublin", "Galway", "Sligo")} == {
        "Cork": 1, "Dublin": 3, "Galway": 3, "Sligo": 1,
    }  # fmt: skip
    failed = quick_client.responses.retrieve(by_row.loc[0, "response_id"])  # the failed call is kept, as failed
    assert failed.status == "failed" and "scripted failure on 'Cork'" in failed.error.message

    again = quick_client.grid("Weather in {{city}}?", rows, concurrency=4, retries=0, progress=False)
    assert again.set_index("row")["cached"].tolist() == [False, True, False, True]  # failures are not cached
    assert len(scripted.calls) == len(calls) + 2


def test_bad_grid_input_fails_before_any_call(client: lb.Client) -> None:
    rows = pd.DataFrame({"city": ["Cork"]})
    with pytest.raises(lb.MissingVariables, match="country"):
        client.grid("Capital of {{country}}?", rows, progress=False)
    with pytest.raises(lb.InvalidRequest, match="models"):
        client.grid("Hi {{city}}", rows, models=["gpt-9"], progress=False)
    with pytest.raises(lb.InvalidRequest, match="rows"):
        client.grid("Hi {{city}}", {"city": "Cork"}, progress=False)
    assert client.responses.list() == []


def test_parquet_round_trip(quick_client: lb.Client, tmp_path: Path) -> None:
    grid = quick_client.grid("Say {{word}}.", [{"word": "yes"}, {"word": "no"}], max_output_tokens=3, progress=False)
    assert grid["output_text"].tolist() == ["[system: Say yes.] ", "[system: Say no.] "]
    assert grid["cut_off"].tolist() == [True, True]
    path = tmp_path / "grid.parquet"
    grid.to_parquet(path)
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, grid, check_dtype=False)
    assert str(back["version"].dtype) == "Int64" and back["cached"].dtype == bool


def test_concurrency_is_bounded(tmp_path: Path, fault_server: FaultServer) -> None:
    with fault_client(tmp_path, fault_server) as client:
        rows = [{"x": str(i)} for i in range(24)]
        grid = client.grid("item {{x}}", rows, concurrency=4, progress=False)
    assert (grid["status"] == "completed").all()
    assert fault_server.max_in_flight == 4
    assert grid["output_text"].tolist() == [f"echo: item {i}" for i in range(24)]


def test_rate_limits_errors_and_timeouts_are_retried_then_recorded(tmp_path: Path, fault_server: FaultServer) -> None:
    fault_server.plan = {
        "item 0": [("status", 429, 1)],  # Retry-After: 1 s
        "item 1": [("status", 500), ("status", 503)],
        "item 2": [("status", 500)] * 10,  # never recovers
        "item 3": [("hang", 3)],  # first call times out
        "item 4": [("status", 400)],  # not retryable
    }
    with fault_client(tmp_path, fault_server, timeout=1.0) as client:
        grid = client.grid("item {{x}}", [{"x": str(i)} for i in range(6)], concurrency=6, retries=2, progress=False)
    by_row = grid.set_index("row")
    assert by_row.loc[0, "status"] == "completed" and by_row.loc[0, "attempts"] == 2
    first, second = fault_server.calls["item 0"]
    assert second - first >= 0.9  # waited for Retry-After
    assert by_row.loc[1, "status"] == "completed" and by_row.loc[1, "attempts"] == 3
    assert by_row.loc[2, "status"] == "failed" and by_row.loc[2, "attempts"] == 3
    assert "500" in by_row.loc[2, "error"] and len(fault_server.calls["item 2"]) == 3
    assert by_row.loc[3, "status"] == "completed" and by_row.loc[3, "attempts"] == 2
    assert by_row.loc[4, "status"] == "failed" and by_row.loc[4, "attempts"] == 1 and "400" in by_row.loc[4, "error"]
    assert by_row.loc[5, "status"] == "completed"
    # failures are not cached: a second run calls only the failed rows again
    before = fault_server.total_calls()
    with fault_client(tmp_path, fault_server) as client:
        again = client.grid("item {{x}}", [{"x": str(i)} for i in range(6)], concurrency=6, retries=0, progress=False)
    assert fault_server.total_calls() - before == 2
    assert again.set_index("row")["cached"].tolist() == [True, True, False, True, False, True]


WORKER = """
import sys, llamabook as lb
sys.path.insert(0, {tests!r})
engine = lb.OpenAICompatibleEngine({url!r}, models=["fake-model"], max_retries=0)
client = lb.Client({home!r}, engine=engine)
client.grid("item {{{{x}}}}", [{{"x": str(i)}} for i in range(16)], concurrency=2, progress=False)
"""


def test_a_grid_killed_mid_run_resumes_without_repeating_or_losing_rows(tmp_path: Path) -> None:
    server = FaultServer(latency_s=0.25).start()
    try:
        home = tmp_path / "home"
        script = WORKER.format(tests=str(HERE), url=server.url, home=str(home))
        worker = subprocess.Popen([sys.executable, "-c", script])
        deadline = time.monotonic() + 60
        while server.total_calls() < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        first_run = {marker for marker, times in server.calls.items() if times}
        with fault_client(home, server) as client:
            calls_before = dict((k, len(v)) for k, v in server.calls.items())
            grid = client.grid("item {{x}}", [{"x": str(i)} for i in range(16)], concurrency=2, progress=False)
        assert len(grid) == 16 and (grid["status"] == "completed").all()  # no row lost
        cached = set(grid.loc[grid["cached"], "row"])
        assert 2 <= len(cached) < 16  # at least the calls answered well before the kill were logged
        for row in range(16):
            marker = f"item {row}"
            repeated = len(server.calls[marker]) - calls_before.get(marker, 0)
            assert repeated == (0 if row in cached else 1)  # finished rows are never called again
        assert {f"item {r}" for r in cached} <= first_run
    finally:
        server.stop()


def test_async_client_grid(tmp_path: Path, fault_server: FaultServer) -> None:
    import asyncio

    async def main() -> pd.DataFrame:
        engine = lb.OpenAICompatibleEngine(fault_server.url, models=[MODEL], max_retries=0)
        async with lb.AsyncClient(tmp_path, engine=engine) as client:
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)

            task = asyncio.create_task(ticker())
            grid = await client.grid("item {{x}}", [{"x": str(i)} for i in range(8)], concurrency=4, progress=False)
            task.cancel()
            assert ticks > 5  # the loop kept running while the grid ran
            return grid

    grid = asyncio.run(main())
    assert (grid["status"] == "completed").all()
    assert json.loads(grid.to_json())["row"]


def test_ctrl_c_keeps_finished_rows_and_the_rerun_finishes_the_rest(tmp_path: Path) -> None:
    import _thread
    import threading

    server = FaultServer(latency_s=0.3).start()
    try:
        with fault_client(tmp_path, server) as client:
            rows = [{"x": str(i)} for i in range(12)]
            timer = threading.Timer(0.8, _thread.interrupt_main)  # as Ctrl-C in a kernel does
            timer.start()
            grid = client.grid("item {{x}}", rows, concurrency=2, progress=False)
            timer.join()
            done = grid["status"] == "completed"
            assert 2 <= done.sum() < 12  # two rounds of two finished before the interrupt
            assert set(grid.loc[~done, "status"]) == {"cancelled"}
            assert grid.loc[~done, "error"].str.contains("interrupted").all()
            time.sleep(0.5)  # calls that were in flight land in the run log
            again = client.grid("item {{x}}", rows, concurrency=4, progress=False)
        assert (again["status"] == "completed").all()
        assert again.loc[done, "cached"].all()
        assert server.total_calls() == 12  # nothing called twice
    finally:
        server.stop()


def test_a_grid_takes_a_named_prompt_and_its_versions(quick_client: lb.Client, scripted: ScriptedEngine) -> None:
    quick_client.prompts.save("weather", "Weather in {{city}}?")
    quick_client.prompts.save("weather", "Forecast for {{city}}?")
    rows = [{"city": "Cork"}]
    pinned = quick_client.grid("weather@1", rows, progress=False)
    both = quick_client.grid("weather", rows, versions=[1, 2], progress=False)
    assert list(pinned["version"]) == [1] and list(both["version"]) == [1, 2]
    assert [call.system[0] for call in scripted.calls] == ["Weather in Cork?", "Forecast for Cork?"]  # v1 from the log
    assert both["cached"].tolist() == [True, False]
    with pytest.raises(lb.PromptNotFound, match="No prompt named 'nosuch'"):
        quick_client.grid("nosuch", rows, progress=False)


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, pd.NaT], ids=["None", "NaN", "NA", "NaT"])
@pytest.mark.parametrize("shape", ["list of dicts", "DataFrame"])
def test_a_missing_value_in_any_form_fails_its_row_and_sends_nothing(
    quick_client: lb.Client, scripted: ScriptedEngine, missing: object, shape: str
) -> None:
    records = [{"city": "Paris"}, {"city": missing}, {"city": "Oslo"}]
    rows = records if shape == "list of dicts" else pd.DataFrame(records, dtype=object)
    grid = quick_client.grid("The city of {{city}}?", rows, progress=False)
    assert grid["status"].tolist() == ["completed", "failed", "completed"]
    assert grid["error"][1].startswith("MissingVariables: Missing value for variable(s) 'city' of prompt pmpt_")
    assert grid["error"][1].endswith("Row 1 has no value in the column(s) 'city': fill them in or leave the row out.")
    assert sorted(call.system[0] for call in scripted.calls) == ["The city of Oslo?", "The city of Paris?"]
    assert len(scripted.calls) == 2  # nothing was sent for the row with the missing value
