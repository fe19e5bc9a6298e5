"""A responses call made into a checked :class:`~llamabook.backends.base.ResponseRequest`: the model
and the prompt version looked up, the output schema chosen and checked for the model, the values
typed and checked, a template stored and media uploaded last (``Responses.prepare``'s work)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import media_fallback, schemas
from ..backends.base import Backend, ResponseRequest
from ..errors import InvalidRequest, ModelNotFound, PromptNotFound, VersionNotFound
from ..inputs import Classified, classify, materialize
from ..media import MediaOptions
from ..schemas import ResolvedSchema
from ..templates import check_supplied, placeholders
from ..tools import ToolSet, check_tools
from ..types import Model, PromptReference
from ..types.refs import check_name, missing_versions, written_as
from ..types.tool_calls import has_tool_items
from ..types.requests import ResponseOptions
from .arguments import check_arguments, check_capabilities, merge_variables, reference_parts
from .files import Files
from .pinned import PinnedPrompt, PromptDraft
from .prompts import Prompts


class RequestPreparer:
    """Checks and types a call's arguments into the request to send (:meth:`prepare`), for :class:`Responses`."""

    def __init__(self, backend: Backend, files: Files, prompts: Prompts) -> None:
        self._backend = backend
        self._files = files
        self._prompts = prompts

    def prepare(
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
        """:meth:`Responses.prepare`; with ``pinned``, of that version (``prompt`` None), which is not read again."""
        check_arguments(input, options, prompt=prompt, template=template, name=name, pinned=pinned is not None)
        if options.seed is not None and not self._backend.capabilities.seeds:
            raise InvalidRequest(
                "seed= sets the embedded model's sampling; a server's Responses API takes no seed: leave it out"
            )
        tools = check_tools(options.tools, options.tool_choice)
        text_format = schemas.output_format(options.text, options.schema)
        model_info = self.model(model)
        tool_items = has_tool_items(input)
        if tools.tools or tool_items:  # before a template is stored or a file uploaded
            self._backend.check_tools(tools.wire, tools.choice, model_info.id, tool_items=tool_items)
        output_schema = schemas.request_schema(text_format)
        if output_schema is not None:  # before a template is stored or a file uploaded
            self._backend.check_output_schema(output_schema.json_schema, model_info.id)
        reference, template_text = None, None
        if prompt is not None or template is not None or pinned is not None:
            draft = self._draft(prompt, pinned, template, name)
            default = None if template is not None else self._default_schema_for(draft, pinned, options)
            if default is not None:  # the version's own schema, as the call gives none
                self._backend.check_output_schema(default.json_schema, model_info.id)
                text_format = schemas.text_format(default)
            classified = self._classified(draft, variables, options, model_info)
            if template is not None:  # every value is known to be good: store the template now
                draft = self._store_template(template, name, draft.declared, options.schema, output_schema)
            typed = {key: materialize(item, self._files.upload_once) for key, item in classified.items()}
            reference = PromptReference(id=draft.prompt_id, version=draft.version, variables=typed or None)
            template_text = draft.template
        elif variables:
            raise InvalidRequest("variables= needs a prompt=: they fill a stored prompt's {{placeholders}}")
        return self._request(input, model_info, options, text_format, reference, template_text, tools)

    def check_variables(
        self, variables: Mapping[str, Any], *, model: str | None, describe_images: bool, pdf_to_text: bool | None
    ) -> None:
        """:meth:`Responses.check_variables`: every value typed and checked for the model, nothing stored or sent."""
        model_info = self.model(model)
        limit = self._backend.max_file_bytes()
        classified = [classify(name, value, max_bytes=limit) for name, value in variables.items()]
        check_capabilities(classified, model_info.accepts, model_info.id, describe_images, pdf_to_text)

    def model(self, model: str | None) -> Model:
        """The model ``model`` names (the backend's default for None); :class:`ModelNotFound` when it has none such."""
        model_id = model or self._backend.default_model()
        models = self._backend.list_models()
        found = next((m for m in models if m.id == model_id), None)
        if found is None:
            raise ModelNotFound(f"Model {model_id!r} is not available here; choose one of {[m.id for m in models]}")
        return found

    def resolve_prompt(self, prompt: Any) -> PromptDraft:
        """The prompt version to use (the default one resolved to its number) and the variables it came with."""
        ref, given = reference_parts(prompt)
        prompt_id, version = self._prompts.locate(ref)
        named = written_as(ref)  # for messages: the prompt as the user wrote it
        try:
            stored = self._backend.prompts.get(prompt_id, version)
        except PromptNotFound as exc:
            if not self._backend.capabilities.passes_unknown_prompts:
                if isinstance(exc, VersionNotFound):
                    raise missing_versions(ref, [version]) from None
                raise
            # A server without Prompts API (OpenAI): an id the local store lacks is sent by
            # reference; its declared variables are unknown here, so they cannot be checked.
            return PromptDraft(prompt_id, None if version is None else str(version), None, None, given, named)
        return PromptDraft(stored.prompt_id, str(stored.version), stored.variables, stored.template, given, named)

    def default_schema(self, draft: PromptDraft) -> ResolvedSchema | None:
        """The default output schema of the prompt version a request runs, if it has one."""
        if not draft.prompt_id or draft.version is None:  # a prompt passed through by reference
            return None
        return self._prompts.default_schema(f"{draft.prompt_id}@{draft.version}")

    def output_schema(self, request: ResponseRequest, pinned: PinnedPrompt | None = None) -> ResolvedSchema | None:
        """The schema a prepared request's output is parsed with: its prompt version's own (with the
        pydantic class it was saved with, when known here) if that is the one sent, else the wire one."""
        sent = schemas.request_schema(request.text)
        if sent is None or request.prompt is None:
            return sent
        if pinned is not None:
            default = pinned.default_schema
        else:
            default = self.default_schema(PromptDraft(request.prompt.id, request.prompt.version, None, None, {}))
        return default if default is not None and default.json_schema == sent.json_schema else sent

    def _draft(self, prompt: Any, pinned: PinnedPrompt | None, template: str | None, name: str | None) -> PromptDraft:
        """The prompt version the call runs: a ``template``'s (not stored yet), the pinned one, or the one ``prompt`` names."""
        if template is not None:
            if name is not None:
                check_name(name)
            return PromptDraft("", None, placeholders(template), template, {}, name)
        return pinned.draft if pinned is not None else self.resolve_prompt(prompt)

    def _default_schema_for(
        self, draft: PromptDraft, pinned: PinnedPrompt | None, options: ResponseOptions
    ) -> ResolvedSchema | None:
        """The version's own output schema when the call gives none (no ``text``, no ``schema``), else None."""
        if options.text is not None or options.schema is not None:
            return None
        return pinned.default_schema if pinned is not None else self.default_schema(draft)

    def _classified(
        self, draft: PromptDraft, variables: Mapping[str, Any] | None, options: ResponseOptions, model_info: Model
    ) -> dict[str, Classified]:
        """The call's values typed, checked against the version's variables and what the model takes; nothing uploaded."""
        merged = merge_variables(draft.given, variables)
        limit = self._backend.max_file_bytes()
        classified = {key: classify(key, value, max_bytes=limit) for key, value in merged.items()}
        if draft.declared is not None:
            check_supplied(
                draft.declared, classified, strict=options.strict, prompt_id=draft.prompt_id or None, named=draft.named
            )
        check_capabilities(classified.values(), model_info.accepts, model_info.id, options.describe_images, options.pdf_to_text)
        return classified

    def _store_template(
        self, template: str, name: str | None, declared: list[str] | None, schema: Any, output_schema: ResolvedSchema | None
    ) -> PromptDraft:
        """Save ``template`` (as ``name`` when given): the stored version, to send by reference."""
        # saved with the schema it runs with: that is this version's default schema
        keep = schemas.resolve(schema) if schema is not None else output_schema
        stored = self._prompts.save(name, template, declared, schema=keep)
        return PromptDraft(stored.prompt_id, str(stored.version), stored.variables, stored.template, {}, name)

    def _request(
        self,
        input: str | list[dict[str, Any]] | None,
        model_info: Model,
        options: ResponseOptions,
        text_format: dict[str, Any] | None,
        reference: PromptReference | None,
        template_text: str | None,
        tools: ToolSet,
    ) -> ResponseRequest:
        """The request to send; for a server, with the media its model can't take replaced."""
        request = ResponseRequest(
            model=model_info.id,
            input=input,
            prompt=reference,
            prompt_template=template_text,
            describe_images=options.describe_images,
            pdf_to_text=options.pdf_to_text,
            text=text_format,
            instructions=options.instructions,
            temperature=options.temperature,
            top_p=options.top_p,
            max_output_tokens=options.max_output_tokens,
            metadata=options.metadata,  # type: ignore[arg-type]
            previous_response_id=options.previous_response_id,
            store=options.store,
            seed=options.seed,
            tools=tools.wire,
            tool_choice=tools.choice,
        )
        if not self._backend.capabilities.adapts_media:
            # A server sends media to its model as is: replace what the model cannot take.
            media = MediaOptions(frozenset(model_info.accepts), model_info.id, options.describe_images, options.pdf_to_text)
            request = media_fallback.rewrite(request, media, self._read_file)
        return request

    def _read_file(self, file_id: str) -> tuple[bytes, str]:
        return self._backend.file_content(file_id), self._backend.get_file(file_id).filename
