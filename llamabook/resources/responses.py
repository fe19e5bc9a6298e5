"""``client.responses``: run prompts through a model, stream, and read stored responses.

The request is prepared in :mod:`.preparation` (its arguments checked in :mod:`.arguments`, the
``text=`` wire form in :mod:`llamabook.schemas`); a call's events are a :class:`ResponseStream`
(:mod:`.response_stream`); a version pinned for many calls is a :class:`PinnedPrompt` (:mod:`.pinned`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .. import media_fallback
from ..backends.base import Backend, ResponseRequest
from ..errors import EngineError, LlamabookError, OutputInvalid
from ..types import DeletedObject, InputItem, ObjectList, Prompt, Response, Thread
from ..types.refs import written_as
from ..types.requests import ResponseOptions, from_arguments
from .arguments import options_for_create, options_given
from .files import Files
from .listing import MAX_LIMIT, check_listing
from .pinned import PinnedPrompt, PromptDraft
from .preparation import RequestPreparer
from .prompts import Prompts
from .response_stream import ResponseStream
from .threads import read_thread
from .tool_loop import ToolLoopStream, plan_run, run_signature, start_run

if TYPE_CHECKING:
    from ..store.writer import Unit

__all__ = ["PinnedPrompt", "ResponseStream", "Responses", "ToolLoopStream"]


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _parameters_of(source: Callable[..., Any], *, without: str) -> Callable[[_Method], _Method]:
    """Show ``source``'s parameters but ``without`` as the decorated method's own (``help()``, ``inspect``,
    Jupyter's completion), with its own return annotation: a method that takes ``**options`` for them."""

    def show(method: _Method) -> _Method:
        signature = inspect.signature(source)
        kept = [parameter for name, parameter in signature.parameters.items() if name != without]
        method.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=kept, return_annotation=inspect.signature(method).return_annotation
        )
        return method

    return show


