"""BehaviourView in a real JupyterLab: as compact as ``lb.behaviour_diff()``'s HTML, inert, and it opens both responses.

The grids run on the scripted engine (``tests/support/scripted_engine.py``: one-line answers that echo
the prompt, no model), so the text does not depend on the CPU. Version 2's prompt names the capital,
so its check passes where version 1's failed: every line has a word diff, a flip and deltas. The test
measures, in the DOM (the numbers are in the test's log in ``test-artifacts/browser/``):

- the line pitch of each word diff and the height each pair takes, BehaviourView's against the
  ``<table>`` that ``lb.behaviour_diff(…)`` shows in the cell above it (an ipywidgets HTML widget
  gives every line a control's height, 28 px);
- each **open** button's width against its label's;

that hostile text (``<img onerror>``, ``<style>``) in the answers and the row's own columns shows as
text in both views and creates no element, and that an open button shows both responses side by side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ._measure import PITCH
from ._requires import require_browser

require_browser()

from playwright.sync_api import Locator, Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

TESTS = Path(__file__).resolve().parents[1]
IMG = '<img src=x onerror="window.__pwned=2">'
STYLE = "<style>body{display:none}</style>"
SETUP = f"""\
import sys, tempfile
sys.path.insert(0, {str(TESTS)!r})
import pandas as pd
import llamabook as lb
from llamabook import checks
from llamabook.widgets import BehaviourView
from support.scripted_engine import ScriptedEngine

def grid_of(rows):
    client = lb.Client(tempfile.mkdtemp(), engine=ScriptedEngine())
    client.prompts.save("tutor", "Capital of {{{{country}}}}?")
    client.prompts.save("tutor", "Capital of {{{{country}}}}, {{{{capital}}}}?")
    grid = client.grid("tutor", pd.DataFrame(rows), versions=[1, 2], progress=False,
                       checks={{"names_capital": checks.contains(checks.column("capital"))}})
    return client, grid

