"""``client.responses.thread(id)``: a conversation read back along ``previous_response_id``."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InvalidRequest, ResponseNotFound
from ..types import InputItem, Response, Thread, Turn

#: The most turns a thread is read back (a longer chain stops there, as if its start were missing).
MAX_TURNS = 1000


def read_thread(
    retrieve: Callable[[str], Response], input_items: Callable[[str], list[InputItem]], response_id: str
) -> Thread:
    """The turns ending with ``response_id``, oldest first.

    ``response_id`` itself must exist (:class:`~llamabook.ResponseNotFound` otherwise); an earlier
    response that doesn't (deleted, or never stored) ends the walk, named by ``truncated_at``, as does
    a chain longer than :data:`MAX_TURNS` or one that comes back to a response already read.
    """
    if not isinstance(response_id, str) or not response_id:
        raise InvalidRequest(f"thread() takes a response id (a str such as 'resp_…'), not {response_id!r}")
    turns: list[Turn] = []
    seen: set[str] = set()
    next_id: str | None = response_id
    truncated_at = None
    while next_id:
        if next_id in seen or len(turns) >= MAX_TURNS:
            truncated_at = next_id
            break
        seen.add(next_id)
        try:
            response = retrieve(next_id)
        except ResponseNotFound:
            if not turns:
                raise
            truncated_at = next_id
            break
        turns.append(Turn(response, input_items(next_id)))
        next_id = response.previous_response_id
    return Thread(tuple(reversed(turns)), truncated_at)
