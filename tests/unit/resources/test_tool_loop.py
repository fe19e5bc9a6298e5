"""``client.responses.run``: the tool loop run by the client, ``client.responses.thread``, and their async twins.

The model is a scripted engine that takes tools (``ToolScriptedEngine``): given tools, it answers what
the test's ``tool_answer`` says, a call or text, through the embedded backend (which reads a call's text
as a ``function_call`` item). Each request it got is in ``engine.calls``, with its ``options.tool_choice``.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pydantic
import pytest

import llamabook as lb
from llamabook.resources.tool_loop import ToolLoopStream, error_text, invoke, plan_run, result_text, start_run
from llamabook.tools import function_tool
from llamabook.types import FunctionCall, OutputMessage, OutputText, Response, Thread, ToolCallEvent, ToolResultEvent
from support.scripted_engine import ToolScriptedEngine, text_of

CORK = {"name": "get_weather", "arguments": {"city": "Cork"}}


def get_weather(city: str, unit: Literal["C", "F"] = "C") -> str:
    """The weather now in a city.

    Args:
        city: The city's name.
    """
    if city == "Atlantis":
        raise ValueError("no weather under the sea")
    return f"{city}: 12 {unit}"


def last_text(messages: list[dict[str, Any]]) -> str:
    return text_of(messages[-1]["content"])


def call_then_answer(call: dict[str, Any] = CORK) -> Any:
    """A model that calls ``call`` first, then (once a call is in its history) answers with the last message: the result."""

    def answer(messages: list[dict[str, Any]], options: Any) -> Any:
        return f"Answer from: {last_text(messages)}" if called(messages) else call

    return answer


def called(messages: list[dict[str, Any]]) -> bool:
    """True once the history holds an answer of the model's (its call), however the backend words it."""
    return any(message["role"] == "assistant" for message in messages)


def always(call: dict[str, Any] = CORK) -> Any:
    return lambda messages, options: call


@pytest.fixture
def engine() -> ToolScriptedEngine:
    return ToolScriptedEngine(tool_answer=call_then_answer())


@pytest.fixture
def client(tmp_path: Path, engine: ToolScriptedEngine) -> Iterator[lb.Client]:
    with lb.Client(tmp_path / "home", engine=engine) as made:
        yield made


def loop_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, lb.ToolLoopWarning)]


# ---- the loop -----------------------------------------------------------------------------


def test_a_call_its_result_and_the_answer_make_a_chain_of_two(client: lb.Client, engine: ToolScriptedEngine) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        final = client.responses.run(input="Weather in Cork?", tools=[get_weather])
    assert loop_warnings(caught) == []
    assert final.tool_calls == [] and "Cork: 12 C" in final.output_text and final.tool_rounds_exhausted is False
    first = client.responses.retrieve(final.previous_response_id)  # type: ignore[arg-type]
    assert [(c.name, c.parsed_arguments()) for c in first.tool_calls] == [("get_weather", {"city": "Cork"})]
    assert first.previous_response_id is None and len(engine.calls) == 2
    sent = client.responses.input_items(final.id, order="asc")
    assert [(i.type, i.call_id, i.output) for i in sent] == [  # type: ignore[attr-defined]
        ("function_call_output", first.tool_calls[0].call_id, "Cork: 12 C")
    ]
    assert "Cork: 12 C" in last_text(engine.calls[1].messages)  # the result reached the model
    assert engine.calls[1].options.tools == [function_tool(get_weather).wire]  # the tools every round


def test_a_function_that_raises_sends_its_error_text_and_the_loop_goes_on(tmp_path: Path) -> None:
    engine = ToolScriptedEngine(tool_answer=call_then_answer({"name": "get_weather", "arguments": {"city": "Atlantis"}}))
    with lb.Client(tmp_path, engine=engine) as client, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        final = client.responses.run(input="Weather in Atlantis?", tools=[get_weather])
        sent = client.responses.input_items(final.id)
    error = "Error: ValueError: no weather under the sea"
    assert [i.output for i in sent] == [error]  # type: ignore[attr-defined]
    assert error in final.output_text and final.status == "completed"
    assert len(loop_warnings(caught)) == 1 and "'get_weather'" in loop_warnings(caught)[0]
    assert "ValueError: no weather under the sea" in loop_warnings(caught)[0]


