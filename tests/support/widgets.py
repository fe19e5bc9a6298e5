"""The notebook panels as a test drives them: their CSS classes, and what a FileUpload holds after an upload."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def classes(widget: Any) -> tuple[str, ...]:
    return tuple(widget._dom_classes)


def upload_value(path: Path, name: str | None = None) -> tuple[dict[str, Any], ...]:
    """What a FileUpload's value holds after the browser sends a file."""
    return file_item(name or path.name, path.read_bytes())


def file_item(name: str, data: bytes) -> tuple[dict[str, Any], ...]:
    modified = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return ({"name": name, "type": "", "size": len(data), "content": memoryview(data), "last_modified": modified},)
