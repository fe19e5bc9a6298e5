"""CompareView in a real JupyterLab is as compact as ``lb.compare()``'s HTML of the same grid.

The grid runs on the scripted engine (``tests/support/scripted_engine.py``: short one-line answers,
no model), with two checks, so every cell is an answer line and a check line in both views. The
test measures, in the DOM (the numbers are in the test's log in ``test-artifacts/browser/``):

- the line pitch of an answer and the height each input row takes, CompareView's against the
  ``<table>`` that ``lb.compare(grid)`` shows in the cell above it (an ipywidgets HTML widget gives
  every line a control's height, 28 px, and the open button took a line of its own);
- each **open** button's width against its label's (it was a full-width bar);
- at 1920 px (and 1280 px), each column against its longest value: the row's own columns shared the
  spare width with the answers, leaving wide gaps between short values;

that a grid of long answers still fits the notebook (its answers wrap, their columns share the width),
and that an open button still shows the cell's response under the table. A grid with repeats
(``repeats=3``): each cell stays three lines (repeat 0's answer, the check tallies, a closed
``<details>``, about 55 px a row in both views), its ``<details>`` opens the three outputs in place,
and its open button stacks the three responses.
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
SETUP = f"""\
import sys, tempfile
sys.path.insert(0, {str(TESTS)!r})
import pandas as pd
import llamabook as lb
from llamabook import checks
from llamabook.widgets import CompareView
from support.scripted_engine import ScriptedEngine

client = lb.Client(tempfile.mkdtemp(), engine=ScriptedEngine())
client.prompts.save("tutor", "Capital of {{{{country}}}}?")
client.prompts.save("tutor", "A line on {{{{country}}}}.")
rows = pd.DataFrame({{"country": ["Ireland", "France", "Italy", "Japan"], "capital": ["Dublin", "Paris", "Rome", "Tokyo"]}})
grid = client.grid(
    "tutor", rows, versions=[1, 2], progress=False,
    checks={{"names_capital": checks.contains(checks.column("capital"), ignore_case=True), "short": checks.max_words(15)}},
)
long_client = lb.Client(tempfile.mkdtemp(), engine=ScriptedEngine(answer=lambda messages: "a long answer that wraps " * 40))
for template in ("Capital of {{{{country}}}}?", "A line on {{{{country}}}}."):
    long_client.prompts.save("tutor", template)
