"""The HTTP backend's cassette: a transport under the ``openai`` SDK that records or replays.

Every exchange with the server goes through it: prompts, files, responses, streams. A
request is matched on its method, path, query and body (JSON compared by value, a
multipart upload by its fields and the SHA-256 of each file), never on the host, headers
or the multipart boundary, so a cassette recorded against one server replays against any
URL, or none. Request headers are never stored; of a response only its status, content
type and body are. Replayed ids are the ones the server issued when it was recorded. A replayed
response carries the header ``x-llamabook-replayed: 1`` (made here, never recorded), so a response
made from it is marked ``replayed`` and shows no latency.

What ``"new"`` means on a server: a request that is recorded replays; one that is not is sent
live and recorded, unless it names an id that only the cassette knows (one a replayed answer
carried this session). The live server never issued that id, so instead of a confusing
"not found" from it the request raises :class:`~llamabook.CassetteMiss`, before anything is
sent, saying to record the session again with ``record="all"``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from .._lazy import load
from ..cassette import REPLAYED_HEADER, Recorder, summarize
from ..error_translation import CASSETTE_MISS_HEADER as MISS_HEADER

_ID = re.compile(r"^[A-Za-z]+[-_][A-Za-z0-9_-]{6,}$")


def httpx_module() -> Any:
    """The httpx flavour the installed ``openai`` SDK is built on (``httpx`` or ``httpx2``)."""
    openai = load("openai")
    base = next(c for c in openai.DefaultHttpxClient.__mro__[1:] if c.__name__ == "Client")
    return load(base.__module__.split(".")[0])


def recording_http_client(recorder: Recorder, **client_options: Any) -> Any:
    """An SDK HTTP client (``openai.DefaultHttpxClient``) whose transport is the cassette."""
    httpx = httpx_module()
    return load("openai").DefaultHttpxClient(transport=CassetteTransport(recorder, httpx.HTTPTransport()), **client_options)


class CassetteTransport:
    """An httpx transport: answers from the cassette, else from ``inner`` (and records that)."""

    def __init__(self, recorder: Recorder, inner: Any) -> None:
        self.recorder = recorder
        self.inner = inner
        self._httpx = httpx_module()
        self._replayed_ids: set[str] = set()
        self._lock = threading.Lock()

    def handle_request(self, request: Any) -> Any:
        material = describe_request(request)
        recorded = self.recorder.play("http", material, repeatable=request.method == "GET")
        if recorded is not None:
            self._remember_ids(recorded)
            return self._replay(recorded, request)
        summary = _summary(request.method, material)
        if self.recorder.mode == "none":
            return self._miss(request, self.recorder.miss(summary))
        foreign = self._cassette_only_ids(material)
        if foreign:
            hint = (
                f"It names {', '.join(sorted(foreign))}, which came from the cassette: the server it was "
                "recorded against issued it, this one never did. Record the whole session again with "
                "record='all' (or $LLAMABOOK_RECORD=all)."
            )
            return self._miss(request, self.recorder.miss(summary, hint))
        request.headers["accept-encoding"] = "identity"  # record the body as the SDK reads it
        response = self.inner.handle_request(request)

        def finished(body: bytes) -> None:
            self.recorder.record("http", material, material, describe_response(response, body))

        return self._httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_tee_type()(response.stream, finished),
            extensions=response.extensions,
            request=request,
        )

    def close(self) -> None:
        self.inner.close()

    # ---- replay ----------------------------------------------------------------------------
    def _replay(self, recorded: dict[str, Any], request: Any) -> Any:
        headers = {"content-type": recorded.get("content_type") or "application/json", REPLAYED_HEADER: "1"}
        return self._httpx.Response(
            status_code=recorded["status"], headers=headers, content=response_body(recorded), request=request
        )

    def _miss(self, request: Any, miss: Any) -> Any:
        # A response, not an exception: the SDK would retry an exception as a connection error.
        body = {"error": {"message": str(miss), "cassette": miss.cassette, "summary": miss.summary, "hint": miss.hint}}
        headers = {"content-type": "application/json", "x-should-retry": "false", MISS_HEADER: "1"}
        return self._httpx.Response(status_code=400, headers=headers, content=json.dumps(body).encode(), request=request)

    # ---- ids only the cassette knows --------------------------------------------------------
    def _remember_ids(self, recorded: dict[str, Any]) -> None:
        found: set[str] = set()
        if "json" in recorded:
            _collect_ids(recorded["json"], found)
        for block in recorded.get("sse", []):
            for line in block.splitlines():
                if line.startswith("data:"):
                    try:
                        _collect_ids(json.loads(line[5:]), found)
                    except json.JSONDecodeError:
                        pass
        with self._lock:
            self._replayed_ids |= found

    def _cassette_only_ids(self, material: dict[str, Any]) -> set[str]:
        with self._lock:
            if not self._replayed_ids:
                return set()
            named = set(material["path"].split("/"))
            _collect_strings(material.get("json"), named)
            _collect_strings(material.get("query"), named)
            return named & self._replayed_ids


@functools.cache
def _tee_type() -> type:
    """A response byte stream of the SDK's httpx flavour that hands the whole body to
    ``finished`` once it was read to the end (a stream stopped early is not recorded)."""
    httpx = httpx_module()

    class Tee(httpx.SyncByteStream):  # type: ignore[misc, name-defined]
        def __init__(self, inner: Any, finished: Any) -> None:
            self._inner = inner
            self._finished = finished
            self._chunks: list[bytes] = []

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self._inner:
                self._chunks.append(chunk)
                yield chunk
            self._finished(b"".join(self._chunks))

        def close(self) -> None:
            self._inner.close()

    return Tee


# ---- requests and responses as cassette entries -------------------------------------------------
def describe_request(request: Any) -> dict[str, Any]:
    """What a request is matched on; also how it is shown in the cassette."""
    described: dict[str, Any] = {"method": request.method, "path": request.url.path}
    query = sorted(parse_qsl(request.url.query.decode() if isinstance(request.url.query, bytes) else request.url.query))
    if query:
        described["query"] = [list(pair) for pair in query]
    body = request.read()
    if not body:
        return described
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        try:
            described["json"] = json.loads(body)
            return described
        except ValueError:
            pass
    if content_type.startswith("multipart/form-data"):
        described["multipart"] = _multipart(content_type, body)
        return described
    described["body"] = {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
    return described


def _multipart(content_type: str, body: bytes) -> list[dict[str, Any]]:
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    parts = []
    for part in message.iter_parts():
        data = part.get_payload(decode=True) or b""
        entry: dict[str, Any] = {"name": part.get_param("name", header="content-disposition")}
        filename = part.get_filename()
        if filename is None:
            entry["value"] = data.decode("utf-8", "replace")
        else:
            entry.update(filename=filename, sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
        parts.append(entry)
    return parts


def describe_response(response: Any, body: bytes) -> dict[str, Any]:
    """A response as the cassette keeps it: status, content type and a readable body."""
    content_type = response.headers.get("content-type", "")
    described: dict[str, Any] = {"status": response.status_code, "content_type": content_type}
    if content_type.startswith("text/event-stream"):
        text = body.decode("utf-8").replace("\r\n", "\n")
        described["sse"] = [block for block in text.split("\n\n") if block.strip()]
    elif "json" in content_type:
        try:
            described["json"] = json.loads(body) if body else None
        except ValueError:
            described["text"] = body.decode("utf-8", "replace")
    elif content_type.startswith("text/"):
        described["text"] = body.decode("utf-8", "replace")
    else:
        described["base64"] = base64.b64encode(body).decode()
    return described


def response_body(recorded: dict[str, Any]) -> bytes:
    """The bytes of a recorded body, as the SDK reads them."""
    if "sse" in recorded:
        return "".join(block + "\n\n" for block in recorded["sse"]).encode()
    if "json" in recorded:
        return b"" if recorded["json"] is None else json.dumps(recorded["json"]).encode()
    if "text" in recorded:
        return recorded["text"].encode()
    return base64.b64decode(recorded.get("base64", ""))


def _summary(method: str, material: dict[str, Any]) -> str:
    summary = f"{method} {material['path']}"
    body = material.get("json")
    if isinstance(body, dict):
        if body.get("model"):
            summary += f" for model {body['model']!r}"
        text = body.get("input") if isinstance(body.get("input"), str) else body.get("prompt")
        if isinstance(text, str) and text:
            summary += f" with {summarize(text)}"
    return summary


def _collect_ids(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and (key == "id" or key.endswith("_id")) and _ID.match(item):
                found.add(item)
            else:
                _collect_ids(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_ids(item, found)


def _collect_strings(value: Any, found: set[str]) -> None:
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_strings(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_strings(item, found)
