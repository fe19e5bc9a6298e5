"""How a person names a stored prompt: ``pmpt_…``, ``pmpt_…@2``, ``tutor``, ``tutor@2`` (``tutor@production``: a label).

This is the one parser of prompt references. The wire model that is sent to a server is
:class:`~llamabook.types.PromptReference`; a :class:`PromptRef` is what a user writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidRequest

#: A prompt name: letters, digits, ``_``, ``-`` and ``.``, up to 128 characters, not a ``pmpt_`` id.
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
#: After ``@``: a version number, or a label (a word starting with a letter).
LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True)
class PromptRef:
    """A parsed reference: ``target`` is a prompt id or a name, with a version number or a label (or neither)."""

    target: str
    version: int | None = None
    label: str | None = None

    @property
    def is_id(self) -> bool:
        return self.target.startswith("pmpt_")

    @property
    def name(self) -> str | None:
        return None if self.is_id else self.target

    @classmethod
    def parse(cls, text: str) -> PromptRef:
        """Read ``text``; raise :class:`InvalidRequest` saying what a reference looks like."""
        if not isinstance(text, str):
            raise InvalidRequest(f"A prompt reference is a str such as 'tutor@2' or 'pmpt_…', not {type(text).__name__}")
        target, sep, after = text.strip().partition("@")
        if not target.startswith("pmpt_"):  # an id's form is the backend's to check (PromptNotFound)
            check_name(target)
        if not sep:
            return cls(target)
        if after[:1].isdigit():
            return cls(target, version=version_number(after))
        if LABEL.fullmatch(after):
            return cls(target, label=after)
        raise InvalidRequest(
            f"{text!r}: after '@' write a version number from 1 up (e.g. {target}@2) or a label (e.g. {target}@production)"
        )

    def __str__(self) -> str:
        after = self.version if self.version is not None else self.label
        return f"{self.target}@{after}" if after is not None else self.target


def version_number(value: Any) -> int:
    """A prompt version given as ``2`` or ``"2"`` (the wire sends strings) as an int; else :class:`InvalidRequest`."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidRequest(f"A prompt version is a whole number from 1 up, like 2, not {value!r}")
    text = str(value).strip()
    if not text.isdigit() or text != str(int(text)) or int(text) < 1:
        raise InvalidRequest(f"A prompt version is a whole number from 1 up, like 2, not {value!r}")
    return int(text)


def check_name(name: str) -> str:
    """``name`` if it can name a prompt, else :class:`InvalidRequest` saying why."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or name.startswith("pmpt_"):
        raise InvalidRequest(
            f"{name!r} can't name a prompt: use letters, digits, '_', '-' or '.' (up to 128, not starting with 'pmpt_')"
        )
    return name


def check_label(label: str) -> str:
    """``label`` if it can be a label (a word starting with a letter, as in ``tutor@production``), else why not."""
    if not isinstance(label, str) or not LABEL.fullmatch(label):
        raise InvalidRequest(
            f"{label!r} can't be a label: use a word of letters, digits, '_' or '-' starting with a letter "
            "(up to 64), e.g. 'production'"
        )
    return label


def looks_like_ref(text: str) -> bool:
    """Whether ``text`` is meant as a reference rather than a template: one word, no ``{{``.

    Such a text is then parsed as a reference, so a mistyped one (``tutor@2x``) is an error
    instead of a template of its own.
    """
    return bool(text) and not any(c.isspace() for c in text) and "{{" not in text
