"""PromptEditor and FilesPanel as a newcomer met them walking the tutorials, measured in a real JupyterLab.

What was wrong, each measured here from the DOM (the numbers are in the test's log in
``test-artifacts/browser/``): a long answer made the panel as tall as the answer, and it was shown twice
(the answer area and the details' Output tab); at 1280 px the footer was cut off ("cut off at
max_output_t"); the heading showed the ``pmpt_`` id of a prompt opened as ``haiku``; the status said
"incomplete" without why; an empty field did not take the notebook's variable as ``%%llama`` does; the
panel was 4 px wider than the output area (its text boxes 100 % wide plus 2 px margins); FilesPanel's
upload button read "Upload (0)", and "Upload more (0)" after an upload (ipywidgets adds the count; the panel
empties the value, so it is always 0: the stylesheet now draws that text at size 0 and shows "Upload" /
"Upload more" after the icon, measured as seen: the ``::after`` content, the text's and the icon's sizes, and
nothing clipped); and in the dark theme the picked side of a text/file
switch could hardly be told from the other.

A scripted engine answers (``tests/support/scripted_engine.py``: the system prompt echoed, then a long
story), so nothing depends on the CPU; the client, the store, the widgets and JupyterLab are the real ones.
The panel's stylesheet is switched off once in each test, to log the numbers without it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ._requires import require_browser

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

TESTS = Path(__file__).resolve().parents[1]
MAX_TOKENS = 400  # the story is longer: the answer is cut off at its token limit
SETUP = f"""\
import sys, tempfile
sys.path.insert(0, {str(TESTS)!r})
import llamabook as lb
from llamabook.widgets import FilesPanel, PromptEditor
from support.scripted_engine import ScriptedEngine, echo

