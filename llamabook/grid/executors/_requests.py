"""What the batch and JSONL executors share: a grid's tasks as chat-completions request lines, and the
answers read back as the tasks' results.

Every request is checked and typed by ``client.responses.prepare`` (as the thread executor's calls
are), rendered into the chat messages the server would build for it (:mod:`llamabook.grid.lines`),
and written as one ``/v1/chat/completions`` line whose ``custom_id`` is the request's run-log key.
Cells with the same key are one request, and share its result. Finished answers go to the run log
like the thread executor's, with their ``batch_id`` and ``custom_id``; failed ones don't, so a
re-run sends them again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import LlamabookError, MissingVariables, OutputInvalid
from ...frames import none_if_missing
from ...schemas import ResolvedSchema, read_output
from ...types.grid_rows import failed_result
from ...types.requests import ResponseRequest
from ..lines import ENDPOINT, chat_body, request_line
from ..rows import no_value_advice

if TYPE_CHECKING:
    from ...store import RunLog
    from ..task import Task
    from ..spec import GridClient

#: ``(client, reference, values, model, options) -> request``: how an executor prepares one request.
Prepare = Callable[["GridClient", dict[str, str], dict[str, Any], str, dict[str, Any]], ResponseRequest]


@dataclass
class Requests:
    """A grid's fresh tasks as its requests: one per run-log key."""

    unique: list[Task]
    #: a request's rows: the cells of the same request share its result
    rows: dict[str, list[int]]
    #: the plan's key in the home (``store.batches``): which batch holds which requests
    plan_key: str
    #: results known before any answer: the requests that can't be made
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def models(self) -> dict[str, str]:
        return {task.key: task.model for task in self.unique}


def requests_of(tasks: Sequence[Task], scope: str, executor: str) -> Requests:
    unique = list({task.key: task for task in tasks}.values())
    rows: dict[str, list[int]] = {}
    for task in tasks:
        rows.setdefault(task.key, []).append(task.row)
    return Requests(unique, rows, plan_key(scope, executor, [task.key for task in unique]))


def plan_key(scope: str, executor: str, keys: Iterable[str]) -> str:
    plan = {"scope": scope, "executor": executor, "endpoint": ENDPOINT, "requests": sorted(keys)}
    return hashlib.sha256(json.dumps(plan).encode()).hexdigest()


def request_lines(client: GridClient, requests: Requests, options: Mapping[str, Any], prepare: Prepare) -> list[dict[str, Any]]:
    """One request line per request; one whose request can't be made gets its failed result in ``requests.results``."""
    backend = client.backend
    request_options = {k: v for k, v in options.items() if k != "schema"}
    request_options["schema"] = options.get("schema")

    def read_file(file_id: str) -> tuple[bytes, str]:
        return backend.file_content(file_id), backend.get_file(file_id).filename

    lines = []
    for task in requests.unique:
        # None, NaN, pd.NA, NaT: a missing value whatever its form, as the thread executor sees it
        empty = [name for name in task.prompt.variables if none_if_missing(task.values.get(name)) is None]
        if empty:
            advice = no_value_advice(requests.rows.get(task.key) or [task.row], empty)
            requests.results[task.key] = failed_result(MissingVariables(empty, None, advice, named=task.named))
            continue
        try:
            reference = {"id": task.prompt.prompt_id, "version": str(task.prompt.version)}
            request = prepare(client, reference, task.values, task.model, dict(request_options))
            body = chat_body(request, read_file, task.model)
        except LlamabookError as exc:
            requests.results[task.key] = failed_result(exc)
            continue
        lines.append(request_line(task.key, body))
    return lines


def merge(
    requests: Requests, answers: dict[str, dict[str, Any]], missing: dict[str, Any] | None, schema: ResolvedSchema | None,
    log: RunLog | None,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Every request's result: its answer (checked against ``schema``, logged when finished) or why it has none."""
    results: dict[str, dict[str, Any]] = {}
    finished: dict[str, dict[str, Any]] = {}
    for task in requests.unique:
        answer = answers.get(task.key)
        if answer is None:
            nothing = missing or pending("pending", "not in the output files")
            results[task.key] = requests.results.get(task.key) or {**nothing, "custom_id": task.key}
            continue
        if schema is not None and answer["status"] in ("completed", "incomplete"):
            answer = with_schema(answer, schema)
        results[task.key] = {**answer, "cached": False}
        if answer["status"] in ("completed", "incomplete") or answer.get("valid") is False:
            finished[task.key] = answer
    if log is not None and finished:
        log.put_many(finished)  # before the plan is marked merged: a crash between them only reads the answers again
    return results


def with_schema(answer: dict[str, Any], schema: ResolvedSchema) -> dict[str, Any]:
    """An answer checked against the grid's schema: ``valid``, or a failed row with ``OutputInvalid``."""
    _, errors = read_output(answer.get("output_text") or "", schema, cut_off=bool(answer.get("cut_off")))
    if not errors:
        return {**answer, "valid": True}
    invalid = OutputInvalid(errors, answer.get("output_text") or "", cut_off=bool(answer.get("cut_off")))
    return {**answer, "status": "failed", "error": f"OutputInvalid: {invalid}", "valid": False}


def pending(status: str, note: str, batch_id: str | None = None) -> dict[str, Any]:
    """The result of a request with no answer yet."""
    return {"status": status, "error": note, "batch_id": batch_id, "cached": False}


def unanswered(requests: Requests, status: str, note: str, batch_id: str | None = None) -> dict[str, dict[str, Any]]:
    """Every request's result while its answers are still to come: those known, else ``pending(status, note)``."""
    waiting = pending(status, note, batch_id)
    return {t.key: requests.results.get(t.key) or {**waiting, "custom_id": t.key} for t in requests.unique}


def fill(tasks: Sequence[Task], results: Mapping[str, dict[str, Any]]) -> None:
    """Give each task its request's result."""
    for task in tasks:
        task.result = results[task.key]
