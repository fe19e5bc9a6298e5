"""What the wire types call for their notebook reprs: the text and HTML view of any of them.

The wire types reach this module through one lazy import (``llamabook.types.base._views``);
each names its view in ``notebook_view``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from .agreement import agreement_html, agreement_text
from .behaviour import behaviour_diff_html, behaviour_diff_text
from .comparisons import comparison_html, comparison_text
from .files import file_html, file_text
from .prompts import diff_html, diff_text, prompt_html, prompt_text
from .responses import response_html, response_text
from .threads import thread_html, thread_text


#: Each wire type's (text view, HTML view), by the name its class gives (``NotebookRepr.notebook_view``).
VIEWS: dict[str, tuple[Callable[[Any], str], Callable[[Any], str]]] = {
    "response": (response_text, response_html),
    "prompt": (prompt_text, prompt_html),
    "file": (file_text, file_html),
    "diff": (diff_text, diff_html),
    "comparison": (comparison_text, comparison_html),
    "behaviour_diff": (behaviour_diff_text, behaviour_diff_html),
    "agreement": (agreement_text, agreement_html),
    "thread": (thread_text, thread_html),
}


def _views(obj: Any) -> tuple[Callable[[Any], str], Callable[[Any], str]] | None:
    """(text view, HTML view) of a wire object (a Response, Prompt, File, PromptDiff or Comparison)."""
    return VIEWS.get(getattr(type(obj), "notebook_view", ""))


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
