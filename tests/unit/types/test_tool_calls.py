"""The function-call items of a Response, in the wire form Llama Stack, OGX and OpenAI share: typed in the
output, listed by ``Response.tool_calls``, their arguments read as a dict; a call's result as an input item."""

from __future__ import annotations

import json

import pytest

import llamabook as lb
from llamabook.types import (
    STREAM_EVENT_ADAPTER,
    FunctionCall,
    FunctionCallOutput,
    InputItem,
    OutputItemDone,
    OutputMessage,
    Response,
)

#: A response as a Responses server returns it when the model calls a tool (OpenAI's shape, which
#: Llama Stack 0.7 and OGX 1.5 share: a function_call item next to a message, tools echoed).
SERVER_JSON = {
    "id": "resp_8d35355d-90dc-4321-8f6a-8985cd43f591", "object": "response", "created_at": 1_765_000_000,
    "status": "completed", "model": "llama-cpp/smollm2", "previous_response_id": None,
    "output": [
        {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "Let me look.", "annotations": [], "logprobs": []}]},
        {"type": "function_call", "id": "fc_1", "call_id": "call_a1", "name": "get_weather",
         "arguments": "{\"city\": \"Cork\", \"days\": 2}", "status": "completed"},
        {"type": "function_call", "id": "fc_2", "call_id": "call_b2", "name": "get_time", "arguments": "",
         "status": "completed"},
        {"type": "web_search_call", "id": "ws_1", "status": "completed"},
    ],
    "tools": [{"type": "function", "name": "get_weather", "description": "Weather.",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}, "strict": None}],
    "tool_choice": "auto", "parallel_tool_calls": True, "temperature": 1.0,
    "text": {"format": {"type": "text"}},
    "usage": {"input_tokens": 40, "output_tokens": 12, "total_tokens": 52,
              "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}},
}  # fmt: skip


def test_function_call_items_are_typed_and_listed_in_order() -> None:
    response = Response.model_validate(SERVER_JSON)
    kinds = [type(item) for item in response.output]
    assert kinds == [OutputMessage, FunctionCall, FunctionCall, dict]  # an item llamabook doesn't model stays a dict
    calls = response.tool_calls
    assert [(c.call_id, c.name, c.id, c.status) for c in calls] == [
        ("call_a1", "get_weather", "fc_1", "completed"), ("call_b2", "get_time", "fc_2", "completed"),
    ]  # fmt: skip
    assert calls[0].parsed_arguments() == {"city": "Cork", "days": 2}
    assert calls[1].parsed_arguments() == {}  # no arguments: an empty object
    assert response.output_text == "Let me look."  # the calls are not text
    assert response.tool_choice == "auto" and response.tools == SERVER_JSON["tools"]
    assert Response.model_validate(json.loads(response.model_dump_json())).model_dump() == response.model_dump()
    assert json.loads(response.model_dump_json())["output"] == SERVER_JSON["output"]  # the wire form, unchanged


def test_a_response_without_calls_has_none() -> None:
    plain = Response.model_validate({**SERVER_JSON, "output": SERVER_JSON["output"][:1]})
    assert plain.tool_calls == []


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [("{\"city\": \"Cork\"", "not JSON"), ("[1, 2]", "a JSON list"), ("\"Cork\"", "a JSON str")],
)
def test_arguments_that_are_not_a_json_object_are_a_typed_error(arguments: str, reason: str) -> None:
    call = FunctionCall(call_id="call_1", name="get_weather", arguments=arguments)
    with pytest.raises(lb.ToolArgumentsInvalid) as caught:
        call.parsed_arguments()
    message = str(caught.value)
    assert "'get_weather' (call_1)" in message and reason in message and ".arguments" in message
    assert caught.value.arguments == arguments and isinstance(caught.value, ValueError)


def test_a_call_result_is_an_input_item_and_reads_back_as_one() -> None:
    result = FunctionCallOutput(call_id="call_a1", output="12 °C, rain")
    assert result.model_dump(exclude_none=True) == {"type": "function_call_output", "call_id": "call_a1", "output": "12 °C, rain"}
    stored = InputItem.model_validate({"type": "function_call_output", "call_id": "call_a1", "output": "12 °C", "id": "fco_1"})
    assert (stored.type, stored.role, stored.content) == ("function_call_output", None, [])
    assert stored.model_dump(exclude_none=True) == {
        "type": "function_call_output", "id": "fco_1", "content": [], "call_id": "call_a1", "output": "12 °C",
    }  # fmt: skip
    message = InputItem.model_validate({"type": "message", "content": "Hi"})
    assert message.role == "user" and message.content == [{"type": "input_text", "text": "Hi"}]  # as before


def test_a_streamed_function_call_item_is_typed() -> None:
    event = STREAM_EVENT_ADAPTER.validate_python(
        {"type": "response.output_item.done", "sequence_number": 5, "output_index": 1, "item": SERVER_JSON["output"][1]}
    )
    assert isinstance(event, OutputItemDone) and isinstance(event.item, FunctionCall)
    assert event.item.parsed_arguments()["city"] == "Cork"
