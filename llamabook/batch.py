"""``client.grid``: a prompt over rows × versions × models, concurrently, as a DataFrame.

* Bounded concurrency on a thread pool (no event loop of its own, so it is safe inside a
  running Jupyter kernel; ``AsyncClient.grid`` awaits it on a worker thread).
* Every finished call goes to a run log in the client's home, keyed by a hash of the full
  request (template text, variable values, model, options), so running the same grid again
  makes no repeated call: finished rows come from the log (``cached=True``). A call's rows are
  committed by the home's writer thread a few milliseconds after it finishes (a worker waits for
  its previous call's rows before it starts another), so a killed kernel repeats at most one
  finished call per worker; the grid returns once every row is committed. The log is read in
  chunked ``IN (…)`` queries, never one per row.
* ``executor="batch"`` / ``"jsonl"`` send the calls not in the log as one batch instead
  (:mod:`llamabook.server_batches`); only the checks then run here.
* Rate limits and server errors (429, 5xx, timeouts, unreachable servers) are retried with
  exponential backoff, honouring Retry-After; a call that still fails becomes a row with its
  error, never a lost grid.
* Ctrl-C (KeyboardInterrupt) starts no new call, waits for the calls in flight and keeps them
  (their rows land in the run log), and returns the rows finished so far; the rest are
  ``cancelled``. A second Ctrl-C drops the calls still in flight instead: nothing of theirs is
  written, then or later. Running the same grid again makes only the calls that are missing.
* ``checks=`` (``llamabook.checks``) run on each successful result inside the worker, so judges
  run concurrently too. The run log keeps a judge's verdict (keyed by the question asked, the
  answer and the judge model); on a cached row the other checks are computed again (they cost
  nothing and may have changed under the same name), and a judge is asked only when no verdict
  for that exact question is kept (a failed judge is asked again).
* ``schema=`` (``llamabook.schema_columns``) sends every call with that schema and adds one typed
  column per top-level field after ``output_text``, then ``valid``. An output that doesn't
  validate makes a failed row (``OutputInvalid: …``) with its raw text and null fields; it is logged
  too, so a rerun makes no new call.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import sys
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import TYPE_CHECKING, Any, Protocol

from . import server_batches
from .checks import CHECKED_STATUSES, CheckInput, CheckSet, Outcome
from .errors import EngineError, InvalidRequest, LlamabookError, MissingVariables, OutputInvalid, VersionNotFound
from .frames import none_if_missing
from .inputs import classify
from .schema_columns import FieldColumn, field_columns
from .schemas import ResolvedSchema, resolve
from .templates import placeholders
from .types import Prompt
from .types.grid_rows import ROW, failed_result, placed_after, result_columns, result_dtypes
from .types.refs import looks_like_ref
from .types.requests import ResponseOptions

if TYPE_CHECKING:
    import pandas

    from .backends.base import Backend
    from .resources import Models, Prompts, Responses
    from .resources.responses import PinnedPrompt
    from .store.database import DeferredWrites
    from .store import RunLog


class GridClient(Protocol):
    """What a grid needs of a client (a :class:`~llamabook.Client` is one)."""

    backend: Backend
    prompts: Prompts
    responses: Responses
    models: Models

#: Result columns after the row's own columns, with their pandas dtypes (those every grid has, from
#: :class:`~llamabook.types.grid_rows.GridResult`).
RESULT_COLUMNS: dict[str, str] = result_dtypes()

#: the response options a grid takes (``input`` and a part of :class:`~llamabook.types.requests.ResponseOptions`)
RESPONSE_OPTIONS = ("input", "instructions", "temperature", "top_p", "max_output_tokens", "describe_images", "pdf_to_text")


@dataclass(frozen=True)
class GridSpec:
    """Every option of a grid besides the prompt and the rows, as one value (see :meth:`llamabook.Client.grid`).

    ``Client.grid``'s signature lists them for users and makes this from its arguments
    (``types.requests.from_arguments``: a test keeps the two lists equal); ``run_grid`` reads it,
    and ``AsyncClient.grid`` is derived from ``Client.grid``.
    """

    versions: Sequence[int] | None = None
    models: Sequence[str] | None = None
    concurrency: int = 4
    progress: bool = True
    cache: bool = True
    retries: int = 3
    checks: Mapping[str, Any] | None = None
    schema: Any = None
    schema_prefix: str | None = None
    executor: str = "threads"
    path: Any = None
    batch_output: Any = None
    batch_timeout: float | None = None
    batch_stall: float | None = None
    resume: bool = True
    #: the response options (``RESPONSE_OPTIONS``) exactly as given: the run-log key reads them
    options: Mapping[str, Any] = field(default_factory=dict)


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


@dataclass
class Task:
    """One cell of the grid: a row of variables, a prompt version and a model."""

    row: int
    values: dict[str, Any]
    shown: dict[str, Any]
    prompt: Prompt
    model: str
    key: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, Outcome] | None = None  # None: not checked (no checks, or the call failed)
    finished: bool = False

    def check_input(self) -> CheckInput:
        """What this cell's checks see of its result."""
        where = {"prompt_id": self.prompt.prompt_id, "version": self.prompt.version, "model": self.model}
        return CheckInput.from_values({**self.result, **where})


