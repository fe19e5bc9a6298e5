"""How a grid's calls are made: one module per executor, each behind :class:`Executor`.

``executor="threads"`` (:mod:`.threads`) calls the backend from worker threads; ``"batch"``
(:mod:`.batch`) sends the calls as one job to the server's Batches API; ``"jsonl"`` (:mod:`.jsonl`)
writes them for another engine and reads its answers back. An executor is found by its name:
adding one means adding a module here that defines

* ``OPTIONS``: the grid options it takes among :data:`EXECUTOR_OPTIONS` (any other one given
  with it is refused), and ``OPTIONS_ABOUT``, what they are about (said when they are misused);
* ``make(client, spec) -> Executor``: check what it can before anything is stored or sent
  (raising :class:`~llamabook.InvalidRequest`), and return the executor.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from ..._lazy import load
from ...errors import InvalidRequest

if TYPE_CHECKING:
    from ...store import RunLog
    from ..cells import Cells
    from ..task import Task
    from ..spec import GridClient, GridSpec

#: The grid options that belong to one executor or another, with their defaults (those of GridSpec).
EXECUTOR_OPTIONS: dict[str, Any] = {"path": None, "batch_output": None, "batch_timeout": None, "batch_stall": None, "resume": True}


@dataclass
class GridRun:
    """What an executor is given to answer a grid's tasks."""

    client: GridClient
    spec: GridSpec
    #: the run log (None with ``cache=False`` or without a home)
    log: RunLog | None
    #: how a cell is called, checked and landed (the thread executor's work; the checks of any executor's answers)
    cells: Cells
    #: the response options, with the resolved schema under ``"schema"`` when there is one
    options: dict[str, Any]
    #: the grid's tasks already answered (from the run log), for a progress bar
    done: int = 0


class Executor(Protocol):
    """Makes a grid's calls."""

    #: whether its models are this backend's (checked before any call); False for another engine's
    models_here: bool
    #: the result-column groups it adds to the frame (:mod:`llamabook.types.grid_rows`), e.g. ``("batch",)``
    columns: Sequence[str]

    def run(self, tasks: Sequence[Task], grid: GridRun) -> None:
        """Answer every task in ``tasks`` (none is in the run log): set its ``result``, answered,
        failed, pending or cancelled. One that checks its answers as they come sets their ``checks``
        too; the grid checks the others afterwards."""
        ...


def names() -> list[str]:
    """The executors there are, ``"threads"`` first."""
    found = sorted(module.name for module in pkgutil.iter_modules(__path__) if not module.name.startswith("_"))
    return sorted(found, key=lambda name: name != "threads")


def find(name: Any) -> ModuleType:
    """The module of the executor called ``name``."""
    known = names()
    if name not in known:
        raise InvalidRequest(f"executor must be one of {known}, not {name!r}")
    return load(f"{__name__}.{name}")


def make(client: GridClient, spec: GridSpec) -> Executor:
    """The executor ``spec`` asks for, checked with its options before anything is stored or sent."""
    module = find(spec.executor)
    misplaced = [name for name, default in EXECUTOR_OPTIONS.items() if _given(getattr(spec, name), default) and name not in module.OPTIONS]
    if misplaced:
        owner = next(find(other) for other in names() if misplaced[0] in find(other).OPTIONS)
        owned = [f"{name}=" for name in EXECUTOR_OPTIONS if name in owner.OPTIONS]
        listed = " and ".join(owned) if len(owned) < 3 else f"{', '.join(owned[:-1])} and {owned[-1]}"
        raise InvalidRequest(f"{listed} belong to executor={owner.__name__.rpartition('.')[2]!r} ({owner.OPTIONS_ABOUT})")
    return module.make(client, spec)


def _given(value: Any, default: Any) -> bool:
    return value is not default and value != default
