"""A loopback proxy in front of a real Llama Stack / OGX server that gives chosen batches a *fate*.

Everything is forwarded to the real server (prompts, files, models, batches: the batches really
run there); only ``GET /v1/batches/{id}`` of a batch created while a fate was queued is answered
as that fate says, for the states a real server can't be brought to on cue:

================  ===================================================================================
``frozen``        ``in_progress``, no request done, forever (a batch a restarted server abandoned)
``creeping``      ``in_progress``, one more request done at each look up to all but one (a slow batch)
``cancelling``    ``cancelling`` forever (a cancel the server can no longer carry out)
``cancelled``     ``cancelled`` / ``expired``: no output or error file
``expired``
``failed``        ``failed`` with a reason whose text holds a server traceback
``gone``          404, as from a server whose batch state was wiped
================  ===================================================================================

``proxy.fates`` is consumed in order, one fate per ``POST /v1/batches``; ``proxy.looks[batch_id]``
counts the retrieves of a fated batch.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

#: hop-by-hop headers, and the length (the proxy sends its own)
DROPPED = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
FAILURE = 'worker crashed\nTraceback (most recent call last):\n  File "/srv/ogx/batches.py", line 541, in run\nRuntimeError: x'
RETRIEVE = re.compile(r"^/v1/batches/([A-Za-z0-9_-]+)$")


class BatchFaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.fates: list[str] = []
        self.fated: dict[str, str] = {}
        self.looks: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> BatchFaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            answer = connection.getresponse()
            return answer.status, [(k, v) for k, v in answer.getheaders() if k.lower() not in DROPPED], answer.read()
        finally:
            connection.close()

    def created(self, batch: dict[str, Any]) -> None:
        """A batch was created: it takes the next queued fate, if any."""
        with self._lock:
            if self.fates:
                self.fated[batch["id"]] = self.fates.pop(0)

    def retrieved(self, batch_id: str, status: int, body: bytes) -> tuple[int, bytes]:
        """The answer to a retrieve of ``batch_id``: the server's, or its fate's."""
        fate = self.fated.get(batch_id)
        if fate is None or status != 200:
            return status, body
        with self._lock:
            self.looks[batch_id] += 1
            looks = self.looks[batch_id]
        if fate == "gone":
            return 404, json.dumps({"detail": f"Batch '{batch_id}' not found"}).encode()
        batch = json.loads(body)
        total = (batch.get("request_counts") or {}).get("total") or 3
        done = {"frozen": 0, "creeping": min(looks, total - 1)}.get(fate, 0)
        batch.update(
            status={"frozen": "in_progress", "creeping": "in_progress"}.get(fate, fate),
            request_counts={"total": total, "completed": done, "failed": 0},
            output_file_id=None,
            error_file_id=None,
            errors={"data": [{"code": "internal_error", "message": FAILURE}]} if fate == "failed" else None,
        )
        return 200, json.dumps(batch).encode()


def _handler(proxy: BatchFaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in DROPPED}
            status, answer_headers, answer = proxy.forward(self.command, self.path, headers, body)
            path = self.path.split("?", 1)[0]
            if self.command == "POST" and path == "/v1/batches" and status == 200:
                proxy.created(json.loads(answer))
            elif self.command == "GET" and (match := RETRIEVE.match(path)):
                status, answer = proxy.retrieved(match.group(1), status, answer)
            self.send_response(status)
            for key, value in answer_headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = do_DELETE = _relay

    return Handler


__all__ = ["BatchFaultProxy"]
