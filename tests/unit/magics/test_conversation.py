"""``%%llama --continue`` (the next message of the notebook's last conversation) and ``--tool NAME`` (the tool loop)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import llamabook as lb
from support.magics import in_magics, ok, run
from support.scripted_engine import ToolScriptedEngine, text_of


def answer(messages: list[dict[str, Any]], options: Any) -> Any:
    """Calls get_weather(city="Cork") first; once its call is in the history, answers with the last message."""
    if any(message["role"] == "assistant" for message in messages):
        return f"Answer from: {text_of(messages[-1]['content'])}"
    return {"name": "get_weather", "arguments": {"city": "Cork"}}


@pytest.fixture
def tool_engine() -> ToolScriptedEngine:
    return ToolScriptedEngine(tool_answer=answer)


@pytest.fixture
def tools(tmp_path: Path, ip: InteractiveShell, tool_engine: ToolScriptedEngine) -> Iterator[lb.Client]:
    with lb.Client(tmp_path / "home", engine=tool_engine) as client:
        yield from in_magics(client, ip)


def test_continue_sends_the_body_as_the_next_message_of_the_last_response(ip: InteractiveShell, quick: lb.Client) -> None:
    ok(ip, "%%llama --no-stream\nMy name is Ada.")
    first = ip.user_ns["_llama"]
    ok(ip, "%%llama --continue --no-stream\nWhat is my name?")
    second = ip.user_ns["_llama"]
    assert second.previous_response_id == first.id and second.id != first.id
    messages = quick.responses.retrieve(second.id).rendered_messages
    texts = [text_of(m["content"]) for m in messages]
    assert "My name is Ada." in " ".join(texts) and texts[-1] == "What is my name?"  # the history, then the body as it is
    assert len(quick.prompts.list()) == 1  # the continued body is a message, not a stored template


def test_continue_needs_a_previous_response_and_a_body(ip: InteractiveShell, quick: lb.Client) -> None:
    ip.user_ns.pop("_llama", None)
    for cell, says in [
        ("%%llama --continue\nAnd then?", "there is none: run a %%llama cell first"),
        ("%%llama --continue --over rows\nHi", "--tool and --continue are for one answer"),
    ]:
        ran = run(ip, cell)
        assert isinstance(ran.error, UsageError) and says in str(ran.error), ran.error


def test_tool_runs_the_loop_on_a_notebook_function_and_shows_the_thread(
    ip: InteractiveShell, tools: lb.Client, tool_engine: ToolScriptedEngine
) -> None:
    seen: list[str] = []

    def get_weather(city: str) -> str:
        """The weather in a city."""
        seen.append(city)
        return f"rain in {city}"

    ip.user_ns["get_weather"] = get_weather
    ran = ok(ip, "%%llama --tool get_weather\nWeather in Cork?")
    final = ip.user_ns["_llama"]
    assert seen == ["Cork"] and "Result of get_weather: rain in Cork" in final.output_text  # the model read the function's result
    assert final.previous_response_id is not None
    thread = tools.responses.thread(final.id)
    assert len(thread.turns) == 2 and thread.turns[0].tool_calls[0].name == "get_weather"
    html = "".join(output.data.get("text/html", "") for output in ran.outputs)
    assert "get_weather" in html and "rain in Cork" in html  # the conversation, calls and results as steps
    ok(ip, "%%llama --tool get_weather --tool-choice required\nWeather in Cork?")
    first, then = tool_engine.calls[-2:]  # the call, then the answer: the choice goes with the first request only
    assert (first.options.tool_choice, then.options.tool_choice) == ("required", None)
    for cell, says in [
        ("%%llama --tool-choice required\nHi", "add --tool NAME"),
        ("%%llama --tool nothing_here\nHi", "no function named nothing_here"),
        ("%%llama --tool seen\nHi", "is a list, not a function"),
    ]:
        ip.user_ns["seen"] = seen
        bad = run(ip, cell)
        assert isinstance(bad.error, UsageError) and says in str(bad.error), bad.error
