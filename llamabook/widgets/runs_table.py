"""``RunsTable``: a ``client.grid`` result with status colours; open any row's response."""

from __future__ import annotations

import json
import math
import numbers
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import views
from ..grid import RESULT_COLUMNS
from ..evaluation.compare import CheckMark
from ..errors import InvalidRequest
from ..frames import check_columns, none_if_missing
from ..inputs import is_dataframe
from ..schema_columns import fields_of
from ._common import PANEL_NOTE, ErrorArea, guarded, replace_children, styled
from .response_view import ResponseView

if TYPE_CHECKING:
    import pandas

    from ..client import Client

#: Result columns shown after the row's own columns (the rest are in the opened row).
SHOWN = ("version", "model", "output_text", "tokens", "latency_s", "error")
#: Grid tracks: the text columns share what the short ones leave, down to their header's width
#: (their cells wrap anywhere), so the table fits a notebook next to an open sidebar (~850 px).
WIDTHS = {
    "model": "minmax(min-content, 1fr)",
    "output_text": "minmax(min-content, 3fr)",
    "error": "minmax(min-content, 2fr)",
}
OWN_WIDTH = "minmax(min-content, 1fr)"
#: The grid area of a cell across all columns (row start / column start / row end / column end).
ACROSS = "auto / 1 / auto / -1"
CUT_OFF = "cut off"
CUT_OFF_TIP = f"the answer was {views.CUT_OFF_MARK}"  # the table is narrow: the short mark, the full one as tooltip
#: The columns of SHOWN whose cells are clamped to ``LINES`` lines, as the row's own columns are
#: (the whole text is the cell's tooltip).
CLAMPED = frozenset({"model", "output_text", "error"})
LINES = 2
#: Characters a clamped cell carries at most (more never shows in ``LINES`` lines of its column).
CELL_CHARS = 240
#: Wraps a cell's HTML (from :mod:`llamabook.views`, escaped there; nothing else goes in): at most
#: ``LINES`` lines ending in "…", long words broken instead of drawn over the next column.
CLAMP = (
    '<div style="display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:{lines};overflow:hidden;'
    'overflow-wrap:anywhere;line-height:1.35;">{html}</div>'
)


