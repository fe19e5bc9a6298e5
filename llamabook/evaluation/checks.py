"""Checks over grid results: ``client.grid(..., checks={"name": check})`` and :func:`apply`.

A check looks at one successful result of a grid and says whether it passes (True/False) or
how well (a number, e.g. a similarity from 0 to 1). It is called as ``check(row, result)``:

* ``row`` is a dict of the grid row's own columns (those of ``rows``, as the grid shows them:
  scalars as they are, other values as text; a missing value is None);
* ``result`` is a :class:`CheckInput`: the call's result columns that a check sees, as
  :class:`~llamabook.types.grid_rows.GridResult` marks them (``prompt_id``, ``version``, ``model``,
  ``output_text``, ``status``, ``cut_off``, ``input_tokens``, ``output_tokens``, ``latency_s``,
  ``response_id``, ``cached``, ``attempts``).

Built-ins take literals, or :func:`column` to read the value from the row instead, e.g.
``contains(column("expected"))``. A plain function ``(row, result) -> bool | float`` is a check
too. :func:`judge` asks a model a yes/no question about the answer, through the same client.

Each check ``name`` adds the columns ``check_<name>`` (dtype ``boolean``, or ``Float64`` for a
check that returns numbers) and ``check_<name>_error`` (``string``: why the check could not
decide, null when it could); a judge adds ``check_<name>_judge_id`` (``string``: the id of the
judge's own response). Rows whose call failed or was cancelled get null checks.

**An error is not a verdict.** A check that raises (or returns something that is not a verdict,
or a judge whose call fails or whose answer is not a yes/no verdict) does not stop the grid and
does not count as a fail: its ``check_<name>`` is missing (``<NA>``), never False, and its message
is in ``check_<name>_error``. :func:`llamabook.evaluation.scores.scores` leaves such rows out of the rates
and counts them, and a grid or :func:`apply` whose checks raised warns once
(:class:`~llamabook.CheckErrorWarning`) with how many rows each check raised on and its first message.

This module names them; they live by job: what a check is, sees and gives in :mod:`.check_base`, the
built-ins in :mod:`.text_checks`, :mod:`.json_checks` and :mod:`.tool_checks` (a grid run with ``tools=``), the judge in :mod:`.judge`, and running
checks on rows (:class:`CheckSet`, :func:`apply`) in :mod:`.check_set`.
"""

from .check_base import Check, CheckInput, Column, JudgeClient, column
from .check_set import CheckSet, apply
from .json_checks import is_json, json_schema
from .judge import VERDICT_FORMAT, Judge, judge, parse_verdict
from .text_checks import contains, equals, max_words, regex, similar_to
from .tool_checks import called, no_tool_call

# Named here too, as they always were (``X as X``: a re-export), for the grid and older imports.
from .check_base import CHECKED_STATUSES as CHECKED_STATUSES, GRID_COLUMNS as GRID_COLUMNS, Outcome as Outcome
from .check_set import BUILT_INS as BUILT_INS, ERROR_QUOTE_CHARS as ERROR_QUOTE_CHARS, error_report as error_report
from .json_checks import IsJson as IsJson, JsonSchema as JsonSchema
from .text_checks import Contains as Contains, Equals as Equals, MaxWords as MaxWords, Regex as Regex
from .text_checks import SimilarTo as SimilarTo

# Made in check_base; named (in reprs, help() and pickles) by where users import it from: lb.checks.CheckInput.
CheckInput.__module__ = __name__

#: The names users write: what ``from llamabook.evaluation.checks import *`` gives.
__all__ = [
    "Check", "CheckInput", "CheckSet", "Column", "Judge", "JudgeClient", "VERDICT_FORMAT", "apply", "column",
    "called", "contains", "equals", "is_json", "json_schema", "judge", "max_words", "no_tool_call", "parse_verdict",
    "regex", "similar_to",
]  # fmt: skip
