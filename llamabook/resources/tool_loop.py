"""``client.responses.run``: the tool loop, run by the client.

One run is a chain of responses. The first request is what ``run`` was given; while the model's
answer asks for function calls (``response.tool_calls``), each call's Python function runs here, in
the notebook's process, and the results go back as ``function_call_output`` input items of a new
request whose ``previous_response_id`` is the answer that asked. It stops when an answer asks for no
call (text), is not ``completed`` (failed, cut off), or when ``max_tool_rounds`` rounds of calls
have run: that answer is returned, with ``tool_rounds_exhausted=True`` and a
:class:`~llamabook.ToolLoopWarning` (its calls are not run).

A call's arguments are read as JSON and validated by the tool's pydantic model (the one its schema
came from) before the function runs, with the converted values. A function that raises, arguments
that don't parse or validate, or a call of a tool that doesn't exist become the call's output
``"Error: <Type>: <message>"``: the model reads it, the loop goes on, and a
:class:`~llamabook.ToolLoopWarning` shows it in the notebook. A function's result is sent as it is
when it is a str, else as JSON (pydantic models, dataclasses, dicts, lists…; what JSON can't hold as
its ``str``). An ``async def`` tool is awaited (on a thread of its own, so a running event loop
doesn't matter).

With ``stream=True`` the run is a :class:`ToolLoopStream`: each request's events as they come, and,
after an answer's final event, a ``tool.call`` event (:class:`~llamabook.types.ToolCallEvent`) before
each function runs and a ``tool.result`` one (:class:`~llamabook.types.ToolResultEvent`) after.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pydantic
import pydantic_core

from ..errors import EngineError, InvalidRequest, InvalidTool, ToolLoopWarning
from ..tools import FunctionTool, ToolSet, check_tools
from ..types import FunctionCall, Response, ToolCallEvent, ToolLoopEvent, ToolResultEvent
from .response_stream import ResponseStream

__all__ = ["RUN_OPTIONS", "ToolLoopStream", "plan_run", "run_signature", "start_run"]

#: What ``run`` takes besides ``create``'s parameters: (name, default).
RUN_OPTIONS = (("max_tool_rounds", 4), ("tool_choice_every_round", False))
#: ``create`` options only the first request gets: what it runs (later requests send the calls' results).
_FIRST_ONLY = frozenset({"prompt", "variables", "template", "name", "previous_response_id"})
_NOT_OPTIONS = frozenset({"self", "input", "stream", "tools", "tool_choice"})

Create = Callable[..., "Response | ResponseStream"]


def run_signature(create: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Show ``create``'s parameters and :data:`RUN_OPTIONS` as the decorated ``run``'s own (``help()``, completion)."""

    def show(run: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(create)
        parameters = list(signature.parameters.values())
        at = [p.name for p in parameters].index("tool_choice") + 1
        extra = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=type(d).__name__)
                 for n, d in RUN_OPTIONS]  # fmt: skip
        run.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*parameters[:at], *extra, *parameters[at:]], return_annotation=inspect.signature(run).return_annotation
        )
        return run

    return show


@dataclass(frozen=True)
class RunPlan:
    """A run's arguments, checked: the tools (each with its function), the limits, each request's options."""

    tools: ToolSet
    tool_choice: Any
    max_rounds: int
    every_round: bool
    options: Mapping[str, Any] = field(default_factory=dict)

    def first(self) -> dict[str, Any]:
        """The first request's keyword arguments of ``create`` (but ``input`` and ``stream``)."""
        return {**self.options, "tools": list(self.tools.tools), "tool_choice": self.tool_choice}

    def later(self, previous_response_id: str) -> dict[str, Any]:
        """A later request's: the same options but what the first ran; ``tool_choice`` only when every round."""
        kept = {name: value for name, value in self.options.items() if name not in _FIRST_ONLY}
        choice = self.tool_choice if self.every_round else None
        return {**kept, "tools": list(self.tools.tools), "tool_choice": choice, "previous_response_id": previous_response_id}