def run_grid(client: GridClient, prompt_or_template: Any, rows: Any, spec: GridSpec | None = None) -> pandas.DataFrame:
    """See :meth:`llamabook.Client.grid`; ``spec`` holds its options (the defaults when None)."""
    spec = spec or GridSpec()
    versions, models, executor, options = spec.versions, spec.models, spec.executor, dict(spec.options)
    unknown = set(options) - set(RESPONSE_OPTIONS)
    if unknown:
        raise InvalidRequest(f"grid() does not take {sorted(unknown)}; response options are {list(RESPONSE_OPTIONS)}")
    limits = server_batches.check_executor(
        client.backend, executor, spec.path, spec.batch_output, batch_timeout=spec.batch_timeout,
        batch_stall=spec.batch_stall, resume=spec.resume,
    )  # fmt: skip
    if spec.concurrency < 1:
        raise InvalidRequest(f"concurrency must be at least 1, not {spec.concurrency}")
    records = _records(rows)
    model_ids = list(models) if models else [client.models.default()]
    available = {m.id for m in client.models.list()}
    # executor="jsonl" writes requests for another engine: its model names aren't this backend's
    missing_models = [m for m in model_ids if m not in available] if executor != "jsonl" else []
    if missing_models:
        raise InvalidRequest(f"models {missing_models} are not available here; choose from {sorted(available)}")
    checks, schema = spec.checks, spec.schema
    checking = CheckSet(checks, client=client, columns=set().union(*records) if records else None) if checks is not None else None
    resolved = resolve(schema) if schema is not None else None
    fields = _schema_fields(resolved, schema, spec.schema_prefix, records, checking)
    if isinstance(prompt_or_template, str) and not looks_like_ref(prompt_or_template):
        _check_columns(placeholders(prompt_or_template), records, None)  # before the template is stored
        if versions and list(versions) != [1]:
            raise InvalidRequest(
                f"versions={list(versions)}: a template string runs as a prompt of its own, which has only "
                "version 1. To compare versions, pass the Prompt (or its name or 'pmpt_…' id) with versions=[…]."
            )
    prompts = _prompt_versions(client, prompt_or_template, versions)
    for prompt in prompts:
        _check_columns(prompt.variables, records, prompt.prompt_id)
    # A row's shown values are computed once and shared (read only) by its versions × models.
    tasks = [
        Task(index, _declared(record, prompt), shown, prompt, model)
        for index, (record, shown) in enumerate(zip(records, map(_shown, records)))
        for prompt in prompts
        for model in model_ids
    ]
    for task, key in zip(tasks, _cache_keys(tasks, options, resolved)):
        task.key = key
    # The backend's home database (both backends keep one; none for a server backend without a home).
    store = client.backend.store
    log = store.runs if spec.cache and store is not None else None
    if log is not None:
        logged = log.get_many(task.key for task in tasks)  # chunked IN (...) queries, not one per row
        for task in tasks:
            found = logged.get(task.key)
            if not found:
                task.result = {}
            elif "cached" in found:  # a second cell with the same key (or an odd entry): a copy of its own
                task.result = {**found, "cached": True}
            else:  # a fresh dict from get_many: used as it is, so 100,000 results aren't held twice
                found["cached"] = True
                task.result = found
    runner = _Runner(client, log, RetryPolicy(retries=spec.retries), {**options, "schema": resolved} if resolved else options, checking)
    if executor != "threads":  # one batch for every call not in the log; then only the checks run here
        fresh = [t for t in tasks if not t.result]
        items = [server_batches.BatchItem(t.key, t.row, t.prompt, t.values, t.model) for t in fresh]
        answered = server_batches.run(
            client, items, runner.options, executor=executor, log=log, path=spec.path, batch_output=spec.batch_output,
            progress=spec.progress, limits=limits,
        )  # fmt: skip
        for task in fresh:
            task.result = answered[task.key]
    todo = [t for t in tasks if not t.result or checking is not None]  # cached rows are checked again
    runner.run(todo, spec.concurrency, spec.progress and (executor == "threads" or bool(todo)), done=len(tasks) - len(todo))
    frame = _frame(tasks, checking, fields)
    if executor != "threads":
        frame = server_batches.batch_columns(frame, [task.result for task in tasks])
    return frame


