"""AnnotateView in a real JupyterLab: a label by a click and one by a keyboard shortcut, the progress count
following them, a hostile output shown as text, and the labels in the home database afterwards.

The grid runs on the scripted engine (no model); every answer carries ``<img src=x onerror=alert(1)>``.
The shortcuts are keys typed into the panel's keys box (ipywidgets gives a panel no key events): the
test types them with Playwright's keyboard, as a user would, and they must not reach the notebook
(an ``a`` or ``b`` there would add cells). The labels are read back by re-running the last cell,
``client.annotations.attach(grid)``, in the kernel.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ._requires import require_browser

require_browser()

from playwright.sync_api import Dialog, Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

TESTS = Path(__file__).resolve().parents[1]
HOSTILE = "<img src=x onerror=alert(1)>"
SETUP = f"""\
import sys, tempfile
sys.path.insert(0, {str(TESTS)!r})
import pandas as pd
import llamabook as lb
from llamabook.widgets import AnnotateView
from support.scripted_engine import ScriptedEngine

HOSTILE = {HOSTILE!r}
client = lb.Client(tempfile.mkdtemp(), engine=ScriptedEngine(answer=lambda messages: f"Answer: {{HOSTILE}}"))
client.prompts.save("tutor", "Capital of {{{{country}}}}?")
rows = pd.DataFrame({{"country": ["Ireland", "France", "Italy", "Japan"]}})
grid = client.grid("tutor", rows, progress=False)
len(grid)"""
VIEW = 'AnnotateView(client, grid, "tone", choices=["good", "bad", "unsure"])'
READ_BACK = 'print(client.annotations.attach(grid)["human_tone"].fillna("-").tolist() if "human_tone" in client.annotations.attach(grid) else "none")'
CONTROL = "import ipywidgets as w\nw.HTML('<img src=x onerror=\"window.__control_widget=1\">')"


def test_labels_by_click_and_shortcut_land_in_the_home_and_output_stays_inert(lab, lab_page: Page, record) -> None:
    page = lab_page
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    name = lab.write_notebook("annotate-view.ipynb", SETUP, VIEW, CONTROL, READ_BACK)
    panel = lab.open_and_run_all(page, name)
    cells = panel.locator(".jp-Cell")
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text("4")
    expect(cells.nth(3).locator(".jp-OutputArea-output")).to_have_text("none")
    view = cells.nth(1).locator(".llamabook-annotate-view")
    progress = view.locator(".llamabook-annotate-progress")
    expect(progress).to_have_text("0 of 4 labelled")
    expect(view.locator(".llamabook-annotate-where")).to_contain_text("result 1 of 4")
    record.lap("panel drawn")

    # The hostile answer is text; the same markup in a plain widget does run in this page (the control).
    output = view.locator(".llamabook-annotate-output")
    expect(output).to_contain_text(f"Answer: {HOSTILE}")
    page.wait_for_function("window.__control_widget === 1")
    expect(view.locator("img")).to_have_count(0)
    expect(view.locator("[onerror]")).to_have_count(0)
    record.lap("hostile output shown as text; control fired")

    # 1. A click: "bad" on result 1; the panel moves on to result 2 and counts it.
    view.locator(".llamabook-annotate-choice", has_text="bad").click()
    expect(progress).to_have_text("1 of 4 labelled")
    expect(view.locator(".llamabook-annotate-where")).to_contain_text("result 2 of 4")
    record.lap("labelled by a click")

    # 2. Shortcuts typed into the keys box: "3" labels result 2 "unsure", "k" goes back to it.
    cell_count = cells.count()
    keys = view.locator(".llamabook-annotate-keys input")
    keys.click()
    page.keyboard.press("3")
    expect(progress).to_have_text("2 of 4 labelled")
    expect(view.locator(".llamabook-annotate-where")).to_contain_text("result 3 of 4")
    expect(keys).to_have_value("")
    page.keyboard.press("k")
    expect(view.locator(".llamabook-annotate-where")).to_contain_text("result 2 of 4")
    expect(view.locator(".llamabook-annotate-current")).to_contain_text('tone: "unsure"')
    assert cells.count() == cell_count, "a shortcut reached the notebook"
    record.lap("labelled by a shortcut, moved back by one")

    # 3. In the home database: the last cell run again reads the labels through client.annotations.
    cells.nth(3).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    expect(cells.nth(3).locator(".jp-OutputArea-output")).to_have_text("['bad', 'unsure', '-', '-']")
    record.lap("labels read back in the kernel")

    assert dialogs == [], f"hostile markup ran: {dialogs}"
    assert page.evaluate("typeof window.__control_widget") == "number"
