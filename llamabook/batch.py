"""``client.grid``: a prompt over rows × versions × models, concurrently, as a DataFrame.

* Bounded concurrency on a thread pool (no event loop of its own, so it is safe inside a
  running Jupyter kernel; ``AsyncClient.grid`` awaits it on a worker thread).
* Every finished call is committed at once to a run log in the client's home, keyed by a
  hash of the full request (template text, variable values, model, options), so running the
  same grid again makes no repeated call: finished rows come from the log (``cached=True``).
* Rate limits and server errors (429, 5xx, timeouts, unreachable servers) are retried with
  exponential backoff, honouring Retry-After; a call that still fails becomes a row with its
  error, never a lost grid. Ctrl-C (KeyboardInterrupt) returns the rows finished so far.
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

import hashlib
import json
import random
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .checks import CHECKED_STATUSES, CheckInput, CheckSet, Outcome
from .errors import EngineError, InvalidRequest, LlamabookError, MissingVariables, OutputInvalid, VersionNotFound
from .frames import none_if_missing
from .inputs import classify
from .schema_columns import FieldColumn, field_columns
from .schemas import ResolvedSchema, resolve
from .templates import placeholders
from .types import Prompt
from .types.refs import looks_like_ref

if TYPE_CHECKING:
    import pandas

    from .backends.base import Backend
    from .resources import Models, Prompts, Responses
    from .store import RunLog


class GridClient(Protocol):
    """What a grid needs of a client (a :class:`~llamabook.Client` is one)."""

    backend: Backend
    prompts: Prompts
    responses: Responses
    models: Models

#: Result columns after the row's own columns, with their pandas dtypes.
RESULT_COLUMNS: dict[str, str] = {
    "prompt_id": "string",
    "version": "Int64",
    "model": "string",
    "output_text": "string",
    "status": "string",
    "cut_off": "boolean",
    "error": "string",
    "input_tokens": "Int64",
    "output_tokens": "Int64",
    "latency_s": "Float64",
    "response_id": "string",
    "cached": "bool",
    "attempts": "Int64",
}

RESPONSE_OPTIONS = ("input", "instructions", "temperature", "top_p", "max_output_tokens", "describe_images", "pdf_to_text")


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


def run_grid(
    client: GridClient,
    prompt_or_template: Any,
    rows: Any,
    *,
    versions: Sequence[int] | None = None,
    models: Sequence[str] | None = None,
    concurrency: int = 4,
    retry: RetryPolicy | None = None,
    progress: bool = True,
    cache: bool = True,
    checks: Mapping[str, Any] | None = None,
    schema: Any = None,
    schema_prefix: str | None = None,
    **options: Any,
) -> pandas.DataFrame:
    """See :meth:`llamabook.Client.grid`."""
    unknown = set(options) - set(RESPONSE_OPTIONS)
    if unknown:
        raise InvalidRequest(f"grid() does not take {sorted(unknown)}; response options are {list(RESPONSE_OPTIONS)}")
    if concurrency < 1:
        raise InvalidRequest(f"concurrency must be at least 1, not {concurrency}")
    records = _records(rows)
    model_ids = list(models) if models else [client.models.default()]
    available = {m.id for m in client.models.list()}
    missing_models = [m for m in model_ids if m not in available]
    if missing_models:
        raise InvalidRequest(f"models {missing_models} are not available here; choose from {sorted(available)}")
    checking = CheckSet(checks, client=client, columns=set().union(*records) if records else None) if checks is not None else None
    resolved = resolve(schema) if schema is not None else None
    fields = _schema_fields(resolved, schema, schema_prefix, records, checking)
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
    tasks = [
        Task(index, _declared(record, prompt), _shown(record), prompt, model)
        for index, record in enumerate(records)
        for prompt in prompts
        for model in model_ids
    ]
    for task in tasks:
        task.key = _cache_key(task, options, resolved)
    # The backend's home database (both backends keep one; none for a server backend without a home).
    store = client.backend.store
    log = store.runs if cache and store is not None else None
    if log is not None:
        for task in tasks:
            logged = log.get(task.key)
            task.result = {**logged, "cached": True} if logged else {}
    runner = _Runner(client, log, retry or RetryPolicy(), {**options, "schema": resolved} if resolved else options, checking)
    todo = [t for t in tasks if not t.result or checking is not None]  # cached rows are checked again
    runner.run(todo, concurrency, progress, done=len(tasks) - len(todo))
    return _frame(tasks, checking, fields)


class _Runner:
    def __init__(
        self, client: GridClient, log: RunLog | None, retry: RetryPolicy, options: dict[str, Any], checks: CheckSet | None
    ) -> None:
        self.client = client
        self.log = log
        self.retry = retry
        self.options = options
        self.checks = checks
        self.stopping = threading.Event()

    def run(self, tasks: list[Task], concurrency: int, progress: bool, done: int) -> None:
        bar = _progress_bar(len(tasks) + done, done) if progress else None
        todo = deque(tasks)

        def worker() -> None:
            while not self.stopping.is_set():
                try:
                    task = todo.popleft()
                except IndexError:
                    return
                if task.result:
                    self.recheck(task)
                else:
                    self.call(task)
                task.finished = True

        # Daemon threads: after Ctrl-C the kernel gets control back while calls in flight finish.
        workers = [
            threading.Thread(target=worker, name=f"llamabook-grid-{number}", daemon=True)
            for number in range(min(concurrency, max(1, len(tasks))))
        ]
        for thread in workers:
            thread.start()
        try:
            # Polled rather than signalled per call: waking this thread 1,000 times costs the
            # workers GIL hand-offs. A join with a timeout stays interruptible by Ctrl-C.
            shown = 0
            for thread in workers:
                while thread.is_alive():
                    thread.join(timeout=0.1)
                    if bar is not None:
                        finished = sum(1 for task in tasks if task.finished)
                        bar.update(finished - shown)
                        shown = finished
            if bar is not None:
                bar.update(sum(1 for task in tasks if task.finished) - shown)
        except KeyboardInterrupt:
            # Keep what finished; calls in flight still land in the run log for the next run.
            self.stopping.set()
            for task in tasks:
                if not task.result:
                    task.result = {"status": "cancelled", "error": "interrupted before this call finished"}
        finally:
            self.stopping.set()
            if bar is not None:
                bar.close()

    def call(self, task: Task) -> None:
        empty = [name for name in task.prompt.variables if name not in task.values]
        if empty:  # this row's cells are empty: say so in the grid's terms, and send nothing
            advice = f"Row {task.row} has no value in the column(s) {', '.join(map(repr, empty))}: fill them in or leave the row out."
            task.result = _failure(MissingVariables(empty, task.prompt.prompt_id, advice), 0, None)
            return
        attempts = 0
        while not self.stopping.is_set():
            attempts += 1
            try:
                response = self.client.responses.create(
                    prompt={"id": task.prompt.prompt_id, "version": str(task.prompt.version)},
                    variables=task.values,
                    model=task.model,
                    **self.options,
                )
            except OutputInvalid as exc:  # a real answer: logged, so a rerun asks again only if the schema changes
                task.result = _invalid(exc, attempts)
                if self.log is not None:
                    self.log.put(task.key, {k: v for k, v in task.result.items() if k != "cached"})
                return
            except EngineError as exc:
                if exc.retryable and attempts <= self.retry.retries:
                    time.sleep(self.retry.delay(attempts - 1, exc))
                    continue
                failed = getattr(exc, "response", None)
                task.result = _failure(exc, attempts, failed.id if failed is not None else None)
                return
            except LlamabookError as exc:
                task.result = _failure(exc, attempts, None)
                return
            except Exception as exc:  # a bug or an odd value: this row fails, the grid goes on
                task.result = _failure(exc, attempts, None)
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
        "input_tokens": usage.input_tokens if usage else None,
        "output_tokens": usage.output_tokens if usage else None,
        "latency_s": response.latency_s,
        "response_id": response.id,
        "attempts": attempts,
    }


def _invalid(exc: OutputInvalid, attempts: int) -> dict[str, Any]:
    """A row for an output that doesn't follow the schema: failed, its raw text and usage kept, ``valid`` False."""
    kept = _success(exc.response, attempts) if exc.response is not None else {"output_text": exc.raw, "cut_off": exc.cut_off}
    return {**kept, "status": "failed", "error": f"OutputInvalid: {exc}", "valid": False, "attempts": attempts, "cached": False}


