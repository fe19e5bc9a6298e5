"""client.grid over HTTP against the fault server: bounded concurrency, retries (429 with Retry-After, 500/503,
a timeout), a grid killed mid-run (a real SIGKILL to a subprocess) resumed, the AsyncClient's grid and Ctrl-C.

The grid's mechanics on the scripted engine and the embedded model: tests/unit/grid/test_run.py.
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
from support.faultserver import MODEL, FaultServer

TESTS = Path(__file__).resolve().parents[1]  # tests/, where support/ is


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer(latency_s=0.05).start()
    yield server
    server.stop()


def fault_client(home: Path, server: FaultServer, timeout: float = 5.0) -> lb.Client:
    engine = lb.OpenAICompatibleEngine(server.url, models=[MODEL], max_retries=0, timeout=timeout)
    return lb.Client(home, engine=engine)


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
        script = WORKER.format(tests=str(TESTS), url=server.url, home=str(home))
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
