"""``executor="batch"``: a grid's calls as one job on the server's Batches API.

The request lines (:mod:`._requests`) are uploaded (purpose ``batch``), a batch is created and
polled with a progress bar, and its output and error files are read back. The plan (which batch
holds which requests) is kept in the home (``store.batches``) as soon as the batch exists, so
running the same grid again after the kernel died polls that batch instead of submitting another
(``resume=False`` submits afresh). Ctrl-C stops the polling only: the batch goes on, and the next
run collects it.

The wait has two limits (:class:`BatchLimits`): no change in the batch's status or request counts
for ``batch_stall`` seconds, or no end within ``batch_timeout``, raises
:class:`~llamabook.BatchStalled` (the plan is kept). A batch that ends ``cancelled``, ``expired``
or ``failed``, or stays ``cancelling`` past ``batch_stall``, ends the wait: the rows it answered
are kept, the others fail, and the plan is closed so the next run submits them afresh.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...error_translation import server_text
from ...errors import BatchStalled, EngineError, InvalidRequest, NotFound
from ...types import Batch
from ...types.requests import ResponseRequest
from ..lines import ENDPOINT, read_jsonl, result_of, to_jsonl
from ..progress import progress_bar
from ._requests import Requests, fill, merge, request_lines, requests_of, unanswered

if TYPE_CHECKING:
    from ...backends.base import BatchJobs
    from ..task import Task
    from ..spec import GridClient, GridSpec
    from . import GridRun

OPTIONS = ("batch_timeout", "batch_stall", "resume")
OPTIONS_ABOUT = "the wait for a server batch; to call again rather than reuse logged rows, pass cache=False"

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


def make(client: GridClient, spec: GridSpec) -> BatchExecutor:
    """The limits checked first, then whether the backend has a Batches API (:class:`~llamabook.BatchesUnsupported`)."""
    limits = batch_limits(spec.batch_timeout, spec.batch_stall, spec.resume)
    client.backend.batch_jobs()
    return BatchExecutor(limits)


def batch_limits(batch_timeout: Any, batch_stall: Any, resume: Any) -> BatchLimits:
    """The limits of a grid's wait for its batch; :class:`InvalidRequest` for a bad one."""
    if not isinstance(resume, bool):
        raise InvalidRequest(f"resume must be True or False, not {resume!r}")
    return BatchLimits(_seconds("batch_timeout", batch_timeout, TIMEOUT_S), _seconds("batch_stall", batch_stall, STALL_S), resume)


def _seconds(name: str, value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) or value <= 0:
        raise InvalidRequest(f"{name} is a number of seconds above 0 (e.g. {name}=600), not {value!r}")
    return float(value)


@dataclass
class BatchExecutor:
    """Sends the calls as one batch and waits for it (:class:`~llamabook.BatchStalled` at a limit)."""

    limits: BatchLimits = BatchLimits()
    models_here: bool = True
    columns: Sequence[str] = ("batch",)

    def run(self, tasks: Sequence[Task], grid: GridRun) -> None:
        requests = requests_of(tasks, grid.client.backend.scope, "batch")
        if requests.unique:
            fill(tasks, self._results(requests, grid))

    def _results(self, requests: Requests, grid: GridRun) -> dict[str, dict[str, Any]]:
        backend = grid.client.backend
        plans = backend.store.batches if backend.store is not None else None
        plan = plans.get(requests.plan_key) if plans is not None and self.limits.resume else None
        # Built on a resume too: a request that can't be made is a failed row whatever the batch did.
        lines = request_lines(grid.client, requests, grid.options, _prepare)
        jobs = backend.batch_jobs()
        if plan is not None and not plan.merged and plan.batch_id and _known(jobs, plan.batch_id):
            batch_id = plan.batch_id  # the kernel stopped while this batch ran: follow it again
        elif not lines:
            return requests.results
        else:
            batch_id = _submit(jobs, lines, requests.plan_key, plans, backend.scope)
        try:
            batch = _follow(jobs, batch_id, len(lines) or len(requests.unique), grid.spec.progress, plans, requests.plan_key, self.limits)
        except KeyboardInterrupt:
            note = f"still running on the server as {batch_id}: run the same grid again to collect it"
            return unanswered(requests, "in_progress", note, batch_id)
        answers = _read_batch(jobs, batch, backend.base_url or "the server", requests.models)
        results = merge(requests, answers, _missing_result(batch, self.limits), grid.options.get("schema"), grid.log)
        if plans is not None:
            plans.set_status(requests.plan_key, batch.status, merged=True)
        return results