class _Runner:
    def __init__(
        self, client: GridClient, log: RunLog | None, retry: RetryPolicy, options: dict[str, Any], checks: CheckSet | None
    ) -> None:
        self.client = client
        self.log = log
        self.retry = retry
        self.options = options
        # the same for every call, so made once: a call reads them, it doesn't rebuild or re-resolve them
        self.input = options.get("input")
        self.response_options = ResponseOptions(**{k: v for k, v in options.items() if k != "input"})
        self.checks = checks
        self.stopping = threading.Event()
        # Each version resolved once for all its calls (versions are immutable), not read per call.
        self._pinned: dict[tuple[str, int], PinnedPrompt] = {}
        self._pinning = threading.Lock()
        # A call's rows (its response, its run-log row) go to the home's writer thread, so a worker
        # doesn't queue for a commit; run() waits for them before it returns.
        store = client.backend.store
        self._db = store.db if store is not None else None
        self._writes: list[tuple[Task, DeferredWrites]] = []
        # A finished call lands (its result on the task, its rows handed to the writer) under this
        # lock, unless the grid has dropped the calls in flight (a second Ctrl-C): then nothing of it.
        self._landing = threading.Lock()
        self._dropped = False

    def run(self, tasks: list[Task], concurrency: int, progress: bool, done: int) -> None:
        bar = server_batches.progress_bar(len(tasks) + done, done, "llamabook grid") if progress else None
        todo = deque(tasks)

        def worker(ended: threading.Event) -> None:
            older: DeferredWrites | None = None  # the deferred rows of this worker's call before last
            last: DeferredWrites | None = None
            try:
                while not self.stopping.is_set():
                    try:
                        task = todo.popleft()
                    except IndexError:
                        return
                    if older is not None:
                        older.wait()  # at most one finished call per worker not yet committed
                    older, last = last, self.attempt(task)
            finally:
                ended.set()

        # Each worker says when it has ended. Not Thread.is_alive(): a join interrupted by Ctrl-C
        # marks the thread it waited for as stopped while it still runs (CPython 3.11's bpo-45274 fix).
        ends = [threading.Event() for _ in range(min(concurrency, max(1, len(tasks))))]
        # Daemon threads: a call dropped by a second Ctrl-C may still be running as the kernel goes on.
        for number, ended in enumerate(ends):
            threading.Thread(target=worker, args=(ended,), name=f"llamabook-grid-{number}", daemon=True).start()
        try:
            # Polled rather than signalled per call: waking this thread 1,000 times costs the
            # workers GIL hand-offs. A wait with a timeout stays interruptible by Ctrl-C.
            shown = 0
            for ended in ends:
                while not ended.wait(timeout=0.1):
                    if bar is not None:
                        finished = sum(1 for task in tasks if task.finished)
                        bar.update(finished - shown)
                        shown = finished
            if bar is not None:
                bar.update(sum(1 for task in tasks if task.finished) - shown)
        except KeyboardInterrupt:
            self.stopping.set()  # no new call
            try:
                self._wait_in_flight(ends)  # their rows land: the next run needn't repeat them
            except KeyboardInterrupt:
                with self._landing:
                    self._dropped = True  # from now on nothing of theirs is written
            for task in tasks:
                if not task.result:
                    task.result = {"status": "cancelled", "error": "interrupted before this call finished"}
        finally:
            self.stopping.set()
            self.flush()
            if bar is not None:
                bar.close()

    @staticmethod
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

    def attempt(self, task: Task) -> DeferredWrites | None:
        """Run one cell (a call, or the checks of a logged row) on a copy, then land it whole or not at all.

        Landing sets the task's result and checks and hands the call's rows (its response, its
        run-log row, a judge's response) to the home's writer. A call the grid dropped meanwhile
        lands nothing: its rows are discarded, the task keeps no result.
        """
        work = dataclasses.replace(task)
        if self._db is None:
            self.step(work)
            with self._landing:
                if not self._dropped:
                    self._land(task, work, None)
            return None
        held = False
        try:
            with self._db.deferred() as writes:
                self.step(work)
                self._landing.acquire()
                held = True
                if self._dropped:
                    writes.discard()
            if not self._dropped:
                self._land(task, work, writes)
        finally:
            if held:
                self._landing.release()
        return writes

    def step(self, task: Task) -> None:
        if task.result:
            self.recheck(task)
        else:
            self.call(task)

    def _land(self, task: Task, work: Task, writes: DeferredWrites | None) -> None:
        task.result, task.checks = work.result, work.checks
        if writes is not None:
            self._writes.append((task, writes))
        task.finished = True

    def flush(self) -> None:
        """Wait for the calls' rows to be committed; a call whose rows could not be stored fails, as it would inline."""
        if self._db is None:
            return
        self._db.flush()
        for task, writes in self._writes:
            if writes.error is not None and task.result.get("status") != "cancelled":
                task.result = failed_result(writes.error, task.result.get("attempts") or 1, None)

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

    def call(self, task: Task) -> None:
        empty = [name for name in task.prompt.variables if name not in task.values]
        if empty:  # this row's cells are empty: say so in the grid's terms, and send nothing
            advice = server_batches.no_value_advice([task.row], empty)
            task.result = failed_result(MissingVariables(empty, task.prompt.prompt_id, advice), 0, None)
            return
        attempts = 0
        while not self.stopping.is_set():
            attempts += 1
            try:
                pinned = self.pinned(task.prompt)
                response = pinned.create(task.values, model=task.model, input=self.input, options=self.response_options)
            except OutputInvalid as exc:  # a real answer: logged, so a rerun asks again only if the schema changes
                task.result = _invalid(exc, attempts)
                if self.log is not None:
                    self.log.put(task.key, {k: v for k, v in task.result.items() if k != "cached"})
                return
            except EngineError as exc:
                if exc.retryable and attempts <= self.retry.retries:
                    if self.stopping.wait(self.retry.delay(attempts - 1, exc)):
                        return  # interrupted while backing off: this cell is cancelled
                    continue
                failed = getattr(exc, "response", None)
                task.result = failed_result(exc, attempts, failed.id if failed is not None else None)
                return
            except LlamabookError as exc:
                task.result = failed_result(exc, attempts, None)
                return
            except Exception as exc:  # a bug or an odd value: this row fails, the grid goes on
                task.result = failed_result(exc, attempts, None)
                return
            result = _success(response, attempts)
            if "schema" in self.options:
                result["valid"] = True
            task.result = {**result, "cached": False}
            if self.checks is not None:
                task.checks = self.checks.run(task.shown, task.check_input(), self.client)
                result["verdicts"] = CheckSet.to_keep(task.checks)
            if self.log is not None:
                self.log.put(task.key, result)
            return

    def recheck(self, task: Task) -> None:
        """Checks on a row from the run log: kept verdicts are used, new ones are logged with it."""
        if self.checks is None or task.result.get("status") not in CHECKED_STATUSES:
            return
        kept = task.result.get("verdicts") or {}
        task.checks = self.checks.run(task.shown, task.check_input(), self.client, kept)
        verdicts = {**kept, **CheckSet.to_keep(task.checks)}
        if self.log is not None and verdicts != kept:
            logged = {k: v for k, v in task.result.items() if k != "cached"}
            self.log.put(task.key, {**logged, "verdicts": verdicts})


