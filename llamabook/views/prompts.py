"""A prompt's views, and the diff of two versions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .formats import template_segments
from .sanitize import render

if TYPE_CHECKING:
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
