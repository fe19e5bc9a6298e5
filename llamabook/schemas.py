"""JSON Schema: is a schema valid, and what is wrong with a value (jsonschema is imported here only, lazily).

Shared by the ``json_schema`` check of ``llamabook.checks`` and structured-output validation.
The schema's own ``$schema`` picks the draft (2020-12 when it names none); ``format`` is checked
(dates, e-mail addresses, …), and a ``$ref`` is resolved within the schema only: nothing is fetched.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

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
    from referencing.exceptions import Unresolvable

    validator = _validator(_as_json(schema))
    try:
        errors = list(validator.iter_errors(instance))
    except Unresolvable as exc:
        raise InvalidRequest(f"The JSON Schema has a $ref that cannot be resolved within it: {exc}") from None
    errors.sort(key=lambda error: (len(error.absolute_path), error.json_path, error.message))  # the top first
    return [f"{error.json_path}: {error.message}" for error in errors]


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
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import Draft202012Validator, validator_for

    schema = json.loads(schema_json)
    cls = validator_for(schema, default=None) if "$schema" in schema else Draft202012Validator
    if cls is None:
        raise InvalidRequest(
            f"The JSON Schema names an unknown $schema {schema.get('$schema')!r}; leave it out (draft 2020-12) "
            "or use a draft's URI such as 'https://json-schema.org/draft/2020-12/schema'"
        )
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise InvalidRequest(f"Not a valid JSON Schema: at {exc.json_path}: {exc.message}") from None
    return cls(schema, format_checker=cls.FORMAT_CHECKER)
