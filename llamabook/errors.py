"""Every exception llamabook raises, in one place.

All derive from :class:`LlamabookError`. Errors about the caller's input derive from
:class:`InputError` (also a ``ValueError``) and are raised *before* anything is written
or sent. Lookups that find nothing derive from :class:`NotFound` (also a ``LookupError``).
Each message says what to change.

``docs/errors.md`` shows them as a tree, each with when it is raised and what to do (generated from
this module, so the two can't drift apart).

Two warnings, not exceptions (both ``UserWarning``): :class:`CheckErrorWarning`, when checks of a
grid raised on some rows (their verdicts are missing, their messages in ``check_<name>_error``), and
:class:`ToolLoopWarning`, when a function of ``client.responses.run`` raised (its error text went back to
the model) or the loop stopped at ``max_tool_rounds``.
"""

from __future__ import annotations

from collections.abc import Iterable


class LlamabookError(Exception):
    """Base class of every llamabook error."""


class InputError(LlamabookError, ValueError):
    """The request is malformed; it was rejected before anything was stored or sent."""


class InvalidRequest(InputError):
    """A malformed argument (wrong purpose, malformed id, bad option)."""


def _names(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)


class UndeclaredVariables(InputError):
    """The template uses placeholders that are not declared in ``variables``."""

    def __init__(self, names: Iterable[str], declared: Iterable[str] = ()) -> None:
        self.names = sorted(set(names))
        self.declared = list(declared)
        super().__init__(
            f"Prompt contains undeclared variables: {_names(self.names)}. "
            f"Add them to variables= (declared now: {self.declared})."
        )


class MissingVariables(InputError):
    """Strict mode: the prompt declares variables that were given no value.

    ``named`` is the prompt as the user wrote it (``haiku@2``; ``types.refs.written_as``), shown
    instead of ``prompt_id``; ``because`` says why there is no value (``rows has no column 'mood'``)
    and ``advice`` what to do, instead of the ``variables=`` advice of ``responses.create``.
    """

    def __init__(
        self,
        names: Iterable[str],
        prompt_id: str | None = None,
        advice: str | None = None,
        *,
        named: str | None = None,
        because: str | None = None,
    ) -> None:
        self.names = sorted(set(names))
        self.prompt_id = prompt_id
        shown = named or prompt_id
        where = f" of prompt {shown}" if shown else ""
        why = f": {because}" if because else ""
        super().__init__(
            f"Missing value for variable(s) {_names(self.names)}{where}{why}. "
            + (advice or "Pass them in variables=, or use strict=False to leave the placeholders as literal text.")
        )


class UnknownVariables(InputError):
    """A value was supplied for a name the prompt does not declare (``named``: as in :class:`MissingVariables`)."""

    def __init__(
        self, names: Iterable[str], declared: Iterable[str] = (), prompt_id: str | None = None, *, named: str | None = None
    ) -> None:
        self.names = sorted(set(names))
        self.declared = list(declared)
        self.prompt_id = prompt_id
        shown = named or prompt_id
        where = f"prompt {shown}" if shown else "the prompt"
        super().__init__(
            f"Variable(s) {_names(self.names)} not defined in {where}; "
            f"it declares {self.declared}. Remove them or add them with prompts.update(...)."
        )


class InvalidVariable(InputError):
    """A variable value that llamabook cannot turn into a typed variable."""


class UnsupportedInput(InputError):
    """The chosen model cannot accept this kind of input."""

    def __init__(self, message: str, *, model: str | None = None, kind: str | None = None) -> None:
        self.model = model
        self.kind = kind
        super().__init__(message)


class FileTooLarge(InputError):
    """An upload is over the backend's size limit."""

    def __init__(self, size: int, limit: int, filename: str | None = None) -> None:
        self.size = size
        self.limit = limit
        name = f" {filename!r}" if filename else ""
        super().__init__(
            f"File{name} is {size:,} bytes, over the {limit:,}-byte upload limit. "
            "Send a smaller file (e.g. split or compress it)."
        )


class BatchesUnsupported(InvalidRequest):
    """``grid(executor="batch")`` on a backend without a Batches API (the embedded one, or a server without it).

    Raised before anything is uploaded or run.
    """