client, grid = grid_of({{"country": ["Ireland", "France", "Italy", "Japan"], "capital": ["Dublin", "Paris", "Rome", "Tokyo"]}})
diff = lb.behaviour_diff(grid, baseline=1, candidate=2)
hostile_client, hostile_grid = grid_of({{"country": [{IMG!r}], "capital": [{STYLE!r}]}})
hostile = lb.behaviour_diff(hostile_grid, baseline=1, candidate=2)
len(diff.pairs), len(hostile.pairs)"""
ROWS = 4

#: A line's height over the table's: what "close" means for the line pitch and for a pair's height.
MAX_RATIO = 1.25
MIN_RATIO = 0.8
#: An open button may be this much wider than its label (its padding and a border).
BUTTON_SLACK_PX = 24

# The table lb.behaviour_diff() shows: each body row's height and the line pitch of each word diff.
TABLE = (
    "root => {"
    + PITCH
    + """
  return {rows: [...root.querySelectorAll("tbody tr")].map(tr => tr.getBoundingClientRect().height),
          texts: [...root.querySelectorAll(".llamabook-behaviour-text")].map(pitch)};
}"""
)
# BehaviourView: its grid's row tracks (used sizes in px), the row gap, the word diffs' line pitch,
# and each open button's width against its label's.
VIEW = (
    "root => {"
    + PITCH
    + """
  const grid = root.querySelector(".llamabook-behaviour-grid");
  const style = getComputedStyle(grid);
  const label = button => {
    const range = document.createRange();
    range.selectNodeContents(button);
    const rects = [...range.getClientRects()].filter(r => r.width);
    return Math.max(...rects.map(r => r.right)) - Math.min(...rects.map(r => r.left));
  };
  return {rows: style.gridTemplateRows.split(" ").map(parseFloat), rowGap: parseFloat(style.rowGap) || 0,
          texts: [...grid.querySelectorAll(".llamabook-behaviour-text")].map(pitch),
          buttons: [...root.querySelectorAll(".llamabook-behaviour-open")].map(b => ({
            width: b.getBoundingClientRect().width, label: label(b)}))};
}"""
)
# What hostile text could have made: elements of the tags it names, event handlers, script.
CREATED = """root => ({img: root.querySelectorAll("img").length, style: root.querySelectorAll("style").length,
  script: root.querySelectorAll("script").length,
  handlers: [...root.querySelectorAll("*")].filter(el => [...el.attributes].some(a => a.name.startsWith("on"))).length,
  pwned: window.__pwned === undefined ? null : window.__pwned})"""


def measured(where: Locator, script: str, record: Any, name: str) -> dict[str, Any]:
    numbers = where.evaluate(script)
    record.lap(f"{name}: {json.dumps(numbers)}")
    return numbers


def test_behaviour_view_is_compact_inert_and_opens_both_responses(lab, lab_page: Page, record) -> None:
    page = lab_page
    name = lab.write_notebook(
        "behaviour-view.ipynb", SETUP, "diff", "BehaviourView(diff, client=client)", "hostile",
        "BehaviourView(hostile, client=hostile_client)",
    )
    panel = lab.open_and_run_all(page, name)
    cells = panel.locator(".jp-Cell")
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text(f"({ROWS}, 1)")
    table = cells.nth(1).locator(".llamabook-behaviour-diff")
    view = cells.nth(2).locator(".llamabook-behaviour-view")
    expect(table.locator("tbody tr")).to_have_count(ROWS)
    expect(view.locator(".llamabook-behaviour-open")).to_have_count(ROWS)
    expect(view.locator(".llamabook-behaviour-text ins").first).to_contain_text(", ")

    # 1. Line pitch and pair height, against the table.
    html = measured(table, TABLE, record, "lb.behaviour_diff() table")
    shown = measured(view, VIEW, record, "BehaviourView at 1280 px")
    assert len(html["texts"]) == len(shown["texts"]) == ROWS
    assert all(t["lines"] == 1 for t in html["texts"] + shown["texts"]), "a word diff wrapped: not comparable"
    table_pitch = max(t["pitch"] for t in html["texts"])
    view_pitch = max(t["pitch"] for t in shown["texts"])
    record.lap(f"word diff line pitch: BehaviourView {view_pitch:.1f} px, table {table_pitch:.1f} px")
    assert MIN_RATIO <= view_pitch / table_pitch <= MAX_RATIO, (view_pitch, table_pitch)
    assert len(shown["rows"]) == ROWS + 1  # the header and the pairs
    pairs = [(track + shown["rowGap"], tr) for track, tr in zip(shown["rows"][1:], html["rows"])]
    record.lap("pair heights, BehaviourView (track + gap) vs table: " + ", ".join(f"{v:.1f}/{t:.1f}" for v, t in pairs))
    for index, (height, expected) in enumerate(pairs):
        assert MIN_RATIO <= height / expected <= MAX_RATIO, f"pair {index}: {height:.1f} px vs {expected:.1f} px"
    for button in shown["buttons"]:
        assert 0 < button["label"] and button["width"] <= button["label"] + BUTTON_SLACK_PX, button

    # 2. Hostile text is text in both views: shown, and no element made from it.
    for index, what in ((3, "the hostile diff's table"), (4, "the hostile BehaviourView")):
        output = cells.nth(index).locator(".jp-OutputArea-output").first
        expect(output.locator(".llamabook-behaviour-text")).to_contain_text(IMG)
        expect(output).to_contain_text(STYLE)
        created = measured(output, CREATED, record, what)
        assert created == {"img": 0, "style": 0, "script": 0, "handlers": 0, "pwned": None}, (what, created)

    # 3. An open button shows both responses side by side.
    view.locator(".llamabook-behaviour-open").nth(1).click()
    detail = view.locator(".llamabook-behaviour-detail")
    baseline = detail.locator(".llamabook-behaviour-baseline .llamabook-response-view")
    candidate = detail.locator(".llamabook-behaviour-candidate .llamabook-response-view")
    expect(baseline.locator(".llamabook-response-output")).to_contain_text("[system: Capital of")
    expect(candidate.locator(".llamabook-response-output")).to_contain_text("?] echo:")
    boxes = [baseline.bounding_box(), candidate.bounding_box()]
    record.lap(f"opened responses: {json.dumps(boxes)}")
    assert boxes[0] and boxes[1] and boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] + 1, "not side by side"
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 2, "the two responses do not start on the same line"
