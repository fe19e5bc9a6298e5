"""Small HTML pieces the widgets share: status badges, table cells, records, error lines."""

from __future__ import annotations

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


def record_html(rows: list[tuple[str, Any]], status: str | None = None, note: str | None = None) -> str:
    """A (name, value) table, e.g. one grid row, with an optional status badge and note."""
    return render("record.html", rows=rows, status=status, note=note)
