"""A smoke subset of the browser tests in Jupyter Notebook 7 (the full suite runs in JupyterLab).

One Notebook 7 server for this module (``jupyter notebook``, started like the Lab server of
``conftest.py``, stopped at the end; its log is copied to ``test-artifacts/browser/notebook7.log``).
Notebook 7 is built from JupyterLab's components, so the Lab selectors hold; what differs is the
URL (``/notebooks/<name>``) and the kernel's state, which is in the notebook's toolbar (there is no
status bar). A scripted engine answers (no model, so nothing depends on the CPU); the client, the
widgets, the magic, the kernel and Notebook 7's renderers are the real ones.

- every panel renders: PromptEditor, FilesPanel, ResponseView, RunsTable, CompareView, none making
  its output area scroll sideways, and two of them answer through the kernel (a typed template's
  variable appears; a comparison cell opens its response);
- a streamed ``%%llama`` cell shows its answer growing (several drafts with the ``▌`` cursor, each
  a prefix of the answer), then the answer and, only after it, the summary footer;
- one hostile ``%%llama`` answer (every payload of ``test_magic_xss``) stays text: no script runs,
  no dialog opens, nothing outside the server is fetched, no element of the payload is live; a
  positive control shows this page does run such markup when it is a plain HTML output.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from ._requires import require_browser

require_browser("notebook")

from playwright.sync_api import Page, expect  # noqa: E402

from .conftest import Lab, running  # noqa: E402
from .test_magic_xss import PAYLOADS  # noqa: E402
from .test_xss_inert import ACTIVE  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One Notebook 7 server for this module."""
    yield from running(tmp_path_factory.mktemp("notebook7", numbered=False), app="notebook")


# ---- every panel ----------------------------------------------------------------------------

PANELS_SETUP = """\
import tempfile
import pandas as pd
import llamabook as lb
from llamabook.engines.base import Generation
from llamabook.widgets import CompareView, FilesPanel, PromptEditor, ResponseView, RunsTable

class Scripted:
    name = "scripted"
    def models(self):
        return [lb.Model(id=m, owned_by="tests", engine="scripted", accepts=["text"]) for m in ("model-a", "model-b")]
    def generate(self, model, messages, options):
        country = str(messages[-1]["content"]).split(" of ")[-1].rstrip("?")
        text = f"{model}: the capital of {country} is on the map."
        g = Generation(iter([text[:10], text[10:]]))
        g.input_tokens, g.output_tokens, g.finish_reason = 9, 12, "stop"
        return g

client = lb.Client(tempfile.mkdtemp(), engines=[Scripted()])
rows = pd.DataFrame({"country": ["Ireland", "France", "Spain"]})
grid = client.grid("Name the capital of {{country}}?", rows, models=["model-a", "model-b"], progress=False)
client.files.create(("quarterly-report.pdf", b"%PDF-1.4 report"))
response = client.responses.retrieve(grid["response_id"].iloc[0])
len(grid)"""
PANELS = {
    "PromptEditor": ("PromptEditor(client)", ".llamabook-prompt-editor"),
    "FilesPanel": ("FilesPanel(client)", ".llamabook-files-panel"),
    "ResponseView": ("ResponseView(response, client)", ".llamabook-response-view"),
    "RunsTable": ("RunsTable(grid, client)", ".llamabook-runs-table"),
    "CompareView": ("CompareView(client, grid)", ".llamabook-compare-view"),
}
# The output area's and the widget's widths (logged): a panel wider than its output area is cut off or scrolls.
WIDTHS = """root => {
  const area = root.closest(".jp-OutputArea-output");
  return {area: [area.scrollWidth, area.clientWidth], widget: [root.scrollWidth, root.clientWidth]};
}"""


