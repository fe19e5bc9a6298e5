"""The engine protocol: turn chat messages into a stream of text deltas."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..errors import ToolsUnsupported
from ..types.models import Model


@dataclass(frozen=True)
class GenerationOptions:
    """Sampling options; ``temperature=0`` means greedy."""

    temperature: float = 0.0
    max_output_tokens: int | None = None
    top_p: float | None = None
    #: a JSON Schema the output must follow (constrained decoding); engines that can't constrain ignore it
    json_schema: dict[str, Any] | None = None
    #: the sampling seed (None: the engine's own); it matters only with a temperature above 0
    seed: int | None = None
    #: function tools in the Responses wire form (``{"type": "function", "name", "parameters", …}``), or None;
    #: only an engine that takes tools (:class:`ToolEngine`) is given any
    tools: list[dict[str, Any]] | None = None
    #: the wire ``tool_choice`` ("auto", "none", "required", ``{"type": "function", "name": …}``), or None
    tool_choice: str | dict[str, Any] | None = None


class Generation:
    """An iterator of text deltas; ``input_tokens``/``output_tokens`` are set once it is exhausted."""

    def __init__(self, deltas: Iterator[str] | None = None) -> None:
        self._deltas: Iterator[str] = deltas if deltas is not None else iter(())
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.finish_reason: str | None = None
        #: "model" when the model counted the tokens; "chunks" when they were counted from the stream
        self.usage_source = "model"
        #: True when the deltas come from a cassette (``engines.recorded``), not from a model
        self.replayed = False

    def start(self, deltas: Iterator[str]) -> None:
        """Attach the deltas (engines build them with a reference to this object)."""
        self._deltas = deltas

    def __iter__(self) -> Iterator[str]:
        return self._deltas

    def close(self) -> None:
        close = getattr(self._deltas, "close", None)
        if close:
            close()


@runtime_checkable
class Engine(Protocol):
    """Something that can run chat messages through a model."""

    name: str

    def models(self) -> list[Model]:
        """The models this engine serves, with what each accepts."""
        ...

    def generate(self, model: str, messages: list[dict[str, Any]], options: GenerationOptions) -> Generation:
        """Start generating; the returned :class:`Generation` yields text as it comes."""
        ...


@runtime_checkable
class ConstrainedEngine(Engine, Protocol):
    """An engine that holds its output to a JSON Schema itself (constrained decoding, e.g. a grammar).

    Implementing :meth:`check_output_schema` is how an engine declares it: such an engine can say,
    before any call, which parts of a schema it can't express. Any other engine is not held to a
    schema here (an OpenAI-compatible server checks the schema it is sent itself).
    """

    def check_output_schema(self, schema: dict[str, Any]) -> None:
        """Raise :class:`~llamabook.InvalidRequest` naming what of ``schema`` this engine can't hold its output to.

        Needs no model: a replay checks schemas without loading the engine's runtime.
        """
        ...


def check_output_schema(engine: Engine, schema: dict[str, Any]) -> None:
    """``engine``'s own check of ``schema`` when it constrains its output; nothing for any other engine."""
    if isinstance(engine, ConstrainedEngine):
        engine.check_output_schema(schema)


@runtime_checkable
class ToolEngine(Engine, Protocol):
    """An engine that takes function tools (``GenerationOptions.tools``) and tool items in its messages.

    Implementing :meth:`check_tools` is how an engine declares it. The embedded engine does
    (``engines/embedded/engine.py``: a grammar made from the tools' schemas); the OpenAI-compatible
    engine doesn't (it would need Chat Completions' tool form). An engine that implements it, behind
    the local backend, gets the tools on ``GenerationOptions`` and the messages in the plain text form
    of ``llamabook.rendering.plain_tool_messages`` (the tools in the system message unless
    ``tool_choice`` is ``"none"``, a call as the assistant's JSON, a result as a user message), and
    answers a call in text as ``{"name": …, "arguments": {…}}``, which the backend reads back
    (``llamabook.rendering.parse_tool_call``) into a ``function_call`` item.
    """

    def check_tools(
        self, tools: list[dict[str, Any]] | None, tool_choice: str | dict[str, Any] | None, model: str
    ) -> None:
        """Raise :class:`~llamabook.ToolsUnsupported` (or ``InvalidTool``) for what of these tools ``model`` can't take.

        Needs no model loaded: a replay checks tools without the engine's runtime.
        """
        ...


def check_tools(
    engine: Engine, tools: list[dict[str, Any]] | None, tool_choice: str | dict[str, Any] | None, model: str
) -> None:
    """``engine``'s own check of the tools when it takes tools; :class:`~llamabook.ToolsUnsupported` for any other."""
    if isinstance(engine, ToolEngine):
        engine.check_tools(tools, tool_choice, model)
        return
    raise ToolsUnsupported(
        f"Tools on the {engine.name} engine (model {model!r}) are not available yet: it has no tool prompt "
        "to give them to the model. Leave tools= (and function_call_output items) out here, or run the "
        "request on a server whose model takes tools (lb.Client(base_url=…)).",
        model=model,
    )
