"""The MIME bundles the magics display: an answer, its parsed object, its fields while streaming, a note."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..types import Response


def body_bundle(text: str, fmt: str, response: Response | None = None) -> dict[str, Any]:
    """The MIME bundle of an answer: Markdown, plain text, or the response's JSON.

    Markdown goes out as HTML made by the views' one sanitizing path, never as ``text/markdown``:
    JupyterLab renders that with raw HTML allowed, so a model's ``<img onerror>`` or ``<style>``
    would run (and a saved notebook is trusted, so it would run again when reopened).
    """
    if fmt == "json" and response is not None:
        data = response.model_dump(mode="json")
        return {"application/json": data, "text/plain": json.dumps(data, indent=2)}
    if fmt == "markdown":
        try:
            from ..views import safe_markdown_html
        except ImportError:  # without the widgets extra (markdown-it-py, nh3): plain text only
            return {"text/plain": text}
        return {"text/html": safe_markdown_html(text), "text/plain": text}
    return {"text/plain": text}


def parsed_bundle(parsed: Any) -> dict[str, Any]:
    """The MIME bundle of a validated structured answer: its JSON, pretty as text and as ``application/json``."""
    data = parsed.model_dump(mode="json") if hasattr(parsed, "model_dump") else parsed
    bundle: dict[str, Any] = {"text/plain": json.dumps(data, indent=2, ensure_ascii=False)}
    if isinstance(data, (dict, list)):  # what front ends render as a JSON tree
        bundle["application/json"] = data
    return bundle


def fields_bundle(partial: Any) -> dict[str, Any]:
    """The MIME bundle of a structured output still streaming: its fields so far (escaped HTML) and as JSON text."""
    text = json.dumps(partial, indent=2, ensure_ascii=False)
    try:
        from ..views import fields_html
    except ImportError:  # without the widgets extra (jinja2): plain text only
        return {"text/plain": text}
    return {"text/html": fields_html(partial), "text/plain": text}


def note_bundle(line: str) -> dict[str, str]:
    """A small one-line note (values used, the summary line): escaped HTML, so a file name stays text."""
    return {"text/plain": line, "text/html": f"<sub>{html.escape(line)}</sub>"}
