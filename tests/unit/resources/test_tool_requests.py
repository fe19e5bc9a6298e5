"""``responses.create(tools=…, tool_choice=…)``: checked before anything is stored or sent, sent to a server in the
Responses API's wire form (against a stand-in server, ``httpx.MockTransport``), refused by the embedded model
(it takes no tools yet) with a typed error, and a response's function calls kept in the home.

The tools themselves: tests/unit/test_tools.py; the items: tests/unit/types/test_tool_calls.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import llamabook as lb
from llamabook.backends import cassette_transport
from llamabook.backends.http.requests import client_rendered_body, request_body
from llamabook.engines.base import GenerationOptions
from llamabook.engines.recorded import _keyed_options
from llamabook.tools import function_tool
from llamabook.types import FunctionCall, FunctionCallOutput, InputItem, OutputMessage, OutputText, Response, ResponseTrace
from llamabook.types.requests import ResponseRequest
from support.scripted_engine import ScriptedEngine

MODEL = "stand-in-model"
BASE_URL = "http://tools.test:8321"
CALL = {"type": "function_call", "id": "fc_1", "call_id": "call_a1", "name": "get_weather",
        "arguments": "{\"city\": \"Cork\"}", "status": "completed"}  # fmt: skip
LOOKUP = {"type": "function", "name": "lookup", "description": "Look a city up.",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}  # fmt: skip


def get_weather(city: str, unit: str = "C") -> str:
    """The weather now in a city.

    Args:
        city: The city's name.
    """
    return f"{city}: 12 {unit}"


def _response(body: dict[str, Any], status: str) -> dict[str, Any]:
    """The response a Responses server makes for ``body``: a call of the first tool when it has tools."""
    output = [CALL] if body.get("tools") and status == "completed" else []
    return {"id": "resp_tools1", "object": "response", "created_at": 1_765_000_000, "status": status, "model": MODEL,
            "output": output, "tools": body.get("tools", []), "tool_choice": body.get("tool_choice", "auto"),
            "previous_response_id": body.get("previous_response_id"), "text": {"format": {"type": "text"}},
            "usage": {"input_tokens": 9, "output_tokens": 4, "total_tokens": 13,
                      "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}}  # fmt: skip


class StandIn:
    """Enough of a Responses server: models, a streamed answer (a function call when given tools), the stored one."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.last: dict[str, Any] = {}

    def __call__(self, request: Any) -> Any:
        httpx = cassette_transport.httpx_module()
        path = request.url.path
        if path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": MODEL, "object": "model", "owned_by": "stand-in"}]})
        if path == "/v1/responses" and request.method == "POST":
            body = json.loads(request.content)
            self.bodies.append(body)
            self.last = _response(body, "completed")
            events = [
                {"type": "response.created", "sequence_number": 0, "response": _response(body, "in_progress")},
                {"type": "response.output_item.done", "sequence_number": 1, "output_index": 0, "item": CALL},
                {"type": "response.completed", "sequence_number": 2, "response": self.last},
            ]  # fmt: skip
            sse = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse.encode())
        if path == "/v1/responses/resp_tools1":
            return httpx.Response(200, json=self.last)
        return httpx.Response(404, json={"detail": f"{path} not found"})


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[lb.Client, StandIn]]:
    """A client on the stand-in server (its HTTP through a cassette whose live side is ``StandIn``)."""
    openai = pytest.importorskip("openai")
    stand_in = StandIn()

    def client(recorder: Any, **options: Any) -> Any:
        transport = cassette_transport.CassetteTransport(recorder, cassette_transport.httpx_module().MockTransport(stand_in))
        return openai.DefaultHttpxClient(transport=transport, **options)

    monkeypatch.setattr(cassette_transport, "recording_http_client", client)
    cassette = tmp_path / "tools.jsonl"
    with lb.Client(tmp_path / "home", base_url=BASE_URL, cassette=cassette, record="new", prompts="local") as c:
        yield c, stand_in


