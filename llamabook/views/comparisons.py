"""A grid's comparison: cells side by side, check marks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .formats import CUT_OFF_MARK
from .sanitize import _safe, render

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..evaluation.compare import Cell, CheckMark, CheckTally, Column, Comparison
    from ..evaluation.compare_summary import ColumnSummary


# ---- comparisons --------------------------------------------------------------------------------------

#: Colours of a comparison's check marks, by :attr:`llamabook.evaluation.compare.CheckMark.kind` (an error is
#: amber, not a fail's red: the check raised, it gave no verdict), and of a tally over repeats whose judged
#: repeats both passed and failed (:attr:`~llamabook.evaluation.compare.CheckTally.kind` ``"mixed"``).
CHECK_COLOURS = {
    "pass": "#1a7f37", "fail": "#cf222e", "score": "#0969da", "error": "#9a6700", "none": "#6e7781", "mixed": "#bc4c00",
}  # fmt: skip
#: Colours of a verdict against a comparison's first column (``lb.significance``), from :data:`CHECK_COLOURS`.
VERDICT_COLOURS = {"better": CHECK_COLOURS["pass"], "worse": CHECK_COLOURS["fail"], "no evidence": CHECK_COLOURS["none"]}
#: Characters of a check's error message a comparison cell shows (the whole message is its tooltip).
CHECK_ERROR_CHARS = 200


def compare_cell_html(cell: Cell | None, calls: Sequence[Cell] = (), tallies: Sequence[CheckTally] = ()) -> str:
    """One call of a comparison: its status (unless completed), output as text, error, check marks, and
    each raised check's message (as text). With more than one of ``calls`` (a cell's repeats, ``cell``
    the first): ``tallies`` instead of the marks, and the calls in a ``<details>`` element."""
    return render("compare_cell.html", **_call_context(cell, calls, tallies))


def _call_context(cell: Cell | None, calls: Sequence[Cell], tallies: Sequence[CheckTally]) -> dict[str, Any]:
    """What the call templates (the table's cell and CompareView's) read."""
    return {
        "cell": cell, "calls": calls, "tallies": tallies, "check_colours": CHECK_COLOURS,
        "cut_off_mark": CUT_OFF_MARK, "error_chars": CHECK_ERROR_CHARS,
    }  # fmt: skip


#: The type of CompareView's cells: the font size and line height of the table ``comparison_html`` makes
#: (``font-size:.9em`` of a notebook's HTML output, rows at the ``normal`` line height JupyterLab gives
#: table cells). Without it, an ipywidgets HTML widget gives every line a control's height (28 px).
VIEW_CELL_STYLE = "font-size:calc(.9 * var(--jp-content-font-size1, 14px));line-height:normal;"


def compare_view_header_html(name: str) -> str:
    """A column's name in CompareView's header, bold, cut to 80 characters (the full name is its tooltip)."""
    return _view_cell("header", name)


def compare_view_value_html(value: Any) -> str:
    """A row number or one of the row's own values in CompareView, cut to 80 characters (tooltip: all of it)."""
    return _view_cell("value", value)


def compare_view_cell_html(
    cell: Cell | None, calls: Sequence[Cell] = (), tallies: Sequence[CheckTally] = ()
) -> str:
    """One call in CompareView: :func:`compare_cell_html` in the table's type."""
    return render("compare_view_cell.html", kind="call", style=VIEW_CELL_STYLE, **_call_context(cell, calls, tallies))


def _view_cell(kind: str, value: Any, limit: int = 80) -> str:
    text = "" if value is None else str(value)
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    full = text if short != text else None
    return render("compare_view_cell.html", kind=kind, style=VIEW_CELL_STYLE, text=short, full=full, status=None)


def compare_summary_html(summary: ColumnSummary | None, style: str = "") -> str:
    """One column's checks in figures, under it (:class:`~llamabook.evaluation.compare_summary.ColumnSummary`:
    rate [interval] n, ``⚠`` errors, the verdict against the first column); None: its label. The one view of
    it: :func:`comparison_html`'s ``<tfoot>`` and :func:`compare_view_summary_html` (``style``: its type)."""
    return render(
        "compare_summary.html",
        summary=summary,
        style=style,
        level="95%",
        colours=CHECK_COLOURS,
        verdict_colours=VERDICT_COLOURS,
    )


def compare_view_summary_html(comparison: Comparison) -> str:
    """CompareView's summary under its table: each column's :func:`compare_summary_html` under its name, side by side."""
    parts = [(None, _safe(compare_summary_html(None, VIEW_CELL_STYLE)))]
    parts += [(s.column, _safe(compare_summary_html(s, VIEW_CELL_STYLE))) for s in comparison.summaries]
    return render("compare_view_summary.html", parts=parts, style=VIEW_CELL_STYLE)


def check_mark_html(mark: CheckMark, named: bool = True) -> str:
    """One check mark (``✓``, ``✗``, ``0.80``, ``⚠`` for a check that raised, ``–``), its name when
    ``named``; a check's error message is its (escaped) tooltip."""
    return render("check_mark.html", c=mark, check_colours=CHECK_COLOURS, named=named)


def comparison_html(comparison: Comparison) -> str:
    """A comparison as a table: one line per input row, one column per (version, model); inline CSS only.
    Under it (a ``<tfoot>``), when the grid has checks, each column's :func:`compare_summary_html`."""
    lines = [
        {
            "row": row,
            "own": [comparison.own[row][name] for name in comparison.own_columns],
            "cells": [cell_parts(comparison, row, column) for column in comparison.columns],
        }
        for row in comparison.rows
    ]
    return render(
        "compare.html",
        summary=comparison.summary(),
        own_columns=comparison.own_columns,
        columns=comparison.columns,
        lines=lines,
        only_differences=comparison.only_differences,
        footer=[_safe(compare_summary_html(None)), *(_safe(compare_summary_html(s)) for s in comparison.summaries)],
        check_colours=CHECK_COLOURS,
        cut_off_mark=CUT_OFF_MARK,
        error_chars=CHECK_ERROR_CHARS,
    )


def cell_parts(comparison: Comparison, row: int, column: Column) -> tuple[Cell | None, list[Cell], tuple[CheckTally, ...]]:
    """What a comparison's cell shows: its call (repeat 0), and with repeats its calls and check tallies."""
    if not comparison.has_repeats:
        return comparison.cell(row, column), [], ()
    return comparison.cell(row, column), comparison.repeats(row, column), comparison.tallies(row, column)


def comparison_text(comparison: Comparison) -> str:
    return comparison.summary()
