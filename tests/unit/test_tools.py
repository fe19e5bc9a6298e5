"""Function tools: a callable's JSON Schema (through pydantic) and description, and ``tools=`` / ``tool_choice=``
checked into their wire form, every bad one a typed error that says what to fix.

The requests that carry them: tests/unit/resources/test_tool_requests.py; the items a response holds:
tests/unit/types/test_tool_calls.py.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Literal, Optional

import pydantic
import pytest

import llamabook as lb
from llamabook import schemas
from llamabook.tools import FunctionTool, ToolSet, check_tools, function_tool


class Unit(enum.Enum):
    CELSIUS = "C"
    FAHRENHEIT = "F"


class Place(pydantic.BaseModel):
    city: str
    country: str = "IE"


def get_weather(
    city: str,
    days: int,
    unit: Literal["C", "F"] = "C",
    rain: bool = False,
    ratio: float = 0.5,
    tags: list[str] | None = None,
    scale: Unit = Unit.CELSIUS,
    near: Optional[Place] = None,
) -> str:
    """The weather in a city,
    for the next days.

    Reads the forecast.

    Args:
        city: The city's name,
            as people write it.
        days (int): How many days ahead.
        unit: C or F.

    Returns:
        The forecast as text.
    """
    return f"{city}: rain"


def numpy_style(city: str, days: int) -> str:
    """Numpy style.

    Parameters
    ----------
    city : str
        The city.
    days : int
        Days
        ahead.

    Returns
    -------
    str
    """
    return city


def rest_style(city: str, days: int = 1) -> str:
    """reST style.

    :param city: The city.
    :param int days: Days
        ahead.
    :returns: text
    """
    return city


def no_docstring(city: str) -> str:
    return city


def test_a_function_becomes_the_wire_tool_with_its_schema_from_the_hints() -> None:
    tool = function_tool(get_weather)
    wire = tool.wire
    assert list(wire) == ["type", "name", "description", "parameters", "strict"]
    assert (wire["type"], wire["name"], wire["strict"]) == ("function", "get_weather", False)
    parameters = wire["parameters"]
    assert parameters["type"] == "object"
    assert parameters["required"] == ["city", "days"]  # a default makes a parameter optional
    properties = parameters["properties"]
    assert properties["city"]["type"] == "string" and properties["days"]["type"] == "integer"
    assert properties["unit"]["enum"] == ["C", "F"] and properties["unit"]["default"] == "C"
    assert properties["rain"] == {"type": "boolean", "default": False}
    assert properties["ratio"] == {"type": "number", "default": 0.5}
    assert properties["tags"]["anyOf"] == [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]
    assert properties["scale"]["$ref"] == "#/$defs/Unit" and parameters["$defs"]["Unit"]["enum"] == ["C", "F"]
    assert {"$ref": "#/$defs/Place"} in properties["near"]["anyOf"]
    assert parameters["$defs"]["Place"]["required"] == ["city"]
    assert "title" not in parameters and all("title" not in p for p in properties.values())  # no noise per parameter
    schemas.check_schema(parameters)  # a valid JSON Schema
    assert tool.function is get_weather and tool.arguments_model is not None
    assert tool.arguments_model(city="Cork", days="2").days == 2  # the model validates a call's arguments


def test_the_description_is_the_first_paragraph_and_each_parameter_its_entry() -> None:
    google = function_tool(get_weather)
    assert google.description == "The weather in a city, for the next days."
    properties = google.parameters["properties"]
    assert properties["city"]["description"] == "The city's name, as people write it."
    assert properties["days"]["description"] == "How many days ahead."
    assert properties["unit"]["description"] == "C or F."
    assert "description" not in properties["rain"]  # undocumented: no description
    for fn, summary in ((numpy_style, "Numpy style."), (rest_style, "reST style.")):
        tool = function_tool(fn)
        assert tool.description == summary
        assert tool.parameters["properties"]["city"]["description"] == "The city."
        assert tool.parameters["properties"]["days"]["description"] == "Days ahead."
    bare = function_tool(no_docstring).wire
    assert "description" not in bare  # none is sent rather than an empty one
    named = function_tool(no_docstring, name="lookup", description="Look a city up.")
    assert (named.name, named.description) == ("lookup", "Look a city up.")


def test_strict_requires_every_parameter_and_no_other() -> None:
    tool = function_tool(numpy_style, strict=True)
    assert tool.strict is True and tool.parameters["additionalProperties"] is False
    with pytest.raises(lb.InvalidTool, match=r"strict=True needs every parameter of tool 'rest_style' required.*\['days'\]"):
        function_tool(rest_style, strict=True)


class Opaque:
    """No JSON Schema: pydantic can't make one of an arbitrary class."""


