"""The grid's progress bar: tqdm's notebook-aware bar, or none without tqdm."""

from __future__ import annotations

from typing import Any


def progress_bar(total: int, done: int, desc: str) -> Any:
    """A tqdm bar (notebook-aware), or None without tqdm."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=done, desc=desc, unit="call")
