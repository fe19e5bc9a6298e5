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
"""

from __future__ import annotations

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
