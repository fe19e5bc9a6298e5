"""checks.called and checks.no_tool_call: a grid's tool calls judged, an error (never a fail) without tools."""

from __future__ import annotations

import json

import pytest

import llamabook as lb
from llamabook.evaluation import checks
from llamabook.evaluation.check_base import CheckInput
from llamabook.grid.lines import chat_body, chat_tool, chat_tool_choice, result_of
from llamabook.types.requests import ResponseRequest


def result(calls: list[dict[str, str]] | None) -> CheckInput:
    return CheckInput.from_values({"output_text": "", "status": "completed", "tool_calls": None if calls is None else json.dumps(calls)})


WEATHER = {"name": "get_weather", "arguments": '{"city": "Cork", "unit": "C"}', "call_id": "call_1"}


def test_called_matches_the_name_and_the_expected_arguments_among_others() -> None:
    row = {"city": "Cork", "town": "Sligo"}
    assert checks.called("get_weather")(row, result([WEATHER])) is True
    assert checks.called("get_weather", city="Cork")(row, result([WEATHER])) is True
    assert checks.called("get_weather", city=checks.column("city"))(row, result([WEATHER])) is True
    assert checks.called("get_weather", city=checks.column("town"))(row, result([WEATHER])) is False
    assert checks.called("get_weather", city="Cork", unit="F")(row, result([WEATHER])) is False
    assert checks.called("get_time")(row, result([WEATHER])) is False
    assert checks.called("get_weather")(row, result([])) is False  # an answer in text
    bad_json = {**WEATHER, "arguments": "{city: Cork"}
    assert checks.called("get_weather", city="Cork")(row, result([bad_json])) is False
    assert checks.called("get_weather", city=checks.column("city")).reads() == ["city"]


def test_no_tool_call_passes_on_text_and_fails_on_a_call() -> None:
    assert checks.no_tool_call()({}, result([])) is True
    assert checks.no_tool_call()({}, result([WEATHER])) is False


def test_without_tools_the_checks_raise_so_the_cell_is_an_error_not_a_fail() -> None:
    outcome = checks.called("get_weather").evaluate({}, result(None), None)
    assert outcome.value is None and outcome.error is not None and "run the grid with tools=" in outcome.error
    assert checks.no_tool_call().evaluate({}, result(None), None).value is None


def test_bad_called_arguments_are_refused() -> None:
    with pytest.raises(lb.InvalidRequest, match="called\\(\\) takes a function name"):
        checks.called("")


def test_batch_lines_carry_tools_in_chat_form_and_read_calls_back() -> None:
    tool = {"type": "function", "name": "get_weather", "description": "Weather.", "parameters": {"type": "object"}, "strict": None}
    assert chat_tool(tool) == {"type": "function", "function": {"name": "get_weather", "description": "Weather.", "parameters": {"type": "object"}}}
    assert chat_tool_choice({"type": "function", "name": "get_weather"}) == {"type": "function", "function": {"name": "get_weather"}}
    assert chat_tool_choice("required") == "required"
    request = ResponseRequest(model="m", input="Weather in Cork?", tools=[tool], tool_choice="required")
    body = chat_body(request, lambda file_id: (b"", ""))
    assert body["tools"][0]["function"]["name"] == "get_weather" and body["tool_choice"] == "required"
    line = {"custom_id": "k", "response": {"status_code": 200, "body": {"choices": [{"finish_reason": "tool_calls", "message": {
        "content": None, "tool_calls": [{"id": "call_9", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Cork\"}"}}]}}]}}}
    _, read = result_of(line, "batch_1")  # type: ignore[misc]
    assert json.loads(read["tool_calls"]) == [{"name": "get_weather", "arguments": "{\"city\": \"Cork\"}", "call_id": "call_9"}]
    assert read["tool_name"] == "get_weather" and read["output_text"] == ""