long_grid = long_client.grid("tutor", rows, versions=[1, 2], progress=False)
len(grid)"""
ROWS = 4
OWN = ["country", "capital"]

#: A line's height over the table's: what "close" means for the line pitch and for a row's height.
MAX_RATIO = 1.25
MIN_RATIO = 0.8
#: An open button may be this much wider than its label (its padding, 2 × 10 px at most, and a border).
BUTTON_SLACK_PX = 24
#: A column may be this much wider than its longest value (the cell's margins, 2 × 2 px, and rounding).
SLACK_PX = 16

# The table lb.compare() shows: each body row's height, and the line pitch of each answer (its
# block's height over its lines, the lines found from the client rects of its text).
TABLE = (
    "root => {"
    + PITCH
    + """
  const rows = [...root.querySelectorAll("tbody tr")];
  return {rows: rows.map(tr => tr.getBoundingClientRect().height),
          answers: [...root.querySelectorAll(".llamabook-compare-output")].map(pitch)};
}"""
)
# CompareView: its grid's tracks (a grid container's computed template is its used track sizes in
# px), the row gap, the answers' line pitch, each open button's width and its label's, and how much
# of each column its widest cell uses (header included; a call's cell: its text and open button).
VIEW = (
    "root => {"
    + PITCH
    + """
  const grid = root.querySelector(".llamabook-compare-grid");
  const style = getComputedStyle(grid);
  const px = value => value.split(" ").map(parseFloat);
  const columns = px(style.gridTemplateColumns), rows = px(style.gridTemplateRows);
  // The boxes of an element's text (not of the blocks around it, which span their whole cell).
  const textRects = el => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), rects = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      rects.push(...[...range.getClientRects()].filter(rect => rect.width));
    }
    return rects;
  };
  const textWidth = el => {
    const rects = textRects(el);
    return Math.max(...rects.map(r => r.right)) - Math.min(...rects.map(r => r.left));
  };
  // How much of its column a cell uses: from its left edge to the end of its text or of its open button.
  const used = cell => {
    const left = cell.getBoundingClientRect().left;
    const button = cell.querySelector(".llamabook-compare-open");
    return Math.max(...textRects(cell).map(r => r.right), button ? button.getBoundingClientRect().right : 0) - left;
  };
  const widest = columns.map((_, column) => Math.max(...[...grid.children]
    .filter((_, index) => index % columns.length === column).map(used)));
  const buttons = [...root.querySelectorAll(".llamabook-compare-open")].map(button => ({
    width: button.getBoundingClientRect().width, label: textWidth(button)}));
  return {columns, rows, rowGap: parseFloat(style.rowGap) || 0, widest, buttons,
          answers: [...grid.querySelectorAll(".llamabook-compare-output")].map(pitch),
          width: grid.getBoundingClientRect().width};
}"""
)

# The summary under the table (lb.compare's <tfoot>, CompareView's HTML widget under its grid): whether it
# is visible, its height, each check line's pitch, its text.
FOOTER = (
    "root => {"
    + PITCH
    + """
  const foot = root.querySelector("tfoot, .llamabook-compare-footer");
  return {visible: foot.checkVisibility(), height: foot.getBoundingClientRect().height, text: foot.innerText,
          checks: [...foot.querySelectorAll(".llamabook-compare-check-summary")].map(pitch)};
}"""
)

# A CompareView's output area and grid (scroll width, client width), and its call columns' widths.
FITS = """root => {
  const area = root.closest(".jp-OutputArea-output"), grid = root.querySelector(".llamabook-compare-grid");
  const columns = getComputedStyle(grid).gridTemplateColumns.split(" ").map(parseFloat);
  return {area: [area.scrollWidth, area.clientWidth], grid: [grid.scrollWidth, grid.clientWidth],
          calls: columns.slice(-2)};
}"""


def measured(where: Locator, script: str, record: Any, name: str) -> dict[str, Any]:
    numbers = where.evaluate(script)
    record.lap(f"{name}: {json.dumps(numbers)}")
    return numbers


def too_wide(view: dict[str, Any]) -> list[str]:
    """The columns wider than their widest cell's content (header included), with their numbers."""
    names = ["row", *OWN, "v1", "v2"]
    return [
        f"{name}: {view['columns'][i]:.0f} px for a longest value of {view['widest'][i]:.0f} px"
        for i, name in enumerate(names)
        if view["columns"][i] > view["widest"][i] + SLACK_PX
    ]


