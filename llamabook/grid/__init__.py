"""The grid: a prompt over rows × versions × models, as a DataFrame.

``plan`` → ``executors`` → results → checks (:mod:`llamabook.evaluation`) → ``frame``; see
:mod:`.run` and ``docs/architecture.md``. Users reach it as :meth:`llamabook.Client.grid`.
"""

from .cells import RetryPolicy
from .executors import Executor, GridRun
from .plan import Plan
from .task import Task
from .run import run_grid
from .spec import RESPONSE_OPTIONS, RESULT_COLUMNS, GridClient, GridSpec

__all__ = ["RESPONSE_OPTIONS", "RESULT_COLUMNS", "Executor", "GridClient", "GridRun", "GridSpec", "Plan", "RetryPolicy", "Task", "run_grid"]
