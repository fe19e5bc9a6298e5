"""client.grid(..., tools=[…]): each call offers the tools; the frame gets tool_calls and tool_name; checks judge them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import llamabook as lb
from llamabook.evaluation import checks
from support.scripted_engine import ScriptedEngine, ToolScriptedEngine, text_of

CITIES = pd.DataFrame({"city": ["Cork", "Sligo", "Paris"]})


def get_weather(city: str) -> str:
    """The weather in a city."""
    return "rain"


def get_time(zone: str) -> str:
    """The time in a time zone."""
    return "noon"


def weather_for_irish_cities(messages: list[dict[str, Any]], options: Any) -> Any:
    """Calls get_weather(city="Cork") for Cork and Sligo (so Sligo's call names the wrong city); answers Paris in text."""
    asked = " ".join(text_of(message["content"]) for message in messages)
    if "Paris" in asked:
        return "It is sunny in Paris."
    return {"name": "get_weather", "arguments": {"city": "Cork"}}


CHECKS = {"weather": checks.called("get_weather", city=checks.column("city")), "text": checks.no_tool_call()}


def test_a_grid_with_tools_shows_each_calls_tool_and_the_checks_judge_them(tmp_path: Path) -> None:
    engine = ToolScriptedEngine(tool_answer=weather_for_irish_cities)
    with lb.Client(tmp_path / "home", engine=engine) as client:
        grid = client.grid("Weather in {{city}}?", CITIES, tools=[get_weather, get_time], progress=False, checks=CHECKS)
    columns = list(grid.columns)
    assert columns[columns.index("output_text") + 1 : columns.index("output_text") + 3] == ["tool_calls", "tool_name"]
    assert grid["tool_name"].tolist()[:2] == ["get_weather", "get_weather"]
    calls = json.loads(grid.loc[0, "tool_calls"])
    assert calls[0]["name"] == "get_weather" and json.loads(calls[0]["arguments"]) == {"city": "Cork"}
    assert grid["check_weather"].tolist()[:2] == [True, False]  # Sligo's call named Cork
    assert grid["check_text"].tolist() == [False, False, True]
    assert pd.isna(grid.loc[2, "tool_name"]) and json.loads(grid.loc[2, "tool_calls"]) == []  # Paris: an answer in text
    assert grid.loc[2, "output_text"] == "It is sunny in Paris." and not grid.loc[2, "check_weather"]
    offered = [call.options.tools for call in engine.calls]
    assert all([tool["name"] for tool in tools] == ["get_weather", "get_time"] for tools in offered)


def test_tools_are_keyed_by_their_wire_form_and_a_grid_without_them_has_no_tool_columns(tmp_path: Path) -> None:
    engine = ToolScriptedEngine(tool_answer=weather_for_irish_cities)
    with lb.Client(tmp_path / "home", engine=engine) as client:
        first = client.grid("Weather in {{city}}?", CITIES, tools=[get_weather], progress=False)
        again = client.grid("Weather in {{city}}?", CITIES, tools=[lb.function_tool(get_weather)], progress=False)
        plain = client.grid("Weather in {{city}}?", CITIES, progress=False)
    assert again["cached"].all() and again["call_key"].tolist() == first["call_key"].tolist()
    assert "tool_calls" not in plain.columns and not plain["cached"].any()  # other calls, other keys


def test_bad_tools_and_a_model_without_tools_are_refused_before_any_call(quick_client: lb.Client, scripted: ScriptedEngine) -> None:
    with pytest.raises(lb.InvalidTool, match=r"tool_choice names 'get_time', which is not one of the tools \['get_weather'\]"):
        quick_client.grid("Hi {{city}}", CITIES, tools=[get_weather], tool_choice="get_time", progress=False)
    with pytest.raises(lb.ToolsUnsupported):
        quick_client.grid("Hi {{city}}", CITIES, tools=[get_weather], progress=False)
    assert scripted.calls == []


def test_required_tools_on_the_embedded_model_give_valid_calls_in_the_grid(client: lb.Client) -> None:
    grid = client.grid("What is the weather in {{city}}?", CITIES, tools=[get_weather], tool_choice="required",
                       max_output_tokens=48, progress=False, checks={"weather": checks.called("get_weather")})  # fmt: skip
    assert (grid["status"] == "completed").all(), grid[["status", "error"]]
    assert grid["tool_name"].eq("get_weather").all() and grid["check_weather"].all()
    for text in grid["tool_calls"]:
        (call,) = json.loads(text)
        assert isinstance(json.loads(call["arguments"])["city"], str)
