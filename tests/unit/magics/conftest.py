"""The magics' ``client``: a client on the real embedded model, injected into the magics for one test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

import llamabook as lb
from llamabook import magics
from llamabook.engines.embedded import EmbeddedEngine


@pytest.fixture
def client(tmp_path: Path, engine: EmbeddedEngine, ip: InteractiveShell) -> Iterator[lb.Client]:
    """A client on a fresh home, injected into the magics; notebook variables made by the test are removed."""
    before = set(ip.user_ns)
    with lb.Client(tmp_path / "home", engine=engine) as c:
        magics.set_client(c)
        yield c
        magics.set_client(None)
    for name in set(ip.user_ns) - before:
        del ip.user_ns[name]
