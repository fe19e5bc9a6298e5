"""A Llama Stack server (0.7.x), or any OpenAI-compatible Responses server, over HTTP.

Files and Responses use the SDK's typed methods; ``/v1/prompts`` (which the SDK does not
know) uses its generic request methods, so one HTTP client and one retry policy serve all.
No ``llama-stack-client``: its version header makes a server of another minor answer 426.

Server quirks handled here (see the Llama Stack notes in the README):

* prompt versions are sent as strings and variables as typed objects;
* an unknown prompt or version is a 400 "… not found": mapped to PromptNotFound / VersionNotFound;
* the server closes the connection after a prompt error: the SDK retries the next request;
* ``is_default`` is only right in ``/versions``: computed from the default pointer instead;
* errors come as ``{"error": {"message"}}`` or ``{"detail"}``, and inside a 200 stream;
* ``response.output_text.done`` never comes: the final text is read from ``response.completed``;
* file content is read as raw bytes.

A server without a Prompts API (api.openai.com) keeps prompts in the local store instead
(``prompts="local"``, or found out with ``"auto"``): a local prompt is rendered on the client
into the request's messages, in the server's order; any other prompt id is passed through
by reference (an OpenAI dashboard prompt).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..cassette import Recorder
from ..config import check_base_url
from ..error_translation import cassette_miss, from_exception, stream_event_error, typed_error
from ..errors import (
    CassetteMiss,
    EngineError,
    EngineUnavailable,
    FileNotFound,
    FileTooLarge,
    InvalidRequest,
    LlamabookError,
    ModelNotFound,
    ModelRejectedInput,
    NotFound,
    PromptNotFound,
    ResponseNotFound,
    VersionNotFound,
)
from ..media import redact_inline_data
from ..media_fallback import FALLBACK_MESSAGE_ID
from ..rendering import build_messages, render_prompt
from ..types import (
    STREAM_EVENT_ADAPTER,
    TERMINAL_EVENTS,
    DeletedObject,
    File,
    InputItem,
    Model,
    Prompt,
    PromptReference,
    Response,
    ResponseTrace,
    LLAMA_STACK_PURPOSES,
    OPENAI_PURPOSES,
    ResponseError,
    ResponseFailed,
    StreamEvent,
    Usage,
)
from .base import ResponseRequest, ServerInfo
from .local.blobs import sha256_hex
from .local.database import Database
from .local.prompts import PromptStore

MAX_FILE_BYTES = 100 * 1024 * 1024


class HttpBackend:
    """Prompts, files and responses on a Llama Stack server at ``base_url`` (no ``/v1``)."""

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
        if prompts not in ("auto", "server", "local"):
            raise InvalidRequest(f"prompts must be 'auto', 'server' or 'local', not {prompts!r}")
        if prompts == "local" and home is None:
            raise InvalidRequest("prompts='local' needs a home directory for the local prompt store")
        self.base_url = check_base_url(base_url, "http(s)://host:port").removesuffix("/v1")
        self._api_key = api_key or "none"
        self._timeout = timeout
        self._max_retries = max_retries
        self._model_accepts = dict(model_accepts or {})
        self._default_model = default_model
        self._models: list[Model] | None = None
        self._sdk: Any = None
        self._lock = threading.Lock()
        self.home = home
        self.db = Database(home / "llamabook.db") if home else None
        self._prompt_mode = prompts
        self._local_prompts: PromptStore | None = None
        self._server: ServerInfo | None = None
        self.cassette: Recorder | None = None
        self.use_cassette(cassette)

    @property
    def has_api_key(self) -> bool:
        """Whether a key is configured (the key itself is never shown)."""
        return self._api_key != "none"

    def __repr__(self) -> str:  # never show the key
        return f"HttpBackend({self.base_url!r})"

    def use_cassette(self, recorder: Recorder | None) -> None:
        """Record or replay every exchange with the server through ``recorder`` (None: stop)."""
        with self._lock:
            if recorder is not None:
                recorder.cassette.add_secrets([self._api_key])
            if self._sdk is not None:
                self._sdk.close()
            self._sdk, self._models, self._server, self.cassette = None, None, None, recorder

    def server_info(self) -> ServerInfo:
        """OGX (a 1.x version), Llama Stack (0.x) or another OpenAI-compatible server (no ``/v1/version``).

        Asked once (``GET /v1/version``) and kept; what is known of each server's differences
        (``is_default``, file purposes) follows from it.
        """
        if self._server is None:
            version = self._server_version()
            if version is None:
                kind, purposes = "openai", OPENAI_PURPOSES
            elif version.split(".", 1)[0].isdigit() and int(version.split(".", 1)[0]) >= 1:
                kind, purposes = "ogx", OPENAI_PURPOSES
            else:
                kind, purposes = "llama-stack", LLAMA_STACK_PURPOSES
            self._server = ServerInfo(kind, version, self.base_url, purposes)
        return self._server

    def _server_version(self) -> str | None:
        try:
            data = self._json("get", "/version")
        except (NotFound, InvalidRequest):  # api.openai.com and other servers have no /v1/version
            return None
        except EngineError as exc:
            if exc.status_code in (404, 405):
                return None
            raise
        version = data.get("version") if isinstance(data, dict) else None
        return str(version) if version else None

    @property
    def _is_default_from_server(self) -> bool:
        """OGX reports ``is_default`` right in get, list and set-default; Llama Stack 0.7 only in /versions."""
        return self.local_prompts() is None and self.server_info().kind == "ogx"

    # ---- plumbing ------------------------------------------------------------------------
    def sdk(self) -> Any:
        with self._lock:
            if self._sdk is None:
                try:
                    import openai
                except ImportError:
                    raise EngineUnavailable("The HTTP backend needs openai: pip install 'llamabook[openai]'") from None
                options: dict[str, Any] = {}
                if self.cassette is not None:
                    from .cassette_transport import recording_http_client

                    options["http_client"] = recording_http_client(self.cassette)
                self._sdk = openai.OpenAI(
                    base_url=self.base_url + "/v1",
                    api_key=self._api_key,
                    timeout=self._timeout,
                    max_retries=self._max_retries,
                    **options,
                )
            return self._sdk

    def _call(self, action: Any, **context: Any) -> Any:
        try:
            return action(self.sdk())
        except LlamabookError:
            raise
        except Exception as exc:
            raise translate(exc, self.base_url, **context) from exc

    def _json(self, method: str, path: str, *, body: Any = None, query: dict[str, Any] | None = None, **context: Any) -> Any:
        def send(sdk: Any) -> Any:
            options = {"params": query} if query else {}
            if method == "get":
                return sdk.get(path, cast_to=object, options=options)
            if method == "delete":
                return sdk.delete(path, cast_to=object)
            return getattr(sdk, method)(path, body=body, cast_to=object)

        return self._call(send, **context)

    # ---- prompts -------------------------------------------------------------------------
    def local_prompts(self) -> PromptStore | None:
        """The local prompt store when the server has no Prompts API, else None."""
        if self._prompt_mode == "auto":
            self._prompt_mode = "server" if self.db is None or self._has_prompts_api() else "local"
        if self._prompt_mode == "local" and self._local_prompts is None:
            assert self.db is not None
            self._local_prompts = PromptStore(self.db)
        return self._local_prompts

    def _has_prompts_api(self) -> bool:
        import openai

        try:
            self.sdk().get("/prompts", cast_to=object)
        except openai.NotFoundError:
            return False
        except openai.APIStatusError as exc:
            if cassette_miss(exc) is not None:
                raise translate(exc, self.base_url) from exc
            return exc.status_code != 405
        except Exception as exc:
            raise translate(exc, self.base_url) from exc
        return True

    @property
    def passes_unknown_prompts(self) -> bool:
        """True when prompt ids the local store lacks are sent by reference (a server without Prompts API)."""
        return self.local_prompts() is not None

    def create_prompt(self, template: str, variables: list[str]) -> Prompt:
        if store := self.local_prompts():
            return store.create(template, variables)
        data = self._json("post", "/prompts", body={"prompt": template, "variables": variables})
        return _prompt(data, is_default=True)  # every server says false here: a new prompt's only version is its default

    def update_prompt(
        self, prompt_id: str, template: str, version: int, variables: list[str], set_as_default: bool
    ) -> Prompt:
        if store := self.local_prompts():
            return store.update(prompt_id, template, version, variables, set_as_default)
        body = {"prompt": template, "version": version, "variables": variables, "set_as_default": set_as_default}
        data = self._json("put", f"/prompts/{_segment(prompt_id, PromptNotFound)}", body=body, prompt_id=prompt_id)
        # Computed on both: OGX 1.5's update answers is_default false even with set_as_default (measured).
        return _prompt(data, is_default=set_as_default)

    def get_prompt(self, prompt_id: str, version: int | None = None) -> Prompt:
        if store := self.local_prompts():
            return store.get(prompt_id, version)
        if version is None:
            path = f"/prompts/{_segment(prompt_id, PromptNotFound)}"
            return _prompt(self._json("get", path, prompt_id=prompt_id), is_default=self._computed(True))
        for prompt in self.list_versions(prompt_id):
            if prompt.version == version:
                return prompt
        raise VersionNotFound(f"Prompt {prompt_id} has no version {version}; see prompts.versions({prompt_id!r})")

    def _computed(self, is_default: bool) -> bool | None:
        """``is_default`` as computed here, or None to keep the server's where it is right."""
        return None if self._is_default_from_server else is_default

    def list_prompts(self) -> list[Prompt]:
        if store := self.local_prompts():
            return store.list()
        data = self._json("get", "/prompts")
        return [_prompt(item, is_default=self._computed(True)) for item in data.get("data", [])]

    def list_versions(self, prompt_id: str) -> list[Prompt]:
        if store := self.local_prompts():
            return store.versions(prompt_id)
        data = self._json("get", f"/prompts/{_segment(prompt_id, PromptNotFound)}/versions", prompt_id=prompt_id)
        return [_prompt(item) for item in data.get("data", [])]

    def set_default_version(self, prompt_id: str, version: int) -> Prompt:
        if store := self.local_prompts():
            return store.set_default(prompt_id, version)
        body = {"version": version}
        path = f"/prompts/{_segment(prompt_id, PromptNotFound)}/set-default-version"
        data = self._json("put", path, body=body, prompt_id=prompt_id, version=version)
        return _prompt(data, is_default=self._computed(True))

    def delete_prompt(self, prompt_id: str) -> None:
        if store := self.local_prompts():
            return store.delete(prompt_id)
        self._json("delete", f"/prompts/{_segment(prompt_id, PromptNotFound)}", prompt_id=prompt_id)

    # ---- files ---------------------------------------------------------------------------
    def upload_file(self, data: bytes, filename: str, purpose: str) -> File:
        if len(data) > MAX_FILE_BYTES:
            raise FileTooLarge(len(data), MAX_FILE_BYTES, filename)
        created = self._call(lambda sdk: sdk.files.create(file=(filename, data), purpose=purpose))
        file = File.model_validate(created.model_dump())
        self._remember(file, data)
        return file

    def find_file(self, sha256: str, purpose: str) -> File | None:
        """A file uploaded earlier with these bytes, if the server still has it."""
        if self.db is None:
            return None
        row = self.db.connection().execute(
            "SELECT file_id FROM remote_files WHERE server = ? AND sha256 = ? AND purpose = ?",
            (self.base_url, sha256, purpose),
        ).fetchone()
        if row is None:
            return None
        try:
            return self.get_file(row["file_id"])
        except FileNotFound:
            with self.db.write() as conn:
                conn.execute("DELETE FROM remote_files WHERE server = ? AND file_id = ?", (self.base_url, row["file_id"]))
            return None

    def _remember(self, file: File, data: bytes) -> None:
        if self.db is None:
            return
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO remote_files (server, sha256, purpose, file_id, created_at) VALUES (?, ?, ?, ?, ?)",
                (self.base_url, sha256_hex(data), file.purpose, file.id, time.time()),
            )

    def list_files(self, purpose: str | None, order: str, limit: int, after: str | None) -> list[File]:
        query: dict[str, Any] = {"order": order, "limit": limit}
        if purpose:
            query["purpose"] = purpose
        if after:
            query["after"] = after
        data = self._json("get", "/files", query=query)
        return [File.model_validate(item) for item in data.get("data", [])]

    def get_file(self, file_id: str) -> File:
        _segment(file_id, FileNotFound)
        return File.model_validate(self._call(lambda sdk: sdk.files.retrieve(file_id), file_id=file_id).model_dump())

    def file_content(self, file_id: str) -> bytes:
        _segment(file_id, FileNotFound)
        return self._call(lambda sdk: sdk.files.content(file_id), file_id=file_id).content

    def delete_file(self, file_id: str) -> DeletedObject:
        _segment(file_id, FileNotFound)
        self._call(lambda sdk: sdk.files.delete(file_id), file_id=file_id)
        return DeletedObject(id=file_id, object="file", deleted=True)

    def max_file_bytes(self) -> int:
        return MAX_FILE_BYTES

    # ---- models --------------------------------------------------------------------------
    def list_models(self) -> list[Model]:
        if self._models is None:
            data = self._json("get", "/models")
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
    def stream_response(self, request: ResponseRequest) -> Iterator[StreamEvent]:
        local = request.prompt is not None and request.prompt_template is not None and self.local_prompts() is not None
        body = client_rendered_body(request) if local else _request_body(request)
        if local:
            request.extra.setdefault("echo_prompt", request.prompt)
        trace = ResponseTrace(
            messages=redact_inline_data(_expected_messages(request)),
            prompt_version=int(request.prompt.version) if request.prompt and request.prompt.version else None,
            engine="llama-stack",
            backend=self.name,
        )
        started = time.perf_counter()
        stream = self._call(lambda sdk: sdk.responses.create(stream=True, **body), model=request.model)
        return self._events(stream, trace, started, request)

    def _events(
        self, stream: Any, trace: ResponseTrace, started: float, request: ResponseRequest
    ) -> Iterator[StreamEvent]:
        echo = request.extra.get("echo_prompt")
        deltas = 0
        last: Response | None = None
        try:
            for raw in stream:
                data = raw.model_dump(mode="json", exclude_unset=False)
                if data.get("type") == "error":  # OGX's error event; the SDK yields it instead of raising
                    error = stream_event_error(data, base_url=self.base_url, model=request.model)
                    yield self._failed(last, request, trace, started, error)
                    return
                try:
                    event = STREAM_EVENT_ADAPTER.validate_python(data)
                except Exception:
                    continue  # event types llamabook does not model (tools, reasoning, …)
                if event.type == "response.output_text.delta":
                    deltas += 1
                if hasattr(event, "response"):
                    last = event.response
                    trace.latency_s = round(time.perf_counter() - started, 6)
                    _fill_usage(event.response, trace, deltas)
                    event.response.trace = trace.model_copy(deep=True)
                    if echo is not None:  # the variables as the user gave them, not their text stand-ins
                        event.response.prompt = echo
                    if isinstance(event, ResponseFailed):
                        event._error = self._failure_reason(event.response, request.model)
                    if event.type in TERMINAL_EVENTS and request.store:
                        self._keep_trace(event.response)
                yield event
        except CassetteMiss:
            raise
        except Exception as exc:  # 0.7.3's {"error": …} event (the SDK raises it), or a broken stream
            error = from_exception(exc, base_url=self.base_url, model=request.model, mid_stream=True)
            if isinstance(error, CassetteMiss):
                raise error from exc
            yield self._failed(last, request, trace, started, error)
        finally:
            stream.close()

    def _failure_reason(self, response: Response, model: str) -> LlamabookError | None:
        """The typed error of a failed response the server sent or stored (its message says why)."""
        if response.error is None:
            return None
        error = typed_error(response.error.message, None, base_url=self.base_url, model=model)
        if isinstance(error, ModelRejectedInput) and model in self._model_accepts:
            error = ModelRejectedInput(model, error.kind, declared=True)
        if type(error) is not EngineError:  # a known cause: say it in llamabook's words, not the upstream's dump
            response.error = ResponseError(code=response.error.code, message=str(error))
        return error

    def _failed(
        self,
        last: Response | None,
        request: ResponseRequest,
        trace: ResponseTrace,
        started: float,
        error: LlamabookError,
    ) -> ResponseFailed:
        """A failed response for an error inside a 200 stream, kept here (the server may not keep it)."""
        trace.latency_s = round(time.perf_counter() - started, 6)
        now = int(time.time())
        if last is not None:
            response = last.model_copy(deep=True)
        else:
            response = request.new_response("failed", prompt=request.extra.get("echo_prompt"))
        response.status = "failed"
        response.completed_at = now
        response.error = ResponseError(code=_error_code(error), message=str(error))
        response.trace = trace.model_copy(deep=True)
        if request.store:
            self._keep_trace(response, whole=True)
        failed = ResponseFailed(sequence_number=0, response=response)
        failed._error = error
        return failed

    def _keep_trace(self, response: Response, *, whole: bool = False) -> None:
        """Keep what the server does not: the messages, latency, counted usage, the prompt as given;
        with ``whole``, the response itself (one that failed inside the stream, which the server may lack)."""
        if self.db is None or response.trace is None:
            return
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO remote_responses "
                "(server, response_id, trace_json, usage_json, prompt_json, response_json, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    self.base_url,
                    response.id,
                    response.trace.model_dump_json(),
                    response.usage.model_dump_json() if response.usage else None,
                    response.prompt.model_dump_json() if response.prompt else None,
                    response.model_dump_json() if whole else None,
                    response.created_at,
                ),
            )

    def _with_trace(self, response: Response) -> Response:
        """A response read from the server, with what this home kept of it and its failure in llamabook's words."""
        if response.status == "failed":
            self._failure_reason(response, response.model)
        if self.db is None:
            return response
        row = self.db.connection().execute(
            "SELECT * FROM remote_responses WHERE server = ? AND response_id = ?", (self.base_url, response.id)
        ).fetchone()
        if row is not None:
            response.trace = ResponseTrace.model_validate_json(row["trace_json"])
            if response.usage is None and row["usage_json"]:
                response.usage = Usage.model_validate_json(row["usage_json"])
            if row["prompt_json"]:
                response.prompt = PromptReference.model_validate_json(row["prompt_json"])
        return response

    def get_response(self, response_id: str) -> Response:
        try:
            data = self._json("get", f"/responses/{_segment(response_id, ResponseNotFound)}", response_id=response_id)
        except ResponseNotFound:
            if (kept := self._kept_failure(response_id)) is not None:
                return kept
            raise
        return self._with_trace(Response.model_validate(data))

    def _kept_failure(self, response_id: str) -> Response | None:
        """A response that failed inside its stream, as kept here (the server never stored it)."""
        if self.db is None:
            return None
        row = self.db.connection().execute(
            "SELECT response_json, trace_json FROM remote_responses WHERE server = ? AND response_id = ? "
            "AND response_json IS NOT NULL",
            (self.base_url, response_id),
        ).fetchone()
        if row is None:
            return None
        response = Response.model_validate_json(row["response_json"])
        response.trace = ResponseTrace.model_validate_json(row["trace_json"])
        return response

    def _kept_failures(self, model: str | None) -> list[Response]:
        if self.db is None:
            return []
        rows = self.db.connection().execute(
            "SELECT response_id FROM remote_responses WHERE server = ? AND response_json IS NOT NULL",
            (self.base_url,),
        ).fetchall()
        kept = [self._kept_failure(row["response_id"]) for row in rows]
        return [r for r in kept if r is not None and (model is None or r.model == model)]

    def list_responses(self, limit: int, order: str, after: str | None, model: str | None) -> list[Response]:
        query: dict[str, Any] = {"limit": min(limit, 100), "order": order}
        if after:
            query["after"] = after
        if model:
            query["model"] = model
        data = self._json("get", "/responses", query=query)
        listed = [self._with_trace(Response.model_validate(item)) for item in data.get("data", [])]
        if after is not None:
            return listed
        # The first page also holds the responses that failed inside their streams, which only
        # this home knows, in the same order (a later page, after=…, is the server's alone).
        known = {r.id for r in listed}
        extra = [r for r in self._kept_failures(model) if r.id not in known]
        if not extra:
            return listed
        merged = sorted(listed + extra, key=lambda r: r.created_at, reverse=order == "desc")
        return merged[:limit]

    def input_items(self, response_id: str, limit: int, order: str) -> list[InputItem]:
        query = {"limit": min(limit, 100), "order": order}
        path = f"/responses/{_segment(response_id, ResponseNotFound)}/input_items"
        data = self._json("get", path, query=query, response_id=response_id)
        items = [InputItem.model_validate(item) for item in data.get("data", [])]
        return [item for item in items if item.id != FALLBACK_MESSAGE_ID]

    def delete_response(self, response_id: str) -> DeletedObject:
        try:
            self._json("delete", f"/responses/{_segment(response_id, ResponseNotFound)}", response_id=response_id)
        except ResponseNotFound:
            if self._kept_failure(response_id) is None:
                raise
        if self.db is not None:
            with self.db.write() as conn:
                conn.execute(
                    "DELETE FROM remote_responses WHERE server = ? AND response_id = ?", (self.base_url, response_id)
                )
        return DeletedObject(id=response_id, object="response", deleted=True)

    def close(self) -> None:
        if self._sdk is not None:
            self._sdk.close()
        if self.db is not None:
            self.db.close()


