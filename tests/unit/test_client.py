"""How a client is made: ``Client.embedded(…)``, ``Client.connect(base_url, …)``, ``Client(backend=…)``,
and ``Client()`` / ``Client(home)`` / ``Client(base_url=…)`` choosing between the first two.

Also what an engine declares of itself: an engine that constrains its output checks a schema
before any call, whatever its name; any other engine is not held to one. ``Client.connect`` to a real
Llama Stack and OGX server: tests/integration/test_connect.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import llamabook as lb
from llamabook import magics
from llamabook.aio import AsyncClient
from llamabook.backends.http import HttpBackend
from llamabook.backends.local import LocalBackend
from llamabook.cassette import open_cassette
from llamabook.engines import ConstrainedEngine
from llamabook.engines.embedded import EmbeddedEngine
from llamabook.engines.recorded import RecordedEngine
from support.environment import no_server_in_the_environment  # noqa: F401  (autouse)
from support.scripted_engine import ScriptedEngine

NOWHERE = "http://127.0.0.1:9"  # the discard port: a client made on it must send nothing
SCHEMA = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]}


# ---- Client.connect ---------------------------------------------------------------------------


def test_connect_makes_a_server_client_and_sends_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMABOOK_API_KEY", "sk-from-env")
    monkeypatch.setenv("LLAMABOOK_BASE_URL", "http://127.0.0.1:8")  # connect's own URL wins
    with lb.Client.connect(f"{NOWHERE}/v1", home=tmp_path / "home", model="llamacpp/smollm2", prompts="local") as client:
        assert isinstance(client.backend, HttpBackend)
        assert client.backend.base_url == NOWHERE and client.backend.home == tmp_path / "home"
        assert client.models.default() == "llamacpp/smollm2"  # given, so not asked
        assert dict(client.backend.describe())["api_key"] == "set (hidden)"
        saved = client.prompts.save("greeter", "Hi {{name}}")  # prompts="local": kept in the home
        assert client.prompts.get("greeter").prompt_id == saved.prompt_id
        assert "sk-from-env" not in repr(client)


def test_client_with_base_url_is_what_connect_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    accepts = {"llamacpp/smollm2": ["text"]}
    chosen = lb.Client(tmp_path, base_url=NOWHERE, model_accepts=accepts, api_key="sk-1")
    made = lb.Client.connect(NOWHERE, home=tmp_path, model_accepts=accepts, api_key="sk-1")
    monkeypatch.setenv("LLAMABOOK_BASE_URL", NOWHERE)
    monkeypatch.setenv("LLAMABOOK_HOME", str(tmp_path))
    from_env = lb.Client()
    for client in (chosen, made, from_env):
        with client:
            assert type(client.backend) is HttpBackend
            assert (client.backend.base_url, client.backend.home) == (NOWHERE, tmp_path)
    assert chosen.backend._model_accepts == made.backend._model_accepts == accepts


def test_connect_needs_a_server_url(tmp_path: Path) -> None:
    for bad in ("", "ftp://example.com", "127.0.0.1:8321"):
        with pytest.raises(lb.InvalidRequest, match="base_url"):
            lb.Client.connect(bad, home=tmp_path)
    with pytest.raises(TypeError):
        lb.Client.connect(NOWHERE, engine=ScriptedEngine())  # type: ignore[call-arg]


def test_async_connect_wraps_the_sync_constructor(tmp_path: Path) -> None:
    async def main() -> None:
        async with AsyncClient.connect(NOWHERE, home=tmp_path, model="m") as client:
            assert isinstance(client.sync.backend, HttpBackend) and client.backend is client.sync.backend
            assert await client.models.default() == "m"

    asyncio.run(main())


# ---- Client.embedded, Client(home), Client(backend=…) ------------------------------------------------


def test_embedded_and_a_plain_client_make_the_local_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with lb.Client(tmp_path / "a", engine=ScriptedEngine()) as plain:  # the first positional argument is home
        assert isinstance(plain.backend, LocalBackend) and plain.backend.home == tmp_path / "a"
    monkeypatch.setenv("LLAMABOOK_BASE_URL", NOWHERE)
    with lb.Client.embedded(tmp_path / "b", engines=[ScriptedEngine()], max_file_bytes=10) as embedded:
        assert isinstance(embedded.backend, LocalBackend) and embedded.backend.max_file_bytes() == 10
    with pytest.raises(TypeError):
        lb.Client.embedded(tmp_path, base_url=NOWHERE)  # type: ignore[call-arg]


def test_a_client_on_a_given_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMABOOK_BASE_URL", NOWHERE)  # a backend given wins over the environment
    backend = LocalBackend(tmp_path / "home", [ScriptedEngine()])
    cassette = tmp_path / "session.jsonl"
    with lb.Client(backend=backend, cassette=cassette, prices={"scripted-1": (1.0, 2.0)}) as client:
        assert client.backend is backend and client.prices == {"scripted-1": (1.0, 2.0)}
        assert backend.cassette is not None and backend.cassette.path == cassette.resolve()
        answer = client.responses.create(input="Hello")
        assert answer.status == "completed" and cassette.exists()


@pytest.mark.parametrize(
    "options",
    [{"home": "x"}, {"engine": ScriptedEngine()}, {"base_url": NOWHERE}, {"model": "m"}, {"prompts": "local"},
     {"max_file_bytes": 5}, {"api_key": "k"}, {"model_accepts": {}}],
    ids=lambda options: next(iter(options)),
)
def test_a_given_backend_takes_no_options_for_building_one(tmp_path: Path, options: dict[str, Any]) -> None:
    backend = LocalBackend(tmp_path / "home", [ScriptedEngine()])
    with pytest.raises(TypeError, match=r"Client\(backend=…\)"):
        lb.Client(backend=backend, **options)


# ---- the magics build their client through the constructors ----------------------------------------


def test_magics_use_the_constructors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def spy(name: str) -> Any:
        original = getattr(lb.Client, name).__func__

        def constructor(cls: type[lb.Client], *args: Any, **kwargs: Any) -> lb.Client:
            made.append((name, args, kwargs))
            return original(cls, *args, **kwargs)

        return classmethod(constructor)

    monkeypatch.setattr(lb.Client, "connect", spy("connect"))
    monkeypatch.setattr(lb.Client, "embedded", spy("embedded"))
    monkeypatch.setenv("LLAMABOOK_BASE_URL", NOWHERE)  # "%llama use embedded" still means embedded
    server = magics.make_client(NOWHERE, str(tmp_path / "s"), "llamacpp/smollm2")
    local = magics.make_client("embedded", str(tmp_path / "l"), None)
    assert made == [("connect", (NOWHERE,), {"home": str(tmp_path / "s"), "model": "llamacpp/smollm2"}),
                    ("embedded", (str(tmp_path / "l"),), {})]
    assert isinstance(server.backend, HttpBackend) and isinstance(local.backend, LocalBackend)
    server.close()
    local.close()


# ---- an engine declares that it constrains output ------------------------------------------------


class Strict(ScriptedEngine):
    """A test engine that holds output to a schema, and refuses ``minimum``; named like no built-in engine."""

    name = "strict"

    def __init__(self) -> None:
        super().__init__()
        self.checked: list[dict[str, Any]] = []

    def check_output_schema(self, schema: dict[str, Any]) -> None:
        self.checked.append(schema)
        if "minimum" in str(schema):
            raise lb.InvalidRequest("strict can't hold output to 'minimum'")


def test_engines_declare_whether_they_constrain_output(tmp_path: Path) -> None:
    recorder = open_cassette(tmp_path / "c.jsonl")
    assert isinstance(EmbeddedEngine(), ConstrainedEngine) and isinstance(Strict(), ConstrainedEngine)
    assert not isinstance(ScriptedEngine(), ConstrainedEngine)
    RecordedEngine(ScriptedEngine(), recorder).check_output_schema(SCHEMA)  # nothing to check: no error
    strict = Strict()
    with pytest.raises(lb.InvalidRequest, match="minimum"):
        RecordedEngine(strict, recorder).check_output_schema(SCHEMA)
    assert strict.checked == [SCHEMA]  # behind a cassette too, the engine's own check (it needs no model)


def test_the_local_backend_asks_the_engine_not_its_name(tmp_path: Path) -> None:
    strict = Strict()
    free = ScriptedEngine("free-1", answer=lambda messages: '{"n": 3}')
    with lb.Client(tmp_path / "home", engines=[strict, free]) as client:
        with pytest.raises(lb.InvalidRequest, match="minimum"):
            client.responses.create(input="Count", model=strict.model_id, schema=SCHEMA)
        assert strict.checked == [SCHEMA] and strict.calls == []  # refused before any call
        assert client.responses.create(input="Count", model="free-1", schema=SCHEMA).output_parsed == {"n": 3}
    with lb.Client(tmp_path / "home", engine=strict, cassette=tmp_path / "c.jsonl") as replaying:
        with pytest.raises(lb.InvalidRequest, match="minimum"):
            replaying.responses.create(input="Count", schema=SCHEMA)
    assert strict.checked == [SCHEMA, SCHEMA]  # asked live and behind a cassette alike
