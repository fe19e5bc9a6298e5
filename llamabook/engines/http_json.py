"""A small JSON + server-sent-events HTTP client for OpenAI-compatible servers.

Built on the standard library's ``http.client`` with one keep-alive connection per thread, so
a grid of thousands of short calls spends its time waiting on the server, not building
requests: a call costs a fraction of a millisecond of client CPU. Proxies from the usual
environment variables (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``) are honoured.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

from .._version import __version__
from ..error_translation import ConnectError, HTTPStatusError, ReadTimeout, StreamError, TLSError
from ..errors import retryable_status


class JSONClient:
    """JSON requests and SSE streams against one base URL."""

    def __init__(self, base_url: str, api_key: str | None, *, timeout: float, max_retries: int) -> None:
        parts = urllib.parse.urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self.timeout = timeout
        self.max_retries = max_retries
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"llamabook/{__version__}",
        }
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._local = threading.local()
        self._proxy = _proxy_for(base_url)
        self._ssl = ssl.create_default_context() if self._https else None

    def get(self, path: str) -> Any:
        """GET a JSON document."""
        return self._with_retries(lambda: self._json(self._request("GET", path, None)))

    def post(self, path: str, body: dict[str, Any], *, timeout: float | None = None, retries: int | None = None) -> Any:
        """POST JSON, return the JSON answer."""
        data = json.dumps(body).encode()
        return self._with_retries(lambda: self._json(self._request("POST", path, data, timeout=timeout)), retries)

    def stream(self, path: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """POST JSON and yield each server-sent event's JSON payload until ``[DONE]``.

        The connection is opened (and retried) before this returns, so an unreachable server
        or an error status raises here, not on the first iteration.
        """
        data = json.dumps(body).encode()
        answer = self._with_retries(lambda: self._checked(self._request("POST", path, data, stream=True)))
        return self._events(answer, self._connection())

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- internals --------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._proxy is not None:
                proxy_host, proxy_port = self._proxy
                conn = self._new(proxy_host, proxy_port)
                if self._https:
                    conn.set_tunnel(self._host, self._port)
            else:
                conn = self._new(self._host, self._port)
            self._local.conn = conn
        return conn

    def _new(self, host: str, port: int) -> http.client.HTTPConnection:
        if self._https:
            return _HTTPSConnection(host, port, timeout=self.timeout, context=self._ssl)
        return _HTTPConnection(host, port, timeout=self.timeout)

    def _request(
        self, method: str, path: str, data: bytes | None, *, stream: bool = False, timeout: float | None = None
    ) -> http.client.HTTPResponse:
        target = self._prefix + path
        if self._proxy is not None and not self._https:
            target = self._origin + target  # a plain-HTTP proxy wants the absolute URL
        headers = dict(self._headers)
        if stream:
            headers["Accept"] = "text/event-stream"
        # A kept-alive connection the server has since closed fails on first use: reconnect once.
        for fresh in (False, True):
            conn = self._connection()
            reused = conn.sock is not None
            try:
                conn.timeout = timeout or self.timeout
                if conn.sock is not None:
                    conn.sock.settimeout(conn.timeout)
                conn.request(method, target, body=data, headers=headers)
                return conn.getresponse()
            except (socket.timeout, TimeoutError) as exc:
                self.close()
                raise ReadTimeout(f"no answer within {conn.timeout:g} s") from exc
            except ssl.SSLError as exc:
                self.close()
                raise TLSError(str(exc)) from exc
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self.close()
                if reused and not fresh:
                    continue
                raise ConnectError(f"{type(exc).__name__}: {exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise ConnectError(f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    def _checked(self, answer: http.client.HTTPResponse) -> http.client.HTTPResponse:
        if answer.status >= 400:
            raw = self._read(answer)
            raise HTTPStatusError(answer.status, _decode(raw), answer.headers)
        return answer

    def _json(self, answer: http.client.HTTPResponse) -> Any:
        self._checked(answer)
        return _decode(self._read(answer))

    def _read(self, answer: http.client.HTTPResponse) -> bytes:
        try:
            return answer.read()
        except (socket.timeout, TimeoutError) as exc:
            self.close()
            raise ReadTimeout(f"the answer did not finish within {self.timeout:g} s") from exc
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise ConnectError(f"the connection broke mid-answer ({type(exc).__name__})") from exc

    def _events(self, answer: http.client.HTTPResponse, conn: http.client.HTTPConnection) -> Iterator[dict[str, Any]]:
        # ``conn`` is closed directly: the stream may be closed from another thread (a Stop button).
        finished = False
        try:
            data: list[str] = []
            while True:
                try:
                    line = answer.readline()
                except (socket.timeout, TimeoutError) as exc:
                    raise ReadTimeout(f"the stream stalled for {self.timeout:g} s") from exc
                except (OSError, http.client.HTTPException) as exc:
                    raise ConnectError(f"the connection broke mid-stream ({type(exc).__name__})") from exc
                if not line:
                    raise ConnectError("the stream ended before [DONE]")
                text = line.decode("utf-8").rstrip("\r\n")
                if text.startswith("data:"):
                    data.append(text[5:].lstrip(" "))
                    continue
                if text or not data:
                    continue  # comments, event names, ids; or a blank line with no data
                payload = "\n".join(data)
                data = []
                if payload == "[DONE]":
                    finished = True
                    break
                event = _decode(payload.encode())
                if isinstance(event, dict) and event.get("error"):
                    error = event["error"]
                    message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
                    raise StreamError(message, error if isinstance(error, dict) else None)
                if isinstance(event, dict):
                    yield event
            answer.read()  # drain the chunked trailer so the connection can be reused
        finally:
            if not finished:
                answer.close()
                conn.close()

    def _with_retries(self, attempt: Any, retries: int | None = None) -> Any:
        allowed = self.max_retries if retries is None else retries
        for number in range(allowed + 1):
            try:
                return attempt()
            except HTTPStatusError as exc:
                if not retryable_status(exc.status) or number == allowed:
                    raise
                wait = exc.retry_after
            except TLSError:
                raise  # another attempt would meet the same certificate
            except (ConnectError, ReadTimeout):
                if number == allowed:
                    raise
                wait = None
            time.sleep(wait if wait is not None and wait <= 60 else min(8.0, 0.5 * 2**number) * random.uniform(0.75, 1.0))
        raise AssertionError("unreachable")


class _OneWrite:
    """Send a request's head and body in one write, with TCP_NODELAY.

    http.client writes them separately: without NODELAY the body can wait ~40 ms for the
    server's delayed ACK, and with it that is still two system calls and two packets per call.
    ``_send_output`` is http.client's internal hook; it has had this shape since Python 3.6.
    """

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[attr-defined]

    def _send_output(self, message_body: Any = None, encode_chunked: bool = False) -> None:
        if isinstance(message_body, bytes) and not encode_chunked:
            self._buffer.extend((b"", b""))  # type: ignore[attr-defined]
            head = b"\r\n".join(self._buffer)  # type: ignore[attr-defined]
            del self._buffer[:]  # type: ignore[attr-defined]
            self.send(head + message_body)  # type: ignore[attr-defined]
            return
        super()._send_output(message_body, encode_chunked)  # type: ignore[misc]


class _HTTPConnection(_OneWrite, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_OneWrite, http.client.HTTPSConnection):
    pass


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _proxy_for(url: str) -> tuple[str, int] | None:
    """The (host, port) of the proxy the environment sets for this URL, if any."""
    parts = urllib.parse.urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy:
        return None
    proxy_parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if not proxy_parts.hostname:
        return None
    return proxy_parts.hostname, proxy_parts.port or 80
