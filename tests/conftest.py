"""Shared fixtures: one embedded model per test session, a fresh store per test."""

from __future__ import annotations

from pathlib import Path

import pytest

import llamabook as lb
from llamabook.engines.embedded import EmbeddedEngine

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def engine() -> EmbeddedEngine:
    """The real embedded model; llama.cpp keeps one instance per process, shared by all tests."""
    return EmbeddedEngine()


@pytest.fixture
def client(tmp_path: Path, engine: EmbeddedEngine) -> lb.Client:
    with lb.Client(tmp_path / "home", engine=engine) as c:
        yield c


@pytest.fixture
def data() -> Path:
    return DATA
