"""The JSON body of ``POST /v1/responses`` for a checked request, and the messages a server builds from it."""

from __future__ import annotations

from typing import Any

from ...rendering import build_messages, render_prompt
from ...types.requests import ResponseRequest


def request_body(request: ResponseRequest) -> dict[str, Any]:
    """The request as sent when the server renders the prompt itself (``prompt=`` by reference)."""
    # Llama Stack requires ``input``; an empty list leaves the prompt's system message alone, as
    # the embedded backend does when there is no input.
    body: dict[str, Any] = {"model": request.model, "store": request.store}
    body["input"] = request.input if request.input is not None else []
    if request.prompt is not None:
        body["prompt"] = request.prompt.model_dump(mode="json", exclude_none=True)
    names = ("instructions", "temperature", "top_p", "max_output_tokens", "metadata", "previous_response_id", "text",
             "tools", "tool_choice")  # fmt: skip
    for name in names:
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    return body


def client_rendered_body(request: ResponseRequest) -> dict[str, Any]:
    """A request for a server without Prompts API: the prompt rendered here, in the server's order.

    The rendered prompt and ``instructions`` become leading system messages of ``input`` (so
    they keep the order a Llama Stack server gives them), and media variables go in one user
    message after the input, as ``input_image`` / ``input_file`` parts by file id.
    """
    body = request_body(request)
    body.pop("prompt", None)
    body.pop("instructions", None)
    rendered = render_prompt(request.prompt_template or "", request.prompt.variables or {} if request.prompt else {})
    messages = build_messages(request.input, request.instructions, rendered)
    body["input"] = [responses_message(m) for m in messages]
    return body


def responses_message(message: dict[str, Any]) -> dict[str, Any]:
    """A chat message as a Responses ``input`` item (a tool message back as the tool item it came from)."""
    if message["role"] == "tool":
        return {"type": "function_call_output", "call_id": message["tool_call_id"], "output": message["content"]}
    if message.get("tool_calls"):
        call = message["tool_calls"][0]
        return {"type": "function_call", "call_id": call["id"], **call["function"]}
    content = message["content"]
    if isinstance(content, str):
        return {"role": message["role"], "content": content}
    parts = []
    for part in content:
        if part.get("type") == "text":
            parts.append({"type": "input_text", "text": part["text"]})
        else:
            parts.append({k: v for k, v in part.items() if k != "name"})
    return {"role": message["role"], "content": parts}


def expected_messages(request: ResponseRequest) -> list[dict[str, Any]]:
    """The messages the server builds, by its rule (it does not return them)."""
    rendered = None
    if request.prompt is not None and request.prompt_template is not None:
        rendered = render_prompt(request.prompt_template, request.prompt.variables or {})
    messages = build_messages(request.input, request.instructions, rendered)
    for message in messages:  # the server forwards text-only part lists as they are; show them as text
        content = message["content"]
        if isinstance(content, list) and all(p.get("type") == "text" for p in content):
            message["content"] = "\n\n".join(p["text"] for p in content)
    return messages
