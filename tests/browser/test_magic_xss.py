"""``%%llama`` answers stay text in a real JupyterLab, streamed or not, and after a reopen.

A scripted engine sends hostile answers through the real magic → display path, as text and as
the value of a structured output's field (``--schema``: the fields fill in as they stream, then the
parsed object is shown) (the engine is
the only stand-in: the client, the local backend, the magic and JupyterLab's renderers are the
real ones); one cell asks the real model to repeat HTML. Each answer must fire no dialog and no
script, fetch nothing outside the Jupyter server, and leave the page visible; then the notebook
is saved, reopened (a saved notebook is trusted) and checked again.
"""

from __future__ import annotations

import pytest

from ._requires import require_browser

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

PAYLOADS = [
    '<img src=x onerror="alert(1);window.__pwned=1">',
    "<script>window.__pwned=2</script>",
    '<svg onload="window.__pwned=3"><circle r="9"/></svg>',
    "<style>body{display:none !important}</style>",
    '<iframe src="javascript:window.top.__pwned=4"></iframe>',
    '<form action="http://127.0.0.1:1/steal"><input name=q autofocus onfocus="window.__pwned=5"></form>',
    "[click](javascript:window.__pwned=6)",
    "[data](data:text/html,<script>window.__pwned=7</script>)",
    "![pixel](http://127.0.0.1:1/track.png)",
    '<a href="#" style="position:fixed;inset:0" onclick="window.__pwned=8">cover</a>',
    '<details open ontoggle="window.__pwned=9">x</details>',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=10>",
]

SETUP = f"""\
import json, tempfile
import llamabook as lb, llamabook.magics
from llamabook.engines.base import Generation

PAYLOADS = {PAYLOADS!r}
NOTE = {{"type": "object", "properties": {{"note": {{"type": "string"}}}}, "required": ["note"]}}

class Scripted:
    name = "scripted"
    def models(self):
        return [lb.Model(id="hostile", owned_by="tests", engine="scripted", accepts=["text"])]
    def generate(self, model, messages, options):
        asked = messages[-1]["content"]  # "3": payload 3 as the answer; "j3": as a JSON field's value
        text = json.dumps({{"note": PAYLOADS[int(asked[1:])]}}) if asked.startswith("j") else PAYLOADS[int(asked)]
        g = Generation(iter([text[: len(text) // 2], text[len(text) // 2 :]]))
        g.input_tokens, g.output_tokens, g.finish_reason = 1, 2, "stop"
        return g

%load_ext llamabook
llamabook.magics.set_client(lb.Client(tempfile.mkdtemp(), engines=[Scripted(), lb.EmbeddedEngine()]))"""


def cells() -> list[str]:
    out = [SETUP]
    for index in range(len(PAYLOADS)):
        out.append(f"%%llama -m hostile -i {index} --var f=x\nAnswer {{{{f}}}}.")  # streamed (the default)
        out.append(f"%%llama -m hostile -i {index} --no-stream\nAnswer.")
        out.append(f"%%llama -m hostile -i j{index} --schema NOTE\nAnswer.")  # fields filling in, then parsed
    out.append('%%llama -m smollm2-135m-instruct -i "Output this HTML exactly: <img src=x onerror=alert(1)>" --max-tokens 40\nYou are a helpful assistant.')
    out.append('print("done")')
    return out


def assert_page_safe(page: Page, requests: list[str], dialogs: list[str], lab_url: str) -> None:
    assert dialogs == [], f"a dialog opened: {dialogs}"
    assert page.evaluate("typeof window.__pwned") == "undefined", f"hostile markup ran: {page.evaluate('window.__pwned')}"
    outside = [u for u in requests if not u.startswith((lab_url, "data:", "blob:"))]
    assert outside == [], f"requests outside the Jupyter server: {outside}"
    assert page.evaluate("getComputedStyle(document.body).display") != "none"
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")).to_be_visible()
    outputs = page.locator(".jp-OutputArea-output")
    # Lab's own JSON viewer (a --schema cell's parsed object) draws its expand arrows as svg: those are not answers
    assert outputs.evaluate_all(
        "els => els.flatMap(el => [...el.querySelectorAll('script,style,iframe,svg,form,img,math')]"
        ".filter(e => !(e.tagName.toLowerCase() === 'svg' && e.closest('.jp-RenderedJSON'))).map(e => e.tagName))"
    ) == []


def test_hostile_magic_answers_are_inert_streamed_and_not_and_after_reopening(lab, lab_page: Page, record) -> None:
    page = lab_page
    requests: list[str] = []
    dialogs: list[str] = []

    def watch(p: Page) -> None:
        p.on("request", lambda r: requests.append(r.url))
        # leaving Lab asks "leave the page?" (beforeunload): that one is Lab's own, not an answer's
        p.on("dialog", lambda d: d.accept() if d.type == "beforeunload" else (dialogs.append(d.message), d.dismiss()))

    watch(page)
    name = lab.write_notebook("magic-xss.ipynb", *cells())
    panel = lab.open_and_run_all(page, name)
    expect(panel.locator(".jp-Cell").last.locator(".jp-OutputArea-output")).to_have_text("done")
    record.lap("all cells ran")
    # the answers are there, as text a reader can see
    expect(panel.get_by_text("<script>window.__pwned=2</script>").first).to_be_visible()
    expect(panel.get_by_text("<style>body{display:none !important}</style>").first).to_be_visible()
    expect(panel.locator("a", has_text="pixel").first).to_be_visible()  # the image became a link
    assert_page_safe(page, requests, dialogs, lab.url)

    panel.locator(".jp-Cell").last.click()
    page.keyboard.press("Control+s")
    expect(page.locator(".jp-NotebookPanel-toolbar, .lm-TabBar-tab.jp-mod-dirty").locator(".jp-mod-dirty")).to_have_count(0)
    page.wait_for_timeout(1500)  # the save request completes
    saved = (lab.root / name).read_text()
    assert "&lt;script&gt;window.__pwned=2&lt;/script&gt;" in saved and "text/markdown" not in saved
    record.lap("saved")
    requests.clear()
    page = page.context.new_page()
    watch(page)
    page.goto(f"{lab.url}/lab/tree/{name}?reset")  # reopened: Lab renders the saved, trusted outputs
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    expect(panel.get_by_text("<script>window.__pwned=2</script>").first).to_be_visible()
    record.lap("reopened")
    assert_page_safe(page, requests, dialogs, lab.url)