def _success(response: Any, attempts: int) -> dict[str, Any]:
    usage = response.usage
    return {
        "output_text": response.output_text,
        "status": response.status,
        "cut_off": response.cut_off,
        "error": None,
        "input_tokens": response.input_tokens,  # None where the server reported no usage, never 0
        "output_tokens": usage.output_tokens if usage else None,
        "latency_s": response.latency_s,
        "response_id": response.id,
        "attempts": attempts,
    }


def _invalid(exc: OutputInvalid, attempts: int) -> dict[str, Any]:
    """A row for an output that doesn't follow the schema: failed, its raw text and usage kept, ``valid`` False."""
    kept = _success(exc.response, attempts) if exc.response is not None else {"output_text": exc.raw, "cut_off": exc.cut_off}
    return {**kept, "status": "failed", "error": f"OutputInvalid: {exc}", "valid": False, "attempts": attempts, "cached": False}


def _records(rows: Any) -> list[dict[str, Any]]:
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        fast = _plain_records(rows)
        if fast is not None:
            return fast
        return [{str(k): none_if_missing(v) for k, v in record.items()} for record in rows.to_dict(orient="records")]
    if isinstance(rows, Mapping) or isinstance(rows, (str, bytes)):
        raise InvalidRequest("rows must be a DataFrame or a list of dicts (one dict of variables per row)")
    records = list(rows)
    if not all(isinstance(r, Mapping) for r in records):
        raise InvalidRequest("rows must be a DataFrame or a list of dicts (one dict of variables per row)")
    # A missing value is missing whatever its form (None, NaN, pd.NA, NaT), as in a DataFrame.
    return [{k: none_if_missing(v) for k, v in r.items()} for r in records]


