"""Where llamabook keeps its data, from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_HOME = "~/.llamabook"


def home() -> Path:
    """``$LLAMABOOK_HOME``, or ``~/.llamabook``."""
    return Path(os.environ.get("LLAMABOOK_HOME") or DEFAULT_HOME).expanduser()


def base_url() -> str | None:
    """``$LLAMABOOK_BASE_URL``: a Llama Stack server to use instead of the embedded backend."""
    return os.environ.get("LLAMABOOK_BASE_URL") or None


def api_key() -> str | None:
    """``$LLAMABOOK_API_KEY``: the server's key, if it needs one (read from the environment only)."""
    return os.environ.get("LLAMABOOK_API_KEY") or None


def check_base_url(base_url: Any, example: str) -> str:
    """``base_url`` without a trailing slash.

    Raises :class:`~llamabook.InvalidRequest` unless it is an http(s) URL with a host.
    """
    from .errors import InvalidRequest

    try:
        parts = urlsplit(base_url) if isinstance(base_url, str) else None
        valid = parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != -1
    except ValueError:  # a port that is not a number, or out of range
        valid = False
    if not valid:
        raise InvalidRequest(f"base_url {base_url!r} is not an http(s) URL; use {example}")
    return base_url.rstrip("/")
