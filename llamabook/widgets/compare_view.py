"""``CompareView``: a grid side by side (``llamabook.evaluation.compare``); open any cell's response."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import views
from ..evaluation.compare import Column, Comparison, compare
from ..errors import InvalidRequest
from ..views.comparisons import (
    cell_parts,
    compare_view_cell_html,
    compare_view_header_html,
    compare_view_summary_html,
    compare_view_value_html,
)
from ._common import PANEL_NOTE, ErrorArea, guarded, replace_children, styled
from .response_view import call_view

if TYPE_CHECKING:
    import pandas

    from ..client import Client
    from ..evaluation.compare import Cell

#: Grid tracks: the row number, the row's own columns, then one wider track per (version, model).
#: Each is as wide as its content, as a table's columns are: an own column up to 16em (then its values
#: wrap), a call's column from 12em up to its longest line, sharing the width there is; a wide notebook
#: leaves no gap between short values.
ROW_WIDTH = "max-content"
OWN_WIDTH = "fit-content(16em)"
CALL_WIDTH = "minmax(12em, max-content)"


class CompareView(widgets.VBox):
    """A :class:`~llamabook.evaluation.compare.Comparison` as a table: one line per input row, one column per
    (version, model), each cell the call's output, error and check marks (``⚠`` for a check that
    raised, with its message as text: an error, not a ✗).

    A cell whose call made a response has an **open** button that shows its :class:`ResponseView`
    under the table (read with ``client.responses.retrieve``); a call that made none shows its
    error and opens nothing. ``grid_or_comparison`` is a ``client.grid`` DataFrame or a
    ``Comparison``; the first ``max_rows`` input rows are shown.

    With repeats (``grid(..., repeats=N)``) a cell shows repeat 0's output, each check's tally over the
    N calls (``2/3 ✓ name``; ``⚠<n>`` for the repeats where the check raised, never a pass or a fail)
    and the N outputs on demand (a ``<details>`` element); its open button shows the N calls stacked in
    an accordion, one :class:`ResponseView` each, repeat 0 open (a repeat that made no response: its values
    and error).

    When the grid has checks, :attr:`checks` (an HTML widget under the table) shows each column's summary
    (``comparison.summaries``: each check's rate [interval] n, errors apart, the verdict against the
    first column), made by the view of ``lb.compare``'s ``<tfoot>``; it is hidden without checks.
    """

    def __init__(
        self, client: Client, grid_or_comparison: pandas.DataFrame | Comparison, *, max_rows: int = 100
    ) -> None:
        self.client = client
        self.max_rows = max(1, max_rows)
        self.comparison: Comparison | None = None
        #: The open buttons of the cells shown, by (row, column).
        self.open_buttons: dict[tuple[int, Column], widgets.Button] = {}
        #: The view of the last opened response.
        self.view: widgets.Widget | None = None
        #: The (row, column) whose response is shown.
        self.opened: tuple[int, Column] | None = None
        self.error = ErrorArea()
        self.summary = styled(widgets.Label(""), "llamabook-compare-summary")
        layout = widgets.Layout(grid_gap="4px 8px", align_items="flex-start")
        self.table = styled(widgets.GridBox(layout=layout), "llamabook-compare-grid")
        #: Each column's checks in figures, under the table (hidden for a grid without checks).
        self.checks = styled(widgets.HTML("", layout=widgets.Layout(display="none")), "llamabook-compare-footer")
        self.detail = styled(widgets.VBox(), "llamabook-compare-detail")
        super().__init__([self.summary, self.error, self.table, self.checks, self.detail])
        self.add_class("llamabook-compare-view")
        self._load(grid_or_comparison)

    def __repr__(self) -> str:
        # The notebook's text/plain for this widget: what a reader sees where widgets do not render.
        found = self.comparison
        shown = f"{len(found.rows)} rows × {len(found.columns)} columns" if found is not None else "nothing to compare"
        return f"CompareView: {shown} ({PANEL_NOTE})"

    @guarded
    def show(self, row: int, column: Column | int) -> None:
        """Show the response of ``row``'s call in ``column`` (a (version, model) pair or its position)."""
        self.error.clear()
        if self.comparison is None:
            raise InvalidRequest("There is no comparison to open: give CompareView a client.grid DataFrame")
        pair = self._column(column)
        label = Comparison.label(pair)
        calls = self.comparison.repeats(row, pair)
        if not calls:
            raise InvalidRequest(f"No call for row {row!r} in {label}: the rows are {self.comparison.rows}")
        heading = widgets.HTML(views.text_cell(f"row {row} · {label}"))
        where = f"Row {row} in {label}"
        self.view = self._repeats_view(calls, where) if len(calls) > 1 else call_view(calls[0], self.client, where)
        replace_children(self.detail, [heading, self.view])
        self.opened = (row, pair)

    def _repeats_view(self, calls: list[Cell], where: str) -> widgets.Accordion:
        """A cell's repeats stacked in an accordion (``repeat 0`` first and open), each its call's view; a
        repeat that made no response shows its values, and why, instead. (Not tabs: a ResponseView has its own.)"""
        shown: list[widgets.Widget] = []
        for call in calls:
            try:
                shown.append(call_view(call, self.client, f"{where}, repeat {call.repeat}"))
            except InvalidRequest as problem:
                html = views.record_html(call.record(), status=call.status, note=str(problem))
                shown.append(styled(widgets.HTML(html), "llamabook-run-record"))
        titles = [f"repeat {call.repeat}" + (f" · {call.status}" if call.status not in (None, "completed") else "") for call in calls]
        return styled(widgets.Accordion(children=shown, titles=titles, selected_index=0), "llamabook-compare-repeats")

    def _column(self, column: Column | int) -> Column:
        assert self.comparison is not None
        columns = self.comparison.columns
        if isinstance(column, numbers.Integral) and not isinstance(column, bool) and 0 <= int(column) < len(columns):
            return columns[int(column)]
        pair = tuple(column) if isinstance(column, (tuple, list)) else None
        if pair not in columns:
            shown = ", ".join(map(Comparison.label, columns))
            raise InvalidRequest(
                f"No column {column!r}: give a (version, model) pair of {shown} or a position 0 to {len(columns) - 1}"
            )
        return pair  # type: ignore[return-value]

    # ---- drawing ------------------------------------------------------------------------------------

    @guarded
    def _load(self, grid_or_comparison: Any) -> None:
        found = grid_or_comparison if isinstance(grid_or_comparison, Comparison) else compare(grid_or_comparison)
        self.comparison = found
        rows = found.rows[: self.max_rows]
        tracks = [ROW_WIDTH, *([OWN_WIDTH] * len(found.own_columns)), *([CALL_WIDTH] * len(found.columns))]
        self.table.layout.grid_template_columns = " ".join(tracks)
        header = ["row", *found.own_columns, *map(Comparison.label, found.columns)]
        cells: list[widgets.Widget] = [
            styled(widgets.HTML(compare_view_header_html(name)), "llamabook-compare-header") for name in header
        ]
        for row in rows:
            cells.append(widgets.HTML(compare_view_value_html(row)))
            cells += [widgets.HTML(compare_view_value_html(found.own[row][name])) for name in found.own_columns]
            cells += [self._cell(row, column) for column in found.columns]
        replace_children(self.table, cells)
        self.checks.value = compare_view_summary_html(found) if found.summaries else ""
        self.checks.layout.display = None if found.summaries else "none"
        more = f" (showing the first {len(rows)})" if len(rows) < len(found.rows) else ""
        self.summary.value = found.summary() + more

    def _cell(self, row: int, column: Column) -> widgets.Widget:
        """The call's output and check marks, then its open button (sized to its label) beside them:
        a button under them made every line taller than the comparison's table."""
        assert self.comparison is not None
        cell, calls, tallies = cell_parts(self.comparison, row, column)
        html = compare_view_cell_html(cell, calls, tallies)
        text = widgets.HTML(html, layout=widgets.Layout(flex="0 1 auto", min_width="0"))
        parts: list[widgets.Widget] = [text]
        if any(call.response_id or call.custom_id for call in calls or ([cell] if cell else [])):
            button = styled(
                widgets.Button(
                    description="open",
                    tooltip="open this call's response" if len(calls) < 2 else f"open its {len(calls)} responses",
                    layout=widgets.Layout(width="auto", flex="0 0 auto", padding="0 6px"),
                ),
                "llamabook-compare-open",
            )
            button.on_click(lambda _: self.show(row, column))
            self.open_buttons[(row, column)] = button
            parts.append(button)
        layout = widgets.Layout(min_width="0", align_items="flex-start", margin="0")
        return styled(widgets.HBox(parts, layout=layout), "llamabook-compare-cell")
