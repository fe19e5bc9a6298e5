"""OpenAICompatibleEngine against the real llama-cpp-python server running the SmolLM2 GGUF."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import llamabook as lb
from support.servers import LLAMA_CPP_ALIAS as ALIAS
from support.servers import LLAMA_CPP_KEY as API_KEY
from support.servers import Server, free_port

pytestmark = pytest.mark.server

QUESTION = "What is the capital of Ireland?"


@pytest.fixture(scope="module")
def server_port(llama_cpp_server: Server) -> int:
    """The session's llama-cpp server (see conftest)."""
    return int(llama_cpp_server.url.rsplit(":", 1)[1])


def _engine(port: int, **kwargs: object) -> lb.OpenAICompatibleEngine:
    return lb.OpenAICompatibleEngine(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY, **kwargs)


@pytest.fixture
def remote(tmp_path: Path, server_port: int) -> Iterator[lb.Client]:
    with lb.Client(tmp_path / "home", engine=_engine(server_port)) as c:
        yield c


def _server_prompt_tokens(port: int, messages: list[dict[str, object]]) -> int:
    """The prompt token count the server itself reports for a plain (non-streamed) request."""
    body = json.dumps({"model": ALIAS, "messages": messages, "max_tokens": 1, "temperature": 0}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions",
        data=body,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return int(json.load(answer)["usage"]["prompt_tokens"])


def _stored_bytes(home: Path) -> bytes:
    """Every byte llamabook wrote under ``home``: the database, its WAL and the file store."""
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


def test_models_list_shows_the_server_model_as_text_only(remote: lb.Client, server_port: int) -> None:
    models = remote.models.list()
    assert [(m.id, m.accepts, m.engine) for m in models] == [(ALIAS, ["text"], "openai-compatible")]
    assert models[0].owned_by == f"http://127.0.0.1:{server_port}/v1"
    assert remote.models.default() == ALIAS


def test_create_answers_and_counts_tokens(remote: lb.Client, server_port: int) -> None:
    r = remote.responses.create(input=QUESTION)
    assert r.status == "completed" and r.model == ALIAS
    assert "Dublin" in r.output_text
    # The chat template adds a default system prompt and role markers around the 31 characters:
    # the count must be the server's own, not 0 and not a characters-based guess.
    assert r.usage.input_tokens == _server_prompt_tokens(server_port, r.rendered_messages) > 20
    assert 3 < r.usage.output_tokens <= 256
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    stored = remote.responses.retrieve(r.id)
    assert stored.usage == r.usage and stored.output_text == r.output_text
    assert stored.trace.engine == "openai-compatible"


def test_prompt_variables_render_the_system_message(remote: lb.Client) -> None:
    p = remote.prompts.create("You are {{name}}, a {{role}}. Answer briefly.", variables=["name", "role"])
    r = remote.responses.create(
        input=QUESTION, prompt=p, variables={"name": "Alice", "role": "geographer"}, max_output_tokens=24
    )
    assert r.rendered_messages[0] == {"role": "system", "content": "You are Alice, a geographer. Answer briefly."}
    assert r.rendered_messages[-1] == {"role": "user", "content": QUESTION}
    assert r.prompt.id == p.prompt_id and r.prompt.version == "1"
    assert r.output_text.strip() and r.status in ("completed", "incomplete")
    assert remote.responses.retrieve(r.id).rendered_messages == r.rendered_messages


def test_stream_events_and_the_stored_response(remote: lb.Client) -> None:
    stream = remote.responses.create(input=QUESTION, stream=True)
    assert isinstance(stream, lb.ResponseStream)
    events = list(stream)
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 3
    assert [e.sequence_number for e in events] == list(range(len(events)))
    final = stream.response
    assert final is not None and final.status == "completed"
    assert "".join(deltas) == final.output_text == stream.text
    stored = remote.responses.retrieve(final.id)
    assert stored.output_text == final.output_text and stored.usage == final.usage
    # llama-cpp-python's server sends no usage in streams: one streamed chunk is one token.
    assert stored.usage.output_tokens == len(deltas)
    assert stored.usage.input_tokens > 20


def test_api_key_is_used_but_never_stored_or_shown(remote: lb.Client, server_port: int, tmp_path: Path) -> None:
    engine = remote.backend.engines[0]
    assert API_KEY not in repr(engine) and API_KEY not in repr(remote)
    remote.prompts.create("Be {{tone}}.", variables=["tone"])
    r = remote.responses.create(input=QUESTION, max_output_tokens=8)
    assert r.output_text  # the server demands the key, so it was sent
    home = tmp_path / "home"
    assert list(home.glob("*.db")), "expected the SQLite database under home"
    assert API_KEY.encode() not in _stored_bytes(home)

    wrong = lb.OpenAICompatibleEngine(base_url=f"http://127.0.0.1:{server_port}/v1", api_key="sk-wrong-key")
    with lb.Client(tmp_path / "other", engine=wrong) as other:
        with pytest.raises(lb.EngineError, match="401") as caught:
            other.models.list()
    assert "sk-wrong-key" not in str(caught.value) and API_KEY not in str(caught.value)


def test_unknown_model_is_refused_before_anything_is_sent(remote: lb.Client, tmp_path: Path) -> None:
    with pytest.raises(lb.ModelNotFound, match="gpt-9"):
        remote.responses.create(input=QUESTION, model="gpt-9")
    assert remote.responses.list() == []
    # Same check with models given up front and nothing listening: it is refused without a connection.
    offline = lb.OpenAICompatibleEngine(base_url=f"http://127.0.0.1:{free_port()}/v1", models=[ALIAS])
    with lb.Client(tmp_path / "offline", engine=offline) as c:
        with pytest.raises(lb.ModelNotFound, match="gpt-9"):
            c.responses.create(input=QUESTION, model="gpt-9")


@pytest.mark.parametrize("known_models", [None, [ALIAS]], ids=["listed-from-server", "given-up-front"])
def test_server_down_raises_engine_unavailable_and_stores_nothing(
    tmp_path: Path, known_models: list[str] | None
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    down = lb.OpenAICompatibleEngine(base_url=url, api_key=API_KEY, models=known_models, max_retries=0)
    with lb.Client(tmp_path / "home", engine=down) as c:
        for stream in (False, True):
            with pytest.raises(lb.EngineUnavailable) as caught:
                c.responses.create(input=QUESTION, stream=stream)
            assert url in str(caught.value)
            assert API_KEY not in str(caught.value)
        assert c.responses.list() == []
    assert API_KEY.encode() not in _stored_bytes(tmp_path / "home")


def test_calls_reuse_one_kept_alive_connection_per_thread(remote: lb.Client) -> None:
    engine = remote.backend.engines[0]
    remote.responses.create(input="Say hi.", max_output_tokens=2)
    first = engine.http()._connection().sock
    remote.responses.create(input="Say bye.", max_output_tokens=2)
    assert first is not None and engine.http()._connection().sock is first
