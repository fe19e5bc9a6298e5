"""A response's tool calls as steps: the function's name, its arguments as a table and its result.

A step is one ``function_call`` output item, with the result of the call when it is known: the
``function_call_output`` input item with the same ``call_id``, sent with the next turn (a thread's
following response), or given to the view. Names, argument keys and values and results come from a
model or a function: the templates show them as text (autoescaped, :mod:`.sanitize`), never as markup.

The items are read in any of their forms: :class:`~llamabook.types.FunctionCall` /
:class:`~llamabook.types.FunctionCallOutput` and stored ``InputItem`` objects, their wire dicts, and
the chat messages of a response's trace (a ``tool`` message answering ``tool_call_id``, an assistant
message with ``tool_calls``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from .sanitize import render

if TYPE_CHECKING:
    from ..types import Response

#: What a view is given as results: ``{call_id: result text}``, or input items (any of the forms above).
Results = Union[Mapping[str, Any], Iterable[Any], None]
#: How a result that is an error begins (the tool loop's form for a function that raised).
ERROR_PREFIX = "Error: "
#: A call's arguments longer than this (as text) are cut in the one-line text form.
TEXT_ARGUMENT_CHARS = 60


@dataclass
class Step:
    """One tool call as a view shows it. ``result`` is None while it is not known."""

    call_id: str
    name: str
    #: (argument, value) rows: a text value as it is, any other value as JSON text
    arguments: list[tuple[str, str]] = field(default_factory=list)
    #: the arguments as the model wrote them, when they are not a JSON object (then ``arguments`` is empty)
    raw_arguments: str | None = None
    result: str | None = None
    #: the arguments as values (for the one-line text form), when they are a JSON object
    values: dict[str, Any] = field(default_factory=dict)
    #: False for a result whose call is not known (not echoed in the input, nor in the previous turn)
    call_known: bool = True

    @property
    def error(self) -> bool:
        """True when the result is an error text (``client.responses.run`` sends ``"Error: <Type>: <message>"``
        when the function raised or its arguments did not validate)."""
        return self.result is not None and self.result.startswith(ERROR_PREFIX)


def _as_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return dict(item)
    if hasattr(item, "model_dump"):  # a pydantic wire object (extra fields kept)
        return item.model_dump(mode="json")
    return {}


def output_text(output: Any) -> str:
    """A ``function_call_output``'s output as text: a string as it is, content parts by their text."""
    if isinstance(output, str):
        return output
    if isinstance(output, (list, tuple)):
        texts = (str(p["text"]) if isinstance(p, Mapping) and "text" in p else _json(p) for p in output)
        return "\n\n".join(texts)
    return _json(output)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _cut(text: str, chars: int = TEXT_ARGUMENT_CHARS) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _call(call_id: Any, name: Any, arguments: Any) -> tuple[str, dict[str, Any]]:
    return ("call", {"call_id": str(call_id or ""), "name": str(name or ""), "arguments": arguments})


def _result(call_id: Any, output: Any) -> tuple[str, dict[str, Any]]:
    return ("result", {"call_id": str(call_id or ""), "output": output_text(output)})


def tool_items(item: Any) -> list[tuple[str, dict[str, Any]]]:
    """The tool items in one input item or chat message: ``("call", {call_id, name, arguments})`` and
    ``("result", {call_id, output})`` pairs; empty for a plain message."""
    data = _as_dict(item)
    kind = data.get("type")
    if kind == "function_call":
        return [_call(data.get("call_id"), data.get("name"), data.get("arguments", ""))]
    if kind == "function_call_output":
        return [_result(data.get("call_id"), data.get("output", ""))]
    if data.get("role") == "tool":
        return [_result(data.get("tool_call_id"), data.get("content", ""))]
    calls = [call for call in data.get("tool_calls") or [] if isinstance(call, Mapping)]
    functions = [(call.get("id"), call.get("function") or {}) for call in calls]
    return [_call(call_id, function.get("name"), function.get("arguments", "")) for call_id, function in functions]


def results_of(results: Results) -> dict[str, str]:
    """``{call_id: result text}`` from a mapping of that, or from input items / chat messages."""
    if results is None:
        return {}
    if isinstance(results, Mapping):
        return {str(key): output_text(value) for key, value in results.items()}
    found: dict[str, str] = {}
    for item in results:
        for kind, data in tool_items(item):
            if kind == "result":
                found[data["call_id"]] = data["output"]
    return found


