"""A Responses request after the Client has checked it: what a backend is asked to run."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from .ids import new_response_id
from .responses import Response
from .tool_calls import has_tool_items
from .variables import PromptReference

_Options = TypeVar("_Options")


def from_arguments(cls: type[_Options], arguments: Mapping[str, Any]) -> _Options:
    """An instance of the dataclass ``cls`` from a call's arguments (``locals()``): each field from its namesake.

    How a public method whose signature lists the options for users (IDE completion, ``help()``)
    hands them on as one value without writing the list a second time. A field the arguments
    lack is a KeyError: the signature and the dataclass have drifted apart.
    """
    return cls(**{field.name: arguments[field.name] for field in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True)
class ResponseOptions:
    """How a response is made and kept: every option of ``client.responses.create`` besides what it
    runs (``input``, ``prompt``, ``template``/``name``, ``variables``), on which ``model``, and ``stream``.

    One value carries them through ``create``, ``prepare``, a pinned prompt's calls
    (:meth:`~llamabook.resources.responses.PinnedPrompt.create`) and the async twins. Nothing is
    checked when it is made: the checks run with the rest of the request's, in the same order.
    """

    instructions: str | None = None
    strict: bool = True
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    metadata: Mapping[str, str] | None = None
    previous_response_id: str | None = None
    store: bool = True
    describe_images: bool = False
    pdf_to_text: bool | None = None
    text: Mapping[str, Any] | None = None
    #: a pydantic model class, a JSON-schema dict, or a resolved schema
    schema: Any = None
    #: the embedded model's sampling seed (None: its own); the Responses API has none to send a server
    seed: int | None = None
    #: function tools: Python callables, ``llamabook.tools.FunctionTool`` objects or wire dicts
    tools: Sequence[Any] | None = None
    #: "auto", "none", "required", a tool's name or ``{"type": "function", "name": …}``
    tool_choice: str | Mapping[str, Any] | None = None

    @classmethod
    def names(cls) -> frozenset[str]:
        """The option names, as keyword arguments."""
        return _OPTION_NAMES


_OPTION_NAMES = frozenset(field.name for field in fields(ResponseOptions))


@dataclass
class ResponseRequest:
    """A Responses request after the Client has checked it (prompt version resolved, variables typed)."""

    model: str
    input: str | list[dict[str, Any]] | None = None
    instructions: str | None = None
    prompt: PromptReference | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    metadata: dict[str, str] | None = None
    previous_response_id: str | None = None
    store: bool = True
    #: the Responses API's ``text`` as given, e.g. ``{"format": {"type": "json_schema", "name": …, "schema": {…}}}``
    text: dict[str, Any] | None = None
    #: function tools in their wire form (``{"type": "function", "name", "description", "parameters", "strict"}``)
    tools: list[dict[str, Any]] | None = None
    #: the wire ``tool_choice``: "auto", "none", "required" or ``{"type": "function", "name": …}``
    tool_choice: str | dict[str, Any] | None = None
    #: the prompt as the user gave it, recorded with the response when ``prompt`` was rewritten
    #: (media a model can't take replaced by text: see ``llamabook.media_fallback``)
    given_prompt: PromptReference | None = None
    # llamabook options, not sent to servers
    prompt_template: str | None = None
    describe_images: bool = False
    pdf_to_text: bool | None = None
    #: the embedded model's sampling seed (None: its own)
    seed: int | None = None

    def new_response(self, status: str, *, model: str | None = None, prompt: PromptReference | None = None) -> Response:
        """A response to this request, not yet generated: a new id, now, and the request's options echoed."""
        return Response(
            id=new_response_id(),
            created_at=int(time.time()),
            status=status,  # type: ignore[arg-type]
            model=model or self.model,
            prompt=prompt or self.prompt,
            instructions=self.instructions,
            previous_response_id=self.previous_response_id,
            temperature=self.temperature,
            top_p=self.top_p,
            max_output_tokens=self.max_output_tokens,
            metadata=self.metadata,
            store=self.store,
            text=self.text if self.text is not None else {"format": {"type": "text"}},
            tools=self.tools,
            tool_choice=self.tool_choice,
        )

    @property
    def has_tool_items(self) -> bool:
        """True when ``input`` holds tool items (``function_call_output``, ``function_call``), not only messages."""
        return has_tool_items(self.input)

    @property
    def json_schema(self) -> dict[str, Any] | None:
        """The JSON Schema the output must follow, or None for free text.

        ``json_object`` (JSON mode: any JSON object) is the schema ``{"type": "object"}``.
        """
        fmt = (self.text or {}).get("format") or {}
        if fmt.get("type") == "json_schema":
            return fmt["schema"]
        if fmt.get("type") == "json_object":
            return {"type": "object"}
        return None
