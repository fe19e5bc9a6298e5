"""``client.grid``: plan → executor → results → checks → frame.

* The plan (:mod:`.plan`) checks everything before anything is stored or sent and makes the
  tasks, row × version × model, each keyed by a hash of its full request (:mod:`.keys`).
* Every finished call goes to a run log in the client's home, so running the same grid again
  makes no repeated call: finished rows come from the log (``cached=True``), read in chunked
  ``IN (…)`` queries, with the latency their call had. An answer replayed from a cassette is not
  cached but ``replayed=True``, with a null ``latency_s`` (no model ran); a logged row keeps
  whether its call was replayed. The executor (:mod:`.executors`) makes the other calls: on worker threads,
  as one job on the server's Batches API, or as JSONL for another engine.
* A call's rows are one unit of work, committed by the grid's writer a few milliseconds after the
  call (a worker waits for its previous call's rows before it starts another), so a killed kernel
  repeats at most one finished call per worker; the grid returns once every row is committed.
* ``checks=`` (:mod:`llamabook.evaluation.checks`) run on each answered row, on the grid's threads.
  The run log keeps a judge's verdict (keyed by the question asked, the answer and the judge
  model); on a logged row the other checks are computed again (they cost nothing and may have
  changed under the same name), and a judge is asked only when no verdict for that exact question
  is kept (a failed judge is asked again).
* ``schema=`` (:mod:`llamabook.schema_columns`) sends every call with that schema and adds one typed
  column per top-level field after ``output_text``, then ``valid``. An output that doesn't
  validate makes a failed row (``OutputInvalid: …``) with its raw text and null fields; it is logged
  too, so a rerun makes no new call.
* Ctrl-C: see :mod:`.pool`. An error is never a verdict: a failed call is a row with its error.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from . import executors
from .cells import Cells, RetryPolicy
from .frame import to_frame
from .plan import look_up, make_plan
from .pool import run_cells
from .spec import GridClient, GridSpec

if TYPE_CHECKING:
    import pandas


def run_grid(client: GridClient, prompt_or_template: Any, rows: Any, spec: GridSpec | None = None) -> pandas.DataFrame:
    """See :meth:`llamabook.Client.grid`; ``spec`` holds its options (the defaults when None)."""
    spec = spec or GridSpec()
    executor = executors.make(client, spec)  # its options checked before anything is stored or sent
    plan = make_plan(client, prompt_or_template, rows, spec, models_here=executor.models_here)
    store = client.backend.store  # the backend's home (none for a server backend without one)
    log = store.runs if spec.cache and store is not None else None
    if log is not None:
        look_up(plan.tasks, log)
    with store.db.writer() if store is not None else nullcontext() as writer:
        cells = Cells(client, log, writer, RetryPolicy(retries=spec.retries), plan.options, plan.checks)
        fresh = plan.fresh()
        grid = executors.GridRun(client, spec, log, cells, plan.options, done=len(plan.tasks) - len(fresh))
        executor.run(fresh, grid)
        unchecked = plan.unchecked()  # logged rows and answers the executor didn't check
        if unchecked:
            run_cells(cells, unchecked, spec.concurrency, spec.progress, desc="llamabook checks")
    groups = (*(["repeats"] if plan.repeats > 1 else []), *(["tools"] if plan.tools else []), *executor.columns)
    return to_frame(plan.tasks, plan.checks, plan.fields, groups)