class RunsTable(widgets.VBox):
    """A grid DataFrame (see :meth:`llamabook.Client.grid`), one line per call, paged.

    Each line has an open button (``#<position>``), its status in colour (marked "cut off" when
    the grid's ``cut_off`` column says the answer stopped at ``max_output_tokens``), the row's own
    columns, version, model, output, a grid's schema fields (``schema=``, each a column, lists and
    objects as JSON), tokens, latency ("replayed" for an answer replayed from a cassette, which has
    none) and error; text cells show at most two
    lines, the whole text is their tooltip. A check column (``check_<name>``) shows its mark:
    ✓, ✗, a score, ``⚠`` for a check that raised (an error, not a ✗: its message is the tooltip,
    and in ``check_<name>_error``), – when it did not run; the summary counts the check errors.
    **failed only** filters the lines. Opening a line
    shows its :class:`ResponseView` right under it, read through ``client``; a call that made
    no response (or without a client) shows the line's values.
    """

    def __init__(self, df: pandas.DataFrame, client: Client | None = None, *, page_size: int = 20) -> None:
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
        #: The view of the last opened response.
        self.view: ResponseView | None = None
        self._find_columns()
        self.error = ErrorArea()
        self._make_controls()
        self._make_table()
        #: Position of the line whose detail is shown.
        self.opened: int | None = None
        toolbar = widgets.HBox(
            [self.failed_only, self.prev_button, self.page_label, self.next_button, self.summary],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
        super().__init__([toolbar, self.error, self.table])
        self.add_class("llamabook-runs-table")
        self.failed_only.observe(lambda _: self._first_page(), "value")
        self.prev_button.on_click(lambda _: self.turn(-1))
        self.next_button.on_click(lambda _: self.turn(1))
        self._render()
        if problem is not None:
            self.error.show(problem)

    def _find_columns(self) -> None:
        """Sort ``df``'s columns: the row's own, the checks among them, the schema fields, the results shown."""
        #: A schema grid's field columns, shown after output_text (``valid`` is in the status).
        self.field_columns = fields_of(self.df)
        hidden = {"row", "cut_off", "valid", *RESULT_COLUMNS, *self.field_columns}
        self.own_columns = [c for c in self.df.columns if c not in hidden]
        #: The grid's checks, ``{column: name}`` (``check_<name>``, not its companions): shown as marks.
        self.check_columns = {column: name for name, column in check_columns(self.df.columns).items()}
        at = SHOWN.index("output_text") + 1
        #: The result columns of a line, after the row's own columns.
        self.shown = (*SHOWN[:at], *self.field_columns, *SHOWN[at:])
        #: Cells of one line: open button, status, own columns, shown.
        self._line_cells = 2 + len(self.own_columns) + len(self.shown)

    def _make_controls(self) -> None:
        """The toolbar's widgets: the **failed only** filter, the summary, the page buttons and label."""
        self.failed_only = styled(
            widgets.Checkbox(value=False, description="failed only", indent=False, layout=widgets.Layout(width="auto")),
            "llamabook-failed-only",
        )
        self.summary = styled(widgets.Label(""), "llamabook-runs-summary")
        self.prev_button = styled(widgets.Button(description="◀", tooltip="previous page"), "llamabook-prev")
        self.next_button = styled(widgets.Button(description="▶", tooltip="next page"), "llamabook-next")
        for button in (self.prev_button, self.next_button):
            button.layout.width = "3em"
        self.page_label = styled(widgets.Label(""), "llamabook-page")

    def _make_table(self) -> None:
        """The grid of lines, and the opened line's detail that goes in it."""
        columns = [
            "auto", "auto", *([OWN_WIDTH] * len(self.own_columns)),
            *(WIDTHS.get(c, OWN_WIDTH if c in self.field_columns else "auto") for c in self.shown),
        ]  # fmt: skip
        self.table = styled(
            widgets.GridBox(
                layout=widgets.Layout(grid_template_columns=" ".join(columns), grid_gap="2px 8px", align_items="center")
            ),
            "llamabook-runs-grid",
        )
        #: The opened line's detail: in the grid right under that line, across all its columns
        #: (under the last line when the opened line is on another page or filtered out).
        #: (grid_area, not grid_column: ipywidgets never sets grid_column on the element, ipywidgets#2334.)
        self.detail = styled(
            widgets.VBox(layout=widgets.Layout(grid_area=ACROSS, min_width="0")), "llamabook-run-detail"
        )

    def visible(self) -> list[int]:
        """Positions of the lines the filter lets through."""
        if not self.failed_only.value or "status" not in self.df.columns:
            return list(range(len(self.df)))
        return [i for i, status in enumerate(self.df["status"]) if status == "failed"]

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
        record = self._record(position)
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
        self.opened = position
        self._place_detail()

    def _place_detail(self) -> None:
        """Move the detail right under the opened line if this page shows it, else under the last line.

        Moved, not redrawn: the page's cells stay the same widgets.
        """
        cells = [cell for cell in self.table.children if cell is not self.detail]
        button = self.open_buttons.get(self.opened) if self.opened is not None else None
        at = cells.index(button) + self._line_cells if button in cells else len(cells)
        self.table.children = [*cells[:at], self.detail, *cells[at:]]

    # ---- drawing ------------------------------------------------------------------------------------

    def _first_page(self) -> None:
        self.page = 0
        self._render()

    @guarded
    def _render(self) -> None:
        positions = self.visible()
        pages = max(1, math.ceil(len(positions) / self.page_size))
        self.page = min(max(self.page, 0), pages - 1)
        shown = positions[self.page * self.page_size : (self.page + 1) * self.page_size]
        header = ["", "status", *self.own_columns, *self.shown]
        cells: list[widgets.Widget] = [
            widgets.HTML(views.text_cell(name)).add_class("llamabook-runs-header") for name in header
        ]
        self.open_buttons = {}
        for position in shown:
            cells.extend(self._line(position))
            if position == self.opened:
                cells.append(self.detail)
        if self.opened not in shown:
            cells.append(self.detail)
        replace_children(self.table, cells)
        self.page_label.value = f"page {self.page + 1} of {pages}"
        self.prev_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= pages - 1
        self.summary.value = self._summary()

    def _line(self, position: int) -> list[widgets.Widget]:
        record = self._record(position)
        button = styled(
            widgets.Button(
                description=f"#{position}", tooltip="open this call's response", layout=widgets.Layout(width="auto")
            ),
            "llamabook-run-open",
            f"llamabook-run-{position}",
        )
        button.on_click(lambda _: self.open(position))
        self.open_buttons[position] = button
        cells: list[widgets.Widget] = [button, _status_cell(record)]
        cells += [
            _check_cell(record, name, self.check_columns[name])
            if name in self.check_columns
            else _text_cell(record.get(name), "own", clamp=True)
            for name in self.own_columns
        ]
        tokens = None
        if record.get("input_tokens") is not None or record.get("output_tokens") is not None:
            tokens = f"{record.get('input_tokens') or 0} / {record.get('output_tokens') or 0}"
        values = {
            "version": record.get("version"),
            "model": record.get("model"),
            "output_text": record.get("output_text"),
            "tokens": tokens,
            "latency_s": views.latency_label(record),  # "replayed" for an answer from a cassette
            "error": record.get("error"),
            **{name: _field_text(record.get(name)) for name in self.field_columns},
        }
        for name in self.shown:
            field = name in self.field_columns
            status = "failed" if name == "error" else None
            cells.append(_text_cell(values[name], "field" if field else name, clamp=field or name in CLAMPED, status=status))
        return cells

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
            cut = sum(_is_true(value) for value in self.df["cut_off"])
            parts += [f"{cut} {CUT_OFF}"] if cut else []
        raised = self.check_errors()
        parts += [f"{raised} check error{'s' if raised != 1 else ''}"] if raised else []
        return " · ".join(parts)

    def check_errors(self) -> int:
        """How many checks raised, over every line and check (each is ``⚠``, its message in ``check_<name>_error``)."""
        errors = [f"{column}_error" for column in self.check_columns if f"{column}_error" in self.df.columns]
        return int(sum(self.df[column].notna().sum() for column in errors))


def _status_cell(record: dict[str, Any]) -> widgets.HTML:
    """The status badge, then "cached" and a "cut off" mark when they apply."""
    status = str(record.get("status") or "")
    html = views.status_badge(status) if status else ""
    if record.get("cached"):
        html += " " + views.text_cell("cached")
    cell = styled(widgets.HTML(), "llamabook-run-status")
    if _is_true(record.get("cut_off")):
        html += " " + views.render("cell.html", text=CUT_OFF, full=CUT_OFF_TIP, status="incomplete")
        cell.add_class("llamabook-run-cut-off")
    cell.value = html
    return cell


def _check_cell(record: dict[str, Any], column: str, name: str) -> widgets.HTML:
    """A check's mark (class ``llamabook-run-check``), its error message as tooltip; text if the column holds no check."""
    try:
        mark = CheckMark.of(name, record.get(column), record.get(f"{column}_error"))
    except InvalidRequest:  # a hand-made column named check_…: shown as it is
        return _text_cell(record.get(column), "own", clamp=True)
    cell = styled(widgets.HTML(views.check_mark_html(mark, named=False)), "llamabook-run-own", "llamabook-run-check")
    cell.add_class(f"llamabook-run-check-{mark.kind}")
    return cell


def _text_cell(value: Any, name: str, *, clamp: bool, status: str | None = None) -> widgets.HTML:
    """A cell with class ``llamabook-run-<name>``; ``clamp``: at most ``LINES`` lines, the whole text as tooltip."""
    cell = styled(widgets.HTML(), f"llamabook-run-{name.split('_')[0]}")
    if not clamp:
        cell.value = views.text_cell(value, 80, status=status)
        return cell
    text = "" if value is None else str(value)
    short = text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"
    # views' cell template (autoescaped) with the whole text as its title, cut or not: the clamp may hide
    # the end of a text shorter than CELL_CHARS. (An HTML widget's own tooltip is never shown.)
    cell.value = CLAMP.format(lines=LINES, html=views.render("cell.html", text=short, full=text or None, status=status))
    return cell


def _field_text(value: Any) -> str | None:
    """A schema field's cell as text: scalars as they are, lists and structs (and numpy arrays of them) as JSON."""
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _is_true(value: Any) -> bool:
    """True for a boolean column's True (Python's or numpy's); False for False, None and anything else."""
    import numpy as np

    return isinstance(value, (bool, np.bool_)) and bool(value)


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