def test_arguments_are_validated_and_converted_before_the_function_runs(tmp_path: Path) -> None:
    got: list[tuple[Any, ...]] = []

    def repeat(word: str, times: int) -> str:
        got.append((word, times))
        return word * times

    bad = {"name": "repeat", "arguments": {"word": "ab", "times": "many"}}
    engine = ToolScriptedEngine(tool_answer=call_then_answer(bad))
    with lb.Client(tmp_path, engine=engine) as client, pytest.warns(lb.ToolLoopWarning, match="ValidationError"):
        final = client.responses.run(input="Repeat", tools=[repeat])
        sent = client.responses.input_items(final.id)
    assert got == []  # never called with what doesn't validate
    assert sent[0].output.startswith("Error: ValidationError: times: ")  # type: ignore[attr-defined]
    assert "\n" not in sent[0].output and "errors.pydantic.dev" not in sent[0].output  # type: ignore[attr-defined]
    engine.tool_answer = call_then_answer({"name": "repeat", "arguments": {"word": "ab", "times": "3"}})
    with lb.Client(tmp_path, engine=engine) as client:
        final = client.responses.run(input="Repeat", tools=[repeat])
    assert got == [("ab", 3)] and "ababab" in final.output_text  # "3" converted to the int the hint says


def test_what_a_call_returns_and_raises_as_text() -> None:
    tool = function_tool(get_weather)
    bad_json = FunctionCall(call_id="c1", name="get_weather", arguments="{city: Cork")
    with pytest.raises(lb.ToolArgumentsInvalid) as caught:
        invoke(tool, bad_json)
    assert error_text(caught.value).startswith("ToolArgumentsInvalid: The arguments of the call to 'get_weather'")
    with pytest.raises(pydantic.ValidationError) as invalid:
        invoke(tool, FunctionCall(call_id="c2", name="get_weather", arguments='{"city": "Cork", "unit": "K"}'))
    assert error_text(invalid.value) == "ValidationError: unit: Input should be 'C' or 'F'"
    assert invoke(tool, FunctionCall(call_id="c3", name="get_weather", arguments='{"city": "Oslo", "unit": "F"}')) == "Oslo: 12 F"
    assert result_text("plain") == "plain" and result_text({"t": 12, "ok": True}) == '{"t":12,"ok":true}'
    assert result_text(None) == "null" and error_text(KeyError()) == "KeyError"

    class Reading(pydantic.BaseModel):
        city: str
        celsius: float

    assert result_text(Reading(city="Cork", celsius=12)) == '{"city":"Cork","celsius":12.0}'
    assert result_text({"at": object}) == json.dumps({"at": str(object)}, separators=(",", ":"))  # str for the rest

    async def later(city: str) -> dict[str, Any]:
        """An async tool."""
        await asyncio.sleep(0)
        return {"city": city}

    assert invoke(function_tool(later), FunctionCall(call_id="c4", name="later", arguments='{"city": "Cork"}')) == {"city": "Cork"}


def test_every_call_of_an_answer_runs_in_order_and_their_results_go_back_together() -> None:
    """Servers may ask for several calls in one answer (the embedded model asks for one): a stand-in ``create``."""
    calls = [FunctionCall(call_id="c1", name="get_weather", arguments='{"city": "Cork"}'),
             FunctionCall(call_id="c2", name="forecast", arguments="{}"),
             FunctionCall(call_id="c3", name="get_weather", arguments='{"city": "Oslo"}')]  # fmt: skip
    answers = iter([calls, [OutputMessage(id="m1", content=[OutputText(text="Done.")])]])
    sent: list[tuple[Any, dict[str, Any]]] = []

    def create(input: Any, **options: Any) -> Response:
        sent.append((input, options))
        return Response(id=f"resp_{len(sent)}", created_at=0, status="completed", model="m", output=next(answers))

    plan = plan_run([get_weather], "required", 4, False, {"model": "m", "prompt": "p1"}, frozenset({"model", "prompt"}))
    with pytest.warns(lb.ToolLoopWarning, match="There is no tool named 'forecast'"):
        final = start_run(create, "Weather?", plan, stream=False)
    assert final.output_text == "Done." and [s[0] for s in sent][0] == "Weather?"
    assert sent[1][0] == [
        {"type": "function_call_output", "call_id": "c1", "output": "Cork: 12 C"},
        {"type": "function_call_output", "call_id": "c2",
         "output": "Error: InvalidTool: There is no tool named 'forecast'; the tools are ['get_weather']"},
        {"type": "function_call_output", "call_id": "c3", "output": "Oslo: 12 C"},
    ]  # fmt: skip
    first, later = sent[0][1], sent[1][1]
    assert (first["prompt"], first["tool_choice"], first["stream"]) == ("p1", "required", False)
    assert "prompt" not in later and later["tool_choice"] is None and later["previous_response_id"] == "resp_1"
    assert later["model"] == "m" and [t.name for t in later["tools"]] == ["get_weather"]


