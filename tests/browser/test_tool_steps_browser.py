"""Tool calls shown as steps in a real JupyterLab stay inert and compact: the Response's HTML repr,
ResponseView, and a thread's view.

The Responses are built in the kernel from the wire JSON a server could send (``function_call`` output
items, a trace whose last message is a tool result), so no model and no tool loop is needed. The tool's
name, an argument's key, its values and the results are hostile: an ``<img onerror>``, a ``<script>``, an
``<svg onload>``, a ``<style>`` that would hide the page and ``javascript:`` URLs. Two positive controls
(an ``IPython.display.HTML`` output and a plain ipywidgets ``HTML`` widget carrying the same ``onerror``
trick) show that this page *would* run such markup.

Measured in the DOM (numbers in the test's log in ``test-artifacts/browser/``): each arguments table
row's height against its font size, in the repr and in ResponseView's Output tab (an ipywidgets HTML
widget gives its lines a control's height, 28 px, unless the block sets its own line height), and each
step's height.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ._requires import require_browser

require_browser()

from playwright.sync_api import Locator, Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

NAME = "<img src=x onerror=alert(1)>"
KEY = '<img src=y onerror="window.__pwned=2">'
VALUE = "<script>window.__pwned=3</script>"
NESTED = {"html": '<svg onload="window.__pwned=4"></svg>', "n": [1, 2]}
STYLE = "<style>body{display:none}</style>"
JS_URL = "javascript:window.__pwned=5"
RESULT = f"{STYLE} see [here]({JS_URL}) or {JS_URL}"
ARGUMENTS = json.dumps({KEY: VALUE, "city": "Paris", "where": NESTED})

SETUP = f"""\
from types import SimpleNamespace
import ipywidgets as w
from IPython.display import HTML, display
import llamabook as lb
from llamabook import views
from llamabook.widgets import ResponseView

NAME, KEY, VALUE, RESULT, ARGUMENTS = {NAME!r}, {KEY!r}, {VALUE!r}, {RESULT!r}, {ARGUMENTS!r}

def make(rid, output, **extra):
    return lb.Response.model_validate({{"id": rid, "created_at": 1764115200, "status": "completed",
                                        "model": "smollm2-135m-instruct", "output": output, **extra}})

calls = [{{"type": "function_call", "call_id": "call_1", "name": NAME, "arguments": ARGUMENTS}},
         {{"type": "function_call", "call_id": "call_2", "name": "lookup", "arguments": '{{"url": "{JS_URL}"}}'}}]
trace = {{"messages": [
    {{"role": "user", "content": "Weather?"}},
    {{"role": "assistant", "content": "", "tool_calls": [{{"id": "call_0", "type": "function",
        "function": {{"name": NAME, "arguments": ARGUMENTS}}}}]}},
    {{"role": "tool", "tool_call_id": "call_0", "content": RESULT}},
]}}
response = make("resp_calls", calls, trace=trace)
answer = make("resp_answer", [{{"type": "message", "id": "msg_1", "content": [{{"type": "output_text", "text": "Sunny."}}]}}],
              previous_response_id="resp_calls")