def _failure(exc: BaseException, attempts: int, response_id: str | None) -> dict[str, Any]:
    return {
        "status": "failed",
        "error": f"{type(exc).__name__}: {exc}",
        "response_id": response_id,
        "attempts": attempts,
        "cached": False,
    }


def _records(rows: Any) -> list[dict[str, Any]]:
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        return [{str(k): none_if_missing(v) for k, v in record.items()} for record in rows.to_dict(orient="records")]
    if isinstance(rows, Mapping) or isinstance(rows, (str, bytes)):
        raise InvalidRequest("rows must be a DataFrame or a list of dicts (one dict of variables per row)")
    records = list(rows)
    if not all(isinstance(r, Mapping) for r in records):
        raise InvalidRequest("rows must be a DataFrame or a list of dicts (one dict of variables per row)")
    return [dict(r) for r in records]


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
    return {name: record[name] for name in prompt.variables if record.get(name) is not None}


def _shown(record: dict[str, Any]) -> dict[str, Any]:
    """The row's values as output columns: scalars as they are, anything else as text."""
    return {k: v if v is None or isinstance(v, (str, int, float, bool)) else str(v) for k, v in record.items()}


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
    taken = {"row", "valid", *RESULT_COLUMNS, *(checking.column_names() if checking is not None else ()), *set().union(*records)}
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
    request = {
        "template": task.prompt.prompt,
        "variables": {name: _fingerprint(name, value) for name, value in sorted(task.values.items())},
        "model": task.model,
        "options": {k: options[k] for k in sorted(options)},
    }
    if schema is not None:  # only then: the keys of grids without a schema stay as they were
        request["schema"] = {"name": schema.name, "json_schema": schema.json_schema}
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def _fingerprint(name: str, value: Any) -> Any:
    try:
        item = classify(name, value)
    except LlamabookError:
        return repr(value)  # fails again when called, and is not cached
    if item.variable is not None:
        return item.variable.model_dump(mode="json")
    return {"sha256": hashlib.sha256(item.data or b"").hexdigest(), "kind": item.kind}


