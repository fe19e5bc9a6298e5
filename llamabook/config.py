"""Where llamabook keeps its data, from the environment."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOME = "~/.llamabook"


def home() -> Path:
    """``$LLAMABOOK_HOME``, or ``~/.llamabook``."""
    return Path(os.environ.get("LLAMABOOK_HOME") or DEFAULT_HOME).expanduser()
