"""Where llamabook keeps its data, from the environment."""

from __future__ import annotations

import os
from pathlib import Path

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
