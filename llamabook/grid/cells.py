"""One cell of a grid: its call (with retries), its checks, and how its result lands.

A cell runs on a copy of its task and lands whole or not at all: its result and checks are set on
the task, and its rows (the response, the run-log row) go to the grid's writer as one
:class:`~llamabook.store.Unit`. A cell the grid has dropped (a second Ctrl-C) lands nothing.
"""

from __future__ import annotations

import dataclasses
import json
import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import EngineError, MissingVariables, OutputInvalid
from ..evaluation.checks import CHECKED_STATUSES, CheckSet
from ..store.writer import Unit
from ..types.grid_rows import failed_result
from ..types.requests import ResponseOptions
from .rows import no_value_advice

if TYPE_CHECKING:
    from ..resources.responses import PinnedPrompt
    from ..store import RunLog, Writer
    from ..types import Prompt, Response
    from .task import Task
    from .spec import GridClient


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter; a server's Retry-After wins when it is given."""

    retries: int = 3
    base_s: float = 0.5
    max_s: float = 30.0

    def delay(self, attempt: int, error: EngineError) -> float:
        if error.retry_after is not None:
            return min(error.retry_after, self.max_s)
        return min(self.base_s * 2**attempt, self.max_s) * (0.5 + random.random() / 2)


class Cells:
    """How a grid's cells are called, checked and landed; shared by its worker threads."""

    def __init__(
        self, client: GridClient, log: RunLog | None, writer: Writer | None, retry: RetryPolicy,
        options: dict[str, Any], checks: CheckSet | None,
    ) -> None:  # fmt: skip
        self.client = client
        self.log = log
        self.writer = writer
        self.retry = retry
        self.options = options
        # the same for every call, so made once: a call reads them, it doesn't rebuild or re-resolve them
        self.input = options.get("input")
        self.response_options = ResponseOptions(**{k: v for k, v in options.items() if k != "input"})
        self.checks = checks
        #: set when no new call may start (the grid is done, or interrupted); a backoff wakes on it
        self.stopping = threading.Event()
        #: set by a Ctrl-C: the grid returns what it has
        self.interrupted = False
        # Each version resolved once for all its calls (versions are immutable), not read per call.
        self._pinned: dict[tuple[str, int], PinnedPrompt] = {}
        self._pinning = threading.Lock()
        self._units: list[tuple[Task, Unit]] = []
        # A finished cell lands under this lock, unless the grid has dropped the cells in flight.
        self._landing = threading.Lock()
        self._dropped = False

    def attempt(self, task: Task) -> Unit | None:
        """Run one cell (a call, or the checks of an answered row) on a copy, then land it whole or not at all.

        Returns the unit handed to the writer (None without one, or when the cell was dropped).
        """
        work = dataclasses.replace(task)
        unit = Unit() if self.writer is not None else None
        if work.result:
            self.recheck(work, unit)
        else:
            self.call(work, unit)
        with self._landing:
            if self._dropped:
                return None  # its unit is never submitted: nothing of it is written
            task.result, task.checks = work.result, work.checks
            if unit is not None and self.writer is not None:
                self.writer.submit(unit)
                self._units.append((task, unit))
            task.finished = True
        return unit

    def drop_in_flight(self) -> None:
        """From now on no cell lands (a second Ctrl-C): the calls still running keep nothing."""
        with self._landing:
            self._dropped = True

    def settle(self) -> None:
        """Wait for the landed cells' rows to be committed; a cell whose rows could not be stored fails, as it would inline."""
        if self.writer is None:
            return
        self.writer.flush()
        for task, unit in self._units:
            if unit.error is not None and task.result.get("status") != "cancelled":
                task.result = failed_result(unit.error, task.result.get("attempts") or 1, None)

    def pinned(self, prompt: Prompt) -> PinnedPrompt:
        """``prompt`` (a version this grid read from the backend) pinned with its default schema, once per grid."""
        key = (prompt.prompt_id, prompt.version)
        found = self._pinned.get(key)
        if found is None:
            with self._pinning:
                found = self._pinned.get(key)
                if found is None:
                    found = self._pinned[key] = self.client.responses.pin(prompt)
        return found

    def call(self, task: Task, unit: Unit | None = None) -> None:
        """Call the model for ``task`` (retrying what may pass on a retry), then check and log its result."""
        empty = [name for name in task.prompt.variables if name not in task.values]
        if empty:  # this row's cells are empty: say so in the grid's terms, and send nothing
            advice = no_value_advice([task.row], empty)  # the prompt as its user named it (its id is in the row)
            task.result = failed_result(MissingVariables(empty, None, advice, named=task.named), 0, None)
            return
        attempts = 0
        while not self.stopping.is_set():
            attempts += 1
            try:
                pinned = self.pinned(task.prompt)
                options = self.response_options if task.seed is None else dataclasses.replace(self.response_options, seed=task.seed)
                response = pinned.create(task.values, model=task.model, input=self.input, options=options, unit=unit)
            except OutputInvalid as exc:  # a real answer: logged, so a rerun asks again only if the schema changes
                task.result = _invalid(exc, attempts)
                self._log(task, {k: v for k, v in task.result.items() if k != "cached"}, unit)
                return
            except EngineError as exc:
                if exc.retryable and attempts <= self.retry.retries:
                    if self.stopping.wait(self.retry.delay(attempts - 1, exc)):
                        return  # interrupted while backing off: this cell is cancelled
                    continue
                failed = getattr(exc, "response", None)
                task.result = failed_result(exc, attempts, failed.id if failed is not None else None)
                return
            except Exception as exc:  # a LlamabookError, or a bug or an odd value: this row fails, the grid goes on
                task.result = failed_result(exc, attempts, None)
                return
            self._answered(task, response, attempts, unit)
            return

    def _answered(self, task: Task, response: Response, attempts: int, unit: Unit | None) -> None:
        result = _success(response, attempts)
        if "schema" in self.options:
            result["valid"] = True
        task.result = {**result, "cached": False}
        if self.checks is not None:
            task.checks = self.checks.run(task.shown, task.check_input(), self.client)
            result["verdicts"] = CheckSet.to_keep(task.checks)
        self._log(task, result, unit)

    def recheck(self, task: Task, unit: Unit | None = None) -> None:
        """Checks on an answered row: kept verdicts are used, new ones are logged with it."""
        if self.checks is None or task.result.get("status") not in CHECKED_STATUSES:
            return
        kept = task.result.get("verdicts") or {}
        task.checks = self.checks.run(task.shown, task.check_input(), self.client, kept)
        verdicts = {**kept, **CheckSet.to_keep(task.checks)}
        if verdicts != kept:
            logged = {k: v for k, v in task.result.items() if k != "cached"}
            self._log(task, {**logged, "verdicts": verdicts}, unit)

    def _log(self, task: Task, result: dict[str, Any], unit: Unit | None) -> None:
        if self.log is not None:
            self.log.put(task.key, result, unit)