def test_notebook7_every_panel_renders(notebook7: Lab, lab_page: Page, record) -> None:
    page = lab_page
    sources = [source for source, _ in PANELS.values()]
    panel = notebook7.open_and_run_all(page, notebook7.write_notebook("nb7-panels.ipynb", PANELS_SETUP, *sources))
    cells = panel.locator(".jp-Cell")
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text("6")  # 3 rows x 2 models
    record.lap("run all")
    widgets = {name: cells.nth(i + 1).locator(css) for i, (name, (_, css)) in enumerate(PANELS.items())}
    for name, widget in widgets.items():
        expect(widget, f"{name} did not render").to_be_visible()
    record.lap("every panel rendered")

    editor = widgets["PromptEditor"]
    expect(editor.locator(".llamabook-template textarea")).to_be_visible()
    expect(editor.locator("button.llamabook-run")).to_be_visible()
    files = widgets["FilesPanel"]
    expect(files.locator(".llamabook-file")).to_have_count(1)
    expect(files).to_contain_text("quarterly-report.pdf")
    view = widgets["ResponseView"]
    expect(view.locator(".widget-html.llamabook-response-header")).to_be_visible()
    expect(view.locator(".llamabook-response-output")).to_contain_text("model-a: the capital of Ireland is on the map.")
    table = widgets["RunsTable"]
    expect(table.locator(".llamabook-run-open")).to_have_count(6)
    compare = widgets["CompareView"]
    expect(compare.locator(".llamabook-compare-header").filter(has_text="model-b")).to_have_count(1)
    expect(compare).to_contain_text("model-b: the capital of Spain is on the map.")

    for name, widget in widgets.items():
        widths = widget.evaluate(WIDTHS)
        record.lap(f"{name}: {json.dumps(widths)}")
        scroll, client = widths["area"]
        assert scroll <= client, f"{name}: {scroll} px wide in an output area of {client} px"

    # Through the kernel: typed text reaches it (the variable's field comes back) and a click opens a response.
    editor.locator(".llamabook-template textarea").fill("Describe {{item}}.")
    expect(editor.locator(".llamabook-var-item")).to_be_visible()
    compare.locator(".llamabook-compare-open").first.click()
    opened = compare.locator(".llamabook-compare-detail .llamabook-response-view")
    expect(opened.locator(".llamabook-response-output")).to_contain_text("the capital of Ireland is on the map.")
    record.lap("editor and comparison answered through the kernel")


# ---- a streamed %%llama cell, and a hostile answer ------------------------------------------

ANSWER = "Dublin is the capital of Ireland. It sits on the River Liffey, by the Irish Sea."
HOSTILE = "\n\n".join(PAYLOADS)
MAGIC_SETUP = f"""\
import tempfile, time
from IPython.display import HTML, display
import llamabook as lb, llamabook.magics
from llamabook.engines.base import Generation

ANSWER = {ANSWER!r}
HOSTILE = {HOSTILE!r}

def slowly(text, parts=8, pause=0.3):  # a delta every pause seconds: each one reaches the page
    size = -(-len(text) // parts)
    for start in range(0, len(text), size):
        time.sleep(pause)
        yield text[start : start + size]

class Scripted:
    name = "scripted"
    def models(self):
        return [lb.Model(id=m, owned_by="tests", engine="scripted", accepts=["text"]) for m in ("streamer", "hostile")]
    def generate(self, model, messages, options):
        g = Generation(slowly(ANSWER) if model == "streamer" else iter([HOSTILE[:100], HOSTILE[100:]]))
        g.input_tokens, g.output_tokens, g.finish_reason = 9, 21, "stop"
        return g

%load_ext llamabook
llamabook.magics.set_client(lb.Client(tempfile.mkdtemp(), engines=[Scripted()]))
print("ready")"""
STREAMED = "%%llama -m streamer\nName the capital of Ireland."
HOSTILE_CELL = "%%llama -m hostile\nSay something."
CONTROL = """display(HTML('<img src=x onerror="window.__control_html=1">'))"""
FOOTER = re.compile(r"^streamer · pmpt_\w+@\d+ · 9 in / 21 out tokens · \d+\.\d\d s$")