def _plain_records(frame: Any) -> list[dict[str, Any]] | None:
    """A DataFrame's rows as the records ``to_dict(orient="records")`` gives, built column by column.

    Only for unique string column names whose columns are numbers, booleans or text (their cells
    come out as the same Python values, a missing one as None); None for any other frame, which
    takes the general path. Ten times faster than a dict per row through pandas on 100,000 rows.
    """
    import numpy as np
    import pandas as pd

    names = list(frame.columns)
    if not all(type(name) is str for name in names) or len(set(names)) != len(names):
        return None
    columns = []
    for index in range(len(names)):
        series = frame.iloc[:, index]
        dtype = series.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            values = series.tolist()  # Python int / float / bool, as to_dict gives them
        elif isinstance(dtype, pd.StringDtype) or dtype == object:
            values = series.tolist()
            # object columns only when they hold nothing but text and missing values
            if dtype == object and not all(type(v) is str or v is None for v in values):
                return None
        else:
            return None
        missing = series.isna()
        if missing.any():
            values = [None if gap else value for value, gap in zip(values, missing.tolist())]
        columns.append(values)
    return [dict(zip(names, cells)) for cells in zip(*columns)] if columns else [{} for _ in range(len(frame))]


def _prompt_versions(client: GridClient, prompt_or_template: Any, versions: Sequence[int] | None) -> list[Prompt]:
    if isinstance(prompt_or_template, str) and not looks_like_ref(prompt_or_template):
        prompt = client.prompts.save(None, prompt_or_template)
        prompt_id, pinned = prompt.prompt_id, prompt.version
    elif isinstance(prompt_or_template, (str, Prompt)):
        prompt_id, pinned = client.prompts.locate(prompt_or_template)
    else:
        raise InvalidRequest(
            "grid() takes a Prompt, a prompt reference ('tutor', 'tutor@2', 'pmpt_…', 'pmpt_…@2') or a template string"
        )
    versions = versions or ([pinned] if pinned is not None else None)
    if not versions:
        return [client.prompts.retrieve(prompt_id)]
    stored = {p.version: p for p in client.prompts.versions(prompt_id)}
    unknown = [v for v in versions if v not in stored]
    if unknown:  # all versions checked before any call, with one listing
        raise VersionNotFound(
            f"Prompt {prompt_id} has no version {', '.join(map(str, unknown))}; it has versions {sorted(stored)}"
        )
    return [stored[v] for v in versions]


