"""A grid's calls as one batch: on the server's Batches API (``executor="batch"``) or as JSONL (``"jsonl"``).

Every request is checked and typed by ``client.responses.prepare`` (as the thread executor's calls
are), rendered here into the chat messages the server would build for it (:mod:`llamabook.batch_lines`),
and written as one ``/v1/chat/completions`` line whose ``custom_id`` is the request's run-log key.

* ``"batch"``: the lines are uploaded (purpose ``batch``), a batch is created and polled with a
  progress bar, and its output and error files are read back. The plan (which batch holds which
  requests) is kept in the home (``store.batches``) as soon as the batch exists, so running the same
  grid again after the kernel died polls that batch instead of submitting another (``resume=False``
  submits afresh). Ctrl-C stops the polling only: the batch goes on, and the next run collects it.
  The wait has two limits (:class:`BatchLimits`): no change in the batch's status or request
  counts for ``batch_stall`` seconds, or no end within ``batch_timeout``, raises
  :class:`~llamabook.BatchStalled` (the plan is kept). A batch that ends ``cancelled``, ``expired``
  or ``failed``, or stays ``cancelling`` past ``batch_stall``, ends the wait: the rows it answered
  are kept, the others fail, and the plan is closed so the next run submits them afresh.
* ``"jsonl"``: the lines are written to ``path`` for another engine (OpenAI's Batch API, vLLM's
  ``run-batch``), and the plan is recorded; the same grid with ``batch_output=`` reads that
  engine's output (and error) files back.

Finished answers go to the run log like the thread executor's, with their ``batch_id`` and
``custom_id``; failed ones don't, so a re-run sends them again.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .batch_lines import ENDPOINT, chat_body, read_jsonl, request_line, result_of, to_jsonl
from . import media_fallback
from .error_translation import server_text
from .errors import (
    BatchesUnsupported,
    BatchStalled,
    EngineError,
    InvalidRequest,
    LlamabookError,
    MissingVariables,
    NotFound,
    OutputInvalid,
)
from .frames import none_if_missing
from .media import MediaOptions
from .schemas import ResolvedSchema, read_output
from .types import Batch, Prompt
from .types.grid_rows import failed_result, placed_after, result_columns
from .types.requests import ResponseRequest

if TYPE_CHECKING:
    from .backends.base import Backend, BatchJobs
    from .resources import Responses
    from .store import RunLog

EXECUTORS = ("threads", "batch", "jsonl")

#: Seconds between polls of a running batch: the first, and the most it grows to.
POLL_FIRST_S = 0.25
POLL_MAX_S = 5.0
#: The default limits of the wait for a server batch, in seconds: the whole wait, and no progress.
TIMEOUT_S = 24 * 3600.0
STALL_S = 3600.0


@dataclass(frozen=True)
class BatchLimits:
    """How long a grid waits for its server batch, and whether it follows a batch the home kept."""

    timeout_s: float = TIMEOUT_S  #: the whole wait of one grid call
    stall_s: float = STALL_S  #: no change in the batch's status or request counts
    resume: bool = True  #: follow the batch of a kept plan (False: submit afresh)


class BatchClient(Protocol):
    """What a batch run needs of a client (a :class:`~llamabook.Client` is one)."""

    backend: Backend
    responses: Responses


@dataclass
class BatchItem:
    """One request of the grid: its run-log key (the line's ``custom_id``), prompt version, values and model."""

    key: str
    row: int
    prompt: Prompt
    values: dict[str, Any]
    model: str


def check_executor(
    backend: Backend, executor: str, path: Any, batch_output: Any, *,
    batch_timeout: Any = None, batch_stall: Any = None, resume: Any = True,
) -> BatchLimits:  # fmt: skip
    """Raise before anything is stored or sent if ``executor`` can't run here or its arguments don't fit;
    return the limits of the wait for a server batch (given to :func:`run`)."""
    if executor not in EXECUTORS:
        raise InvalidRequest(f"executor must be one of {list(EXECUTORS)}, not {executor!r}")
    limits = batch_limits(executor, batch_timeout, batch_stall, resume)
    if executor != "jsonl" and (path is not None or batch_output is not None):
        raise InvalidRequest(
            "path= and batch_output= belong to executor='jsonl' (the requests written for another engine, and its output)"
        )
    if executor == "jsonl" and path is None:
        raise InvalidRequest("executor='jsonl' writes the requests to a file: give path='requests.jsonl'")
    if executor == "jsonl":
        for given in _paths(batch_output):
            if not Path(given).is_file():
                raise InvalidRequest(f"batch_output {str(given)!r} is not a file: give the output file the engine wrote")
    if executor == "batch":
        backend.batch_jobs()  # BatchesUnsupported where there is none
    return limits


def batch_limits(executor: str, batch_timeout: Any, batch_stall: Any, resume: Any) -> BatchLimits:
    """The limits of a grid's wait for its batch; :class:`InvalidRequest` for a bad one, or one given to another executor."""
    if not isinstance(resume, bool):
        raise InvalidRequest(f"resume must be True or False, not {resume!r}")
    if executor != "batch" and (batch_timeout is not None or batch_stall is not None or not resume):
        raise InvalidRequest(
            "batch_timeout=, batch_stall= and resume= are about the wait for a server batch: they belong to "
            "executor='batch' (to call again rather than reuse logged rows, pass cache=False)"
        )
    return BatchLimits(_seconds("batch_timeout", batch_timeout, TIMEOUT_S), _seconds("batch_stall", batch_stall, STALL_S), resume)


def _seconds(name: str, value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) or value <= 0:
        raise InvalidRequest(f"{name} is a number of seconds above 0 (e.g. {name}=600), not {value!r}")
    return float(value)


def run(
    client: BatchClient,
    items: Sequence[BatchItem],
    options: Mapping[str, Any],
    *,
    executor: str,
    log: RunLog | None,
    path: Any = None,
    batch_output: Any = None,
    progress: bool = True,
    limits: BatchLimits = BatchLimits(),
) -> dict[str, dict[str, Any]]:
    """Run ``items`` as one batch; a result for every item's key (answered, failed, or still pending).

    ``limits`` are what :func:`check_executor` returned. Raises :class:`~llamabook.BatchStalled`
    when the wait for a server batch reaches one.
    """
    unique = list({item.key: item for item in items}.values())
    if not unique:
        return {}
    backend = client.backend
    store = backend.store
    plans = store.batches if store is not None else None
    plan_key = _plan_key(backend.scope, executor, [item.key for item in unique])
    schema = options.get("schema")
    plan = plans.get(plan_key) if plans is not None and limits.resume else None
    models = {item.key: item.model for item in unique}
    rows: dict[str, list[int]] = {}  # a request's rows: the cells of the same request share its result
    for item in items:
        rows.setdefault(item.key, []).append(item.row)
    results: dict[str, dict[str, Any]] = {}
    # Built on a resume too: a request that can't be made is a failed row whatever the batch did.
    lines = _lines(client, unique, options, executor, results, rows)
    if executor == "jsonl":
        if batch_output is None:
            Path(path).write_bytes(to_jsonl(lines))
            if plans is not None:
                plans.start(plan_key, backend.scope, executor, len(lines), path=str(path), status="written")
            pending = f"written to {path}: run it, then call the same grid with batch_output='output.jsonl'"
            return {item.key: results.get(item.key) or {**_pending("pending", pending), "custom_id": item.key} for item in unique}
        answers = _read_outputs(batch_output, {item.key for item in unique}, models)
        return _merge(unique, answers, results, None, schema, log, plans, plan_key)
    jobs = backend.batch_jobs()
    if plan is not None and not plan.merged and plan.batch_id and _known(jobs, plan.batch_id):
        batch_id = plan.batch_id  # the kernel stopped while this batch ran: follow it again
    elif not lines:
        return results
    else:
        batch = jobs.submit(to_jsonl(lines), f"llamabook-grid-{plan_key[:12]}.jsonl", ENDPOINT, {"llamabook_plan": plan_key[:32]})
        batch_id = batch.id
        if plans is not None:
            plans.start(plan_key, backend.scope, executor, len(lines), batch_id=batch.id, input_file_id=batch.input_file_id, status=batch.status)
    try:
        batch = _follow(jobs, batch_id, len(lines) or len(unique), progress, plans, plan_key, limits)
    except KeyboardInterrupt:
        note = f"still running on the server as {batch_id}: run the same grid again to collect it"
        return {item.key: results.get(item.key) or {**_pending("in_progress", note, batch_id), "custom_id": item.key} for item in unique}
    answers = _read_batch(jobs, batch, backend.base_url or "the server", models)
    missing = _missing_result(batch, limits)
    return _merge(unique, answers, results, missing, schema, log, plans, plan_key, batch.status)


def _known(jobs: BatchJobs, batch_id: str) -> bool:
    """Whether the server still knows the batch of a kept plan (one whose state was wiped does not)."""
    try:
        jobs.retrieve(batch_id)
    except NotFound:
        return False
    except EngineError as exc:
        if exc.status_code == 404:
            return False
        raise
    return True


def _lines(
    client: BatchClient, items: Sequence[BatchItem], options: Mapping[str, Any], executor: str, failed: dict[str, dict[str, Any]],
    rows: Mapping[str, list[int]],
) -> list[dict[str, Any]]:  # fmt: skip
    """One request line per item; an item whose request can't be made gets its failed result in ``failed``."""
    backend = client.backend
    request_options = {k: v for k, v in options.items() if k != "schema"}
    schema = options.get("schema")

    def read_file(file_id: str) -> tuple[bytes, str]:
        return backend.file_content(file_id), backend.get_file(file_id).filename

    lines = []
    for item in items:
        # None, NaN, pd.NA, NaT: a missing value whatever its form, as the thread executor sees it
        empty = [name for name in item.prompt.variables if none_if_missing(item.values.get(name)) is None]
        if empty:
            advice = no_value_advice(rows.get(item.key) or [item.row], empty)
            failed[item.key] = failed_result(MissingVariables(empty, item.prompt.prompt_id, advice))
            continue
        try:
            reference = {"id": item.prompt.prompt_id, "version": str(item.prompt.version)}
            if executor == "batch":
                request = client.responses.prepare(prompt=reference, variables=item.values, model=item.model, schema=schema, **request_options)
            else:
                request = _prepare_for_another_engine(client, reference, item.values, schema, request_options, read_file)
            body = chat_body(request, read_file, item.model)
        except LlamabookError as exc:
            failed[item.key] = failed_result(exc)
            continue
        lines.append(request_line(item.key, body))
    return lines


def no_value_advice(rows: Sequence[int], names: Sequence[str]) -> str:
    """The grid's advice for rows with no value in ``names`` (several rows: the same request, one result)."""
    columns = ", ".join(map(repr, names))
    if len(rows) == 1:
        return f"Row {rows[0]} has no value in the column(s) {columns}: fill them in or leave the row out."
    listed = f"{', '.join(map(str, rows[:-1]))} and {rows[-1]}"
    return f"Rows {listed} have no value in the column(s) {columns}: fill them in or leave the rows out."


def _prepare_for_another_engine(
    client: BatchClient, reference: dict[str, str], values: dict[str, Any], schema: Any, options: dict[str, Any], read_file: Any
) -> ResponseRequest:
    """A request checked and typed here for a model this backend doesn't know (``executor="jsonl"``).

    What that model takes is not known here: media go as they are, except what the options turn into
    text (``describe_images=True``: images as descriptions; ``pdf_to_text=True``: PDFs as their text).
    """
    describe, pdf_to_text = bool(options.pop("describe_images", False)), options.pop("pdf_to_text", None)
    # checked on this backend's default model, told that it may describe images and read PDFs
    request = client.responses.prepare(prompt=reference, variables=values, schema=schema, describe_images=True, **options)
    accepts = frozenset({"text", "file"} | (set() if describe else {"image"}))
    return media_fallback.rewrite(request, MediaOptions(accepts, request.model, describe, bool(pdf_to_text)), read_file)


def _follow(
    jobs: BatchJobs, batch_id: str, total: int, progress: bool, plans: Any, plan_key: str, limits: BatchLimits = BatchLimits()
) -> Batch:
    """Poll the batch until it is finished (or ``cancelling`` with no change for ``limits.stall_s``), with a
    progress bar of its finished requests; :class:`BatchStalled` when the wait reaches a limit."""
    bar = progress_bar(total, 0, f"llamabook batch {batch_id}") if progress else None
    wait = POLL_FIRST_S
    shown = 0
    status = None
    started = changed = time.monotonic()
    seen: tuple[Any, ...] | None = None
    try:
        while True:
            batch = jobs.retrieve(batch_id)
            now = time.monotonic()
            counts = batch.request_counts
            state = (batch.status, counts.completed if counts else None, counts.failed if counts else None)
            if state != seen:
                seen, changed = state, now
            if bar is not None:
                done = min(batch.done_count, total)
                bar.update(done - shown)
                shown = done
                bar.set_postfix_str(batch.status, refresh=False)
            if plans is not None and batch.status != status:
                plans.set_status(plan_key, batch.status)
                status = batch.status
            if batch.finished:
                return batch
            if now - changed >= limits.stall_s:
                if batch.status == "cancelling":  # cancelled, for all that will ever happen
                    return batch
                raise BatchStalled(batch_id, batch.status, "batch_stall", limits.stall_s, now - started, batch.done_count, total)
            if now - started >= limits.timeout_s:
                raise BatchStalled(batch_id, batch.status, "batch_timeout", limits.timeout_s, now - started, batch.done_count, total)
            # never sleep past a limit: a test's limit of a second is kept to the poll
            time.sleep(max(0.01, min(wait, changed + limits.stall_s - now, started + limits.timeout_s - now)))
            wait = min(wait * 1.5, POLL_MAX_S)
    finally:
        if bar is not None:
            bar.close()


def _read_batch(jobs: BatchJobs, batch: Batch, where: str, models: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The answers in a finished batch's files, by ``custom_id``; errors typed as the server's (``where``)."""
    answers: dict[str, dict[str, Any]] = {}
    for file_id in (batch.error_file_id, batch.output_file_id):  # output last: it wins over an error of the same line
        if file_id:
            for line in read_jsonl(jobs.content(file_id), f"batch {batch.id}'s file {file_id}"):
                found = result_of(line, batch.id, where=where, models=models)
                if found is not None:
                    answers[found[0]] = found[1]
    return answers


def _read_outputs(given: Any, keys: set[str], models: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The answers in another engine's output (and error) files, by ``custom_id``."""
    answers: dict[str, dict[str, Any]] = {}
    for source in _paths(given):
        for line in read_jsonl(Path(source).read_bytes(), str(source)):
            found = result_of(line, None, models=models)
            if found is not None and found[0] in keys:
                answers[found[0]] = found[1]
    if not answers:
        raise InvalidRequest(
            f"batch_output {', '.join(map(str, _paths(given)))} answers none of this grid's requests (no line's "
            "custom_id is one of them): is it the output of the file this grid wrote, for the same rows and options?"
        )
    return answers


def _merge(
    items: Sequence[BatchItem], answers: dict[str, dict[str, Any]], failed: dict[str, dict[str, Any]],
    missing: dict[str, Any] | None, schema: ResolvedSchema | None, log: RunLog | None, plans: Any, plan_key: str,
    status: str = "merged",
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Every item's result: its answer (checked against ``schema``, logged when finished) or why it has none."""
    results: dict[str, dict[str, Any]] = {}
    finished: dict[str, dict[str, Any]] = {}
    for item in items:
        answer = answers.get(item.key)
        if answer is None:
            results[item.key] = failed.get(item.key) or {**(missing or _pending("pending", "not in the output files")), "custom_id": item.key}
            continue
        if schema is not None and answer["status"] in ("completed", "incomplete"):
            answer = _with_schema(answer, schema)
        results[item.key] = {**answer, "cached": False}
        if answer["status"] in ("completed", "incomplete") or answer.get("valid") is False:
            finished[item.key] = answer
    if log is not None and finished:
        log.put_many(finished)  # before the plan is marked merged: a crash between them only reads the batch again
    if plans is not None:
        plans.set_status(plan_key, status, merged=True)
    return results


def _with_schema(answer: dict[str, Any], schema: ResolvedSchema) -> dict[str, Any]:
    """An answer checked against the grid's schema: ``valid``, or a failed row with ``OutputInvalid``."""
    _, errors = read_output(answer.get("output_text") or "", schema, cut_off=bool(answer.get("cut_off")))
    if not errors:
        return {**answer, "valid": True}
    invalid = OutputInvalid(errors, answer.get("output_text") or "", cut_off=bool(answer.get("cut_off")))
    return {**answer, "status": "failed", "error": f"OutputInvalid: {invalid}", "valid": False}


def _missing_result(batch: Batch, limits: BatchLimits = BatchLimits()) -> dict[str, Any]:
    """The result of a request the finished batch (or one left ``cancelling``) returned nothing for."""
    again = "; the next run of the grid sends it again"
    if batch.status == "cancelled":
        status, error = "cancelled", f"BatchCancelled: batch {batch.id} was cancelled before this request finished{again}"
    elif batch.status == "cancelling":
        said = f"the server left it 'cancelling' with no change for {limits.stall_s:g} s (batch_stall)"
        status, error = "cancelled", f"BatchCancelled: batch {batch.id} was cancelled: {said}, with no answer for this request{again}"
    elif batch.status == "expired":
        status, error = "failed", f"BatchExpired: batch {batch.id} expired before this request ran{again}"
    elif batch.status == "failed":
        status, error = "failed", f"BatchFailed: batch {batch.id} failed: {server_text(batch.failure_text())}{again}"
    else:
        status, error = "failed", f"BatchRequestFailed: batch {batch.id} returned no answer for this request"
    return {"status": status, "error": error, "batch_id": batch.id}


def _pending(status: str, note: str, batch_id: str | None = None) -> dict[str, Any]:
    return {"status": status, "error": note, "batch_id": batch_id, "cached": False}


def _plan_key(scope: str, executor: str, keys: Iterable[str]) -> str:
    plan = {"scope": scope, "executor": executor, "endpoint": ENDPOINT, "requests": sorted(keys)}
    return hashlib.sha256(json.dumps(plan).encode()).hexdigest()


def _paths(given: Any) -> list[Any]:
    if given is None:
        return []
    return list(given) if isinstance(given, (list, tuple)) else [given]


def progress_bar(total: int, done: int, desc: str) -> Any:
    """A tqdm bar (notebook-aware), or None without tqdm."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=done, desc=desc, unit="call")


def batch_columns(frame: Any, results: Sequence[Mapping[str, Any]]) -> Any:
    """``frame`` with ``batch_id`` and ``custom_id`` after ``response_id`` (the batch executors' columns).

    The columns, their dtypes and their place come from :class:`~llamabook.types.grid_rows.GridResult`.
    """
    import pandas as pd

    added = result_columns("batch")
    at = list(frame.columns).index(placed_after(added[0].name)) + 1
    for offset, column in enumerate(added):
        frame.insert(at + offset, column.name, pd.array([r.get(column.name) for r in results], dtype=column.dtype))
    return frame


__all__ = [
    "EXECUTORS", "BatchItem", "BatchLimits", "BatchStalled", "BatchesUnsupported", "batch_columns", "batch_limits",
    "check_executor", "progress_bar", "run",
]  # fmt: skip