def _prepare(client: GridClient, reference: dict[str, str], values: dict[str, Any], model: str, options: dict[str, Any]) -> ResponseRequest:
    return client.responses.prepare(prompt=reference, variables=values, model=model, **options)


def _submit(jobs: BatchJobs, lines: list[dict[str, Any]], plan_key: str, plans: Any, scope: str) -> str:
    """Upload the lines and create the batch; its plan is kept at once."""
    batch = jobs.submit(to_jsonl(lines), f"llamabook-grid-{plan_key[:12]}.jsonl", ENDPOINT, {"llamabook_plan": plan_key[:32]})
    if plans is not None:
        plans.start(plan_key, scope, "batch", len(lines), batch_id=batch.id, input_file_id=batch.input_file_id, status=batch.status)
    return batch.id


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


def _follow(
    jobs: BatchJobs, batch_id: str, total: int, progress: bool, plans: Any, plan_key: str, limits: BatchLimits = BatchLimits()
) -> Batch:
    """Poll the batch until it is finished (or ``cancelling`` with no change for ``limits.stall_s``), with a
    progress bar of its finished requests; :class:`BatchStalled` when the wait reaches a limit."""
    bar = progress_bar(total, 0, f"llamabook batch {batch_id}") if progress else None
    watch = _Watch(limits, total)
    wait = POLL_FIRST_S
    status = None
    try:
        while True:
            batch = jobs.retrieve(batch_id)
            watch.saw(batch, bar)
            if plans is not None and batch.status != status:
                plans.set_status(plan_key, batch.status)
                status = batch.status
            if batch.finished or watch.ended(batch):
                return batch
            time.sleep(watch.sleep(wait))
            wait = min(wait * 1.5, POLL_MAX_S)
    finally:
        if bar is not None:
            bar.close()


class _Watch:
    """The wait's clock: when the batch last changed, and whether a limit is reached."""

    def __init__(self, limits: BatchLimits, total: int) -> None:
        self.limits, self.total = limits, total
        self.started = self.changed = time.monotonic()
        self.seen: tuple[Any, ...] | None = None
        self.shown = 0

    def saw(self, batch: Batch, bar: Any) -> None:
        counts = batch.request_counts
        state = (batch.status, counts.completed if counts else None, counts.failed if counts else None)
        if state != self.seen:
            self.seen, self.changed = state, time.monotonic()
        if bar is not None:
            done = min(batch.done_count, self.total)
            bar.update(done - self.shown)
            self.shown = done
            bar.set_postfix_str(batch.status, refresh=False)

    def ended(self, batch: Batch) -> bool:
        """True for a batch left ``cancelling`` past the stall limit; :class:`BatchStalled` at a limit."""
        now, limits = time.monotonic(), self.limits
        if now - self.changed >= limits.stall_s:
            if batch.status == "cancelling":  # cancelled, for all that will ever happen
                return True
            raise BatchStalled(batch.id, batch.status, "batch_stall", limits.stall_s, now - self.started, batch.done_count, self.total)
        if now - self.started >= limits.timeout_s:
            raise BatchStalled(batch.id, batch.status, "batch_timeout", limits.timeout_s, now - self.started, batch.done_count, self.total)
        return False

    def sleep(self, wait: float) -> float:
        """Seconds to the next poll: never past a limit (a test's limit of a second is kept to the poll)."""
        now = time.monotonic()
        return max(0.01, min(wait, self.changed + self.limits.stall_s - now, self.started + self.limits.timeout_s - now))


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
