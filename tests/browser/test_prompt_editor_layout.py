"""PromptEditor's answer in a real JupyterLab is single-spaced: its line pitch measured against its font size.

An ipywidgets HTML widget gives its content the line height of one control row
(``--jp-widgets-inline-height``: 28 px at JupyterLab's 13 px font, 2.15 times the font size), so every
line of a bare answer was spaced as if double. The test runs the real model from the editor's Run
button and measures each line box of the rendered answer; the numbers are in the test's log in
``test-artifacts/browser/``.
"""

from __future__ import annotations

import json
import re

import pytest

from ._requires import require_browser

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.model]

NOTEBOOK = """\
import llamabook as lb
from llamabook.widgets import PromptEditor

client = lb.Client()
editor = PromptEditor(client, input="Name three colours, each on its own line.", max_output_tokens=48)
editor.template.value = "You are a helpful assistant for {{name}}."
editor.fields["name"].text.value = "Ada"
editor"""
#: Line pitch over font size: 1.5 is the answer's own line height; ipywidgets' 28 px at 13 px is 2.15.
MAX_LINE_PITCH = 1.6
#: From the last line of a block to the first of the next: one line pitch plus a paragraph margin (1em).
MAX_BLOCK_PITCH = MAX_LINE_PITCH + 1.0

# Every line box of the answer, found from the client rects of each text block's contents (rects less
# than half a font size apart in height are one line), with the block's font size and line height.
MEASURE = """root => {
  const answer = root.querySelector(".llamabook-output");
  const kinds = "p, li, h1, h2, h3, h4, h5, h6, pre, blockquote, th, td";
  const blocks = [...answer.querySelectorAll(kinds)].filter(b => !b.querySelector(kinds) && b.textContent.trim());
  const lines = [];
  const measured = blocks.map((block, index) => {
    const style = getComputedStyle(block), font = parseFloat(style.fontSize);
    const range = document.createRange();
    range.selectNodeContents(block);
    const tops = [];
    for (const rect of range.getClientRects()) {
      if (rect.height && !tops.some(top => Math.abs(top - rect.top) < font / 2)) tops.push(rect.top);
    }
    tops.sort((a, b) => a - b).forEach(top => lines.push({top, block: index, font}));
    const height = block.getBoundingClientRect().height;
    return {tag: block.tagName.toLowerCase(), font, lineHeight: style.lineHeight, whiteSpace: style.whiteSpace,
            lines: tops.length, height, pitch: height / tops.length};
  });
  const gaps = lines.slice(1).map((line, i) => ({
    within: line.block === lines[i].block, pitch: line.top - lines[i].top, font: line.font}));
  return {blocks: measured, gaps, html: answer.innerHTML.slice(0, 400)};
}"""


def test_the_answer_is_single_spaced_in_jupyterlab(lab, lab_page: Page, record) -> None:
    page = lab_page
    panel = lab.open_and_run_all(page, lab.write_notebook("prompt_editor_layout.ipynb", NOTEBOOK))
    editor = panel.locator(".llamabook-prompt-editor")
    expect(editor.locator(".llamabook-var-name")).to_be_visible()
    editor.locator("button.llamabook-run").click()
    expect(editor.locator(".llamabook-status")).to_have_text(re.compile(r"^(completed|incomplete: .+)$"), timeout=180_000)
    answer = editor.locator(".llamabook-output")
    expect(answer).not_to_be_empty()
    record.lap(f"run ended: {answer.inner_text()!r}")

    numbers = editor.evaluate(MEASURE)
    record.lap(f"answer measured: {json.dumps(numbers)}")
    assert numbers["blocks"], f"no text block in the answer: {numbers['html']!r}"
    for block in numbers["blocks"]:
        ratio = block["pitch"] / block["font"]
        assert ratio <= MAX_LINE_PITCH, (
            f"<{block['tag']}> lines are {block['pitch']:.1f} px apart at a {block['font']} px font "
            f"({ratio:.2f} times; line-height {block['lineHeight']}): double-spaced"
        )
    for gap in numbers["gaps"]:
        limit = MAX_LINE_PITCH if gap["within"] else MAX_BLOCK_PITCH
        where = "lines of one block" if gap["within"] else "blocks"
        assert gap["pitch"] <= limit * gap["font"], (
            f"{where} {gap['pitch']:.1f} px apart at a {gap['font']} px font (at most {limit} times): {numbers}"
        )
