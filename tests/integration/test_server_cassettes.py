"""Cassettes on a real Llama Stack 0.7.3 server: a session recorded once (prompts, a file, plain, streamed
and PDF responses, a grid, lists, typed errors) replays with no server, against a port where nothing
listens; ``record="new"`` on the server refuses ids only the cassette knows. The embedded side:
tests/unit/test_cassette.py.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import llamabook as lb
from llamabook.cassette import forget
from support.cassettes import lines
from support.servers import Server

SERVER_MODEL = "llamacpp/smollm2"
ACCEPTS = {SERVER_MODEL: ["text"]}
DATA = Path(__file__).parent.parent / "data"


def closed_port_url() -> str:
    """A loopback URL where nothing listens: any request that reached the network would fail."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# ---- a real Llama Stack server -------------------------------------------------------------------


def server_session(client: lb.Client) -> dict[str, Any]:
    """Prompts, a file, responses (plain, streamed, with a PDF), a grid, lists and typed errors."""
    p = client.prompts.create("You are a {{tone}} tutor.", variables=["tone"])
    first = client.prompts.retrieve(p.prompt_id)
    p2 = client.prompts.update(p.prompt_id, prompt="You are a {{tone}} tutor. Be brief.", version=1, variables=["tone"])
    second = client.prompts.retrieve(p.prompt_id)  # the same GET as `first`, a different answer
    f = client.files.create(DATA / "invoice.pdf")
    doc = client.prompts.create("Answer about the invoice {{invoice}} in one sentence.", variables=["invoice"])
    plain = client.responses.create(input="Who is billed?", prompt=doc, variables={"invoice": f},
                                    temperature=0, max_output_tokens=24)  # fmt: skip
    stream = client.responses.create(input="Name two colours.", temperature=0, max_output_tokens=16, stream=True)
    events = [[e.type, getattr(e, "delta", None)] for e in stream]
    grid = client.grid(p2, [{"tone": "kind"}, {"tone": "stern"}], input="Hi.", temperature=0,
                       max_output_tokens=16, concurrency=1, progress=False)  # fmt: skip
    # Repeats on a server: the same request twice (the Responses API has no seed), replayed in order.
    repeated = client.grid(p2, [{"tone": "calm"}], input="Hi.", repeats=2, temperature=1.0, max_output_tokens=16,
                           concurrency=1, progress=False)  # fmt: skip
    with pytest.raises(lb.InvalidRequest, match="takes no seed"):
        client.responses.create(input="Hi.", seed=1)
    errors = []
    for bad in (lambda: client.prompts.retrieve("pmpt_" + "0" * 48), lambda: client.files.retrieve("file-" + "0" * 32)):
        with pytest.raises(lb.LlamabookError) as caught:
            bad()
        errors.append(type(caught.value).__name__)
    return {
        "ids": [p.prompt_id, f.id, doc.prompt_id, plain.id, stream.response.id, *grid["response_id"]],
        "versions": [first.version, second.version, first.prompt, second.prompt],
        "plain": [plain.output_text, plain.status, plain.rendered_messages],
        "events": events,
        "grid": grid[["tone", "output_text", "status", "error"]].values.tolist(),
        "repeats": repeated[["repeat", "output_text", "status", "error"]].values.tolist(),
        "listed": [r.id for r in client.responses.list(order="asc")],
        "retrieved": client.responses.retrieve(plain.id).rendered_messages,  # with the trace kept in the home
        "models": [m.id for m in client.models.list()],
        "errors": errors,
    }


@pytest.fixture(scope="module")
def recorded_server_session(
    tmp_path_factory: pytest.TempPathFactory, llama_stack_server: Server
) -> Iterator[tuple[Path, dict]]:
    work = tmp_path_factory.mktemp("server-cassette")
    cassette = work / "server.jsonl"
    with lb.Client(work / "home", base_url=llama_stack_server.url, model_accepts=ACCEPTS,
                   cassette=cassette, record="all") as client:  # fmt: skip
        result = json.loads(json.dumps(server_session(client), default=str))
    forget(cassette)
    yield cassette, result
    with lb.Client(work / "cleanup", base_url=llama_stack_server.url) as client:  # the server is shared
        client.files.delete(result["ids"][1])


def test_a_llama_stack_session_replays_with_no_server_ids_included(
    recorded_server_session: tuple[Path, dict], tmp_path: Path
) -> None:
    cassette, recorded = recorded_server_session
    assert [row[2] for row in recorded["grid"]] == ["completed", "completed"], recorded["grid"]
    assert [row[0] for row in recorded["repeats"]] == [0, 1] and {row[2] for row in recorded["repeats"]} <= {"completed", "incomplete"}, recorded["repeats"]
    assert recorded["versions"][:2] == [1, 2] and recorded["errors"] == ["PromptNotFound", "FileNotFound"]
    assert recorded["plain"][1] == "completed" and recorded["events"][-1][0] == "response.completed"
    nowhere = closed_port_url()
    with lb.Client(tmp_path / "fresh", base_url=nowhere, model_accepts=ACCEPTS, cassette=cassette, record="none") as c:
        replayed = json.loads(json.dumps(server_session(c), default=str))
    assert replayed == recorded
    assert recorded["retrieved"] == recorded["plain"][2] and "invoice" in json.dumps(recorded["retrieved"])
    uploads = [e for e in lines(cassette) if e.get("request", {}).get("path") == "/v1/files" and e["request"]["method"] == "POST"]
    assert len(uploads) == 1
    part = next(p for p in uploads[0]["request"]["multipart"] if p.get("filename"))
    assert (part["filename"], part["bytes"]) == ("invoice.pdf", (DATA / "invoice.pdf").stat().st_size)


def test_new_mode_on_a_server_refuses_ids_only_the_cassette_knows(
    recorded_server_session: tuple[Path, dict], tmp_path: Path, llama_stack_server: Server
) -> None:
    cassette, recorded = recorded_server_session
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(cassette.read_bytes())
    with lb.Client(tmp_path / "home", base_url=llama_stack_server.url, model_accepts=ACCEPTS,
                   cassette=copy, record="new") as client:  # fmt: skip
        p = client.prompts.create("You are a {{tone}} tutor.", variables=["tone"])  # replayed
        assert p.prompt_id == recorded["ids"][0]
        with pytest.raises(lb.CassetteMiss) as caught:
            client.prompts.update(p.prompt_id, prompt="Something new {{tone}}", version=2, variables=["tone"])
        fresh = client.prompts.create("A prompt never recorded {{x}}.", variables=["x"])  # goes live
    assert p.prompt_id in str(caught.value) and "record='all'" in str(caught.value)
    assert fresh.prompt_id != p.prompt_id
    assert any(e.get("request", {}).get("json", {}).get("prompt") == "A prompt never recorded {{x}}." for e in lines(copy))
