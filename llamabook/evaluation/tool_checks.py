"""The built-in checks on an answer's tool calls: :func:`called` and :func:`no_tool_call`.

They read the grid's ``tool_calls`` column, which a grid run with ``tools=`` has. On a grid run
without tools there is nothing to judge: the check raises, so its cell is an error, never a fail.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidRequest
from .check_base import Check, CheckInput, Column, value_of


def _calls(result: CheckInput) -> list[dict[str, Any]]:
    """The result's calls, each with its arguments parsed (arguments that are not a JSON object: None)."""
    if result.tool_calls is None:
        raise ValueError("this result has no tool_calls: run the grid with tools=[…]")
    calls = json.loads(result.tool_calls)
    for call in calls:
        try:
            arguments = json.loads(call.get("arguments") or "{}")
        except json.JSONDecodeError:
            arguments = None
        call["parsed"] = arguments if isinstance(arguments, dict) else None
    return calls


@dataclass(frozen=True)
class Called(Check):
    name: str | Column
    expected: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        wanted = value_of(self.name, row)
        expected = {key: value_of(value, row) for key, value in self.expected.items()}
        for call in _calls(result):
            if call.get("name") != wanted or call["parsed"] is None:
                continue
            if all(key in call["parsed"] and call["parsed"][key] == value for key, value in expected.items()):
                return True
        return False

    def reads(self) -> list[str]:
        return [v.name for v in (self.name, *self.expected.values()) if isinstance(v, Column)]


@dataclass(frozen=True)
class NoToolCall(Check):
    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        return not _calls(result)


def called(name: str | Column, **expected_args: Any) -> Called:
    """Passes when the answer calls the function ``name`` with at least ``expected_args`` (each equal to
    what the model passed, after JSON parsing; other arguments may be there too). A value may be
    :func:`~.check_base.column` to read it from the row: ``called("get_weather", city=column("city"))``.
    """
    if not isinstance(name, (str, Column)) or not name:
        raise InvalidRequest(f"called() takes a function name (or checks.column('name')), not {name!r}")
    return Called(name, dict(expected_args))


def no_tool_call() -> NoToolCall:
    """Passes when the answer calls no function (it answers in text)."""
    return NoToolCall()
