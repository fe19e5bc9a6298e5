"""RunsTable in a real JupyterLab, on a grid with checks: what a newcomer met at 1280 and 1920 px.

The grid runs on the scripted engine (``tests/support/scripted_engine.py``, no model): 60 rows of a
short ``mood`` and a ``place``, every fourth answer long enough to be cut off at
``max_output_tokens`` (status "incomplete", marked "cut off"), three checks, one of which raises on
the "angry" rows. Nothing fails, so ``error`` and two checks' ``check_<name>_error`` are empty on
every line (hidden, as is the third's: its messages are its ⚠ marks' tooltips). The test measures in
the DOM (numbers in the test's log in ``test-artifacts/browser/``):

- each open button's width against its label's, and its text ("#0", not "#" in a 20-px button);
- that no word of a short value, a header or a badge breaks in the middle ("autu/mn", "angr/y"):
  each word's client rects on one line (a header wraps only after an underscore or before its arrow);
- each header: one button (its name and arrow, "mood ↕"), drawn as a header by the panels' stylesheet
  (no background, bold, left aligned, wrapping, never cut); its numbers without the stylesheet are logged;
- the columns shown (the empty ones and the check errors hidden, then shown on request), and the table
  inside the output area at 1280 px with the file browser open, then the opened ResponseView too;
- every status cell on one line ("incomplete cut off" wrapped as "incomplete cut / off");
- sorting by a click on a header, on its name (each line keeps its own cells, its open button opens
  that line), the filter box, and the note when "failed only" leaves nothing (and the opened line closed).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ._requires import require_browser

require_browser()

from playwright.sync_api import Locator, Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

TESTS = Path(__file__).resolve().parents[1]
ROWS = 60
MOODS = ["autumn", "angry", "calm", "eager", "gloomy", "happy"]
MODEL = "smollm2-360m-instruct"
SETUP = f"""\
import sys, tempfile
sys.path.insert(0, {str(TESTS)!r})
import pandas as pd
import llamabook as lb
from llamabook import checks
from llamabook.widgets import RunsTable
from support.scripted_engine import ScriptedEngine, echo

def answer(messages):
    text = echo(messages)
    return text + " and so on" * 20 if "(long)" in text else text

def picky(row, result):
    if row["mood"] == "angry":
        raise ValueError("an angry row: this check cannot judge it")
    return True

