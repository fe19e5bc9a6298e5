"""``RunsTable``: a ``client.grid`` result with status colours; open any row's response."""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import views
from ..batch import RESULT_COLUMNS
from ..errors import InvalidRequest
from ..inputs import is_dataframe
from ._common import ErrorArea, guarded, replace_children, styled
from .response_view import ResponseView

if TYPE_CHECKING:
    import pandas

    from ..client import Client

#: Result columns shown after the row's own columns (the rest are in the opened row).
SHOWN = ("version", "model", "output_text", "tokens", "latency_s", "error")
WIDTHS = {"output_text": "minmax(12em, 3fr)", "error": "minmax(8em, 2fr)"}


class RunsTable(widgets.VBox):
    """A grid DataFrame (see :meth:`llamabook.Client.grid`), one line per call, paged.

    Each line has an open button (``#<position>``), its status in colour, the row's own
    columns, version, model, output, tokens, latency and error. **failed only** filters the
    lines. Opening a line shows its :class:`ResponseView` below the table, read through
    ``client``; a call that made no response (or without a client) shows the line's values.
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
        self.own_columns = [c for c in self.df.columns if c not in RESULT_COLUMNS and c != "row"]
        self.error = ErrorArea()
        self.failed_only = styled(
            widgets.Checkbox(value=False, description="failed only", indent=False), "llamabook-failed-only"
        )
        self.summary = styled(widgets.Label(""), "llamabook-runs-summary")
        self.prev_button = styled(widgets.Button(description="◀", tooltip="previous page"), "llamabook-prev")
        self.next_button = styled(widgets.Button(description="▶", tooltip="next page"), "llamabook-next")
        for button in (self.prev_button, self.next_button):
            button.layout.width = "3em"
        self.page_label = styled(widgets.Label(""), "llamabook-page")
        columns = [
            "auto",
            "auto",
            *(["minmax(5em, 1fr)"] * len(self.own_columns)),
            *(WIDTHS.get(c, "auto") for c in SHOWN),
        ]
        self.table = styled(
            widgets.GridBox(layout=widgets.Layout(grid_template_columns=" ".join(columns), grid_gap="2px 8px")),
            "llamabook-runs-grid",
        )
        self.detail = styled(widgets.VBox(), "llamabook-run-detail")
        super().__init__(
            [
                widgets.HBox([self.failed_only, self.prev_button, self.page_label, self.next_button, self.summary]),
                self.error,
                self.table,
                self.detail,
            ]
        )
        self.add_class("llamabook-runs-table")
        self.failed_only.observe(lambda _: self._first_page(), "value")
        self.prev_button.on_click(lambda _: self.turn(-1))
        self.next_button.on_click(lambda _: self.turn(1))
        self._render()
        if problem is not None:
            self.error.show(problem)

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
            replace_children(self.detail, [heading, self.view])
            return
        note = "pass client= to open its response" if response_id else "this call made no response"
        rows = [(name, value) for name, value in record.items() if value is not None and name != "status"]
        html = views.record_html(rows, status=record.get("status"), note=note)
        replace_children(self.detail, [heading, styled(widgets.HTML(html), "llamabook-run-record")])

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
        header = ["", "status", *self.own_columns, *SHOWN]
        cells: list[widgets.Widget] = [
            widgets.HTML(views.text_cell(name)).add_class("llamabook-runs-header") for name in header
        ]
        self.open_buttons = {}
        for position in shown:
            cells.extend(self._line(position))
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
        status = str(record.get("status") or "")
        badge = views.status_badge(status) if status else ""
        if record.get("cached"):
            badge += " " + views.text_cell("cached")
        cells: list[widgets.Widget] = [button, widgets.HTML(badge).add_class("llamabook-run-status")]
        cells += [widgets.HTML(views.text_cell(record.get(name), 40)) for name in self.own_columns]
        tokens = None
        if record.get("input_tokens") is not None or record.get("output_tokens") is not None:
            tokens = f"{record.get('input_tokens') or 0} / {record.get('output_tokens') or 0}"
        latency = record.get("latency_s")
        values = {
            "version": record.get("version"),
            "model": record.get("model"),
            "output_text": record.get("output_text"),
            "tokens": tokens,
            "latency_s": f"{latency:.2f} s" if latency is not None else None,
            "error": record.get("error"),
        }
        cells += [
            widgets.HTML(views.text_cell(values[name], 80, status="failed" if name == "error" else None))
            for name in SHOWN
        ]
        return cells

    def _record(self, position: int) -> dict[str, Any]:
        """Line ``position`` as a dict, missing values (NA) as None."""
        return {str(name): _none_if_na(value) for name, value in self.df.iloc[position].items()}

    def _summary(self) -> str:
        total = len(self.df)
        parts = [f"{total} line{'s' if total != 1 else ''}"]
        if "status" in self.df.columns:
            counts = self.df["status"].value_counts(dropna=True)
            parts += [f"{int(count)} {status}" for status, count in counts.items()]
        return " · ".join(parts)


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


def _none_if_na(value: Any) -> Any:
    try:
        import pandas as pd

        return None if pd.api.types.is_scalar(value) and pd.isna(value) else value
    except (TypeError, ValueError):
        return value
