"""How a person names a stored prompt: ``pmpt_…``, ``pmpt_…@2``, ``tutor``, ``tutor@2`` (``tutor@production``: a label).

This is the one parser of prompt references. The wire model that is sent to a server is
:class:`~llamabook.types.PromptReference`; a :class:`PromptRef` is what a user writes. Messages name a
user's prompt the way it was written (:func:`written_as`, :func:`written_name`): ``haiku@2``, not its id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidRequest, VersionNotFound

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


# ---- naming a prompt in a message: as the user wrote it ------------------------------------------


def written_name(given: Any) -> str | None:
    """The prompt ``given`` names, as its user named it, without a version: ``haiku``, or ``pmpt_…`` only when the id was given.

    ``given`` is what the user passed: a reference (``"haiku@2"``, a :class:`PromptRef`), a ``prompt=``
    dict or ``PromptReference`` (its id), or a :class:`~llamabook.Prompt` (its first name, else its id).
    None for None or a template string (no stored prompt, to the user).
    """
    parts = _written(given)
    return None if parts is None else parts[0]


def written_as(given: Any, version: int | str | None = None) -> str | None:
    """How a message names the prompt a user gave: as written, ``haiku``, ``haiku@2``, ``haiku@production``.

    The 52-character ``pmpt_…`` id appears only when the user gave the id (or a :class:`~llamabook.Prompt`
    without a name, which has no other). ``version``, the version meant, is added when the reference
    names none (``haiku`` run as version 2: ``haiku@2``); a named :class:`~llamabook.Prompt` is one
    version (``haiku@2``). See :func:`written_name` for ``given``. Every message that names a user's
    prompt takes its name from here.
    """
    parts = _written(given)
    if parts is None:
        return None
    target, after = parts
    if after is None and version is not None:
        after = str(version)
    return target if after is None else f"{target}@{after}"


def missing_versions(given: Any, versions: Iterable[int | None], known: Iterable[int] | None = None) -> VersionNotFound:
    """:class:`VersionNotFound` for ``versions`` of the prompt ``given`` names, named as its user wrote it
    (``Prompt haiku has no version 9``: the id only when the id was given); ``known``: the versions it has."""
    name = written_name(given)
    listed = ", ".join(map(str, versions))
    then = f"it has versions {sorted(known)}" if known is not None else f"see client.prompts.versions({name!r})"
    return VersionNotFound(f"Prompt {name} has no version {listed}; {then}")


def _written(given: Any) -> tuple[str, str | None] | None:
    """(the prompt as named, what follows its ``@`` or None) of anything a user can pass as a prompt."""
    if given is None:
        return None
    if isinstance(given, str):
        given = given.strip()
        if not looks_like_ref(given):  # a template: no stored prompt to the user
            return None
        try:
            given = PromptRef.parse(given)
        except InvalidRequest:  # a mistyped reference: shown as it was written
            target, sep, after = given.strip().partition("@")
            return target, after if sep else None
    if isinstance(given, PromptRef):
        after = given.version if given.version is not None else given.label
        return given.target, None if after is None else str(after)
    if isinstance(given, Mapping):  # a prompt= dict: the id it gives
        version = given.get("version")
        return str(given.get("id")), None if version is None else str(version)
    prompt_id = getattr(given, "prompt_id", None)
    if isinstance(prompt_id, str):  # a Prompt: by its name and version (haiku@2); one without a name by its id alone
        name = (getattr(given, "name", None) or "").split(", ")[0]
        version = getattr(given, "version", None)
        return (name, str(version)) if name and version is not None else (name or prompt_id, None)
    wire_id = getattr(given, "id", None)
    if isinstance(wire_id, str):  # a PromptReference
        version = getattr(given, "version", None)
        return wire_id, None if version is None else str(version)
    return str(given), None
