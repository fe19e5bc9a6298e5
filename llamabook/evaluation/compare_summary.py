"""Each column of a comparison in figures: per check, its rate (or mean score) with its interval and
counts (:func:`~llamabook.evaluation.scores.scores`), and, against the first column, the verdict of
:func:`~llamabook.evaluation.significance.significance`.

:func:`summarize` makes them once, when :func:`~llamabook.evaluation.compare.compare` builds its
:class:`~llamabook.evaluation.compare.Comparison` (``comparison.summaries``); the views only show them.

- The **first column is the baseline**: it has no verdict, and every other column is paired with it by
  input row (and repeat), as ``lb.significance(grid, baseline={"version": …, "model": …}, candidate=…)``
  pairs them. A comparison with one column has no verdict at all.
- Without scipy (``pip install 'llamabook[frames]'``) the intervals are shown and the verdicts are
  left out (:attr:`ColumnSummary.reason` says why); the same for a column that ``significance`` cannot
  pair with the baseline (an :class:`~llamabook.InvalidRequest`, e.g. no input row in common, or a
  check never run on one side): no verdict rather than a wrong one.
- The figures are over the whole grid, also when ``compare(..., only_differences=True)`` shows fewer rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequest
from ..frames import check_columns, none_if_missing

if TYPE_CHECKING:
    import pandas

#: A column of a comparison: (prompt version, model) (as :data:`llamabook.evaluation.compare.Column`).
Column = tuple[Any, str]

#: The columns of :meth:`~llamabook.evaluation.compare.Comparison.summary_frame`, with their dtypes.
FRAME_COLUMNS = {
    "column": "string", "check": "string", "kind": "string", "value": "Float64", "low": "Float64",
    "high": "Float64", "n": "int64", "errors": "int64", "verdict": "string", "p_adjusted": "Float64",
}  # fmt: skip
#: Why a column has no verdict when scipy, which ``significance`` needs, is not installed.
NO_SCIPY = "lb.significance needs scipy: pip install 'llamabook[frames]'"


@dataclass(frozen=True)
class CheckSummary:
    """One check of one column: ``value`` the pass rate (``kind`` ``"pass"``) or mean score (``"score"``)
    with its interval ``low`` / ``high`` (None without a verdict), ``n`` the calls it judged, ``errors``
    the calls where it raised (counted apart: an error is never a pass or a fail); ``verdict`` against
    the baseline (``"better"``, ``"worse"``, ``"no evidence"``; None: the baseline itself, or no verdict)
    with its Holm-adjusted ``p_adjusted``."""

    check: str
    kind: str
    value: float | None
    low: float | None
    high: float | None
    n: int
    errors: int
    verdict: str | None = None
    p_adjusted: float | None = None

    @property
    def rate_text(self) -> str:
        """``0.94 [0.74, 0.99] n=18`` (``– n=0`` when nothing was judged)."""
        if self.value is None:
            return f"– n={self.n}"
        ends = f" [{_figure(self.low)}, {_figure(self.high)}]" if self.low is not None or self.high is not None else ""
        return f"{self.value:.2f}{ends} n={self.n}"

    @property
    def errors_text(self) -> str | None:
        """``⚠2`` when the check raised on 2 calls, else None."""
        return f"⚠{self.errors}" if self.errors else None

    @property
    def verdict_text(self) -> str | None:
        """``worse p=0.012``, ``better p=0.003``, ``no evidence`` (None without a verdict)."""
        if self.verdict is None:
            return None
        if self.verdict == "no evidence" or self.p_adjusted is None:
            return self.verdict
        return f"{self.verdict} p={self.p_adjusted:.3g}"

    def __str__(self) -> str:
        parts = [self.check, self.rate_text, self.errors_text, self.verdict_text]
        return " ".join(part for part in parts if part)


@dataclass(frozen=True)
class ColumnSummary:
    """The checks of one column of a comparison (:class:`CheckSummary`, in the grid's order).

    ``baseline`` is True for the first column (the one the others are compared with). ``note`` is
    ``"baseline"`` for it (when there are other columns), ``"no verdict"`` for a column without
    verdicts, with ``reason`` saying why (scipy missing, or what ``lb.significance`` raised), else None.
    """

    column: Column
    checks: tuple[CheckSummary, ...]
    baseline: bool = False
    note: str | None = None
    reason: str | None = None

    def __str__(self) -> str:
        version, model = self.column
        head = f"v{version} {model}" + (f" ({self.note}{': ' + self.reason if self.reason else ''})" if self.note else "")
        return "\n".join([head, *(f"  {check}" for check in self.checks)])


def summarize(grid: pandas.DataFrame, columns: list[Column], alpha: float = 0.05) -> tuple[ColumnSummary, ...]:
    """One :class:`ColumnSummary` per column of ``columns`` (in that order; the first is the baseline).

    Empty for a grid without checks, or without the columns ``lb.scores`` reads (its tokens and latency):
    a comparison of such a grid shows no summary. See the module's docstring for the verdicts.
    """
    from .scores import scores

    if not columns or not check_columns(grid.columns):
        return ()
    try:
        table = scores(grid)
    except InvalidRequest:  # not a grid lb.scores reads (a column it needs is missing): no summary
        return ()
    figures = {_key(line["version"], line["model"]): line for line in table.to_dict(orient="records")}
    names = list(check_columns(grid.columns))
    summaries = []
    for number, column in enumerate(columns):
        line = figures.get(_key(*column))
        checks = tuple(_check_summary(name, line) for name in names) if line is not None else ()
        if number == 0:
            note = "baseline" if len(columns) > 1 else None
            summaries.append(ColumnSummary(column, checks, baseline=True, note=note))
            continue
        verdicts, reason = _verdicts(grid, columns[0], column, alpha)
        checks = tuple(_with_verdict(check, verdicts.get(check.check)) for check in checks)
        summaries.append(ColumnSummary(column, checks, note="no verdict" if reason else None, reason=reason))
    return tuple(summaries)


def summary_frame(summaries: tuple[ColumnSummary, ...]) -> pandas.DataFrame:
    """``summaries`` as a long DataFrame: one line per (column, check), the columns of :data:`FRAME_COLUMNS`
    (``column`` is the comparison's label, ``v1 model``)."""
    import pandas as pd

    lines = [
        {"column": f"v{s.column[0]} {s.column[1]}", "check": c.check, "kind": c.kind, "value": c.value, "low": c.low,
         "high": c.high, "n": c.n, "errors": c.errors, "verdict": c.verdict, "p_adjusted": c.p_adjusted}
        for s in summaries for c in s.checks
    ]  # fmt: skip
    return pd.DataFrame(lines, columns=list(FRAME_COLUMNS)).astype(FRAME_COLUMNS)


def _check_summary(name: str, line: dict[str, Any]) -> CheckSummary:
    """A check's figures from a line of ``lb.scores``: ``pass_rate_<name>`` or ``score_<name>``, and its counts."""
    kind, column = ("pass", f"pass_rate_{name}") if f"pass_rate_{name}" in line else ("score", f"score_{name}")
    value, low, high = (_number(line.get(key)) for key in (column, f"{column}_low", f"{column}_high"))
    return CheckSummary(name, kind, value, low, high, int(line[f"n_{name}"]), int(line[f"errors_{name}"]))


def _verdicts(grid: pandas.DataFrame, baseline: Column, candidate: Column, alpha: float) -> tuple[dict[str, Any], str | None]:
    """``({check: (verdict, p_adjusted)}, reason)``: the candidate column against the baseline column;
    no verdicts (and the reason why) without scipy or when ``significance`` cannot pair them."""
    from .significance import significance

    sides = [_side(column) for column in (baseline, candidate)]
    if None in sides:
        return {}, "a column without a version or a model"
    try:
        table = significance(grid, baseline=sides[0], candidate=sides[1], alpha=alpha)
    except ImportError:  # ModuleNotFoundError too: scipy is not installed
        return {}, NO_SCIPY
    except InvalidRequest as problem:
        return {}, str(problem)
    return {str(r["check"]): (str(r["verdict"]), _number(r["p_adjusted"])) for r in table.to_dict(orient="records")}, None


def _with_verdict(check: CheckSummary, verdict: tuple[str, float | None] | None) -> CheckSummary:
    if verdict is None:
        return check
    return CheckSummary(check.check, check.kind, check.value, check.low, check.high, check.n, check.errors, *verdict)


def _side(column: Column) -> dict[str, Any] | None:
    """``{"version": 2, "model": "m"}`` as ``lb.significance`` takes a side (None without either)."""
    version, model = (none_if_missing(value) for value in column)
    if version is None or model is None or isinstance(version, bool):
        return None
    try:
        return {"version": int(version), "model": str(model)}
    except (TypeError, ValueError):
        return None


def _key(version: Any, model: Any) -> tuple[Any, Any]:
    version, model = none_if_missing(version), none_if_missing(model)
    try:
        return (int(version) if version is not None else None, None if model is None else str(model))
    except (TypeError, ValueError):
        return (version, str(model) if model is not None else None)


def _number(value: Any) -> float | None:
    value = none_if_missing(value)
    if value is None or math.isnan(float(value)):
        return None
    return float(value)


def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


__all__ = ["FRAME_COLUMNS", "NO_SCIPY", "CheckSummary", "ColumnSummary", "summarize", "summary_frame"]