client = lb.Client(tempfile.mkdtemp(), engine=ScriptedEngine({MODEL!r}, answer=answer))
moods = {MOODS!r}
places = ["Ireland", "France", "Spain", "Italy", "Malta", "Greece", "Cyprus", "Norway", "Poland", "Latvia"]
rows = pd.DataFrame({{
    "mood": [moods[i % 6] for i in range({ROWS})],
    "place": [places[i // 6] for i in range({ROWS})],
    "size": ["long" if i % 4 == 1 else "short" for i in range({ROWS})],
}})
grid = client.grid(
    "Write a {{{{mood}}}} line about {{{{place}}}} ({{{{size}}}}).", rows, max_output_tokens=24, progress=False,
    checks={{"mentions_mood": checks.contains(checks.column("mood")), "short": checks.max_words(30), "picky": picky}},
)
(len(grid), int(grid["cut_off"].sum()), int(grid["check_picky_error"].notna().sum()))"""
TABLE = "table = RunsTable(grid, client)\ntable"
HEADERS = [
    "status", "mood", "place", "size", "check_mentions_mood", "check_short", "check_picky", "version", "model", "output_text", "tokens", "latency_s",
]  # fmt: skip

# Everything measured at once: the output area, the widget and its grid (widths, right edges), the
# headers, each open button (width, label width, text), every word of the short cells, headers and
# badges split across lines, each status cell's lines, the detail's box.
MEASURE = """root => {
  const area = root.closest(".jp-OutputArea-output");
  const grid = root.querySelector(".llamabook-runs-grid");
  const box = el => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right, width: r.width}; };
  const size = el => ({scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, ...box(el)});
  const lines = (node, start, end) => {
    const range = document.createRange();
    if (start === undefined) range.selectNodeContents(node); else { range.setStart(node, start); range.setEnd(node, end); }
    const tops = [];
    for (const rect of range.getClientRects()) {
      if (rect.width && rect.height && !tops.some(top => Math.abs(top - rect.top) < rect.height / 2)) tops.push(rect.top);
    }
    return tops.length;
  };
  // The lines a cell's text takes: the distinct tops of its text nodes' rects (not of its boxes).
  const textLines = el => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), tops = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.data.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const rect of range.getClientRects()) {
        if (rect.width && rect.height && !tops.some(top => Math.abs(top - rect.top) < rect.height / 2)) tops.push(rect.top);
      }
    }
    return tops.length;
  };
  const textWidth = el => { const range = document.createRange(); range.selectNodeContents(el);
                            return range.getBoundingClientRect().width; };
  // A word: a run without spaces, cut after a hyphen or an underscore (a line may break there).
  const broken = [];
  const short = ".llamabook-runs-header, .llamabook-run-status, .llamabook-run-own, .llamabook-run-model,"
              + " .llamabook-run-tokens, .llamabook-run-latency";
  for (const cell of grid.querySelectorAll(short)) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/[^\\s\\u200b_-]+[_-]?/g)) {
        if (match[0].length <= 16 && lines(node, match.index, match.index + match[0].length) > 1) {
          broken.push(match[0]);
        }
      }
    }
  }
  const detail = root.querySelector(".llamabook-run-detail");
  return {
    area: size(area), widget: size(root), grid: size(grid),
    headers: [...grid.querySelectorAll(".llamabook-runs-header")].map(h => h.textContent.replace(/[↕▲▼\\u200b]/g, "").trim()),
    heads: [...grid.querySelectorAll(".llamabook-runs-sort")].map(h => { const s = getComputedStyle(h); return {
      text: h.textContent.replace(/\\u200b/g, ""), tag: h.tagName, lines: textLines(h), width: box(h).width,
      height: h.getBoundingClientRect().height, cut: h.scrollWidth > h.clientWidth, background: s.backgroundColor,
      whiteSpace: s.whiteSpace, textAlign: s.textAlign, fontWeight: s.fontWeight}; }),
    buttons: [...grid.querySelectorAll(".llamabook-run-open")].map(b => ({
      text: b.innerText.trim(), width: box(b).width, label: textWidth(b), cut: b.scrollWidth > b.clientWidth})),
    broken,
    statuses: [...grid.querySelectorAll(".llamabook-run-status")].map(s => ({text: s.textContent.trim(), lines: textLines(s)})),
    detail: detail && detail.children.length ? {...size(detail),
      wide: [...detail.querySelectorAll("*")].filter(el => el.getBoundingClientRect().right > area.getBoundingClientRect().right + 1)
        .map(el => el.className.toString().slice(0, 60)).slice(0, 5)} : null,
  };
}"""
#: An open button may be this much wider than its label (its padding, 2 × 10 px at most, and a border).
BUTTON_SLACK_PX = 24


# The panels' stylesheets on the page on (true) or off (false): the numbers without them go to the log.
STYLESHEETS = """on => { for (const s of document.querySelectorAll(".llamabook-stylesheet style")) s.disabled = !on; }"""


def measured(table: Locator, record: Any, name: str) -> dict[str, Any]:
    numbers = table.evaluate(MEASURE)
    shown = {**numbers, "statuses": numbers["statuses"][:6], "buttons": numbers["buttons"][:4], "heads": numbers["heads"][:8]}
    record.lap(f"{name}: {json.dumps(shown)}")
    return numbers


def fits(numbers: dict[str, Any], name: str) -> None:
    """The widget and its grid inside the output area, nothing scrolling sideways."""
    area = numbers["area"]
    for part in ("area", "widget", "grid"):
        size = numbers[part]
        assert size["scrollWidth"] <= size["clientWidth"], f"{name}: the {part} overflows: {size}"
        assert size["right"] <= area["right"] + 1, f"{name}: the {part} ends at {size['right']:.0f} px, the area at {area['right']:.0f}"


def headers_drawn_as_headers(numbers: dict[str, Any], name: str) -> None:
    """Each header is one button, its name and arrow, not cut; the stylesheet makes it look like a header."""
    assert [head["text"].rsplit(" ", 1)[0] for head in numbers["heads"]] == HEADERS, numbers["heads"]
    for head in numbers["heads"]:
        assert head["tag"] == "BUTTON" and re.fullmatch(r"\S+ [↕▲▼]", head["text"]), f"{name}: {head}"
        assert not head["cut"] and head["whiteSpace"] == "normal", f"{name}: a header is cut: {head}"
        assert head["background"] == "rgba(0, 0, 0, 0)" and head["textAlign"] == "left", f"{name}: {head}"
        assert head["fontWeight"] == "600", f"{name}: {head}"


def buttons_whole(numbers: dict[str, Any], name: str) -> None:
    for button in numbers["buttons"]:
        assert re.fullmatch(r"#\d+", button["text"]) and not button["cut"], f"{name}: an open button reads {button}"
        assert button["label"] <= button["width"] <= button["label"] + BUTTON_SLACK_PX, f"{name}: {button}"


def open_file_browser(page: Page) -> None:
    browser = page.locator("#filebrowser")
    if not browser.is_visible():
        page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id='filebrowser']").click()
    expect(browser).to_be_visible()


def first_cells(table: Locator, kind: str, count: int) -> list[str]:
    return [text.strip() for text in table.locator(f".llamabook-run-{kind}").all_inner_texts()[:count]]


def test_runs_table_with_checks_at_1280_and_1920_px(lab, lab_page: Page, record) -> None:
    page = lab_page
    page.set_viewport_size({"width": 1280, "height": 800})
    panel = lab.open_and_run_all(page, lab.write_notebook("runs_table_checks.ipynb", SETUP, TABLE))
    open_file_browser(page)
    cells = panel.locator(".jp-Cell")
    expect(cells.nth(0).locator(".jp-OutputArea-output[data-mime-type='text/plain']")).to_have_text(f"({ROWS}, 15, 10)")
    table = cells.nth(1).locator(".llamabook-runs-table")
    expect(table.locator(".llamabook-run-open")).to_have_count(20)
    expect(table.locator(".llamabook-runs-summary")).to_have_text(
        f"{ROWS} lines · 45 completed · 15 incomplete · 15 cut off · 10 check errors"
    )

    # 1-5 at 1280 px with the file browser open
    numbers = measured(table, record, "RunsTable at 1280 px")
    assert numbers["headers"] == ["", *HEADERS], numbers["headers"]  # error and the check_*_error columns hidden
    buttons_whole(numbers, "1280 px")
    headers_drawn_as_headers(numbers, "1280 px")
    assert [head["text"] for head in numbers["heads"][:2]] == ["status ↕", "mood ↕"]
    assert numbers["buttons"][0]["text"] == "#0"
    assert numbers["broken"] == [], f"words broken in the middle: {numbers['broken']}"
    fits(numbers, "1280 px")
    assert [s["lines"] for s in numbers["statuses"]] == [1] * 20, numbers["statuses"]
    assert "cut off" in numbers["statuses"][1]["text"]  # line 1 is a long one

    # the opened line's ResponseView stays inside the output area
    table.locator(".llamabook-run-5").click()
    view = table.locator(".llamabook-run-detail .llamabook-response-view")
    expect(view.locator(".llamabook-response-output")).to_contain_text("Write a happy line about Ireland (long).")
    opened = measured(table, record, "RunsTable at 1280 px, #5 open")
    fits(opened, "1280 px, #5 open")
    detail = opened["detail"]
    assert detail["right"] <= opened["area"]["right"] + 1 and detail["scrollWidth"] <= detail["clientWidth"], detail
    assert detail["wide"] == [], f"parts of the opened response past the output area: {detail['wide']}"

    # sorting: by mood ascending, then descending; each line keeps its cells and its open button
    header = table.locator(".llamabook-runs-header", has_text=re.compile(r"^mood"))
    expect(header).to_have_text("mood ↕")
    expect(header).to_have_attribute("title", "sort by mood")
    box = header.bounding_box()
    assert box is not None
    header.click(position={"x": 3, "y": box["height"] / 2})  # on the name: the whole header is the control
    expect(header).to_have_text("mood ▲")
    expect(table.locator(".llamabook-run-open").first).to_have_text("#1")  # the first "angry" line
    assert first_cells(table, "own", 3) == ["angry", "Ireland", "long"]
    assert set(first_cells(table, "own", 60)[::6]) == {"angry"}  # 6 cells a line: the first 10 lines, all angry
    header.click()
    expect(header).to_have_text("mood ▼")
    expect(table.locator(".llamabook-run-open").first).to_have_text("#5")  # the first "happy" line
    assert first_cells(table, "own", 2) == ["happy", "Ireland"]
    first = table.locator(".llamabook-run-open").nth(1)
    label = first.inner_text().strip()
    first.click()
    expect(table.locator(".llamabook-run-detail")).to_contain_text(f"line {label}")
    expect(view.locator(".llamabook-response-output")).to_contain_text("Write a happy line about")
    sorted_numbers = measured(table, record, "sorted by mood, descending")
    fits(sorted_numbers, "sorted")
    buttons_whole(sorted_numbers, "sorted")
    headers_drawn_as_headers(sorted_numbers, "sorted")
    assert [head["text"] for head in sorted_numbers["heads"][:3]] == ["status ↕", "mood ▼", "place ↕"]
    assert sorted_numbers["broken"] == [], f"words broken in the middle, sorted: {sorted_numbers['broken']}"
    page.evaluate(STYLESHEETS, False)
    measured(table, record, "sorted, without the panels' stylesheet")
    page.evaluate(STYLESHEETS, True)

    # the filter box: any case, over the shown cells
    text = table.locator(".llamabook-runs-filter input")
    text.fill("AUTUMN")
    expect(table.locator(".llamabook-run-open")).to_have_count(10)
    assert set(first_cells(table, "own", 60)[::6]) == {"autumn"}
    expect(table.locator(".llamabook-run-detail .llamabook-response-view")).to_have_count(0)  # the happy line went
    text.fill("no such thing")
    expect(table.locator(".llamabook-runs-note")).to_have_text("no line matches 'no such thing'")
    expect(table.locator(".llamabook-run-open")).to_have_count(0)
    text.fill("")
    expect(table.locator(".llamabook-runs-note")).to_have_text("")

    # failed only, with nothing failed: a note, and the opened line closed
    table.locator(".llamabook-run-open").first.click()
    expect(view.locator(".llamabook-response-output")).to_be_visible()
    table.locator(".llamabook-failed-only input").check()
    expect(table.locator(".llamabook-runs-note")).to_have_text("no failed lines")
    expect(table.locator(".llamabook-run-open")).to_have_count(0)
    expect(table.locator(".llamabook-run-detail .llamabook-response-view")).to_have_count(0)
    table.locator(".llamabook-failed-only input").uncheck()
    expect(table.locator(".llamabook-run-open")).to_have_count(20)

    # the hidden columns (error and the three check_*_error), shown on request
    table.locator(".llamabook-all-columns input").check()
    expect(table.locator(".llamabook-runs-header")).to_have_count(1 + len(HEADERS) + 4)

    # 1920 px: the same measures
    table.locator(".llamabook-all-columns input").uncheck()
    expect(table.locator(".llamabook-runs-header")).to_have_count(1 + len(HEADERS))
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_function("el => el.getBoundingClientRect().width > 1300", arg=table.element_handle())
    wide = measured(table, record, "RunsTable at 1920 px")
    fits(wide, "1920 px")
    buttons_whole(wide, "1920 px")
    assert wide["broken"] == [], f"words broken in the middle at 1920 px: {wide['broken']}"
    headers_drawn_as_headers(wide, "1920 px")
    assert all(s["lines"] == 1 for s in wide["statuses"]), wide["statuses"]
