"""A response's views: output (Markdown, or a structured output's fields), input, usage, raw JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .formats import CUT_OFF_MARK, REPLAYED_MARK, thumbnail, when
from .sanitize import _safe, render, safe_markdown_html
from .tool_steps import Results, call_steps, call_text, message_label, steps_html, steps_text, trace_steps

if TYPE_CHECKING:
    from ..resources.files import Files
    from ..types import Response


class Client(Protocol):
    """What the views need of a client: its files, to name and preview a response's attachments."""

    files: Files


# ---- responses ---------------------------------------------------------------------------------


@dataclass
class Attachment:
    """An image or file a response's prompt carried, as shown in the input section."""

    name: str
    kind: str  # "image" or "file"
    file_id: str | None = None
    filename: str | None = None
    size: int | None = None
    url: str | None = None
    thumbnail: str | None = None  # a data: URL, when the bytes were read


def attachments(response: Response, client: Client | None = None) -> list[Attachment]:
    """The media variables of a response's prompt; with a client, also filenames, sizes and thumbnails."""
    from ..types import InputFile, InputImage

    variables = response.prompt.variables if response.prompt and response.prompt.variables else {}
    found: list[Attachment] = []
    for name, value in variables.items():
        if isinstance(value, InputImage):
            item = Attachment(name, "image", file_id=value.file_id, url=value.image_url)
        elif isinstance(value, InputFile):
            item = Attachment(name, "file", file_id=value.file_id, filename=value.filename, url=value.file_url)
        else:
            continue
        if client is not None and item.file_id:
            _describe_file(item, client)
        found.append(item)
    return found


def _describe_file(item: Attachment, client: Client) -> None:
    from ..errors import LlamabookError

    try:
        stored = client.files.retrieve(item.file_id or "")
        item.filename, item.size = item.filename or stored.filename, stored.bytes
        if item.kind == "image":
            item.thumbnail = thumbnail(client.files.content(stored.id))
    except LlamabookError:  # deleted since, or the server is away: show what the response says
        pass


def _message_text(content: Any) -> str:
    """A chat message's content as text; media parts as a short marker (never their bytes)."""
    if isinstance(content, str):
        return content
    lines = []
    for part in content or []:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            lines.append(str(part.get("text", "")))
        elif kind == "image_url":
            url = str((part.get("image_url") or {}).get("url", ""))
            lines.append(f"[image {url.split(',', 1)[0] if url.startswith('data:') else url}]")
        elif kind == "file":
            lines.append(f"[file {(part.get('file') or {}).get('filename', '')}]")
        elif kind in ("input_image", "input_file"):
            lines.append(f"[{kind} {part.get('name') or part.get('file_id') or ''}]")
        else:
            lines.append(json.dumps(part, default=str))
    return "\n\n".join(lines)


def _shown_message(message: Mapping[str, Any]) -> dict[str, str]:
    """A trace's message as the Input section shows it (a tool call or result by its call, see ``message_label``)."""
    role, text = message_label(message) or (str(message.get("role", "")), _message_text(message.get("content")))
    return {"role": role, "text": text}


def prompt_label(response: Response) -> str | None:
    """``pmpt_…@2`` for a response made from a prompt (the resolved version if the server echoed none)."""
    if response.prompt is None:
        return None
    version = response.prompt.version or (response.trace.prompt_version if response.trace else None)
    return f"{response.prompt.id}@{version}" if version else response.prompt.id


def usage_rows(response: Response) -> list[tuple[str, Any]]:
    """(label, value) rows of the usage and timing section; unknown values are left out."""
    usage, trace = response.usage, response.trace
    rows: list[tuple[str, Any]] = [("status", response.status), ("model", response.model)]
    if response.cut_off:
        rows.insert(1, ("stopped", CUT_OFF_MARK))
    if usage is not None:
        counted = response.input_tokens is not None  # rows with None are left out: not reported
        rows += [
            ("input tokens", response.input_tokens),
            ("output tokens", usage.output_tokens),
            ("total tokens", usage.total_tokens if counted else None),
        ]
        if usage.input_tokens_details.cached_tokens:
            rows.append(("cached input tokens", usage.input_tokens_details.cached_tokens))
    rows.append(("latency", latency_label(response, digits=3)))  # left out when unknown, like the rest
    rows.append(("created", when(response.created_at)))
    if response.completed_at is not None:
        rows.append(("completed", when(response.completed_at)))
    if trace is not None:
        rows += [
            ("finish reason", trace.finish_reason),
            ("tokens counted by", trace.usage_source),
            ("engine", trace.engine),
            ("backend", trace.backend),
        ]
    rows += [
        ("prompt", prompt_label(response)),
        ("instructions", response.instructions),
        ("temperature", response.temperature),
        ("top_p", response.top_p),
        ("max_output_tokens", response.max_output_tokens),
        ("previous response", response.previous_response_id),
    ]
    return [(name, value) for name, value in rows if value is not None and value != ""]


def tokens_label(result: Response | Mapping[str, Any], unit: str = " tokens") -> str | None:
    """``12 in / 34 out tokens`` (``? in`` where the server reported no input count), or None without usage.

    ``result`` is a :class:`Response`, or a grid frame's row as a dict (its ``input_tokens`` and
    ``output_tokens`` cells); ``unit=""`` gives the short form a table cell shows, ``12 in / 34 out``.
    """
    if isinstance(result, Mapping):
        counted, output = result.get("input_tokens"), result.get("output_tokens")
        if counted is None and output is None:
            return None
    else:
        if result.usage is None:
            return None
        counted, output = result.input_tokens, result.usage.output_tokens
    return f"{'?' if counted is None else counted} in / {'?' if output is None else output} out{unit}"