def test_the_loop_stops_at_max_tool_rounds_with_a_marker_and_a_warning(tmp_path: Path) -> None:
    ran: list[str] = []

    def ping(host: str) -> str:
        ran.append(host)
        return "pong"

    engine = ToolScriptedEngine(tool_answer=always({"name": "ping", "arguments": {"host": "a"}}))
    with lb.Client(tmp_path, engine=engine) as client, pytest.warns(lb.ToolLoopWarning, match="max_tool_rounds=2") as caught:
        final = client.responses.run(input="Ping", tools=[ping], max_tool_rounds=2)
    assert ran == ["a", "a"] and len(engine.calls) == 3  # two rounds of calls run, the third answer's not
    assert final.tool_rounds_exhausted is True and [c.name for c in final.tool_calls] == ["ping"]
    assert final.id in str(caught[0].message)
    assert "tool_rounds_exhausted" not in final.model_dump()  # client-side: never sent nor stored


def test_tool_choice_goes_with_the_first_request_only_unless_every_round(tmp_path: Path) -> None:
    engine = ToolScriptedEngine(tool_answer=call_then_answer())
    with lb.Client(tmp_path, engine=engine) as client:
        client.responses.run(input="Weather?", tools=[get_weather], tool_choice="get_weather")
        assert [c.options.tool_choice for c in engine.calls] == [{"type": "function", "name": "get_weather"}, None]
        engine.calls.clear()
        client.responses.run(input="Weather?", tools=[get_weather], tool_choice="auto", tool_choice_every_round=True)
        assert [c.options.tool_choice for c in engine.calls] == ["auto", "auto"]


def test_later_requests_keep_the_options_but_not_what_the_first_ran(client: lb.Client, engine: ToolScriptedEngine) -> None:
    final = client.responses.run(
        input="Go.", template="You forecast {{city}}.", name="weather", variables={"city": "Cork"}, tools=[get_weather],
        instructions="Be brief.", temperature=0.5, metadata={"run": "t1"},
    )  # fmt: skip
    first, second = engine.calls
    assert "You forecast Cork." in " ".join(first.system) and "Be brief." in " ".join(first.system)
    assert "Be brief." in " ".join(second.system) and second.options.temperature == 0.5  # instructions every round
    assert "You forecast Cork." not in " ".join(second.system)  # as a server: the prompt's system text not replayed
    assert final.metadata == {"run": "t1"} and final.prompt is None  # the prompt ran in the first request only
    assert [p.name for p in client.prompts.list()] == ["weather"]  # the template stored once


def test_a_schema_parses_the_final_answer_not_the_call(tmp_path: Path) -> None:
    class Verdict(pydantic.BaseModel):
        city: str

    def answer(messages: list[dict[str, Any]], options: Any) -> Any:
        return '{"city": "Cork"}' if called(messages) else CORK

    engine = ToolScriptedEngine(tool_answer=answer)
    with lb.Client(tmp_path, engine=engine) as client:
        final = client.responses.run(input="Which city?", tools=[get_weather], schema=Verdict)
        first = client.responses.retrieve(final.previous_response_id)  # type: ignore[arg-type]
    assert final.output_parsed == Verdict(city="Cork") and first.output_parsed is None and first.tool_calls


def test_a_previous_response_id_chain_of_three(tmp_path: Path) -> None:
    answers = iter([CORK, {"name": "get_weather", "arguments": {"city": "Oslo"}}, "Both done."])
    engine = ToolScriptedEngine(tool_answer=lambda messages, options: next(answers))
    with lb.Client(tmp_path, engine=engine) as client:
        final = client.responses.run(input="Cork, then Oslo", tools=[get_weather])
        chain, at = [], final
        while at.previous_response_id:
            chain.append(at.previous_response_id)
            at = client.responses.retrieve(at.previous_response_id)
        thread = client.responses.thread(final.id)
    assert final.output_text == "Both done." and len(chain) == 2
    assert [r.id for r in thread.responses] == [*reversed(chain), final.id]
    assert [(s.call.parsed_arguments()["city"], s.output, s.answered_in) for s in thread.steps] == [
        ("Cork", "Cork: 12 C", chain[0]), ("Oslo", "Oslo: 12 C", final.id)
    ]  # fmt: skip


