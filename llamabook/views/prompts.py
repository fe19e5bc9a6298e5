"""A prompt's views, and the diff of two versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .formats import template_segments
from .sanitize import render

if TYPE_CHECKING:
    import pandas

    from ..diffs import PromptDiff
    from ..types import Prompt


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


# ---- a listing of prompts (%llama prompts) ---------------------------------------------------------

#: Characters of a template a listing shows, on one line (the rest is "…").
TEMPLATE_CHARS = 60


def one_line(text: Any, limit: int = TEMPLATE_CHARS) -> str:
    """A template on one line: runs of whitespace (line breaks too) as one space, cut to ``limit`` with "…"."""
    flat = " ".join(str(text).split()) if _given(text) else ""
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _given(value: Any) -> bool:
    """False for a missing value (None, NaN, pd.NA)."""
    if value is None:
        return False
    try:
        return not bool(value != value)  # NaN; pd.NA raises in bool()
    except (TypeError, ValueError):
        return False


def _listed(value: Any) -> str:
    """A cell of a listing: a list as "a, b" (empty for none), a missing value empty, else its text."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray":
        return ", ".join(map(str, value))
    return str(value) if _given(value) else ""


def prompt_list_rows(frame: pandas.DataFrame) -> tuple[list[str], list[list[str]]]:
    """A prompt listing's (columns, rows) as text: the template on one line, shortened; no ``<NA>`` or ``[]``."""
    columns = [str(name) for name in frame.columns]
    rows = [
        [one_line(value) if name == "prompt" else _listed(value) for name, value in zip(columns, values)]
        for values in frame.itertuples(index=False, name=None)
    ]
    return columns, rows


def prompt_list_html(frame: pandas.DataFrame) -> str:
    """A prompt listing (``%llama prompts``) as a compact table: one line per prompt, every value escaped."""
    columns, rows = prompt_list_rows(frame)
    return render("prompt_list.html", columns=columns, rows=rows)


def prompt_list_text(frame: pandas.DataFrame) -> str:
    """The same listing as text: the columns aligned, one line per prompt."""
    columns, rows = prompt_list_rows(frame)
    return _aligned([columns, *rows])


def _aligned(lines: Iterable[list[str]]) -> str:
    lines = list(lines)
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))] if lines and lines[0] else []
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines)