class Responses:
    """Create responses (optionally from a stored prompt) and read them back."""

    def __init__(self, backend: Backend, files: Files, prompts: Prompts) -> None:
        self._backend = backend
        self._requests = RequestPreparer(backend, files, prompts)

    def create(
        self,
        input: str | list[dict[str, Any]] | None = None,
        *,
        model: str | None = None,
        prompt: Any = None,
        variables: Mapping[str, Any] | None = None,
        template: str | None = None,
        name: str | None = None,
        instructions: str | None = None,
        stream: bool = False,
        strict: bool = True,
        temperature: float | None = None,
        top_p: float | None = None,
        max_output_tokens: int | None = None,
        metadata: Mapping[str, str] | None = None,
        previous_response_id: str | None = None,
        store: bool = True,
        describe_images: bool = False,
        pdf_to_text: bool | None = None,
        text: Mapping[str, Any] | None = None,
        schema: Any = None,
        seed: int | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
    ) -> Response | ResponseStream:
        """Generate a response.

        ``prompt`` is a reference (``"pmpt_…"``, ``"pmpt_…@2"``, a name such as ``"tutor"`` or
        ``"tutor@2"``), a :class:`Prompt`, or a ``{"id", "version", "variables"}`` dict. Instead
        of a stored prompt, ``template`` runs a template text: once every value is checked it
        is stored by :meth:`Prompts.save` (as ``name`` when given), then sent. ``variables`` takes plain Python values
        (str, Path, bytes, PIL image, File) and types them. With ``strict`` (the default)
        every declared variable needs a value; ``strict=False`` leaves missing ones as
        literal ``{{name}}`` like the server. Images for a text-only model raise
        :class:`UnsupportedInput` unless ``describe_images=True``. All checks run before
        anything is uploaded or generated.

        ``text`` is the Responses API's output format, in its wire form:
        ``{"format": {"type": "json_schema", "name": "verdict", "schema": {...}, "strict": True}}``
        constrains the answer to JSON following ``schema`` (the embedded model decodes with a
        grammar made from it), ``{"format": {"type": "json_object"}}`` to a JSON object, and
        ``{"format": {"type": "text"}}`` (the default) leaves it free. The response echoes it.
        ``schema`` is the shorthand: a pydantic model class or a JSON-schema dict, sent as that
        ``json_schema`` format (named after the class, or ``"output"``); give it or a json_schema
        ``text``, not both. A schema that isn't valid JSON Schema, a pydantic model that can't make
        one, or (on the embedded model) a feature its grammar can't express raises
        :class:`InvalidRequest`, naming it, before anything is stored.

        With a schema (from ``schema`` or ``text``) the output is parsed and validated:
        ``response.output_parsed`` is the pydantic instance (or the dict) when it is valid; otherwise
        :class:`~llamabook.OutputInvalid` is raised, saying which fields failed, with the stored
        response (raw text kept) as its ``.response``. An answer cut off at ``max_output_tokens`` is
        an ``OutputInvalid`` with ``cut_off=True``, never half-parsed. With ``stream=True`` nothing is
        raised: the stream's ``.error`` is the ``OutputInvalid`` and ``.response.output_parsed`` None.

        ``seed`` (0 … 2**31 − 1) sets the embedded model's sampling, which matters only with a
        ``temperature`` above 0: the same seed gives the same answer. The Responses API has no seed,
        so a server backend raises :class:`InvalidRequest` for one (a grid's ``repeats`` sends a
        server the same request each time instead).

        ``tools`` lists function tools: Python functions (their schema made by :func:`llamabook.function_tool`)
        or wire dicts; ``tool_choice`` is ``"auto"``, ``"none"``, ``"required"`` or a tool's name. Bad tools
        raise :class:`~llamabook.InvalidTool` before anything is stored or sent; the calls asked for are
        ``response.tool_calls``, their results go back as ``function_call_output`` items of ``input``. The
        embedded model takes them through its own tool prompt and grammar (docs/concepts.md, "Tools on
        the embedded model"); an engine that takes none raises :class:`~llamabook.ToolsUnsupported`.

        Returns the :class:`Response`, or a :class:`ResponseStream` of events with ``stream=True``.
        A generation failure raises its typed error (an :class:`EngineError`, or what a server said
        was wrong, such as :class:`FileNotFound`) whose ``.response`` is the failed response, kept
        in the home database even when the server did not store it.
        """
        # This signature is where the options are listed for users; the dataclass takes each of its
        # fields from its namesake here (a test keeps the two lists equal).
        options = from_arguments(ResponseOptions, locals())
        return self._create(
            input, model=model, options=options, stream=stream, prompt=prompt, variables=variables, template=template,
            name=name,
        )  # fmt: skip

    @run_signature(create)
    def run(
        self,
        input: str | list[dict[str, Any]] | None = None,
        *,
        tools: Sequence[Any] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        max_tool_rounds: int = 4,
        tool_choice_every_round: bool = False,
        stream: bool = False,
        **options: Any,
    ) -> Response | ToolLoopStream:
        """:meth:`create`, then the tool loop: run each function the model calls and send the results back, until it answers.

        Takes :meth:`create`'s parameters; ``tools`` are Python functions (or ``lb.function_tool(fn)``),
        each run here, in this process, when the model asks for it: the results go back as
        ``function_call_output`` items of a new request whose ``previous_response_id`` is the answer
        that asked. It repeats until an answer asks for no call, or ``max_tool_rounds`` rounds of
        calls have run: then the last answer (its calls not run) has ``tool_rounds_exhausted=True``
        and a :class:`~llamabook.ToolLoopWarning` says so. ``tool_choice`` is sent with the first
        request only (a ``"required"`` choice every round would never let the model answer), unless
        ``tool_choice_every_round=True``. Later requests send the same options (``instructions``,
        ``temperature``, ``schema``…) but not what the first ran (``prompt``, ``variables``, ``template``).

        A function that raises, or arguments that don't parse or validate against its parameters,
        become the call's output ``"Error: <Type>: <message>"``: the model reads it, the loop goes on,
        and a :class:`~llamabook.ToolLoopWarning` shows it. Tools given as wire dicts (no function to
        run), ``max_tool_rounds`` below 1 and ``store=False`` (the chain needs stored responses) raise
        before anything is sent, as do all of :meth:`create`'s checks.

        Returns the final :class:`Response`; the chain is ``.previous_response_id`` back, and
        :meth:`thread` lists it. With ``stream=True``, a :class:`ToolLoopStream`: every request's
        events, and a ``tool.call`` / ``tool.result`` event around each function that runs.

        >>> def get_weather(city: str) -> str:
        ...     '''The weather now in a city.'''
        ...     return "12 °C, rain"
        >>> final = client.responses.run(input="Weather in Cork?", tools=[get_weather])
        >>> client.responses.thread(final.id)
        """
        allowed = frozenset(inspect.signature(Responses.create).parameters)
        plan = plan_run(tools, tool_choice, max_tool_rounds, tool_choice_every_round, options, allowed)
        return start_run(self.create, input, plan, stream=stream)

    def thread(self, response_id: str) -> Thread:
        """The conversation that ends with ``response_id``: each stored response back along ``previous_response_id``,
        oldest first, with its input items and output items (a :class:`~llamabook.types.Thread`).

        A response further back that can't be read (deleted) ends the walk: ``thread.truncated_at`` names it.
        """
        return read_thread(self.retrieve, self._all_input_items, response_id)

    def _all_input_items(self, response_id: str) -> list[InputItem]:
        return list(self.input_items(response_id, limit=MAX_LIMIT, order="asc"))

    def pin(self, prompt: Any) -> PinnedPrompt:
        """Read a prompt version and its default output schema once, for many calls: a :class:`PinnedPrompt`.

        ``prompt`` is a reference as for :meth:`create` (``"tutor"``, ``"tutor@2"``, ``"pmpt_…@2"``, a
        ``{"id", "version", "variables"}`` dict) or a :class:`Prompt`, which is taken as it is (a
        version already read; versions never change). A name or id without a version pins the
        version that is the default now: a later new version or label move doesn't change the pin.
        ``pinned.create(variables, model=…, **options)`` then runs it with the same checks as
        ``create(prompt=…)``, without reading the version again (a grid's calls do this).

        >>> pinned = client.responses.pin("tutor")
        >>> [pinned.create({"topic": t}, temperature=0).output_text for t in ("tides", "rust")]
        """
        if isinstance(prompt, Prompt):
            draft = PromptDraft(
                prompt.prompt_id, str(prompt.version), list(prompt.variables), prompt.template, {}, written_as(prompt)
            )
        else:
            draft = self._requests.resolve_prompt(prompt)
        return PinnedPrompt(self._create, draft, self._requests.default_schema(draft))

    def _create(
        self,
        input: str | list[dict[str, Any]] | None,
        *,
        model: str | None,
        options: ResponseOptions,
        stream: bool = False,
        prompt: Any = None,
        pinned: PinnedPrompt | None = None,
        variables: Mapping[str, Any] | None = None,
        template: str | None = None,
        name: str | None = None,
        unit: Unit | None = None,
    ) -> Response | ResponseStream:
        """:meth:`create` with its options as one value; with ``pinned``, of that version (not read again);
        the rows the call stores join ``unit`` when given (a grid's)."""
        options = options_for_create(options)  # the schema resolved first: its errors come before any other
        request = self._requests.prepare(
            input, model=model, options=options, prompt=prompt, pinned=pinned, variables=variables, template=template,
            name=name,
        )  # fmt: skip
        output = options.schema or self._requests.output_schema(request, pinned)
        events = ResponseStream(self._backend.stream_response(request, unit), output)
        if stream:
            return events
        return self._finished(events)

    def _finished(self, events: ResponseStream) -> Response:
        """Consume a (non-streamed) call's events: its response, or its error raised."""
        response = events.until_done()
        if isinstance(events.error, OutputInvalid):
            raise events.error
        if response.status == "failed":
            # The engine's own error when there is one (EngineUnavailable for a dropped connection
            # stays retryable), else one made from the stored message.
            error = events.error if isinstance(events.error, LlamabookError) else None
            error = error or EngineError(response.error.message if response.error else "generation failed")
            error.response = response  # type: ignore[attr-defined]
            raise error
        return response

    @_parameters_of(create, without="stream")
    def prepare(
        self,
        input: str | list[dict[str, Any]] | None = None,
        *,
        model: str | None = None,
        prompt: Any = None,
        variables: Mapping[str, Any] | None = None,
        template: str | None = None,
        name: str | None = None,
        **options: Any,
    ) -> ResponseRequest:
        """Check and type everything, store a ``template``, upload media, and return the request (nothing generated).

        Takes the parameters of :meth:`create` but ``stream``. ``schema`` (a pydantic model class or a
        JSON-schema dict) becomes the request's ``text`` format, as in :meth:`create`; the schema is
        checked here, for the model too.
        """
        return self._requests.prepare(
            input, model=model, options=options_given("prepare", options), prompt=prompt, variables=variables,
            template=template, name=name,
        )  # fmt: skip

    def check_variables(
        self,
        variables: Mapping[str, Any],
        *,
        model: str | None = None,
        describe_images: bool = False,
        pdf_to_text: bool | None = None,
    ) -> None:
        """Raise what :meth:`create` would for these values on this model, storing and sending nothing.

        Checks the model exists and that every value can be typed and taken by it (size, image
        decoding, PDF and text conversion); not the names, which need a prompt.
        """
        self._requests.check_variables(variables, model=model, describe_images=describe_images, pdf_to_text=pdf_to_text)

    def retrieve(self, response_id: str) -> Response:
        """A stored response, with ``rendered_messages`` and ``latency_s``."""
        return self._backend.get_response(response_id)

    def list(
        self, *, limit: int = 50, order: str = "desc", after: str | None = None, model: str | None = None
    ) -> ObjectList[Response]:
        """Stored responses, newest first by default."""
        check_listing(order, limit)
        return ObjectList(self._backend.list_responses(limit, order, after, model), Response)

    def input_items(self, response_id: str, *, limit: int = 20, order: str = "desc") -> ObjectList[InputItem]:
        """The request's ``input`` as stored items (never the rendered prompt)."""
        check_listing(order)
        items = media_fallback.as_given(self._backend.input_items(response_id, limit, order))
        return ObjectList(items, InputItem)

    def delete(self, response_id: str) -> DeletedObject:
        return self._backend.delete_response(response_id)
