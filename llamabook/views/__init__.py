"""HTML and plain-text views of responses, prompts and files, for notebooks.

Every HTML string here comes out of a jinja2 template with autoescaping, so text from a
model, a template, a filename or a server is shown, never interpreted. Model output is
rendered from Markdown with raw HTML disabled and then sanitized with an allowlist
(:func:`safe_markdown_html`), so ``<script>``, ``onerror=`` and ``javascript:`` links are inert.

jinja2, markdown-it-py and nh3 (``pip install 'llamabook[widgets]'``) are imported on first
use; without them :func:`repr_html` returns ``None`` and notebooks show the text/plain form.
The wire types call :func:`repr_html` / :func:`repr_mimebundle` from their ``_repr_*_`` methods.
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..templates import PLACEHOLDER

if TYPE_CHECKING:
    import jinja2

    from ..evaluation.compare import Cell, CheckMark, Comparison
    from ..diffs import PromptDiff
    from ..resources.files import Files
    from ..types import File, Prompt, Response


class Client(Protocol):
    """What the views need of a client: its files, to name and preview a response's attachments."""

    files: Files


#: Tags and attributes model output may keep after Markdown rendering; everything else is dropped.
ALLOWED_TAGS = frozenset(
    "a p br hr em strong del s code pre blockquote ul ol li h1 h2 h3 h4 h5 h6 table thead tbody tr th td".split()
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
STATUS_COLOURS = {
    "completed": "#1a7f37",
    "failed": "#cf222e",
    "incomplete": "#9a6700",
    "cancelled": "#9a6700",
    "in_progress": "#0969da",
    "queued": "#6e7781",
}


# ---- Markdown, sanitized ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    # html=False: raw HTML in the text is shown as text; tables and ~~strike~~ as in GitHub.
    # No images: ![alt](url) stays a link, so model output never makes the page fetch a URL
    # (a known way for injected instructions to send data out).
    # breaks=True: a model's single line breaks stay line breaks (Markdown would join the lines).
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
    return md.enable(["table", "strikethrough"]).disable("image")


def safe_markdown_html(text: str) -> str:
    """Model text as HTML that is safe to insert into a page.

    The Markdown is rendered with raw HTML disabled, then cleaned with an allowlist of tags
    and attributes (nh3): no script, no event handlers, no style beyond table alignment, no
    images (``![alt](url)`` becomes a link, so nothing is fetched), and links only to http(s)
    and mailto, opened with ``rel="noopener noreferrer nofollow"``.
    """
    import nh3

    rendered = _markdown().render(text or "")
    return nh3.clean(
        rendered,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


# ---- small helpers -----------------------------------------------------------------------------


def human_size(size: int | None) -> str:
    """``1234567`` → ``'1.2 MB'`` (decimal units, as file browsers show them)."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"  # pragma: no cover


def when(timestamp: int | float | None) -> str:
    """A Unix timestamp as ``YYYY-MM-DD HH:MM:SS UTC``."""
    if timestamp is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def thumbnail(data: bytes, max_px: int = 96) -> str | None:
    """A PNG ``data:`` URL of the image scaled to fit ``max_px``, or None if it is not an image."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((max_px, max_px))
            if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                image = image.convert("RGBA")
            out = io.BytesIO()
            image.save(out, format="PNG")
    except Exception:  # not an image Pillow can read: show no thumbnail
        return None
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def template_segments(template: str) -> list[tuple[str, str]]:
    """``("text", ...)`` and ``("var", "{{name}}")`` pieces, to highlight placeholders safely."""
    pieces: list[tuple[str, str]] = []
    last = 0
    for match in PLACEHOLDER.finditer(template or ""):
        if match.start() > last:
            pieces.append(("text", template[last : match.start()]))
        pieces.append(("var", match.group(0)))
        last = match.end()
    if last < len(template or ""):
        pieces.append(("text", template[last:]))
    return pieces


# ---- jinja2 ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The jinja2 environment of these views: package templates, autoescaping always on."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["size"] = human_size
    env.filters["when"] = when
    env.globals["colour"] = lambda status: STATUS_COLOURS.get(str(status), "#6e7781")
    return env


def render(name: str, **context: Any) -> str:
    """Render one of the package templates (``templates/<name>``) with autoescaping."""
    return environment().get_template(name).render(**context)


def _safe(html: str) -> Any:
    """Mark HTML that was produced by this module (sanitized or rendered) as safe for jinja."""
    from markupsafe import Markup

    return Markup(html)


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
    if response.latency_s is not None:
        rows.append(("latency", f"{response.latency_s:.3f} s"))
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


def tokens_label(response: Response) -> str | None:
    """``12 in / 34 out tokens`` (``? in`` where the server reported no input count), or None without usage."""
    usage = response.usage
    if usage is None:
        return None
    counted = response.input_tokens
    return f"{'?' if counted is None else counted} in / {usage.output_tokens} out tokens"


def latency_label(response: Response) -> str | None:
    """``1.23 s``, or None when not measured."""
    return f"{response.latency_s:.2f} s" if response.latency_s is not None else None


def usage_parts(response: Response) -> list[str]:
    """The tokens and latency of a response, for a one-line summary (what is known of them)."""
    return [part for part in (tokens_label(response), latency_label(response)) if part is not None]


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


def response_context(response: Response, files: list[Attachment] | None = None) -> dict[str, Any]:
    """What the response templates show, computed once."""
    messages = [
        {"role": str(m.get("role", "")), "text": _message_text(m.get("content"))} for m in response.rendered_messages
    ]
    return {
        "r": response,
        "cut_off_mark": CUT_OFF_MARK if response.cut_off else None,
        "prompt": prompt_label(response),
        "usage": response.usage,
        "latency": latency_label(response),
        "output_html": _safe(safe_markdown_html(response.output_text)),
        "parsed_rows": parsed_rows(response),
        "messages": messages,
        "attachments": files if files is not None else attachments(response),
        "usage_rows": usage_rows(response),
        "raw_json": json.dumps(response.model_dump(mode="json"), indent=2, ensure_ascii=False),
    }


def response_sections(response: Response, files: list[Attachment] | None = None) -> dict[str, str]:
    """HTML of each part of a response: ``header``, ``output``, ``input``, ``usage``, ``raw``."""
    context = response_context(response, files)
    return {part: render(f"response_{part}.html", **context) for part in ("header", "output", "input", "usage", "raw")}


def response_html(response: Response, files: list[Attachment] | None = None) -> str:
    """The whole response as one HTML block (``<div class="llamabook-response">``)."""
    return render("response.html", **response_context(response, files))


def response_text(response: Response) -> str:
    """The plain-text form: one summary line, then the output text."""
    parts = [f"Response {response.id}", response.status, response.model]
    if response.cut_off:
        parts.insert(2, CUT_OFF_MARK)
    label = prompt_label(response)
    if label:
        parts.append(f"prompt {label}")
    parts += usage_parts(response)
    lines = [" · ".join(parts)]
    if response.error is not None:
        lines.append(f"error {response.error.code}: {response.error.message}")
    if response.output_text:
        lines.append(response.output_text)
    return "\n".join(lines)


# ---- prompts and files -----------------------------------------------------------------------------


def prompt_html(prompt: Prompt) -> str:
    """A prompt version: id, version, default mark, variables and the template with placeholders marked."""
    return render("prompt.html", p=prompt, segments=template_segments(prompt.template))


def prompt_text(prompt: Prompt) -> str:
    default = " (default)" if prompt.is_default else ""
    names = ", ".join(prompt.variables) or "none"
    return f"Prompt {prompt.prompt_id}@{prompt.version}{default} · variables: {names}\n{prompt.template}"


def diff_html(diff: PromptDiff) -> str:
    """A prompt diff (``<div class="llamabook-prompt-diff">``): both labels, the variables added
    and removed, and the template with deletions in ``<del>`` and insertions in ``<ins>`` (all
    text escaped: a template's own HTML stays text)."""
    return render(
        "diff.html",
        old_label=diff.a_label,
        new_label=diff.b_label,
        changed=diff.changed,
        added=diff.added_variables,
        removed=diff.removed_variables,
        segments=diff.segments(),
    )


def diff_text(diff: PromptDiff) -> str:
    """One summary line (labels, variables added and removed), then the unified diff."""
    parts = [f"Diff {diff.a_label} → {diff.b_label}"]
    if diff.added_variables:
        parts.append("variables added: " + ", ".join(diff.added_variables))
    if diff.removed_variables:
        parts.append("variables removed: " + ", ".join(diff.removed_variables))
    if not diff.changed:
        parts.append("no changes")
    return "\n".join([" · ".join(parts), *([diff.unified] if diff.unified else [])])


def file_html(file: File, *, preview: str | None = None, excerpt: str | None = None) -> str:
    """A file's metadata; ``preview`` is a thumbnail ``data:`` URL, ``excerpt`` the start of its text."""
    return render("file.html", f=file, preview=preview, excerpt=excerpt)


def file_chip_html(file: File, thumb: str | None = None) -> str:
    """A one-line file label: thumbnail (``data:`` URL, optional), name and size."""
    return render("file_chip.html", f=file, thumb=thumb)


def file_text(file: File) -> str:
    created = when(file.created_at)
    return f"File {file.id} · {file.filename} · {human_size(file.bytes)} · {file.purpose} · created {created}"


# ---- comparisons --------------------------------------------------------------------------------------

#: Colours of a comparison's check marks, by :attr:`llamabook.evaluation.compare.CheckMark.kind` (an error is
#: amber, not a fail's red: the check raised, it gave no verdict).
CHECK_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "score": "#0969da", "error": "#9a6700", "none": "#6e7781"}
#: Characters of a check's error message a comparison cell shows (the whole message is its tooltip).
CHECK_ERROR_CHARS = 200


def compare_cell_html(cell: Cell | None) -> str:
    """One call of a comparison: its status (unless completed), output as text, error, check marks, and
    each raised check's message (as text)."""
    return render(
        "compare_cell.html",
        cell=cell,
        check_colours=CHECK_COLOURS,
        cut_off_mark=CUT_OFF_MARK,
        error_chars=CHECK_ERROR_CHARS,
    )


def check_mark_html(mark: CheckMark, named: bool = True) -> str:
    """One check mark (``✓``, ``✗``, ``0.80``, ``⚠`` for a check that raised, ``–``), its name when
    ``named``; a check's error message is its (escaped) tooltip."""
    return render("check_mark.html", c=mark, check_colours=CHECK_COLOURS, named=named)


def comparison_html(comparison: Comparison) -> str:
    """A comparison as a table: one line per input row, one column per (version, model); inline CSS only."""
    lines = [
        {
            "row": row,
            "own": [comparison.own[row][name] for name in comparison.own_columns],
            "cells": [comparison.cell(row, column) for column in comparison.columns],
        }
        for row in comparison.rows
    ]
    return render(
        "compare.html",
        summary=comparison.summary(),
        own_columns=comparison.own_columns,
        columns=comparison.columns,
        lines=lines,
        only_differences=comparison.only_differences,
        check_colours=CHECK_COLOURS,
        cut_off_mark=CUT_OFF_MARK,
        error_chars=CHECK_ERROR_CHARS,
    )


def comparison_text(comparison: Comparison) -> str:
    return comparison.summary()


# ---- small pieces for the widgets --------------------------------------------------------------------


def error_html(message: str) -> str:
    """An inline error box (empty message: empty string)."""
    return render("error.html", message=message) if message else ""


#: How every view marks an answer that stopped at max_output_tokens.
CUT_OFF_MARK = "cut off at max_output_tokens"


def status_badge(status: str, cut_off: bool = False) -> str:
    """A coloured status label; with ``cut_off``, a second label that says the answer was cut off."""
    return render("badge.html", status=status, cut_off=cut_off, mark=CUT_OFF_MARK)


def text_cell(text: Any, limit: int = 80, status: str | None = None) -> str:
    """One escaped table cell, cut to ``limit`` characters (the full text is its tooltip)."""
    value = "" if text is None else str(text)
    short = value if len(value) <= limit else value[: limit - 1] + "…"
    return render("cell.html", text=short, full=value if short != value else None, status=status)


def record_html(rows: list[tuple[str, Any]], status: str | None = None, note: str | None = None) -> str:
    """A (name, value) table, e.g. one grid row, with an optional status badge and note."""
    return render("record.html", rows=rows, status=status, note=note)


# ---- what the wire types call -------------------------------------------------------------------------


def _views(obj: Any) -> tuple[Callable[[Any], str], Callable[[Any], str]] | None:
    """(text view, HTML view) for a Response, Prompt, File or PromptDiff (subclasses too)."""
    from ..diffs import PromptDiff
    from ..types import File, Prompt, Response

    if isinstance(obj, Response):
        return response_text, response_html
    if isinstance(obj, Prompt):
        return prompt_text, prompt_html
    if isinstance(obj, File):
        return file_text, file_html
    if isinstance(obj, PromptDiff):
        return diff_text, diff_html
    from ..evaluation.compare import Comparison  # after the wire types: a Response's repr needs no grid module

    if isinstance(obj, Comparison):
        return comparison_text, comparison_html
    return None


def repr_text(obj: Any) -> str:
    """The text/plain form of a Response, Prompt, File or PromptDiff."""
    found = _views(obj)
    return found[0](obj) if found else repr(obj)


def repr_html(obj: Any) -> str | None:
    """The text/html form of a Response, Prompt, File or PromptDiff; None when the ``widgets`` extra is missing."""
    found = _views(obj)
    if found is None:
        return None
    try:
        return found[1](obj)
    except ImportError:
        return None


def repr_mimebundle(
    obj: Any, include: Collection[str] | None = None, exclude: Collection[str] | None = None
) -> dict[str, str]:
    """``{"text/plain": ..., "text/html": ...}`` for IPython, honouring ``include`` / ``exclude``."""
    wanted = [
        m for m in ("text/plain", "text/html") if (not include or m in include) and not (exclude and m in exclude)
    ]
    bundle: dict[str, str] = {}
    if "text/plain" in wanted:
        bundle["text/plain"] = repr_text(obj)
    if "text/html" in wanted:
        html = repr_html(obj)
        if html is not None:
            bundle["text/html"] = html
    return bundle


__all__ = [
    "CUT_OFF_MARK",
    "Attachment",
    "attachments",
    "check_mark_html",
    "compare_cell_html",
    "comparison_html",
    "comparison_text",
    "diff_html",
    "diff_text",
    "error_html",
    "file_chip_html",
    "file_html",
    "file_text",
    "human_size",
    "prompt_html",
    "prompt_text",
    "parsed_rows",
    "record_html",
    "repr_html",
    "repr_mimebundle",
    "repr_text",
    "response_html",
    "response_sections",
    "response_text",
    "safe_markdown_html",
    "status_badge",
    "text_cell",
    "thumbnail",
    "when",
]
