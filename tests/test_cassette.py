"""Cassettes: record model and server calls once, replay them with no model and no server.

The recordings are made with the real embedded model and a real Llama Stack 0.7.3 server;
the replays run in a fresh home, on the embedded side in another process that cannot import
``llama_cpp``, and on the server side against a port where nothing listens.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import llamabook as lb
from llamabook import magics
from llamabook.cassette import forget
from llamabook.engines.base import Generation
from llamabook.engines.embedded import EmbeddedEngine
from servers import Server

SERVER_MODEL = "llamacpp/smollm2"
ACCEPTS = {SERVER_MODEL: ["text"]}
DATA = Path(__file__).parent / "data"


def closed_port_url() -> str:
    """A loopback URL where nothing listens: any request that reached the network would fail."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class Counting:
    """The real engine, counting how often it is asked to generate."""

    def __init__(self, inner: EmbeddedEngine) -> None:
        self.inner, self.name, self.calls = inner, inner.name, 0

    def models(self) -> list[lb.Model]:
        return self.inner.models()

    def generate(self, model: str, messages: list[dict[str, Any]], options: Any) -> Generation:
        self.calls += 1
        return self.inner.generate(model, messages, options)


# ---- the embedded backend ------------------------------------------------------------------------

SESSION = """
import json, sys
import llamabook as lb

def session(client):
    p = client.prompts.create("You are a {{tone}} tutor.", variables=["tone"])
    plain = client.responses.create(input="What is the capital of Ireland?", prompt=p,
                                    variables={"tone": "kind"}, max_output_tokens=24)
    stream = client.responses.create(input="Name two colours.", max_output_tokens=16, stream=True)
    events = [[e.type, getattr(e, "delta", None)] for e in stream]
    grid = client.grid("Name the capital of {{country}}.", [{"country": "France"}, {"country": "Peru"}],
                       max_output_tokens=16, progress=False)
    return {
        "plain": [plain.output_text, plain.usage.input_tokens, plain.usage.output_tokens, plain.status],
        "events": events,
        "stream_usage": [stream.response.usage.input_tokens, stream.response.usage.output_tokens],
        "grid": grid[["country", "output_text", "status", "output_tokens"]].values.tolist(),
    }
"""

REPLAY = SESSION + """
sys.modules["llama_cpp"] = None          # importing it now raises ImportError
home, cassette = sys.argv[1], sys.argv[2]
with lb.Client(home, cassette=cassette, record="none") as client:
    result = session(client)
assert "llama_cpp" not in [m for m, v in sys.modules.items() if v is not None], "the replay loaded llama_cpp"
print(json.dumps(result))
"""


