"""A grid's frame, ``%llama prompts`` and ``%%llama --over --versions --check`` in a real JupyterLab at 1280×800.

A scripted engine answers (``tests/support/scripted_engine.py``: the answer echoes the system
message, so an answer has the template's line breaks and a row's hostile value). The test
measures in the DOM (the numbers are in the test's log in ``test-artifacts/browser/``):

- a grid's frame in a kernel that only imported llamabook (no ``%load_ext`` yet): each column's width (``output_text`` must be the
  widest; pandas' own table of the same frame, ``pd.DataFrame(grid)``, is measured next to it for
  the numbers before), the answer's lines (its line break a break, no literal ``\\n``), and that a
  hostile ``<img onerror>`` in the output stays text (no element, no script ran);
- ``%llama prompts``: each row's height against one line of its font (pandas' table of the same
  listing measured next to it), and no ``<NA>`` or ``[]``;
- ``%%llama --over df -p guide --versions 1,2 --check ok=has_city``: the grid of both versions with
  its ``check_ok`` column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ._requires import require_browser

require_browser()

from playwright.sync_api import Locator, Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

TESTS = Path(__file__).resolve().parents[1]
HOSTILE = '<img src=x onerror="window.__pwned=1">'
SETUP = f"""\
import sys, tempfile
sys.path.insert(0, {str(TESTS)!r})
import pandas as pd
import llamabook as lb, llamabook.magics
from support.scripted_engine import ScriptedEngine

client = lb.Client(tempfile.mkdtemp(), engine=ScriptedEngine())
llamabook.magics.set_client(client)
client.prompts.save("guide", "Tell me about {{{{city}}}}.\\nUse two lines.")
client.prompts.save("guide", "Describe {{{{city}}}}.\\nThen add one more line.")
client.prompts.save(None, "An unnamed prompt about {{{{topic}}}}, with a long template that goes on\\nover lines\\nand lines\\nand more.")
df = pd.DataFrame({{"city": ["Paris", "Dublin"], "note": [{HOSTILE!r}, "plain"]}})
has_city = lb.checks.contains("Dublin")
grid = client.grid("Line one on {{{{city}}}}.\\nLine two: {{{{note}}}}", df, progress=False)
len(grid)"""
CELLS = (
    SETUP,
    "grid",
    "pd.DataFrame(grid)  # pandas' own table: every column",
    "%load_ext llamabook\n%llama prompts",
    "client.prompts.list().to_pandas()  # pandas' own table of the same listing",
    "%%llama --over df -p guide --versions 1,2 --check ok=has_city -o compared\nBe brief.",
)

#: A one-line row of a table is at most this many times its font size high (its padding included).
MAX_ROW_FONTS = 2.6

# A table's columns (header text → width) and its body rows (height, font size, the text of each cell).
TABLE = """root => {
  const table = root.querySelector("table");
  const heads = [...table.querySelectorAll("thead th")];
  const columns = Object.fromEntries(heads.map(th => [th.dataset.column || th.textContent.trim(),
                                                      th.getBoundingClientRect().width]));
  const lines = cell => {
    const font = parseFloat(getComputedStyle(cell).fontSize);
    const range = document.createRange();
    range.selectNodeContents(cell);
    const tops = [];
    for (const rect of range.getClientRects()) {
      if (rect.height && !tops.some(top => Math.abs(top - rect.top) < font / 2)) tops.push(rect.top);
    }
    return tops.length;
  };
  const rows = [...table.querySelectorAll("tbody tr")].map(tr => ({
    height: tr.getBoundingClientRect().height,
    font: parseFloat(getComputedStyle(tr.querySelector("td") || tr).fontSize),
    lines: [...tr.querySelectorAll("td")].map(lines),
    texts: [...tr.querySelectorAll("td")].map(td => td.innerText),
  }));
  return {columns, rows, width: table.getBoundingClientRect().width, text: root.innerText,
          images: root.querySelectorAll("img").length};
}"""


def measured(where: Locator, record: Any, name: str) -> dict[str, Any]:
    numbers = where.evaluate(TABLE)
    record.lap(f"{name}: {json.dumps({k: v for k, v in numbers.items() if k != 'text'})}")
    return numbers


def test_frames_and_prompts_are_readable_and_the_magic_compares_versions(lab, lab_page: Page, record) -> None:
    page = lab_page
    page.set_viewport_size({"width": 1280, "height": 800})
    panel = lab.open_and_run_all(page, lab.write_notebook("frames-display.ipynb", *CELLS))
    cells = panel.locator(".jp-Cell")
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text("2")
    compared = cells.nth(5).locator(".llamabook-grid")
    expect(compared.locator("tbody tr")).to_have_count(4)
    record.lap("all cells ran")

    # 1. the grid's frame: output_text is the widest column, its line break a break, the hostile value text
    shown = measured(cells.nth(1).locator(".llamabook-grid"), record, "grid (llamabook)")
    pandas = measured(cells.nth(2).locator(".jp-RenderedHTMLCommon"), record, "grid (pandas, before)")
    record.lap(
        f"widths: output_text {shown['columns']['output_text']:.0f} px (pandas: {pandas['columns']['output_text']:.0f} px), "
        f"widest other {max(w for c, w in shown['columns'].items() if c != 'output_text'):.0f} px "
        f"(pandas prompt_id: {pandas['columns']['prompt_id']:.0f} px)"
    )
    assert "prompt_id" in pandas["columns"] and "prompt_id" not in shown["columns"]  # every column is one call away
    widest = max(shown["columns"], key=shown["columns"].get)
    assert widest == "output_text", f"the widest column is {widest}: {shown['columns']}"
    at = list(shown["columns"]).index("output_text")
    outputs = [row["texts"][at] for row in shown["rows"]]
    assert outputs[0].startswith("[system: Line one on Paris.\nLine two: "), outputs
    assert all(row["lines"][at] >= 2 for row in shown["rows"]), shown["rows"]  # the break is a line break
    assert "\\n" not in shown["text"]
    assert HOSTILE in outputs[0] and shown["images"] == 0
    assert page.evaluate("window.__pwned") is None

    # 2. %llama prompts: one line a row, no <NA> or []
    listing = measured(cells.nth(3).locator(".llamabook-prompt-list"), record, "%llama prompts")
    before = measured(cells.nth(4).locator(".jp-RenderedHTMLCommon"), record, "prompts (pandas, before)")
    record.lap(
        f"row heights: {[round(r['height']) for r in listing['rows']]} px "
        f"(pandas: {[round(r['height']) for r in before['rows']]} px)"
    )
    assert len(listing["rows"]) == 3  # guide, the unnamed one, the grid's template
    for row in listing["rows"]:
        assert max(row["lines"]) == 1 and row["height"] <= MAX_ROW_FONTS * row["font"], row
    assert "<NA>" not in listing["text"] and "[]" not in listing["text"]
    assert any(text.endswith("…") for row in listing["rows"] for text in row["texts"])

    # 3. the magic: versions 1 and 2 over df, with the check's column
    grid = measured(compared, record, "%%llama --over --versions --check")
    assert "check_ok" in grid["columns"] and "version" in grid["columns"]
    at = list(grid["columns"]).index("version")
    checks = list(grid["columns"]).index("check_ok")
    assert sorted(row["texts"][at] for row in grid["rows"]) == ["1", "1", "2", "2"]
    assert sorted(row["texts"][checks] for row in grid["rows"]) == ["✓", "✓", "✗", "✗"]
    assert page.evaluate("window.__pwned") is None
