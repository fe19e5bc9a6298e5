"""Batch JSONL: a checked request as one ``/v1/chat/completions`` line, and a batch's answers as grid results.

A Batches API (OpenAI's, and the ``inline::reference`` provider of Llama Stack 0.7 and OGX 1.x)
runs chat completions, not Responses, so each request is rendered here exactly as the server
renders a ``prompt=`` reference (:mod:`llamabook.rendering`): the prompt's system message first,
then ``instructions``, then the input, then one user message with the media parts. Images and
files travel inline as data URLs, since a batch line can't point at this machine's files.

The output side reads both dialects: OpenAI and vLLM's ``run-batch`` give ``response.body`` as a
JSON object, Llama Stack and OGX as a JSON *string*; errors come as ``error`` objects in the
error file or as a ``response`` whose ``status_code`` isn't 200. An error goes through the one error
translator (:mod:`llamabook.error_translation`), so a cause gives the row the same typed error as the
thread executor's call; Llama Stack and OGX wrap the upstream's answer as ``"Error code: 500 - …"``
with its traceback, which is read for the status and cut off (no server path reaches a row).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..error_translation import line_error
from ..errors import InvalidRequest
from ..media import data_url, sniff_mime
from ..rendering import build_messages, render_prompt
from ..types.requests import ResponseRequest

#: The endpoint every line asks for (the one all these Batches APIs accept).
ENDPOINT = "/v1/chat/completions"
#: Who answered a line, in its error, when the caller doesn't say (another engine's output file).
ENGINE = "the batch's engine"

#: ``(file_id) -> (bytes, filename)``: the content of a file a variable names.
FileReader = Callable[[str], "tuple[bytes, str]"]


def chat_messages(request: ResponseRequest, read_file: FileReader) -> list[dict[str, Any]]:
    """The chat messages of ``request`` in the server's order, media inline (chat-completions parts)."""
    rendered = None
    if request.prompt is not None and request.prompt_template is not None:
        rendered = render_prompt(request.prompt_template, request.prompt.variables or {})
    messages = build_messages(request.input, request.instructions, rendered)
    return [{"role": m["role"], "content": _content(m["content"], read_file)} for m in messages]


def chat_body(request: ResponseRequest, read_file: FileReader, model: str | None = None) -> dict[str, Any]:
    """The ``/v1/chat/completions`` body of ``request`` (``model`` overrides the request's)."""
    body: dict[str, Any] = {"model": model or request.model, "messages": chat_messages(request, read_file)}
    for name in ("temperature", "top_p"):
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    if request.max_output_tokens is not None:
        body["max_tokens"] = request.max_output_tokens
    response_format = _response_format(request.text)
    if response_format is not None:
        body["response_format"] = response_format
    if request.tools:
        body["tools"] = [chat_tool(tool) for tool in request.tools]
        if request.tool_choice is not None:
            body["tool_choice"] = chat_tool_choice(request.tool_choice)
    return body


def chat_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A Responses function tool (``{"type": "function", "name", …}``) in Chat Completions' nested form."""
    function = {key: tool[key] for key in ("name", "description", "parameters", "strict") if tool.get(key) is not None}
    return {"type": "function", "function": function}


def chat_tool_choice(choice: Any) -> Any:
    """A Responses ``tool_choice`` in Chat Completions' form (a named function nests its name)."""
    if isinstance(choice, Mapping):
        return {"type": "function", "function": {"name": choice["name"]}}
    return choice


def request_line(custom_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """One line of a batch's input file."""
    return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": dict(body)}


def to_jsonl(lines: Iterable[Mapping[str, Any]]) -> bytes:
    """JSON Lines, one compact object per line, UTF-8 kept as is."""
    return b"".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for line in lines)