def test_compare_view_is_as_compact_as_the_comparison_table(lab, lab_page: Page, record) -> None:
    page = lab_page
    name = lab.write_notebook(
        "compare-view-layout.ipynb", SETUP, "lb.compare(grid)", "CompareView(client, grid)",
        "CompareView(long_client, long_grid)",
    )
    panel = lab.open_and_run_all(page, name)
    cells = panel.locator(".jp-Cell")
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text(str(ROWS * 2))
    table = cells.nth(1).locator(".llamabook-comparison")
    view = cells.nth(2).locator(".llamabook-compare-view")
    expect(table.locator("tbody tr")).to_have_count(ROWS)
    expect(view.locator(".llamabook-compare-open")).to_have_count(ROWS * 2)
    expect(view.locator(".llamabook-compare-output").first).to_contain_text("[system: Capital of Ireland?] echo:")

    # 1. Line pitch and row height, against the table (both at 1280 px; every answer is one line).
    html = measured(table, TABLE, record, "lb.compare() table")
    shown = measured(view, VIEW, record, "CompareView at 1280 px")
    assert len(html["answers"]) == len(shown["answers"]) == ROWS * 2
    assert all(a["lines"] == 1 for a in html["answers"] + shown["answers"]), "an answer wrapped: not comparable"
    table_pitch = max(a["pitch"] for a in html["answers"])
    view_pitch = max(a["pitch"] for a in shown["answers"])
    record.lap(f"answer line pitch: CompareView {view_pitch:.1f} px, table {table_pitch:.1f} px")
    assert MIN_RATIO <= view_pitch / table_pitch <= MAX_RATIO, (
        f"CompareView's answer lines are {view_pitch:.1f} px apart, the table's {table_pitch:.1f} px"
    )
    assert len(shown["rows"]) == ROWS + 1  # the header and the rows
    pairs = [(track + shown["rowGap"], tr) for track, tr in zip(shown["rows"][1:], html["rows"])]
    record.lap("row heights, CompareView (track + gap) vs table: " + ", ".join(f"{v:.1f}/{t:.1f}" for v, t in pairs))
    for index, (height, expected) in enumerate(pairs):
        assert MIN_RATIO <= height / expected <= MAX_RATIO, (
            f"row {index} takes {height:.1f} px in CompareView, {expected:.1f} px in the table: {shown['rows']}"
        )

    # 2. Each open button is sized to its label, not a bar across its cell.
    for button in shown["buttons"]:
        assert 0 < button["label"] and button["width"] <= button["label"] + BUTTON_SLACK_PX, (
            f"an open button is {button['width']:.0f} px wide for a {button['label']:.0f} px label"
        )

    # Long answers wrap: the columns share the notebook's width, nothing is wider than the output area.
    long = cells.nth(3).locator(".llamabook-compare-view")
    expect(long.locator(".llamabook-compare-open")).to_have_count(ROWS * 2)
    sizes = long.evaluate(FITS)
    record.lap(f"CompareView of long answers at 1280 px: {json.dumps(sizes)}")
    assert sizes["area"][0] <= sizes["area"][1] and sizes["grid"][0] <= sizes["grid"][1], f"wider than its area: {sizes}"
    assert min(sizes["calls"]) >= 0.3 * sizes["grid"][1], f"a long answer's column is squeezed: {sizes}"

    # 3. At 1920 px the row's own columns stay the width of their values.
    page.set_viewport_size({"width": 1920, "height": 1080})
    grid = view.locator(".llamabook-compare-grid")
    page.wait_for_function("el => el.getBoundingClientRect().width > 1400", arg=grid.element_handle())
    wide = measured(view, VIEW, record, "CompareView at 1920 px")
    assert too_wide(wide) == [], f"columns wider than their values at 1920 px: {too_wide(wide)}"
    assert too_wide(shown) == [], f"columns wider than their values at 1280 px: {too_wide(shown)}"
    assert all(b["width"] <= b["label"] + BUTTON_SLACK_PX for b in wide["buttons"]), wide["buttons"]

    # The checks summed up under the table, in both views: visible, one line per check (two checks per column),
    # a column's lines at most its label, its note and its checks (+ padding).
    for where, label, lines in ((table, "the table", 3), (view, "CompareView", 4)):
        numbers = measured(where, FOOTER, record, f"summary under {label} at 1920 px")
        assert numbers["visible"] and "baseline" in numbers["text"] and "no evidence" in numbers["text"], numbers
        assert len(numbers["checks"]) == 2 * 2 and all(c["lines"] == 1 for c in numbers["checks"]), numbers
        pitch = max(c["pitch"] for c in numbers["checks"])
        assert 0 < numbers["height"] <= lines * pitch + 16, f"the summary is {numbers['height']:.0f} px at a {pitch:.1f} px pitch"

    # 4. Still a CompareView: an open button shows that cell's response under the table.
    view.locator(".llamabook-compare-open").nth(3).click()  # row 1 (France), v2
    opened = view.locator(".llamabook-compare-detail .llamabook-response-view")
    expect(opened.locator(".llamabook-response-output")).to_contain_text("[system: A line on France.] echo:")
    expect(view.locator(".llamabook-compare-detail")).to_contain_text("row 1 · v2")


