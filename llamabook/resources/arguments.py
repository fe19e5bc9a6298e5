"""A responses call's arguments: its options, the forms ``prompt=`` takes, and the checks that run
before anything is stored, uploaded or sent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from .. import schemas
from ..errors import InvalidRequest, UnsupportedInput
from ..inputs import Classified
from ..media import MediaBlob, file_as_text, sniff_mime
from ..types import TOOL_ITEM_TYPES, FunctionCall, FunctionCallOutput, Prompt, PromptReference
from ..types.refs import version_number
from ..types.requests import ResponseOptions


def options_given(method: str, given: Mapping[str, Any]) -> ResponseOptions:
    """Keyword arguments as :class:`ResponseOptions`; a name that is not an option is a TypeError, as Python's own."""
    unknown = sorted(set(given) - ResponseOptions.names())
    if unknown:
        raise TypeError(f"{method}() got unexpected keyword argument(s) {unknown}; the options are {sorted(ResponseOptions.names())}")
    return ResponseOptions(**given)


def options_for_create(options: ResponseOptions) -> ResponseOptions:
    """``options`` as :meth:`Responses.create` sends them: the schema resolved, metadata a dict (None when empty).

    The same value when there is nothing to change (a grid's calls, whose schema is resolved once).
    """
    schema = schemas.resolve(options.schema) if options.schema is not None else None
    metadata = dict(options.metadata) if options.metadata else None
    if schema is options.schema and metadata is None and options.metadata is None:
        return options
    return replace(options, schema=schema, metadata=metadata)


def check_arguments(
    input: Any, options: ResponseOptions, *, prompt: Any, template: str | None, name: str | None, pinned: bool
) -> None:
    """What the call runs (``input``, ``prompt``, ``template``; ``pinned``: a pinned prompt) and its options, checked."""
    if template is not None and prompt is not None:
        raise InvalidRequest("Give prompt= (a stored prompt) or template= (a text to store and run), not both")
    if name is not None and template is None:
        raise InvalidRequest("name= names a template= as it is stored; to run a named prompt, pass prompt=name")
    if input is None and prompt is None and template is None and not pinned:
        raise InvalidRequest("Give input=, prompt=, template=, or input with one of them")
    check_options(input, options)


def check_options(input: Any, options: ResponseOptions) -> None:
    """Shapes and ranges of the request options, checked before anything is stored or sent."""
    if input is not None and not isinstance(input, (str, list, tuple)):
        raise InvalidRequest(f"input must be a str or a list of messages, not {type(input).__name__}")
    if isinstance(input, (list, tuple)):
        check_tool_items(input)
    for name, value, low, high in (("temperature", options.temperature, 0, 2), ("top_p", options.top_p, 0, 1)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise InvalidRequest(f"{name} must be a number between {low} and {high}, not {value!r}")
    tokens = options.max_output_tokens
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1):
        raise InvalidRequest(f"max_output_tokens must be a whole number from 1 up, not {tokens!r}")
    seed = options.seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31):
        raise InvalidRequest(f"seed must be a whole number from 0 to 2**31 - 1, not {seed!r}")
    metadata = options.metadata
    if metadata is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise InvalidRequest(f"metadata must map str keys to str values, not {metadata!r}")


def check_tool_items(input: Iterable[Any]) -> None:
    """The tool items of an ``input`` list (``function_call_output``, ``function_call``) in their wire shape."""
    examples = {
        "function_call_output": "{'type': 'function_call_output', 'call_id': call.call_id, 'output': 'the result as text'}",
        "function_call": "{'type': 'function_call', 'call_id': …, 'name': …, 'arguments': '{…}'}",
    }
    for index, item in enumerate(input):
        kind = item.get("type") if isinstance(item, Mapping) else None
        if kind not in TOOL_ITEM_TYPES:
            continue
        model = FunctionCallOutput if kind == "function_call_output" else FunctionCall
        try:
            model.model_validate(item)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error.get("loc", ())) or "item"
            raise InvalidRequest(
                f"input[{index}] ({kind}) has a bad {field!r}: {error.get('msg', 'invalid')}; e.g. {examples[kind]}"
            ) from None


def reference_parts(prompt: Any) -> tuple[str | Prompt, Mapping[str, Any]]:
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


def merge_variables(given: Mapping[str, Any], extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """The variables given with ``prompt=`` and those of ``variables=``; a name in both is an error."""
    merged = dict(given)
    for name, value in (extra or {}).items():
        if name in merged:
            raise InvalidRequest(f"Variable {name!r} is given both in prompt= and in variables=; give it once")
        merged[name] = value
    return merged


def check_capabilities(
    items: Iterable[Any], accepts: list[str], model: str, describe_images: bool, pdf_to_text: bool | None
) -> None:
    """Raise :class:`UnsupportedInput` for a typed value the model can't take (nor have converted)."""
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