# Installed before the page loads: every change to the streamed cell's outputs (their texts) is kept.
WATCH = """
window.__streamed = [];
new MutationObserver(() => {
  const cell = document.querySelectorAll(".jp-Notebook .jp-Cell")[1];
  if (!cell) return;
  const texts = JSON.stringify([...cell.querySelectorAll(".jp-OutputArea-output")].map(o => o.innerText.trim()));
  if (window.__streamed.at(-1) !== texts) window.__streamed.push(texts);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def test_notebook7_streaming_magic_and_a_hostile_answer(notebook7: Lab, lab_page: Page, record) -> None:
    page = lab_page
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: d.accept() if d.type == "beforeunload" else (dialogs.append(d.message), d.dismiss()))
    page.add_init_script(WATCH)
    name = notebook7.write_notebook("nb7-magic.ipynb", MAGIC_SETUP, STREAMED, HOSTILE_CELL, CONTROL, 'print("done")')
    panel = notebook7.open_and_run_all(page, name)
    cells = panel.locator(".jp-Cell")
    expect(cells.last.locator(".jp-OutputArea-output")).to_have_text("done")
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text("ready")
    record.lap("all cells ran")

    # Streamed: drafts with the cursor, each longer and a prefix of the answer; then the answer and its footer.
    streamed = cells.nth(1).locator(".jp-OutputArea-output")
    expect(streamed).to_have_count(2)
    expect(streamed.nth(0)).to_have_text(ANSWER)
    expect(streamed.nth(1).locator("sub")).to_have_text(FOOTER)
    snapshots = [json.loads(s) for s in page.evaluate("window.__streamed")]
    record.lap(f"{len(snapshots)} states of the streamed cell: {json.dumps(snapshots)}")
    drafts = [texts[0] for texts in snapshots if len(texts) == 1 and texts[0].endswith("▌")]
    assert len(drafts) >= 3, f"the answer did not stream: {snapshots}"
    shown = [draft.removesuffix("▌").strip() for draft in drafts]
    assert all(ANSWER.startswith(text) for text in shown), f"drafts that are not the answer's start: {shown}"
    assert [len(text) for text in shown] == sorted({len(text) for text in shown}), f"drafts out of order: {shown}"
    with_footer = [i for i, texts in enumerate(snapshots) if len(texts) == 2]
    last_draft = max(i for i, texts in enumerate(snapshots) if len(texts) == 1 and texts[0].endswith("▌"))
    assert with_footer and with_footer[0] > last_draft, f"the footer came before the answer was complete: {snapshots}"
    assert all(not texts[0].endswith("▌") for texts in snapshots[with_footer[0] :]), snapshots

    # The hostile answer: shown as text a reader sees, nothing of it live.
    page.wait_for_function("window.__control_html === 1", timeout=15_000)  # plain HTML outputs do run here
    hostile = cells.nth(2).locator(".jp-OutputArea-output").first
    expect(hostile.get_by_text("<script>window.__pwned=2</script>")).to_be_visible()
    expect(hostile.get_by_text("<style>body{display:none !important}</style>")).to_be_visible()
    expect(hostile.locator("a", has_text="pixel")).to_be_visible()  # the image became a link
    assert hostile.evaluate(ACTIVE) == [], "active markup in the hostile answer"
    tags = "script,style,iframe,svg,form,img,math,object,embed,input"
    assert hostile.evaluate(f"el => [...el.querySelectorAll('{tags}')].map(e => e.tagName)") == []
    expect(hostile.locator('a[href^="javascript:" i], a[href^="data:" i]')).to_have_count(0)
    assert dialogs == [], f"a dialog opened: {dialogs}"
    assert page.evaluate("typeof window.__pwned") == "undefined", f"hostile markup ran: {page.evaluate('window.__pwned')}"
    outside = [url for url in requests if not url.startswith((notebook7.url, "data:", "blob:"))]
    assert outside == [], f"requests outside the Jupyter server: {outside}"
    assert page.evaluate("getComputedStyle(document.body).display") != "none"
    expect(panel).to_be_visible()
    record.lap("hostile answer inert")
