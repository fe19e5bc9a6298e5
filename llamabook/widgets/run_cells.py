"""A RunsTable line's cells: the widgets it shows, their texts (for the filter) and their sort order."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ipywidgets as widgets

from .. import views
from ..errors import InvalidRequest
from ..evaluation.compare import CheckMark
from ._common import styled

CUT_OFF = "cut off"
CUT_OFF_TIP = f"the answer was {views.CUT_OFF_MARK}"  # the table is narrow: the short mark, the full one as tooltip
#: Lines a clamped cell shows at most (its whole text is its tooltip).
LINES = 2
#: Characters a clamped cell carries at most (more never shows in ``LINES`` lines of its column).
CELL_CHARS = 240
#: A header's arrow: not sorted, ascending, descending.
ARROWS = {None: "↕", True: "▲", False: "▼"}


def header_text(name: str, direction: bool | None) -> str:
    """A header's label: the column's name (wrapping after an underscore only) and its arrow, ``"mood ↕"``.

    A space before the arrow: in a column narrower than both, the arrow goes under the name, and the
    column is never made wider than the name's longest part by it.
    """
    return f"{views.header_label(name)} {ARROWS[direction]}"


def header_cell(name: str, direction: bool | None, on_sort: Callable[[], None]) -> widgets.Button:
    """A column's header: one button, its name and the arrow showing ``direction``; a click sorts by it.

    Classes ``llamabook-runs-header`` and ``llamabook-runs-sort``; the panels' stylesheet draws it as a
    header (no background, bold, left aligned, wrapping).
    """
    button = styled(
        widgets.Button(
            description=header_text(name, direction),
            tooltip=f"sort by {name}",
            # min-content: a button hides its overflow, so an auto grid track would squeeze it below its text.
            layout=widgets.Layout(width="auto", min_width="min-content", height="auto"),
        ),
        "llamabook-runs-header",
        "llamabook-runs-sort",
    )
    button.on_click(lambda _: on_sort())
    return button


def status_cell(record: dict[str, Any]) -> widgets.HTML:
    """The status badge, then "cached" and a "cut off" mark when they apply."""
    status = str(record.get("status") or "")
    html = views.status_badge(status) if status else ""
    if record.get("cached"):
        html += " " + views.text_cell("cached")
    cell = styled(widgets.HTML(), "llamabook-run-status")
    if is_true(record.get("cut_off")):
        html += " " + views.render("cell.html", text=CUT_OFF, full=CUT_OFF_TIP, status="incomplete")
        cell.add_class("llamabook-run-cut-off")
    cell.value = html
    return cell


def check_cell(record: dict[str, Any], column: str, name: str) -> widgets.HTML:
    """A check's mark (class ``llamabook-run-check``), its error message as tooltip; text if the column holds no check."""
    try:
        mark = CheckMark.of(name, record.get(column), record.get(f"{column}_error"))
    except InvalidRequest:  # a hand-made column named check_…: shown as it is
        return text_cell(record.get(column), "own", clamp=True)
    cell = styled(widgets.HTML(views.check_mark_html(mark, named=False)), "llamabook-run-own", "llamabook-run-check")
    cell.add_class(f"llamabook-run-check-{mark.kind}")
    return cell


def check_text(record: dict[str, Any], column: str, name: str) -> str | None:
    """A check's cell as text: its mark (None when it did not run), or the value of a hand-made check_… column."""
    value, error = record.get(column), record.get(f"{column}_error")
    if value is None and error is None:
        return None
    try:
        return CheckMark.of(name, value, error).mark
    except InvalidRequest:
        return str(value)


def text_cell(value: Any, name: str, *, clamp: bool, status: str | None = None) -> widgets.HTML:
    """A cell with class ``llamabook-run-<name>``; ``clamp``: at most ``LINES`` lines, the whole text as tooltip."""
    cell = styled(widgets.HTML(), f"llamabook-run-{name.split('_')[0]}")
    if not clamp:
        cell.value = views.text_cell(value, 80, status=status)
        return cell
    # The whole text is the title, cut or not: the clamp may hide the end of a text shorter than CELL_CHARS.
    # (An HTML widget's own tooltip is never shown.)
    cell.value = views.clamped_cell(value, LINES, CELL_CHARS, status=status)
    return cell


def field_text(value: Any) -> str | None:
    """A schema field's cell as text: scalars as they are, lists and structs (and numpy arrays of them) as JSON."""
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def is_true(value: Any) -> bool:
    """True for a boolean column's True (Python's or numpy's); False for False, None and anything else."""
    import numpy as np

    return isinstance(value, (bool, np.bool_)) and bool(value)


def sort_key(record: dict[str, Any], column: str, field_columns: Iterable[str]) -> Any:
    """What line ``record`` is sorted by in ``column`` (None: no value, sorted last)."""
    if column == "tokens":
        counts = [record.get("input_tokens"), record.get("output_tokens")]
        return None if counts == [None, None] else sum(count or 0 for count in counts)
    value: Any = field_text(record.get(column)) if column in field_columns else record.get(column)
    if value is None or value == "":
        return None
    return value.casefold() if isinstance(value, str) else value


def sorted_lines(
    records: Sequence[dict[str, Any]],
    positions: list[int],
    sort_by: tuple[str, bool] | None,
    field_columns: Iterable[str],
) -> list[int]:
    """``positions`` in the order ``sort_by`` (column, ascending) gives; lines without a value last."""
    if sort_by is None:
        return positions
    column, ascending = sort_by
    fields = set(field_columns)
    keys = {position: sort_key(records[position], column, fields) for position in positions}
    present = [position for position in positions if keys[position] is not None]
    try:
        present.sort(key=keys.__getitem__, reverse=not ascending)
    except TypeError:  # values of several kinds (numbers and text): compared as text
        present.sort(key=lambda position: str(keys[position]), reverse=not ascending)
    return present + [position for position in positions if keys[position] is None]
