"""The embedded engine's pool of model contexts: one per core by default, grown only under load,
and the same bytes from whichever context runs a request."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

import llamabook as lb
from llamabook.engines.embedded import pool as embedded
from llamabook.engines.embedded import EmbeddedEngine, default_contexts


def test_the_pool_size_comes_from_the_argument_the_environment_or_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMABOOK_CONTEXTS", "3")
    assert default_contexts() == 3 and EmbeddedEngine().contexts == 3
    assert EmbeddedEngine(contexts=2).contexts == 2
    monkeypatch.delenv("LLAMABOOK_CONTEXTS")
    monkeypatch.setattr(embedded.os, "cpu_count", lambda: 6)
    monkeypatch.setattr(embedded, "_available_memory", lambda: 64 * 1024**3)
    assert default_contexts() == 6 and default_contexts(n_threads=2) == 3
    monkeypatch.setattr(embedded, "_available_memory", lambda: 2 * embedded.CONTEXT_BYTES * 2)
    assert default_contexts() == 2  # at most half the available memory
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(lb.InvalidRequest, match="contexts must be"):
            EmbeddedEngine(contexts=bad)  # type: ignore[arg-type]


def test_concurrent_calls_run_on_their_own_contexts_and_give_the_same_bytes(engine: EmbeddedEngine, tmp_path: Path) -> None:
    pool = EmbeddedEngine(contexts=2).pool()  # the session's model file and settings: the same pool
    assert pool is engine.pool()
    with lb.Client(tmp_path / "home", engine=engine) as client:
        answers: list[str] = []
        start = threading.Barrier(2)

        def ask() -> None:
            start.wait()
            answers.append(client.responses.create(input="Name three colours.", max_output_tokens=24).output_text)

        threads = [threading.Thread(target=ask) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(pool.contexts) == 2, "two calls at once should have run on two contexts"
        alone = client.responses.create(input="Name three colours.", max_output_tokens=24).output_text
    assert answers == [alone, alone]  # byte for byte, whichever context ran it
    used = {id(c) for c in pool.contexts}
    assert len(used) == 2 and all(c is not None for c in pool.contexts)


LOADS_AT_ONCE = """
import sys, threading
from llamabook.engines.embedded import EmbeddedEngine
pool = EmbeddedEngine(contexts=2).pool()
start = threading.Barrier(2)
def load():
    start.wait()
    pool._load()  # what two calls growing the pool at the same moment do
threads = [threading.Thread(target=load) for _ in range(2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("stdout still here", sys.stdout is sys.__stdout__)
"""


def test_two_models_loading_at_once_leave_the_process_stdout_alone(engine: EmbeddedEngine) -> None:
    """llama.cpp silences a load by pointing stdout at /dev/null and back: two at once must not leave it there."""
    for _ in range(3):  # the race is about timing: a few fresh processes
        ran = subprocess.run([sys.executable, "-c", LOADS_AT_ONCE], capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, ran.stderr[-2000:]
        assert ran.stdout.strip() == "stdout still here True"