def _progress_bar(total: int, done: int) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=done, desc="llamabook grid", unit="call")


def _frame(
    tasks: Sequence[Task], checks: CheckSet | None = None, fields: list[FieldColumn] | None = None
) -> pandas.DataFrame:
    import pandas as pd

    rows = []
    for task in tasks:
        base = {"prompt_id": task.prompt.prompt_id, "version": task.prompt.version, "model": task.model}
        result = {**{k: None for k in RESULT_COLUMNS}, "cached": False, **task.result}
        rows.append({"row": task.row, **task.shown, **base, **{k: result[k] for k in RESULT_COLUMNS if k not in base}})
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=["row", *RESULT_COLUMNS])
    for name, dtype in {"row": "int64", **RESULT_COLUMNS}.items():
        frame[name] = frame[name].astype(dtype)
    if fields is not None:
        frame = _with_fields(frame, tasks, fields)
    return checks.add_columns(frame, [task.checks for task in tasks]) if checks is not None else frame


def _with_fields(frame: pandas.DataFrame, tasks: Sequence[Task], fields: list[FieldColumn]) -> pandas.DataFrame:
    """``frame`` with the schema's field columns and ``valid`` right after ``output_text``."""
    import pandas as pd

    valid = [task.result.get("valid") for task in tasks]
    values = [json.loads(task.result["output_text"]) if ok else {} for task, ok in zip(tasks, valid)]
    at = list(frame.columns).index("output_text") + 1
    for offset, column in enumerate(fields):
        frame.insert(at + offset, column.column, column.array([value.get(column.field) for value in values]))
    frame.insert(at + len(fields), "valid", pd.array(valid, dtype="boolean"))
    frame.attrs["llamabook"] = {**frame.attrs.get("llamabook", {}), "fields": [f.column for f in fields]}
    return frame