STORY = "".join(f"Paragraph {{i}} of a long answer about frogs, long enough to need a scroll bar of its own.\\n\\n" for i in range(60))
client = lb.Client(tempfile.mkdtemp(), engine=ScriptedEngine(answer=lambda messages: echo(messages) + "\\n\\n" + STORY))
client.prompts.save("haiku", "A haiku on {{{{topic}}}}.")
client.prompts.save("haiku", "A haiku for {{{{audience}}}} on {{{{topic}}}}.")
audience = "a busy accountant"
len(STORY)"""
EDITOR = f"""\
editor = PromptEditor(client, "haiku", input="Tell me everything.", max_output_tokens={MAX_TOKENS})
editor.fields["topic"].text.value = "frogs"
editor"""
FILES = "FilesPanel(client)"

#: The answer area's highest (``ANSWER_MAX_HEIGHT``, 24em) at the widgets' 13 px font, with a pixel for rounding.
MAX_ANSWER_PX = 24 * 13 + 1
#: WCAG's contrast for the parts of a control (non-text contrast): the picked side against the other.
MIN_CONTRAST = 3.0

# Widths: the output area, the editor, and how far any part of the editor reaches past its right edge.
WIDTHS = """root => {
  const area = root.closest(".jp-OutputArea-output");
  const box = root.getBoundingClientRect();
  const parts = [...root.querySelectorAll("*")].filter(el => el.offsetParent !== null);
  const widest = parts.reduce((far, el) => Math.max(far, el.getBoundingClientRect().right), box.right);
  const areaStyle = getComputedStyle(area);
  const areaContent = area.clientWidth - parseFloat(areaStyle.paddingLeft) - parseFloat(areaStyle.paddingRight);
  return {area: {clientWidth: area.clientWidth, scrollWidth: area.scrollWidth, content: areaContent},
          editor: {width: box.width, clientWidth: root.clientWidth, scrollWidth: root.scrollWidth},
          overhang: Math.round((widest - box.right) * 10) / 10};
}"""
# A part's text and whether it fits its box.
FITS = """el => ({text: el.innerText, scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
               height: el.getBoundingClientRect().height})"""
# The answer area's box against its content.
ANSWER = """el => ({height: el.getBoundingClientRect().height, maxHeight: getComputedStyle(el).maxHeight,
                 overflowY: getComputedStyle(el).overflowY, scrollHeight: el.scrollHeight, clientHeight: el.clientHeight})"""
# The panel's stylesheet on (true) or off (false): the numbers without it go to the log.
STYLESHEET = """(root, on) => { for (const s of root.querySelectorAll(".llamabook-stylesheet style")) s.disabled = !on; }"""
# The panels' stylesheets on the page on (true) or off (false), whichever panel holds them (each has a copy).
STYLESHEETS = """on => { for (const s of document.querySelectorAll(".llamabook-stylesheet style")) s.disabled = !on; }"""
# What the upload button shows: its ::after label, the size of ipywidgets' "<description> (<count>)" text node
# (the button's own font size) and its drawn width, the icon's size, and whether the label fits the button.
UPLOAD_LABEL = """el => {
  const after = getComputedStyle(el, "::after"), icon = el.querySelector("i.fa");
  const node = [...el.childNodes].find(n => n.nodeType === Node.TEXT_NODE);
  const range = document.createRange();
  range.selectNodeContents(node);
  return {after: after.content, afterFontSize: after.fontSize, textNode: node.data, textFontSize: getComputedStyle(el).fontSize,
          textWidth: range.getBoundingClientRect().width, iconFontSize: getComputedStyle(icon).fontSize,
          iconWidth: icon.getBoundingClientRect().width, width: el.getBoundingClientRect().width,
          scrollWidth: el.scrollWidth, clientWidth: el.clientWidth};
}"""
# The picked and the other side of each text/file switch: backgrounds (composited over what is under them),
# text colours, and their WCAG contrast ratios.
CONTRAST = """root => {
  const parse = s => { const n = (s.match(/[\\d.]+/g) || []).map(Number); return n.length === 3 ? [...n, 1] : n; };
  const background = el => {
    if (!el) return [255, 255, 255];
    const [r, g, b, a] = parse(getComputedStyle(el).backgroundColor);
    const under = a >= 1 ? [0, 0, 0] : background(el.parentElement);
    return [r, g, b].map((v, i) => v * a + under[i] * (1 - a));
  };
  const luminance = rgb => rgb.map(v => v / 255).map(c => c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (x, y) => { const [a, b] = [luminance(x), luminance(y)].sort((p, q) => q - p); return (a + 0.05) / (b + 0.05); };
  return [...root.querySelectorAll(".llamabook-var-kind")].map(kind => {
    const picked = kind.querySelector("button.mod-active"), other = kind.querySelector("button:not(.mod-active)");
    const [pb, ob] = [background(picked), background(other)];
    const text = parse(getComputedStyle(picked).color).slice(0, 3);
    return {picked: picked.innerText.trim(), pickedBackground: pb.map(Math.round), otherBackground: ob.map(Math.round),
            sides: Math.round(ratio(pb, ob) * 100) / 100, pickedText: Math.round(ratio(text, pb) * 100) / 100};
  });
}"""


def open_file_browser(page: Page) -> None:
    """The left sidebar shows the file browser, as in a fresh Lab: the output area is as narrow as a newcomer's."""
    browser = page.locator("#filebrowser")
    if not browser.is_visible():
        page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id='filebrowser']").click()
    expect(browser).to_be_visible()


def lap(record: Any, what: str, numbers: Any) -> Any:
    record.lap(f"{what}: {json.dumps(numbers)}")
    return numbers