thread = SimpleNamespace(turns=[
    SimpleNamespace(response=response, input=[{{"role": "user", "content": "Weather? " + NAME}}]),
    SimpleNamespace(response=answer, input=[{{"type": "function_call_output", "call_id": "call_1", "output": RESULT}},
                                            {{"type": "function_call_output", "call_id": "call_2", "output": "done-42"}}]),
])
[c.name for c in response.tool_calls] == [NAME, "lookup"]"""
REPR = "response"
VIEW = 'ResponseView(response, results={"call_1": RESULT, "call_2": "done-42"})'
THREAD = "display(HTML(views.thread_html(thread)))"
CONTROLS = """\
display(HTML('<img src=x onerror="window.__control_html=1">'))
w.HTML('<img src=x onerror="window.__control_widget=1">')"""

# Elements that run, embed, fetch or restyle; event-handler attributes; javascript: URLs.
ACTIVE = """root => [...root.querySelectorAll("*")].flatMap(el => [
  ...["SCRIPT", "IFRAME", "OBJECT", "EMBED", "IMG", "STYLE", "SVG", "LINK"].includes(el.tagName.toUpperCase())
      ? [el.tagName] : [],
  ...[...el.attributes]
      .filter(a => a.name.startsWith("on") || /^\\s*javascript:/i.test(a.value))
      .map(a => `${el.tagName} ${a.name}=${a.value}`),
])"""
# Each step's height and lines, and each arguments row's height against its font size.
SIZES = """root => {
  const rows = [...root.querySelectorAll(".llamabook-tool-arguments tr")].map(tr => {
    const font = parseFloat(getComputedStyle(tr.querySelector("td, th")).fontSize);
    return {height: tr.getBoundingClientRect().height, font, ratio: tr.getBoundingClientRect().height / font};
  });
  const steps = [...root.querySelectorAll(".llamabook-tool-step")].map(s => s.getBoundingClientRect().height);
  return {rows, steps};
}"""
#: An arguments row of one line is at most this many times its font size tall (28 px lines would be ~2.2 ×).
MAX_ROW_RATIO = 1.7
#: ResponseView's rows against the repr's.
MAX_VIEW_RATIO = 1.25


def assert_inert(container: Locator, name: str) -> None:
    expect(container.locator("img, style, script, svg, iframe")).to_have_count(0)
    expect(container.locator("[onerror], [onload]")).to_have_count(0)
    expect(container.locator('a[href^="javascript:" i]')).to_have_count(0)
    assert container.evaluate(ACTIVE) == [], f"active markup in {name}"


def assert_steps_shown(container: Locator, name: str, results: tuple[str, ...]) -> None:
    steps = container.locator(".llamabook-tool-step")
    expect(steps.first).to_be_visible()
    expect(container.locator(".llamabook-tool-name", has_text=NAME).first).to_be_visible()
    for literal in (KEY, VALUE, '"html": "<svg onload=', "Paris", *results):
        expect(container.get_by_text(literal).filter(visible=True).first).to_be_visible()


def sizes(container: Locator, record: Any, name: str) -> dict[str, Any]:
    numbers = container.evaluate(SIZES)
    record.lap(f"{name}: {json.dumps(numbers)}")
    assert numbers["rows"], f"no arguments table in {name}"
    for row in numbers["rows"]:
        assert row["ratio"] <= MAX_ROW_RATIO, f"{name}: an arguments row is {row['height']} px at {row['font']} px font"
    return numbers


def test_tool_steps_are_inert_and_compact(lab, lab_page: Page, record) -> None:
    page = lab_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    panel = lab.open_and_run_all(page, lab.write_notebook("tool_steps.ipynb", SETUP, REPR, VIEW, THREAD, CONTROLS))
    cells = panel.locator(".jp-Cell")
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text("True")

    html_repr = cells.nth(1).locator(".llamabook-response")
    view = cells.nth(2).locator(".llamabook-response-view")
    view_output = view.locator(".widget-html.llamabook-response-output")
    thread = cells.nth(3).locator(".llamabook-thread")
    expect(html_repr.locator(".llamabook-tool-step")).to_have_count(3)  # the result sent, then the two calls
    expect(view_output.locator(".llamabook-tool-step")).to_have_count(3)
    expect(thread.locator(".llamabook-thread-turn")).to_have_count(2)
    record.lap("repr, ResponseView and thread rendered")

    page.wait_for_function("window.__control_html === 1 && window.__control_widget === 1", timeout=15_000)
    record.lap("controls fired")

    for container, name in ((html_repr, "the repr"), (view, "ResponseView"), (thread, "the thread view")):
        assert_inert(container, name)
    # the repr: its own calls wait for their results; the result its request sent is shown
    assert_steps_shown(html_repr, "the repr", (STYLE, JS_URL))
    expect(html_repr.locator(".llamabook-tool-pending")).to_have_count(2)
    assert_steps_shown(view_output, "ResponseView", (STYLE, JS_URL, "done-42"))
    expect(view_output.locator(".llamabook-tool-pending")).to_have_count(0)
    assert_steps_shown(thread, "the thread view", (STYLE, "done-42", "Sunny."))
    expect(thread.locator(".llamabook-thread-turn").nth(0).locator(".llamabook-tool-result")).to_have_count(2)

    assert page.evaluate("getComputedStyle(document.body).display") != "none"
    assert page.evaluate("typeof window.__pwned") == "undefined", f"hostile markup ran: {page.evaluate('window.__pwned')}"
    assert dialogs == [], f"hostile markup opened dialogs: {dialogs}"

    # the Input section and tab: the trace's call and result, named by their call, as text
    html_repr.locator("summary", has_text="Input").click()
    view.locator(".lm-TabBar-tab", has_text="Input").click()
    view_input = view.locator(".widget-html.llamabook-response-input")
    for where in (html_repr.locator("details").first, view_input):
        expect(where.get_by_text(f"→ {NAME}(").filter(visible=True).first).to_be_visible()
        expect(where.get_by_text(STYLE).filter(visible=True).first).to_be_visible()
    assert_inert(html_repr, "the repr, opened")
    assert_inert(view_input, "ResponseView's Input tab")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    view.locator(".lm-TabBar-tab", has_text="Output").click()

    shown = sizes(html_repr, record, "repr")
    in_view = sizes(view_output, record, "ResponseView")
    sizes(thread, record, "thread")
    for ours, theirs in zip(in_view["rows"], shown["rows"]):
        assert ours["height"] <= theirs["height"] * MAX_VIEW_RATIO, "ResponseView's rows are taller than the repr's"
    # a step of a name line, a header row, three argument rows and a result line: about six text lines
    font = shown["rows"][0]["font"]
    assert max(in_view["steps"]) <= 6 * 1.7 * font + 16, f"a step is {max(in_view['steps'])} px tall"
    view.scroll_into_view_if_needed()
