"""BehaviourView: one line per pair of a behaviour diff; an open button shows both calls side by side.

The grid runs on the scripted engine (answers echo the prompt, no model), so each side's text is known.
"""

from __future__ import annotations

import pandas as pd
import pytest

import llamabook as lb
from llamabook.widgets import BehaviourView, ResponseView
from support.hand_grid import grid as hand_grid
from support.htmlcheck import active_parts, text

IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture
def grid(quick_client: lb.Client) -> pd.DataFrame:
    quick_client.prompts.save("tutor", "Capital of {{country}}?")
    quick_client.prompts.save("tutor", "Capital of {{country}}, said {{capital}}?")
    rows = pd.DataFrame({"country": ["Ireland", IMG], "capital": ["Dublin", "Paris"]})
    frame = quick_client.grid("tutor", rows, versions=[1, 2], progress=False)
    frame["check_names_capital"] = [c in t for c, t in zip(frame["capital"], frame["output_text"])]
    return frame


def test_one_line_per_pair_and_open_shows_both_responses(quick_client: lb.Client, grid: pd.DataFrame) -> None:
    diff = lb.behaviour_diff(grid, baseline=1, candidate=2)
    view = BehaviourView(diff, client=quick_client)
    assert "llamabook-behaviour-view" in view._dom_classes and view.error.message == ""
    assert view.summary.value == "Behaviour diff v1 → v2 · 2 pairs · 2 changed · 2 flipped checks"
    columns = 1 + len(diff.own_columns) + 3 + 1  # row (one model: its key not shown), own, diff/checks/deltas, open
    assert diff.keys == ("row", "model") and text(view.table.children[1].value) == "country"
    assert view.table.layout.grid_template_columns.split(" ")[-1] == "max-content"
    assert len(view.table.children) == columns * 3 and sorted(view.open_buttons) == [0, 1]
    cells = view.table.children[columns : columns * 2]
    first = "".join(c.value for c in cells if hasattr(c, "value") and isinstance(c.value, str))
    assert "llamabook-ins" in first and "✓" in text(first) and active_parts(first) == []

    view.open_buttons[1].click()
    assert view.opened == 1 and isinstance(view.views[0], ResponseView) and isinstance(view.views[1], ResponseView)
    pair = diff.pairs[1]
    assert [v.response.id for v in view.views] == [pair.baseline.response_id, pair.candidate.response_id]
    assert view.views[1].response.output_text == pair.candidate.output_text
    halves = view.detail.children
    assert [h._dom_classes[-1] for h in halves] == ["llamabook-behaviour-baseline", "llamabook-behaviour-candidate"]
    assert text(halves[0].children[0].value).startswith(f"baseline v1 · row {pair.row}")
    assert repr(view) == "BehaviourView: 2 pairs (run the cell to use this panel)"


def test_without_a_client_it_shows_the_stored_records(grid: pd.DataFrame) -> None:
    view = BehaviourView(lb.behaviour_diff(grid, baseline=1, candidate=2))
    view.show(0)
    assert view.error.message == "" and all("llamabook-run-record" in v._dom_classes for v in view.views)
    assert "no client to read its response" in text(view.views[0].value)


def test_a_call_without_a_response_shows_its_error_in_its_half() -> None:
    frame = hand_grid([
        {"row": 0, "version": 1, "output_text": "Cork.", "response_id": None},
        {"row": 0, "version": 2, "output_text": None, "status": "failed", "error": f"EngineError: {IMG}",
         "ok": None, "quality": None},
    ])  # fmt: skip
    view = BehaviourView(lb.behaviour_diff(frame, baseline=1, candidate=2))
    view.show(0)
    assert view.error.message == "" and view.opened == 0
    messages = [text(v.value) for v in view.views]
    assert messages[0] == "InvalidRequest: The baseline's call made no response (no error recorded)"
    assert messages[1] == f"InvalidRequest: The candidate's call made no response (EngineError: {IMG})"
    assert all(active_parts(v.value) == [] for v in view.views)


def test_bad_inputs_show_in_the_error_area(grid: pd.DataFrame) -> None:
    wrong = BehaviourView(grid)  # a grid, not a behaviour diff
    assert "BehaviourView shows what lb.behaviour_diff returns, not a DataFrame" in wrong.error.message
    assert repr(wrong) == "BehaviourView: no behaviour diff (run the cell to use this panel)"
    wrong.show(0)
    assert "There is no behaviour diff to open" in wrong.error.message
    view = BehaviourView(lb.behaviour_diff(grid, baseline=1, candidate=2), max_rows=1)
    assert view.summary.value.endswith("(showing the first 1)") and list(view.open_buttons) == [0]
    view.show(5)
    assert "No pair 5: give a position 0 to 1" in view.error.message and view.opened is None
