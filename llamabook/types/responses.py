"""Response objects of the Responses API, plus llamabook's trace of how one was made."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Union

from pydantic import Field, PrivateAttr, field_validator, model_validator

from .base import NotebookRepr, WireModel
from .tool_calls import FunctionCall
from .variables import PromptReference

ResponseStatus = Literal["queued", "in_progress", "completed", "incomplete", "failed", "cancelled"]


class OutputText(WireModel):
    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[Any] = Field(default_factory=list)
    logprobs: list[Any] = Field(default_factory=list)


class OutputMessage(WireModel):
    type: Literal["message"] = "message"
    id: str
    role: Literal["assistant"] = "assistant"
    status: str = "completed"
    content: list[Union[OutputText, dict[str, Any]]] = Field(default_factory=list)


class InputTokensDetails(WireModel):
    cached_tokens: int = 0


class OutputTokensDetails(WireModel):
    reasoning_tokens: int = 0


class Usage(WireModel):
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_tokens_details: InputTokensDetails = Field(default_factory=InputTokensDetails)
    output_tokens_details: OutputTokensDetails = Field(default_factory=OutputTokensDetails)


class ResponseError(WireModel):
    code: str
    message: str


class ResponseTrace(WireModel):
    """What llamabook knows about how a response was made; not part of the wire object.

    ``messages`` are the chat messages the model saw, in order (media parts name their
    file instead of inlining bytes).
    """

    messages: list[dict[str, Any]] = Field(default_factory=list)
    #: seconds from the request to the final event, as measured here; for a replayed answer
    #: (``Response.replayed``) it is only how long reading the cassette took, which
    #: ``Response.latency_s`` does not report
    latency_s: float | None = None
    prompt_version: int | None = None
    engine: str | None = None
    backend: str | None = None
    #: "model": the model counted the tokens; "chunks": counted from a stream of one token per
    #: chunk; "deltas": a server reported none and llamabook counted the streamed deltas
    #: (output only; input_tokens is then 0, meaning not reported)
    usage_source: str | None = None
    #: why generation stopped, when the engine says: "stop" or "length" (max_output_tokens reached)
    finish_reason: str | None = None


#: ``incomplete_details["reason"]`` of an answer cut off at its token limit: Llama Stack 0.7.3 (and
#: the embedded backend, like it) say ``"length"``, OpenAI says ``"max_output_tokens"``.
CUT_OFF_REASONS = ("length", "max_output_tokens")


class Response(NotebookRepr, WireModel):
    """A model response, the same shape from every backend."""

    notebook_view: ClassVar[str] = "response"
    frame_columns = (
        "id", "created_at", "status", "model", "prompt_id", "prompt_version", "output_text",
        "input_tokens", "output_tokens", "total_tokens", "latency_s", "replayed", "error_code", "error_message",
        "instructions",
    )  # fmt: skip
    frame_dtypes = {
        "id": "string", "status": "string", "model": "string", "prompt_id": "string", "prompt_version": "Int64",
        "output_text": "string", "input_tokens": "Int64", "output_tokens": "int64", "total_tokens": "Int64",
        "latency_s": "float64", "replayed": "bool", "error_code": "string", "error_message": "string",
        "instructions": "string",
    }  # fmt: skip

    id: str
    object: Literal["response"] = "response"
    created_at: int
    completed_at: int | None = None
    status: ResponseStatus
    error: ResponseError | None = None
    incomplete_details: dict[str, Any] | None = None
    model: str
    #: messages, function calls (:class:`FunctionCall`, also in :attr:`tool_calls`) and, as dicts, any other item
    output: list[Union[OutputMessage, FunctionCall, dict[str, Any]]] = Field(default_factory=list)
    prompt: PromptReference | None = None
    instructions: str | None = None
    previous_response_id: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    metadata: dict[str, str] | None = None
    store: bool = True
    text: dict[str, Any] = Field(default_factory=lambda: {"format": {"type": "text"}})
    #: the request's tools, echoed (wire form)
    tools: list[dict[str, Any]] | None = None
    #: the request's ``tool_choice``, echoed
    tool_choice: Union[str, dict[str, Any], None] = None
    usage: Usage | None = None
    trace: ResponseTrace | None = Field(default=None, exclude=True)
    #: True when the answer was replayed from a cassette (``cassette=``, ``$LLAMABOOK_CASSETTE``) instead of
    #: being generated: no model ran, so it has no latency. Client-side, not a wire field.
    replayed: bool = Field(default=False, exclude=True)
    #: True when ``client.responses.run`` stopped at ``max_tool_rounds`` with this response's calls not run
    #: (a :class:`~llamabook.ToolLoopWarning` said so too). Client-side, not a wire field.
    tool_rounds_exhausted: bool = Field(default=False, exclude=True)
    #: set by ``responses.create`` (the pydantic instance), else re-parsed on first read; not a wire field
    _output_parsed: Any = PrivateAttr(default=None)
    _output_parsed_known: bool = PrivateAttr(default=False)

    @property
    def output_parsed(self) -> Any:
        """The output as a value when it validates against the request's JSON schema, else None.

        ``responses.create(schema=Model)`` sets it to an instance of the pydantic model. A response
        read back (``retrieve``, ``list``) is re-parsed from ``output_text`` against its
        ``text["format"]["schema"]``, as a dict. None for free text, a cut-off answer or an invalid one.
        """
        if not self._output_parsed_known:
            self._output_parsed, self._output_parsed_known = self._parse_output(), True
        return self._output_parsed

    def set_output_parsed(self, value: Any) -> None:
        """Keep ``value`` (e.g. the pydantic instance) as :attr:`output_parsed`, or None for an invalid output."""
        self._output_parsed, self._output_parsed_known = value, True

    def _parse_output(self) -> Any:
        fmt = (self.text or {}).get("format") or {}
        if fmt.get("type") != "json_schema" or self.status != "completed" or not isinstance(fmt.get("schema"), dict):
            return None
        from ..schemas import ResolvedSchema, parse

        try:
            value, errors = parse(self.output_text, ResolvedSchema(str(fmt.get("name") or "output"), fmt["schema"]))
        except (ImportError, ValueError):  # no jsonschema here, or a schema it refuses
            return None
        return None if errors else value

    @property
    def output_text(self) -> str:
        """All ``output_text`` parts of the assistant messages, joined."""
        parts: list[str] = []
        for item in self.output:
            if isinstance(item, OutputMessage):
                parts.extend(c.text for c in item.content if isinstance(c, OutputText))
        return "".join(parts)

    @property
    def tool_calls(self) -> list[FunctionCall]:
        """The ``function_call`` items of the output, in order: the calls the model asks for."""
        return [item for item in self.output if isinstance(item, FunctionCall)]

    @property
    def cut_off(self) -> bool:
        """True when the answer stopped at its token limit (``max_output_tokens`` or the server's cap).

        Such a response has ``status == "incomplete"``, and ``incomplete_details`` gives the reason,
        as Llama Stack 0.7.3 and OpenAI report it.
        """
        return self.status == "incomplete" and (self.incomplete_details or {}).get("reason") in CUT_OFF_REASONS

    @property
    def input_tokens(self) -> int | None:
        """The input tokens the model counted; None when unknown (no usage, or a server that reported
        none: ``trace.usage_source == "deltas"``, where ``usage.input_tokens`` is a placeholder 0)."""
        if self.usage is None or (self.trace is not None and self.trace.usage_source == "deltas"):
            return None
        return self.usage.input_tokens

    @property
    def latency_s(self) -> float | None:
        """Seconds the call took, from the request to the answer's last event; None when not measured,
        and for an answer replayed from a cassette (:attr:`replayed`): no model ran, and the time a
        replay takes (reading a file) says nothing about the model or the server."""
        if self.replayed or self.trace is None:
            return None
        return self.trace.latency_s

    @property
    def rendered_messages(self) -> list[dict[str, Any]]:
        """The exact chat messages the model saw (empty if unknown)."""
        return self.trace.messages if self.trace else []

    def to_dict(self) -> dict[str, Any]:
        usage = self.usage or Usage()
        prompt_version: Any = self.prompt.version if self.prompt else None
        return {
            "id": self.id,
            "created_at": self.created_at,
            "status": self.status,
            "model": self.model,
            "prompt_id": self.prompt.id if self.prompt else None,
            "prompt_version": int(prompt_version) if prompt_version else None,
            "output_text": self.output_text,
            "input_tokens": self.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens if self.input_tokens is not None else None,
            "latency_s": self.latency_s,
            "replayed": self.replayed,
            "error_code": self.error.code if self.error else None,
            "error_message": self.error.message if self.error else None,
            "instructions": self.instructions,
        }


class InputItem(WireModel):
    """One stored item of a request's ``input``: a message, or a tool item (``function_call_output``, ``function_call``).

    A message's ``content`` is always a list of parts: a plain-string content is shown as one
    ``input_text`` part, whichever form the backend stored. A tool item has no role nor content;
    its own fields (``call_id``, ``output``, ``name``, ``arguments``) are kept as they came.
    """

    type: str = "message"
    id: str | None = None
    role: str | None = None
    content: list[dict[str, Any]] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _message_role(cls, value: Any) -> Any:
        if isinstance(value, dict) and value.get("type", "message") == "message" and value.get("role") is None:
            return {**value, "role": "user"}
        return value

    @field_validator("content", mode="before")
    @classmethod
    def _as_parts(cls, value: Any) -> Any:
        return [{"type": "input_text", "text": value}] if isinstance(value, str) else value
