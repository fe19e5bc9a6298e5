"""The value a JSON text will be, read from a prefix of it: a structured output as it streams.

``read_partial('{"name": "Ann", "tags": ["a", "b')`` is ``{"name": "Ann", "tags": ["a", "b"]}``:
open objects, arrays and strings are closed where the text stops; a number is kept once it reads
as one; a key whose value hasn't started is left out, and so is a ``true``/``false``/``null``
still being written. Only JSON is read: nothing is evaluated. For a live view only; the final
output is parsed and validated in full (:func:`llamabook.schemas.read_output`).
"""

from __future__ import annotations

import json
from typing import Any

_WHITESPACE = " \t\r\n"
_LITERALS = {"true": True, "false": False, "null": None}
#: Nothing read yet (distinct from a JSON ``null``).
_MISSING = object()


def read_partial(text: str) -> Any:
    """The value of the JSON text ``text`` starts, as far as it goes; None before any value has begun."""
    value, _ = _value(text, _skip(text, 0))
    return None if value is _MISSING else value


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    return at


def _value(text: str, at: int) -> tuple[Any, int]:
    """(the value starting at ``at``, or _MISSING; where it ends)."""
    if at >= len(text):
        return _MISSING, at
    first = text[at]
    if first == "{":
        return _object(text, at + 1)
    if first == "[":
        return _array(text, at + 1)
    if first == '"':
        return _string(text, at + 1)
    return _scalar(text, at)


def _object(text: str, at: int) -> tuple[dict[str, Any], int]:
    found: dict[str, Any] = {}
    while True:
        at = _skip(text, at)
        if at >= len(text) or text[at] == "}":
            return found, at + 1
        if text[at] == ",":
            at += 1
            continue
        if text[at] != '"':
            return found, len(text)  # not JSON: keep what was read
        key, at = _string(text, at + 1)
        at = _skip(text, at)
        if at >= len(text) or text[at] != ":":
            return found, len(text)  # a key still being written, or not followed by its value yet
        value, at = _value(text, _skip(text, at + 1))
        if value is _MISSING:
            return found, len(text)
        found[key] = value


def _array(text: str, at: int) -> tuple[list[Any], int]:
    found: list[Any] = []
    while True:
        at = _skip(text, at)
        if at >= len(text) or text[at] == "]":
            return found, at + 1
        if text[at] == ",":
            at += 1
            continue
        value, at = _value(text, at)
        if value is _MISSING:
            return found, len(text)
        found.append(value)


def _string(text: str, at: int) -> tuple[str, int]:
    """A string's text up to its closing quote, or up to where ``text`` stops (a cut escape left out)."""
    pieces: list[str] = []
    start = at
    while at < len(text):
        char = text[at]
        if char == '"':
            pieces.append(text[start:at])
            return json.loads('"' + "".join(pieces) + '"'), at + 1
        at += 2 if char == "\\" else 1
    pieces.append(text[start:])
    body = "".join(pieces)
    for cut in range(0, 7):  # an escape still being written (\, \u12): leave it out
        try:
            return json.loads('"' + body[: len(body) - cut] + '"'), len(text)
        except ValueError:
            continue
    return "", len(text)


def _scalar(text: str, at: int) -> tuple[Any, int]:
    """A number or a literal, when it reads as one so far; _MISSING while a literal is being written."""
    end = at
    while end < len(text) and text[end] not in ",]}" + _WHITESPACE:
        end += 1
    token = text[at:end]
    if token in _LITERALS:
        return _LITERALS[token], end
    try:
        return json.loads(token), end
    except ValueError:
        # a number cut mid-way ("3.", "-", "1e") reads as what it has so far
        for cut in range(1, len(token)):
            try:
                number = json.loads(token[:-cut])
            except ValueError:
                continue
            return (number, end) if isinstance(number, (int, float)) and not isinstance(number, bool) else (_MISSING, end)
        return _MISSING, end