def star_args(*cities: str) -> None: ...
def star_kwargs(**options: str) -> None: ...
def unannotated(city, days: int) -> None: ...  # type: ignore[no-untyped-def]
def opaque(city: str, thing: Opaque) -> None: ...
def a_callable(city: str, then: Callable[[int], int]) -> None: ...
def positional(city: str, /) -> None: ...
def bad_default(days: int = "two") -> None: ...  # type: ignore[assignment]
def unresolved(city: "NoSuchType") -> None: ...  # type: ignore[name-defined]  # noqa: F821


@pytest.mark.parametrize(
    ("fn", "fragments"),
    [
        (star_args, ["'cities'", "*cities", "List the parameters"]),
        (star_kwargs, ["'options'", "**options"]),
        (unannotated, ["'city'", "no type hint", "annotate it, e.g. city: str"]),
        (opaque, ["'thing'", "typed Opaque", "no JSON Schema", "Use a JSON type"]),
        (a_callable, ["'then'", "no JSON Schema"]),
        (positional, ["'city'", "positional-only", "drop the '/'"]),
        (bad_default, ["'days'", "defaults to 'two'", "fix the default"]),
        (unresolved, ["'unresolved'", "NoSuchType", "Import the types"]),
        (lambda city: city, ["'<lambda>'", "name='get_weather'"]),
    ],
)
def test_a_function_without_a_schema_is_a_typed_error_naming_what_to_fix(fn: Callable[..., Any], fragments: list[str]) -> None:
    with pytest.raises(lb.InvalidTool) as caught:
        check_tools([fn])
    assert isinstance(caught.value, lb.InvalidRequest)  # before anything is stored or sent
    for fragment in fragments:
        assert fragment in str(caught.value)
    if fn.__name__ != "<lambda>":
        assert caught.value.tool == fn.__name__


WIRE = {"type": "function", "name": "lookup", "description": "Look a city up.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "strict": True}  # fmt: skip


def test_wire_dicts_and_function_tools_are_taken_as_they_are() -> None:
    tools = check_tools([get_weather, WIRE, function_tool(numpy_style, name="numbers")], "auto")
    assert isinstance(tools, ToolSet) and tools.names == ["get_weather", "lookup", "numbers"]
    assert tools.wire is not None and tools.wire[1] == WIRE  # exactly as given
    assert tools.choice == "auto"
    assert dict(tools.functions) == {"get_weather": get_weather, "numbers": numpy_style}  # the wire one has none
    assert all(isinstance(tool, FunctionTool) for tool in tools.tools)
    assert check_tools(None) == ToolSet() and check_tools([]).wire is None  # no tools: none sent


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"), ("none", "none"), ("required", "required"), (None, None),
        ("lookup", {"type": "function", "name": "lookup"}),
        ({"type": "function", "name": "get_weather"}, {"type": "function", "name": "get_weather"}),
    ],
)  # fmt: skip
def test_tool_choice_forms(choice: Any, wire: Any) -> None:
    assert check_tools([get_weather, WIRE], choice).choice == wire


@pytest.mark.parametrize(
    ("tools", "choice", "fragments"),
    [
        ([WIRE, {**WIRE, "description": "again"}], None, ["Two tools are named 'lookup'", "tools[0] and tools[1]", "rename one"]),
        ([get_weather, function_tool(numpy_style, name="get_weather")], None, ["Two tools are named 'get_weather'"]),
        ([WIRE], "forecast", ["tool_choice names 'forecast'", "not one of the tools ['lookup']"]),
        ([WIRE], {"type": "function", "name": "forecast"}, ["names 'forecast'"]),
        ([WIRE], 3, ["tool_choice=3 is not a choice", "'auto', 'none', 'required'"]),
        ([WIRE], {"type": "allowed_tools"}, ["is not a choice"]),
        ([WIRE], {"type": "function", "function": {"name": "lookup"}}, ["Chat Completions form", "'name': 'lookup'"]),
        (None, "required", ["tool_choice='required' needs tools="]),
        ("lookup", None, ["tools= is a list", "not str"]),
        ([42], None, ["tools[0] is a int", "lb.function_tool(fn)"]),
        ([Opaque], None, ["tools[0] is a type"]),
        ([{"type": "web_search"}], None, ["tools[0] has type 'web_search'", "only function tools"]),
        ([{"type": "function", "function": {"name": "lookup"}}], None, ["Chat Completions form"]),
        ([{**WIRE, "name": "look up"}], None, ["name 'look up'", "letters, digits"]),
        ([{**WIRE, "parameters": {"type": "strin"}}], None, ["not a JSON Schema"]),
        ([{**WIRE, "parameters": {"type": "string"}}], None, ["schema of an object", "not type 'string'"]),
        ([{**WIRE, "strict": "yes"}], None, ["not a function tool"]),
    ],
)
def test_bad_tools_and_choices_are_typed_errors(tools: Any, choice: Any, fragments: list[str]) -> None:
    with pytest.raises(lb.InvalidTool) as caught:
        check_tools(tools, choice)
    for fragment in fragments:
        assert fragment in str(caught.value)
