"""Prompt objects as the Prompts API returns them."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, PrivateAttr, field_validator

from .base import NotebookRepr, WireModel
from .ids import PROMPT_ID


class Prompt(NotebookRepr, WireModel):
    """One version of a stored prompt template."""

    notebook_view: ClassVar[str] = "prompt"
    frame_columns = ("prompt_id", "version", "is_default", "variables", "prompt", "name", "labels")
    frame_dtypes = {"prompt_id": "string", "version": "int64", "is_default": "bool", "prompt": "string", "name": "string"}

    prompt_id: str
    prompt: str | None = None
    version: int = Field(ge=1)
    variables: list[str] = Field(default_factory=list)
    is_default: bool = False
    #: the name(s) this prompt has in the home (``client.prompts.save``); not a server field
    name: str | None = Field(default=None, exclude=True)
    #: the labels pointing at this version (``client.prompts.set_label``); not a server field
    labels: list[str] = Field(default_factory=list, exclude=True)
    # a private attribute behind the ``schema`` property: a field of that name would shadow BaseModel.schema
    _schema: dict[str, Any] | None = PrivateAttr(default=None)

    @field_validator("prompt_id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not PROMPT_ID.match(value):
            raise ValueError("prompt_id must be 'pmpt_' followed by 48 lowercase hex characters")
        return value

    @property
    def schema(self) -> dict[str, Any] | None:  # type: ignore[override]
        """This version's default output schema (a JSON Schema), kept in the home; not a server field.

        Set by ``client.prompts.save(..., schema=...)``; a response from this version without a
        schema of its own is constrained to it.
        """
        return self._schema

    @schema.setter
    def schema(self, value: dict[str, Any] | None) -> None:
        self._schema = value

    @property
    def template(self) -> str:
        return self.prompt or ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt_id": self.prompt_id,
            "version": self.version,
            "is_default": self.is_default,
            "variables": list(self.variables),
            "prompt": self.prompt,
            "name": self.name,
            "labels": list(self.labels),
        }

    def __str__(self) -> str:
        return f"{self.prompt_id}@{self.version}"


class LabelMove(WireModel):
    """One move of a prompt label: from which version to which (None: not set, or removed), when, and for a move
    through a gate (``client.prompts.promote``) the ``evidence``: what was measured, per check."""

    frame_columns = ("prompt_id", "label", "from_version", "to_version", "moved_at", "evidence")
    frame_dtypes = {"prompt_id": "string", "label": "string", "from_version": "Int64", "to_version": "Int64"}

    prompt_id: str
    label: str
    from_version: int | None = None
    to_version: int | None = None
    moved_at: float
    #: what the gate measured (``{"checks": {name: {"rate", "low", "high", …}}, …}``); None for a move without one
    evidence: dict[str, Any] | None = None