class InvalidTool(InvalidRequest):
    """A tool of ``tools=`` or the ``tool_choice=`` can't be sent: checked before anything is stored or sent.

    ``tool`` names the tool (or the function) when there is one. The message says what to change:
    the parameter that has no JSON Schema, the duplicate name, the unknown choice.
    """

    def __init__(self, message: str, *, tool: str | None = None) -> None:
        self.tool = tool
        super().__init__(message)


class ToolsUnsupported(InvalidRequest):
    """The model can't be given tools here (``tools=``, or ``function_call`` items in ``input=``).

    Raised before anything is stored or sent. ``model`` names the model.
    """

    def __init__(self, message: str, *, model: str | None = None) -> None:
        self.model = model
        super().__init__(message)


class ToolArgumentsInvalid(LlamabookError, ValueError):
    """A ``function_call`` output item's ``arguments`` are not a JSON object.

    ``name`` and ``call_id`` say which call, ``arguments`` holds the text the model wrote.
    """

    def __init__(self, name: str, call_id: str, arguments: str, reason: str) -> None:
        self.name, self.call_id, self.arguments = name, call_id, arguments
        shown = arguments if len(arguments) <= 200 else arguments[:200] + "…"
        super().__init__(
            f"The arguments of the call to {name!r} ({call_id}) are not a JSON object: {reason}. "
            f"The model wrote {shown!r}; read them as text (.arguments) instead."
        )


class NotFound(LlamabookError, LookupError):
    """Base class for an id that matches nothing."""


class PromptNotFound(NotFound):
    """No prompt with this id (or this version)."""


class VersionNotFound(PromptNotFound):
    """The prompt exists but has no such version."""


class FileNotFound(NotFound):
    """No file with this id."""


class ResponseNotFound(NotFound):
    """No stored response with this id."""


class ModelNotFound(NotFound):
    """The backend has no engine that serves this model."""


class VersionConflict(LlamabookError):
    """``prompts.update`` must name the latest version, and another version is newer."""

    def __init__(self, prompt_id: str, given: int, latest: int) -> None:
        self.prompt_id = prompt_id
        self.given = given
        self.latest = latest
        super().__init__(
            f"{given} is not the latest version of prompt {prompt_id}; the latest is {latest}. "
            f"Pass version={latest} (re-read it with prompts.retrieve) and try again."
        )


def retryable_status(status: int | None) -> bool:
    """Whether an HTTP status may pass on a retry: a timeout, a conflict, a rate limit or a server error."""
    return status is not None and (status in (408, 409, 429) or status >= 500)


