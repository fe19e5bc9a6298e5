"""A file's views: a card, a chip, a line of text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .formats import human_size, when
from .sanitize import render

if TYPE_CHECKING:
    from ..types import File


def file_html(file: File, *, preview: str | None = None, excerpt: str | None = None) -> str:
    """A file's metadata; ``preview`` is a thumbnail ``data:`` URL, ``excerpt`` the start of its text."""
    return render("file.html", f=file, preview=preview, excerpt=excerpt)


def file_chip_html(file: File, thumb: str | None = None) -> str:
    """A one-line file label: thumbnail (``data:`` URL, optional), name and size."""
    return render("file_chip.html", f=file, thumb=thumb)


def file_text(file: File) -> str:
    created = when(file.created_at)
    return f"File {file.id} · {file.filename} · {human_size(file.bytes)} · {file.purpose} · created {created}"
