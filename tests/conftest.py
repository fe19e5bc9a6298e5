"""Shared fixtures: a scripted engine (no model) per test; one embedded model, one llama-cpp server,
one Llama Stack and one OGX server per session. The helpers they use live in ``support/``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import llamabook as lb
from llamabook.engines.embedded import EmbeddedEngine, default_model_path
from support.magics import in_magics
from support.scripted_engine import ScriptedEngine
from support.servers import (
    LLAMA_CPP_ALIAS, LLAMA_CPP_KEY, Server, ServerFailed, llama_stack_missing, ogx_missing, start_llama_cpp,
    start_llama_stack, start_ogx,
)  # fmt: skip

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

DATA = Path(__file__).parent / "data"
SKIP_LLAMA_STACK = "LLAMABOOK_SKIP_LLAMA_STACK"
SKIP_OGX = "LLAMABOOK_SKIP_OGX"


@pytest.fixture(scope="session")
def engine() -> EmbeddedEngine:
    """The real embedded model; llama.cpp keeps one instance per process, shared by all tests."""
    return EmbeddedEngine()


@pytest.fixture
def client(tmp_path: Path, engine: EmbeddedEngine) -> Iterator[lb.Client]:
    with lb.Client(tmp_path / "home", engine=engine) as c:
        yield c


@pytest.fixture
def scripted() -> ScriptedEngine:
    """A fresh deterministic engine (tests/support/scripted_engine.py): answers echo what it was sent, no model."""
    return ScriptedEngine()


@pytest.fixture
def quick_client(tmp_path: Path, scripted: ScriptedEngine) -> Iterator[lb.Client]:
    """A client on a fresh home whose only engine is ``scripted``: for parsing, layout and grid mechanics."""
    with lb.Client(tmp_path / "home", engine=scripted) as c:
        yield c


@pytest.fixture
def data() -> Path:
    return DATA


@pytest.fixture(scope="session")
def llama_cpp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """llama-cpp-python's OpenAI-compatible server with SmolLM2, needing ``LLAMA_CPP_KEY``."""
    workdir = tmp_path_factory.mktemp("llama-cpp")
    try:
        server = start_llama_cpp(workdir, default_model_path(), LLAMA_CPP_ALIAS, LLAMA_CPP_KEY)
    except ServerFailed as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llama_stack_server(tmp_path_factory: pytest.TempPathFactory, llama_cpp_server: Server) -> Iterator[Server]:
    """A real ``llama stack run`` (0.7.3) whose inference is the llama-cpp server.

    Never skipped silently: only ``LLAMABOOK_SKIP_LLAMA_STACK=1`` skips it, and says so.
    """
    if os.environ.get(SKIP_LLAMA_STACK) == "1":
        pytest.skip(f"{SKIP_LLAMA_STACK}=1 is set: Llama Stack server tests skipped on request")
    missing = llama_stack_missing()
    if missing:
        pytest.fail(f"Cannot start the Llama Stack server: {missing}; or set {SKIP_LLAMA_STACK}=1 to skip")
    try:
        server = start_llama_stack(tmp_path_factory.mktemp("llama-stack"), llama_cpp_server.url, LLAMA_CPP_KEY)
    except ServerFailed as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ogx_server(tmp_path_factory: pytest.TempPathFactory, llama_cpp_server: Server) -> Iterator[Server]:
    """A real ``ogx run`` (1.5.0, Llama Stack's new name) on the same llama-cpp server.

    Never skipped silently: only ``LLAMABOOK_SKIP_OGX=1`` skips it, and says so.
    """
    if os.environ.get(SKIP_OGX) == "1":
        pytest.skip(f"{SKIP_OGX}=1 is set: OGX server tests skipped on request")
    missing = ogx_missing()
    if missing:
        pytest.fail(f"Cannot start the OGX server: {missing}; or set {SKIP_OGX}=1 to skip")
    try:
        server = start_ogx(tmp_path_factory.mktemp("ogx"), llama_cpp_server.url, LLAMA_CPP_KEY)
    except ServerFailed as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ip() -> InteractiveShell:
    """IPython's test shell (no kernel) with the llamabook extension loaded."""
    from IPython.testing import globalipapp

    globalipapp.start_ipython()
    shell = globalipapp.get_ipython()
    shell.run_line_magic("load_ext", "llamabook")
    return shell


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the real-browser tests last.

    pytest-playwright's sync API keeps an event loop running in the main thread for the rest of
    the session, after which ``asyncio.run`` (the AsyncClient tests) refuses to start.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    for item in items:  # `-m "not model"` leaves out exactly the tests that load the real model
        if "engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.model)


@pytest.fixture
def quick(quick_client: lb.Client, ip: InteractiveShell) -> Iterator[lb.Client]:
    """``quick_client`` injected into the magics."""
    yield from in_magics(quick_client, ip)
