"""Responses stream events (the subset Llama Stack emits for text answers), and the tool loop's own events.

:class:`ToolCallEvent` (``tool.call``) and :class:`ToolResultEvent` (``tool.result``) are not wire events:
``client.responses.run(…, stream=True)`` yields them between the model's events, when it runs a function
the model asked for (``llamabook.resources.tool_loop``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, PrivateAttr, TypeAdapter

from .base import WireModel
from .responses import OutputMessage, OutputText, Response
from .tool_calls import FunctionCall, FunctionCallOutput


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


class FunctionCallArgumentsDelta(_Event):
    """Part of a ``function_call`` item's ``arguments`` (JSON text), as OpenAI streams it."""

    type: Literal["response.function_call_arguments.delta"] = "response.function_call_arguments.delta"
    item_id: str
    output_index: int = 0
    delta: str


class FunctionCallArgumentsDone(_Event):
    """A ``function_call`` item's ``arguments`` in full."""

    type: Literal["response.function_call_arguments.done"] = "response.function_call_arguments.done"
    item_id: str
    output_index: int = 0
    arguments: str


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
        FunctionCallArgumentsDelta,
        FunctionCallArgumentsDone,
        OutputItemDone,
        ResponseCompleted,
        ResponseIncomplete,
        ResponseFailed,
    ],
    Field(discriminator="type"),
]
STREAM_EVENT_ADAPTER: TypeAdapter[StreamEvent] = TypeAdapter(StreamEvent)

TERMINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed")


class ToolCallEvent(_Event):
    """The tool loop is about to run ``call`` (asked for by the response ``response_id``, in round ``round``).

    ``sequence_number`` counts the loop's own events (``tool.call`` and ``tool.result``), from 0.
    """

    type: Literal["tool.call"] = "tool.call"
    #: the tool round, from 1: the first request's calls are run in round 1
    round: int
    response_id: str
    call: FunctionCall


class ToolResultEvent(_Event):
    """The tool loop ran the call ``call_id``: ``output`` goes back to the model as a ``function_call_output``.

    When the function raised (or its arguments did not validate), ``error`` is ``"<Type>: <message>"``
    and ``output`` is ``"Error: " + error``: what the model is told.
    """

    type: Literal["tool.result"] = "tool.result"
    round: int
    response_id: str
    call_id: str
    name: str
    output: str
    error: str | None = None
    #: seconds the call took here: reading and validating its arguments, then the function
    duration_s: float = 0.0

    @property
    def item(self) -> FunctionCallOutput:
        """The ``function_call_output`` input item sent back."""
        return FunctionCallOutput(call_id=self.call_id, output=self.output)


#: What ``client.responses.run(…, stream=True)`` yields: the model's events and the tool loop's own.
ToolLoopEvent = Union[StreamEvent, ToolCallEvent, ToolResultEvent]
