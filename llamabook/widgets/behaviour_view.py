"""``BehaviourView``: a behaviour diff (``lb.behaviour_diff``), one line per pair; open both responses side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import views
from ..errors import InvalidRequest
from ..evaluation.behaviour_diff import BehaviourDiff, PairDiff
from ..views.behaviour import PART_HEADERS, PARTS, behaviour_view_cell_html, shown_keys
from ..views.comparisons import compare_view_header_html, compare_view_value_html
from ._common import PANEL_NOTE, ErrorArea, describe_error, guarded, replace_children, styled
from .compare_view import CALL_WIDTH, OWN_WIDTH, ROW_WIDTH
from .response_view import call_view

if TYPE_CHECKING:
    from ..client import Client

#: Grid tracks of a line's parts (after its keys and own columns) and of its open button.
PART_WIDTHS = {"diff": CALL_WIDTH, "checks": "max-content", "deltas": "max-content"}
OPEN_WIDTH = "max-content"


class BehaviourView(widgets.VBox):
    """A :class:`~llamabook.evaluation.behaviour_diff.BehaviourDiff` as a table, biggest change first: one
    line per pair with its keys (row, repeat, …), the row's own columns, the word diff of the two outputs
    (insertions and deletions marked), the checks that changed (a flip ``✓→✗``; ``⚠`` for a check that
    raised: an error, never a flip) and the token, cost and latency deltas.

    Each line's **open** button shows both calls side by side under the table: each its
    :class:`ResponseView` (read with ``client.responses.retrieve``), or, without a client or for a
    batch's answer, its stored record; a call that made no response shows its error in its half.
    The first ``max_rows`` pairs are shown.
    """

    def __init__(self, diff: BehaviourDiff, client: Client | None = None, *, max_rows: int = 100) -> None:
        self.client = client
        self.max_rows = max(1, max_rows)
        self.diff: BehaviourDiff | None = None
        #: The open buttons of the lines shown, by the pair's position in ``diff.pairs``.
        self.open_buttons: dict[int, widgets.Button] = {}
        #: The (baseline, candidate) widgets of the last opened pair, and its position.
        self.views: tuple[widgets.Widget, widgets.Widget] | None = None
        self.opened: int | None = None
        self.error = ErrorArea()
        self.summary = styled(widgets.Label(""), "llamabook-behaviour-summary")
        layout = widgets.Layout(grid_gap="4px 8px", align_items="flex-start")
        self.table = styled(widgets.GridBox(layout=layout), "llamabook-behaviour-grid")
        self.detail = styled(widgets.HBox(layout=widgets.Layout(align_items="flex-start")), "llamabook-behaviour-detail")
        super().__init__([self.summary, self.error, self.table, self.detail])
        self.add_class("llamabook-behaviour-view")
        self._load(diff)

    def __repr__(self) -> str:
        # The notebook's text/plain for this widget: what a reader sees where widgets do not render.
        shown = f"{len(self.diff.pairs)} pairs" if self.diff is not None else "no behaviour diff"
        return f"BehaviourView: {shown} ({PANEL_NOTE})"

    @guarded
    def show(self, index: int) -> None:
        """Show both calls of the pair at ``index`` (its position in ``diff.pairs``) side by side."""
        self.error.clear()
        if self.diff is None:
            raise InvalidRequest("There is no behaviour diff to open: give BehaviourView what lb.behaviour_diff returns")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self.diff.pairs):
            raise InvalidRequest(f"No pair {index!r}: give a position 0 to {len(self.diff.pairs) - 1}")
        pair = self.diff.pairs[index]
        halves = [self._side(pair, role) for role in ("baseline", "candidate")]
        replace_children(self.detail, halves)
        self.views = (halves[0].children[1], halves[1].children[1])
        self.opened = index

    def _side(self, pair: PairDiff, role: str) -> widgets.VBox:
        """One half of the detail: a heading, then the call's view (or its error)."""
        assert self.diff is not None
        side = self.diff.baseline if role == "baseline" else self.diff.candidate
        keys = " · ".join(f"{k} {v}" for k, v in pair.keys.items())
        heading = widgets.HTML(views.text_cell(f"{role} {side.label} · {keys}"))
        cell = pair.baseline if role == "baseline" else pair.candidate
        try:
            shown: widgets.Widget = call_view(cell, self.client, f"The {role}'s call")
        except InvalidRequest as problem:  # one side without a response: the other still opens
            shown = styled(widgets.HTML(views.error_html(describe_error(problem))), "llamabook-error")
        layout = widgets.Layout(flex="1 1 0", min_width="0")
        return styled(widgets.VBox([heading, shown], layout=layout), f"llamabook-behaviour-{role}")

    # ---- drawing ------------------------------------------------------------------------------------

    @guarded
    def _load(self, diff: Any) -> None:
        """Draw ``diff``: the header, then a line per pair (the first ``max_rows``)."""
        if not isinstance(diff, BehaviourDiff):
            raise InvalidRequest(f"BehaviourView shows what lb.behaviour_diff returns, not a {type(diff).__name__}")
        self.diff = diff
        shown, keys = diff.pairs[: self.max_rows], shown_keys(diff)
        tracks = [*([ROW_WIDTH] * len(keys)), *([OWN_WIDTH] * len(diff.own_columns))]
        self.table.layout.grid_template_columns = " ".join([*tracks, *map(PART_WIDTHS.get, PARTS), OPEN_WIDTH])
        header = [*keys, *diff.own_columns, *(PART_HEADERS[p] for p in PARTS), ""]
        cells: list[widgets.Widget] = [
            styled(widgets.HTML(compare_view_header_html(name)), "llamabook-behaviour-header") for name in header
        ]
        for index, pair in enumerate(shown):
            cells += [widgets.HTML(compare_view_value_html(pair.keys[k])) for k in keys]
            cells += [widgets.HTML(compare_view_value_html(pair.own[name])) for name in diff.own_columns]
            cells += [
                styled(widgets.HTML(behaviour_view_cell_html(pair, part)), f"llamabook-behaviour-{part}-cell")
                for part in PARTS
            ]
            cells.append(self._open_button(index))
        replace_children(self.table, cells)
        more = f" (showing the first {len(shown)})" if len(shown) < len(diff.pairs) else ""
        self.summary.value = diff.summary() + more

    def _open_button(self, index: int) -> widgets.Button:
        """The line's open button, sized to its label."""
        button = styled(
            widgets.Button(
                description="open",
                tooltip="open both responses side by side",
                layout=widgets.Layout(width="auto", padding="0 6px"),
            ),
            "llamabook-behaviour-open",
        )
        button.on_click(lambda _: self.show(index))
        self.open_buttons[index] = button
        return button
