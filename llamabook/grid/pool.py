"""A grid's worker threads: cells run with bounded concurrency, a progress bar, and Ctrl-C handled.

No event loop of its own, so it is safe inside a running Jupyter kernel. Ctrl-C (KeyboardInterrupt)
starts no new cell, waits for the cells in flight and keeps them (their rows land in the run log),
and marks the rest ``cancelled``. A second Ctrl-C drops the cells still in flight instead: nothing
of theirs is written, then or later.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .progress import progress_bar

if TYPE_CHECKING:
    from ..store import Unit
    from .cells import Cells
    from .task import Task

#: What a cell interrupted before it finished says.
CANCELLED = {"status": "cancelled", "error": "interrupted before this call finished"}


def run_cells(cells: Cells, tasks: Sequence[Task], concurrency: int, progress: bool, *, done: int = 0, desc: str = "llamabook grid") -> None:
    """Run every task's cell on up to ``concurrency`` threads; ``done`` more are already finished (for the bar)."""
    if cells.interrupted:  # an earlier pass of this grid was: nothing more runs
        for task in tasks:
            task.result = task.result or dict(CANCELLED)
        return
    cells.stopping.clear()
    bar = progress_bar(len(tasks) + done, done, desc) if progress else None
    todo = deque(tasks)
    # Each worker says when it has ended. Not Thread.is_alive(): a join interrupted by Ctrl-C
    # marks the thread it waited for as stopped while it still runs (CPython 3.11's bpo-45274 fix).
    ends = [threading.Event() for _ in range(min(concurrency, max(1, len(tasks))))]
    # Daemon threads: a call dropped by a second Ctrl-C may still be running as the kernel goes on.
    for number, ended in enumerate(ends):
        threading.Thread(target=_work, args=(cells, todo, ended), name=f"llamabook-grid-{number}", daemon=True).start()
    try:
        _wait(ends, tasks, bar)
    except KeyboardInterrupt:
        cells.interrupted = True
        cells.stopping.set()  # no new call
        try:
            _wait_in_flight(ends)  # their rows land: the next run needn't repeat them
        except KeyboardInterrupt:
            cells.drop_in_flight()  # from now on nothing of theirs is written
        for task in tasks:
            if not task.result:
                task.result = dict(CANCELLED)
    finally:
        cells.stopping.set()
        cells.settle()
        if bar is not None:
            bar.close()


def _work(cells: Cells, todo: deque[Task], ended: threading.Event) -> None:
    """One worker: cells from ``todo`` until none is left or the grid stops."""
    older: Unit | None = None  # the rows of this worker's call before last
    last: Unit | None = None
    try:
        while not cells.stopping.is_set():
            try:
                task = todo.popleft()
            except IndexError:
                return
            if older is not None:
                older.wait()  # at most one finished call per worker not yet committed
            older, last = last, cells.attempt(task)
    finally:
        ended.set()


def _wait(ends: list[threading.Event], tasks: Sequence[Task], bar: Any) -> None:
    """Until every worker has ended, moving the bar.

    Polled rather than signalled per call: waking this thread 1,000 times costs the workers GIL
    hand-offs. A wait with a timeout stays interruptible by Ctrl-C.
    """
    shown = 0
    for ended in ends:
        while not ended.wait(timeout=0.1):
            if bar is not None:
                finished = sum(1 for task in tasks if task.finished)
                bar.update(finished - shown)
                shown = finished
    if bar is not None:
        bar.update(sum(1 for task in tasks if task.finished) - shown)


def _wait_in_flight(ends: list[threading.Event]) -> None:
    busy = sum(not ended.is_set() for ended in ends)
    if busy:
        print(
            f"llamabook: grid interrupted; finishing the {busy} call(s) in flight so they are kept "
            "(Ctrl-C again to drop them)",
            file=sys.stderr,
        )
    for ended in ends:
        while not ended.wait(timeout=0.1):
            pass
