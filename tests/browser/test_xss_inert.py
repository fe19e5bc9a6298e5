"""Hostile model output stays text in a real JupyterLab: Response's HTML repr and ResponseView.

The Response is built from the wire JSON a server could send (every backend's reply is parsed
into this same pydantic model), so no hostile model is needed. Two positive controls show that
this page *would* run such markup: an ``IPython.display.HTML`` output and a plain ipywidgets
``HTML`` widget carrying the same ``onerror`` trick must both fire.
"""

from __future__ import annotations

import pytest

from ._requires import require_browser

require_browser()

from playwright.sync_api import Locator, Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=2">'
LINK = "[link](javascript:window.__pwned=3)"
HOSTILE = f"Plain {SCRIPT} text.\n\nAn image {IMG} here.\n\nA {LINK} too."

SETUP = f"""\
import ipywidgets as w
from IPython.display import HTML, display
import llamabook as lb
from llamabook.widgets import ResponseView

HOSTILE = {HOSTILE!r}
response = lb.Response.model_validate({{
    "id": "resp_hostile", "created_at": 1764115200, "status": "completed",
    "model": "smollm2-135m-instruct", "instructions": HOSTILE, "metadata": {{"note": HOSTILE}},
    "output": [{{"type": "message", "id": "msg_hostile",
                "content": [{{"type": "output_text", "text": HOSTILE}}]}}],
    "trace": {{"messages": [{{"role": "system", "content": HOSTILE}}, {{"role": "user", "content": HOSTILE}}]}},
}})
response.output_text == HOSTILE"""
REPR = "display(response)"
VIEW = "ResponseView(response)"
CONTROLS = """\
display(HTML('<img src=x onerror="window.__control_html=1">'))
w.HTML('<img src=x onerror="window.__control_widget=1">')"""

# Event-handler attributes of any name, javascript: URLs, and elements that run or embed code.
ACTIVE = """root => [...root.querySelectorAll("*")].flatMap(el => [
  ...["SCRIPT", "IFRAME", "OBJECT", "EMBED"].includes(el.tagName) ? [el.tagName] : [],
  ...[...el.attributes]
      .filter(a => a.name.startsWith("on") || /^\\s*javascript:/i.test(a.value))
      .map(a => `${el.tagName} ${a.name}=${a.value}`),
])"""


def assert_inert(container: Locator, name: str, shown: tuple[str, ...] = (SCRIPT, IMG)) -> None:
    expect(container.locator("script")).to_have_count(0)
    expect(container.locator("[onerror]")).to_have_count(0)
    expect(container.locator('a[href^="javascript:" i]')).to_have_count(0)
    assert container.evaluate(ACTIVE) == [], f"active markup in {name}"
    # shown as text, where a reader sees it
    for literal in shown:
        expect(container.get_by_text(literal).filter(visible=True).first).to_be_visible()
    expect(container).to_contain_text("link")


def test_hostile_output_is_inert(lab, lab_page: Page, record) -> None:
    page = lab_page
    panel = lab.open_and_run_all(page, lab.write_notebook("xss.ipynb", SETUP, REPR, VIEW, CONTROLS))
    cells = panel.locator(".jp-Cell")
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text("True")  # the output is the hostile text

    html_repr = cells.nth(1).locator(".llamabook-response")
    view = cells.nth(2).locator(".llamabook-response-view")
    view_output = view.locator(".llamabook-response-output")
    expect(html_repr).to_contain_text(SCRIPT)
    expect(view_output).to_be_visible()
    expect(view_output).to_contain_text(SCRIPT)
    record.lap("repr and ResponseView rendered")

    # Positive controls (last cell): the same markup outside llamabook does run in this page.
    page.wait_for_function("window.__control_html === 1 && window.__control_widget === 1", timeout=15_000)
    record.lap("controls fired")

    assert_inert(html_repr, "the Response HTML repr")
    assert_inert(view, "ResponseView")
    assert_inert(view_output, "ResponseView's output tab")

    # The rest of each: the repr's collapsed sections and the view's other tabs, opened as a reader
    # would (the instructions and rendered messages carry the same text).
    for summary in ("Input", "Raw JSON"):
        html_repr.locator("summary", has_text=summary).click()
    for literal in (SCRIPT, IMG):
        expect(html_repr.locator("details").get_by_text(literal).filter(visible=True).first).to_be_visible()
    assert_inert(html_repr, "the Response HTML repr, opened")
    for tab, name in (("Input", "input"), ("Raw JSON", "raw")):
        view.locator(".lm-TabBar-tab", has_text=tab).click()
        section = view.locator(f".widget-html.llamabook-response-{name}")  # the tab's widget, not the HTML inside
        expect(section).to_be_visible()
        expect(section).to_contain_text(SCRIPT)
        # JSON escapes the quotes of the <img> tag, so only the <script> text is there verbatim
        assert_inert(section, f"ResponseView's {tab} tab", (SCRIPT, IMG) if name == "input" else (SCRIPT,))

    assert page.evaluate("typeof window.__pwned") == "undefined", f"hostile markup ran: {page.evaluate('window.__pwned')}"
    view.locator(".lm-TabBar-tab", has_text="Output").click()  # the screenshot shows the output
    view.scroll_into_view_if_needed()
    view.locator(".lm-TabBar-tab", has_text="Output").click()  # the screenshot shows the output
    view.scroll_into_view_if_needed()
