"""``client.responses``: run prompts through a model, stream, and read stored responses."""

from __future__ import annotations

import atexit
import inspect
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from ..backends.base import Backend, ResponseRequest
from ..errors import (
    EngineError,
    InvalidRequest,
    LlamabookError,
    ModelNotFound,
    OutputInvalid,
    PromptNotFound,
    UnsupportedInput,
)
from .. import schemas
from ..schemas import ResolvedSchema
from .. import media_fallback
from ..inputs import Classified, classify, materialize
from ..media import MediaBlob, MediaOptions, file_as_text, sniff_mime
from ..partial_json import read_partial
from ..templates import check_supplied, placeholders
from ..types import (
    TERMINAL_EVENTS,
    DeletedObject,
    InputItem,
    Model,
    ObjectList,
    OutputTextDelta,
    Prompt,
    PromptReference,
    Response,
    StreamEvent,
)
from ..types.refs import check_name, version_number
from ..types.requests import ResponseOptions, from_arguments
from .files import Files
from .listing import check_listing
from .prompts import Prompts

if TYPE_CHECKING:
    from ..store.writer import Unit


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


def _options_given(method: str, given: Mapping[str, Any]) -> ResponseOptions:
    """Keyword arguments as :class:`ResponseOptions`; a name that is not an option is a TypeError, as Python's own."""
    unknown = sorted(set(given) - ResponseOptions.names())
    if unknown:
        raise TypeError(f"{method}() got unexpected keyword argument(s) {unknown}; the options are {sorted(ResponseOptions.names())}")
    return ResponseOptions(**given)


def _for_create(options: ResponseOptions) -> ResponseOptions:
    """``options`` as :meth:`Responses.create` sends them: the schema resolved, metadata a dict (None when empty).

    The same value when there is nothing to change (a grid's calls, whose schema is resolved once).
    """
    schema = schemas.resolve(options.schema) if options.schema is not None else None
    metadata = dict(options.metadata) if options.metadata else None
    if schema is options.schema and metadata is None and options.metadata is None:
        return options
    return replace(options, schema=schema, metadata=metadata)


