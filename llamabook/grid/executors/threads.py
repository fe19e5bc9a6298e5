"""``executor="threads"``: each call made from a worker thread, at most ``concurrency`` at once.

Rate limits and server errors (429, 5xx, timeouts, unreachable servers) are retried with
exponential backoff, honouring Retry-After (:class:`~llamabook.grid.cells.RetryPolicy`); a call
that still fails becomes a row with its error. The checks run in the worker right after each
answer, so judges run concurrently too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..pool import run_cells

if TYPE_CHECKING:
    from ..task import Task
    from ..spec import GridClient, GridSpec
    from . import GridRun

OPTIONS: tuple[str, ...] = ()
OPTIONS_ABOUT = ""


@dataclass
class ThreadExecutor:
    """Calls the backend from the grid's worker threads."""

    models_here: bool = True
    columns: Sequence[str] = ()

    def run(self, tasks: Sequence[Task], grid: GridRun) -> None:
        run_cells(grid.cells, tasks, grid.spec.concurrency, grid.spec.progress, done=grid.done)


def make(client: GridClient, spec: GridSpec) -> ThreadExecutor:
    return ThreadExecutor()