def test_prompt_editor_and_files_panel_at_1280_in_the_light_theme(lab, lab_page: Page, record, data: Path) -> None:
    page = lab_page
    page.set_viewport_size({"width": 1280, "height": 800})
    name = lab.write_notebook("panels_newcomer.ipynb", SETUP, EDITOR, FILES)
    panel = lab.open_and_run_all(page, name)
    open_file_browser(page)
    cells = panel.locator(".jp-Cell")
    editor, files = cells.nth(1).locator(".llamabook-prompt-editor"), cells.nth(2).locator(".llamabook-files-panel")
    expect(editor.locator(".llamabook-var-topic")).to_be_visible()
    expect(files.locator(".llamabook-status")).to_have_text("0 files")

    # The heading: the prompt as it was opened, not its 52-character id.
    heading = editor.locator(".llamabook-prompt-id")
    expect(heading).to_have_text("haiku")
    # The empty field says which notebook variable it takes.
    audience = editor.locator(".llamabook-var-audience textarea")
    expect(audience).to_have_value("")
    expect(audience).to_have_attribute("placeholder", "from the notebook: audience = 'a busy accountant'")
    record.lap(f"heading {heading.inner_text()!r}; audience field: {audience.get_attribute('placeholder')!r}")

    editor.locator("button.llamabook-run").click()
    status = editor.locator(".llamabook-status")
    expect(status).to_have_text(re.compile(r"^(completed|incomplete)"))
    answer, footer = editor.locator(".llamabook-output"), editor.locator(".llamabook-footer")
    expect(footer).not_to_be_empty()
    editor.locator(".jupyter-widget-Collapse-header", has_text="Response details").click()  # open the details
    expect(editor.locator(".llamabook-response-view .widget-html.llamabook-response-header")).to_be_visible()

    numbers = {
        "status": lap(record, "status", status.evaluate(FITS)),
        "answer": lap(record, "answer area", answer.evaluate(ANSWER)),
        "footer": lap(record, "footer", footer.evaluate(FITS)),
        "widths": lap(record, "widths", editor.evaluate(WIDTHS)),
        "story": lap(record, "'Paragraph 7 of' in the editor's text", editor.inner_text().count("Paragraph 7 of")),
        "tabs": lap(record, "details tabs", editor.locator(".llamabook-response-view .lm-TabBar-tab").all_inner_texts()),
        "switch": lap(record, "text/file switch", editor.evaluate(CONTRAST)),
    }
    editor.evaluate(STYLESHEET, False)
    lap(record, "without the panel's stylesheet: footer", footer.evaluate(FITS))
    lap(record, "without the panel's stylesheet: text/file switch", editor.evaluate(CONTRAST))
    editor.evaluate(STYLESHEET, True)

    # The status says why the answer is incomplete, in the footer's words, and fits.
    assert numbers["status"]["text"] == "incomplete: cut off at max_output_tokens", numbers["status"]
    assert numbers["status"]["scrollWidth"] <= numbers["status"]["clientWidth"], numbers["status"]
    # The answer area: no higher than its limit, the rest of the answer scrolls inside it.
    shown = numbers["answer"]
    assert shown["height"] <= MAX_ANSWER_PX and shown["overflowY"] == "auto", shown
    assert shown["scrollHeight"] > shown["clientHeight"] + 100, f"the long answer does not scroll: {shown}"
    # ... and the answer is shown once, also with the details open (no Output tab there).
    assert numbers["story"] == 1, f"the answer is shown {numbers['story']} times"
    assert "Output" not in numbers["tabs"] and "Input" in numbers["tabs"], numbers["tabs"]
    # The footer is whole: it wraps instead of being cut off.
    text = numbers["footer"]["text"]
    assert text.endswith("incomplete · cut off at max_output_tokens") and "(haiku)" in text, text
    assert numbers["footer"]["scrollWidth"] <= numbers["footer"]["clientWidth"], numbers["footer"]
    # The editor is no wider than the output area, and nothing in it reaches past its right edge.
    widths = numbers["widths"]
    assert widths["editor"]["width"] <= widths["area"]["content"], widths
    assert widths["editor"]["scrollWidth"] <= widths["editor"]["clientWidth"], widths
    assert widths["area"]["scrollWidth"] <= widths["area"]["clientWidth"], widths
    assert widths["overhang"] <= 0, widths
    # The notebook's variable reached the model: the scripted engine echoes the system prompt first.
    expect(answer).to_contain_text("[system: A haiku for a busy accountant on frogs.]")
    # The picked side of the switch stands out in the light theme too.
    for switch in numbers["switch"]:
        assert switch["picked"] == "text" and switch["sides"] >= MIN_CONTRAST, switch
        assert switch["pickedText"] >= 4.5, switch

    # FilesPanel: the upload button shows "Upload", then "Upload more", never ipywidgets' "(0)" count. Its text node
    # still holds "Upload (0)" (the accessible name), drawn at size 0; the label seen is the stylesheet's ::after.
    upload = files.locator(".llamabook-files-upload")
    expect(upload).to_have_text("Upload (0)")
    before = lap(record, "upload button", upload.evaluate(UPLOAD_LABEL))
    with page.expect_file_chooser() as chooser:
        upload.click()
    chooser.value.set_files(data / "invoice.pdf")
    expect(files.locator(".llamabook-status")).to_have_text("uploaded invoice.pdf")
    expect(upload).to_have_text("Upload more (0)")
    expect(upload).to_have_attribute("title", "uploaded invoice.pdf; upload more files")
    after = lap(record, "upload button after an upload", upload.evaluate(UPLOAD_LABEL))
    page.evaluate(STYLESHEETS, False)
    lap(record, "without the panels' stylesheet: upload button after an upload", upload.evaluate(UPLOAD_LABEL))
    page.evaluate(STYLESHEETS, True)
    for label, seen in (("Upload", before), ("Upload more", after)):
        assert seen["after"] == f'"{label}"' and seen["afterFontSize"] == "13px", seen
        assert seen["textNode"] == f"{label} (0)" and seen["textFontSize"] == "0px" and seen["textWidth"] == 0, seen
        assert seen["iconFontSize"] == "13px" and seen["iconWidth"] > 0, seen
        assert seen["scrollWidth"] <= seen["clientWidth"], f"the label {label!r} is clipped: {seen}"


