"""The built-in checks that read an answer as JSON: :func:`is_json` and :func:`json_schema`
(jsonschema is loaded through :mod:`llamabook.schemas`, safely from the grid's threads)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import schemas
from .check_base import Check, CheckInput


@dataclass(frozen=True)
class IsJson(Check):
    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        try:
            json.loads(result.output_text)
        except ValueError:
            return False
        return True


@dataclass(frozen=True)
class JsonSchema(Check):
    schema: Mapping[str, Any]

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        try:
            instance = json.loads(result.output_text)
        except ValueError:
            return False
        return not schemas.validate(instance, self.schema)


def is_json() -> Check:
    """True when the whole output parses as JSON (surrounding whitespace allowed, no code fences)."""
    return IsJson()


def json_schema(schema: Mapping[str, Any]) -> Check:
    """True when the output is JSON that ``schema`` (a JSON Schema dict) accepts; the schema is checked now."""
    schemas.check_schema(schema)
    return JsonSchema(schema)
