"""RunsTable and FilesPanel fit a 1280-px JupyterLab window with the file browser open.

A scripted engine answers at once (long sentences, one long unbroken word, some failed calls),
so the table has what makes it overflow without waiting for a model; the client, the grid run,
the store, the widgets and JupyterLab are the real ones. The test measures the widths and
heights (they are in the test's log in ``test-artifacts/browser/``), opens a row and checks its
response is on screen, and uploads the same PDF twice through the real FileUpload.
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

ROWS = 12
SETUP = f"""\
import tempfile
import pandas as pd
import llamabook as lb
from llamabook.engines.base import Generation
from llamabook.widgets import FilesPanel, RunsTable

WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 6
ANSWER = "Dublin is the capital of Ireland and sits on the River Liffey, by the Irish Sea. " * 5

class Scripted:
    name = "scripted"
    def models(self):
        return [lb.Model(id="scripted-model", owned_by="tests", engine="scripted", accepts=["text"])]
    def generate(self, model, messages, options):
        text = WORD if "Wordland" in str(messages) else ANSWER
        g = Generation(iter([text[:40], text[40:]]))
        g.input_tokens, g.output_tokens, g.finish_reason = 21, 96, "stop"
        return g

client = lb.Client(tempfile.mkdtemp(), engines=[Scripted()])
countries = ["Ireland", "Wordland", None, "France", "Spain", None, "Portugal", "Italy", "Greece", None, "Malta", "Cyprus"]
rows = pd.DataFrame({{"country": countries, "language": ["Irish and English"] * {ROWS}}})
grid = client.grid("What is the capital of {{{{country}}}}? Answer in {{{{language}}}}.", rows, progress=False)
grid["cut_off"] = grid["country"] == "France"  # what client.grid's cut_off column says of a cut-off answer
len(grid)"""
TABLE = f"RunsTable(grid, client, page_size={ROWS})"
FILES = """\
client.files.create(("quarterly-report-of-the-dublin-bicycle-company-2025.pdf", b"%PDF-1.4 report"))
FilesPanel(client)"""

# Widths of the output area, the widget and its grid, the grid's height, and every grid cell whose
# content is wider than the cell (cut off, or drawn over the next column).
MEASURE = """(root, gridSelector) => {
  const area = root.closest(".jp-OutputArea-output");
  const grid = root.querySelector(gridSelector);
  const size = el => ({scrollWidth: el.scrollWidth, clientWidth: el.clientWidth});
  const overflowing = [...grid.children]
    .filter(cell => cell.scrollWidth > cell.clientWidth + 1)
    .map(cell => `${cell.textContent.trim().slice(0, 40)} (${cell.scrollWidth} in ${cell.clientWidth})`);
  return {area: size(area), widget: size(root), grid: {...size(grid), height: Math.round(grid.getBoundingClientRect().height)},
          overflowing};
}"""
# The labels and rows (the toolbar) of a widget whose content is wider than their box: they are cut off.
CUT = """root => [...root.querySelectorAll(".widget-label, .widget-hbox")]
  .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
  .map(el => `${el.className.split(" ").filter(c => c.startsWith("llamabook") || c.startsWith("widget-")).join(".")}:`
             + ` "${el.textContent.trim().slice(0, 60)}" (${el.scrollWidth} in ${el.clientWidth})`)"""


def open_file_browser(page: Page) -> None:
    """Make sure the left sidebar shows the file browser (a fresh Lab opens it; a saved layout may not)."""
    browser = page.locator("#filebrowser")
    if not browser.is_visible():
        page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id='filebrowser']").click()
    expect(browser).to_be_visible()


def measure(widget: Locator, grid: str, record: Any, name: str) -> dict[str, Any]:
    numbers = widget.evaluate(MEASURE, grid)
    record.lap(f"{name}: {json.dumps(numbers)}")
    return numbers


def assert_fits(numbers: dict[str, Any], name: str) -> None:
    for part in ("area", "widget", "grid"):
        size = numbers[part]
        assert size["scrollWidth"] <= size["clientWidth"], f"{name}: the {part} overflows: {numbers}"
    assert numbers["overflowing"] == [], f"{name}: cells wider than their column: {numbers['overflowing']}"


def test_runs_table_and_files_panel_fit_1280px_with_the_file_browser_open(
    lab, lab_page: Page, record, data: Path
) -> None:
    page = lab_page
    assert page.viewport_size == {"width": 1280, "height": 1000}
    panel = lab.open_and_run_all(page, lab.write_notebook("panel_layout.ipynb", SETUP, TABLE, FILES))
    open_file_browser(page)
    cells = panel.locator(".jp-Cell")
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text(str(ROWS))
    table = cells.nth(1).locator(".llamabook-runs-table")
    files = cells.nth(2).locator(".llamabook-files-panel")
    expect(table.locator(".llamabook-run-open")).to_have_count(ROWS)
    expect(files.locator(".llamabook-file")).to_have_count(1)
    record.lap(f"panels rendered; file browser {page.locator('#filebrowser').bounding_box()['width']:.0f} px wide")

    # a, e. measured first (both panels, for the log), then checked: nothing wider than its box
    runs = measure(table, ".llamabook-runs-grid", record, "RunsTable")
    listing = measure(files, ".llamabook-files-list", record, "FilesPanel")
    cut = {"RunsTable": table.evaluate(CUT), "FilesPanel": files.evaluate(CUT)}
    record.lap(f"cut off: {json.dumps(cut)}")
    assert_fits(runs, "RunsTable")
    assert_fits(listing, "FilesPanel")
    assert cut == {"RunsTable": [], "FilesPanel": []}, f"toolbar or status cut off: {cut}"
    status = files.locator(".llamabook-status")
    expect(status).to_have_text("1 file")

    # b. compact lines; the full text on hover; d. the cut-off mark
    assert runs["grid"]["height"] <= 60 * (ROWS + 1), f"{ROWS} lines take {runs['grid']['height']} px"
    word = table.locator(".llamabook-run-output").nth(1).locator("span[title]")  # Wordland: one unbroken word
    expect(word).to_have_attribute("title", re.compile(r"^(Pneumonoultramicroscopicsilicovolcanoconiosis){6}$"))
    expect(table.locator(".llamabook-run-status").nth(3)).to_contain_text("cut off")  # France
    expect(table.locator(".llamabook-run-status").nth(0)).not_to_contain_text("cut off")

    # c. the opened response is on screen, right under the line that was clicked
    button = table.locator(".llamabook-run-3")
    button.click()
    view = table.locator(".llamabook-run-detail .llamabook-response-view")
    expect(view.locator(".widget-html.llamabook-response-header")).to_be_in_viewport()
    expect(view.locator(".llamabook-response-output")).to_contain_text("Dublin is the capital")
    line, shown = button.bounding_box(), view.bounding_box()
    gap = shown["y"] - (line["y"] + line["height"])
    record.lap(f"opened #3 (y={line['y']:.0f} px): its ResponseView at y={shown['y']:.0f} px, {gap:.0f} px under it")
    assert 0 <= gap <= 60, f"the response is {gap:.0f} px from its line"
    grid = table.locator(".llamabook-runs-grid").bounding_box()
    assert shown["width"] >= 0.9 * grid["width"], f"the response is {shown['width']:.0f} px wide in {grid['width']:.0f}"
    assert shown["height"] <= 600, f"the response is {shown['height']:.0f} px high"
    assert_fits(measure(table, ".llamabook-runs-grid", record, "RunsTable, #3 open"), "RunsTable, #3 open")

    # g. the same PDF twice: one row, and the status says which file it already is
    for expected in ("uploaded invoice.pdf", re.compile(r"^already uploaded as invoice\.pdf \(file-\w+\)$")):
        with page.expect_file_chooser() as chooser:
            files.locator(".llamabook-files-upload").click()
        chooser.value.set_files(data / "invoice.pdf")
        expect(status).to_have_text(expected)
        expect(files.locator(".llamabook-file")).to_have_count(2)
    status_box = status.bounding_box()
    record.lap(f"status {status.inner_text()!r}: {status_box['width']:.0f} px wide at x={status_box['x']:.0f}")
    assert files.evaluate(CUT) == [], "FilesPanel status cut off"
    assert_fits(measure(files, ".llamabook-files-list", record, "FilesPanel, 2 files"), "FilesPanel, 2 files")

    # f. a deleted file is named by its filename
    delete = files.locator(".llamabook-file-delete").first  # newest first: invoice.pdf
    delete.click()
    expect(delete).to_have_text("Confirm")
    delete.click()
    expect(status).to_have_text("deleted invoice.pdf")
    expect(files.locator(".llamabook-file")).to_have_count(1)