def _success(response: Response, attempts: int) -> dict[str, Any]:
    usage = response.usage
    calls = response.tool_calls
    return {
        "output_text": response.output_text,
        "tool_calls": json.dumps([{"name": c.name, "arguments": c.arguments, "call_id": c.call_id} for c in calls]),
        "tool_name": calls[0].name if calls else None,
        "status": response.status,
        "cut_off": response.cut_off,
        "error": None,
        "input_tokens": response.input_tokens,  # None where the server reported no usage, never 0
        "output_tokens": usage.output_tokens if usage else None,
        "latency_s": response.latency_s,  # None for an answer replayed from a cassette
        "replayed": response.replayed,
        "response_id": response.id,
        "attempts": attempts,
    }


def _invalid(exc: OutputInvalid, attempts: int) -> dict[str, Any]:
    """A row for an output that doesn't follow the schema (or the tool choice): failed, its raw text and usage kept,
    ``valid`` False."""
    kept = _success(exc.response, attempts) if exc.response is not None else {"output_text": exc.raw, "cut_off": exc.cut_off}
    error = f"{type(exc).__name__}: {exc}"  # OutputInvalid, or a subclass (ToolChoiceIgnored) by its own name
    return {**kept, "status": "failed", "error": error, "valid": False, "attempts": attempts, "cached": False}