# ---- bad inputs, typed before anything is sent or stored ------------------------------------

LOOKUP = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}


@pytest.mark.parametrize(
    ("arguments", "error", "fragment"),
    [
        ({"max_tool_rounds": 0}, lb.InvalidRequest, "max_tool_rounds must be a whole number from 1 up, not 0"),
        ({"max_tool_rounds": True}, lb.InvalidRequest, "max_tool_rounds must be"),
        ({"max_tool_rounds": 2.5}, lb.InvalidRequest, "max_tool_rounds must be"),
        ({"tool_choice_every_round": "yes"}, lb.InvalidRequest, "tool_choice_every_round must be True or False"),
        ({"tools": [get_weather, LOOKUP]}, lb.InvalidTool, "['lookup'] was given in the wire form"),
        ({"tools": None}, lb.InvalidTool, "run() needs tools="),
        ({"store": False}, lb.InvalidRequest, "leave store=True"),
        ({"tools": [get_weather], "tool_choice": "forecast"}, lb.InvalidTool, "tool_choice names 'forecast'"),
        ({"temperature": 7}, lb.InvalidRequest, "temperature must be a number between 0 and 2"),
        ({"colour": "red"}, TypeError, "run() got unexpected keyword argument(s) ['colour']"),
    ],
)
def test_bad_run_arguments_raise_before_any_call(
    client: lb.Client, engine: ToolScriptedEngine, arguments: dict[str, Any], error: type[Exception], fragment: str
) -> None:
    given = {"tools": [get_weather], **arguments}
    with pytest.raises(error) as caught:
        client.responses.run(input="Weather?", **given)
    assert fragment in str(caught.value)
    assert engine.calls == [] and client.responses.list() == []


# ---- threads --------------------------------------------------------------------------------


def test_a_thread_lists_the_turns_oldest_first(client: lb.Client) -> None:
    final = client.responses.run(input="Weather in Cork?", tools=[get_weather])
    more = client.responses.create(input="And tomorrow?", previous_response_id=final.id)
    thread = client.responses.thread(more.id)
    assert isinstance(thread, Thread) and thread.notebook_view == "thread" and len(thread) == 3
    assert [r.id for r in thread.responses] == [final.previous_response_id, final.id, more.id] and thread.id == more.id
    first, second, third = thread.turns
    assert [i.role for i in first.input] == ["user"] and first.tool_calls[0].name == "get_weather"
    assert [i.type for i in second.input] == ["function_call_output"] and second.tool_outputs[0].output == "Cork: 12 C"  # type: ignore[attr-defined]
    assert third.input[0].content[0]["text"] == "And tomorrow?" and thread.truncated_at is None
    frame = thread.to_pandas()
    assert list(frame.columns) == ["turn", "response_id", "side", "type", "role", "name", "call_id", "text"]
    assert list(zip(frame["turn"], frame["side"], frame["type"])) == [
        (1, "input", "message"), (1, "output", "function_call"), (2, "input", "function_call_output"),
        (2, "output", "message"), (3, "input", "message"), (3, "output", "message"),
    ]  # fmt: skip
    text = repr(thread)
    assert text.startswith(f"<Thread {more.id}: 3 turns, 1 tool call>")
    assert "out function_call get_weather: '{\"city\": \"Cork\"}'" in text and "in  function_call_output: 'Cork: 12 C'" in text


def test_a_thread_whose_start_was_deleted_says_where_it_stops(client: lb.Client) -> None:
    final = client.responses.run(input="Weather in Cork?", tools=[get_weather])
    first_id = final.previous_response_id
    assert first_id is not None
    client.responses.delete(first_id)
    thread = client.responses.thread(final.id)
    assert [r.id for r in thread.responses] == [final.id] and thread.truncated_at == first_id
    assert f"starts after {first_id} (not found)" in repr(thread)
    assert thread.steps == [] and thread.turns[0].tool_outputs[0].output == "Cork: 12 C"  # type: ignore[attr-defined]
    with pytest.raises(lb.ResponseNotFound):
        client.responses.thread(first_id)