def _check_columns(names: Sequence[str], records: list[dict[str, Any]], prompt_id: str | None) -> None:
    if not records:
        return
    columns = set().union(*records)
    missing = [name for name in names if name not in columns]
    if missing:
        raise MissingVariables(missing, prompt_id)


def _declared(record: dict[str, Any], prompt: Prompt) -> dict[str, Any]:
    return {name: value for name in prompt.variables if (value := record.get(name)) is not None}


def _shown(record: dict[str, Any]) -> dict[str, Any]:
    """The row's values as output columns: scalars as they are, anything else as text."""
    for v in record.values():
        if v is not None and type(v) not in _PLAIN and not isinstance(v, (str, int, float, bool)):
            return {k: v if v is None or isinstance(v, (str, int, float, bool)) else str(v) for k, v in record.items()}
    return dict(record)


_PLAIN = frozenset({str, int, float, bool})


def _schema_fields(
    resolved: ResolvedSchema | None, given: Any, prefix: str | None, records: list[dict[str, Any]], checking: CheckSet | None
) -> list[FieldColumn] | None:
    """The schema's field columns, checked against the grid's and the rows' columns (before any call)."""
    if resolved is None:
        if prefix is not None:
            raise InvalidRequest("schema_prefix= names the columns of a schema's fields: give schema= too, or leave it out")
        return None
    if prefix is not None and (not isinstance(prefix, str) or not prefix):
        raise InvalidRequest(f"schema_prefix must be a non-empty string such as 'x_', not {prefix!r}")
    fields = field_columns(resolved, prefix or "", given)
    grid = [column.name for column in (ROW, *result_columns("always", "schema"))]  # row, valid and the result columns
    taken = {*grid, *(checking.column_names() if checking is not None else ()), *set().union(*records)}
    clashes = [f.column for f in fields if f.column in taken]
    if clashes:
        advice = (
            f"choose another schema_prefix than {prefix!r}"
            if prefix
            else f"pass schema_prefix='x_' (columns {', '.join('x_' + f.field for f in fields)}) or rename them in the schema"
        )
        raise InvalidRequest(
            f"The schema's field column(s) {', '.join(map(repr, clashes))} would collide with the grid's or the rows' "
            f"columns of the same name: {advice}"
        )
    return fields


def _cache_key(task: Task, options: Mapping[str, Any], schema: ResolvedSchema | None = None) -> str:
    """The run-log key of one cell: the SHA-256 of its request (:func:`_keyed_request`) as sorted JSON.

    Existing run logs and committed cassettes depend on these bytes: ``json.dumps`` with
    ``sort_keys=True``, ``default=str`` and its other defaults (``ensure_ascii``, ``", "`` and ``": "``).
    """
    request = _keyed_request(task, options, schema)
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def _cache_keys(tasks: Sequence[Task], options: Mapping[str, Any], schema: ResolvedSchema | None = None) -> list[str]:
    """Every task's run-log key, in order (see :func:`_cache_key`)."""
    return [_cache_key(task, options, schema) for task in tasks]


def _keyed_request(task: Task, options: Mapping[str, Any], schema: ResolvedSchema | None) -> dict[str, Any]:
    """What makes one cell's call: model, options, schema (only with one), template and variables."""
    request: dict[str, Any] = {
        "model": task.model,
        "options": dict(options),
        "template": task.prompt.prompt,
        "variables": {name: _fingerprint(name, value) for name, value in task.values.items()},
    }
    if schema is not None:
        request["schema"] = {"name": schema.name, "json_schema": schema.json_schema}
    return request


