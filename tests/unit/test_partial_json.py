"""A structured output as it streams: the fields read so far (``llamabook.partial_json``), on the stream,
on each text delta, in ``%%llama --schema``'s live display and in ``ResponseView.follow``.

The reader is tested on every prefix of real JSON texts; the displays on the scripted engine, which
streams its answer a word at a time with a delay, so throttled updates show fields filling in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import llamabook as lb
from llamabook.partial_json import read_partial
from support.magics import in_magics
from support.scripted_engine import ScriptedEngine

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"}, "age": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    "required": ["name", "age", "tags", "address"],
}  # fmt: skip
ANSWER = '{"name": "Ann \\"the <b>bold</b>\\" Lee", "age": 31, "tags": ["chess", "tennis", "go"], "address": {"city": "Cork"}}'
TEXTS = [
    ANSWER,
    '{"a": [1, -2.5e3, true, false, null, {"b": []}], "c": "\\u00e9\\n\\t", "d": {}}',
    '[{"x": 1}, "two", 3.25, [null]]',
    '"just a string"',
    "-17",
]


@pytest.mark.parametrize("text", TEXTS)
def test_every_prefix_reads_as_the_value_so_far_and_the_whole_as_json_does(text: str) -> None:
    final = json.loads(text)
    assert read_partial(text) == final
    seen = [read_partial(text[:end]) for end in range(len(text) + 1)]
    assert seen[0] is None  # nothing written yet
    for value in seen[1:]:
        assert value is None or _grows_into(value, final), (value, final)  # None: a first number not readable yet ("-")


def test_what_is_left_out_while_it_is_being_written() -> None:
    assert read_partial('{"name": "An') == {"name": "An"}  # a string so far
    assert read_partial('{"name"') == {} and read_partial('{"name": ') == {}  # a key whose value hasn't begun
    assert read_partial('{"ok": tr') == {} and read_partial('{"ok": true') == {"ok": True}
    assert read_partial('{"n": 3.') == {"n": 3} and read_partial('{"n": 1e') == {"n": 1}
    assert read_partial('{"s": "caf\\u00') == {"s": "caf"}  # an escape cut off is left out
    assert read_partial('{"s": "a\\') == {"s": "a"}
    assert read_partial("  ") is None and read_partial("[1, 2") == [1, 2]


def _grows_into(value: Any, final: Any) -> bool:
    """Whether ``value`` (read from a prefix) is on its way to ``final``: nothing in it contradicts it."""
    if isinstance(final, dict):
        return isinstance(value, dict) and all(k in final and _grows_into(v, final[k]) for k, v in value.items())
    if isinstance(final, list):
        return isinstance(value, list) and len(value) <= len(final) and all(_grows_into(v, f) for v, f in zip(value, final))
    if isinstance(final, str):
        return isinstance(value, str) and final.startswith(value)
    if isinstance(final, bool) or final is None:
        return value == final
    return isinstance(value, (int, float)) and not isinstance(value, bool)  # a number still being written


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[lb.Client]:
    """A client whose scripted model answers ``ANSWER`` a word every 20 ms."""
    engine = ScriptedEngine(answer=lambda messages: ANSWER)
    engine.delay_s = 0.02
    with lb.Client(tmp_path / "home", engine=engine) as client:
        yield client


def test_the_stream_and_each_delta_carry_the_fields_so_far(slow: lb.Client) -> None:
    stream = slow.responses.create("Describe Ann.", schema=PERSON, stream=True, max_output_tokens=200)
    partials = [event.partial for event in stream if event.type == "response.output_text.delta"]
    final = stream.response.output_parsed
    assert final == json.loads(ANSWER) and stream.partial == final and partials[-1] == final
    assert len({json.dumps(p) for p in partials}) > 5  # it grew, delta by delta
    assert all(_grows_into(p, final) for p in partials)
    plain = slow.responses.create("Describe Ann.", stream=True, max_output_tokens=200)
    deltas = [e for e in plain if e.type == "response.output_text.delta"]
    assert deltas and all(e.partial is None for e in deltas) and plain.partial is None  # no schema: nothing read as JSON


def test_the_llama_magic_shows_the_fields_filling_in(slow: lb.Client, ip: InteractiveShell) -> None:
    for _ in in_magics(slow, ip):
        ip.user_ns["person"] = PERSON
        with capture_output() as captured:
            result = ip.run_cell("%%llama --schema person --max-tokens 200\nDescribe Ann.")
        assert result.error_in_exec is None, result.error_in_exec
        drafts = [o.data for o in captured.outputs if o.update][:-1]  # the last update is the final answer
        assert len(drafts) >= 2
        shown = [json.loads(d["text/plain"]) for d in drafts]
        assert all(_grows_into(value, json.loads(ANSWER)) for value in shown) and len({json.dumps(v) for v in shown}) >= 2
        for draft in drafts:  # the fields as an escaped table: the model's markup stays text
            assert 'class="llamabook-response-parsed"' in draft["text/html"] and "<b>" not in draft["text/html"]
        assert any("&lt;b&gt;bold&lt;/b&gt;" in d["text/html"] for d in drafts)  # the name, escaped, once it is written


def test_the_response_view_follows_a_stream_and_shows_the_final_response(slow: lb.Client) -> None:
    from llamabook.widgets import ResponseView

    view = ResponseView(client=slow)
    seen: list[str] = []
    view.output.observe(lambda change: seen.append(change["new"]), names="value")
    stream = slow.responses.create("Describe Ann.", schema=PERSON, stream=True, max_output_tokens=200)
    response = view.follow(stream)
    assert response is not None and response.output_parsed == json.loads(ANSWER) and view.response is response
    live = [html for html in seen[:-1] if 'class="llamabook-response-parsed"' in html]
    assert len(live) >= 2 and all("<b>" not in html for html in seen)  # fields filled in; markup stays text
    assert "Cork" in seen[-1]  # the final output tab
