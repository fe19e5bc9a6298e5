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
from ..errors import (
    CassetteMiss,
    EngineError,
    EngineUnavailable,
    FileNotFound,
    FileTooLarge,
    InvalidRequest,
    LlamabookError,
    ModelNotFound,
    PromptNotFound,
    ResponseNotFound,
    UndeclaredVariables,
    UnknownVariables,
    VersionConflict,
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
    StreamEvent,
    Usage,
)
from .base import ResponseRequest
from .local.blobs import sha256_hex
from .local.database import Database
from .local.prompts import PromptStore

MAX_FILE_BYTES = 100 * 1024 * 1024
# Stale update. Llama Stack 0.7.3: "'1' is not the latest prompt version … Use the latest version '2'";
# OGX 1.5: "Invalid value for 'version': 1. Must be the latest prompt version '2'."
_STALE = re.compile(r"is not the latest prompt version|Must be the latest prompt version")
_LATEST = re.compile(r"(?:Use the latest version|Must be the latest prompt version) '(\d+)'")
_GIVEN = re.compile(r"'(\d+)' is not the latest|Invalid value for 'version': (\d+)")
# Unknown version. 0.7.3: "Prompt pmpt_…:99 not found"; OGX: "Prompt version '99' not found in prompt …".
_NO_VERSION = re.compile(r":\d+ not found|version '?\d+'? not found")
# The undeclared names: the first [...] after the phrase (OGX appends a pydantic dump with more quotes).
_UNDECLARED = re.compile(r"undeclared variables:?\s*\[([^\]]*)\]")


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
            self._sdk, self._models, self.cassette = None, None, recorder

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
        return _prompt(data, is_default=True)

    def update_prompt(
        self, prompt_id: str, template: str, version: int, variables: list[str], set_as_default: bool
    ) -> Prompt:
        if store := self.local_prompts():
            return store.update(prompt_id, template, version, variables, set_as_default)
        body = {"prompt": template, "version": version, "variables": variables, "set_as_default": set_as_default}
        data = self._json("put", f"/prompts/{_segment(prompt_id, PromptNotFound)}", body=body, prompt_id=prompt_id)
        return _prompt(data, is_default=set_as_default)

    def get_prompt(self, prompt_id: str, version: int | None = None) -> Prompt:
        if store := self.local_prompts():
            return store.get(prompt_id, version)
        if version is None:
            path = f"/prompts/{_segment(prompt_id, PromptNotFound)}"
            return _prompt(self._json("get", path, prompt_id=prompt_id), is_default=True)
        for prompt in self.list_versions(prompt_id):
            if prompt.version == version:
                return prompt
        raise VersionNotFound(f"Prompt {prompt_id} has no version {version}; see prompts.versions({prompt_id!r})")

    def list_prompts(self) -> list[Prompt]:
        if store := self.local_prompts():
            return store.list()
        data = self._json("get", "/prompts")
        return [_prompt(item, is_default=True) for item in data.get("data", [])]

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
        return _prompt(data, is_default=True)

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
                    engine="llama-stack",
                    accepts=self._model_accepts.get(item["id"], ["text", "image", "file"]),
                )
                for item in data.get("data", [])
                if (item.get("custom_metadata") or {}).get("model_type", "llm") == "llm"
            ]
        return list(self._models)

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
        try:
            for raw in stream:
                data = raw.model_dump(mode="json", exclude_unset=False)
                if data.get("type") == "error":  # OGX's event shape; the SDK yields it instead of raising
                    raise stream_error(data, self.base_url, model=request.model)
                try:
                    event = STREAM_EVENT_ADAPTER.validate_python(data)
                except Exception:
                    continue  # event types llamabook does not model (tools, reasoning, …)
                if event.type == "response.output_text.delta":
                    deltas += 1
                if hasattr(event, "response"):
                    trace.latency_s = round(time.perf_counter() - started, 6)
                    _fill_usage(event.response, trace, deltas)
                    event.response.trace = trace.model_copy(deep=True)
                    if echo is not None:  # the variables as the user gave them, not their text stand-ins
                        event.response.prompt = echo
                    if event.type in TERMINAL_EVENTS and request.store:
                        self._keep_trace(event.response)
                yield event
        except LlamabookError:
            raise
        except Exception as exc:
            raise translate(exc, self.base_url, model=request.model) from exc
        finally:
            stream.close()

    def _keep_trace(self, response: Response) -> None:
        """Keep what the server does not: the messages, latency, counted usage, the prompt as given."""
        if self.db is None or response.trace is None:
            return
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO remote_responses (server, response_id, trace_json, usage_json, prompt_json) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    self.base_url,
                    response.id,
                    response.trace.model_dump_json(),
                    response.usage.model_dump_json() if response.usage else None,
                    response.prompt.model_dump_json() if response.prompt else None,
                ),
            )

    def _with_trace(self, response: Response) -> Response:
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
        data = self._json("get", f"/responses/{_segment(response_id, ResponseNotFound)}", response_id=response_id)
        return self._with_trace(Response.model_validate(data))

    def list_responses(self, limit: int, order: str, after: str | None, model: str | None) -> list[Response]:
        query: dict[str, Any] = {"limit": min(limit, 100), "order": order}
        if after:
            query["after"] = after
        if model:
            query["model"] = model
        data = self._json("get", "/responses", query=query)
        return [self._with_trace(Response.model_validate(item)) for item in data.get("data", [])]

    def input_items(self, response_id: str, limit: int, order: str) -> list[InputItem]:
        query = {"limit": min(limit, 100), "order": order}
        path = f"/responses/{_segment(response_id, ResponseNotFound)}/input_items"
        data = self._json("get", path, query=query, response_id=response_id)
        items = [InputItem.model_validate(item) for item in data.get("data", [])]
        return [item for item in items if item.id != FALLBACK_MESSAGE_ID]

    def delete_response(self, response_id: str) -> DeletedObject:
        self._json("delete", f"/responses/{_segment(response_id, ResponseNotFound)}", response_id=response_id)
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


