"""Prompt resolution as the Llama Stack server does it, as pure functions.

Given a request's ``input``, ``instructions`` and a prompt template with typed variables,
build the chat messages in the server's order:

1. the input messages;
2. ``instructions`` as a system message inserted at index 0;
3. the rendered prompt as a system message inserted at index 0 (so before the instructions);
4. if any image or file variable was given, one extra user message holding those parts,
   appended after the input.

Media parts stay in llamabook's neutral form here (``input_image`` / ``input_file`` dicts
with the variable's name); :mod:`llamabook.media` turns them into what an engine accepts.

Tools on a plain chat model
---------------------------
Tool items come out of :func:`build_messages` in Chat Completions' form (:func:`tool_message`), as a
server builds them. A model whose chat template has no tool section (SmolLM2's plain ChatML) gets
them from :func:`plain_tool_messages` instead, in this documented form:

* the tools (unless ``tool_choice="none"``) in the system message: appended, after a blank line, to
  the first system message (a prompt's or the instructions), or as a system message of their own
  at index 0. The text, for a ``get_weather(city)`` tool and ``tool_choice="auto"``::

      You can call these tools:
      {"name": "get_weather", "description": "The weather now in a city.", "parameters": {"type": "object", …}}

      To call a tool, answer with only a JSON object: {"name": <the tool's name>, "arguments": {<its arguments>}}.
      If no tool is needed, answer in plain text.

  One JSON line per tool (``json.dumps``: ``name``, ``description`` when there is one, ``parameters``).
  With ``"required"`` the last paragraph is :data:`REQUIRED_ASK` (one line), with a named function
  :data:`NAMED_ASK` (its name filled in);
* a ``function_call`` (a call echoed back in the input, or a previous response's) as the assistant
  message the model wrote: ``{"name": "get_weather", "arguments": {"city": "Paris"}}``;
* a ``function_call_output`` as a user message (ChatML has no tool role):
  ``Result of get_weather: 12 °C, rain`` and a line asking for the answer (:data:`RESULT_ASK`), the name
  found from the call with the same ``call_id``
  (``Result of call <call_id>: …`` when no call in the conversation has it). The ``call_id`` itself is
  left out: it is made per response, and a cassette must key the next turn the same way on every run.

:func:`parse_tool_call` reads the model's answer back: a call is exactly a JSON object with a
``name`` among the tools and an object of ``arguments``; anything else is text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidRequest
from .templates import render
from .types.variables import InputFile, InputImage, InputText, Variable


@dataclass
class RenderedPrompt:
    """A prompt after substitution: the system text and the media parts it carries."""

    text: str
    media: list[dict[str, Any]] = field(default_factory=list)


def render_prompt(template: str, variables: Mapping[str, Variable] | None) -> RenderedPrompt:
    """Render a template the way the server does (one pass, unknown names left literal)."""
    if not variables:
        return RenderedPrompt(text=template)
    replacements: dict[str, str] = {}
    media: list[dict[str, Any]] = []
    for name, value in variables.items():
        if isinstance(value, InputText):
            replacements[name] = value.text
        elif isinstance(value, InputImage):
            replacements[name] = f"[Image: {name}]"
            media.append({"name": name, **value.model_dump(exclude_none=True)})
        elif isinstance(value, InputFile):
            replacements[name] = f"[File: {name}]"
            media.append({"name": name, **value.model_dump(exclude_none=True)})
    return RenderedPrompt(text=render(template, replacements), media=media)


def input_messages(value: str | Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Normalise a Responses ``input`` into chat messages (content: str or neutral parts)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping) or ("content" not in item and item.get("type", "message") == "message"):
            raise InvalidRequest(
                f"input[{index}] must be a message like {{'role': 'user', 'content': '...'}}; "
                f"got {type(item).__name__}"
            )
        if item.get("type") in ("function_call", "function_call_output"):
            messages.append(tool_message(item))
            continue
        if item.get("type", "message") != "message":
            raise InvalidRequest(
                f"input[{index}] has type {item.get('type')!r}; give messages, or function_call_output items "
                "(the results of a response's tool calls)"
            )
        role = item.get("role", "user")
        if role not in ("user", "assistant", "system", "developer"):
            raise InvalidRequest(f"input[{index}].role {role!r} is not user, assistant, system or developer")
        content = item["content"]
        if isinstance(content, str):
            messages.append({"role": role, "content": content})
        else:
            messages.append({"role": role, "content": [_input_part(p, index) for p in content]})
    return messages


def tool_message(item: Mapping[str, Any]) -> dict[str, Any]:
    """A tool item of ``input`` as the chat message a server builds from it (Chat Completions' form).

    A ``function_call_output`` is a ``tool`` message answering ``tool_call_id``; a ``function_call``
    (a call echoed back) is an assistant message with one ``tool_calls`` entry. The item was
    checked before (``resources/arguments.py``).
    """
    if item["type"] == "function_call_output":
        output = item.get("output", "")
        if not isinstance(output, str):  # content parts: their text
            output = "\n\n".join(str(p.get("text", "")) for p in output if isinstance(p, Mapping))
        return {"role": "tool", "tool_call_id": item["call_id"], "content": output}
    call = {"name": item["name"], "arguments": item.get("arguments", "")}
    return {"role": "assistant", "content": "", "tool_calls": [{"id": item["call_id"], "type": "function", "function": call}]}


def _input_part(part: Any, index: int) -> dict[str, Any]:
    kind = part.get("type") if isinstance(part, Mapping) else None
    if kind in ("input_text", "output_text"):
        return {"type": "text", "text": part.get("text", "")}
    if kind in ("input_image", "input_file"):
        return dict(part)
    raise InvalidRequest(f"input[{index}] has a content part of type {kind!r}; use input_text, input_image or input_file")


def build_messages(
    input: str | Sequence[Mapping[str, Any]] | None,
    instructions: str | None = None,
    prompt: RenderedPrompt | None = None,
    history: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """The chat messages a model sees, in the server's order."""
    messages = [dict(m) for m in history] + input_messages(input)
    if instructions:
        messages.insert(0, {"role": "system", "content": instructions})
    if prompt is not None and prompt.text:
        messages.insert(0, {"role": "system", "content": prompt.text})
        if prompt.media:
            messages.append({"role": "user", "content": list(prompt.media)})
    return messages


# ---- tools on a plain chat model (ChatML without a tool section) ----------------------------

TOOLS_HEADER = "You can call these tools:"
CALL_FORM = '{"name": <the tool\'s name>, "arguments": {<its arguments>}}'
AUTO_ASK = f"To call a tool, answer with only a JSON object: {CALL_FORM}.\nIf no tool is needed, answer in plain text."
REQUIRED_ASK = f"Call one of these tools: answer with only a JSON object: {CALL_FORM}."
#: After a result. Without it the 135M model calls the same tool again, round after round: asked the weather in
#: Cork, Rome, Paris and Sligo (client.responses.run, tool_choice="required", max_tool_rounds=2), it answered 1
#: of the 4 in text; with it, 4 of 4.
RESULT_ASK = "Answer the question with this result, in one sentence."
NAMED_ASK = 'Call the tool {name}: answer with only a JSON object: {{"name": "{name}", "arguments": {{<its arguments>}}}}.'


def chosen_tool(tool_choice: str | Mapping[str, Any] | None) -> str | None:
    """The function ``tool_choice`` names (``{"type": "function", "name": …}``), or None for a mode."""
    if isinstance(tool_choice, Mapping):
        return str(tool_choice.get("name"))
    return None


def tool_prompt(tools: Sequence[Mapping[str, Any]] | None, tool_choice: str | Mapping[str, Any] | None) -> str | None:
    """The system text that gives ``tools`` to a plain chat model; None without tools or with ``"none"``."""
    if not tools or tool_choice == "none":
        return None
    lines = []
    for tool in tools:
        shown = {"name": tool["name"]}
        if tool.get("description"):
            shown["description"] = tool["description"]
        shown["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
        lines.append(json.dumps(shown, ensure_ascii=False))
    named = chosen_tool(tool_choice)
    ask = NAMED_ASK.format(name=named) if named else REQUIRED_ASK if tool_choice == "required" else AUTO_ASK
    return "\n".join([TOOLS_HEADER, *lines, "", ask])


def call_text(name: str, arguments: str) -> str:
    """A call as the model writes it: ``{"name": …, "arguments": {…}}`` (arguments that aren't JSON kept as a string)."""
    try:
        parsed: Any = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        parsed = arguments
    return json.dumps({"name": name, "arguments": parsed}, ensure_ascii=False)


def plain_tool_messages(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """``messages`` (tool messages in Chat Completions' form) for a model without a tool role, with the tool prompt."""
    names: dict[str, str] = {}
    plain: list[dict[str, Any]] = []
    for message in messages:
        if message.get("tool_calls"):
            calls = [call for call in message["tool_calls"] if isinstance(call, Mapping)]
            names.update((call["id"], call["function"]["name"]) for call in calls)
            texts = [call_text(c["function"]["name"], c["function"].get("arguments") or "") for c in calls]
            plain.append({"role": "assistant", "content": "\n".join(filter(None, [message.get("content") or "", *texts]))})
        elif message.get("role") == "tool":
            call_id = message.get("tool_call_id", "")
            whose = names[call_id] if call_id in names else f"call {call_id}"
            plain.append({"role": "user", "content": f"Result of {whose}: {message.get('content', '')}\n{RESULT_ASK}"})
        else:
            plain.append(dict(message))
    prompt = tool_prompt(tools, tool_choice)
    if prompt is None:
        return plain
    if plain and plain[0].get("role") == "system" and isinstance(plain[0].get("content"), str):
        plain[0] = {**plain[0], "content": f"{plain[0]['content']}\n\n{prompt}"}
    else:
        plain.insert(0, {"role": "system", "content": prompt})
    return plain


def parse_tool_call(text: str, tools: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    """``(name, arguments as JSON text)`` when ``text`` is a call of one of ``tools``, else None (it is text).

    A call is exactly ``{"name": <a tool's name>, "arguments": {…}}``, blanks around it allowed; the
    arguments are written back with ``json.dumps`` (what the grammar writes: ``", "`` and ``": "``).
    """
    stripped = text.strip()
    if not stripped.startswith("{"):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(value, dict) or set(value) != {"name", "arguments"} or not isinstance(value["arguments"], dict):
        return None
    if value["name"] not in [tool.get("name") for tool in tools]:
        return None
    return value["name"], json.dumps(value["arguments"], ensure_ascii=False)
