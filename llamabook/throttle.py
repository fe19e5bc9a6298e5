"""A rate limit for display updates (the %%llama stream and the PromptEditor's output)."""

from __future__ import annotations

import time


class Throttle:
    """True at most ``per_second`` times a second (the first call is always ready).

    Call :meth:`mark` after slow throttled work, so the interval counts from when it ended.
    """

    def __init__(self, per_second: float = 10.0) -> None:
        self.interval = 1.0 / per_second
        self.last = float("-inf")

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self.last < self.interval:
            return False
        self.last = now
        return True

    def mark(self) -> None:
        self.last = time.monotonic()
