"""Function tools on the real embedded model: a call decoded under the tools' schemas (required, named), text or
a call (auto), no tools (none), a call's result in the next turn, and a recorded tool conversation replayed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest

import llamabook as lb
from llamabook.engines.embedded import EmbeddedEngine
from llamabook.schemas import validate

MAX_OUTPUT_TOKENS = 48


def get_weather(city: str, unit: Literal["C", "F"] = "C") -> str:
    """The weather now in a city.

    Args:
        city: the city's name
    """
    return f"{city}: 12 {unit}"


def convert_currency(amount: float, from_currency: str, to_currency: str) -> str:
    """Convert an amount of money from one currency to another."""
    return "1.0"


TOOLS = [get_weather, convert_currency]
SCHEMAS = {tool.name: tool.parameters for tool in map(lb.function_tool, TOOLS)}


def _valid_call(call: lb.FunctionCall) -> dict:
    arguments = json.loads(call.arguments)  # parses, whatever the model wanted to write
    assert validate(arguments, SCHEMAS[call.name]) == [], call.arguments
    return arguments


@pytest.mark.parametrize(
    ("text", "choice", "name"),
    [
        ("What's the weather in Paris?", "required", None),
        ("Convert 100 US dollars to euros.", "required", None),
        ("What's the weather in Paris?", {"type": "function", "name": "convert_currency"}, "convert_currency"),
        ("Convert 100 US dollars to euros.", "get_weather", "get_weather"),
    ],
)
def test_required_or_named_is_one_call_whose_arguments_validate(
    client: lb.Client, text: str, choice: str | dict, name: str | None
) -> None:
    response = client.responses.create(input=text, tools=TOOLS, tool_choice=choice, max_output_tokens=MAX_OUTPUT_TOKENS)
    assert response.status == "completed" and response.output_text == ""
    [call] = response.tool_calls
    assert call.name == (name or call.name) and call.name in SCHEMAS
    _valid_call(call)
    assert call.call_id == "call_" + response.id.removeprefix("resp_")


def test_required_writes_the_same_call_every_time(client: lb.Client) -> None:
    """Greedy under a grammar: the same bytes for the same request (and, with this build, on every machine)."""
    ask = dict(input="What's the weather in Paris?", tools=TOOLS, tool_choice="required", max_output_tokens=MAX_OUTPUT_TOKENS)
    first, second = client.responses.create(**ask), client.responses.create(**ask)
    assert first.tool_calls[0].arguments == second.tool_calls[0].arguments
    assert _valid_call(first.tool_calls[0])["city"] == "Paris"  # measured on the pinned AVX2 build


def test_auto_is_text_or_a_valid_call(client: lb.Client) -> None:
    for text in ("What's the weather in Paris?", "What is the capital of Ireland?"):
        response = client.responses.create(input=text, tools=TOOLS, max_output_tokens=MAX_OUTPUT_TOKENS)
        if response.tool_calls:
            _valid_call(response.tool_calls[0])
            assert response.output_text == ""
        else:
            assert response.output_text and not response.output_text.lstrip().startswith("{")
        assert response.rendered_messages[0]["content"].startswith("You can call these tools:\n")


def test_none_gives_the_model_no_tools(client: lb.Client) -> None:
    response = client.responses.create(
        input="What's the weather in Paris?", tools=TOOLS, tool_choice="none", max_output_tokens=16
    )  # fmt: skip
    assert response.tool_calls == [] and response.output_text
    assert response.rendered_messages == [{"role": "user", "content": "What's the weather in Paris?"}]


def test_a_call_result_goes_back_as_a_user_message(client: lb.Client) -> None:
    first = client.responses.create(
        input="What's the weather in Paris?", tools=[get_weather], tool_choice="required", max_output_tokens=MAX_OUTPUT_TOKENS
    )  # fmt: skip
    call = first.tool_calls[0]
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "12 C, rain"}
    second = client.responses.create(
        input=[result], previous_response_id=first.id, tools=[get_weather], tool_choice="none", max_output_tokens=24
    )  # fmt: skip
    assert second.rendered_messages == [
        {"role": "user", "content": "What's the weather in Paris?"},
        {"role": "assistant", "content": json.dumps({"name": "get_weather", "arguments": json.loads(call.arguments)})},
        {"role": "user", "content": "Result of get_weather: 12 C, rain\nAnswer the question with this result, in one sentence."},
    ]
    assert second.tool_calls == [] and second.output_text  # "none": an answer in text


def test_a_recorded_tool_conversation_replays_without_the_model(tmp_path: Path, engine: EmbeddedEngine) -> None:
    cassette = tmp_path / "tools.jsonl"

    def conversation(client: lb.Client) -> list[tuple[str, str, str]]:
        first = client.responses.create(
            input="What's the weather in Paris?", tools=[get_weather], tool_choice="required", max_output_tokens=MAX_OUTPUT_TOKENS
        )  # fmt: skip
        result = {"type": "function_call_output", "call_id": first.tool_calls[0].call_id, "output": "12 C, rain"}
        second = client.responses.create(
            input=[result], previous_response_id=first.id, tools=[get_weather], max_output_tokens=24
        )  # fmt: skip
        return [(r.output_text, *((c.name, c.arguments) for c in r.tool_calls)) for r in (first, second)]  # type: ignore[misc]

    with lb.Client(tmp_path / "a", engine=engine, cassette=cassette, record="new") as client:
        recorded = conversation(client)
    absent = EmbeddedEngine(model_path=str(tmp_path / "no-such-model.gguf"))  # would fail if it had to run
    with lb.Client(tmp_path / "b", engine=absent, cassette=cassette, record="none") as client:
        replayed = conversation(client)
        assert all(r.replayed for r in client.responses.list())
    assert replayed == recorded and recorded[0][1][0] == "get_weather"


def test_a_tool_schema_the_grammar_cant_hold_is_refused_before_any_call(client: lb.Client) -> None:
    tag = {"type": "function", "name": "tag", "parameters": {"type": "object", "properties": {"tags": {"type": "array", "uniqueItems": True}}}}
    with pytest.raises(lb.InvalidTool, match=r"'uniqueItems' at #/properties/tags") as caught:
        client.responses.create(input="Tag it", tools=[tag])
    assert caught.value.tool == "tag" and client.responses.list() == []


def test_auto_with_an_output_schema_is_a_call_or_an_answer_under_the_schema(client: lb.Client) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string", "maxLength": 40}}, "required": ["answer"]}
    response = client.responses.create(
        input="What is the capital of Ireland?", tools=TOOLS, max_output_tokens=MAX_OUTPUT_TOKENS,
        text={"format": {"type": "json_schema", "name": "answer", "schema": schema}},
    )  # fmt: skip
    assert response.status == "completed"
    if response.tool_calls:  # measured: the model starts a JSON object, and it is a call
        _valid_call(response.tool_calls[0])
    else:
        assert validate(json.loads(response.output_text), schema) == []
