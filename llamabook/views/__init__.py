"""HTML and plain-text views of responses, prompts and files, for notebooks.

Every HTML string here comes out of a jinja2 template with autoescaping, so text from a
model, a template, a filename or a server is shown, never interpreted. Model output is
rendered from Markdown with raw HTML disabled and then sanitized with an allowlist
(:func:`safe_markdown_html`), so ``<script>``, ``onerror=`` and ``javascript:`` links are inert.

jinja2, markdown-it-py and nh3 (``pip install 'llamabook[widgets]'``) are imported on first
use; without them :func:`repr_html` returns ``None`` and notebooks show the text/plain form.
The wire types call :func:`repr_html` / :func:`repr_mimebundle` from their ``_repr_*_`` methods.

By subject: :mod:`.sanitize` (the one path that makes text inert: Markdown sanitized, jinja2 with
autoescaping), :mod:`.responses`, :mod:`.prompts` (and diffs), :mod:`.files`, :mod:`.comparisons`
(a grid side by side), :mod:`.grids` (a grid's frame as a compact table), :mod:`.formats` and
:mod:`.pieces` (what the widgets share), :mod:`.tool_steps` (tool calls as steps), :mod:`.threads` (a
conversation), :mod:`.reprs` (what the wire types call). This module only names them.
"""

from .sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, URL_SCHEMES, environment, render, safe_markdown_html
from .formats import CUT_OFF_MARK, REPLAYED_MARK, STATUS_COLOURS, human_size, template_segments, thumbnail, when
from .pieces import BREAK, LONG_WORD, breakable, clamped_cell, error_html, header_cell, header_label, record_html, status_badge, text_cell
from .responses import Attachment, Client, attachments, field_rows, fields_html, latency_label, parsed_rows, prompt_label, response_context, response_html, response_sections, response_text, summary_line, tokens_label, usage_rows
from .prompts import diff_html, diff_text, prompt_html, prompt_text
from .files import file_chip_html, file_html, file_text
from .comparisons import CHECK_COLOURS, CHECK_ERROR_CHARS, check_mark_html, compare_cell_html, comparison_html, comparison_text
from .tool_steps import Step, call_steps, call_text, sent_steps, steps_html, steps_text, trace_steps
from .threads import TurnView, thread_html, thread_text, thread_turns
from .reprs import repr_html, repr_mimebundle, repr_text

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "BREAK",
    "CHECK_COLOURS",
    "CHECK_ERROR_CHARS",
    "CUT_OFF_MARK",
    "LONG_WORD",
    "REPLAYED_MARK",
    "STATUS_COLOURS",
    "URL_SCHEMES",
    "Attachment",
    "Client",
    "Step",
    "TurnView",
    "attachments",
    "breakable",
    "call_steps",
    "call_text",
    "check_mark_html",
    "clamped_cell",
    "compare_cell_html",
    "comparison_html",
    "comparison_text",
    "diff_html",
    "diff_text",
    "environment",
    "error_html",
    "field_rows",
    "fields_html",
    "file_chip_html",
    "file_html",
    "file_text",
    "header_cell",
    "header_label",
    "human_size",
    "latency_label",
    "parsed_rows",
    "prompt_html",
    "prompt_label",
    "prompt_text",
    "record_html",
    "render",
    "repr_html",
    "repr_mimebundle",
    "repr_text",
    "response_context",
    "response_html",
    "response_sections",
    "response_text",
    "safe_markdown_html",
    "sent_steps",
    "status_badge",
    "steps_html",
    "steps_text",
    "summary_line",
    "template_segments",
    "text_cell",
    "thread_html",
    "thread_text",
    "thread_turns",
    "thumbnail",
    "tokens_label",
    "trace_steps",
    "usage_rows",
    "when",
]