class Responses:
    """Create responses (optionally from a stored prompt) and read them back."""

    def __init__(self, backend: Backend, files: Files, prompts: Prompts) -> None:
        self._backend = backend
        self._files = files
        self._prompts = prompts

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
            draft = _Resolved(prompt.prompt_id, str(prompt.version), list(prompt.variables), prompt.template, {})
        else:
            draft = self._resolve_prompt(prompt)
        return PinnedPrompt(self, draft, self._default_schema(draft))

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
        options = _for_create(options)  # the schema resolved first: its errors come before any other
        request = self._prepare(
            input, model=model, options=options, prompt=prompt, pinned=pinned, variables=variables, template=template,
            name=name,
        )  # fmt: skip
        output = options.schema or self._output_schema(request, pinned)
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
        return self._prepare(
            input, model=model, options=_options_given("prepare", options), prompt=prompt, variables=variables,
            template=template, name=name,
        )  # fmt: skip

    def _prepare(
        self,
        input: str | list[dict[str, Any]] | None,
        *,
        model: str | None,
        options: ResponseOptions,
        prompt: Any = None,
        pinned: PinnedPrompt | None = None,
        variables: Mapping[str, Any] | None = None,
        template: str | None = None,
        name: str | None = None,
    ) -> ResponseRequest:
        """:meth:`prepare`; with ``pinned``, of that version (``prompt`` None), which is not read again."""
        strict, describe_images, pdf_to_text = options.strict, options.describe_images, options.pdf_to_text
        text, schema = options.text, options.schema
        if template is not None and prompt is not None:
            raise InvalidRequest("Give prompt= (a stored prompt) or template= (a text to store and run), not both")
        if name is not None and template is None:
            raise InvalidRequest("name= names a template= as it is stored; to run a named prompt, pass prompt=name")
        if input is None and prompt is None and template is None and pinned is None:
            raise InvalidRequest("Give input=, prompt=, template=, or input with one of them")
        _check_options(input, options)
        text_format = output_format(text, schema)
        model_info = self._model(model)
        model_id = model_info.id
        output_schema = request_schema(text_format)
        if output_schema is not None:  # before a template is stored or a file uploaded
            self._backend.check_output_schema(output_schema.json_schema, model_id)
        reference = None
        template_text = None
        if prompt is not None or template is not None or pinned is not None:
            if template is not None:
                draft = _Resolved("", None, placeholders(template), template, {})
                if name is not None:
                    check_name(name)
            else:
                draft = pinned.draft if pinned is not None else self._resolve_prompt(prompt)
                default = None
                if text is None and schema is None:
                    default = pinned.default_schema if pinned is not None else self._default_schema(draft)
                if default is not None:  # the version's own schema, as the call gives none
                    self._backend.check_output_schema(default.json_schema, model_id)
                    text_format = schemas.text_format(default)
            merged = _merge(draft.given, variables)
            limit = self._backend.max_file_bytes()
            classified = {key: classify(key, value, max_bytes=limit) for key, value in merged.items()}
            if draft.declared is not None:
                check_supplied(draft.declared, classified, strict=strict, prompt_id=draft.prompt_id or None)
            _check_capabilities(classified.values(), model_info.accepts, model_id, describe_images, pdf_to_text)
            if template is not None:  # every value is known to be good: store the template now
                # saved with the schema it runs with: that is this version's default schema
                keep = schemas.resolve(schema) if schema is not None else output_schema
                stored = self._prompts.save(name, template, draft.declared, schema=keep)
                draft = _Resolved(stored.prompt_id, str(stored.version), stored.variables, stored.template, {})
            typed = {key: materialize(item, self._files.upload_once) for key, item in classified.items()}
            reference = PromptReference(id=draft.prompt_id, version=draft.version, variables=typed or None)
            template_text = draft.template
        elif variables:
            raise InvalidRequest("variables= needs a prompt=: they fill a stored prompt's {{placeholders}}")
        request = ResponseRequest(
            model=model_id,
            input=input,
            prompt=reference,
            prompt_template=template_text,
            describe_images=describe_images,
            pdf_to_text=pdf_to_text,
            text=text_format,
            instructions=options.instructions,
            temperature=options.temperature,
            top_p=options.top_p,
            max_output_tokens=options.max_output_tokens,
            metadata=options.metadata,  # type: ignore[arg-type]
            previous_response_id=options.previous_response_id,
            store=options.store,
        )
        if not self._backend.capabilities.adapts_media:
            # A server sends media to its model as is: replace what the model cannot take.
            media = MediaOptions(frozenset(model_info.accepts), model_id, describe_images, pdf_to_text)
            request = media_fallback.rewrite(request, media, self._read_file)
        return request

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
        model_info = self._model(model)
        limit = self._backend.max_file_bytes()
        classified = [classify(name, value, max_bytes=limit) for name, value in variables.items()]
        _check_capabilities(classified, model_info.accepts, model_info.id, describe_images, pdf_to_text)

    def _model(self, model: str | None) -> Model:
        model_id = model or self._backend.default_model()
        models = self._backend.list_models()
        found = next((m for m in models if m.id == model_id), None)
        if found is None:
            raise ModelNotFound(f"Model {model_id!r} is not available here; choose one of {[m.id for m in models]}")
        return found

    def _default_schema(self, draft: _Resolved) -> ResolvedSchema | None:
        """The default output schema of the prompt version a request runs, if it has one."""
        if not draft.prompt_id or draft.version is None:  # a prompt passed through by reference
            return None
        return self._prompts.default_schema(f"{draft.prompt_id}@{draft.version}")

    def _output_schema(self, request: ResponseRequest, pinned: PinnedPrompt | None = None) -> ResolvedSchema | None:
        """The schema a prepared request's output is parsed with: its prompt version's own (with the
        pydantic class it was saved with, when known here) if that is the one sent, else the wire one."""
        sent = request_schema(request.text)
        if sent is None or request.prompt is None:
            return sent
        if pinned is not None:
            default = pinned.default_schema
        else:
            default = self._default_schema(_Resolved(request.prompt.id, request.prompt.version, None, None, {}))
        return default if default is not None and default.json_schema == sent.json_schema else sent

    def _read_file(self, file_id: str) -> tuple[bytes, str]:
        return self._backend.file_content(file_id), self._backend.get_file(file_id).filename

    def _resolve_prompt(self, prompt: Any) -> _Resolved:
        """The prompt version to use (the default one resolved to its number) and the variables it came with."""
        ref, given = _reference_parts(prompt)
        prompt_id, version = self._prompts.locate(ref)
        try:
            stored = self._backend.prompts.get(prompt_id, version)
        except PromptNotFound:
            if not self._backend.capabilities.passes_unknown_prompts:
                raise
            # A server without Prompts API (OpenAI): an id the local store lacks is sent by
            # reference; its declared variables are unknown here, so they cannot be checked.
            return _Resolved(prompt_id, None if version is None else str(version), None, None, given)
        return _Resolved(stored.prompt_id, str(stored.version), stored.variables, stored.template, given)

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


