"""Function tools on the suite's real servers, Llama Stack 0.7.3 and OGX 1.5.0, each with llama-cpp-python's
server (SmolLM2-135M, no ``--chat_format``) as its inference provider.

What that upstream does with each ``tool_choice`` (docs/servers.md, Tools): a named function is decoded
under its schema (a ``function_call`` item); ``"required"`` is ignored (a text answer), which llamabook
raises as :class:`~llamabook.ToolChoiceIgnored` with the response kept. The tiny model's words vary: the
tests assert structure, not text. The request checks before sending: tests/unit/test_tools.py.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import llamabook as lb
from llamabook.cassette import forget
from support.servers import Server

SERVERS = ["llama_stack_server", "ogx_server"]
NAMED = {"type": "function", "name": "get_weather"}
ASK = "What is the weather in Paris? Use the tool."
pytestmark = pytest.mark.server


def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue(request.param)


@pytest.fixture
def client(tmp_path: Path, server: Server) -> Iterator[lb.Client]:
    with lb.Client(tmp_path / "home", base_url=server.url) as c:
        yield c


def server_kind(client: lb.Client) -> str:
    return client.server.kind


def calls(response: lb.Response) -> list[tuple[str, str, str]]:
    """The calls of a response (a stored one also has the server's extra fields, async_, caller, …)."""
    return [(c.call_id, c.name, c.arguments) for c in response.tool_calls]


def test_a_named_function_is_called_answered_and_stored_with_its_tools(client: lb.Client) -> None:
    response = client.responses.create(ASK, tools=[get_weather], tool_choice=NAMED, temperature=0, max_output_tokens=64)
    assert response.status == "completed"
    call = response.tool_calls[0]
    assert call.name == "get_weather" and call.call_id
    arguments = call.parsed_arguments()
    assert set(arguments) == {"city"} and isinstance(arguments["city"], str)
    # The result goes back as a function_call_output input item, continuing the conversation.
    answer = client.responses.create(
        [{"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 °C"}],
        previous_response_id=response.id, tools=[get_weather], temperature=0, max_output_tokens=16,
    )  # fmt: skip
    assert answer.status in ("completed", "incomplete")
    if server_kind(client) == "ogx":  # Llama Stack 0.7.3 leaves previous_response_id out of its answer
        assert answer.previous_response_id == response.id
    assert answer.tool_calls == []  # no tool_choice now: this upstream answers in text
    stored = client.responses.retrieve(response.id)
    assert [(t["type"], t["name"]) for t in stored.tools or []] == [("function", "get_weather")]
    assert stored.tools[0]["parameters"]["properties"] == {"city": {"type": "string"}}
    assert stored.tool_choice == NAMED and calls(stored) == calls(response)


def test_required_is_ignored_upstream_and_raised_with_the_response(client: lb.Client) -> None:
    with pytest.raises(lb.ToolChoiceIgnored) as caught:
        client.responses.create(ASK, tools=[get_weather], tool_choice="required", temperature=0, max_output_tokens=16)
    error = caught.value
    assert isinstance(error, lb.EngineError) and not error.retryable and error.choice == "required"
    assert "tool_choice={'type': 'function', 'name': …}" in str(error) and error.response.id in str(error)
    assert error.response.status in ("completed",) and error.response.tool_calls == []
    assert error.raw == error.response.output_text
    assert client.responses.retrieve(error.response.id).tool_choice == "required"  # sent, stored by the server


def test_a_function_call_output_with_no_call_is_the_servers_invalid_request(client: lb.Client) -> None:
    orphan = [{"type": "function_call_output", "call_id": "call_nowhere", "output": "sunny"}]
    with pytest.raises(lb.InvalidRequest, match="no corresponding function_call"):
        client.responses.create(orphan, tools=[get_weather], max_output_tokens=16)


def test_recorded_tool_calls_replay_with_no_server(tmp_path: Path, llama_stack_server: Server) -> None:
    """A named call and an ignored "required" replay (each recording once); streamed, the ignored choice is the
    stream's ``.error`` and nothing is raised."""
    cassette = tmp_path / "tools.jsonl"
    options = {"tools": [get_weather], "temperature": 0, "max_output_tokens": 64}
    with lb.Client(tmp_path / "rec", base_url=llama_stack_server.url, cassette=cassette, record="all") as c:
        recorded = c.responses.create(ASK, tool_choice=NAMED, **options)
        with pytest.raises(lb.ToolChoiceIgnored) as caught:
            c.responses.create(ASK, tool_choice="required", **options)
    forget(cassette)
    with socket.socket() as s:  # a port where nothing listens: a request reaching the network would fail
        s.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{s.getsockname()[1]}"
    with lb.Client(tmp_path / "replay", base_url=nowhere, cassette=cassette, record="none") as c:
        replayed = c.responses.create(ASK, tool_choice=NAMED, **options)
        stream = c.responses.create(ASK, tool_choice="required", stream=True, **options)
        events = [event.type for event in stream]
    assert recorded.tool_calls and replayed.replayed
    assert calls(replayed) == calls(recorded) and replayed.id == recorded.id
    assert events[-1] == "response.completed" and isinstance(stream.error, lb.ToolChoiceIgnored)
    assert stream.response.replayed and stream.response.tool_calls == []
    assert stream.response.id == caught.value.response.id and stream.error.response is stream.response
