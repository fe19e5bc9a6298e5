"""A server's response stream as llamabook events: usage filled in, failures typed and kept.

An error can come inside a 200 stream in two shapes: OGX's ``{"type": "error"}`` event (which
the SDK yields) and Llama Stack 0.7.3's ``{"error": …}`` (which the SDK raises). Both become a
``response.failed`` event whose response is kept whole in the home, as the server may never
have stored it. ``response.output_text.done`` never comes: the final text is read from
``response.completed``.

A completed answer without a ``function_call`` item where ``tool_choice`` asked for one
(``"required"``, or a named function) means the server or its inference provider ignored the
choice: its terminal event carries :class:`~llamabook.ToolChoiceIgnored` (raised by
``responses.create``, the stream's ``.error`` with ``stream=True``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any

from ...cassette import replayed_http
from ...error_translation import from_exception, stream_event_error, typed_error
from ...errors import CassetteMiss, EngineError, LlamabookError, ModelRejectedInput, ToolChoiceIgnored
from ...types import (
    STREAM_EVENT_ADAPTER,
    TERMINAL_EVENTS,
    Response,
    ResponseCompleted,
    ResponseError,
    ResponseFailed,
    ResponseTrace,
    StreamEvent,
    Usage,
)
from ...types.requests import ResponseRequest

#: keep(response, whole): record what the server doesn't keep of a response (whole: the response too)
Keeper = Callable[[Response, bool], None]


class StreamReader:
    """Reads the event streams of one server."""

    def __init__(self, base_url: str, declared_models: Collection[str], keep: Keeper | None) -> None:
        self.base_url = base_url
        self._declared = declared_models
        self._keep = keep

    def events(self, stream: Any, trace: ResponseTrace, started: float, request: ResponseRequest) -> Iterator[StreamEvent]:
        given = request.given_prompt
        replayed = replayed_http(stream)  # the whole stream came from a cassette: its responses say so
        deltas = 0
        last: Response | None = None
        try:
            for raw in stream:
                data = raw.model_dump(mode="json", exclude_unset=False)
                if data.get("type") == "error":  # OGX's error event; the SDK yields it instead of raising
                    error = stream_event_error(data, base_url=self.base_url, model=request.model)
                    yield self._failed(last, request, trace, started, error, replayed)
                    return
                try:
                    event = STREAM_EVENT_ADAPTER.validate_python(data)
                except Exception:
                    continue  # event types llamabook does not model (tools, reasoning, …)
                if event.type == "response.output_text.delta":
                    deltas += 1
                if hasattr(event, "response"):
                    last = event.response
                    trace.latency_s = round(time.perf_counter() - started, 6)
                    fill_usage(event.response, trace, deltas)
                    event.response.trace = trace.model_copy(deep=True)
                    event.response.replayed = replayed
                    if given is not None:  # the variables as the user gave them, not their text stand-ins
                        event.response.prompt = given
                    if isinstance(event, ResponseFailed):
                        event._error = self.failure_reason(event.response, request.model)
                    elif isinstance(event, ResponseCompleted):
                        event._error = ignored_tool_choice(event.response, request)
                    if event.type in TERMINAL_EVENTS and request.store and self._keep is not None:
                        self._keep(event.response, False)
                yield event
        except CassetteMiss:
            raise
        except Exception as exc:  # 0.7.3's {"error": …} event (the SDK raises it), or a broken stream
            error = from_exception(exc, base_url=self.base_url, model=request.model, mid_stream=True)
            if isinstance(error, CassetteMiss):
                raise error from exc
            yield self._failed(last, request, trace, started, error, replayed)
        finally:
            stream.close()

    def failure_reason(self, response: Response, model: str) -> LlamabookError | None:
        """The typed error of a failed response the server sent or stored (its message says why)."""
        if response.error is None:
            return None
        error = typed_error(response.error.message, None, base_url=self.base_url, model=model)
        if isinstance(error, ModelRejectedInput) and model in self._declared:
            error = ModelRejectedInput(model, error.kind, declared=True)
        if type(error) is not EngineError:  # a known cause: say it in llamabook's words, not the upstream's dump
            response.error = ResponseError(code=response.error.code, message=str(error))
        return error

    def _failed(
        self, last: Response | None, request: ResponseRequest, trace: ResponseTrace, started: float, error: LlamabookError,
        replayed: bool = False,
    ) -> ResponseFailed:  # fmt: skip
        """A failed response for an error inside a 200 stream, kept here (the server may not keep it)."""
        trace.latency_s = round(time.perf_counter() - started, 6)
        response = last.model_copy(deep=True) if last is not None else request.new_response("failed", prompt=request.given_prompt)
        response.status = "failed"
        response.completed_at = int(time.time())
        response.error = ResponseError(code=error_code(error), message=str(error))
        response.trace = trace.model_copy(deep=True)
        response.replayed = replayed
        if request.store and self._keep is not None:
            self._keep(response, True)
        failed = ResponseFailed(sequence_number=0, response=response)
        failed._error = error
        return failed


def ignored_tool_choice(response: Response, request: ResponseRequest) -> ToolChoiceIgnored | None:
    """:class:`~llamabook.ToolChoiceIgnored` when ``tool_choice`` asked for a call and the completed answer has none."""
    choice = request.tool_choice
    asks_call = choice == "required" or (isinstance(choice, dict) and choice.get("type") == "function")
    if not asks_call or not request.tools or response.tool_calls:
        return None
    return ToolChoiceIgnored(choice, response=response, model=request.model)


def error_code(error: LlamabookError) -> str:
    """A response's ``error.code`` for a typed error: its name in snake case (``file_not_found``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


def fill_usage(response: Response, trace: ResponseTrace, deltas: int) -> None:
    """Servers whose model reports no usage in streams (llama-cpp-python's) leave it null:
    count the streamed deltas instead, and say so in the trace."""
    if response.usage is not None:
        trace.usage_source = "model"
    elif response.status in ("completed", "incomplete", "failed"):
        response.usage = Usage(input_tokens=0, output_tokens=deltas, total_tokens=deltas)
        trace.usage_source = "deltas"
