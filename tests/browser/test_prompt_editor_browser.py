"""PromptEditor in a real JupyterLab: type a template, fill its variables (one a PDF upload), run, watch it stream."""

from __future__ import annotations

import re

import pytest

import llamabook as lb

from ._requires import require_browser

require_browser()

from playwright.sync_api import Locator, Page, expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.model]

TEMPLATE = "Describe {{item}} for {{audience}}."
AUDIENCE = "a busy accountant"
MAX_TOKENS = 48
NOTEBOOK = """\
import llamabook as lb
from llamabook.widgets import PromptEditor

client = lb.Client()
editor = PromptEditor(client)
editor"""

# Installed before Run is clicked: every change under the editor appends
# [output text, status text], so the test can tell a streamed answer from one painted at once.
WATCH = """root => {
  const text = sel => (root.querySelector(sel)?.textContent ?? "").trim();
  window.__llamabookSnapshots = [];
  new MutationObserver(() => window.__llamabookSnapshots.push([text(".llamabook-output"), text(".llamabook-status")]))
    .observe(root, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def choose(switch: Locator, label: str) -> None:
    """Pick ``label`` in a ToggleButtons or a Dropdown widget (the kind switch may be either)."""
    wanted = re.compile(rf"^\s*{re.escape(label)}\s*$", re.IGNORECASE)
    select = switch.locator("select")
    if select.count():
        option = select.locator("option").filter(has_text=wanted).first
        select.select_option(label=option.inner_text())
    else:
        switch.get_by_role("button", name=wanted).click()


def test_prompt_editor_template_variables_upload_run(lab, lab_page: Page, record, data) -> None:
    page = lab_page
    panel = lab.open_and_run_all(page, lab.write_notebook("prompt_editor.ipynb", NOTEBOOK))
    editor = panel.locator(".llamabook-prompt-editor")
    expect(editor).to_be_visible()
    record.lap("editor rendered")

    editor.locator(".llamabook-template textarea").fill(TEMPLATE)
    item, audience = editor.locator(".llamabook-var-item"), editor.locator(".llamabook-var-audience")
    expect(item).to_be_visible()
    expect(audience).to_be_visible()
    expect(editor.locator(".llamabook-variables .llamabook-var")).to_have_count(2)
    record.lap("variable fields appeared")

    audience.locator(".llamabook-var-text").locator("input, textarea").fill(AUDIENCE)
    choose(item.locator(".llamabook-var-kind"), "file")
    upload = item.locator(".llamabook-var-upload")
    expect(upload).to_be_visible()
    # ipywidgets 8's FileUpload never puts its <input type=file> in the DOM (its button's click
    # opens the chooser), so the test answers the file chooser.
    with page.expect_file_chooser() as chooser:
        upload.click()
    chooser.value.set_files(data / "invoice.pdf")
    # the kernel stored the upload as a client file and picked it for this variable
    status = editor.locator(".llamabook-status")
    expect(status).to_have_text("uploaded invoice.pdf")
    expect(item.locator(".llamabook-var-file select option:checked")).to_contain_text("invoice.pdf")
    record.lap("variables filled, PDF attached")

    # a short answer keeps the run quick; Enter commits the number (it does not sync per keystroke)
    max_tokens = editor.locator(".llamabook-max-tokens input")
    max_tokens.fill(str(MAX_TOKENS))
    max_tokens.press("Enter")

    editor.evaluate(WATCH)
    editor.locator("button.llamabook-run").click()
    output = editor.locator(".llamabook-output")
    # completed, or incomplete when the answer reached MAX_TOKENS (cut off, as Llama Stack reports it)
    expect(status).to_have_text(re.compile(r"^(completed|incomplete: .+)$"), timeout=180_000)
    record.lap("run completed")
    expect(output).not_to_be_empty()
    final = output.inner_text().strip()
    assert final, "no output text"
    expect(editor.locator(":scope > .llamabook-error")).to_have_text("")  # the editor's own error area

    # Streamed: the output grew through intermediate texts while the run was not yet completed.
    snapshots = page.evaluate("window.__llamabookSnapshots")
    partial = {text for text, state in snapshots if text and state == "running"}
    record.lap(f"{len(snapshots)} DOM changes, {len(partial)} distinct partial outputs; final {len(final)} chars")
    assert len(partial) >= 2, f"output did not stream: partial outputs seen {sorted(partial, key=len)!r}"

    # What the model saw, from the kernel's store: the template filled, the PDF's text attached.
    with lb.Client(lab.home) as client:
        made = client.responses.list()
        assert made, "the run stored no response"
        response = max(made, key=lambda r: r.created_at)
        seen = "\n".join(str(m.get("content")) for m in response.rendered_messages)
    assert response.status == "completed" or response.cut_off
    assert response.max_output_tokens == MAX_TOKENS and 0 < response.usage.output_tokens <= MAX_TOKENS
    assert AUDIENCE in seen and "[File: item]" in seen
    assert "Dublin Bicycle Co." in seen  # the invoice's text, extracted from the uploaded PDF
    words = re.findall(r"[A-Za-z]{4,}", response.output_text)[:8]
    assert words and all(w in final for w in words), f"stored output {response.output_text!r} vs shown {final!r}"
