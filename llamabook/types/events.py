"""Responses stream events (the subset Llama Stack emits for text answers)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, PrivateAttr, TypeAdapter

from .base import WireModel
from .responses import OutputMessage, OutputText, Response
from .tool_calls import FunctionCall


class _Event(WireModel):
    sequence_number: int = 0


class ResponseCreated(_Event):
    type: Literal["response.created"] = "response.created"
    response: Response


class ResponseInProgress(_Event):
    type: Literal["response.in_progress"] = "response.in_progress"
    response: Response


class OutputItemAdded(_Event):
    type: Literal["response.output_item.added"] = "response.output_item.added"
    output_index: int = 0
    item: Union[OutputMessage, FunctionCall, dict[str, Any]]


class ContentPartAdded(_Event):
    type: Literal["response.content_part.added"] = "response.content_part.added"
    item_id: str
    output_index: int = 0
    content_index: int = 0
    part: Union[OutputText, dict[str, Any]]


class OutputTextDelta(_Event):
    type: Literal["response.output_text.delta"] = "response.output_text.delta"
    item_id: str
    output_index: int = 0
    content_index: int = 0
    delta: str
    #: with a schema, the structured output read so far (``llamabook.partial_json``), for a live view;
    #: set by the client's stream, never sent or stored
    _partial: Any = PrivateAttr(default=None)

    @property
    def partial(self) -> Any:
        """The structured output as far as it has come (a dict as it grows), or None without a schema."""
        return self._partial


class ContentPartDone(_Event):
    type: Literal["response.content_part.done"] = "response.content_part.done"
    item_id: str
    output_index: int = 0
    content_index: int = 0
    part: Union[OutputText, dict[str, Any]]


class OutputItemDone(_Event):
    type: Literal["response.output_item.done"] = "response.output_item.done"
    output_index: int = 0
    item: Union[OutputMessage, FunctionCall, dict[str, Any]]


class ResponseCompleted(_Event):
    type: Literal["response.completed"] = "response.completed"
    response: Response


class ResponseIncomplete(_Event):
    type: Literal["response.incomplete"] = "response.incomplete"
    response: Response


class ResponseFailed(_Event):
    type: Literal["response.failed"] = "response.failed"
    response: Response
    #: the exception that failed it, when it was raised in this process (never sent or stored)
    _error: BaseException | None = PrivateAttr(default=None)


StreamEvent = Annotated[
    Union[
        ResponseCreated,
        ResponseInProgress,
        OutputItemAdded,
        ContentPartAdded,
        OutputTextDelta,
        ContentPartDone,
        OutputItemDone,
        ResponseCompleted,
        ResponseIncomplete,
        ResponseFailed,
    ],
    Field(discriminator="type"),
]
STREAM_EVENT_ADAPTER: TypeAdapter[StreamEvent] = TypeAdapter(StreamEvent)

TERMINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed")