def latency_label(result: Response | Mapping[str, Any], digits: int = 2) -> str | None:
    """``1.23 s``; ``replayed`` for an answer replayed from a cassette (it has no latency); None when not measured.

    The one rule for showing a latency, in every view: ``result`` is a :class:`Response`, or a grid
    frame's row as a dict (its ``latency_s`` and ``replayed`` cells).
    """
    if isinstance(result, Mapping):
        latency, replayed = result.get("latency_s"), result.get("replayed")
    else:
        latency, replayed = result.latency_s, result.replayed
    if replayed:  # True, or a frame's numpy True; a missing cell is None
        return REPLAYED_MARK
    return f"{latency:.{digits}f} s" if latency is not None else None


def summary_line(response: Response, name: str | None = None, calls: bool = True) -> str:
    """The one summary line every face shows under an answer.

    ``model · pmpt_…@version (name) · tokens in/out · latency``, then the status when it is
    not ``completed``, the cut-off mark when the answer stopped at its token limit, and (with
    ``calls``) the tool calls it asks for, ``→ get_weather(city='Paris')``.
    ``name`` is the prompt's name, when the caller knows it.
    """
    parts = [response.model]
    label = prompt_label(response)
    if label is not None:
        parts.append(label + (f" ({name})" if name else ""))
    parts += [tokens_label(response) or "tokens n/a", latency_label(response) or "latency n/a"]
    if response.status != "completed":
        parts.append(response.status)
    if response.cut_off:
        parts.append(CUT_OFF_MARK)
    if calls and response.tool_calls:
        parts.append("→ " + ", ".join(call_text(step) for step in call_steps(response)))
    return " · ".join(parts)


def parsed_rows(response: Response) -> list[tuple[str, str]] | None:
    """A structured output's fields as (field, value) rows (values other than text as JSON); None when unparsed.

    From ``response.output_parsed``: set when the output validated against the request's schema
    (also re-read for a stored response with a ``json_schema`` text format).
    """
    try:
        value = response.output_parsed
    except Exception:  # a stored schema that no longer reads: show the text as it is
        return None
    if value is None:
        return None
    return field_rows(value)


def field_rows(value: Any) -> list[tuple[str, str]]:
    """A structured value's fields as (field, value) rows: text as it is, anything else as JSON."""
    if hasattr(value, "model_dump"):  # a pydantic instance
        value = value.model_dump(mode="json")
    if not isinstance(value, Mapping):
        return [("value", json.dumps(value, ensure_ascii=False, default=str))]
    return [
        (str(name), item if isinstance(item, str) else json.dumps(item, ensure_ascii=False, default=str))
        for name, item in value.items()
    ]


def fields_html(value: Any) -> str:
    """A structured output's fields as an HTML table (escaped): for one still streaming, the fields so far."""
    return render("fields.html", rows=field_rows(value) if value is not None else [])


def response_context(
    response: Response, files: list[Attachment] | None = None, results: Results = None
) -> dict[str, Any]:
    """What the response templates show, computed once.

    ``results``: the results of the response's tool calls, when the caller knows them (``{call_id: text}``
    or the next request's input items); the calls' steps show them. The results this response's own
    request sent (its trace's tool messages) are steps too, before the output.
    """
    messages = [_shown_message(m) for m in response.rendered_messages]
    return {
        "r": response,
        "cut_off_mark": CUT_OFF_MARK if response.cut_off else None,
        "prompt": prompt_label(response),
        "tokens": tokens_label(response),  # the header's labels are summary_line's
        "latency": latency_label(response),
        "output_html": _safe(safe_markdown_html(response.output_text)),
        "parsed_rows": parsed_rows(response),
        "steps_html": _safe(steps_html(call_steps(response, results), heading="tool calls")),
        "sent_html": _safe(steps_html(trace_steps(response), heading="results sent")),
        "messages": messages,
        "attachments": files if files is not None else attachments(response),
        "usage_rows": usage_rows(response),
        "raw_json": json.dumps(response.model_dump(mode="json"), indent=2, ensure_ascii=False),
    }


def response_sections(
    response: Response, files: list[Attachment] | None = None, results: Results = None
) -> dict[str, str]:
    """HTML of each part of a response: ``header``, ``output``, ``input``, ``usage``, ``raw``."""
    context = response_context(response, files, results)
    return {part: render(f"response_{part}.html", **context) for part in ("header", "output", "input", "usage", "raw")}


def response_html(response: Response, files: list[Attachment] | None = None, results: Results = None) -> str:
    """The whole response as one HTML block (``<div class="llamabook-response">``)."""
    return render("response.html", **response_context(response, files, results))


def response_text(response: Response, results: Results = None) -> str:
    """The plain-text form: one summary line, the results its request sent (``← name(…) = result``),
    the output text, then its tool calls (``→ get_weather(city='Paris')``, `` = result`` when known)."""
    lines = [f"Response {response.id} · {summary_line(response, calls=False)}"]
    if response.error is not None:
        lines.append(f"error {response.error.code}: {response.error.message}")
    lines += steps_text(trace_steps(response), arrow="←")
    if response.output_text:
        lines.append(response.output_text)
    lines += steps_text(call_steps(response, results))
    return "\n".join(lines)
