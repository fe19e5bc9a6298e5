"""Hostile model output and templates stay text in a real JupyterLab: the comparison, CompareView,
a prompt diff, ResponseView's table of a structured output, RunsTable, and a comparison saved as a
file and opened on its own.

The grid is a DataFrame shaped as ``client.grid`` returns it, with hostile outputs, a check, and a
check that raised with a hostile message (shown as ``⚠`` and its text, never as markup), so no
model runs. The positive controls of ``test_xss_inert`` show this page runs such markup.
"""

from __future__ import annotations

import pytest

from ._requires import require_browser

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

from .test_xss_inert import ACTIVE, IMG, SCRIPT  # noqa: E402

pytestmark = pytest.mark.browser

HOSTILE = f"Plain {SCRIPT} text and {IMG} here."

SETUP = f"""\
import tempfile
import pandas as pd
import llamabook as lb
from llamabook.diffs import diff_prompts
from llamabook.widgets import CompareView, RunsTable

HOSTILE = {HOSTILE!r}
grid = pd.DataFrame({{
    "row": [0, 0], "city": [HOSTILE, HOSTILE], "prompt_id": ["pmpt_" + "a" * 48] * 2, "version": [1, 2],
    "model": ["m", "m"], "output_text": [HOSTILE, "calm " + HOSTILE], "status": ["completed", "failed"],
    "error": [None, "EngineError: " + HOSTILE], "input_tokens": [1, 1], "output_tokens": [2, 2],
    "latency_s": [0.1, 0.2], "response_id": ["resp_a", None], "cached": [False, False], "attempts": [1, 1],
    "check_" + "polite": pd.array([True, None], dtype="boolean"),
    "check_" + "kind": pd.array([None, None], dtype="boolean"),
    "check_" + "kind_error": pd.array(["ValueError: " + HOSTILE, None], dtype="string"),
}})
comparison = lb.compare(grid)
path = comparison.save_html(tempfile.mkdtemp() + "/compare.html")
saved = open(path).read()
old = lb.Prompt(prompt_id="pmpt_" + "b" * 48, prompt="Hi <b>{{{{x}}}}</b> " + HOSTILE, version=1, variables=["x"])
new = lb.Prompt(prompt_id="pmpt_" + "b" * 48, prompt="Hello <i>{{{{y}}}}</i> " + HOSTILE, version=2, variables=["y"])
diff = diff_prompts(old, new)
client = lb.Client(tempfile.mkdtemp())
from llamabook.widgets import ResponseView
import json
structured = lb.Response.model_validate({{
    "id": "resp_structured", "created_at": 1764115200, "status": "completed", "model": "m",
    "text": {{"format": {{"type": "json_schema", "name": "Out", "schema": {{"type": "object",
             "properties": {{"who": {{"type": "string"}}, "tags": {{"type": "array", "items": {{"type": "string"}}}}}}}}}}}},
    "output": [{{"type": "message", "id": "msg_s", "content": [{{"type": "output_text",
                "text": json.dumps({{"who": HOSTILE, "tags": [HOSTILE]}})}}]}}],
}})
structured.output_parsed is not None and len(saved) > 0"""


def test_comparison_view_and_diff_are_inert(lab, lab_page: Page, record) -> None:
    page = lab_page
    name = lab.write_notebook(
        "compare-xss.ipynb", SETUP, "comparison", "CompareView(client, comparison)", "diff", "ResponseView(structured)",
        "RunsTable(grid)",
    )
    panel = lab.open_and_run_all(page, name)
    cells = panel.locator(".jp-Cell")
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text("True")
    for index, what in ((1, "the comparison repr"), (2, "CompareView"), (3, "the diff repr"),
                        (4, "ResponseView's parsed table"), (5, "RunsTable")):  # fmt: skip
        output = cells.nth(index).locator(".jp-OutputArea-output").first
        expect(output).to_contain_text(SCRIPT)  # shown as text where a reader sees it
        expect(output.locator("script")).to_have_count(0)
        expect(output.locator("[onerror]")).to_have_count(0)
        assert output.evaluate(ACTIVE) == [], f"active markup in {what}"
    diff = cells.nth(3).locator(".jp-OutputArea-output").first
    expect(diff).to_contain_text("{{x}}")  # a template's own HTML (<b>, <i>) is text, not markup:
    expect(diff).to_contain_text("</")
    expect(diff.locator("i")).to_have_count(0)
    parsed = cells.nth(4).locator(".llamabook-response-parsed")
    expect(parsed).to_be_visible()  # the parsed fields as a table, hostile values as text
    expect(parsed.locator("td", has_text=SCRIPT).first).to_be_visible()
    for index in (1, 2):  # the check that raised: ⚠, its hostile message as text and as a plain tooltip
        output = cells.nth(index).locator(".jp-OutputArea-output").first
        message = output.locator(".llamabook-check-error-message")
        expect(message).to_have_count(1)
        expect(message).to_contain_text("⚠ kind raised: ValueError: Plain " + SCRIPT + " text and " + IMG)
        expect(output.locator("span.llamabook-check-error")).to_have_attribute("title", "ValueError: " + HOSTILE)
    runs = cells.nth(5).locator(".jp-OutputArea-output").first
    raised = runs.locator(".llamabook-run-check-error span.llamabook-check-error")
    expect(raised).to_have_count(1)
    expect(raised).to_have_text("⚠")
    expect(raised).to_have_attribute("title", "ValueError: " + HOSTILE)
    expect(runs).to_contain_text("1 check error")
    record.lap("comparison, CompareView, diff, parsed table and RunsTable rendered")

    assert page.evaluate("typeof window.__pwned") == "undefined", f"hostile markup ran: {page.evaluate('window.__pwned')}"

    # The saved file, opened on its own page: nothing in it runs or is fetched (the record fixture
    # aborts every non-local request and notes it).
    space: dict = {}
    exec(SETUP.split("\nclient =", 1)[0], space)  # the same grid and comparison, built here
    saved = page.context.new_page()
    saved.set_content(space["saved"])
    expect(saved.locator("body")).to_contain_text(SCRIPT)
    expect(saved.locator(".llamabook-check-error-message")).to_contain_text("⚠ kind raised: ValueError: Plain " + SCRIPT)
    assert saved.evaluate("() => [...document.querySelectorAll('script, style, link, [src], [href]')].length") == 0
    assert saved.locator("html").evaluate(ACTIVE) == []
    assert saved.evaluate("typeof window.__pwned") == "undefined"
    saved.close()
