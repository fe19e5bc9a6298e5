"""Grammar-constrained output on the real embedded model validates: the small version of bench/bench_structured.py.

Eight varied requests over four schemas that together use objects, nested objects, arrays of
strings and of objects, enums, required and optional fields, integers, numbers, booleans and
strings. Each output is checked with json.loads and jsonschema (llamabook.schemas.validate), not
trusted because a grammar made it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import llamabook as lb
from llamabook.schemas import validate

_STR = {"type": "string", "maxLength": 24}  # bounded, so every answer ends well before the token limit
MAX_OUTPUT_TOKENS = 384

INVOICE = {
    "type": "object",
    "properties": {
        "invoice_number": _STR,
        "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
        "line_items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"description": _STR, "quantity": {"type": "integer"}, "unit_price": {"type": "number"}},
                "required": ["description", "quantity", "unit_price"],
                "additionalProperties": False,
            },
            "minItems": 1,
            "maxItems": 1,  # the tiny model fills an array to its maximum; one keeps the test quick
        },
        "total": {"type": "number"},
    },
    "required": ["invoice_number", "currency", "line_items", "total"],
    "additionalProperties": False,
}
PERSON = {
    "type": "object",
    "properties": {
        "name": _STR,
        "age": {"type": "integer"},
        "email": _STR,  # optional
        "address": {
            "type": "object",
            "properties": {"city": _STR, "country": _STR},
            "required": ["city", "country"],
            "additionalProperties": False,
        },
    },
    "required": ["name", "age", "address"],
    "additionalProperties": False,
}
CITY = {
    "type": "object",
    "properties": {
        "name": _STR,
        "continent": {"type": "string", "enum": ["Africa", "Asia", "Europe", "Americas", "Oceania"]},
        "population": {"type": "integer"},
        "is_capital": {"type": "boolean"},
    },
    "required": ["name", "continent", "population", "is_capital"],
    "additionalProperties": False,
}
PRODUCT = {
    "type": "object",
    "properties": {
        "name": _STR,
        "price": {"type": "number"},
        "in_stock": {"type": "boolean"},
        "tags": {"type": "array", "items": _STR, "maxItems": 2},
    },
    "required": ["name", "price", "in_stock", "tags"],
    "additionalProperties": False,
}

CASES = [
    ("invoice", INVOICE, "Invoice INV-2024-031 to Bergmann GmbH: 2 x hammer at 12.50 EUR, 1 x delivery at 15.00 EUR. "
                         "Total 40.00 EUR."),
    ("invoice", INVOICE, "Bill #F-88 from Atlas Bikes: one bicycle tyre, $32. Amount due: $32.00 USD."),
    ("person", PERSON, "Priya Patel, 34, is a pharmacist in Pune, India. Write to priya@example.org."),
    ("person", PERSON, "Our new pilot Sven Olsen (52) lives in Bergen, Norway."),
    ("city", CITY, "Nairobi is the capital of Kenya, in Africa, with about 4,400,000 inhabitants."),
    ("city", CITY, "Melbourne, Australia: roughly 5 million people; not the capital."),
    ("product", PRODUCT, "Wireless headphones, $59.90, in stock. Tags: audio, bluetooth."),
    ("product", PRODUCT, "Cast iron skillet for 34.00 dollars - currently sold out."),
]


def text_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"format": {"type": "json_schema", "name": name, "schema": schema, "strict": True}}


@pytest.mark.parametrize(("name", "schema", "text"), CASES, ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)])
def test_constrained_output_validates(client: lb.Client, name: str, schema: dict[str, Any], text: str) -> None:
    response = client.responses.create(
        input=f"Extract the {name} described in this text as a JSON object.\n\nText: {text}",
        text=text_format(name, schema),
        temperature=0,
        max_output_tokens=MAX_OUTPUT_TOKENS,
    )
    assert response.status == "completed" and not response.cut_off, response.output_text
    assert response.usage is not None and response.usage.output_tokens < MAX_OUTPUT_TOKENS
    value = json.loads(response.output_text)
    assert validate(value, schema) == [], response.output_text
    assert set(schema["required"]) <= set(value)
