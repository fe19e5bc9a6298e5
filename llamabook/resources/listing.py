"""The options every listing takes (``order``, ``limit``), checked the same way before anything is asked."""

from __future__ import annotations

from ..errors import InvalidRequest

MAX_LIMIT = 10_000


def check_listing(order: str, limit: int | None = None) -> None:
    """Raise :class:`InvalidRequest` for an ``order`` other than asc/desc or a ``limit`` out of 1…10000."""
    if order not in ("asc", "desc"):
        raise InvalidRequest(f"order must be 'asc' or 'desc', not {order!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT):
        raise InvalidRequest(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
