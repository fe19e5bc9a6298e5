"""The backend protocol the Client is built on. Every backend returns the same wire types."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..cassette import Recorder
from ..types import Batch, DeletedObject, File, InputItem, Model, Prompt, Response, StreamEvent
from ..types.requests import ResponseRequest

if TYPE_CHECKING:
    from ..store import Store
    from ..store.writer import Unit


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


@dataclass(frozen=True)
class Capabilities:
    """What a backend does itself, so that the client knows what it must do above it."""

    #: images and files are turned into what each model takes by the backend (the embedded one);
    #: otherwise the client replaces what a model can't take before sending (``media_fallback``)
    adapts_media: bool
    #: prompts are stored and rendered by the server (Llama Stack / OGX), not in the home
    server_prompts: bool
    #: a prompt id the home doesn't know is sent by reference (a server without Prompts API)
    passes_unknown_prompts: bool
    #: sampling takes a seed (``responses.create(seed=…)``): the embedded backend; the Responses API has none
    seeds: bool = False


class PromptStoreLike(Protocol):
    """Versioned prompts with immutable versions and a default pointer: the home's store or a server's."""

    def create(self, template: str, variables: list[str]) -> Prompt: ...
    def update(self, prompt_id: str, template: str, version: int, variables: list[str], set_as_default: bool) -> Prompt: ...
    def get(self, prompt_id: str, version: int | None = None) -> Prompt: ...
    def list(self) -> list[Prompt]: ...
    def versions(self, prompt_id: str) -> list[Prompt]: ...
    def set_default(self, prompt_id: str, version: int) -> Prompt: ...
    def delete(self, prompt_id: str) -> None: ...


class PromptCalls:
    """Prompt calls on a backend itself (``backend.get_prompt(…)``), answered by its ``prompts``.

    Not part of :class:`Backend`: callers use ``backend.prompts``. The shipped backends keep
    these as a convenience for direct use.
    """

    prompts: PromptStoreLike

    def create_prompt(self, template: str, variables: list[str]) -> Prompt:
        return self.prompts.create(template, variables)

    def update_prompt(self, prompt_id: str, template: str, version: int, variables: list[str], set_as_default: bool) -> Prompt:
        return self.prompts.update(prompt_id, template, version, variables, set_as_default)

    def get_prompt(self, prompt_id: str, version: int | None = None) -> Prompt:
        return self.prompts.get(prompt_id, version)

    def list_prompts(self) -> list[Prompt]:
        return self.prompts.list()

    def list_versions(self, prompt_id: str) -> list[Prompt]:
        return self.prompts.versions(prompt_id)

    def set_default_version(self, prompt_id: str, version: int) -> Prompt:
        return self.prompts.set_default(prompt_id, version)

    def delete_prompt(self, prompt_id: str) -> None:
        self.prompts.delete(prompt_id)


class BatchJobs(Protocol):
    """A server's Batches API: JSONL of requests in, an output and an error file out."""

    def submit(self, jsonl: bytes, filename: str, endpoint: str, metadata: dict[str, str]) -> Batch: ...
    def retrieve(self, batch_id: str) -> Batch: ...
    def cancel(self, batch_id: str) -> Batch: ...
    def content(self, file_id: str) -> bytes: ...


class Backend(Protocol):
    """Where prompts, files and responses live."""

    #: "local" (embedded) or "http"
    name: str
    #: the key of this backend's records in the home (prompt names): "local", or the server's base URL
    scope: str
    #: the server's base URL (no ``/v1``), or None for the embedded backend
    base_url: str | None
    #: the home directory, or None (a server backend made without one keeps nothing locally)
    home: Path | None
    #: the home database, or None with no home
    store: Store | None
    #: the cassette this backend records to or replays from, if any
    cassette: Recorder | None

    @property
    def capabilities(self) -> Capabilities:
        """What this backend does itself (media adaptation, server-side prompts)."""
        ...

    def describe(self) -> list[tuple[str, str]]:
        """Rows about this backend for ``%llama config`` (never a secret)."""
        ...

    def use_cassette(self, recorder: Recorder | None) -> None:
        """Record or replay model (or server) calls through ``recorder``; None stops it."""
        ...

    def server_info(self) -> ServerInfo:
        """Which server this is (kind, version, location) and the file purposes it accepts."""
        ...

    # prompts
    @property
    def prompts(self) -> PromptStoreLike:
        """Where this backend's versioned prompts live: the server's, or the home's ``store.prompts``."""
        ...

    # files
    def upload_file(self, data: bytes, filename: str, purpose: str) -> File: ...
    def find_file(self, sha256: str, purpose: str) -> File | None: ...
    def list_files(self, purpose: str | None, order: str, limit: int, after: str | None) -> list[File]: ...
    def get_file(self, file_id: str) -> File: ...
    def file_content(self, file_id: str) -> bytes: ...
    def delete_file(self, file_id: str) -> DeletedObject: ...

    # responses
    def stream_response(self, request: ResponseRequest, unit: Unit | None = None) -> Iterator[StreamEvent]:
        """The events of one call; the rows it stores join ``unit`` (a grid's) when given."""
        ...
    def get_response(self, response_id: str) -> Response: ...
    def list_responses(self, limit: int, order: str, after: str | None, model: str | None) -> list[Response]: ...
    def input_items(self, response_id: str, limit: int, order: str) -> list[InputItem]: ...
    def delete_response(self, response_id: str) -> DeletedObject: ...

    # models
    def list_models(self) -> list[Model]: ...
    def default_model(self) -> str: ...
    def max_file_bytes(self) -> int: ...
    def check_output_schema(self, schema: dict[str, Any], model: str) -> None:
        """Raise :class:`~llamabook.InvalidRequest` naming what ``model`` here can't hold its output to in ``schema``."""
        ...
    def check_tools(
        self, tools: list[dict[str, Any]] | None, tool_choice: str | dict[str, Any] | None, model: str,
        *, tool_items: bool = False,
    ) -> None:  # fmt: skip
        """Raise :class:`~llamabook.ToolsUnsupported` when ``model`` here can't take these tools (wire form)
        or, with ``tool_items``, ``function_call`` / ``function_call_output`` items in its input."""
        ...

    def batch_jobs(self) -> BatchJobs:
        """The server's Batches API; raise :class:`~llamabook.BatchesUnsupported` where there is none."""
        ...
    def close(self) -> None: ...


__all__ = ["Backend", "BatchJobs", "Capabilities", "PromptCalls", "PromptStoreLike", "ResponseRequest", "SERVER_NAMES", "ServerInfo"]