def _plain_text(value: Any) -> str | None:
    """The text a str, int, float or bool becomes (as ``inputs.classify`` types it); None for anything else."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int or kind is float or kind is bool:
        return str(value)
    return None


def _fingerprint(name: str, value: Any) -> Any:
    """A variable as its key sees it: the typed variable ``classify`` makes of it, or its bytes' SHA-256.

    A value that can't be typed keeps its ``repr``: its call fails again, and failures are not logged.
    """
    text = _plain_text(value)
    if text is not None:  # what classify() + model_dump(mode="json") give, without them
        return {"type": "input_text", "text": text}
    try:
        item = classify(name, value)
    except LlamabookError:
        return repr(value)
    if item.variable is not None:
        return item.variable.model_dump(mode="json")
    return {"sha256": hashlib.sha256(item.data or b"").hexdigest(), "kind": item.kind}


def _frame(
    tasks: Sequence[Task], checks: CheckSet | None = None, fields: list[FieldColumn] | None = None
) -> pandas.DataFrame:
    import pandas as pd

    if tasks:
        frame = _columns_frame(tasks)
    else:
        frame = pd.DataFrame(columns=[ROW.name, *RESULT_COLUMNS])
        for name, dtype in {ROW.name: ROW.dtype, **RESULT_COLUMNS}.items():
            frame[name] = frame[name].astype(dtype)
    if fields is not None:
        frame = _with_fields(frame, tasks, fields)
    return checks.add_columns(frame, [task.checks for task in tasks]) if checks is not None else frame


def _columns_frame(tasks: Sequence[Task]) -> pandas.DataFrame:
    """The grid's frame built a column at a time (a dict per row costs seconds on 100,000 rows).

    The same frame as ``pd.DataFrame([{"row": …, **shown, **base, **result}, …])`` followed by the
    dtypes of ``RESULT_COLUMNS``: the same column order (first appearance, a row's column named like
    a result column keeps its place but takes the result), the row's own columns typed by pandas
    from the same values, and each result column built at once in its dtype.
    """
    import numpy as np
    import pandas as pd

    shown = [task.shown for task in tasks]
    first = shown[0]
    if all(s is first or s.keys() == first.keys() for s in shown):
        own = list(first)
    else:
        own = list(dict.fromkeys(name for s in shown for name in s))
    order = list(dict.fromkeys(["row", *first, *RESULT_COLUMNS, *own]))
    kept = [name for name in own if name != "row" and name not in RESULT_COLUMNS]
    # The row's own columns: typed from a list of dicts, as before (missing cells are NaN).
    mine = pd.DataFrame(shown, columns=kept) if kept else None
    results = [task.result for task in tasks]
    columns: dict[Any, Any] = {}
    for name in order:
        if name == "row":
            rows = [s["row"] if "row" in s else task.row for s, task in zip(shown, tasks)] if "row" in own else [t.row for t in tasks]
            columns[name] = pd.Series(rows).astype("int64") if "row" in own else np.array(rows, dtype="int64")
        elif name == "prompt_id":
            columns[name] = pd.array([task.prompt.prompt_id for task in tasks], dtype=RESULT_COLUMNS[name])
        elif name == "version":
            columns[name] = pd.array([task.prompt.version for task in tasks], dtype=RESULT_COLUMNS[name])
        elif name == "model":
            columns[name] = pd.array([task.model for task in tasks], dtype=RESULT_COLUMNS[name])
        elif name == "cached":
            columns[name] = np.array(list(map(dict.get, results, repeat(name), repeat(False))), dtype="bool")
        elif name in RESULT_COLUMNS:
            columns[name] = pd.array(list(map(dict.get, results, repeat(name))), dtype=RESULT_COLUMNS[name])
        else:
            columns[name] = mine[name]  # type: ignore[index]
    return pd.DataFrame(columns, index=pd.RangeIndex(len(tasks)))


def _with_fields(frame: pandas.DataFrame, tasks: Sequence[Task], fields: list[FieldColumn]) -> pandas.DataFrame:
    """``frame`` with the schema's field columns and ``valid`` right after ``output_text``."""
    import pandas as pd

    (valid_column,) = result_columns("schema")
    valid = [task.result.get(valid_column.name) for task in tasks]
    values = [json.loads(task.result["output_text"]) if ok else {} for task, ok in zip(tasks, valid)]
    at = list(frame.columns).index(placed_after(valid_column.name)) + 1
    for offset, column in enumerate(fields):
        frame.insert(at + offset, column.column, column.array([value.get(column.field) for value in values]))
    frame.insert(at + len(fields), valid_column.name, pd.array(valid, dtype=valid_column.dtype))
    frame.attrs["llamabook"] = {**frame.attrs.get("llamabook", {}), "fields": [f.column for f in fields]}
    return frame
