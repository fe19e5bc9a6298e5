"""The grid's executor seam: an executor is one module in ``llamabook/grid/executors/``, found by its name.

A new executor is written here as a module in a temporary folder added to the package's path, as if
it had been dropped into ``llamabook/grid/executors/``: nothing else in llamabook is touched, and the
grid plans, checks, logs and lays out its answers like any other executor's. Runs on the scripted
engine and a real home.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import llamabook as lb
from llamabook import checks
from llamabook.grid import executors

TEMPLATE = "Say {{word}}"
ROWS = [{"word": "alpha"}, {"word": "beta"}, {"word": "gamma"}]

#: An executor that answers each call with its word reversed, without any model.
MIRROR = '''
from dataclasses import dataclass
from llamabook.errors import InvalidRequest

OPTIONS = ("path",)
OPTIONS_ABOUT = "where the mirror writes nothing"
made = []


def make(client, spec):
    if spec.concurrency > 2:
        raise InvalidRequest("the mirror runs at concurrency 1 or 2")
    made.append(spec)
    return Mirror()


@dataclass
class Mirror:
    models_here: bool = True
    columns: tuple = ()

    def run(self, tasks, grid):
        for task in tasks:
            task.result = {
                "status": "completed", "output_text": task.values["word"][::-1], "error": None,
                "cut_off": False, "cached": False, "attempts": 1,
            }
            grid.log.put(task.key, {k: v for k, v in task.result.items() if k != "cached"})
'''


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    folder = tmp_path / "more_executors"
    folder.mkdir()
    (folder / "mirror.py").write_text(MIRROR)
    monkeypatch.setattr(executors, "__path__", [*executors.__path__, str(folder)])
    yield
    sys.modules.pop("llamabook.grid.executors.mirror", None)


def test_the_executors_are_found_by_name_threads_first() -> None:
    assert executors.names() == ["threads", "batch", "jsonl"]


def test_an_executor_dropped_into_the_folder_runs_a_grid_with_nothing_else_changed(mirror: object, quick_client: lb.Client) -> None:
    assert "mirror" in executors.names()
    grid = quick_client.grid(TEMPLATE, ROWS, executor="mirror", concurrency=2, progress=False, checks={"short": checks.max_words(1)})
    assert grid["output_text"].tolist() == ["ahpla", "ateb", "ammag"]
    assert grid["check_short"].tolist() == [True, True, True]  # the grid checked the executor's answers
    assert not grid["cached"].any()
    again = quick_client.grid(TEMPLATE, ROWS, executor="mirror", concurrency=1, progress=False)
    assert again["cached"].all() and again["output_text"].tolist() == grid["output_text"].tolist()  # from the run log


def test_a_new_executor_checks_its_own_options_before_anything_is_stored(mirror: object, quick_client: lb.Client) -> None:
    with pytest.raises(lb.InvalidRequest, match="concurrency 1 or 2"):
        quick_client.grid(TEMPLATE, ROWS, executor="mirror", concurrency=4, progress=False)
    with pytest.raises(lb.InvalidRequest, match=r"batch_timeout=, batch_stall= and resume= belong to executor='batch'"):
        quick_client.grid(TEMPLATE, ROWS, executor="mirror", concurrency=1, batch_stall=5, progress=False)
    assert quick_client.prompts.list() == []  # nothing was stored


def test_an_unknown_executor_lists_the_ones_there_are(quick_client: lb.Client) -> None:
    with pytest.raises(lb.InvalidRequest, match=r"executor must be one of \['threads', 'batch', 'jsonl'\], not 'cluster'"):
        quick_client.grid(TEMPLATE, ROWS, executor="cluster", progress=False)