# A grid with repeats: each cell is repeat 0's answer, a line of check tallies and a closed <details>
# ("3 outputs"). The visible blocks' line pitch, each row's height, and how many repeats are shown.
REPEATS = (
    "root => {"
    + PITCH
    + """
  // checkVisibility: a closed <details> keeps boxes for its content (content-visibility: hidden in Chromium).
  const visible = el => el.checkVisibility();
  const grid = root.querySelector(".llamabook-compare-grid");
  const rows = grid ? getComputedStyle(grid).gridTemplateRows.split(" ").map(parseFloat).slice(1)
                    : [...root.querySelectorAll("tbody tr")].map(tr => tr.getBoundingClientRect().height);
  const shown = selector => [...root.querySelectorAll(selector)].filter(visible);
  return {rows, rowGap: grid ? parseFloat(getComputedStyle(grid).rowGap) || 0 : 0,
          answers: shown(".llamabook-compare-cell > .llamabook-compare-output, .llamabook-compare-text > .llamabook-compare-output").map(pitch),
          tallies: shown(".llamabook-tallies").map(pitch), summaries: shown(".llamabook-repeats > summary").map(pitch),
          repeats: shown(".llamabook-repeat").length};
}"""
)
REPEATS_SETUP = SETUP + """
rgrid = client.grid(
    "tutor", rows.head(2), repeats=3, progress=False,
    checks={"names_capital": checks.contains(checks.column("capital"), ignore_case=True)},
)
len(rgrid)"""


def test_a_cell_with_repeats_stays_compact_and_opens_its_outputs(lab, lab_page: Page, record) -> None:
    page = lab_page
    name = lab.write_notebook("compare-view-repeats.ipynb", REPEATS_SETUP, "lb.compare(rgrid)", "CompareView(client, rgrid)")
    panel = lab.open_and_run_all(page, name)
    cells = panel.locator(".jp-Cell")
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text("6")
    table = cells.nth(1).locator(".llamabook-comparison")
    view = cells.nth(2).locator(".llamabook-compare-view")
    expect(view.locator(".llamabook-compare-open")).to_have_count(2)
    expect(view.locator(".llamabook-tallies").first).to_contain_text("0/3 ✓ names_capital")  # the echo never names the capital

    # Closed: one answer line, one tally line and the "3 outputs" summary per cell, in both views.
    html = measured(table, REPEATS, record, "lb.compare() of repeats")
    shown = measured(view, REPEATS, record, "CompareView of repeats")
    for numbers in (html, shown):
        assert numbers["repeats"] == 0, f"a closed <details> shows its repeats: {numbers}"
        assert [len(numbers[k]) for k in ("answers", "tallies", "summaries")] == [2, 2, 2], numbers
        assert all(block["lines"] == 1 for block in numbers["answers"] + numbers["tallies"] + numbers["summaries"])
    view_pitch = max(a["pitch"] for a in shown["answers"])
    table_pitch = max(a["pitch"] for a in html["answers"])
    assert MIN_RATIO <= view_pitch / table_pitch <= MAX_RATIO, f"line pitch {view_pitch:.1f} vs {table_pitch:.1f} px"
    heights = [track + shown["rowGap"] for track in shown["rows"]]
    record.lap(f"repeat rows, CompareView vs table: {heights} / {html['rows']}; pitch {view_pitch:.1f} px")
    for height, expected in zip(heights, html["rows"]):
        assert MIN_RATIO <= height / expected <= MAX_RATIO, f"a row of repeats is {height:.1f} px, {expected:.1f} in the table"
        assert height <= 4 * view_pitch, f"a row of three lines takes {height:.1f} px at a {view_pitch:.1f} px pitch"

    # The summary opens the three outputs in place; the open button stacks the three responses.
    view.locator(".llamabook-repeats > summary").first.click()
    expect(view.locator(".llamabook-repeat").first).to_be_visible()
    opened = measured(view, REPEATS, record, "CompareView, first <details> open")
    assert opened["repeats"] == 3 and opened["rows"][0] > shown["rows"][0], opened
    view.locator(".llamabook-compare-open").first.click()
    stacked = view.locator(".llamabook-compare-detail .llamabook-compare-repeats")
    expect(stacked.locator(".jupyter-widget-Collapse-header")).to_have_text(["repeat 0", "repeat 1", "repeat 2"])
    expect(stacked.locator(".llamabook-response-view")).to_have_count(3)
    first = stacked.locator(".llamabook-response-output").first
    expect(first).to_be_visible()  # repeat 0 open, the others closed
    expect(first).to_contain_text("[system: A line on Ireland.] echo:")  # the latest version, 2
    expect(stacked.locator(".llamabook-response-output").nth(1)).to_be_hidden()
