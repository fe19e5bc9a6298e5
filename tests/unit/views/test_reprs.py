"""Notebook reprs of Response, Prompt and File: jinja2-escaped HTML, sanitized Markdown, text/plain."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest

import llamabook as lb
from llamabook import views
from llamabook.engines.embedded import EmbeddedEngine
from llamabook.types import File, OutputMessage, OutputText, Prompt, PromptReference, Response, ResponseTrace, Usage
from llamabook.views import safe_markdown_html
from support.htmlcheck import active_parts, tags, text
from support.imports import imported_modules

XSS = (
    "Hello **world**\n\n"
    "<script>alert(1)</script>\n\n"
    "<img src=x onerror=alert(1)>\n\n"
    '[click](javascript:alert(2)) <a href="javascript:alert(3)">a</a> [ok](https://example.com/x)\n\n'
    '<svg onload=alert(4)></svg><iframe src="https://example.com"></iframe>\n\n'
    "![pic](javascript:alert(5)) <details open ontoggle=alert(6)>x</details>"
)
PROMPT_ID = "pmpt_" + "ab" * 24
SECRET = "sk-llamabook-test-secret-4242"


def response(output: str = XSS, **extra: object) -> Response:
    """A response as a backend returns it, with a trace, built without a model."""
    fields: dict[str, object] = {
        "id": "resp_test1",
        "created_at": 1_700_000_000,
        "completed_at": 1_700_000_001,
        "status": "completed",
        "model": "smollm2-135m-instruct",
        "output": [OutputMessage(id="msg_1", content=[OutputText(text=output)])],
        "prompt": PromptReference(id=PROMPT_ID, version="2", variables={"who": {"type": "input_text", "text": "Ada"}}),
        "usage": Usage(input_tokens=21, output_tokens=9, total_tokens=30),
        "trace": ResponseTrace(
            messages=[
                {"role": "system", "content": "Answer <b>Ada</b> & be brief."},
                {"role": "user", "content": "What is <i>2+2</i>?"},
            ],
            latency_s=0.4321,
            engine="embedded",
            backend="local",
            finish_reason="stop",
        ),
    }
    fields.update(extra)
    return Response(**fields)  # type: ignore[arg-type]


# ---- safe_markdown_html -----------------------------------------------------------------------


def test_markdown_is_rendered_and_nothing_active_survives() -> None:
    html = safe_markdown_html(XSS + "\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```\n<script>x</script>\n```")
    assert active_parts(html) == []
    assert "<script" not in html.lower()
    assert "<strong>world</strong>" in html
    assert ("table", {}) in tags(html) and ("td", {"style": "text-align:right"}) in tags(html)
    links = [attrs for tag, attrs in tags(html) if tag == "a"]
    assert links == [{"href": "https://example.com/x", "rel": "noopener noreferrer nofollow"}]
    # the unsafe markup is still there to read, as text
    assert "<script>alert(1)</script>" in text(html)
    assert "<img src=x onerror=alert(1)>" in text(html)


def test_markdown_images_become_links_so_nothing_is_fetched() -> None:
    html = safe_markdown_html("See ![the chart](https://example.com/c.png?leak=secret).")
    assert not any(tag == "img" for tag, _ in tags(html))
    assert ("a", {"href": "https://example.com/c.png?leak=secret", "rel": "noopener noreferrer nofollow"}) in tags(html)
    assert text(html) == "See !the chart.\n"


@pytest.mark.parametrize(
    "attack",
    [
        "<a href='javascript:alert(1)'>x</a>",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "<javascript:alert(1)>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '![x](x" onerror="alert(1))',
        '<p style="background:url(javascript:alert(1))">x</p>',
        "<!-- <script>alert(1)</script> -->",
    ],
)
def test_each_attack_is_inert(attack: str) -> None:
    html = safe_markdown_html(attack)
    assert active_parts(html) == [], html
    assert "javascript:" not in " ".join(v for _, attrs in tags(html) for v in attrs.values()).lower()


def test_single_line_breaks_in_model_output_stay_line_breaks() -> None:
    html = views.safe_markdown_html("Roses are red,\nviolets are blue.\n\nNew paragraph.")
    assert "Roses are red,<br>\nviolets are blue." in html
    assert html.count("<p>") == 2


# ---- Response ----------------------------------------------------------------------------------


def test_response_html_is_rooted_sanitized_and_complete() -> None:
    r = response()
    html = r._repr_html_()
    assert html is not None and html.startswith('<div class="llamabook-response"')
    assert "<script" not in html.lower()
    assert active_parts(html) == []
    assert not any("onerror" in attrs for _, attrs in tags(html))
    shown = text(html)
    assert "<script>alert(1)</script>" in shown  # shown as text
    assert "Answer <b>Ada</b> & be brief." in shown and "What is <i>2+2</i>?" in shown
    assert ("b", {}) not in tags(html) and ("i", {}) not in tags(html)
    assert f"{PROMPT_ID}@2" in shown and "21 in / 9 out tokens" in shown and "0.43 s" in shown
    assert "finish reason" in shown and "stop" in shown
    raw = next(v for v in pre_blocks(html) if v.lstrip().startswith("{"))
    assert json.loads(raw) == r.model_dump(mode="json")


def pre_blocks(html: str) -> list[str]:
    """The text of every <pre> block (these hold escaped text only)."""
    return [unescape(block) for block in re.findall(r"<pre[^>]*>(.*?)</pre>", html, re.S)]


def test_response_mimebundle_has_text_fallback_and_honours_include_exclude() -> None:
    r = response(
        "The capital of Ireland is **Dublin**.", status="incomplete", incomplete_details={"reason": "cancelled"}
    )
    bundle = r._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    plain = bundle["text/plain"]
    first, rest = plain.split("\n", 1)
    summary = f"Response resp_test1 · smollm2-135m-instruct · {PROMPT_ID}@2 · 21 in / 9 out tokens · 0.43 s"
    assert first == summary + " · incomplete"  # the one summary line of every face (views.summary_line)
    assert rest == "The capital of Ireland is **Dublin**."
    assert "<strong>Dublin</strong>" in bundle["text/html"] and "incomplete: cancelled" in text(bundle["text/html"])
    assert set(r._repr_mimebundle_(include={"text/plain"})) == {"text/plain"}
    assert set(r._repr_mimebundle_(exclude={"text/html"})) == {"text/plain"}
    assert set(r._repr_mimebundle_(exclude={"text/plain"})) == {"text/html"}


def test_a_replayed_answer_says_replayed_wherever_a_latency_would_show() -> None:
    """One rule (views.latency_label) for every face: the summary line, the header, the usage table, a grid row."""
    live, replayed = response("Dublin."), response("Dublin.", replayed=True)
    assert (views.latency_label(live), views.latency_label(live, digits=3)) == ("0.43 s", "0.432 s")
    assert views.latency_label(replayed) == views.REPLAYED_MARK == "replayed"
    assert views.summary_line(live).endswith("21 in / 9 out tokens · 0.43 s")
    assert views.summary_line(replayed).endswith("21 in / 9 out tokens · replayed")
    assert views.summary_line(response("Dub", replayed=True, status="incomplete", incomplete_details={"reason": "length"})).endswith(
        "tokens · replayed · incomplete · " + views.CUT_OFF_MARK
    )
    assert ("latency", "0.432 s") in views.usage_rows(live) and ("latency", "replayed") in views.usage_rows(replayed)
    assert "latency" not in dict(views.usage_rows(response("Dublin.", trace=None)))  # not measured: left out
    header = text(views.response_sections(replayed)["header"])
    assert header.endswith("21 in / 9 out tokens · replayed") and " s" not in header.split("tokens")[-1]
    assert replayed._repr_mimebundle_()["text/plain"].split("\n")[0].endswith("· replayed")
    # A grid frame's row (a dict of its cells): the same rule, numpy's True too; an older frame has no replayed
    import numpy as np

    assert views.latency_label({"latency_s": None, "replayed": np.bool_(True)}) == "replayed"
    assert views.latency_label({"latency_s": 1.5, "replayed": np.bool_(False)}) == "1.50 s"
    assert views.latency_label({"latency_s": 1.5}) == "1.50 s" and views.latency_label({"latency_s": None}) is None


def test_failed_response_shows_its_error_escaped() -> None:
    r = response("", status="failed", error={"code": "server_error", "message": "boom <img src=x onerror=alert(1)>"})
    html = r._repr_html_() or ""
    assert active_parts(html) == []
    assert "server_error: boom <img src=x onerror=alert(1)>" in text(html)
    assert "error server_error: boom" in r._repr_mimebundle_()["text/plain"]


# ---- Prompt and File ---------------------------------------------------------------------------


def test_prompt_template_is_escaped_with_placeholders_marked() -> None:
    p = Prompt(prompt_id=PROMPT_ID, prompt="Use <b>bold</b> for {{name}} & {{ company }}; {% raw %} {{a.b}}", version=3,
               variables=["name", "company"], is_default=True)  # fmt: skip
    html = p._repr_html_() or ""
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert not any(tag == "b" for tag, _ in tags(html))
    assert active_parts(html) == []
    marked = [attrs for tag, attrs in tags(html) if tag == "span" and attrs.get("class") == "llamabook-placeholder"]
    assert len(marked) == 2  # {{name}}, {{ company }}; not {{a.b}} (not a placeholder on the server)
    assert "Use <b>bold</b> for {{name}} & {{ company }}; {% raw %} {{a.b}}" in text(html)
    assert f"{PROMPT_ID}" in text(html) and "version 3" in text(html) and "default" in text(html)
    plain = p._repr_mimebundle_()["text/plain"]
    assert plain == f"Prompt {PROMPT_ID}@3 (default) · variables: name, company\n{p.prompt}"


def test_file_html_escapes_the_filename() -> None:
    name = '<img src=x onerror="alert(1)">.png'
    f = File(id="file-" + "c" * 32, bytes=12_345, created_at=1_700_000_000, filename=name, purpose="assistants")
    html = f._repr_html_() or ""
    assert active_parts(html) == [] and not any(tag == "img" for tag, _ in tags(html))
    assert '<img src=x onerror="alert(1)">.png · 12.3 KB · image/png' in text(html)
    assert "2023-11-14 22:13:20 UTC" in text(html)
    assert f._repr_mimebundle_()["text/plain"] == (
        f'File {f.id} · <img src=x onerror="alert(1)">.png · 12.3 KB · assistants · created 2023-11-14 22:13:20 UTC'
    )


# ---- light imports and the fallback ----------------------------------------------------------------


def test_views_and_widgets_import_nothing_heavy_until_used() -> None:
    names = imported_modules(
        "import llamabook.widgets, llamabook.views\n"
        "from llamabook.types import Prompt\n"
        f"Prompt(prompt_id='{PROMPT_ID}', prompt='x', version=1)._repr_mimebundle_(include={{'text/plain'}})"
    )
    heavy = sorted({n.split(".")[0] for n in names} & {"jinja2", "markdown_it", "nh3", "ipywidgets", "pandas", "PIL"})
    assert heavy == []


def test_without_jinja2_notebooks_get_text_plain_only() -> None:
    code = (
        "import sys; sys.modules['jinja2'] = None\n"
        "from llamabook.types import Prompt\n"
        f"p = Prompt(prompt_id='{PROMPT_ID}', prompt='Hi {{{{name}}}}', version=1, variables=['name'])\n"
        "print(p._repr_html_()); print(sorted(p._repr_mimebundle_()))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[:2] == ["None", "['text/plain']"]


# ---- keys never shown ---------------------------------------------------------------------------------


@pytest.fixture
def keyed_client(tmp_path: Path, engine: EmbeddedEngine) -> Iterator[lb.Client]:
    """The embedded model plus an OpenAI-compatible engine holding an API key (never contacted)."""
    remote = lb.OpenAICompatibleEngine(
        "http://127.0.0.1:9/v1", api_key=SECRET, models=["vision-test"], accepts=("text", "image")
    )
    with lb.Client(tmp_path / "home", engines=[engine, remote]) as c:
        yield c


@pytest.mark.model
def test_api_keys_appear_in_no_repr_or_widget_state(keyed_client: lb.Client, data: Path) -> None:
    from llamabook.widgets import FilesPanel, PromptEditor, ResponseView

    c = keyed_client
    p = c.prompts.create("Answer for {{who}}.", variables=["who"])
    f = c.files.create(data / "phone.png")
    r = c.responses.create(input="Hi", prompt=p, variables={"who": "Ada"}, max_output_tokens=4)
    shown = [repr(c), str(c), repr(c.backend)]
    for obj in (p, f, r, *c.models.list()):
        shown += [repr(obj), str(obj)]
        if hasattr(obj, "_repr_mimebundle_"):
            shown += list(obj._repr_mimebundle_().values())
    editor = PromptEditor(c, p)
    panels = [editor, ResponseView(r, client=c), FilesPanel(c)]
    assert "vision-test" in str(editor.model.options)  # the keyed engine's model is listed
    for panel in panels:
        for widget in walk(panel):
            shown += [repr(widget), json.dumps(widget.get_state(), default=str)]
    assert len(shown) > 50
    leaks = [s for s in shown if SECRET in s or SECRET[3:] in s]
    assert leaks == []


def walk(widget: object) -> Iterator[object]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)