@dataclass
class _Resolved:
    prompt_id: str
    version: str | None
    declared: list[str] | None  # None: not known here (a prompt passed through by reference)
    template: str | None
    given: Mapping[str, Any]


class PinnedPrompt:
    """A prompt version read once, with its default output schema, for many calls: ``client.responses.pin(prompt)``.

    :meth:`create` runs it with the same checks and the same request as
    ``client.responses.create(prompt={"id": …, "version": …}, variables=…)``, without reading the
    version or its schema again (versions never change). A grid pins each of its versions this way.
    ``prompt_id``, ``version`` (None for a prompt a server without a Prompts API takes by
    reference), ``variables`` (None when not known here) and ``template`` say what is pinned.
    """

    __slots__ = ("_responses", "draft", "default_schema")

    def __init__(self, responses: Responses, draft: _Resolved, default_schema: ResolvedSchema | None) -> None:
        self._responses = responses
        self.draft = draft
        #: the version's own output schema (sent when a call gives no ``schema``/``text``), or None
        self.default_schema = default_schema

    @property
    def prompt_id(self) -> str:
        return self.draft.prompt_id

    @property
    def version(self) -> int | None:
        return None if self.draft.version is None else int(self.draft.version)

    @property
    def variables(self) -> list[str] | None:
        return None if self.draft.declared is None else list(self.draft.declared)

    @property
    def template(self) -> str | None:
        return self.draft.template

    def create(
        self,
        variables: Mapping[str, Any] | None = None,
        *,
        model: str | None = None,
        input: str | list[dict[str, Any]] | None = None,
        options: ResponseOptions | None = None,
        unit: Unit | None = None,
        **given: Any,
    ) -> Response:
        """Run the pinned version with ``variables`` on ``model``: the :class:`Response` (not streamed).

        The options are those of :meth:`Responses.create` (``temperature``, ``schema``,
        ``describe_images``, …), as keywords or as one :class:`~llamabook.types.requests.ResponseOptions`
        in ``options=`` (made once and reused over many calls), not both. Raises as
        :meth:`Responses.create` does. ``unit`` (a grid's :class:`~llamabook.store.Unit`): the rows this
        call stores join it, to be committed by the grid's writer; None stores them at once.
        """
        if options is None:
            options = _options_given("create", given)
        elif given:
            raise InvalidRequest(f"Give options= or the options as keywords ({sorted(given)}), not both")
        return self._responses._create(input, model=model, options=options, pinned=self, variables=variables, unit=unit)  # type: ignore[return-value]

    def __repr__(self) -> str:
        version = "" if self.draft.version is None else f"@{self.draft.version}"
        return f"<PinnedPrompt {self.prompt_id}{version}>"


