"""Start (and stop) a local Llama Stack / OGX server for notebook 05.

It is the pair the test suite uses (``tests/support/servers.py``): llama-cpp-python's OpenAI-compatible
server running the SmolLM2 model that llamabook embeds, and on top of it either ``ogx run``
(OGX 1.5.0, Llama Stack's new name: ``.ogx-venv``, ``ci/ogx-run.yaml``; the default) or
``llama stack run`` (0.7.3: ``.lls-venv``, ``ci/llama-stack-run.yaml``), whose inference goes to
it. Both listen on 127.0.0.1 on free ports and are stopped by PID: by ``stop()``, or when the
kernel exits.

    stack = start()                      # about 10 s; start("llama-stack") for Llama Stack 0.7.3
    client = lb.Client(base_url=stack.url)
    ...
    stack.stop()

From a shell, ``.venv/bin/python notebooks/local_stack.py [ogx|llama-stack]`` starts the pair
and prints the ``LLAMABOOK_BASE_URL`` to export before opening the notebooks (Ctrl-C stops it).
``for_notebook(cassette)`` is what notebook 05 uses: a server only when one is needed to record.
``$LLAMABOOK_LOCAL_SERVER`` (``ogx`` or ``llama-stack``) picks which one it starts.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.servers import (  # noqa: E402
    Server,
    llama_stack_missing,
    ogx_missing,
    start_llama_cpp,
    start_llama_stack,
    start_ogx,
)

#: Where a replayed session "is": nothing is contacted there (Llama Stack's default port).
REPLAY_URL = "http://127.0.0.1:8321"
#: The model the local server registers; SmolLM2 reads text only, and the run config says so
#: (``input_modalities: [text]``), so images go as descriptions and PDFs as text.
MODEL = "llamacpp/smollm2"
#: The servers this module can start, by name: (what to call it, why it cannot start, how to start it)
KINDS = {
    "ogx": ("OGX 1.5.0", ogx_missing, start_ogx, "OGX_MAX_TOKENS"),
    "llama-stack": ("Llama Stack 0.7.3", llama_stack_missing, start_llama_stack, "LLS_MAX_TOKENS"),
}
_KEY = "sk-notebook-local"  # between the two local servers only


def local_kind() -> str:
    """Which server to start: ``$LLAMABOOK_LOCAL_SERVER``, or OGX."""
    kind = os.environ.get("LLAMABOOK_LOCAL_SERVER", "ogx")
    if kind not in KINDS:
        raise ValueError(f"LLAMABOOK_LOCAL_SERVER must be one of {sorted(KINDS)}, not {kind!r}")
    return kind


@dataclass
class LocalStack:
    """The two server processes; ``url`` is the Llama Stack / OGX server's."""

    llama_cpp: Server
    server: Server
    workdir: Path
    kind: str = "ogx"

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        """Stop both servers (by PID), the Llama Stack / OGX one first."""
        self.server.stop()
        self.llama_cpp.stop()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def why_not(kind: str = "ogx") -> str | None:
    """Why a local server of this kind cannot start here, or None when it can."""
    if importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec("sse_starlette") is None:
        return "llama-cpp-python's server extras are not installed (pip install 'llama-cpp-python[server]==0.3.36')"
    return KINDS[kind][1]()


def start(kind: str = "ogx", workdir: Path | None = None, max_tokens: int = 64) -> LocalStack:
    """Start llama-cpp-python's server and OGX (or Llama Stack) on top of it; raises ``ServerFailed``.

    ``max_tokens`` caps every answer: both servers ask for ``max_completion_tokens``, which
    llama-cpp-python's server ignores, so a request's ``max_output_tokens`` does not cap it
    here and the provider's ``max_tokens`` (``$OGX_MAX_TOKENS`` / ``$LLS_MAX_TOKENS``) does.
    """
    from llamabook.engines.embedded import default_model_path

    _, _, start_server, cap = KINDS[kind]
    workdir = workdir or Path(tempfile.mkdtemp(prefix="llamabook-stack-"))
    llama_cpp = start_llama_cpp(workdir, default_model_path(), "smollm2", _KEY)
    saved = os.environ.get(cap)
    os.environ[cap] = str(max_tokens)  # read by the run config when the server starts
    try:
        server = start_server(workdir, llama_cpp.url, _KEY)
    except BaseException:
        llama_cpp.stop()
        raise
    finally:
        if saved is None:
            os.environ.pop(cap, None)
        else:
            os.environ[cap] = saved
    stack = LocalStack(llama_cpp, server, workdir, kind)
    atexit.register(stack.stop)  # also stopped when the kernel shuts down before the last cell
    return stack


@dataclass
class NotebookServer:
    """The server notebook 05 talks to: a live one, or the replay of a recorded one."""

    url: str
    record: str
    stack: LocalStack | None = None

    def stop(self) -> None:
        """Stop the local servers if this started them (quietly: the notebook's output stays the same)."""
        if self.stack is not None:
            self.stack.stop()


def for_notebook(cassette: str) -> NotebookServer:
    """``$LLAMABOOK_BASE_URL`` if set; a local OGX (or ``$LLAMABOOK_LOCAL_SERVER``) when the session
    must be recorded (``$LLAMABOOK_RECORD=all``, or no cassette yet); otherwise a replay of
    ``cassette``, with no server at all (``record="none"``: a request that was not recorded
    raises ``CassetteMiss``)."""
    base_url = os.environ.get("LLAMABOOK_BASE_URL")
    if base_url:
        print("Using the server in LLAMABOOK_BASE_URL:", base_url)
        return NotebookServer(base_url, "new")
    must_record = os.environ.get("LLAMABOOK_RECORD") == "all" or not Path(cassette).exists()
    kind = local_kind()
    name = KINDS[kind][0]
    if must_record and (reason := why_not(kind)) is None:
        stack = start(kind)
        print(f"Started a local {name} server at", stack.url, "and recording to", cassette)
        return NotebookServer(stack.url, "new", stack)
    if must_record:
        print(f"No {name} server here: {reason}.")
    print(f"Replaying the server session recorded in {cassette}: no server is needed.")
    print("To run it live: set LLAMABOOK_BASE_URL to a server, or LLAMABOOK_RECORD=all to start a local one.")
    return NotebookServer(REPLAY_URL, "none")


def main(argv: list[str]) -> int:
    """``python notebooks/local_stack.py [ogx|llama-stack]``: start the pair, print the URL, wait for Ctrl-C."""
    kind = argv[0] if argv else "ogx"
    if kind not in KINDS:
        print(f"usage: local_stack.py [{'|'.join(KINDS)}]", file=sys.stderr)
        return 2
    if (reason := why_not(kind)) is not None:
        print(f"Cannot start {KINDS[kind][0]}: {reason}", file=sys.stderr)
        return 1
    import time

    stack = start(kind, max_tokens=256)
    print(f"{KINDS[kind][0]} is up. In another shell:\n  export LLAMABOOK_BASE_URL={stack.url}\n"
          "  .venv/bin/jupyter lab notebooks/\n(Ctrl-C here stops both servers.)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
