"""JSON Schema: is a schema valid, and what is wrong with a value (jsonschema is imported here only, lazily).

Shared by the ``json_schema`` check of ``llamabook.evaluation.checks`` and structured-output validation:
:func:`resolve` turns what a user gives as ``schema=`` (a pydantic model class or a JSON-schema dict)
into a :class:`ResolvedSchema`, :func:`text_format` gives its wire ``text=`` and :func:`parse` reads
an output against it. The wire ``text=`` a user gives is checked here too (:func:`check_text`,
:func:`output_format`), and :func:`request_schema` reads the schema back out of it.
The schema's own ``$schema`` picks the draft (2020-12 when it names none); ``format`` is checked
(dates, e-mail addresses, …), and a ``$ref`` is resolved within the schema only: nothing is fetched.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._lazy import load
from .errors import InvalidRequest


def check_schema(schema: Any) -> None:
    """Raise :class:`~llamabook.InvalidRequest` naming the problem when ``schema`` is not a valid JSON Schema."""
    _validator(_as_json(schema))


def validate(instance: Any, schema: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``instance`` under ``schema``: one line per error, starting with its path.

    ``[]`` when the instance is valid. Paths are JSONPath (``$`` is the whole value, ``$.items[0].name``
    a field in it), e.g. ``"$.age: 'ten' is not of type 'integer'"``. An invalid schema, or one whose
    ``$ref`` points nowhere, raises :class:`~llamabook.InvalidRequest`.
    """
    validator = _validator(_as_json(schema))
    unresolvable = load("referencing.exceptions").Unresolvable
    try:
        errors = list(validator.iter_errors(instance))
    except unresolvable as exc:
        raise InvalidRequest(f"The JSON Schema has a $ref that cannot be resolved within it: {exc}") from None
    errors.sort(key=lambda error: (len(error.absolute_path), error.json_path, error.message))  # the top first
    return [f"{error.json_path}: {error.message}" for error in errors]


@dataclass(frozen=True)
class ResolvedSchema:
    """A user's ``schema=`` made ready to send and to check outputs against.

    ``name`` is the pydantic class name (or ``"output"`` for a dict), ``json_schema`` the JSON Schema
    (checked valid) and ``model`` the pydantic class, or ``None`` when the schema was a dict.
    """

    name: str
    json_schema: dict[str, Any]
    model: type | None = None


#: What the wire ``format.name`` may hold (OpenAI: letters, digits, ``_`` and ``-``, up to 64).
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def resolve(schema: Any) -> ResolvedSchema:
    """Turn a pydantic model class or a JSON-schema dict into a :class:`ResolvedSchema`.

    Raises :class:`~llamabook.InvalidRequest` before anything is sent for a dict that is not a valid
    JSON Schema, a pydantic model that cannot produce one (naming the class), or anything else.
    A :class:`ResolvedSchema` is returned as is.
    """
    if isinstance(schema, ResolvedSchema):
        return schema
    if isinstance(schema, type) and _is_pydantic_model(schema):
        json_schema = _model_schema(schema)
        name = schema.__name__ if _NAME.fullmatch(schema.__name__) else "output"
        return ResolvedSchema(name=name, json_schema=json_schema, model=schema)
    if isinstance(schema, Mapping):
        check_schema(schema)
        return ResolvedSchema(name="output", json_schema=json.loads(_as_json(schema)), model=None)
    what = schema.__name__ if isinstance(schema, type) else type(schema).__name__
    raise InvalidRequest(
        f"schema= takes a pydantic model class (class Invoice(BaseModel): ...) or a JSON-schema dict "
        f"such as {{'type': 'object', 'properties': {{...}}}}, not {what}"
    )


def text_format(resolved: ResolvedSchema) -> dict[str, Any]:
    """The wire ``text=`` for a schema: ``{"format": {"type": "json_schema", "name", "schema", "strict": True}}``."""
    return {
        "format": {"type": "json_schema", "name": resolved.name, "schema": resolved.json_schema, "strict": True}
    }


TEXT_WIRE_FORM = (
    'text={"format": {"type": "json_schema", "name": "verdict", "schema": {"type": "object", ...}, "strict": True}}, '
    'or {"format": {"type": "json_object"}}, or {"format": {"type": "text"}} (the default)'
)
#: The keys each wire ``text["format"]["type"]`` takes.
_FORMAT_KEYS = {
    "text": {"type"},
    "json_object": {"type"},
    "json_schema": {"type", "name", "schema", "strict", "description"},
}


def output_format(text: Mapping[str, Any] | None, schema: Any = None) -> dict[str, Any] | None:
    """The request's ``text`` from ``text=`` or the ``schema=`` shorthand (not both), checked.

    A json_schema format's schema must be valid JSON Schema: :class:`InvalidRequest` otherwise.
    """
    checked = check_text(text)
    if schema is None:
        if checked is not None and checked["format"].get("type") == "json_schema":
            check_schema(checked["format"]["schema"])
        return checked
    if checked is not None:
        raise InvalidRequest(
            "Give schema= (a pydantic model or a JSON-schema dict) or text= (the wire format), not both: "
            "schema= becomes text={'format': {'type': 'json_schema', ...}}"
        )
    return text_format(resolve(schema))