def read_jsonl(data: bytes | str, source: str = "the batch output") -> Iterator[dict[str, Any]]:
    """The objects of a JSONL text; a line that isn't a JSON object raises :class:`InvalidRequest`."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise InvalidRequest(f"Line {number} of {source} is not JSON ({exc}): is it a batch output or error file?") from None
        if not isinstance(value, dict):
            raise InvalidRequest(f"Line {number} of {source} is not a JSON object: is it a batch output or error file?")
        yield value


def result_of(
    line: Mapping[str, Any], batch_id: str | None, *, where: str = ENGINE, models: Mapping[str, str] | None = None
) -> tuple[str, dict[str, Any]] | None:
    """``(custom_id, result)`` of one output or error line, or None for a line with no ``custom_id``.

    The result has the grid's result keys: ``output_text``, ``status`` (``completed``,
    ``incomplete`` when cut off, or ``failed``), ``cut_off``, ``error``, token counts, and the
    line's ``batch_id`` and ``custom_id``; ``response_id`` and ``latency_s`` stay None. A failed
    line's ``error`` is ``"<TypedError>: message"`` as the error translator gives it for ``where``
    (the server's base URL) and the request's model (``models``, by ``custom_id``).
    """
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str):
        return None
    base = {"batch_id": batch_id or _batch_of(line), "custom_id": custom_id, "response_id": None, "latency_s": None, "attempts": 1}
    model = (models or {}).get(custom_id)
    error = line.get("error")
    response = line.get("response") if isinstance(line.get("response"), Mapping) else None
    if error:
        return custom_id, {**base, **_failed(error, None, where, model)}
    if response is None:
        unreadable = "BatchRequestFailed: the batch line has neither a response nor an error"
        return custom_id, {**base, "status": "failed", "error": unreadable, "cut_off": None}
    body = response.get("body")
    if isinstance(body, str):  # Llama Stack / OGX: the body as a JSON string
        try:
            body = json.loads(body)
        except ValueError:
            body = {"error": {"message": body}}
    status_code = response.get("status_code", 200)
    if status_code != 200 or not isinstance(body, Mapping) or "choices" not in body:
        detail = body.get("error") or body.get("detail") if isinstance(body, Mapping) else body
        return custom_id, {**base, **_failed(detail, status_code if isinstance(status_code, int) else None, where, model)}
    return custom_id, {**base, **_completion(body)}


def _completion(body: Mapping[str, Any]) -> dict[str, Any]:
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    content = message.get("content")
    if isinstance(content, list):  # content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
    cut_off = choice.get("finish_reason") == "length"
    usage = body.get("usage") or {}
    calls = [
        {"name": (call.get("function") or {}).get("name"), "arguments": (call.get("function") or {}).get("arguments") or "",
         "call_id": call.get("id")}
        for call in message.get("tool_calls") or [] if isinstance(call, Mapping)
    ]  # fmt: skip
    return {
        "output_text": content or "",
        "tool_calls": json.dumps(calls),
        "tool_name": calls[0]["name"] if calls else None,
        "status": "incomplete" if cut_off else "completed",
        "cut_off": cut_off,
        "error": None,
        "input_tokens": usage.get("prompt_tokens"),
        "output_tokens": usage.get("completion_tokens"),
    }


def _failed(detail: Any, status: int | None, where: str, model: str | None) -> dict[str, Any]:
    """A failed line's result: its error as the translator types it (``status`` None: none was given)."""
    typed = line_error(detail, status, base_url=where, model=model)
    return {"status": "failed", "error": f"{type(typed).__name__}: {typed}", "cut_off": None}


def _batch_of(line: Mapping[str, Any]) -> str | None:
    """A line's batch id when the line says it (vLLM and OpenAI lines carry their own ``id`` only)."""
    value = line.get("batch_id")
    return value if isinstance(value, str) else None


def _response_format(text: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The Responses ``text.format`` as chat completions' ``response_format``."""
    fmt = (text or {}).get("format") or {}
    if fmt.get("type") == "json_object":
        return {"type": "json_object"}
    if fmt.get("type") == "json_schema":
        schema = {"name": fmt.get("name") or "output", "schema": fmt["schema"]}
        if fmt.get("strict") is not None:
            schema["strict"] = fmt["strict"]
        return {"type": "json_schema", "json_schema": schema}
    return None


def _content(content: Any, read_file: FileReader) -> Any:
    if isinstance(content, str):
        return content
    parts = [_part(part, read_file) for part in content]
    if all(p["type"] == "text" for p in parts):  # as the server forwards a text-only list: one text
        return "\n\n".join(p["text"] for p in parts)
    return parts


def _part(part: Mapping[str, Any], read_file: FileReader) -> dict[str, Any]:
    kind = part.get("type")
    if kind in ("text", "input_text"):
        return {"type": "text", "text": part.get("text", "")}
    if kind == "input_image":
        url = part.get("image_url")
        if not url:
            data, filename = read_file(part["file_id"])
            url = data_url(sniff_mime(data, filename), data)
        image: dict[str, Any] = {"url": url}
        if part.get("detail"):
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    if kind == "input_file":
        if part.get("file_data"):
            data_text, filename = part["file_data"], part.get("filename") or "file"
        elif not part.get("file_id"):
            raise InvalidRequest("A batch line can't carry a file by URL (file_url): give the file itself, or its bytes")
        else:
            data, filename = read_file(part["file_id"])
            data_text = data_url(sniff_mime(data, filename), data)
        return {"type": "file", "file": {"filename": part.get("filename") or filename, "file_data": data_text}}
    raise InvalidRequest(f"A batch line can't carry a content part of type {kind!r}")