def _reference_parts(prompt: Any) -> tuple[str | Prompt, Mapping[str, Any]]:
    """(a reference, the variables given with it) from any accepted form of ``prompt=``."""
    if isinstance(prompt, (Prompt, str)):
        return prompt, {}
    if isinstance(prompt, PromptReference):
        prompt = prompt.model_dump(exclude_none=True)
    if isinstance(prompt, Mapping):
        if "id" not in prompt:
            raise InvalidRequest("prompt= dict needs an 'id', e.g. {'id': 'pmpt_…', 'version': '1'}")
        version = prompt.get("version")
        version = None if version is None else version_number(version)
        ref = str(prompt["id"]) if version is None else f"{prompt['id']}@{version}"
        return ref, dict(prompt.get("variables") or {})
    raise InvalidRequest(f"prompt= must be a prompt reference ('tutor', 'pmpt_…@2'), a Prompt or a dict, not {type(prompt).__name__}")


def _merge(given: Mapping[str, Any], extra: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = dict(given)
    for name, value in (extra or {}).items():
        if name in merged:
            raise InvalidRequest(f"Variable {name!r} is given both in prompt= and in variables=; give it once")
        merged[name] = value
    return merged


def _check_capabilities(
    items: Any, accepts: list[str], model: str, describe_images: bool, pdf_to_text: bool | None
) -> None:
    for item in items:
        assert isinstance(item, Classified)
        if item.kind == "image" and "image" not in accepts and not describe_images:
            raise UnsupportedInput(
                f"Model {model!r} is text-only and cannot see image variable {item.name!r} ({item.source}). "
                "Use a model that accepts images (see client.models.list()), or pass describe_images=True "
                "to send a short text description (name, type, size, dimensions) instead.",
                model=model,
                kind="image",
            )
        if item.kind == "file" and "file" not in accepts and pdf_to_text is False:
            raise UnsupportedInput(
                f"Model {model!r} cannot take file parts ({item.name!r}) and pdf_to_text=False. "
                "Leave pdf_to_text unset to send the PDF's text instead.",
                model=model,
                kind="file",
            )
        as_text = pdf_to_text if pdf_to_text is not None else "file" not in accepts
        if item.kind == "file" and as_text and item.data is not None and item.filename is not None:
            # Convert once now, so an unreadable PDF or text file fails before it is uploaded.
            mime = sniff_mime(item.data, item.filename)
            file_as_text(MediaBlob(item.name, item.filename, mime, item.data), model)


def _check_options(input: Any, options: ResponseOptions) -> None:
    """Shapes and ranges of the request options, checked before anything is stored or sent."""
    if input is not None and not isinstance(input, (str, list, tuple)):
        raise InvalidRequest(f"input must be a str or a list of messages, not {type(input).__name__}")
    for name, value, low, high in (("temperature", options.temperature, 0, 2), ("top_p", options.top_p, 0, 1)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise InvalidRequest(f"{name} must be a number between {low} and {high}, not {value!r}")
    tokens = options.max_output_tokens
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1):
        raise InvalidRequest(f"max_output_tokens must be a whole number from 1 up, not {tokens!r}")
    metadata = options.metadata
    if metadata is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise InvalidRequest(f"metadata must map str keys to str values, not {metadata!r}")


def output_format(text: Mapping[str, Any] | None, schema: Any = None) -> dict[str, Any] | None:
    """The request's ``text`` from ``text=`` or the ``schema=`` shorthand (not both), checked.

    A json_schema format's schema must be valid JSON Schema: :class:`InvalidRequest` otherwise.
    """
    checked = check_text(text)
    if schema is None:
        if checked is not None and checked["format"].get("type") == "json_schema":
            schemas.check_schema(checked["format"]["schema"])
        return checked
    if checked is not None:
        raise InvalidRequest(
            "Give schema= (a pydantic model or a JSON-schema dict) or text= (the wire format), not both: "
            "schema= becomes text={'format': {'type': 'json_schema', ...}}"
        )
    return schemas.text_format(schemas.resolve(schema))


def request_schema(text: Mapping[str, Any] | None) -> ResolvedSchema | None:
    """The schema a request's ``text`` holds its output to (a json_schema format), or None."""
    fmt = (text or {}).get("format") or {}
    if fmt.get("type") != "json_schema":
        return None
    return ResolvedSchema(name=str(fmt.get("name") or "output"), json_schema=dict(fmt["schema"]))


def parse_output(response: Response, schema: ResolvedSchema) -> OutputInvalid | None:
    """Parse and validate a finished response's output: set ``output_parsed``, or return the error.

    A failed or stopped response is left alone (None: its own error tells). A cut-off one is
    invalid whatever its text, never half-parsed.
    """
    response.set_output_parsed(None)
    if response.status != "completed" and not response.cut_off:
        return None
    value, errors = schemas.read_output(response.output_text, schema, cut_off=response.cut_off)
    if errors:
        return OutputInvalid(errors, response.output_text, cut_off=response.cut_off, response=response)
    response.set_output_parsed(value)
    return None


TEXT_WIRE_FORM = (
    'text={"format": {"type": "json_schema", "name": "verdict", "schema": {"type": "object", ...}, "strict": True}}, '
    'or {"format": {"type": "json_object"}}, or {"format": {"type": "text"}} (the default)'
)
_FORMAT_KEYS = {
    "text": {"type"},
    "json_object": {"type"},
    "json_schema": {"type", "name", "schema", "strict", "description"},
}
_FORMAT_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_text(text: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The ``text=`` option as a plain dict (None for the default, free text), its shape checked.

    The schema's own rules are not checked here. Raises :class:`InvalidRequest` naming the wire form for anything else.
    """
    if text is None:
        return None
    if not isinstance(text, Mapping):
        raise InvalidRequest(f"text must be a dict, not {type(text).__name__}; the wire form is {TEXT_WIRE_FORM}")
    unknown = sorted(set(text) - {"format"})
    if unknown:
        raise InvalidRequest(f"text takes only a 'format' key, not {unknown}; the wire form is {TEXT_WIRE_FORM}")
    fmt = text.get("format")
    if fmt is None:
        return None  # the default: free text
    if not isinstance(fmt, Mapping):
        raise InvalidRequest(f"text['format'] must be a dict, not {type(fmt).__name__}; the wire form is {TEXT_WIRE_FORM}")
    kind = fmt.get("type")
    if kind not in _FORMAT_KEYS:
        raise InvalidRequest(
            f"text['format']['type'] must be 'json_schema', 'json_object' or 'text', not {kind!r}; "
            f"the wire form is {TEXT_WIRE_FORM}"
        )
    extra = sorted(set(fmt) - _FORMAT_KEYS[kind])
    if extra:
        allowed = sorted(_FORMAT_KEYS[kind])
        raise InvalidRequest(f"text format {kind!r} takes only {allowed}, not {extra}; the wire form is {TEXT_WIRE_FORM}")
    if kind == "json_schema":
        name = fmt.get("name")
        if not isinstance(name, str) or not _FORMAT_NAME.fullmatch(name):
            raise InvalidRequest(
                f"text format 'json_schema' needs a 'name' of 1 to 64 letters, digits, '_' or '-', not {name!r}; "
                f"the wire form is {TEXT_WIRE_FORM}"
            )
        schema = fmt.get("schema")
        if not isinstance(schema, Mapping):
            got = "none" if schema is None else type(schema).__name__
            raise InvalidRequest(
                f"text format 'json_schema' needs a 'schema' that is a dict (a JSON Schema), not {got}; "
                f"the wire form is {TEXT_WIRE_FORM}"
            )
        strict = fmt.get("strict")
        if strict is not None and not isinstance(strict, bool):
            raise InvalidRequest(f"text format 'strict' must be True or False, not {strict!r}")
        description = fmt.get("description")
        if description is not None and not isinstance(description, str):
            raise InvalidRequest(f"text format 'description' must be a str, not {type(description).__name__}")
        return {"format": {**fmt, "schema": _plain(schema)}}
    return {"format": dict(fmt)}


def _plain(value: Any) -> Any:
    """``value`` with every mapping a dict and every tuple a list, as JSON has them (key order kept)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
