"""The HTTP backend's cassette transport, against a stand-in server (``httpx.MockTransport``): no server needed.

A whole session recorded from a real Llama Stack server and replayed where nothing listens:
tests/integration/test_server_cassettes.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import llamabook as lb
from llamabook import views
from llamabook.backends import cassette_transport
from llamabook.cassette import REPLAYED_HEADER, forget, replayed_http
from support.cassettes import lines

MODEL = "stand-in-model"
BASE_URL = "http://llama.test:8321"


def _response(status: str, text: str = "") -> dict[str, Any]:
    output = [] if not text else [{
        "type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    }]  # fmt: skip
    usage = None if status != "completed" else {
        "input_tokens": 5, "output_tokens": 2, "total_tokens": 7,
        "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0},
    }  # fmt: skip
    return {"id": "resp_standin1", "object": "response", "created_at": 1_700_000_000, "status": status,
            "model": MODEL, "output": output, "usage": usage, "text": {"format": {"type": "text"}}}  # fmt: skip


class StandIn:
    """Just enough of a Responses server for one streamed answer: models, the stream, the stored response."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def __call__(self, request: Any) -> Any:
        httpx = cassette_transport.httpx_module()
        self.requests.append(f"{request.method} {request.url.path}")
        path = request.url.path
        if path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": MODEL, "object": "model", "owned_by": "stand-in"}]})
        if path == "/v1/responses" and request.method == "POST":
            events = [
                {"type": "response.created", "sequence_number": 0, "response": _response("in_progress")},
                {"type": "response.output_text.delta", "sequence_number": 1, "item_id": "msg_1", "output_index": 0,
                 "content_index": 0, "delta": "Dublin."},
                {"type": "response.completed", "sequence_number": 2, "response": _response("completed", "Dublin.")},
            ]  # fmt: skip
            body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())
        if path == "/v1/responses/resp_standin1":
            return httpx.Response(200, json=_response("completed", "Dublin."))
        return httpx.Response(404, json={"detail": f"{path} not found"})


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    """The cassette transport's live side is ``StandIn`` instead of the network."""
    openai = pytest.importorskip("openai")
    server = StandIn()

    def client(recorder: Any, **options: Any) -> Any:
        transport = cassette_transport.CassetteTransport(recorder, cassette_transport.httpx_module().MockTransport(server))
        return openai.DefaultHttpxClient(transport=transport, **options)

    monkeypatch.setattr(cassette_transport, "recording_http_client", client)
    yield server


def test_an_answer_replayed_over_http_says_so_and_has_no_latency(tmp_path: Path, stand_in: StandIn) -> None:
    cassette = tmp_path / "server.jsonl"
    with lb.Client(tmp_path / "a", base_url=BASE_URL, cassette=cassette, record="new", prompts="local") as client:
        live = client.responses.create(input="Capital of Ireland?", model=MODEL)
        stream = client.responses.create(input="Capital of Ireland?", model=MODEL, stream=True)  # recorded again
        streamed = stream.until_done()
        assert client.responses.retrieve(live.id).replayed is False  # (recorded, for the replay below)
    assert live.output_text == "Dublin." and (live.replayed, streamed.replayed) == (False, False)
    assert live.latency_s is not None and streamed.latency_s is not None
    assert not any(REPLAYED_HEADER in json.dumps(entry) for entry in lines(cassette))  # never recorded

    sent = len(stand_in.requests)
    forget(cassette)
    with lb.Client(tmp_path / "b", base_url=BASE_URL, cassette=cassette, record="none", prompts="local") as client:
        plain = client.responses.create(input="Capital of Ireland?", model=MODEL)
        stream = client.responses.create(input="Capital of Ireland?", model=MODEL, stream=True)
        events = list(stream)
        kept = client.responses.retrieve(plain.id)  # the server's copy (replayed too), with what the home kept
    assert len(stand_in.requests) == sent  # the stand-in was never asked
    for answer in (plain, stream.response, kept):
        assert answer is not None and answer.output_text == "Dublin."
        assert answer.replayed is True and answer.latency_s is None
        assert views.summary_line(answer).endswith(" · replayed")
        assert "replayed" not in answer.model_dump()
    assert all(e.response.replayed for e in events if hasattr(e, "response"))


def test_only_a_response_from_the_cassette_carries_the_header() -> None:
    httpx = cassette_transport.httpx_module()
    assert replayed_http(httpx.Response(200, headers={REPLAYED_HEADER: "1"}))
    assert not replayed_http(httpx.Response(200)) and not replayed_http(object())

    class Stream:  # the SDK's stream holds its HTTP response as .response
        response = httpx.Response(200, headers={REPLAYED_HEADER: "1"})

    assert replayed_http(Stream())