DARK = """\
import sys, tempfile
sys.path.insert(0, {tests!r})
import llamabook as lb
from llamabook.widgets import PromptEditor
from support.scripted_engine import ScriptedEngine

editor = PromptEditor(lb.Client(tempfile.mkdtemp(), engine=ScriptedEngine()))
editor.template.value = "Describe {{{{photo}}}} for {{{{audience}}}}."
editor.fields["photo"].kind.value = "file"
editor"""


def test_the_picked_side_of_the_text_file_switch_stands_out_in_the_dark_theme(lab, lab_page: Page, record) -> None:
    page = lab_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    # The theme as a user picks it (Settings > Theme), kept in the session's Lab settings for this test only.
    themes = lab.root.parent / "jupyter" / "lab-settings" / "@jupyterlab" / "apputils-extension"
    setting = themes / "themes.jupyterlab-settings"
    assert themes.is_dir() and not setting.exists()
    setting.write_text(json.dumps({"theme": "JupyterLab Dark"}))
    try:
        panel = lab.open_and_run_all(page, lab.write_notebook("panels_newcomer_dark.ipynb", DARK.format(tests=str(TESTS))))
        expect(page.locator("body[data-jp-theme-light='false']")).to_be_attached()
        editor = panel.locator(".llamabook-prompt-editor")
        expect(editor.locator(".llamabook-var-kind")).to_have_count(2)
        expect(editor.locator(".llamabook-var-photo .llamabook-var-upload")).to_be_visible()

        switches = lap(record, "dark theme: text/file switches", editor.evaluate(CONTRAST))
        editor.evaluate(STYLESHEET, False)
        lap(record, "dark theme, without the panel's stylesheet", editor.evaluate(CONTRAST))
        editor.evaluate(STYLESHEET, True)
    finally:
        setting.unlink()

    assert [switch["picked"] for switch in switches] == ["file", "text"], switches
    for switch in switches:
        assert switch["sides"] >= MIN_CONTRAST, f"the picked side is hard to tell from the other: {switch}"
        assert switch["pickedText"] >= 4.5, f"the picked side's label is hard to read: {switch}"
