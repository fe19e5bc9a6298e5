"""A response's events as they come (:class:`ResponseStream`), and a finished output parsed under its schema."""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Iterator
from typing import Any

from .. import schemas
from ..errors import EngineError, OutputInvalid
from ..partial_json import read_partial
from ..schemas import ResolvedSchema
from ..types import TERMINAL_EVENTS, OutputTextDelta, Response, StreamEvent

#: Streams not yet finished or closed, stopped at interpreter exit (see _stop_open_streams).
_open_streams: weakref.WeakSet[ResponseStream] = weakref.WeakSet()
_open_streams_lock = threading.Lock()


@atexit.register
def _stop_open_streams() -> None:
    """Stop the streams left open (``for event in stream: break`` at the end of a script) while the
    interpreter can still store them: each is kept as a stopped response (``incomplete``, reason
    ``cancelled``), as :meth:`ResponseStream.close` does, instead of a traceback at shutdown."""
    with _open_streams_lock:
        left = list(_open_streams)
    for stream in left:
        try:
            stream.close()
        except Exception:  # noqa: BLE001 - at exit there is no one left to tell; the others still stop
            pass


class ResponseStream:
    """Iterate to get stream events; ``.response`` holds the final response once done.

    With a schema, ``.partial`` (and each text delta's ``.partial``) is the output read so far as
    JSON, a dict that fills in as the model writes (:mod:`llamabook.partial_json`), for a live view;
    the final response's ``output_parsed`` is set when its output validates; when it
    doesn't (or was cut off), ``.error`` is the :class:`~llamabook.OutputInvalid` and
    ``.response.output_parsed`` is None: the stream itself does not raise. A stream left open
    when the interpreter exits is closed then (stored as stopped).
    """

    def __init__(self, events: Iterator[StreamEvent], schema: ResolvedSchema | None = None) -> None:
        self._events = events
        self._schema = schema
        self.response: Response | None = None
        self.text = ""
        #: with a schema, the output as far as it has come, read as JSON (a dict that grows); else None
        self.partial: Any = None
        #: why the response failed, when the engine raised in this process, or the
        #: :class:`~llamabook.OutputInvalid` of an output that doesn't follow the schema
        self.error: BaseException | None = None
        with _open_streams_lock:
            _open_streams.add(self)

    def __iter__(self) -> Iterator[StreamEvent]:
        for event in self._events:
            if isinstance(event, OutputTextDelta):
                self.text += event.delta
                if self._schema is not None:
                    self.partial = event._partial = read_partial(self.text)
            elif event.type in TERMINAL_EVENTS:
                self.response = event.response  # type: ignore[union-attr]
                self.error = getattr(event, "_error", None)
                if self._schema is not None and self.response is not None and self.error is None:
                    self.error = parse_output(self.response, self._schema)
            yield event
        self._forget()

    def _forget(self) -> None:
        with _open_streams_lock:
            _open_streams.discard(self)

    def until_done(self) -> Response:
        """Consume the rest of the stream and return the final response."""
        for _ in self:
            pass
        if self.response is None:
            raise EngineError("The response stream ended without a final event (completed, incomplete or failed)")
        return self.response

    def close(self) -> None:
        """Stop generating; the partial response is stored as ``incomplete``."""
        self._forget()
        close = getattr(self._events, "close", None)
        if close:
            close()

    def __enter__(self) -> ResponseStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parse_output(response: Response, schema: ResolvedSchema) -> OutputInvalid | None:
    """Parse and validate a finished response's output: set ``output_parsed``, or return the error.

    A failed or stopped response is left alone (None: its own error tells), and so is one that asks
    for function calls (``output_parsed`` None: the tool loop's final answer is the one parsed). A
    cut-off one is invalid whatever its text, never half-parsed.
    """
    response.set_output_parsed(None)
    if response.status != "completed" and not response.cut_off:
        return None
    if response.tool_calls:  # it asks for calls: the structured answer comes once their results are back
        return None
    value, errors = schemas.read_output(response.output_text, schema, cut_off=response.cut_off)
    if errors:
        return OutputInvalid(errors, response.output_text, cut_off=response.cut_off, response=response)
    response.set_output_parsed(value)
    return None
