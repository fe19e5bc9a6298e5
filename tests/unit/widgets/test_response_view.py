"""ResponseView at the Python level: its tabs show the output, input, usage and raw JSON, inert."""

from __future__ import annotations

from llamabook.types import OutputMessage, OutputText, Response, ResponseTrace, Usage
from llamabook.widgets import ResponseView
from support.htmlcheck import active_parts, tags, text
from support.widgets import classes

XSS_OUTPUT = "Done.\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>"


def test_response_view_tabs_show_safe_output_input_usage_and_json() -> None:
    r = Response(
        id="resp_view1", created_at=1_700_000_000, status="completed", model="m",
        output=[OutputMessage(id="msg_1", content=[OutputText(text=XSS_OUTPUT)])],
        usage=Usage(input_tokens=5, output_tokens=7, total_tokens=12),
        trace=ResponseTrace(
            messages=[{"role": "system", "content": "Be <b>brief</b>."}, {"role": "user", "content": "Hi"}],
            latency_s=1.5,
        ),
    )  # fmt: skip
    view = ResponseView(r)
    assert "llamabook-response-view" in classes(view)
    assert view.tabs.titles == ("Output", "Input", "Usage", "Raw JSON")
    assert view.tabs.children[0] is view.output and "llamabook-response-output" in classes(view.output)
    assert "<script" not in view.output.value.lower()
    assert not any("onerror" in attrs for _, attrs in tags(view.output.value))
    every_tab = [view.header, view.output, view.input, view.usage, view.raw]
    assert active_parts("".join(part.value for part in every_tab)) == []
    assert "<script>alert(1)</script>" in text(view.output.value)  # readable, inert
    assert "Be <b>brief</b>." in text(view.input.value) and not any(t == "b" for t, _ in tags(view.input.value))
    assert "input tokens5" in text(view.usage.value).replace("\n", "") and "1.500 s" in text(view.usage.value)
    assert '"id": "resp_view1"' in text(view.raw.value)

    view.show(r.model_copy(update={"id": "resp_view2", "status": "failed"}))
    assert "resp_view2" in text(view.header.value) and "failed" in text(view.header.value)


def test_response_view_shows_tool_calls_as_steps_in_its_output_tab_inert() -> None:
    hostile_name, hostile_result = "<img src=x onerror=alert(1)>", "<style>body{display:none}</style> javascript:alert(2)"
    r = Response.model_validate({
        "id": "resp_calls", "created_at": 1_700_000_000, "status": "completed", "model": "m",
        "output": [{"type": "function_call", "call_id": "call_1", "name": hostile_name,
                    "arguments": '{"<b>key</b>": "<script>alert(3)</script>", "n": [1, 2]}'}],
    })  # fmt: skip
    view = ResponseView(r)
    assert view.output.value.count('class="llamabook-tool-step"') == 1
    assert "llamabook-tool-pending" in view.output.value  # its result is not known yet
    shown = text(view.output.value)
    assert hostile_name in shown and "<b>key</b>" in shown and "<script>alert(3)</script>" in shown and "[1, 2]" in shown

    view.show(r, results={"call_1": hostile_result})
    assert view.results == {"call_1": hostile_result}
    assert hostile_result in text(view.output.value) and "llamabook-tool-pending" not in view.output.value
    every_tab = "".join(part.value for part in (view.header, view.output, view.input, view.usage, view.raw))
    assert active_parts(every_tab) == []
    assert not {"img", "style", "script", "b"} & {tag for tag, _ in tags(every_tab)}
    assert view.error.message == ""

    with_results = ResponseView(r, results=[{"type": "function_call_output", "call_id": "call_1", "output": "12 C"}])
    assert "12 C" in text(with_results.output.value)