def test_tools_and_tool_choice_are_sent_in_the_wire_form(server: tuple[lb.Client, StandIn]) -> None:
    client, stand_in = server
    response = client.responses.create(
        input="Weather in Cork?", model=MODEL, tools=[get_weather, LOOKUP], tool_choice="get_weather"
    )
    body = stand_in.bodies[-1]
    assert body["tools"] == [function_tool(get_weather).wire, LOOKUP]
    assert body["tools"][0] == {
        "type": "function", "name": "get_weather", "description": "The weather now in a city.",
        "parameters": {"type": "object", "required": ["city"], "properties": {
            "city": {"type": "string", "description": "The city's name."}, "unit": {"type": "string", "default": "C"}}},
        "strict": False,
    }  # fmt: skip
    assert body["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert [(c.name, c.parsed_arguments()) for c in response.tool_calls] == [("get_weather", {"city": "Cork"})]
    assert response.tool_choice == {"type": "function", "name": "get_weather"}  # echoed by the server
    kept = client.responses.retrieve(response.id)
    fields = ("type", "call_id", "name", "arguments", "id", "status")
    assert [{k: getattr(c, k) for k in fields} for c in kept.tool_calls] == [{k: CALL[k] for k in fields}]


def test_a_call_result_goes_back_as_an_input_item_as_given(server: tuple[lb.Client, StandIn]) -> None:
    client, stand_in = server
    result = {"type": "function_call_output", "call_id": "call_a1", "output": "Cork: 12 C"}
    client.responses.create(input=[result], model=MODEL, tools=[get_weather], previous_response_id="resp_tools1")
    body = stand_in.bodies[-1]
    assert body["input"] == [result] and body["previous_response_id"] == "resp_tools1"
    assert "tool_choice" not in body  # not given: the server's default
    client.responses.create(input="Hi", model=MODEL)
    assert "tools" not in stand_in.bodies[-1] and "tool_choice" not in stand_in.bodies[-1]  # old request bytes


def test_bad_tools_send_nothing_and_store_nothing(server: tuple[lb.Client, StandIn]) -> None:
    client, stand_in = server
    with pytest.raises(lb.InvalidTool, match="Two tools are named 'lookup'"):
        client.responses.create(template="Hi {{name}}", variables={"name": "Ann"}, model=MODEL, tools=[LOOKUP, LOOKUP])
    with pytest.raises(lb.InvalidTool, match="tool_choice names 'forecast'"):
        client.responses.create(template="Hi {{name}}", variables={"name": "Ann"}, model=MODEL, tools=[LOOKUP],
                                tool_choice="forecast")  # fmt: skip
    with pytest.raises(lb.InvalidRequest, match=r"input\[0\] \(function_call_output\) has a bad 'call_id'"):
        client.responses.create(input=[{"type": "function_call_output", "output": "x"}], model=MODEL)
    assert stand_in.bodies == [] and client.prompts.list() == []  # no template stored, nothing sent


def test_a_client_rendered_body_keeps_the_tool_items() -> None:
    result = {"type": "function_call_output", "call_id": "call_a1", "output": "Cork: 12 C"}
    call = {"type": "function_call", "call_id": "call_a1", "name": "get_weather", "arguments": "{\"city\": \"Cork\"}"}
    request = ResponseRequest(
        model="gpt-test", input=[{"role": "user", "content": "Weather?"}, call, result],
        prompt=lb.PromptReference(id="pmpt_x", version="1"), prompt_template="You forecast.",
        tools=[LOOKUP], tool_choice="required",
    )  # fmt: skip
    body = client_rendered_body(request)
    assert body["input"] == [{"role": "system", "content": "You forecast."}, {"role": "user", "content": "Weather?"}, call, result]
    assert body["tools"] == [LOOKUP] and body["tool_choice"] == "required"
    assert request_body(request)["input"] == request.input  # by reference: the input as given


# ---- the embedded backend -------------------------------------------------------------------


def test_the_embedded_model_refuses_tools_before_anything_is_stored(quick_client: lb.Client, scripted: ScriptedEngine) -> None:
    with pytest.raises(lb.ToolsUnsupported) as caught:
        quick_client.responses.create(template="Hi {{name}}", variables={"name": "Ann"}, tools=[get_weather])
    assert "not available yet" in str(caught.value) and caught.value.model == scripted.models()[0].id
    result = {"type": "function_call_output", "call_id": "call_a1", "output": "12 C"}
    with pytest.raises(lb.ToolsUnsupported):
        quick_client.responses.create(input=[result])  # a call's result needs a model that takes tools too
    with pytest.raises(lb.InvalidTool):  # a bad tool is named first, whatever the model
        quick_client.responses.create(input="Hi", tools=[get_weather], tool_choice="forecast")
    assert scripted.calls == [] and quick_client.prompts.list() == [] and quick_client.responses.list() == []


class ToolScripted(ScriptedEngine):
    """A scripted engine that takes tools (``engines.base.ToolEngine``): what an engine with tools is given."""

    def check_tools(self, tools: Any, tool_choice: Any, model: str) -> None:
        self.checked = (tools, tool_choice, model)


def test_an_engine_that_takes_tools_gets_them_on_its_options(tmp_path: Path) -> None:
    engine = ToolScripted()
    with lb.Client(tmp_path, engine=engine) as client:
        client.responses.create(input="Weather?", tools=[get_weather], tool_choice="required")
    options = engine.calls[-1].options
    assert options.tools == [function_tool(get_weather).wire] and options.tool_choice == "required"
    assert engine.checked == (options.tools, "required", engine.models()[0].id)


def test_the_cassette_keys_tools_only_when_given() -> None:
    plain = _keyed_options(GenerationOptions())
    assert "tools" not in plain and "tool_choice" not in plain  # every cassette recorded before tools still replays
    keyed = _keyed_options(GenerationOptions(tools=[LOOKUP], tool_choice="auto"))
    assert keyed["tools"] == [LOOKUP] and keyed["tool_choice"] == "auto"


def test_a_response_with_function_calls_round_trips_through_the_home(quick_client: lb.Client) -> None:
    call = FunctionCall.model_validate(CALL)
    response = Response(
        id="resp_calls", created_at=1_765_000_000, status="completed", model="m",
        output=[OutputMessage(id="msg_1", content=[OutputText(text="Looking.")]), call],
        tools=[LOOKUP], tool_choice={"type": "function", "name": "lookup"}, trace=ResponseTrace(latency_s=0.1),
    )  # fmt: skip
    result = InputItem.model_validate(FunctionCallOutput(call_id="call_a1", output="Cork: 12 C").model_dump())
    quick_client.backend.store.responses.save(response, [result])
    back = quick_client.responses.retrieve("resp_calls")
    assert back.tool_calls == [call] and back.tool_calls[0].parsed_arguments() == {"city": "Cork"}
    assert back.output_text == "Looking." and back.tools == [LOOKUP] and back.tool_choice == response.tool_choice
    items = quick_client.responses.input_items("resp_calls")
    assert [(i.type, i.call_id, i.output) for i in items] == [("function_call_output", "call_a1", "Cork: 12 C")]  # type: ignore[attr-defined]
