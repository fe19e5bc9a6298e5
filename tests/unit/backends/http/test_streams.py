"""``llamabook.backends.http.streams``: a completed answer without the call ``tool_choice`` asked for is
:class:`~llamabook.ToolChoiceIgnored` (live on both servers: tests/integration/test_server_tools.py)."""

from __future__ import annotations

from typing import Any

import pytest

import llamabook as lb
from llamabook.backends.http.streams import ignored_tool_choice
from llamabook.types.requests import ResponseRequest

TOOL = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
NAMED = {"type": "function", "name": "get_weather"}
TEXT = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
        "content": [{"type": "output_text", "text": "Paris is sunny.", "annotations": []}]}  # fmt: skip
CALL = {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"}


def answer(*items: dict[str, Any]) -> lb.Response:
    return lb.Response.model_validate(
        {"id": "resp_1", "created_at": 1, "model": "m", "status": "completed", "output": list(items)}
    )


@pytest.mark.parametrize("choice", ["required", NAMED])
def test_a_text_answer_to_a_call_asked_for_is_tool_choice_ignored(choice: Any) -> None:
    response = answer(TEXT)
    error = ignored_tool_choice(response, ResponseRequest(model="m", tools=[TOOL], tool_choice=choice))
    assert isinstance(error, lb.ToolChoiceIgnored) and isinstance(error, lb.EngineError)
    assert error.response is response and error.raw == "Paris is sunny." and error.choice == choice
    assert not error.retryable and "resp_1" in str(error) and "'name': …" in str(error)


@pytest.mark.parametrize(
    ("choice", "output"),
    [("required", [CALL]), (NAMED, [TEXT, CALL]), ("auto", [TEXT]), ("none", [TEXT]), (None, [TEXT])],
)
def test_a_call_given_or_not_asked_for_is_no_error(choice: Any, output: list[dict[str, Any]]) -> None:
    request = ResponseRequest(model="m", tools=[TOOL], tool_choice=choice)
    assert ignored_tool_choice(answer(*output), request) is None
