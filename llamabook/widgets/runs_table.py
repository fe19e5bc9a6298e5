"""``RunsTable``: a ``client.grid`` result with status colours; open any row's response."""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import views
from ..grid import RESULT_COLUMNS
from ..errors import InvalidRequest
from ..frames import check_columns, none_if_missing
from ..inputs import is_dataframe
from ..schema_columns import fields_of
from ._common import PANEL_NOTE, ErrorArea, guarded, replace_children, styled, stylesheet
from .response_view import ResponseView
from .run_cells import (
    CUT_OFF,
    check_cell,
    check_text,
    field_text,
    header_cell,
    header_text,
    is_true,
    sorted_lines,
    status_cell,
    text_cell,
)

if TYPE_CHECKING:
    import pandas

    from ..client import Client

#: Result columns shown after the row's own columns (the rest are in the opened row).
SHOWN = ("version", "model", "repeat", "output_text", "tokens", "latency_s", "error")  # repeat: with repeats=
#: Grid tracks: the open button and the status (its badge and "cut off") as wide as they are, never
#: cut or wrapped; the text columns share what the short ones leave, down to their longest word
#: (:data:`llamabook.views.LONG_WORD` characters at most) or their header's longest part, so the table
#: fits a notebook next to an open sidebar (~850 px).
WIDTHS = {
    "model": "minmax(min-content, 1fr)",
    "output_text": "minmax(min-content, 3fr)",
    "error": "minmax(min-content, 2fr)",
}
OPEN_WIDTH = STATUS_WIDTH = "max-content"
OWN_WIDTH = "minmax(min-content, 1fr)"
#: The grid area of a cell across all columns (row start / column start / row end / column end).
ACROSS = "auto / 1 / auto / -1"
#: The columns of SHOWN whose cells are clamped to ``run_cells.LINES`` lines, as the row's own columns are
#: (the whole text is the cell's tooltip).
CLAMPED = frozenset({"model", "repeat", "output_text", "error", "tokens", "latency_s"})  # all: compact lines, not 28 px each


