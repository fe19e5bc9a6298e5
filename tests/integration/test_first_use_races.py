"""First uses from staggered threads, each in a fresh interpreter: no half-imported module, no lost verdict.

Real servers answer a grid's calls milliseconds apart, so the first import of a package (jsonschema
for a judge's verdict format, llguidance and its llama.cpp bridge) starts on several worker threads
10-40 ms apart. Unguarded, CPython hands some of them a half-initialised module (``ImportError:
cannot import name … from partially initialized module``) and those rows' checks fail. Every lazy
import a worker can reach goes through ``llamabook._lazy.load``; these tests run each path cold in
its own process (tests/support/raceworker.py), all processes at once, and hold the outcome exact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import llamabook as lb
from llamabook import checks
from llamabook.engines.embedded import EmbeddedEngine

TESTS = Path(__file__).resolve().parents[1]  # tests/, where support/ is
WORKER = TESTS / "support" / "raceworker.py"
THREADS = 16
TOPICS = [f"topic {n}" for n in range(8)]


def start(path: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent)}
    env.pop("LLAMABOOK_BASE_URL", None)
    return subprocess.Popen(
        [sys.executable, str(WORKER), path, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def outcome(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def test_every_lazy_path_from_staggered_threads_on_first_use(tmp_path: Path) -> None:
    """Six cold processes at once: jsonschema through four doors (twice), ``load`` itself, grammar limits,
    a judge grid and a ``json_schema`` grid whose answers arrive 10-30 ms apart.

    Measured on 2 cores: at 95330a2 (no guard) the ``schema`` path met a half-imported jsonschema in
    5 of 6 processes, and ``load`` without its lock failed in 6 of 6; with the guard, none.
    """
    processes = {
        "schema": start("schema"),
        "grammar": start("grammar"),
        "judge_grid": start("judge_grid", str(tmp_path / "judge")),
        "json_schema_grid": start("json_schema_grid", str(tmp_path / "json")),
        "schema again": start("schema"),
        "load": start("load"),
    }
    found = {name: outcome(process) for name, process in processes.items()}
    for name in ("schema", "schema again"):
        assert found[name]["errors"] == [], name
        expected = [[f"$.city: {n} is not of type 'string'"] if n % 4 == 0 else [] for n in range(THREADS)]
        assert found[name]["results"] == expected
    assert found["load"]["errors"] == []
    assert found["load"]["results"] == [True] * THREADS  # every module came back whole
    assert found["grammar"]["errors"] == []
    assert found["grammar"]["results"] == [[]] * THREADS  # a yes/no verdict is fully expressible
    assert {"llguidance", "llama_cpp"} <= set(found["grammar"]["imported"])  # llguidance and its llama.cpp bridge really loaded
    assert found["judge_grid"]["errors"] == []
    assert found["judge_grid"]["results"] == [True] * len(TOPICS)  # every verdict was yes
    assert found["json_schema_grid"]["errors"] == []
    assert found["json_schema_grid"]["results"] == [False] * len(TOPICS)  # echoed text is not a JSON string


@pytest.fixture(scope="module")
def judge_cassette(tmp_path_factory: pytest.TempPathFactory, engine: EmbeddedEngine) -> tuple[Path, list[bool]]:
    """A judge grid on the embedded model, recorded once (the session's model), and its verdicts."""
    folder = tmp_path_factory.mktemp("judge-cassette")
    cassette = folder / "judge.jsonl"
    with lb.Client(folder / "home", engine=engine, cassette=cassette, record="all") as client:
        grid = client.grid(
            "Write about {{topic}}.", [{"topic": t} for t in TOPICS[:4]], progress=False, max_output_tokens=8,
            checks={"c": checks.judge("Is the answer about {{topic}}?")},
        )
    assert grid["check_c_error"].isna().all(), grid["check_c_error"].tolist()
    return cassette, [bool(v) for v in grid["check_c"]]


def test_a_judge_grid_replays_without_llama_cpp(tmp_path: Path, judge_cassette: tuple[Path, list[bool]]) -> None:
    """With ``llama_cpp`` unimportable, the replayed judge grid gives every recorded verdict, from 8 threads."""
    cassette, verdicts = judge_cassette
    found = outcome(start("replay", str(tmp_path / "home"), str(cassette)))
    assert found["errors"] == []
    assert "llama_cpp" not in found["imported"]
    assert found["results"] == verdicts