def parse_arguments(arguments: Any) -> tuple[dict[str, Any], str | None]:
    """A call's arguments as a dict, or ``({}, text)`` when they are not a JSON object (empty text: ``{}``)."""
    if isinstance(arguments, Mapping):
        return {str(k): v for k, v in arguments.items()}, None
    text = "" if arguments is None else str(arguments)
    if not text.strip():
        return {}, None
    try:
        value = json.loads(text)
    except ValueError:
        return {}, text
    return (value, None) if isinstance(value, dict) else ({}, text)


def argument_rows(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(argument, value) rows: a text value as it is, any other (a number, a list, an object) as JSON text."""
    return [(str(key), value if isinstance(value, str) else _json(value)) for key, value in values.items()]


def make_step(call_id: str, name: str, arguments: Any, result: str | None = None) -> Step:
    values, raw = parse_arguments(arguments)
    return Step(call_id, name, argument_rows(values), raw_arguments=raw, result=result, values=values)


def call_steps(response: Response, results: Results = None) -> list[Step]:
    """The response's calls (``response.tool_calls``), in order, each with its result when ``results`` has it."""
    known = results_of(results)
    return [make_step(c.call_id, c.name, c.arguments, known.get(c.call_id)) for c in response.tool_calls]


def sent_steps(items: Iterable[Any], calls: Iterable[Any] = ()) -> list[Step]:
    """The results in ``items`` (a request's input), each as a step named after its call.

    The call is looked up by ``call_id`` among the calls echoed in ``items`` and then in ``calls``
    (e.g. the previous response's ``tool_calls``); a result whose call is not known is named ``?``.
    """
    items = list(items)
    known: dict[str, dict[str, Any]] = {}
    for item in [*calls, *items]:
        for kind, data in tool_items(item):
            if kind == "call":
                known[data["call_id"]] = data
    steps = []
    for item in items:
        for kind, data in tool_items(item):
            if kind == "result":
                call = known.get(data["call_id"])
                if call is None:
                    steps.append(Step(data["call_id"], "?", result=data["output"], call_known=False))
                else:
                    steps.append(make_step(data["call_id"], call["name"], call["arguments"], data["output"]))
    return steps


def message_label(message: Mapping[str, Any]) -> tuple[str, str] | None:
    """(role, text) of a trace's tool message or of an assistant message that calls tools; None for others.

    ``("tool call_1", result)`` and ``("assistant", "→ get_weather(city='Paris')")``: the Input section
    shows them so instead of an empty assistant message and an anonymous result.
    """
    found = tool_items(message)
    if not found:
        return None
    if found[0][0] == "result":
        return f"tool {found[0][1]['call_id']}".strip(), found[0][1]["output"]
    steps = [make_step(data["call_id"], data["name"], data["arguments"]) for _, data in found]
    text = output_text(message.get("content") or "")
    return str(message.get("role") or "assistant"), "\n".join([*([text] if text else []), *steps_text(steps)])


def trailing_input(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages a trace ends with after the model's last text answer: what this request added.

    The messages before it are the conversation so far (``previous_response_id``), already answered.
    """
    start = 0
    for index, message in enumerate(messages):
        if message.get("role") == "assistant" and not message.get("tool_calls"):
            start = index + 1
    return messages[start:]


def trace_steps(response: Response) -> list[Step]:
    """The results this response's own request sent (its trace's last tool messages), named after their calls."""
    messages = response.rendered_messages
    return sent_steps(trailing_input(messages), messages)


def call_text(step: Step) -> str:
    """``get_weather(city='Paris')``: one call as a line of text (long values cut)."""
    if step.raw_arguments is not None:
        inner = step.raw_arguments
    else:
        inner = ", ".join(f"{key}={value!r}" for key, value in step.values.items())
    return f"{step.name}({_cut(inner)})"


def steps_text(steps: list[Step], arrow: str = "→") -> list[str]:
    """One line per step: ``→ get_weather(city='Paris')``, then `` = result`` (on one line, cut) when known."""
    lines = []
    for step in steps:
        line = f"{arrow} {call_text(step)}"
        if step.result is not None:
            result = " ".join(step.result.split())  # one line
            line += " = " + _cut(result)
        lines.append(line)
    return lines


def steps_html(steps: list[Step], heading: str | None = None, pending: str | None = "result not known") -> str:
    """The steps as HTML (autoescaped; empty string without steps); ``pending`` is shown for an unknown result."""
    if not steps:
        return ""
    return render("tool_steps.html", steps=steps, heading=heading, pending=pending)
