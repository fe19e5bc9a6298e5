"""An answer of the embedded backend as a function_call or a message (backends/local/answer.py), with a scripted
engine that takes tools: the items, the stream's events, the call ids, and a call read back into the next turn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import llamabook as lb
from support.scripted_engine import ScriptedEngine

CALL_TEXT = '{"name": "get_weather", "arguments": {"city": "Paris"}}'


def get_weather(city: str) -> str:
    """The weather now in a city."""
    return f"{city}: 12 C"


class Answering(ScriptedEngine):
    """A scripted engine that takes tools and answers ``text`` whatever it is asked."""

    def __init__(self, text: str) -> None:
        super().__init__(answer=lambda messages: text)

    def check_tools(self, tools: Any, tool_choice: Any, model: str) -> None:
        pass


def test_a_call_answer_is_one_function_call_item_with_ids_from_the_response(tmp_path: Path) -> None:
    with lb.Client(tmp_path, engine=Answering(CALL_TEXT)) as client:
        response = client.responses.create(input="Weather in Paris?", tools=[get_weather], tool_choice="required")
        again = client.responses.retrieve(response.id)
    [call] = response.tool_calls
    uuid = response.id.removeprefix("resp_")
    assert (call.call_id, call.id, call.name, call.arguments) == (f"call_{uuid}", f"fc_{uuid}", "get_weather", '{"city": "Paris"}')
    assert call.status == "completed" and response.status == "completed"
    assert response.output == [call] and response.output_text == ""  # output_text joins message text only
    assert again.tool_calls == [call]


def test_a_call_streams_as_openai_streams_one(tmp_path: Path) -> None:
    with lb.Client(tmp_path, engine=Answering(CALL_TEXT)) as client:
        events = list(client.responses.create(input="Weather?", tools=[get_weather], stream=True))
    assert [e.type for e in events] == [
        "response.created", "response.in_progress", "response.output_item.added",
        "response.function_call_arguments.delta", "response.function_call_arguments.done",
        "response.output_item.done", "response.completed",
    ]  # fmt: skip
    added, delta, done, item_done = events[2:6]
    assert added.item.status == "in_progress" and added.item.arguments == ""  # type: ignore[union-attr]
    assert delta.delta == done.arguments == '{"city": "Paris"}'  # type: ignore[union-attr]
    assert item_done.item == events[-1].response.tool_calls[0]  # type: ignore[union-attr]
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_text_under_auto_streams_from_its_first_word_and_json_that_is_no_call_is_a_message(tmp_path: Path) -> None:
    with lb.Client(tmp_path, engine=Answering("It is sunny in Paris today.")) as client:
        events = list(client.responses.create(input="Weather?", tools=[get_weather], stream=True))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]  # type: ignore[union-attr]
    assert deltas == ["It ", "is ", "sunny ", "in ", "Paris ", "today."]  # streamed word by word, not held
    assert events[2].type == "response.output_item.added" and events[-1].response.output_text == "It is sunny in Paris today."  # type: ignore[union-attr]
    with lb.Client(tmp_path / "b", engine=Answering('{"city": "Paris"} is my guess')) as client:
        events = list(client.responses.create(input="Weather?", tools=[get_weather], stream=True))
    response = events[-1].response  # type: ignore[union-attr]
    assert response.tool_calls == [] and response.output_text == '{"city": "Paris"} is my guess'
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]  # type: ignore[union-attr]
    assert deltas == ['{"city": "Paris"} is my guess']  # held while it might be a call, then let go at once
    assert [e.type for e in events][2:4] == ["response.output_item.added", "response.content_part.added"]


def test_with_none_a_call_shaped_answer_stays_text_and_the_tools_stay_out(tmp_path: Path) -> None:
    engine = Answering(CALL_TEXT)
    with lb.Client(tmp_path, engine=engine) as client:
        response = client.responses.create(input="Weather?", tools=[get_weather], tool_choice="none")
    assert response.tool_calls == [] and response.output_text == CALL_TEXT
    assert engine.calls[-1].system == [] and engine.calls[-1].options.tool_choice == "none"


def test_the_next_turn_sees_the_call_and_its_result_in_plain_chatml(tmp_path: Path) -> None:
    engine = Answering(CALL_TEXT)
    with lb.Client(tmp_path, engine=engine) as client:
        first = client.responses.create(input="Weather in Paris?", tools=[get_weather], instructions="Be brief.")
        result = {"type": "function_call_output", "call_id": first.tool_calls[0].call_id, "output": "12 C, rain"}
        second = client.responses.create(input=[result], previous_response_id=first.id, tools=[get_weather])
    messages = engine.calls[-1].messages
    assert messages[0]["role"] == "system" and messages[0]["content"].startswith("You can call these tools:\n")
    assert messages[1:] == [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": CALL_TEXT},
        {"role": "user", "content": "Result of get_weather: 12 C, rain\nAnswer the question with this result, in one sentence."},
    ]
    assert second.rendered_messages == messages  # the trace holds what the model saw


def test_an_engine_without_tools_still_refuses_them(quick_client: lb.Client) -> None:
    with pytest.raises(lb.ToolsUnsupported):
        quick_client.responses.create(input="Weather?", tools=[get_weather])