class EngineError(LlamabookError):
    """The model failed while generating.

    ``status_code`` is the server's HTTP status when there was one, and ``retry_after`` its
    Retry-After in seconds; :attr:`retryable` says whether trying again may help.
    """

    def __init__(self, message: str, *, status_code: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Rate limits and server errors (429, 5xx, …) may pass on a retry."""
        return retryable_status(self.status_code)


class EngineUnavailable(EngineError):
    """The engine cannot run here: a package is missing or a server is unreachable (or timed out)."""

    @property
    def retryable(self) -> bool:
        return True


class ModelRejectedInput(EngineError):
    """A server's model refused a file (PDF) or image part: it takes text only.

    Raised from the server's answer, so the request was sent. ``model`` is the model id and
    ``kind`` is ``"file"`` or ``"image"``. Declaring the model text-only makes llamabook send
    PDFs as their text and images as short descriptions, which such a model can take.
    """

    def __init__(self, model: str | None, kind: str, declared: bool = False) -> None:
        self.model = model
        self.kind = kind
        name = repr(model) if model else "MODEL"
        said = " (model_accepts= declared it does)" if declared else ""
        what = "a PDF (file part)" if kind == "file" else "an image"
        fix = (
            "so llamabook sends each PDF as its text"
            if kind == "file"
            else "and pass describe_images=True, so llamabook sends a short description of each image"
        )
        super().__init__(
            f"The server's model {name} rejected {what}{said}: it takes text only. Declare it text-only, "
            f"lb.Client(..., model_accepts={{{name}: ['text']}}), {fix}; or register the model on the "
            "server with metadata {input_modalities: [text]}, which llamabook reads from /v1/models."
        )

    @property
    def retryable(self) -> bool:
        return False


class OutputFormatUnsupported(EngineError):
    """A server's model can't be held to the request's ``text.format`` (a JSON schema).

    Llama Stack and OGX pass a ``json_schema`` format on to their inference provider as
    ``response_format``; an upstream that takes only ``text`` or ``json_object`` (llama-cpp-python's
    server) refuses it. Raised from the server's answer, so the request was sent.
    """

    def __init__(self, model: str | None) -> None:
        self.model = model
        name = repr(model) if model else "the model"
        super().__init__(
            f"The server can't hold {name} to a JSON schema: its inference provider takes only "
            "response_format 'text' or 'json_object'. Leave text= out (and check the output yourself, "
            "e.g. with lb.checks.json_schema), or use a model whose provider supports json_schema."
        )

    @property
    def retryable(self) -> bool:
        return False


class BatchStalled(EngineError):
    """The wait for a grid's server batch ended at a limit of ``grid(executor="batch")``.

    ``limit`` is ``"batch_stall"`` (the server's request counts and status did not change for
    that long: a batch left ``in_progress`` by a restarted server, say) or ``"batch_timeout"``
    (it did not finish in that long). ``batch_id`` names the batch, ``status`` is its last status
    and ``waited_s`` how long this call waited. The plan stays in the home: the same grid call
    follows the batch again; ``resume=False`` submits afresh, ``client.batches.forget(batch_id)``
    drops the plan and ``client.batches.cancel(batch_id)`` asks the server to stop the batch.
    """

    def __init__(self, batch_id: str, status: str, limit: str, limit_s: float, waited_s: float, done: int, total: int) -> None:
        self.batch_id = batch_id
        self.status = status
        self.limit = limit
        self.waited_s = waited_s
        if limit == "batch_stall":
            what = f"made no progress for {limit_s:g} s (batch_stall={limit_s:g})"
            cause = " A server restarted while a batch ran leaves it like this for good."
        else:
            what = f"did not finish within {limit_s:g} s (batch_timeout={limit_s:g})"
            cause = ""
        super().__init__(
            f"Batch {batch_id} {what}: status {status!r}, {done} of {total} requests done.{cause} Run the same "
            f"grid with resume=False to submit its requests afresh, or client.batches.forget({batch_id!r}) "
            f"to drop its plan (and client.batches.cancel({batch_id!r}) to stop it on the server); "
            "or run it again, with a larger limit, to go on waiting."
        )

    @property
    def retryable(self) -> bool:
        return False


class OutputInvalid(LlamabookError):
    """A response's output does not validate against the request's schema (``schema=`` or ``text=``).

    ``errors`` lists what failed, each line starting with a field path (``"$.total: ..."``); ``raw``
    is the raw output text; ``cut_off`` is True when the output stopped at ``max_output_tokens``
    before the JSON ended (reported as cut off, never half-parsed); ``response`` is the stored
    :class:`~llamabook.Response`, whose ``output_text`` keeps the raw text.
    """

    def __init__(
        self, errors: Iterable[str], raw: str, *, cut_off: bool = False, response: object | None = None
    ) -> None:
        self.errors = list(errors)
        self.raw = raw
        self.cut_off = cut_off
        self.response = response
        rid = getattr(response, "id", None)
        where = f" (response {rid}, raw text kept)" if rid else ""
        if cut_off:
            message = (
                f"The output was cut off at max_output_tokens before its JSON ended{where}. "
                "Raise max_output_tokens (or ask for less) and try again."
            )
        else:
            shown = "; ".join(self.errors[:5]) + (f"; and {len(self.errors) - 5} more" if len(self.errors) > 5 else "")
            message = (
                f"The output does not match the schema{where}: {shown}. "
                "Check .raw, and make the prompt or schema clearer (or the fields optional)."
            )
        super().__init__(message)


class ToolChoiceIgnored(OutputInvalid, EngineError):
    """``tool_choice`` asked for a call (``"required"`` or a named function) and the server answered without one.

    The server (or its inference provider) ignored the choice: behind Llama Stack or OGX,
    llama-cpp-python's server answers ``"required"`` in plain text (with no ``--chat_format``) or
    with an empty message (``--chat_format chatml-function-calling``). Raised from the server's
    answer, so the request was sent; ``response`` is the stored response (its text kept), ``choice``
    the ``tool_choice`` as sent. Like :class:`OutputInvalid` (the output isn't the form asked for),
    ``stream=True`` raises nothing: the stream's ``.error`` holds it.
    """

    def __init__(self, choice: object, *, response: object | None = None, model: str | None = None) -> None:
        self.choice = choice
        self.model = model
        self.errors = ["$: no function_call item; the model answered in text"]
        self.raw = str(getattr(response, "output_text", "") or "")
        self.cut_off = False
        self.response = response
        self.status_code = None
        self.retry_after = None
        rid = getattr(response, "id", None)
        where = f" (response {rid}, its text kept)" if rid else ""
        asked = "a call (tool_choice='required')" if choice == "required" else f"a call to {_choice_name(choice)!r}"
        name = repr(model) if model else "model"
        LlamabookError.__init__(
            self,
            f"The server's {name} answered in text where {asked} was asked for{where}: the server or its "
            "inference provider ignored tool_choice. llama-cpp-python's server honours only a named function: "
            "pass tool_choice={'type': 'function', 'name': …}; or use an inference provider that supports "
            "'required' (no setting of llama-cpp-python's server does, behind Llama Stack or OGX: see "
            "docs/servers.md, Tools).",
        )

    @property
    def retryable(self) -> bool:
        return False


def _choice_name(choice: object) -> object:
    return choice.get("name") if isinstance(choice, dict) else choice


class GateFailed(LlamabookError):
    """``client.prompts.promote`` did not move the label: the evidence fell short on some check.

    The message names each failing check and why; ``table`` is the gate's whole table (a DataFrame,
    one row per check × model: ``required``, ``value``, ``low``, ``high``, ``n``, ``errors``,
    ``verdict``, ``passed``, ``reason``). Nothing was moved or recorded.
    """

    def __init__(self, message: str, *, table: object = None) -> None:
        self.table = table
        super().__init__(message)


class CassetteMiss(LlamabookError):
    """``record="none"``: the request is not in the cassette, and nothing was sent live.

    ``cassette`` is the cassette's path and ``summary`` a short description of the request
    (model or method and path, and the first characters of its input).
    """

    def __init__(self, cassette: str, summary: str, hint: str | None = None) -> None:
        self.cassette = cassette
        self.summary = summary
        self.hint = hint
        super().__init__(
            f"Cassette {cassette} has no recording of {summary}. "
            + (hint or "Record it: run with record='new' (or $LLAMABOOK_RECORD=new) where the model or server is available.")
        )


class CheckErrorWarning(UserWarning):
    """Checks of a grid raised: their rows have no verdict (``<NA>``), the messages are in ``check_<name>_error``.

    Warned once per ``client.grid(…, checks=…)`` or ``checks.apply(…)`` call, with how many rows
    each check raised on and its first message. An error is never counted as a fail.
    """


class ToolLoopWarning(UserWarning):
    """``client.responses.run``: a function raised, or its arguments did not validate (the model was sent
    ``"Error: <Type>: <message>"`` as its output and the loop went on), or the loop stopped at
    ``max_tool_rounds`` with calls not run (the response returned has ``tool_rounds_exhausted=True``).
    """


__all__ = [
    "BatchStalled", "BatchesUnsupported", "CassetteMiss", "CheckErrorWarning", "EngineError", "EngineUnavailable",
    "FileNotFound", "FileTooLarge", "GateFailed", "InputError", "InvalidRequest", "InvalidTool", "InvalidVariable",
    "LlamabookError", "MissingVariables", "ModelNotFound", "ModelRejectedInput", "NotFound",
    "OutputFormatUnsupported", "OutputInvalid", "PromptNotFound", "ResponseNotFound", "ToolArgumentsInvalid",
    "ToolChoiceIgnored", "ToolLoopWarning", "ToolsUnsupported", "UndeclaredVariables", "UnknownVariables",
    "UnsupportedInput", "VersionConflict", "VersionNotFound",
]  # fmt: skip
