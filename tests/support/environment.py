"""Fixtures that keep a developer's environment out of a test module: import one into the module to apply it."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_server_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LLAMABOOK_BASE_URL", "LLAMABOOK_API_KEY", "LLAMABOOK_CASSETTE", "LLAMABOOK_RECORD"):
        monkeypatch.delenv(name, raising=False)