def plan_run(
    tools: Sequence[Any] | None, tool_choice: Any, max_tool_rounds: Any, every_round: Any,
    options: Mapping[str, Any], allowed: frozenset[str],
) -> RunPlan:  # fmt: skip
    """Check what only ``run`` needs, before anything is stored or sent (``create`` checks the rest on the first request).

    ``allowed`` are ``create``'s option names: any other keyword is a TypeError, as Python's own.
    """
    unknown = sorted(set(options) - (allowed - _NOT_OPTIONS))
    if unknown:
        raise TypeError(f"run() got unexpected keyword argument(s) {unknown}; it takes create()'s options and "
                        f"{[name for name, _ in RUN_OPTIONS]}")  # fmt: skip
    if isinstance(max_tool_rounds, bool) or not isinstance(max_tool_rounds, int) or max_tool_rounds < 1:
        raise InvalidRequest(
            f"max_tool_rounds must be a whole number from 1 up, not {max_tool_rounds!r}: the rounds of calls "
            "run before the loop stops (for one request and no loop, use responses.create)"
        )
    if not isinstance(every_round, bool):
        raise InvalidRequest(f"tool_choice_every_round must be True or False, not {every_round!r}")
    if options.get("store", True) is False:
        raise InvalidRequest(
            "run() chains its requests with previous_response_id, which needs each response stored: leave store=True"
        )
    checked = check_tools(tools, tool_choice)
    if not checked.tools:
        raise InvalidTool("run() needs tools=: the Python functions the model may call (for no tools, use responses.create)")
    wire_only = [tool.name for tool in checked.tools if tool.function is None or tool.arguments_model is None]
    if wire_only:
        raise InvalidTool(
            f"run() runs each tool's Python function, but {wire_only} {'was' if len(wire_only) == 1 else 'were'} given "
            "in the wire form, with none: give the functions (or lb.function_tool(fn)), or run the calls yourself "
            "with responses.create and function_call_output items",
            tool=wire_only[0],
        )
    return RunPlan(checked, tool_choice, max_tool_rounds, every_round, dict(options))


def start_run(create: Create, input: Any, plan: RunPlan, *, stream: bool) -> Response | ToolLoopStream:
    """Send the first request now (its errors raise here), then loop: the final response, or the stream of it."""
    loop = _Loop(create, plan, stream)
    events = loop.events(create(input, stream=stream, **plan.first()))
    if stream:
        return ToolLoopStream(loop, events)
    for _ in events:
        pass
    assert loop.response is not None
    return loop.response


class _Loop:
    """The rounds of one run; :attr:`responses` are its answers so far, oldest first."""

    def __init__(self, create: Create, plan: RunPlan, stream: bool) -> None:
        self.create, self.plan, self.stream = create, plan, stream
        self.responses: list[Response] = []
        self.current: ResponseStream | None = None
        self._functions = {tool.name: tool for tool in plan.tools.tools}

    @property
    def response(self) -> Response | None:
        return self.responses[-1] if self.responses else None

    def events(self, made: Response | ResponseStream) -> Iterator[ToolLoopEvent]:
        """Each request's events (when streamed), each call's ``tool.call`` and ``tool.result``, round by round."""
        sequence = itertools.count()
        for round_number in itertools.count(1):
            if isinstance(made, ResponseStream):
                self.current = made
                yield from made
                if made.response is None:
                    raise EngineError("The response stream ended without a final event (completed, incomplete or failed)")
                made = made.response
            self.responses.append(made)
            if not made.tool_calls or made.status != "completed":
                return
            if round_number > self.plan.max_rounds:
                self._exhausted(made)
                return
            outputs = []
            for call in made.tool_calls:
                yield ToolCallEvent(sequence_number=next(sequence), round=round_number, response_id=made.id, call=call)
                result = self._call(call, round_number, made.id, next(sequence))
                yield result
                outputs.append(result.item.model_dump(mode="json", exclude_none=True))
            made = self.create(outputs, stream=self.stream, **self.plan.later(made.id))

    def _exhausted(self, response: Response) -> None:
        response.tool_rounds_exhausted = True
        names = ", ".join(call.name for call in response.tool_calls)
        warnings.warn(
            f"run() stopped after max_tool_rounds={self.plan.max_rounds} rounds of calls: the last response "
            f"({response.id}) asks for {names}, not run. Raise max_tool_rounds, or read response.tool_calls",
            ToolLoopWarning,
            stacklevel=5,  # the caller of responses.run (not streamed)
        )

    def _call(self, call: FunctionCall, round_number: int, response_id: str, sequence_number: int) -> ToolResultEvent:
        """Run ``call``'s function: its result as text, or the error text the model is sent instead."""
        started = time.perf_counter()
        error = None
        try:
            output = result_text(self._invoke(call))
        except Exception as exc:  # noqa: BLE001 - whatever the function raises goes back to the model as text
            error = error_text(exc)
            output = f"Error: {error}"
            warnings.warn(
                f"Tool {call.name!r} ({call.call_id}) failed with {error}; the model was sent that as the call's output",
                ToolLoopWarning,
                stacklevel=5,  # the caller of responses.run (not streamed)
            )
        return ToolResultEvent(
            sequence_number=sequence_number, round=round_number, response_id=response_id, call_id=call.call_id,
            name=call.name, output=output, error=error, duration_s=round(time.perf_counter() - started, 6),
        )  # fmt: skip

    def _invoke(self, call: FunctionCall) -> Any:
        tool = self._functions.get(call.name)
        if tool is None:
            raise InvalidTool(f"There is no tool named {call.name!r}; the tools are {self.plan.tools.names}", tool=call.name)
        return invoke(tool, call)


