"""A tiny OpenAI-compatible chat server that injects latency and faults on request.

Used only where a real server cannot be made to misbehave on cue: rate limits with
Retry-After, 500s, hangs (timeouts), fixed latency, and counting calls in flight. It speaks
just enough of ``/v1/models`` and streaming ``/v1/chat/completions`` for
:class:`~llamabook.OpenAICompatibleEngine`. Each request's *marker* is the last user or
system text (``"GET /models"`` for the model list); ``plan[marker]`` lists what to do on its
successive calls:

=====================================  ==============================================================
``("ok",)``                            answer normally (after ``latency_s``)
``("status", 429, retry_after)``       an error status, with a Retry-After header when given
``("hang", seconds)``                  wait before answering (a client timeout)
``("reset",)``                         close the connection before any answer
``("drop_body",)``                     send the headers and half the body, then close
``("drop_stream",)``                   send the headers and the first event, then close (mid-stream)
``("stall_stream", seconds)``          send the first event, then wait before the rest (a stalled stream)
=====================================  ==============================================================

``faults`` counts every step that was not ``("ok",)``: the faults actually injected.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "fake-model"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # the listen backlog: the default 5 drops connections under load

    def handle_error(self, request: Any, client_address: Any) -> None:  # a client hung up: expected here
        pass


class FaultServer:
    def __init__(self, latency_s: float = 0.0, tls: tuple[str, str] | None = None) -> None:
        """``tls=(certfile, keyfile)`` serves HTTPS."""
        self.latency_s = latency_s
        self.plan: dict[str, list[tuple[Any, ...]]] = {}
        self.calls: dict[str, list[float]] = defaultdict(list)
        self.in_flight = 0
        self.max_in_flight = 0
        self.faults = 0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._scheme = "http"
        if tls is not None:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        # A short poll interval: stop() returns within 50 ms instead of 0.5 s.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def total_calls(self) -> int:
        with self._lock:
            return sum(len(v) for v in self.calls.values())

    def next_action(self, marker: str) -> tuple[Any, ...]:
        with self._lock:
            self.calls[marker].append(time.monotonic())
            steps = self.plan.get(marker)
            action = steps.pop(0) if steps else ("ok",)
            self.faults += action[0] != "ok"
            return action

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _marker(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages", [])):
        content = message.get("content")
        if isinstance(content, str) and content:
            return content
    return ""


def _handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # as real servers do; else small writes wait on delayed ACKs

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _drop(self) -> None:
            """Hang up now: the client sees the connection end wherever the answer was."""
            self.close_connection = True
            self.wfile.flush()
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def do_GET(self) -> None:
            if self.path.endswith("/stats"):
                self._json(200, {"calls": server.total_calls(), "max_in_flight": server.max_in_flight})
                return
            listing = {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "test"}]}
            action = server.next_action("GET /models") if "GET /models" in server.plan else ("ok",)
            if action[0] == "status":
                headers = {"Retry-After": str(action[2])} if len(action) > 2 else {}
                self._json(action[1], {"error": {"message": f"injected {action[1]}"}}, headers)
            elif action[0] == "reset":
                self._drop()
            elif action[0] == "drop_body":
                data = json.dumps(listing).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self._drop()
            else:
                if action[0] == "hang":
                    time.sleep(action[1])
                self._json(200, listing)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            marker = _marker(body)
            server.enter()
            # A call stops counting as in flight just before its last bytes go out: once the
            # client has them it may start its next call before this thread runs again.
            action = server.next_action(marker)
            if action[0] == "status":
                headers = {"Retry-After": str(action[2])} if len(action) > 2 else {}
                server.leave()
                self._json(action[1], {"error": {"message": f"injected {action[1]}"}}, headers)
                return
            if action[0] == "reset":
                server.leave()
                self._drop()
                return
            if action[0] == "hang":
                time.sleep(action[1])
            time.sleep(server.latency_s)
            self._stream(f"echo: {marker}", action)

        def _stream(self, text: str, action: tuple[Any, ...] = ("ok",)) -> None:
            # Chunked and kept alive, as uvicorn-based servers (llama-cpp, vLLM, Llama Stack) answer.
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}]},
                      {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                      {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}]
            events = [
                f"data: {json.dumps({'id': 'chatcmpl-1', 'object': 'chat.completion.chunk', 'created': 0, 'model': MODEL, **chunk})}\n\n".encode()
                for chunk in chunks
            ]
            if action[0] in ("drop_stream", "stall_stream"):
                first = events.pop(0)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(first), first))
                self.wfile.flush()
                if action[0] == "drop_stream":
                    server.leave()
                    self._drop()
                    return
                time.sleep(action[1])
            body = b"".join(events) + b"data: [DONE]\n\n"
            server.leave()
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
            self.wfile.flush()

    return Handler


if __name__ == "__main__":  # run it in its own process: python tests/support/faultserver.py LATENCY_S
    import sys

    standalone = FaultServer(latency_s=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0).start()
    print(standalone.url, flush=True)
    threading.Event().wait()
