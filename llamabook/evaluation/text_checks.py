"""The built-in checks on an answer's text: :func:`contains`, :func:`regex`, :func:`equals`,
:func:`max_words` and :func:`similar_to`. Each takes literals or :func:`~.check_base.column` values."""

from __future__ import annotations

import difflib
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidRequest
from .check_base import Check, CheckInput, Column, text_of, value_of


def _fold(text: str, ignore_case: bool) -> str:
    return text.casefold() if ignore_case else text


def _literal(function: str, value: Any, types: tuple[type, ...], what: str) -> None:
    if not isinstance(value, (Column, *types)) or isinstance(value, bool) and bool not in types:
        raise InvalidRequest(f"{function}() takes {what} or checks.column('name'), not {type(value).__name__} {value!r:.60}")


@dataclass(frozen=True)
class Contains(Check):
    text: str | Column
    ignore_case: bool = False

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        return _fold(text_of(self.text, row), self.ignore_case) in _fold(result.output_text, self.ignore_case)


@dataclass(frozen=True)
class Regex(Check):
    pattern: str | Column
    ignore_case: bool = False

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        flags = re.IGNORECASE if self.ignore_case else 0
        return re.search(text_of(self.pattern, row), result.output_text, flags) is not None


@dataclass(frozen=True)
class Equals(Check):
    value: Any
    ignore_case: bool = False
    strip: bool = True

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        expected, got = text_of(self.value, row), result.output_text
        if self.strip:
            expected, got = expected.strip(), got.strip()
        return _fold(expected, self.ignore_case) == _fold(got, self.ignore_case)


@dataclass(frozen=True)
class MaxWords(Check):
    limit: int | Column

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        limit = value_of(self.limit, row)
        if isinstance(limit, bool) or not isinstance(limit, numbers.Integral):
            raise TypeError(f"max_words needs a whole number of words, the row has {limit!r}")
        return len(result.output_text.split()) <= int(limit)


@dataclass(frozen=True)
class SimilarTo(Check):
    text: str | Column
    at_least: float | None = None

    @property
    def kind(self) -> str | None:  # type: ignore[override]
        return "float" if self.at_least is None else None

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool | float:
        ratio = difflib.SequenceMatcher(None, text_of(self.text, row), result.output_text).ratio()
        return ratio if self.at_least is None else ratio >= self.at_least


def contains(text: str | Column, *, ignore_case: bool = False) -> Check:
    """True when the output contains ``text`` (a literal, or ``column("name")``)."""
    _literal("contains", text, (str,), "a str")
    return Contains(text, ignore_case)


def regex(pattern: str | Column, *, ignore_case: bool = False) -> Check:
    """True when ``pattern`` (a Python regular expression) matches somewhere in the output (``re.search``)."""
    _literal("regex", pattern, (str,), "a regular expression (str)")
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidRequest(f"regex({pattern!r}) is not a valid regular expression: {exc}") from None
    return Regex(pattern, ignore_case)


def equals(value: str | int | float | Column, *, ignore_case: bool = False, strip: bool = True) -> Check:
    """True when the output is exactly ``value`` (compared as text; surrounding whitespace ignored with ``strip``)."""
    _literal("equals", value, (str, int, float), "a str or number")
    return Equals(value, ignore_case, strip)


def max_words(limit: int | Column) -> Check:
    """True when the output has at most ``limit`` words (split on whitespace)."""
    _literal("max_words", limit, (int,), "a whole number")
    if isinstance(limit, int) and limit < 0:
        raise InvalidRequest(f"max_words() takes a limit of 0 or more words, not {limit}")
    return MaxWords(limit)


def similar_to(text: str | Column, *, at_least: float | None = None) -> Check:
    """How similar the output is to ``text``: difflib's ratio, 0.0 to 1.0 (no model involved).

    With ``at_least`` the check is True/False instead: whether the ratio reaches it.
    """
    _literal("similar_to", text, (str,), "a str")
    is_ratio = isinstance(at_least, numbers.Real) and not isinstance(at_least, bool) and 0 <= at_least <= 1
    if at_least is not None and not is_ratio:
        raise InvalidRequest(f"similar_to(at_least=…) is a ratio from 0 to 1, not {at_least!r}")
    return SimilarTo(text, None if at_least is None else float(at_least))