def test_a_session_recorded_here_replays_in_another_process_without_the_model(
    tmp_path: Path, engine: EmbeddedEngine
) -> None:
    cassette = tmp_path / "session.jsonl"
    namespace: dict[str, Any] = {}
    exec(SESSION, namespace)
    counting = Counting(engine)
    with lb.Client(tmp_path / "home", engine=counting, cassette=cassette, record="new") as client:
        recorded = json.loads(json.dumps(namespace["session"](client)))
        stats = client.cassette.cassette.stats
    assert counting.calls == 4  # plain, stream, two grid rows: all ran the model
    assert (stats.recorded, stats.replayed, stats.missed) == (5, 0, 0)
    kinds = [entry["kind"] for entry in lines(cassette)[1:]]
    assert kinds.count("generation") == 4 and kinds.count("models") == 1

    run = subprocess.run(
        [sys.executable, "-c", REPLAY, str(tmp_path / "fresh-home"), str(cassette)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    replayed = json.loads(run.stdout.strip().splitlines()[-1])
    assert replayed == recorded
    assert [t for t, _ in replayed["events"]][-1] == "response.completed"
    assert "".join(d for t, d in replayed["events"] if d) == "".join(d for t, d in recorded["events"] if d)


def test_a_miss_in_none_mode_is_typed_names_the_request_and_runs_nothing(tmp_path: Path, engine: EmbeddedEngine) -> None:
    counting = Counting(engine)
    cassette = tmp_path / "empty.jsonl"
    with lb.Client(tmp_path / "home", engine=counting, cassette=cassette, record="none") as client:
        with pytest.raises(lb.CassetteMiss) as caught:
            client.responses.create(input="A question nobody recorded, with a long tail of words", max_output_tokens=8)
        assert list(client.responses.list()) == []  # nothing was stored
        assert counting.calls == 0  # and the model never ran
    message = str(caught.value)
    assert str(cassette) in message and "smollm2-135m-instruct" in message
    assert "'A question nobody recorded, with a long tail of words'" in message
    assert "record='new'" in message
    assert not cassette.exists()  # a replay-only client writes nothing


def test_a_miss_in_a_grid_is_a_row_with_an_error(tmp_path: Path, engine: EmbeddedEngine) -> None:
    cassette = tmp_path / "grid.jsonl"
    with lb.Client(tmp_path / "a", engine=engine, cassette=cassette) as client:
        first = client.grid("Capital of {{c}}?", [{"c": "Spain"}], max_output_tokens=12, progress=False)
    with lb.Client(tmp_path / "b", engine=Counting(engine), cassette=cassette, record="none") as client:
        grid = client.grid("Capital of {{c}}?", [{"c": "Spain"}, {"c": "Chile"}], max_output_tokens=12, progress=False)
    assert grid["status"].tolist() == [first["status"][0], "failed"]
    assert grid["output_text"][0] == first["output_text"][0]
    assert grid["error"][1].startswith("CassetteMiss: ") and "'Capital of Chile?'" in grid["error"][1]
    assert grid["attempts"][1] == 1  # a miss is not retried


def test_identical_generations_replay_in_recorded_order_and_new_records_only_what_is_missing(
    tmp_path: Path, engine: EmbeddedEngine
) -> None:
    cassette = tmp_path / "order.jsonl"
    # Two recordings of the same request, edited so that their order is visible.
    with lb.Client(tmp_path / "a", engine=engine, cassette=cassette) as client:
        for _ in range(2):
            client.responses.create(input="Say one word.", max_output_tokens=4)
    entries = lines(cassette)
    generations = [e for e in entries if e.get("kind") == "generation"]
    assert len(generations) == 2 and generations[0]["key"] == generations[1]["key"]
    generations[0]["response"]["deltas"], generations[1]["response"]["deltas"] = ["first"], ["second"]
    cassette.write_text("".join(json.dumps(e) + "\n" for e in entries))
    forget(cassette)

    counting = Counting(engine)
    with lb.Client(tmp_path / "b", engine=counting, cassette=cassette, record="new") as client:
        texts = [client.responses.create(input="Say one word.", max_output_tokens=4).output_text for _ in range(3)]
    assert texts[:2] == ["first", "second"]
    assert counting.calls == 1 and texts[2] not in ("first", "second")  # the third ran live ...
    assert sum(e.get("kind") == "generation" for e in lines(cassette)) == 3  # ... and was appended
    forget(cassette)
    with lb.Client(tmp_path / "c", engine=Counting(engine), cassette=cassette, record="none") as client:
        again = [client.responses.create(input="Say one word.", max_output_tokens=4).output_text for _ in range(4)]
    assert again == [*texts, texts[2]]  # past the recording, "none" repeats the last answer


def test_all_mode_records_everything_again(tmp_path: Path, engine: EmbeddedEngine) -> None:
    cassette = tmp_path / "all.jsonl"
    with lb.Client(tmp_path / "a", engine=engine, cassette=cassette) as client:
        client.responses.create(input="Old question.", max_output_tokens=4)
    forget(cassette)
    counting = Counting(engine)
    with lb.Client(tmp_path / "b", engine=counting, cassette=cassette, record="all") as client:
        client.responses.create(input="New question.", max_output_tokens=4)
    assert counting.calls == 1
    shown = [e["request"]["messages"][-1]["content"] for e in lines(cassette) if e.get("kind") == "generation"]
    assert shown == ["New question."]
    assert lines(cassette)[0] == {"llamabook_cassette": 1}


def test_the_environment_chooses_the_cassette_and_overrides_the_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMABOOK_CASSETTE", str(tmp_path / "env.jsonl"))
    monkeypatch.setenv("LLAMABOOK_RECORD", "none")
    with lb.Client(tmp_path / "home", record="new") as client:
        assert client.cassette is not None
        assert (client.cassette.path, client.cassette.mode) == ((tmp_path / "env.jsonl").resolve(), "none")
        assert client.cassette.describe().endswith("(record=none, from $LLAMABOOK_RECORD)")
        with pytest.raises(lb.CassetteMiss):
            client.responses.create(input="hi")
    monkeypatch.setenv("LLAMABOOK_RECORD", "sometimes")
    with pytest.raises(lb.InvalidRequest, match=r"\$LLAMABOOK_RECORD must be one of 'new', 'none', 'all'"):
        lb.Client(tmp_path / "home")
    monkeypatch.delenv("LLAMABOOK_RECORD")
    with pytest.raises(lb.InvalidRequest, match="record= must be one of"):
        lb.Client(tmp_path / "home", record="replay")
    with pytest.raises(lb.InvalidRequest, match="is a folder"):
        lb.Client(tmp_path / "home", cassette=tmp_path)


def test_a_damaged_cassette_says_which_line(tmp_path: Path) -> None:
    cassette = tmp_path / "bad.jsonl"
    cassette.write_text('{"llamabook_cassette": 1}\n{"kind": "generation", oops\n')
    with pytest.raises(lb.InvalidRequest, match=r"bad.jsonl line 2 is not JSON"):
        lb.Client(tmp_path / "home", cassette=cassette)


def test_the_magics_switch_the_cassette_on_and_off(tmp_path: Path, ip: Any, engine: EmbeddedEngine) -> None:
    client = lb.Client(tmp_path / "home", engine=engine)
    magics.set_client(client)
    try:
        with capture_output() as on:
            ip.run_line_magic("llama", f"cassette {tmp_path / 'magic.jsonl'} --record none")
            ip.run_line_magic("llama", "config")
        assert f"llamabook: cassette {tmp_path / 'magic.jsonl'} (record=none)" in on.stdout
        assert f"cassette  {tmp_path / 'magic.jsonl'} (record=none)" in on.stdout
        cell = ip.run_cell("%%llama -i hello --max-tokens 4 --no-stream\nBe brief.")
        assert isinstance(cell.error_in_exec, UsageError) and "has no recording of" in str(cell.error_in_exec)
        with capture_output() as off:
            ip.run_line_magic("llama", "cassette off")
            ip.run_line_magic("llama", "config")
        assert "cassette  -" in off.stdout and client.cassette is None
        for bad in ("cassette", "cassette a.jsonl --record sometimes", "cassette off --record none", "cassette a b"):
            with pytest.raises(UsageError, match="%llama cassette"):
                ip.run_line_magic("llama", bad)
    finally:
        magics.set_client(None)
        client.close()


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


def test_the_async_client_replays_the_same_cassette(tmp_path: Path, engine: EmbeddedEngine) -> None:
    import asyncio

    cassette = tmp_path / "async.jsonl"
    with lb.Client(tmp_path / "a", engine=engine, cassette=cassette) as client:
        live = client.responses.create(input="Name a river.", max_output_tokens=12).output_text
    counting = Counting(engine)

    async def replay() -> tuple[str, str]:
        async with lb.AsyncClient(tmp_path / "b", engine=counting, cassette=cassette, record="none") as client:
            assert client.cassette is not None and client.cassette.mode == "none"
            plain = await client.responses.create(input="Name a river.", max_output_tokens=12)
            stream = await client.responses.create(input="Name a river.", max_output_tokens=12, stream=True)
            return plain.output_text, (await stream.until_done()).output_text

    assert asyncio.run(replay()) == (live, live)
    assert counting.calls == 0
