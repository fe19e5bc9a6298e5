"""File objects as the (OpenAI-compatible) Files API returns them."""

from __future__ import annotations

import mimetypes
from typing import Any, ClassVar, Literal

from pydantic import field_validator

from .base import NotebookRepr, WireModel
from .ids import FILE_ID

#: the purposes OpenAI's Files API takes; the embedded backend and OGX 1.x accept all of them
OPENAI_PURPOSES: tuple[str, ...] = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
#: Llama Stack 0.7's Files API takes only these
LLAMA_STACK_PURPOSES: tuple[str, ...] = ("assistants", "batch")
PURPOSES = OPENAI_PURPOSES
#: the largest upload (bytes): Llama Stack's and OGX's cap, also the embedded backend's default
MAX_FILE_BYTES = 100 * 1024 * 1024
FilePurpose = Literal["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]


class File(NotebookRepr, WireModel):
    """An uploaded file's metadata."""

    notebook_view: ClassVar[str] = "file"
    frame_columns = ("id", "filename", "bytes", "purpose", "created_at", "expires_at")
    frame_dtypes = {"id": "string", "filename": "string", "bytes": "int64", "purpose": "string"}

    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    expires_at: int | None = None
    filename: str
    purpose: str
    #: OGX 1.x: "uploaded", "processed" or "error" (None where a server does not say)
    status: str | None = None
    status_details: str | None = None

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not FILE_ID.match(value):
            raise ValueError("file id must be 'file-' followed by 1-64 hex characters")
        return value

    @property
    def mime_type(self) -> str:
        """MIME type guessed from the filename, as the server does."""
        return mimetypes.guess_type(self.filename)[0] or "application/octet-stream"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "bytes": self.bytes,
            "purpose": self.purpose,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
        }


class DeletedObject(WireModel):
    """What a delete returns: ``{"id", "object", "deleted"}``."""

    id: str
    object: str
    deleted: bool = True
