"""What a backend can run."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import WireModel


class Model(WireModel):
    """A model a backend can run, and the inputs it accepts."""

    frame_columns = ("id", "engine", "accepts", "context_length")
    frame_dtypes = {"id": "string", "engine": "string", "accepts": "string", "context_length": "Int64"}

    id: str
    object: str = "model"
    owned_by: str = "llamabook"
    engine: str = ""
    accepts: list[str] = Field(default_factory=lambda: ["text"])
    #: where ``accepts`` comes from: "engine" (the engine knows), "declared" (``model_accepts=``),
    #: "server" (the server's model metadata, ``input_modalities``) or "assumed" (nobody said)
    accepts_source: str = "engine"
    context_length: int | None = None

    def accepts_kind(self, kind: str) -> bool:
        return kind in self.accepts

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "engine": self.engine,
            "accepts": ",".join(self.accepts),
            "context_length": self.context_length,
        }
