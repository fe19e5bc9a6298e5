"""Cassettes: record model calls once, replay them with no model.

The recordings are made with the real embedded model; the replays run in a fresh home, in another
process that cannot import ``llama_cpp``. Recording a real Llama Stack server and replaying it where
nothing listens: tests/integration/test_server_cassettes.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import llamabook as lb
from llamabook import magics, views
from llamabook.cassette import forget
from llamabook.engines.base import Generation
from llamabook.engines.embedded import EmbeddedEngine
from support.cassettes import lines
from support.scripted_engine import ScriptedEngine


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


# ---- a replayed answer says so ---------------------------------------------------------------------


def test_a_replayed_answer_says_so_and_has_no_latency(tmp_path: Path, scripted: ScriptedEngine) -> None:
    """``Response.replayed``: False for a live answer (with its latency), True for one from the cassette (none),
    plain, streamed and read back from the home; never on the wire."""
    cassette = tmp_path / "replayed.jsonl"
    with lb.Client(tmp_path / "a", engine=scripted, cassette=cassette) as client:
        live = client.responses.create(input="Name a river.", max_output_tokens=8)
        stream = client.responses.create(input="Name a lake.", max_output_tokens=8, stream=True)
        streamed = stream.until_done()
    assert (live.replayed, streamed.replayed) == (False, False)
    assert live.latency_s is not None and streamed.latency_s is not None
    assert views.summary_line(live).endswith(" s") and views.latency_label(live) != "replayed"

    calls = len(scripted.calls)
    forget(cassette)
    with lb.Client(tmp_path / "b", engine=scripted, cassette=cassette, record="none") as client:
        plain = client.responses.create(input="Name a river.", max_output_tokens=8)
        stream = client.responses.create(input="Name a lake.", max_output_tokens=8, stream=True)
        events = list(stream)
        stored = client.responses.retrieve(plain.id)
        listed = client.responses.list(order="asc").to_pandas()
    assert len(scripted.calls) == calls  # nothing ran the engine
    assert plain.output_text == live.output_text and stream.response is not None
    for answer in (plain, stream.response, stored):
        assert answer.replayed is True and answer.latency_s is None
        assert views.summary_line(answer).endswith(" · replayed") and ("latency", "replayed") in views.usage_rows(answer)
        assert "replayed" not in answer.model_dump() and "replayed" not in answer.model_dump_json()
    assert plain.trace is not None and plain.trace.latency_s is not None  # the replay's own time, kept in the trace only
    assert all(e.response.replayed for e in events if hasattr(e, "response"))  # every snapshot of the stream
    assert listed["replayed"].tolist() == [True, True] and listed["latency_s"].isna().all()


def test_a_recording_answer_in_new_mode_is_live_and_the_next_one_replayed(tmp_path: Path, scripted: ScriptedEngine) -> None:
    cassette = tmp_path / "new.jsonl"
    with lb.Client(tmp_path / "home", engine=scripted, cassette=cassette, record="new") as client:
        first = client.responses.create(input="Say hello.", max_output_tokens=4)
    forget(cassette)
    with lb.Client(tmp_path / "home", engine=scripted, cassette=cassette, record="new") as client:
        again = client.responses.create(input="Say hello.", max_output_tokens=4)
        other = client.responses.create(input="Say goodbye.", max_output_tokens=4)
        assert client.responses.retrieve(first.id).replayed is False  # the home keeps each answer's own flag
        assert client.responses.retrieve(again.id).replayed is True
    assert (first.replayed, again.replayed, other.replayed) == (False, True, False)
    assert first.latency_s is not None and again.latency_s is None and other.latency_s is not None


def test_the_async_client_marks_replayed_answers(tmp_path: Path, scripted: ScriptedEngine) -> None:
    import asyncio

    cassette = tmp_path / "async-replayed.jsonl"
    with lb.Client(tmp_path / "a", engine=scripted, cassette=cassette) as client:
        client.responses.create(input="Name a river.", max_output_tokens=8)

    async def replay() -> list[lb.Response]:
        async with lb.AsyncClient(tmp_path / "b", engine=scripted, cassette=cassette, record="none") as client:
            plain = await client.responses.create(input="Name a river.", max_output_tokens=8)
            stream = await client.responses.create(input="Name a river.", max_output_tokens=8, stream=True)
            return [plain, await stream.until_done()]

    forget(cassette)
    answers = asyncio.run(replay())
    assert [(a.replayed, a.latency_s) for a in answers] == [(True, None), (True, None)]
