"""Small HTML pieces the widgets share: status badges, table cells, records, error lines."""

from __future__ import annotations

import re
from typing import Any

from .formats import CUT_OFF_MARK
from .sanitize import render


# ---- small pieces for the widgets --------------------------------------------------------------------


def error_html(message: str) -> str:
    """An inline error box (empty message: empty string)."""
    return render("error.html", message=message) if message else ""


def status_badge(status: str, cut_off: bool = False) -> str:
    """A coloured status label; with ``cut_off``, a second label that says the answer was cut off."""
    return render("badge.html", status=status, cut_off=cut_off, mark=CUT_OFF_MARK)


def text_cell(text: Any, limit: int = 80, status: str | None = None) -> str:
    """One escaped table cell, cut to ``limit`` characters (the full text is its tooltip)."""
    value = "" if text is None else str(text)
    short = value if len(value) <= limit else value[: limit - 1] + "…"
    return render("cell.html", text=short, full=value if short != value else None, status=status)


#: The longest run of characters a clamped cell keeps unbroken: a longer word breaks every ``LONG_WORD`` characters.
LONG_WORD = 16


def breakable(text: str, every: int = LONG_WORD) -> list[str]:
    """``text`` in pieces, cut inside a word only after ``every`` characters of it; joined, they give ``text`` back.

    A view puts a break opportunity (``<wbr>``) between the pieces: a short word never breaks in the middle,
    a long unbroken one (a URL, an id) still wraps instead of widening its column.
    """
    pieces, current, run = [], "", 0
    for char in text:
        run = 0 if char.isspace() else run + 1
        if run > every:
            pieces.append(current)
            current, run = "", 1
        current += char
        if char == "-":  # a line may break after a hyphen: a new word starts
            run = 0
    return [*pieces, current]


def clamped_cell(text: Any, lines: int = 2, chars: int = 240, status: str | None = None) -> str:
    """A table cell of at most ``lines`` lines (then "…"), cut to ``chars`` characters; the whole text is its tooltip.

    Words break only at spaces and hyphens, or inside a word longer than :data:`LONG_WORD` characters.
    """
    value = "" if text is None else str(text)
    short = value if len(value) <= chars else value[: chars - 1] + "…"
    return render("clamped_cell.html", pieces=breakable(short), full=value or None, lines=lines, status=status)


#: A zero-width space: where a plain-text label (a button's description) may wrap, as ``<wbr>`` in HTML.
BREAK = "\u200b"


def _name_pieces(value: str) -> list[str]:
    """A column's name cut after each underscore (and inside a word longer than :data:`LONG_WORD`)."""
    pieces = [piece for part in re.split(r"(?<=_)", value) for piece in breakable(part)]
    return [p for p in pieces if p] or [""]


def header_cell(name: Any) -> str:
    """A column's name as a header: it may wrap after an underscore (``check_`` / ``mentions``), not inside a word."""
    value = str(name)
    return render("header_cell.html", pieces=_name_pieces(value), full=value)


def header_label(name: Any) -> str:
    """A column's name as plain text (a button's description) that wraps where :func:`header_cell` does.

    A zero-width space (:data:`BREAK`) after each underscore: ``check_\u200bmentions_\u200bmood``.
    """
    return BREAK.join(_name_pieces(str(name)))


def record_html(rows: list[tuple[str, Any]], status: str | None = None, note: str | None = None) -> str:
    """A (name, value) table, e.g. one grid row, with an optional status badge and note."""
    return render("record.html", rows=rows, status=status, note=note)
