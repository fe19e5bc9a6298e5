"""The backend protocol the Client is built on. Every backend returns the same wire types."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..cassette import Recorder
from ..types import DeletedObject, File, InputItem, Model, Prompt, PromptReference, Response, StreamEvent, new_response_id


@dataclass(frozen=True)
class ServerInfo:
    """What a backend says of itself: which server it is, which version, where, and what it accepts."""

    #: "embedded" (this process), "ogx" (OGX 1.x), "llama-stack" (Llama Stack 0.x), or "openai"
    #: (any other OpenAI-compatible server, api.openai.com included)
    kind: str
    #: the server's own version (``GET /v1/version``), or llamabook's for the embedded backend
    version: str | None
    #: the server's base URL (no ``/v1``), or the home directory for the embedded backend
    location: str | None
    #: the file purposes the server accepts
    file_purposes: tuple[str, ...]

    @property
    def label(self) -> str:
        """A name to show, such as ``OGX 1.5.0`` or ``Llama Stack 0.7.3``."""
        name = SERVER_NAMES.get(self.kind, self.kind)
        return f"{name} {self.version}" if self.version and self.kind != "embedded" else name

    def __str__(self) -> str:
        return f"{self.label} at {self.location}" if self.location else self.label


SERVER_NAMES = {
    "embedded": "embedded (SQLite + a model in this kernel)",
    "ogx": "OGX",
    "llama-stack": "Llama Stack",
    "openai": "OpenAI-compatible server",
}


@dataclass
class ResponseRequest:
    """A Responses request after the Client has checked it (prompt version resolved, variables typed)."""

    model: str
    input: str | list[dict[str, Any]] | None = None
    instructions: str | None = None
    prompt: PromptReference | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    metadata: dict[str, str] | None = None
    previous_response_id: str | None = None
    store: bool = True
    # llamabook options, not sent to servers
    prompt_template: str | None = None
    describe_images: bool = False
    pdf_to_text: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def new_response(self, status: str, *, model: str | None = None, prompt: PromptReference | None = None) -> Response:
        """A response to this request, not yet generated: a new id, now, and the request's options echoed."""
        return Response(
            id=new_response_id(),
            created_at=int(time.time()),
            status=status,  # type: ignore[arg-type]
            model=model or self.model,
            prompt=prompt or self.prompt,
            instructions=self.instructions,
            previous_response_id=self.previous_response_id,
            temperature=self.temperature,
            top_p=self.top_p,
            max_output_tokens=self.max_output_tokens,
            metadata=self.metadata,
            store=self.store,
        )


class Backend(Protocol):
    """Where prompts, files and responses live."""

    name: str
    #: the cassette this backend records to or replays from, if any
    cassette: Recorder | None

    def use_cassette(self, recorder: Recorder | None) -> None:
        """Record or replay model (or server) calls through ``recorder``; None stops it."""
        ...

    def server_info(self) -> ServerInfo:
        """Which server this is (kind, version, location) and the file purposes it accepts."""
        ...

    # prompts
    def create_prompt(self, template: str, variables: list[str]) -> Prompt: ...
    def update_prompt(
        self, prompt_id: str, template: str, version: int, variables: list[str], set_as_default: bool
    ) -> Prompt: ...
    def get_prompt(self, prompt_id: str, version: int | None = None) -> Prompt: ...
    def list_prompts(self) -> list[Prompt]: ...
    def list_versions(self, prompt_id: str) -> list[Prompt]: ...
    def set_default_version(self, prompt_id: str, version: int) -> Prompt: ...
    def delete_prompt(self, prompt_id: str) -> None: ...

    # files
    def upload_file(self, data: bytes, filename: str, purpose: str) -> File: ...
    def find_file(self, sha256: str, purpose: str) -> File | None: ...
    def list_files(self, purpose: str | None, order: str, limit: int, after: str | None) -> list[File]: ...
    def get_file(self, file_id: str) -> File: ...
    def file_content(self, file_id: str) -> bytes: ...
    def delete_file(self, file_id: str) -> DeletedObject: ...

    # responses
    def stream_response(self, request: ResponseRequest) -> Iterator[StreamEvent]: ...
    def get_response(self, response_id: str) -> Response: ...
    def list_responses(self, limit: int, order: str, after: str | None, model: str | None) -> list[Response]: ...
    def input_items(self, response_id: str, limit: int, order: str) -> list[InputItem]: ...
    def delete_response(self, response_id: str) -> DeletedObject: ...

    # models
    def list_models(self) -> list[Model]: ...
    def default_model(self) -> str: ...
    def max_file_bytes(self) -> int: ...
    def close(self) -> None: ...
