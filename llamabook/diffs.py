"""What changed between two prompt versions: the unified text diff, the variables, word-level pieces.

``client.prompts.diff("tutor@1", "tutor@2")`` resolves both references and returns a
:class:`PromptDiff`; notebooks show it with the changes marked inline (``llamabook.views``).
The PromptEditor shows :func:`diff_draft` (its unsaved text against the version shown).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from .templates import PLACEHOLDER, placeholders
from .types import Prompt
from .types.base import NotebookRepr
from .types.refs import PromptRef

Op = Literal["equal", "insert", "delete"]
Segment = tuple[Op, str]

#: One token each: a placeholder, a line break, a run of other whitespace, a word, one other character.
#: Joined again they give back the text exactly, so no whitespace is lost in the inline view.
TOKEN = re.compile(rf"{PLACEHOLDER.pattern}|\n|[^\S\n]+|\w+|[^\w\s]")


def tokens(text: str) -> list[str]:
    """``text`` cut into diff tokens (see :data:`TOKEN`); ``"".join(tokens(t)) == t``."""
    return [match.group(0) for match in TOKEN.finditer(text)]


def diff_texts(old: str, new: str) -> list[Segment]:
    """``(op, text)`` pieces turning ``old`` into ``new`` word by word; op is equal, delete or insert.

    The ``equal`` and ``delete`` pieces join to ``old``, the ``equal`` and ``insert`` pieces to
    ``new``. A replaced word is a delete followed by an insert.
    """
    a, b = tokens(old or ""), tokens(new or "")
    # A typical edit is local: match the common start and end first, so a long template typed
    # into the editor is not compared token by token on every keystroke.
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    pieces: list[Segment] = [("equal", "".join(a[:start]))]
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    matcher = difflib.SequenceMatcher(None, middle_a, middle_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(("equal", "".join(middle_a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            pieces.append(("delete", "".join(middle_a[i1:i2])))
        if tag in ("insert", "replace"):
            pieces.append(("insert", "".join(middle_b[j1:j2])))
    pieces.append(("equal", "".join(a[len(a) - end :])))
    return _merged(pieces)


def _merged(pieces: list[Segment]) -> list[Segment]:
    """Empty pieces dropped, neighbours with the same op joined."""
    merged: list[Segment] = []
    for op, text in pieces:
        if not text:
            continue
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def label_of(prompt: Prompt) -> str:
    """``tutor@2`` for a named prompt (its first name), else ``pmpt_…@2``."""
    name = (prompt.name or "").split(", ")[0]
    return f"{name or prompt.prompt_id}@{prompt.version}"


def label_for(ref: str | Prompt | PromptRef, prompt: Prompt) -> str:
    """How to name one side of a diff: the reference as written, with the version it resolved to.

    ``"tutor@1"`` and ``"tutor@production"`` stay as they are; ``"tutor"`` becomes ``"tutor@3"``;
    a :class:`Prompt` is named by :func:`label_of`.
    """
    if isinstance(ref, Prompt):
        return label_of(prompt)
    written = str(ref)
    return written if "@" in written else f"{written}@{prompt.version}"


@dataclass(frozen=True, repr=False)
class PromptDiff(NotebookRepr):
    """The difference from prompt version ``a`` to ``b``.

    ``unified`` is the line diff (``difflib.unified_diff``, empty when the templates are equal),
    ``added_variables`` / ``removed_variables`` compare the declared variables, and
    :meth:`segments` gives the word-level pieces the HTML view marks inline.
    """

    notebook_view = "diff"
    a: Prompt
    b: Prompt
    a_label: str = ""
    b_label: str = ""

    @property
    def unified(self) -> str:
        """The unified diff of the two templates, headed by both labels; empty when they are equal."""
        lines = difflib.unified_diff(
            self.a.template.splitlines(),
            self.b.template.splitlines(),
            fromfile=self.a_label,
            tofile=self.b_label,
            lineterm="",
        )
        return "\n".join(lines)

    @property
    def added_variables(self) -> list[str]:
        """Variables ``b`` declares and ``a`` does not, in ``b``'s order."""
        return [name for name in self.b.variables if name not in self.a.variables]

    @property
    def removed_variables(self) -> list[str]:
        """Variables ``a`` declares and ``b`` does not, in ``a``'s order."""
        return [name for name in self.a.variables if name not in self.b.variables]

    @property
    def changed(self) -> bool:
        """Whether the templates or the declared variables differ."""
        return self.a.template != self.b.template or self.a.variables != self.b.variables

    def segments(self) -> list[Segment]:
        """``(op, text)`` pieces from ``a``'s template to ``b``'s, op in equal / insert / delete."""
        return diff_texts(self.a.template, self.b.template)

    def __repr__(self) -> str:
        what = "changed" if self.changed else "no changes"
        return f"PromptDiff({self.a_label} → {self.b_label}, {what})"


def diff_prompts(a: Prompt, b: Prompt, *, a_label: str | None = None, b_label: str | None = None) -> PromptDiff:
    """The :class:`PromptDiff` from ``a`` to ``b``; labels default to ``tutor@1`` / ``pmpt_…@1``.

    The prompts are copied, so later changes to the objects passed do not change the diff.
    """
    old, new = a.model_copy(deep=True), b.model_copy(deep=True)
    return PromptDiff(
        old,
        new,
        a_label if a_label is not None else label_of(old),
        b_label if b_label is not None else label_of(new),
    )


def diff_draft(shown: Prompt, text: str, *, label: str = "unsaved") -> PromptDiff:
    """What saving ``text`` over the version ``shown`` would change.

    The draft declares the text's placeholders, as ``client.prompts.save`` does by default.
    """
    draft = shown.model_copy(update={"prompt": text, "variables": placeholders(text)})
    return diff_prompts(shown, draft, b_label=label)


__all__ = ["PromptDiff", "Segment", "diff_draft", "diff_prompts", "diff_texts", "label_for", "label_of", "tokens"]
