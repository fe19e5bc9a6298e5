"""CompareView on a grid with repeats: a cell shows repeat 0, its tallies and its N outputs on demand; its
open button shows the N calls stacked in an accordion, one ResponseView each (a repeat that made no response: its values).

CompareView without repeats is tested in tests/unit/evaluation/test_scores.py; its layout in a real
JupyterLab in tests/browser/test_compare_view_browser.py.
"""

from __future__ import annotations

import re

import ipywidgets as widgets
import pandas as pd

import llamabook as lb
from llamabook.widgets import CompareView, ResponseView
from support.htmlcheck import active_parts, text

HOSTILE = "<img src=x onerror=alert(1)>"


def repeats_grid(client: lb.Client) -> pd.DataFrame:
    """Cork and Sligo, three repeats on the scripted engine; Cork's repeat 1 made no response (set by hand)
    and its repeat 2 says something hostile."""
    client.prompts.save("weather", "Weather in {{city}}?")
    rows = pd.DataFrame({"city": ["Cork", "Sligo"]})
    grid = client.grid("weather", rows, repeats=3, checks={"cork": lb.checks.contains("Cork")}, progress=False)
    cork = grid["row"] == 0
    grid.loc[cork & (grid["repeat"] == 1), ["output_text", "status", "error", "response_id"]] = [
        None, "failed", "the server went away", None,
    ]  # fmt: skip
    grid.loc[cork & (grid["repeat"] == 1), "check_cork"] = pd.NA
    grid.loc[cork & (grid["repeat"] == 2), "output_text"] = HOSTILE
    return grid


def test_a_cell_with_repeats_shows_its_tallies_and_opens_its_n_responses(quick_client: lb.Client) -> None:
    grid = repeats_grid(quick_client)
    view = CompareView(quick_client, grid)
    assert view.error.message == ""
    assert view.summary.value == "Comparison · 2 rows · 1 column: v1 test/scripted · 3 repeats"
    column = view.comparison.columns[0]
    cork = view.open_buttons[(0, column)]
    cell = next(box for box in view.table.children if isinstance(box, widgets.HBox) and cork in box.children)
    html = cell.children[0].value
    assert "<details" in html and "3 outputs</summary>" in html and "2/2 ✓ cork" in text(html)
    assert HOSTILE in text(html) and active_parts(html) == []
    assert cork.tooltip == "open its 3 responses"
    cork.click()
    assert view.error.message == "" and view.opened == (0, column)
    stacked = view.view
    assert isinstance(stacked, widgets.Accordion) and stacked in view.detail.children and stacked.selected_index == 0
    assert stacked.titles == ("repeat 0", "repeat 1 · failed", "repeat 2")
    first, failed, third = stacked.children
    assert isinstance(first, ResponseView) and isinstance(third, ResponseView)
    assert first.response.id == view.comparison.repeats(0, column)[0].response_id
    assert third.response.id == view.comparison.repeats(0, column)[2].response_id != first.response.id
    assert not isinstance(failed, ResponseView)
    assert "the server went away" in text(failed.value) and "made no response" in text(failed.value)


def test_without_repeats_open_still_shows_one_response(quick_client: lb.Client) -> None:
    quick_client.prompts.save("weather", "Weather in {{city}}?")
    grid = quick_client.grid("weather", [{"city": "Cork"}], progress=False)
    view = CompareView(quick_client, grid)
    view.show(0, 0)
    assert view.error.message == "" and isinstance(view.view, ResponseView)
    cells = [box.children[0].value for box in view.table.children if isinstance(box, widgets.HBox)]
    assert len(cells) == 1 and "echo:" in text(cells[0]) and "<details" not in cells[0]


def test_the_summary_under_the_table_is_made_by_the_comparisons_view(quick_client: lb.Client) -> None:
    """Each column's checks (rate [interval] n, ⚠ errors apart, the verdict against the first column) in one
    HTML widget under the table, each made by views.comparisons.compare_summary_html, as lb.compare's <tfoot>."""
    from llamabook.views.comparisons import VIEW_CELL_STYLE, compare_summary_html
    from support.hand_grid import grid as hand_grid

    lines = [{"row": row, "version": version, "output_text": f"v{version} {row}", "ok": version == 1 or row == 0}
             for version in (1, 2) for row in range(4)]  # fmt: skip
    grid = hand_grid(lines).drop(columns=["check_quality"])
    grid.loc[(grid["version"] == 2) & (grid["row"] == 3), ["check_ok", "check_ok_error"]] = [pd.NA, "<b>judge</b> down"]
    view = CompareView(quick_client, grid)
    assert view.error.message == ""
    assert list(view.children) == [view.summary, view.error, view.table, view.checks, view.detail]
    assert "llamabook-compare-footer" in view.checks._dom_classes and view.checks.layout.display is None
    html = view.checks.value
    starts = [m.start() for m in re.finditer('<div class="llamabook-compare-summary-column">', html)]
    shown = [text(html[start:end]) for start, end in zip(starts, [*starts[1:], len(html)])]
    assert shown == ["\xa0checks", "v1 mbaselineok 1.00 [0.51, 1.00] n=4", "v2 mok 0.33 [0.06, 0.79] n=3 ⚠1 no evidence"]
    for summary in view.comparison.summaries:  # the one view, no copy: the table's footer shows the same, unstyled
        assert compare_summary_html(summary, VIEW_CELL_STYLE) in html
        assert compare_summary_html(summary) in lb.compare(grid)._repr_html_()
    assert active_parts(html) == [] and "<b>" not in html


def test_a_grid_without_checks_has_no_summary(quick_client: lb.Client) -> None:
    quick_client.prompts.save("weather", "Weather in {{city}}?")
    grid = quick_client.grid("weather", [{"city": "Cork"}], progress=False)
    view = CompareView(quick_client, grid)
    assert view.comparison.summaries == ()
    assert view.checks.value == "" and view.checks.layout.display == "none"
    assert len(view.table.children) == 3 + 3  # the header (row, city, one column), then the row (number, city, call)