def test_a_thread_of_one_response_and_the_last_calls_unanswered(tmp_path: Path) -> None:
    engine = ToolScriptedEngine(tool_answer=always())
    with lb.Client(tmp_path, engine=engine) as client, pytest.warns(lb.ToolLoopWarning):
        final = client.responses.run(input="Weather?", tools=[get_weather], max_tool_rounds=1)
        thread = client.responses.thread(final.id)
        alone = client.responses.create(input="Hi")
        assert len(client.responses.thread(alone.id)) == 1
    assert [(s.output, s.answered_in) for s in thread.steps] == [("Cork: 12 C", final.id), (None, None)]


# ---- streaming ------------------------------------------------------------------------------


def test_a_streamed_run_yields_each_request_s_events_and_the_calls_between(client: lb.Client) -> None:
    stream = client.responses.run(input="Weather in Cork?", tools=[get_weather], stream=True)
    assert isinstance(stream, ToolLoopStream)
    events = list(stream)
    kinds = [e.type for e in events]
    at = kinds.index("tool.call")
    assert kinds[at - 1] == "response.completed" and kinds[at + 1] == "tool.result"
    assert kinds[at + 2] == "response.created" and kinds[-1] == "response.completed"
    assert kinds.count("response.created") == 2 and kinds.count("tool.call") == 1
    assert "response.function_call_arguments.done" in kinds[:at]  # the call, as the model's events give it
    call, result = events[at], events[at + 1]
    assert isinstance(call, ToolCallEvent) and isinstance(result, ToolResultEvent)
    first, final = stream.responses
    assert call.call == first.tool_calls[0] and call.round == 1 and call.response_id == first.id
    assert (result.call_id, result.name, result.output, result.error) == (call.call.call_id, "get_weather", "Cork: 12 C", None)
    assert result.item.model_dump(exclude_none=True) == {"type": "function_call_output", "call_id": call.call.call_id, "output": "Cork: 12 C"}
    assert (call.sequence_number, result.sequence_number) == (0, 1)
    assert stream.response is final and final.previous_response_id == first.id and "Cork: 12 C" in final.output_text
    assert stream.text == final.output_text


def test_a_streamed_run_shows_a_failed_call_as_its_result_event(tmp_path: Path) -> None:
    engine = ToolScriptedEngine(tool_answer=call_then_answer({"name": "get_weather", "arguments": {"city": "Atlantis"}}))
    with lb.Client(tmp_path, engine=engine) as client, pytest.warns(lb.ToolLoopWarning):
        stream = client.responses.run(input="Atlantis?", tools=[get_weather], stream=True)
        results = [e for e in stream if e.type == "tool.result"]
        final = stream.until_done()
    assert [(r.error, r.output) for r in results] == [
        ("ValueError: no weather under the sea", "Error: ValueError: no weather under the sea")
    ]
    assert final.status == "completed" and "no weather under the sea" in final.output_text


def test_a_streamed_run_raises_bad_arguments_at_the_call(client: lb.Client, engine: ToolScriptedEngine) -> None:
    with pytest.raises(lb.InvalidRequest, match="max_tool_rounds"):
        client.responses.run(input="Weather?", tools=[get_weather], max_tool_rounds=0, stream=True)
    assert engine.calls == []


# ---- async ----------------------------------------------------------------------------------


def test_the_async_run_thread_and_stream(tmp_path: Path) -> None:
    engine = ToolScriptedEngine(tool_answer=call_then_answer())

    async def main() -> tuple[Any, ...]:
        async with lb.AsyncClient.embedded(tmp_path / "home", engine=engine) as client:
            final = await client.responses.run(input="Weather in Cork?", tools=[get_weather])
            thread = await client.responses.thread(final.id)
            stream = await client.responses.run(input="Weather in Cork?", tools=[get_weather], stream=True)
            kinds = [event.type async for event in stream]
            return final, thread, kinds, stream.response

    final, thread, kinds, streamed = asyncio.run(main())
    assert "Cork: 12 C" in final.output_text and [r.id for r in thread.responses][-1] == final.id
    assert kinds.count("tool.call") == 1 and kinds[-1] == "response.completed"
    assert isinstance(streamed, lb.Response) and "Cork: 12 C" in streamed.output_text
    assert json.loads(thread.turns[0].tool_calls[0].arguments) == {"city": "Cork"}