class RunsTable(widgets.VBox):
    """A grid DataFrame (see :meth:`llamabook.Client.grid`), one line per call, paged.

    Each line has an open button (``#<position>``), its status in colour (marked "cut off" when
    the grid's ``cut_off`` column says the answer stopped at ``max_output_tokens``), the row's own
    columns, version, model, repeat (``repeats=``), output, a grid's schema fields (``schema=``, each a column, lists and
    objects as JSON), tokens, latency ("replayed" for an answer replayed from a cassette, which has
    none) and error; text cells show at most two
    lines, the whole text is their tooltip. A check column (``check_<name>``) shows its mark:
    ✓, ✗, a score, ``⚠`` for a check that raised (an error, not a ✗: its message is the tooltip,
    and in ``check_<name>_error``), – when it did not run; the summary counts the check errors.

    A column with no value on any line (``error`` when nothing failed, say) is hidden, and so is a
    check's ``check_<name>_error`` (its message is the tooltip of the check's ⚠);
    ``all_columns=True``, or ticking **all columns**, shows them. A click on a column's header (its
    name and an arrow: ↕, then ▲ or ▼) sorts the lines by that column: ascending, then descending on a
    second click (missing values last).
    The **filter** box keeps the lines whose shown cells contain its text (any case); **failed
    only** keeps the failed calls. :meth:`to_pandas` gives the lines kept, in the order shown.
    Opening a line shows its :class:`ResponseView` right under it, read through ``client``; a call
    that made no response (or without a client) shows the line's values.
    """

    def __init__(
        self, df: pandas.DataFrame, client: Client | None = None, *, page_size: int = 20, all_columns: bool = False
    ) -> None:
        problem = _not_a_grid(df)
        if not is_dataframe(df):
            import pandas as pd

            df = pd.DataFrame()
        self.df = df.reset_index(drop=True)
        self.client = client
        self.page_size = max(1, page_size)
        self.page = 0
        #: The open buttons of the page shown, by position in ``df``.
        self.open_buttons: dict[int, widgets.Button] = {}
        #: The headers, by column: each a button that sorts by its column (its name and its arrow).
        self.sort_buttons: dict[str, widgets.Button] = {}
        #: The column the lines are sorted by and whether ascending (None: in ``df``'s order).
        self.sort_by: tuple[str, bool] | None = None
        #: The view of the last opened response.
        self.view: ResponseView | None = None
        self._records = [self._record(position) for position in range(len(self.df))]
        self._find_columns()
        self.error = ErrorArea()
        self._make_controls(all_columns)
        self._make_table()
        #: Position of the line whose detail is shown.
        self.opened: int | None = None
        toolbar = widgets.HBox(
            [
                self.filter, self.failed_only, self.all_columns, self.prev_button, self.page_label, self.next_button,
                self.summary,
            ],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )  # fmt: skip
        #: The panels' CSS rules: the headers drawn as headers (``views/templates/panel_style.html``).
        self.stylesheet = stylesheet()
        super().__init__([toolbar, self.error, self.note, self.table, self.stylesheet])
        self.add_class("llamabook-runs-table")
        self.failed_only.observe(lambda _: self._refilter(), "value")
        self.filter.observe(lambda _: self._refilter(), "value")
        self.all_columns.observe(lambda _: self._relayout(), "value")
        self.prev_button.on_click(lambda _: self.turn(-1))
        self.next_button.on_click(lambda _: self.turn(1))
        self._render()
        if problem is not None:
            self.error.show(problem)

    def _find_columns(self) -> None:
        """Sort ``df``'s columns: the row's own, the checks among them, the schema fields, the results shown."""
        #: A schema grid's field columns, shown after output_text (``valid`` is in the status).
        self.field_columns = fields_of(self.df)
        hidden = {"row", "cut_off", "valid", "repeat", *RESULT_COLUMNS, *self.field_columns}
        self.own_columns = [c for c in self.df.columns if c not in hidden]
        #: The grid's checks, ``{column: name}`` (``check_<name>``, not its companions): shown as marks.
        self.check_columns = {column: name for name, column in check_columns(self.df.columns).items()}
        at = SHOWN.index("output_text") + 1
        #: The result columns of a line, after the row's own columns.
        self.shown = tuple(c for c in (*SHOWN[:at], *self.field_columns, *SHOWN[at:]) if c != "repeat" or c in self.df)
        #: What each line's cells say, as text (the filter's haystack; empty: no value).
        self._texts = [self._cell_texts(record) for record in self._records]
        companions = {f"{column}_error" for column in self.check_columns}
        #: The columns (own and shown) with no value on any line, and the checks' ``check_<name>_error``
        #: (each message is its ⚠'s tooltip): hidden unless **all columns** is ticked.
        self.hidden_columns = [
            name
            for name in (*self.own_columns, *self.shown)
            if name in companions or not any(texts[name] for texts in self._texts)
        ]

    @property
    def columns(self) -> list[str]:
        """The columns drawn after the open button and the status: own columns, then results."""
        hidden = set() if self.all_columns.value else set(self.hidden_columns)
        return [name for name in (*self.own_columns, *self.shown) if name not in hidden]

    def _make_controls(self, all_columns: bool) -> None:
        """The toolbar's widgets: the filters, the all-columns toggle, the summary, the page buttons and label."""
        self.filter = styled(
            widgets.Text(placeholder="filter", layout=widgets.Layout(width="12em")), "llamabook-runs-filter"
        )
        self.failed_only = styled(
            widgets.Checkbox(value=False, description="failed only", indent=False, layout=widgets.Layout(width="auto")),
            "llamabook-failed-only",
        )
        self.all_columns = styled(
            widgets.Checkbox(
                value=bool(all_columns), description="all columns", indent=False, layout=widgets.Layout(width="auto")
            ),
            "llamabook-all-columns",
        )
        self.summary = styled(widgets.Label(""), "llamabook-runs-summary")
        self.prev_button = styled(widgets.Button(description="◀", tooltip="previous page"), "llamabook-prev")
        self.next_button = styled(widgets.Button(description="▶", tooltip="next page"), "llamabook-next")
        for button in (self.prev_button, self.next_button):
            button.layout.width = "3em"
        self.page_label = styled(widgets.Label(""), "llamabook-page")
        #: Says why no line is shown (nothing failed, nothing matches the filter); empty otherwise.
        self.note = styled(widgets.HTML(""), "llamabook-runs-note")

    def _make_table(self) -> None:
        """The grid of lines, and the opened line's detail that goes in it."""
        self.table = styled(
            widgets.GridBox(
                layout=widgets.Layout(grid_template_columns=self._tracks(), grid_gap="2px 6px", align_items="center")
            ),
            "llamabook-runs-grid",
        )
        #: The opened line's detail: in the grid right under that line, across all its columns
        #: (under the last line when the opened line is on another page).
        #: (grid_area, not grid_column: ipywidgets never sets grid_column on the element, ipywidgets#2334.)
        self.detail = styled(
            widgets.VBox(layout=widgets.Layout(grid_area=ACROSS, min_width="0", overflow="hidden")),
            "llamabook-run-detail",
        )

    def _tracks(self) -> str:
        """The grid's ``grid-template-columns`` for the columns drawn."""
        def width(name: str) -> str:
            if name in self.check_columns:
                return "auto"
            if name in self.own_columns or name in self.field_columns:
                return OWN_WIDTH
            return WIDTHS.get(name, "auto")

        return " ".join([OPEN_WIDTH, STATUS_WIDTH, *(width(name) for name in self.columns)])

    def visible(self) -> list[int]:
        """Positions of the lines the filters let through, in the order shown (sorted when a header says so)."""
        positions = range(len(self.df))
        if self.failed_only.value and "status" in self.df.columns:
            positions = [i for i in positions if self._records[i].get("status") == "failed"]
        needle = self.filter.value.strip().casefold()
        if needle:
            shown = ["status", *self.columns]
            positions = [i for i in positions if any(needle in self._texts[i][name].casefold() for name in shown)]
        return sorted_lines(self._records, list(positions), self.sort_by, self.field_columns)

    @guarded
    def sort(self, column: str | None, ascending: bool = True) -> None:
        """Sort the lines by ``column`` (a header's name; None: ``df``'s order), as a click on its header does.

        A column the table does not have is an :class:`InvalidRequest` in the error area.
        """
        self.error.clear()
        if column is not None and column not in ("status", *self.own_columns, *self.shown):
            raise InvalidRequest(f"No column {column!r} to sort by: the table has status, {', '.join(self.columns)}")
        self.sort_by = None if column is None else (column, bool(ascending))
        self._first_page()

    def to_pandas(self) -> pandas.DataFrame:
        """The lines kept by the filters, in the order shown (every column of ``df``; its index is the position)."""
        return self.df.iloc[self.visible()]

    def turn(self, pages: int) -> None:
        """Go ``pages`` pages forward (negative: back)."""
        self.page += pages
        self._render()

    def open(self, position: int | None = None) -> None:
        """Show line ``position`` of ``df``: its response's view, or its values when there is no response.

        Without ``position`` this is ipywidgets' ``Widget.open`` (``Widget.__init__`` calls it to open
        the widget's comm, without which no front end can show the table).
        """
        if position is None:
            super().open()
        else:
            self._open_line(position)

    @guarded
    def _open_line(self, position: int) -> None:
        self.error.clear()
        lines = len(self.df)
        if isinstance(position, bool) or not isinstance(position, numbers.Integral) or not 0 <= position < lines:
            where = f": open 0 to {lines - 1}" if lines else ""
            raise InvalidRequest(f"No line {position!r}: the table has {lines} line{'s' if lines != 1 else ''}{where}")
        record = self._records[position]
        response_id = record.get("response_id")
        heading = widgets.HTML(views.text_cell(f"line #{position}"))
        if self.client is not None and response_id:
            self.view = ResponseView(self.client.responses.retrieve(str(response_id)), client=self.client)
            shown: widgets.Widget = self.view
        else:
            if record.get("custom_id") and not response_id:  # a batch's answer: no Responses id to open
                note = "a batch's answer (no Responses id): shown from its stored result"
            else:
                note = "pass client= to open its response" if response_id else "this call made no response"
            # The row's own columns always (an empty one is often why the call failed), the rest when set.
            rows = [
                (name, "(empty)" if value is None and name in self.own_columns else value)
                for name, value in record.items()
                if name != "status" and (value is not None or name in self.own_columns)
            ]
            html = views.record_html(rows, status=record.get("status"), note=note)
            shown = styled(widgets.HTML(html), "llamabook-run-record")
        replace_children(self.detail, [heading, shown])
        self.opened = int(position)
        self._place_detail()

    def _place_detail(self) -> None:
        """Move the detail right under the opened line if this page shows it, else under the last line.

        Moved, not redrawn: the page's cells stay the same widgets.
        """
        cells = [cell for cell in self.table.children if cell is not self.detail]
        button = self.open_buttons.get(self.opened) if self.opened is not None else None
        at = cells.index(button) + self._line_cells() if button in cells else len(cells)
        self.table.children = [*cells[:at], self.detail, *cells[at:]]

    def _line_cells(self) -> int:
        """Cells of one line: open button, status, the columns drawn."""
        return 2 + len(self.columns)

    # ---- drawing ------------------------------------------------------------------------------------

    def _first_page(self) -> None:
        self.page = 0
        self._render()

    def _refilter(self) -> None:
        """A filter changed: back to the first page; an opened line the filters now hide is closed."""
        if self.opened is not None and self.opened not in self.visible():
            replace_children(self.detail, [])
            self.opened, self.view = None, None
        self._first_page()

    def _relayout(self) -> None:
        """The hidden columns were shown or hidden again: new tracks, the page drawn again."""
        self.table.layout.grid_template_columns = self._tracks()
        self._render()

    def _click_sort(self, column: str) -> None:
        """A click on a header: ascending first, then it toggles."""
        ascending = not (self.sort_by is not None and self.sort_by == (column, True))
        self.sort(column, ascending)

    @guarded
    def _render(self) -> None:
        positions = self.visible()
        pages = max(1, math.ceil(len(positions) / self.page_size))
        self.page = min(max(self.page, 0), pages - 1)
        shown = positions[self.page * self.page_size : (self.page + 1) * self.page_size]
        names = ("status", *self.columns)
        for hidden in set(self.sort_buttons) - set(names):  # closed below with the rest of what is not shown
            del self.sort_buttons[hidden]
        cells: list[widgets.Widget] = [
            styled(widgets.HTML(views.text_cell("")), "llamabook-runs-header"),
            *(self._header(name) for name in names),
        ]
        self.open_buttons = {}
        for position in shown:
            cells.extend(self._line(position))
            if position == self.opened:
                cells.append(self.detail)
        if self.opened not in shown:
            cells.append(self.detail)
        for cell in cells:
            if cell is not self.detail:
                cell.layout.margin = "0"  # the grid's gap spaces the cells (a widget's own 2 px margins add up)
        replace_children(self.table, cells)
        self.page_label.value = f"page {self.page + 1} of {pages}"
        self.prev_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= pages - 1
        self.summary.value = self._summary()
        self.note.value = views.text_cell(self._why_empty()) if not positions else ""

    def _why_empty(self) -> str:
        """What the note says when no line is shown."""
        needle = self.filter.value.strip()
        if not len(self.df):
            return "no lines"
        if self.failed_only.value:
            return f"no failed line matches {needle!r}" if needle else "no failed lines"
        return f"no line matches {needle!r}"

    def _header(self, name: str) -> widgets.Button:
        """A column's header button (kept in ``sort_buttons``), its arrow up to date.

        Made once per column and kept across redraws: a click on a header the redraw had just
        replaced (and closed) would be lost.
        """
        direction = self.sort_by[1] if self.sort_by is not None and self.sort_by[0] == name else None
        if name not in self.sort_buttons:
            self.sort_buttons[name] = header_cell(name, direction, lambda: self._click_sort(name))
        self.sort_buttons[name].description = header_text(name, direction)
        return self.sort_buttons[name]

    def _line(self, position: int) -> list[widgets.Widget]:
        record = self._records[position]
        button = styled(
            widgets.Button(
                description=f"#{position}",
                tooltip="open this call's response",
                layout=widgets.Layout(width="auto", min_width="max-content", padding="0 6px"),
            ),
            "llamabook-run-open",
            f"llamabook-run-{position}",
        )
        button.on_click(lambda _: self.open(position))
        self.open_buttons[position] = button
        cells: list[widgets.Widget] = [button, status_cell(record)]
        texts = self._texts[position]
        for name in self.columns:
            if name in self.check_columns:
                cells.append(check_cell(record, name, self.check_columns[name]))
            elif name in self.own_columns:
                cells.append(text_cell(texts[name], "own", clamp=True))
            else:
                field = name in self.field_columns
                status = "failed" if name == "error" else None
                kind = "field" if field else name
                cells.append(text_cell(texts[name], kind, clamp=field or name in CLAMPED, status=status))
        return cells

    def _cell_texts(self, record: dict[str, Any]) -> dict[str, str]:
        """Line ``record``'s cells as text, by column ("" for no value); a check's is its mark."""
        values: dict[str, Any] = {
            "status": record.get("status"),
            **{name: record.get(name) for name in ("version", "model", "repeat", "output_text")},
            "tokens": views.tokens_label(record, unit=""),
            "latency_s": views.latency_label(record),  # "replayed" for an answer from a cassette
            "error": record.get("error"),
            **{name: field_text(record.get(name)) for name in self.field_columns},
        }
        for name in self.own_columns:
            check = self.check_columns.get(name)
            values[name] = record.get(name) if check is None else check_text(record, name, check)
        if is_true(record.get("cut_off")):
            values["status"] = f"{values['status'] or ''} {CUT_OFF}"
        return {name: "" if value is None else str(value) for name, value in values.items()}

    def _record(self, position: int) -> dict[str, Any]:
        """Line ``position`` as a dict, missing values (NA) as None."""
        return {str(name): none_if_missing(value) for name, value in self.df.iloc[position].items()}

    def __repr__(self) -> str:
        # The notebook's text/plain for this widget: what a reader sees where widgets do not render.
        return f"RunsTable: {self._summary()} ({PANEL_NOTE})"

    def _summary(self) -> str:
        total = len(self.df)
        parts = [f"{total} line{'s' if total != 1 else ''}"]
        if "status" in self.df.columns:
            counts = self.df["status"].value_counts(dropna=True)
            parts += [f"{int(count)} {status}" for status, count in counts.items()]
        if "cut_off" in self.df.columns:
            cut = sum(is_true(value) for value in self.df["cut_off"])
            parts += [f"{cut} {CUT_OFF}"] if cut else []
        raised = self.check_errors()
        parts += [f"{raised} check error{'s' if raised != 1 else ''}"] if raised else []
        return " · ".join(parts)

    def check_errors(self) -> int:
        """How many checks raised, over every line and check (each is ``⚠``, its message in ``check_<name>_error``)."""
        errors = [f"{column}_error" for column in self.check_columns if f"{column}_error" in self.df.columns]
        return int(sum(self.df[column].notna().sum() for column in errors))


def _not_a_grid(df: Any) -> InvalidRequest | None:
    """Why ``df`` is not a ``client.grid`` result (None when it is one)."""
    if not is_dataframe(df):
        return InvalidRequest(f"RunsTable shows the DataFrame client.grid returns, not a {type(df).__name__}")
    if "status" not in df.columns:
        columns = ", ".join(map(str, df.columns)) or "none"
        return InvalidRequest(
            f"This DataFrame has no 'status' column (its columns: {columns}): RunsTable shows the "
            "DataFrame client.grid returns"
        )
    return None
