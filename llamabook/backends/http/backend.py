"""A Llama Stack / OGX server, or any OpenAI-compatible Responses server, over HTTP.

The jobs are split by module: :mod:`.transport` (the one HTTP client, errors translated),
:mod:`.prompts` (server prompts, or the home's store for a server without a Prompts API,
chosen once), :mod:`.requests` (request bodies) and :mod:`.streams` (events, failures kept).
This class puts them together with files, responses and models, and keeps in the home what
a server doesn't: uploads by content, the messages, latency and usage of responses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ...cassette import Recorder
from ...config import check_base_url
from ...errors import FileNotFound, FileTooLarge, InvalidRequest, ModelNotFound, ResponseNotFound
from ...media import redact_inline_data
from ...store import PromptStore, Store, sha256_hex
from ...store.writer import Unit
from ...types import (
    LLAMA_STACK_PURPOSES,
    OPENAI_PURPOSES,
    DeletedObject,
    File,
    InputItem,
    Model,
    Response,
    ResponseTrace,
    StreamEvent,
)
from ...types.files import MAX_FILE_BYTES
from ...types.requests import ResponseRequest
from ..base import Capabilities, PromptCalls, ServerInfo
from .batches import ServerBatches
from .prompts import ServerPrompts
from .requests import client_rendered_body, expected_messages, request_body
from .streams import StreamReader
from .transport import Transport, segment

PROMPT_MODES = ("auto", "server", "local")


class HttpBackend(PromptCalls):
    """Prompts, files and responses on the server at ``base_url`` (no ``/v1``)."""

    name = "http"

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        home: Path | None = None,
        timeout: float = 600.0,
        max_retries: int = 2,
        model_accepts: dict[str, list[str]] | None = None,
        default_model: str | None = None,
        prompts: str = "auto",
        cassette: Recorder | None = None,
    ) -> None:
        if prompts not in PROMPT_MODES:
            raise InvalidRequest(f"prompts must be 'auto', 'server' or 'local', not {prompts!r}")
        if prompts == "local" and home is None:
            raise InvalidRequest("prompts='local' needs a home directory for the local prompt store")
        self.base_url: str = check_base_url(base_url, "http(s)://host:port").removesuffix("/v1")
        self.scope = self.base_url
        self.home = home
        self.store = Store(home) if home else None
        self._records = self.store.remote(self.base_url) if self.store else None
        self._transport = Transport(self.base_url, api_key=api_key, timeout=timeout, max_retries=max_retries)
        self._model_accepts = dict(model_accepts or {})
        self._default_model = default_model
        self._models: list[Model] | None = None
        self._server: ServerInfo | None = None
        self._prompt_mode = prompts
        self._prompts: ServerPrompts | PromptStore | None = None
        if prompts != "auto":  # chosen now; "auto" asks the server once, on first use (no request at start)
            self._prompts = self._choose_prompts(prompts)
        self._streams = StreamReader(self.base_url, self._model_accepts, self._keep)
        self._batches = ServerBatches(self._transport, self.upload_file, lambda: str(self.server_info()))
        self.use_cassette(cassette)

    @property
    def cassette(self) -> Recorder | None:
        return self._transport.cassette

    @property
    def has_api_key(self) -> bool:
        """Whether a key is configured (the key itself is never shown)."""
        return self._transport.has_api_key

    def __repr__(self) -> str:  # never show the key
        return f"HttpBackend({self.base_url!r})"

    def use_cassette(self, recorder: Recorder | None) -> None:
        """Record or replay every exchange with the server through ``recorder`` (None: stop)."""
        self._transport.use_cassette(recorder)
        self._models, self._server = None, None

    def sdk(self) -> Any:
        """The openai SDK client this backend sends with."""
        return self._transport.sdk()

    def batch_jobs(self) -> ServerBatches:
        """The server's Batches API; :class:`~llamabook.BatchesUnsupported` if it has none."""
        self._batches.check()
        return self._batches

    def server_info(self) -> ServerInfo:
        """OGX (a 1.x version), Llama Stack (0.x) or another OpenAI-compatible server (no ``/v1/version``).

        Asked once (``GET /v1/version``) and kept; what is known of each server's differences
        (``is_default``, file purposes) follows from it.
        """
        if self._server is None:
            version = self._transport.version()
            if version is None:
                kind, purposes = "openai", OPENAI_PURPOSES
            elif version.split(".", 1)[0].isdigit() and int(version.split(".", 1)[0]) >= 1:
                kind, purposes = "ogx", OPENAI_PURPOSES
            else:
                kind, purposes = "llama-stack", LLAMA_STACK_PURPOSES
            self._server = ServerInfo(kind, version, self.base_url, purposes)
        return self._server

    @property
    def capabilities(self) -> Capabilities:
        """Media go to the server as they are; prompts are the server's unless it has no Prompts API."""
        server_prompts = isinstance(self.prompts, ServerPrompts)
        return Capabilities(adapts_media=False, server_prompts=server_prompts, passes_unknown_prompts=not server_prompts)

    def describe(self) -> list[tuple[str, str]]:
        return [("base_url", self.base_url), ("api_key", "set (hidden)" if self.has_api_key else "not set")]

    # ---- prompts: the server's, or the home's (chosen once) ----------------------------------
    @property
    def prompts(self) -> ServerPrompts | PromptStore:
        """Where prompts live: the server, or the home's store when the server has no Prompts API."""
        if self._prompts is None:
            has_api = self.store is None or self._transport.has_prompts_api()
            self._prompts = self._choose_prompts("server" if has_api else "local")
        return self._prompts

    def _choose_prompts(self, mode: str) -> ServerPrompts | PromptStore:
        if mode == "local":
            assert self.store is not None
            return self.store.prompts
        return ServerPrompts(self._transport, lambda: self.server_info().kind == "ogx")

    # ---- files ---------------------------------------------------------------------------
    def upload_file(self, data: bytes, filename: str, purpose: str) -> File:
        if len(data) > MAX_FILE_BYTES:
            raise FileTooLarge(len(data), MAX_FILE_BYTES, filename)
        created = self._transport.call(lambda sdk: sdk.files.create(file=(filename, data), purpose=purpose))
        file = File.model_validate(created.model_dump())
        if self._records is not None:
            self._records.remember_file(sha256_hex(data), file.purpose, file.id)
        return file

    def find_file(self, sha256: str, purpose: str) -> File | None:
        """A file uploaded earlier with these bytes, if the server still has it."""
        file_id = self._records.file_id(sha256, purpose) if self._records is not None else None
        if file_id is None:
            return None
        try:
            return self.get_file(file_id)
        except FileNotFound:
            assert self._records is not None
            self._records.forget_file(file_id)
            return None

    def list_files(self, purpose: str | None, order: str, limit: int, after: str | None) -> list[File]:
        query: dict[str, Any] = {"order": order, "limit": limit}
        if purpose:
            query["purpose"] = purpose
        if after:
            query["after"] = after
        data = self._transport.json("get", "/files", query=query)
        return [File.model_validate(item) for item in data.get("data", [])]

    def get_file(self, file_id: str) -> File:
        segment(file_id, FileNotFound)
        found = self._transport.call(lambda sdk: sdk.files.retrieve(file_id), file_id=file_id)
        return File.model_validate(found.model_dump())

    def file_content(self, file_id: str) -> bytes:
        segment(file_id, FileNotFound)
        return self._transport.call(lambda sdk: sdk.files.content(file_id), file_id=file_id).content

    def delete_file(self, file_id: str) -> DeletedObject:
        segment(file_id, FileNotFound)
        self._transport.call(lambda sdk: sdk.files.delete(file_id), file_id=file_id)
        return DeletedObject(id=file_id, object="file", deleted=True)

    def check_output_schema(self, schema: dict[str, Any], model: str) -> None:
        """Nothing to check here: the server (or its inference provider) says what it can't enforce."""

    def check_tools(
        self, tools: list[dict[str, Any]] | None, tool_choice: str | dict[str, Any] | None, model: str,
        *, tool_items: bool = False,
    ) -> None:  # fmt: skip
        """Nothing to check here: the tools are sent as given, and the server says what it refuses."""

    def max_file_bytes(self) -> int:
        return MAX_FILE_BYTES

    # ---- models --------------------------------------------------------------------------
    def list_models(self) -> list[Model]:
        if self._models is None:
            data = self._transport.json("get", "/models")
            self._models = [
                Model(
                    id=item["id"],
                    owned_by=item.get("owned_by") or "llama_stack",
                    engine=self.server_info().kind,
                    **self._accepts(item),
                )
                for item in data.get("data", [])
                if (item.get("custom_metadata") or {}).get("model_type", "llm") == "llm"
            ]
        return list(self._models)

    def _accepts(self, item: dict[str, Any]) -> dict[str, Any]:
        """What a model takes: as declared (``model_accepts``), else as the server's model metadata
        says (``input_modalities``, which both servers pass on from the run config), else all."""
        if item["id"] in self._model_accepts:
            return {"accepts": list(self._model_accepts[item["id"]]), "accepts_source": "declared"}
        said = server_modalities(item.get("custom_metadata") or {})
        if said is not None:
            return {"accepts": said, "accepts_source": "server"}
        return {"accepts": ["text", "image", "file"], "accepts_source": "assumed"}

    def default_model(self) -> str:
        if self._default_model:
            return self._default_model
        models = self.list_models()
        if not models:
            raise ModelNotFound(f"{self.base_url} has no language model registered; add one to its run config")
        return models[0].id

    # ---- responses -----------------------------------------------------------------------
    def stream_response(self, request: ResponseRequest, unit: Unit | None = None) -> Iterator[StreamEvent]:
        """The server's events for ``request``; ``unit`` is unused (what this home keeps of a response is written at once)."""
        rendered_here = request.prompt is not None and request.prompt_template is not None and not self.capabilities.server_prompts
        if rendered_here:
            body = client_rendered_body(request)
            request = replace(request, given_prompt=request.given_prompt or request.prompt)
        else:
            body = request_body(request)
        trace = ResponseTrace(
            messages=redact_inline_data(expected_messages(request)),
            prompt_version=int(request.prompt.version) if request.prompt and request.prompt.version else None,
            engine="llama-stack",
            backend=self.name,
        )
        started = time.perf_counter()
        stream = self._transport.call(lambda sdk: sdk.responses.create(stream=True, **body), model=request.model)
        return self._streams.events(stream, trace, started, request)

    def _keep(self, response: Response, whole: bool) -> None:
        if self._records is not None:
            self._records.keep_response(response, whole=whole)

    def _with_records(self, response: Response) -> Response:
        """A response read from the server, with what this home kept of it and its failure in llamabook's words."""
        if response.status == "failed":
            self._streams.failure_reason(response, response.model)
        return self._records.fill_in(response) if self._records is not None else response

    def _kept_failure(self, response_id: str) -> Response | None:
        return self._records.kept_failure(response_id) if self._records is not None else None

    def get_response(self, response_id: str) -> Response:
        path = f"/responses/{segment(response_id, ResponseNotFound)}"
        try:
            data = self._transport.json("get", path, response_id=response_id)
        except ResponseNotFound:
            if (kept := self._kept_failure(response_id)) is not None:
                return kept
            raise
        return self._with_records(Response.model_validate(data))

    def list_responses(self, limit: int, order: str, after: str | None, model: str | None) -> list[Response]:
        query: dict[str, Any] = {"limit": min(limit, 100), "order": order}
        if after:
            query["after"] = after
        if model:
            query["model"] = model
        data = self._transport.json("get", "/responses", query=query)
        listed = [self._with_records(Response.model_validate(item)) for item in data.get("data", [])]
        if after is not None or self._records is None:
            return listed
        # The first page also holds the responses that failed inside their streams, which only
        # this home knows, in the same order (a later page, after=…, is the server's alone).
        known = {r.id for r in listed}
        extra = [r for r in self._records.kept_failures(model) if r.id not in known]
        if not extra:
            return listed
        merged = sorted(listed + extra, key=lambda r: r.created_at, reverse=order == "desc")
        return merged[:limit]

    def input_items(self, response_id: str, limit: int, order: str) -> list[InputItem]:
        query = {"limit": min(limit, 100), "order": order}
        path = f"/responses/{segment(response_id, ResponseNotFound)}/input_items"
        data = self._transport.json("get", path, query=query, response_id=response_id)
        return [InputItem.model_validate(item) for item in data.get("data", [])]

    def delete_response(self, response_id: str) -> DeletedObject:
        try:
            self._transport.json("delete", f"/responses/{segment(response_id, ResponseNotFound)}", response_id=response_id)
        except ResponseNotFound:
            if self._kept_failure(response_id) is None:
                raise
        if self._records is not None:
            self._records.forget_response(response_id)
        return DeletedObject(id=response_id, object="response", deleted=True)

    def close(self) -> None:
        self._transport.close()
        if self.store is not None:
            self.store.close()


#: ``input_modalities`` words → what llamabook calls the kinds of input
_MODALITIES = {"text": "text", "image": "image", "file": "file", "pdf": "file", "document": "file"}


def server_modalities(metadata: dict[str, Any]) -> list[str] | None:
    """The kinds a model takes by its ``input_modalities`` metadata, or None if it says nothing usable."""
    said = metadata.get("input_modalities")
    if isinstance(said, str):
        said = [part.strip() for part in said.split(",")]
    if not isinstance(said, list):
        return None
    kinds = {_MODALITIES[word.lower()] for word in said if isinstance(word, str) and word.lower() in _MODALITIES}
    return [kind for kind in ("text", "image", "file") if kind in kinds | {"text"}] if kinds else None
