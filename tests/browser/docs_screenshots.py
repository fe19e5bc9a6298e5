"""The screenshots in ``docs/img/``, taken in the browser tests' JupyterLab and Chromium.

Not part of the test run (the file name does not match ``test_*.py``): ``make screenshots`` runs
it explicitly. Each shot is of one panel, at the tests' 1280-px viewport, on the real model.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ._requires import require_browser

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.model]

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"

PANELS = """\
import llamabook as lb, pandas as pd
from llamabook.widgets import PromptEditor, RunsTable

client = lb.Client()
invoice = client.files.create("{invoice}")
editor = PromptEditor(client, input="Who is billed, and for what?", max_output_tokens=48)
editor.template.value = "You are an accounts clerk. Answer about the invoice {{{{invoice}}}} in one sentence."
editor.fields["invoice"].kind.value = "file"
editor.fields["invoice"].file.value = invoice.id
editor.run()
editor.wait(300)
editor"""

GRID = """\
rows = pd.DataFrame({"country": ["Ireland", "France", "Peru", None]})
grid = client.grid("Name the capital of {{country}} in a few words.", rows, input="Which city?", max_output_tokens=16, progress=False)
RunsTable(grid, client)"""


def test_docs_screenshots(lab, lab_page: Page, data) -> None:
    page = lab_page
    name = lab.write_notebook("docs-shots.ipynb", PANELS.format(invoice=data / "invoice.pdf"), GRID)
    panel = lab.open_and_run_all(page, name)
    editor = panel.locator(".llamabook-prompt-editor")
    expect(editor.locator(".llamabook-status")).to_have_text(re.compile(r"^(completed|incomplete: .+)$"), timeout=300_000)
    table = panel.locator(".llamabook-runs-table")
    expect(table).to_be_visible(timeout=300_000)
    IMG.mkdir(parents=True, exist_ok=True)
    editor.screenshot(path=str(IMG / "prompt-editor.png"))
    table.locator("button", has_text="#0").first.click()
    expect(table.locator(".llamabook-response-view")).to_be_visible()
    table.screenshot(path=str(IMG / "runs-table.png"))
    for shot in ("prompt-editor.png", "runs-table.png"):
        assert (IMG / shot).stat().st_size > 10_000, f"{shot} is nearly empty"
