"""Tool calls as steps in a Response's views and a thread's view: name, arguments table, result, all inert."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import llamabook as lb
from llamabook import views
from llamabook.types import InputItem, Response
from llamabook.views import reprs
from llamabook.views.tool_steps import call_steps, parse_arguments, results_of, sent_steps, trace_steps
from support.htmlcheck import active_parts, tags, text

NAME = "<img src=x onerror=alert(1)>"
KEY = '<b onmouseover="alert(2)">k</b>'
VALUE = "<script>alert(3)</script>"
STYLE = "<style>body{display:none}</style>"
JS_URL = "javascript:alert(4)"
ARGUMENTS = '{"%s": "%s", "city": "Paris", "days": 3, "where": {"lat": 48.9, "tags": ["a", "<i>b</i>"]}}' % (
    KEY.replace('"', '\\"'),
    VALUE,
)


def call(call_id: str = "call_1", name: str = NAME, arguments: str = ARGUMENTS) -> dict[str, Any]:
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments, "id": f"fc_{call_id}"}


def response(output: list[dict[str, Any]], rid: str = "resp_1", **extra: Any) -> Response:
    return Response.model_validate(
        {"id": rid, "created_at": 1_700_000_000, "status": "completed", "model": "m", "output": output, **extra}
    )


def message(text: str) -> dict[str, Any]:
    return {"type": "message", "id": "msg_1", "content": [{"type": "output_text", "text": text}]}


def element_tags(html: str) -> set[str]:
    return {tag for tag, _ in tags(html)}


def assert_inert(html: str) -> None:
    assert active_parts(html) == []
    assert not {"img", "style", "script", "b", "i"} & element_tags(html)
    assert not any(name.startswith("on") for _, attrs in tags(html) for name in attrs)
    assert not any(JS_URL in value for _, attrs in tags(html) for value in attrs.values())


def test_arguments_are_a_two_column_table_with_nested_values_as_json() -> None:
    [step] = call_steps(response([call()]))
    assert step.name == NAME and step.call_id == "call_1" and step.result is None
    assert step.arguments == [
        (KEY, VALUE), ("city", "Paris"), ("days", "3"), ("where", '{"lat": 48.9, "tags": ["a", "<i>b</i>"]}'),
    ]  # fmt: skip
    assert parse_arguments("[1, 2]") == ({}, "[1, 2]") and parse_arguments("not json") == ({}, "not json")
    assert parse_arguments("") == ({}, None) and parse_arguments({"a": 1}) == ({"a": 1}, None)


def test_response_html_shows_hostile_call_and_result_as_text() -> None:
    r = response([call()])
    html = views.response_html(r, results={"call_1": STYLE + " " + JS_URL})
    assert_inert(html)
    shown = text(html)
    for literal in (NAME, KEY, VALUE, STYLE, JS_URL, "Paris", '"tags": ["a", "<i>b</i>"]'):
        assert literal in shown, literal
    assert "argument" in shown and "value" in shown and "tool calls" in shown
    assert html.count('class="llamabook-tool-step"') == 1
    assert 'class="llamabook-tool-arguments"' in html and 'class="llamabook-tool-result' in html
    assert 'class="llamabook-response-body"' not in html  # a response that only calls: no empty answer block


def test_the_result_is_pending_until_known_and_results_come_from_input_items() -> None:
    r = response([call("call_1", "a"), call("call_2", "b", "")])
    pending = views.response_html(r)
    assert pending.count("llamabook-tool-pending") == 2 and "result not known" in text(pending)
    items = [
        InputItem.model_validate({"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": STYLE}]}),
        {"type": "function_call_output", "call_id": "call_1", "output": "12 C"},
        {"role": "user", "content": "thanks"},
    ]  # fmt: skip
    assert results_of(items) == {"call_2": STYLE, "call_1": "12 C"}
    html = views.response_html(r, results=items)
    assert "llamabook-tool-pending" not in html and "no arguments" in text(html)
    assert STYLE in text(html) and "style" not in element_tags(html)


def test_the_results_its_own_request_sent_are_steps_named_after_their_calls() -> None:
    """A response whose trace ends with tool messages (the results of the previous turn's calls)."""
    trace = {"messages": [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": NAME, "arguments": ARGUMENTS}}]},
        {"role": "tool", "tool_call_id": "call_0", "content": STYLE},
    ]}  # fmt: skip
    r = response([message("It is **sunny**.")], trace=trace)
    [step] = trace_steps(r)
    assert (step.name, step.result, step.call_id) == (NAME, STYLE, "call_0")
    html = views.response_html(r)
    assert_inert(html)
    assert "results sent" in text(html) and STYLE in text(html) and "sunny" in text(html)
    # an earlier answered exchange is history, not this request's input
    earlier = {"messages": [*trace["messages"], {"role": "assistant", "content": "Sunny."}, {"role": "user", "content": "Thanks"}]}
    assert trace_steps(response([message("ok")], trace=earlier)) == []


def test_a_result_whose_call_is_unknown_says_so() -> None:
    [step] = sent_steps([{"type": "function_call_output", "call_id": "call_x", "output": "42"}])
    assert step.call_known is False and step.result == "42"
    html = views.steps_html([step])
    assert "not known" in text(html) and "no arguments" not in text(html)


def test_text_repr_and_summary_line_mention_the_calls() -> None:
    r = response([call("call_1", "get_weather", '{"city": "Paris", "days": 3}')])
    assert views.summary_line(r).endswith("→ get_weather(city='Paris', days=3)")
    assert "→" not in views.summary_line(response([message("hi")]))
    lines = views.response_text(r, results={"call_1": "12 C\nrain"}).splitlines()
    assert lines[-1] == "→ get_weather(city='Paris', days=3) = 12 C rain"
    assert lines[0].count("get_weather") == 0  # once, not twice
    assert repr(r).count("get_weather") >= 1  # the pydantic repr is untouched
    assert "→ get_weather(city='Paris', days=3)" in reprs.repr_text(r)
    long = response([call("c", "f", '{"text": "%s"}' % ("x" * 200))])
    assert len(views.response_text(long).splitlines()[-1]) < 80


def test_an_error_result_is_marked() -> None:
    r = response([call("call_1", "f", "{}")])
    html = views.response_html(r, results={"call_1": "Error: ValueError: <b>bad</b>"})
    assert "llamabook-tool-error" in html and "b" not in element_tags(html)
    assert "llamabook-tool-error" not in views.response_html(r, results={"call_1": "fine"})


# ---- threads -------------------------------------------------------------------------------------


@dataclass
class FakeTurn:
    response: Response
    input: list[Any] = field(default_factory=list)


@dataclass
class FakeThread:
    """The documented minimal interface: turns, oldest first, each a response and its input items."""

    turns: list[FakeTurn]
    truncated_at: str | None = None


def hostile_thread() -> FakeThread:
    first = response([call("call_1"), call("call_2", "get_time", "{}")], "resp_a")
    second = response([message(f"Done: {VALUE} [x]({JS_URL})")], "resp_b", previous_response_id="resp_a")
    return FakeThread([
        FakeTurn(first, [InputItem.model_validate({"role": "user", "content": f"Plan {NAME}"})]),
        FakeTurn(second, [
            {"type": "function_call_output", "call_id": "call_1", "output": f"{STYLE} see {JS_URL}"},
            {"type": "function_call_output", "call_id": "call_9", "output": "stray"},
        ]),
    ])  # fmt: skip


def test_thread_html_is_a_block_per_turn_with_steps_and_results_inert() -> None:
    html = views.thread_html(hostile_thread())
    assert_inert(html)
    assert html.count('class="llamabook-thread-turn"') == 2
    assert html.count('class="llamabook-thread-summary"') == 2
    shown = text(html)
    for literal in (f"Plan {NAME}", NAME, KEY, VALUE, STYLE, JS_URL, "resp_a", "resp_b", "get_time", "stray"):
        assert literal in shown, literal
    assert "2 turns · 2 tool calls" in shown
    # call_1's result is in its step (turn 1); get_time's was never sent; turn 2 names what it answered
    first, second = html.split('class="llamabook-thread-turn"')[1:]
    assert STYLE in text(first) and "no result sent" in text(first)
    assert "results sent for" in text(second) and "stray" in text(second) and STYLE not in text(second)
    assert not any(attrs.get("href", "").lower().startswith("javascript") for _, attrs in tags(html))


def test_thread_text_lists_turns_calls_and_results() -> None:
    lines = views.thread_text(hostile_thread()).splitlines()
    assert lines[0] == "Thread · 2 turns · 2 tool calls"
    assert lines[1].startswith("1. resp_a · m") and f"   user: Plan {NAME}" in lines
    assert f"   → {NAME}(" in "\n".join(lines) and "   → get_time()" in lines
    assert any(line.startswith("2. resp_b") for line in lines) and "   ← ?() = stray" in lines


def test_the_thread_type_is_shown_by_the_thread_view() -> None:
    assert reprs.VIEWS["thread"] == (views.thread_text, views.thread_html)
    thread_type = getattr(lb.types, "Thread", None)
    if thread_type is None:  # the Thread type is not there yet: a stand-in that names the view
        thread_type = type("Thread", (FakeThread, lb.types.base.NotebookRepr), {"notebook_view": "thread"})
    fake = hostile_thread()
    kwargs: dict[str, Any] = {"turns": tuple(fake.turns)}
    try:
        thread = thread_type(**kwargs)
    except TypeError:
        thread = thread_type(fake.turns)
    bundle = thread._repr_mimebundle_()
    assert 'class="llamabook-thread"' in bundle["text/html"] and bundle["text/plain"].startswith("Thread · 2 turns")
    assert_inert(bundle["text/html"])


def test_the_input_section_names_tool_messages_by_their_call() -> None:
    trace = {"messages": [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": NAME, "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_0", "content": STYLE},
    ]}  # fmt: skip
    section = views.response_sections(response([message("ok")], trace=trace))["input"]
    assert_inert(section)
    shown = text(section)
    assert f"→ {NAME}(city='Paris')" in shown and "tool call_0" in shown and STYLE in shown
