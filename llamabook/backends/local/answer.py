"""One answer of the embedded backend as output items and stream events: a message, or a function call.

Without tools (or with ``tool_choice="none"``) the answer is a message, streamed as it comes. With
tools the model's text may be a call (``{"name": …, "arguments": {…}}``, read by
:func:`llamabook.rendering.parse_tool_call`): text that starts with ``{`` is held back until the
answer ends, and becomes a ``function_call`` item when it is a call (a message otherwise); any other
text is streamed as a message from its first visible character. A call is streamed as OpenAI does:
``output_item.added`` (``in_progress``, no arguments yet), ``function_call_arguments.delta`` and
``.done``, ``output_item.done``. Its ``call_id`` is ``call_`` + the response id's uuid (``id``:
``fc_`` + the same), the same whenever that response is read back; its ``output_text`` is empty, as
OpenAI's ``output_text`` joins only message text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ...rendering import parse_tool_call
from ...types import (
    ContentPartAdded,
    ContentPartDone,
    FunctionCall,
    FunctionCallArgumentsDelta,
    FunctionCallArgumentsDone,
    OutputItemAdded,
    OutputItemDone,
    OutputMessage,
    OutputText,
    OutputTextDelta,
    StreamEvent,
)


def call_ids(response_id: str) -> tuple[str, str]:
    """``(call_id, item id)`` of the call in the response ``response_id``: ``call_<uuid>``, ``fc_<uuid>``."""
    suffix = response_id.removeprefix("resp_")
    return f"call_{suffix}", f"fc_{suffix}"


class Answer:
    """The events and output items of one answer; ``tools`` are the tools it may call (None: text only)."""

    def __init__(self, message_id: str, response_id: str, tools: Sequence[Mapping[str, Any]] | None) -> None:
        self.message_id = message_id
        self.response_id = response_id
        self.tools = list(tools or [])
        self.opened = False
        #: while the answer may still be a call, its text is held here, not streamed
        self.holding = bool(self.tools)
        self.held = ""

    def opening(self, seq: Callable[[], int]) -> Iterator[StreamEvent]:
        """The message's opening events now, unless the answer may be a call (then they wait)."""
        if not self.holding:
            yield from self._open(seq)

    def _open(self, seq: Callable[[], int]) -> Iterator[StreamEvent]:
        self.opened = True
        yield OutputItemAdded(sequence_number=seq(), item=OutputMessage(id=self.message_id, status="in_progress", content=[]))
        yield ContentPartAdded(sequence_number=seq(), item_id=self.message_id, part=OutputText(text=""))

    def delta(self, seq: Callable[[], int], delta: str) -> Iterator[StreamEvent]:
        """The events for one delta of the model's text (none while it is held)."""
        if self.holding:
            self.held += delta
            head = self.held.lstrip()
            if not head or head.startswith("{"):
                return
            self.holding = False  # text, not a call: open the message and let what was held go
            yield from self._open(seq)
            delta, self.held = self.held, ""
        yield OutputTextDelta(sequence_number=seq(), item_id=self.message_id, delta=delta)

    def items(self, text: str) -> list[OutputMessage | FunctionCall]:
        """The output items of the whole text: one ``function_call`` when it is a call, else one message."""
        parsed = parse_tool_call(text, self.tools) if self.tools else None
        if parsed is None:
            return [OutputMessage(id=self.message_id, status="completed", content=[OutputText(text=text)])]
        call_id, item_id = call_ids(self.response_id)
        return [FunctionCall(id=item_id, call_id=call_id, name=parsed[0], arguments=parsed[1], status="completed")]

    def closing(self, seq: Callable[[], int], item: OutputMessage | FunctionCall) -> Iterator[StreamEvent]:
        """The events that end the answer ``item`` (a call's are all here: it is known only at the end)."""
        if isinstance(item, FunctionCall):
            assert item.id is not None
            started = item.model_copy(update={"status": "in_progress", "arguments": ""})
            yield OutputItemAdded(sequence_number=seq(), item=started)
            yield FunctionCallArgumentsDelta(sequence_number=seq(), item_id=item.id, delta=item.arguments)
            yield FunctionCallArgumentsDone(sequence_number=seq(), item_id=item.id, arguments=item.arguments)
            yield OutputItemDone(sequence_number=seq(), item=item)
            return
        if not self.opened:  # held text that was not a call after all
            yield from self._open(seq)
            if self.held:
                yield OutputTextDelta(sequence_number=seq(), item_id=self.message_id, delta=self.held)
        yield ContentPartDone(sequence_number=seq(), item_id=self.message_id, part=item.content[0])
        yield OutputItemDone(sequence_number=seq(), item=item)
