"""client.grid(..., repeats=N): N calls per cell, a ``repeat`` column, a seed per repeat on the embedded model.

The mechanics (columns, keys, seeds, the run log, bad values) run on the scripted engine, which records the
options each call reached it with; one test samples the real embedded model, where the seeds must give
different answers per repeat and the same answers in a fresh home.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import llamabook as lb
from llamabook.grid.keys import cache_key, repeat_seed
from llamabook.grid.task import Task
from support.scripted_engine import ScriptedEngine

ROWS = pd.DataFrame({"city": ["Cork", "Sligo"]})
TEMPLATE = "Weather in {{city}}?"


def test_repeats_ask_each_cell_n_times_with_a_seed_per_repeat_past_the_first(
    quick_client: lb.Client, scripted: ScriptedEngine
) -> None:
    grid = quick_client.grid(TEMPLATE, ROWS, repeats=3, temperature=0.7, progress=False)
    assert len(grid) == 6 and len(scripted.calls) == 6
    columns = list(grid.columns)
    assert columns[columns.index("model") + 1] == "repeat" and str(grid["repeat"].dtype) == "Int64"
    assert list(zip(grid["row"], grid["repeat"])) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert grid["call_key"].is_unique and grid["call_key"].str.len().eq(64).all()
    seeds = {(c.user or c.system[0], c.options.seed) for c in scripted.calls}
    by_repeat = dict(zip(grid["call_key"], grid["repeat"]))
    first = {row: key for key, row, repeat in zip(grid["call_key"], grid["row"], grid["repeat"]) if repeat == 0}
    expected = {
        (f"Weather in {city}?", None if repeat == 0 else repeat_seed(first[row], repeat))
        for row, city in enumerate(["Cork", "Sligo"])
        for repeat in range(3)
    }
    assert seeds == expected  # repeat 0 keeps the engine's own seed; the others one each, from the key
    assert len(by_repeat) == 6


def test_repeat_zero_is_the_cell_of_a_grid_without_repeats_and_more_repeats_ask_only_the_new_ones(
    quick_client: lb.Client, scripted: ScriptedEngine
) -> None:
    single = quick_client.grid(TEMPLATE, ROWS, temperature=0.7, progress=False)
    assert "repeat" not in single.columns and len(scripted.calls) == 2
    assert all(c.options.seed is None for c in scripted.calls)
    more = quick_client.grid(TEMPLATE, ROWS, repeats=3, temperature=0.7, progress=False)
    assert more.loc[more["repeat"] == 0, "call_key"].tolist() == single["call_key"].tolist()
    assert more["cached"].tolist() == [True, False, False, True, False, False]
    assert len(scripted.calls) == 6  # only the four new repeats were asked
    again = quick_client.grid(TEMPLATE, ROWS, repeats=3, temperature=0.7, progress=False)
    assert again["cached"].all() and len(scripted.calls) == 6
    assert again["output_text"].tolist() == more["output_text"].tolist()


def test_a_failed_repeat_is_not_logged_so_a_rerun_asks_only_it_again(quick_client: lb.Client, scripted: ScriptedEngine) -> None:
    scripted.fail("Sligo", times=3)  # all three repeats of Sligo fail once (not retryable)
    grid = quick_client.grid(TEMPLATE, ROWS, repeats=3, progress=False)
    assert grid["status"].tolist() == ["completed"] * 3 + ["failed"] * 3
    assert grid.loc[grid["status"] == "failed", "error"].str.contains("scripted failure on 'Sligo'").all()
    again = quick_client.grid(TEMPLATE, ROWS, repeats=3, progress=False)
    assert again["cached"].tolist() == [True] * 3 + [False] * 3
    assert (again["status"] == "completed").all() and len(scripted.calls) == 9


def test_the_keys_of_repeat_zero_are_unchanged() -> None:
    prompt = lb.Prompt(prompt_id="pmpt_" + "0" * 48, version=1, prompt="Hi {{name}}", variables=["name"])
    task = Task(0, {"name": "Ann"}, {"name": "Ann"}, prompt, "m")
    # The key a grid gave this cell before repeats existed (committed cassettes and run logs depend on it).
    assert cache_key(task, {}) == "dcd8426e672af57116fbd8617d4d84d6cae035a8e0635389f040c8d3869152f8"
    assert cache_key(Task(0, task.values, task.shown, prompt, "m", repeat=1), {}) != cache_key(task, {})
    assert repeat_seed("k", 1) == repeat_seed("k", 1) != repeat_seed("k", 2)
    assert 0 <= repeat_seed("k", 1) < 2**31


@pytest.mark.parametrize("repeats", [0, -1, 1.5, True, "2", None])
def test_bad_repeats_are_refused_before_any_call(quick_client: lb.Client, scripted: ScriptedEngine, repeats: object) -> None:
    with pytest.raises(lb.InvalidRequest, match=r"repeats takes a whole number of calls per cell, 1 or more"):
        quick_client.grid(TEMPLATE, ROWS, repeats=repeats, progress=False)  # type: ignore[arg-type]
    assert scripted.calls == [] and len(quick_client.prompts.list()) == 0


def test_seed_is_checked_and_refused_where_sampling_takes_none(quick_client: lb.Client) -> None:
    for bad in (-1, 2**31, 1.0, True):
        with pytest.raises(lb.InvalidRequest, match="seed must be a whole number"):
            quick_client.responses.create("hi", seed=bad)  # type: ignore[arg-type]


def test_repeats_sample_differently_on_the_embedded_model_and_the_same_in_a_fresh_home(
    client: lb.Client, engine: object, tmp_path: Path
) -> None:
    options = dict(repeats=3, temperature=0.9, max_output_tokens=12, progress=False)
    grid = client.grid("Write one line about {{topic}}.", pd.DataFrame({"topic": ["tides"]}), **options)
    assert grid["output_text"].nunique() == 3  # a seed per repeat: three samples
    with lb.Client(tmp_path / "other-home", engine=engine) as fresh:
        again = fresh.grid("Write one line about {{topic}}.", pd.DataFrame({"topic": ["tides"]}), **options)
    assert again["output_text"].tolist() == grid["output_text"].tolist() and not again["cached"].any()