_ID = re.compile(r"[A-Za-z0-9_-]+")


def _segment(object_id: Any, missing: type[LlamabookError]) -> str:
    """An id that is safe as one URL path segment; any other value cannot name an object.

    Server ids are letters, digits, ``_`` and ``-``; a ``/``, ``..``, ``?`` or ``%`` in an id
    would address another route (``files/../responses/…``), so it raises ``missing`` instead.
    """
    if not isinstance(object_id, str) or not _ID.fullmatch(object_id):
        raise missing(f"{object_id!r} is not a valid id (letters, digits, '_' and '-' only), so nothing has it")
    return object_id


def _prompt(data: dict[str, Any], *, is_default: bool | None = None) -> Prompt:
    prompt = Prompt.model_validate(data)
    if is_default is not None:
        prompt.is_default = is_default
    return prompt


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


def _error_code(error: LlamabookError) -> str:
    """A response's ``error.code`` for a typed error: its name in snake case (``file_not_found``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


def _fill_usage(response: Response, trace: ResponseTrace, deltas: int) -> None:
    """Servers whose model reports no usage in streams (llama-cpp-python's) leave it null:
    count the streamed deltas instead, and say so in the trace."""
    if response.usage is not None:
        trace.usage_source = "model"
    elif response.status in ("completed", "incomplete", "failed"):
        response.usage = Usage(input_tokens=0, output_tokens=deltas, total_tokens=deltas)
        trace.usage_source = "deltas"


def _request_body(request: ResponseRequest) -> dict[str, Any]:
    # Llama Stack requires ``input``; an empty list leaves the prompt's system message alone, as
    # the embedded backend does when there is no input.
    body: dict[str, Any] = {"model": request.model, "store": request.store}
    body["input"] = request.input if request.input is not None else []
    if request.prompt is not None:
        body["prompt"] = request.prompt.model_dump(mode="json", exclude_none=True)
    for name in ("instructions", "temperature", "top_p", "max_output_tokens", "metadata", "previous_response_id"):
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    return body


def client_rendered_body(request: ResponseRequest) -> dict[str, Any]:
    """A request for a server without Prompts API: the prompt rendered here, in the server's order.

    The rendered prompt and ``instructions`` become leading system messages of ``input`` (so
    they keep the order a Llama Stack server gives them), and media variables go in one user
    message after the input, as ``input_image`` / ``input_file`` parts by file id.
    """
    body = _request_body(request)
    body.pop("prompt", None)
    body.pop("instructions", None)
    rendered = render_prompt(request.prompt_template or "", request.prompt.variables or {} if request.prompt else {})
    messages = build_messages(request.input, request.instructions, rendered)
    body["input"] = [_responses_message(m) for m in messages]
    return body


def _responses_message(message: dict[str, Any]) -> dict[str, Any]:
    content = message["content"]
    if isinstance(content, str):
        return {"role": message["role"], "content": content}
    parts = []
    for part in content:
        if part.get("type") == "text":
            parts.append({"type": "input_text", "text": part["text"]})
        else:
            parts.append({k: v for k, v in part.items() if k != "name"})
    return {"role": message["role"], "content": parts}


def _expected_messages(request: ResponseRequest) -> list[dict[str, Any]]:
    """The messages the server builds, by its rule (it does not return them)."""
    rendered = None
    if request.prompt is not None and request.prompt_template is not None:
        rendered = render_prompt(request.prompt_template, request.prompt.variables or {})
    messages = build_messages(request.input, request.instructions, rendered)
    for message in messages:  # the server forwards text-only part lists as they are; show them as text
        content = message["content"]
        if isinstance(content, list) and all(p.get("type") == "text" for p in content):
            message["content"] = "\n\n".join(p["text"] for p in content)
    return messages


def translate(exc: Exception, base_url: str, **context: Any) -> LlamabookError:
    """An SDK exception → the llamabook error a user can act on (see :mod:`llamabook.error_translation`)."""
    return from_exception(exc, base_url=base_url, **context)