def translate(exc: Exception, base_url: str, **context: Any) -> Exception:
    """An SDK exception → the llamabook error a user can act on."""
    import openai

    if (miss := cassette_miss(exc)) is not None:
        return miss
    if isinstance(exc, openai.APIConnectionError):
        return EngineUnavailable(f"Could not reach the Llama Stack server at {base_url}: is it running? ({type(exc).__name__})")
    status = getattr(exc, "status_code", None) or _status_from_body(exc)
    return typed_error(error_message(exc), status, base_url, **context)


def typed_error(message: str, status: int | None, base_url: str, **context: Any) -> Exception:
    """A server's error message and status → the typed error (both servers' wordings)."""
    prompt_id = context.get("prompt_id")
    if _STALE.search(message) and prompt_id:
        given = _GIVEN.search(message)
        latest = _LATEST.search(message)
        number = next((g for g in given.groups() if g), None) if given else None
        return VersionConflict(prompt_id, int(number) if number else -1, int(latest.group(1)) if latest else -1)
    if "undeclared variables" in message:
        listed = _UNDECLARED.search(message)
        names = re.findall(r"'(\w+)'", listed.group(1) if listed else message.split("undeclared variables", 1)[1])
        return UndeclaredVariables(names)
    if "Variable not defined in prompt" in message:
        name = message.split("prompt.variables':", 1)[-1].split(".", 1)[0].strip()
        return UnknownVariables([name])
    if "not found" in message.lower():
        if message.startswith("Prompt"):
            if _NO_VERSION.search(message):
                return VersionNotFound(f"{message}; see prompts.versions()")
            return PromptNotFound(f"{message}; see client.prompts.list()")
        if message.startswith("File") or context.get("file_id"):
            return FileNotFound(message)
        if message.startswith("Response") or context.get("response_id"):
            return ResponseNotFound(message)
        if message.startswith("Model"):
            return ModelNotFound(message)
    if status == 413:
        return InvalidRequest(message)
    if status in (400, 422):
        return InvalidRequest(f"The server rejected the request: {message}")
    return EngineError(f"{base_url} answered {status or 'an error'}: {message}", status_code=status)


def stream_error(event: dict[str, Any], base_url: str, **context: Any) -> Exception:
    """The typed error of an ``{"type": "error", "code", "message"}`` event inside a 200 stream (OGX)."""
    code = str(event.get("code") or "")
    message = str(event.get("message") or "an error event in the stream")
    return typed_error(message, int(code) if code.isdigit() else None, base_url, **context)


def cassette_miss(exc: Exception) -> CassetteMiss | None:
    """The cassette's miss, when the answer came from the cassette transport rather than a server."""
    from .cassette_transport import MISS_HEADER

    response = getattr(exc, "response", None)
    if response is None or not response.headers.get(MISS_HEADER):
        return None
    body = getattr(exc, "body", None) or {}
    body = body.get("error", body) if isinstance(body, dict) else {}
    return CassetteMiss(str(body.get("cassette")), str(body.get("summary")), body.get("hint"))


def error_message(exc: Exception) -> str:
    """The message from either error body shape (``{"error": {"message"}}`` or ``{"detail"}``)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            for key in ("message", "detail"):
                if inner.get(key):
                    return str(inner[key])
        if body.get("detail"):
            return str(body["detail"])
    return str(getattr(exc, "message", None) or exc)


def _status_from_body(exc: Exception) -> int | None:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and str(body.get("code", "")).isdigit():
        return int(body["code"])
    return None