def request_schema(text: Mapping[str, Any] | None) -> ResolvedSchema | None:
    """The schema a request's ``text`` holds its output to (a json_schema format), or None."""
    fmt = (text or {}).get("format") or {}
    if fmt.get("type") != "json_schema":
        return None
    return ResolvedSchema(name=str(fmt.get("name") or "output"), json_schema=dict(fmt["schema"]))


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
        return {"format": _checked_json_schema_format(fmt)}
    return {"format": dict(fmt)}


def _checked_json_schema_format(fmt: Mapping[str, Any]) -> dict[str, Any]:
    """A ``json_schema`` format's own fields checked (its schema as plain JSON values), not the schema's rules."""
    name = fmt.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
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
    return {**fmt, "schema": _plain(schema)}


def _plain(value: Any) -> Any:
    """``value`` with every mapping a dict and every tuple a list, as JSON has them (key order kept)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def parse(text: str, resolved: ResolvedSchema) -> tuple[Any, list[str]]:
    """Read an output ``text`` under ``resolved``: ``(value, [])`` when valid, else ``(None, errors)``.

    ``value`` is an instance of the pydantic model (``model_validate``) or, for a dict schema, the
    decoded JSON value. ``errors`` are lines starting with a JSONPath (``"$: not valid JSON: ..."``
    for text that is not JSON at all).
    """
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as exc:
        return None, [f"$: not valid JSON: {exc}"]
    errors = validate(value, resolved.json_schema)
    if errors:
        return None, errors
    if resolved.model is None:
        return value, []
    invalid = load("pydantic").ValidationError
    try:
        return resolved.model.model_validate(value), []  # type: ignore[attr-defined]
    except invalid as exc:  # e.g. a validator in the model the JSON Schema can't say
        return None, [_pydantic_error(error) for error in exc.errors()]


#: The error of an output that stopped at its token limit: invalid whatever its text, never half-parsed.
CUT_OFF = "$: cut off at max_output_tokens before the output ended"


def read_output(text: str, resolved: ResolvedSchema, *, cut_off: bool) -> tuple[Any, list[str]]:
    """A model's output under ``resolved``, the one rule every executor applies: :func:`parse`, except
    that an output cut off at its token limit is invalid whatever its text (``(None, [CUT_OFF])``)."""
    if cut_off:
        return None, [CUT_OFF]
    return parse(text, resolved)


def _is_pydantic_model(cls: type) -> bool:
    import sys

    pydantic = sys.modules.get("pydantic")  # a pydantic class means pydantic is already imported
    return pydantic is not None and issubclass(cls, pydantic.BaseModel)


def _model_schema(model: type) -> dict[str, Any]:
    user_error = load("pydantic.errors").PydanticUserError
    try:
        json_schema = model.model_json_schema()  # type: ignore[attr-defined]
    except user_error as exc:
        raise InvalidRequest(
            f"The pydantic model {model.__name__} can't produce a JSON Schema: {exc.message}. "
            "Give its fields JSON types (str, int, float, bool, lists, nested models, enums, Literal)."
        ) from None
    except Exception as exc:  # noqa: BLE001 - e.g. a forward reference that never resolves
        raise InvalidRequest(f"The pydantic model {model.__name__} can't produce a JSON Schema: {exc}") from None
    check_schema(json_schema)
    return json_schema


def _pydantic_error(error: Mapping[str, Any]) -> str:
    path = "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.get("loc", ()))
    return f"{path}: {error.get('msg', 'invalid')}"


def _as_json(schema: Any) -> str:
    if not isinstance(schema, Mapping):
        raise InvalidRequest(f"A JSON Schema is a dict such as {{'type': 'object', ...}}, not {type(schema).__name__}")
    try:
        return json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"A JSON Schema holds JSON values only (dicts, lists, strings, numbers, booleans, None): {exc}") from None


@functools.lru_cache(maxsize=64)
def _validator(schema_json: str) -> Any:
    """A validator for the schema (JSON text: the cache key), checked against its draft's meta-schema once."""
    validators = load("jsonschema.validators")
    schema = json.loads(schema_json)
    cls = validators.validator_for(schema, default=None) if "$schema" in schema else validators.Draft202012Validator
    if cls is None:
        raise InvalidRequest(
            f"The JSON Schema names an unknown $schema {schema.get('$schema')!r}; leave it out (draft 2020-12) "
            "or use a draft's URI such as 'https://json-schema.org/draft/2020-12/schema'"
        )
    schema_error = load("jsonschema.exceptions").SchemaError
    try:
        cls.check_schema(schema)
    except schema_error as exc:
        raise InvalidRequest(f"Not a valid JSON Schema: at {exc.json_path}: {exc.message}") from None
    return cls(schema, format_checker=cls.FORMAT_CHECKER)
