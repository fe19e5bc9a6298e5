"""``Client.connect(base_url)`` to a real Llama Stack 0.7.3 and OGX 1.5.0 server: which server it is,
a named prompt saved there and run. How a client is made, without a server: tests/unit/test_client.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import llamabook as lb
from support.environment import no_server_in_the_environment  # noqa: F401  (autouse)
from support.servers import Server


# ---- against real servers ---------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["llama_stack_server", "ogx_server"])
def test_connect_talks_to_a_real_server(request: pytest.FixtureRequest, tmp_path: Path, which: str) -> None:
    server: Server = request.getfixturevalue(which)
    with lb.Client.connect(server.url, home=tmp_path / "home") as client:
        assert client.server.kind == ("llama-stack" if which == "llama_stack_server" else "ogx")
        prompt = client.prompts.save("capital", "Name the capital of {{country}} in one word.")
        answer = client.responses.create(prompt="capital", variables={"country": "Ireland"}, temperature=0, max_output_tokens=16)
        assert answer.status in ("completed", "incomplete") and answer.prompt is not None
        assert answer.prompt.id == prompt.prompt_id and client.prompts.get("capital").version == 1