def invoke(tool: FunctionTool, call: FunctionCall) -> Any:
    """Call ``tool``'s function with ``call``'s arguments, parsed and validated by its pydantic model (an
    ``async def`` awaited). Raises what parsing (:class:`~llamabook.ToolArgumentsInvalid`), validation
    (:class:`pydantic.ValidationError`) or the function raises."""
    assert tool.function is not None and tool.arguments_model is not None  # plan_run refused the others
    values = tool.arguments_model.model_validate(call.parsed_arguments())
    result = tool.function(**{name: getattr(values, name) for name in type(values).model_fields})
    if inspect.isawaitable(result):
        with ThreadPoolExecutor(1, thread_name_prefix="llamabook-tool") as pool:
            result = pool.submit(asyncio.run, _coroutine(result)).result()
    return result


async def _coroutine(awaitable: Any) -> Any:
    return await awaitable


def result_text(result: Any) -> str:
    """A function's result as the call's output: a str as it is, anything else as JSON (what JSON can't hold as its str)."""
    if isinstance(result, str):
        return result
    return pydantic_core.to_json(result, fallback=str).decode()


def error_text(exc: BaseException) -> str:
    """``"<Type>: <message>"`` of what a call raised; a validation error as its fields' messages, on one line."""
    if isinstance(exc, pydantic.ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}" for error in exc.errors()
        )
        return f"ValidationError: {problems}"
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class ToolLoopStream:
    """``client.responses.run(…, stream=True)``: iterate for the events of every round, the loop's own included.

    The model's events (``response.created`` … ``response.completed``, each request's own
    ``sequence_number`` from 0) come as a :class:`ResponseStream` gives them; after an answer's
    final event, each call it asks for is a :class:`~llamabook.types.ToolCallEvent` (``tool.call``)
    then a :class:`~llamabook.types.ToolResultEvent` (``tool.result``), before the next request's
    events. ``.response`` is the latest answer (the final one once done), ``.responses`` all of them,
    ``.text`` the current answer's text so far, ``.error`` the current request's error (as
    :attr:`ResponseStream.error`).
    """

    def __init__(self, loop: _Loop, events: Iterator[ToolLoopEvent]) -> None:
        self._loop = loop
        self._events = events

    def __iter__(self) -> Iterator[ToolLoopEvent]:
        return self._events

    @property
    def response(self) -> Response | None:
        return self._loop.response

    @property
    def responses(self) -> list[Response]:
        return list(self._loop.responses)

    @property
    def text(self) -> str:
        return self._loop.current.text if self._loop.current is not None else ""

    @property
    def error(self) -> BaseException | None:
        return self._loop.current.error if self._loop.current is not None else None

    def until_done(self) -> Response:
        """Run the rest of the loop and return the final response."""
        for _ in self:
            pass
        if self.response is None:
            raise EngineError("The tool loop ended without a response")
        return self.response

    def close(self) -> None:
        """Stop: the request under way is stored as stopped (``incomplete``), no further call runs."""
        if self._loop.current is not None:
            self._loop.current.close()
        close = getattr(self._events, "close", None)
        if close:
            close()

    def __enter__(self) -> ToolLoopStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
