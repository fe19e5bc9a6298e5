"""Schemas that tests of structured outputs share: a pydantic ``Invoice`` and a yes/no ``VERDICT``."""

from __future__ import annotations

from typing import Literal

import pydantic


class Item(pydantic.BaseModel):
    name: str = pydantic.Field(max_length=20)
    qty: int


class Invoice(pydantic.BaseModel):
    number: str = pydantic.Field(max_length=12)
    total: float
    paid: bool
    currency: Literal["EUR", "USD"]
    items: list[Item] = pydantic.Field(max_length=2)


VERDICT = {
    "type": "object",
    "properties": {"verdict": {"type": "string", "enum": ["yes", "no"]}},
    "required": ["verdict"],
}
