"""Start (and stop) a local Llama Stack server for notebook 05.

It is the pair the test suite uses (``tests/servers.py``): llama-cpp-python's OpenAI-compatible
server running the SmolLM2 model that llamabook embeds, and ``llama stack run`` (0.7.3, from
``.lls-venv``, config ``ci/llama-stack-run.yaml``) whose inference goes to it. Both listen on
127.0.0.1 on free ports and are stopped by PID: by ``stop()``, or when the kernel exits.

    stack = start()          # about 10 s
    client = lb.Client(base_url=stack.url, model_accepts=MODEL_ACCEPTS)
    ...
    stack.stop()

``for_notebook(cassette)`` is what notebook 05 uses: a server only when one is needed to record.
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

from servers import Server, llama_stack_missing, start_llama_cpp, start_llama_stack  # noqa: E402

#: Where a replayed session "is": nothing is contacted there (Llama Stack's default port).
REPLAY_URL = "http://127.0.0.1:8321"
#: The model the local server registers; SmolLM2 reads text only, so images go as descriptions.
MODEL = "llamacpp/smollm2"
MODEL_ACCEPTS = {MODEL: ["text"]}
_KEY = "sk-notebook-local"  # between the two local servers only


@dataclass
class LocalStack:
    """The two server processes; ``url`` is the Llama Stack server's."""

    llama_cpp: Server
    llama_stack: Server
    workdir: Path

    @property
    def url(self) -> str:
        return self.llama_stack.url

    def stop(self) -> None:
        """Stop both servers (by PID), Llama Stack first."""
        self.llama_stack.stop()
        self.llama_cpp.stop()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def why_not() -> str | None:
    """Why a local Llama Stack server cannot start here, or None when it can."""
    if importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec("sse_starlette") is None:
        return "llama-cpp-python's server extras are not installed (pip install 'llama-cpp-python[server]==0.3.36')"
    return llama_stack_missing()


def start(workdir: Path | None = None, max_tokens: int = 64) -> LocalStack:
    """Start llama-cpp-python's server and ``llama stack run`` on top of it; raises ``ServerFailed``.

    ``max_tokens`` caps every answer: Llama Stack asks for ``max_completion_tokens``, which
    llama-cpp-python's server ignores, so a request's ``max_output_tokens`` does not cap it
    here and the provider's ``max_tokens`` (``$LLS_MAX_TOKENS``) does.
    """
    from llamabook.engines.embedded import default_model_path

    workdir = workdir or Path(tempfile.mkdtemp(prefix="llamabook-stack-"))
    llama_cpp = start_llama_cpp(workdir, default_model_path(), "smollm2", _KEY)
    saved = os.environ.get("LLS_MAX_TOKENS")
    os.environ["LLS_MAX_TOKENS"] = str(max_tokens)  # read by ci/llama-stack-run.yaml when the server starts
    try:
        llama_stack = start_llama_stack(workdir, llama_cpp.url, _KEY)
    except BaseException:
        llama_cpp.stop()
        raise
    finally:
        if saved is None:
            os.environ.pop("LLS_MAX_TOKENS", None)
        else:
            os.environ["LLS_MAX_TOKENS"] = saved
    stack = LocalStack(llama_cpp, llama_stack, workdir)
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
    """``$LLAMABOOK_BASE_URL`` if set; a local Llama Stack when the session must be recorded
    (``$LLAMABOOK_RECORD=all``, or no cassette yet); otherwise a replay of ``cassette``, with no
    server at all (``record="none"``: a request that was not recorded raises ``CassetteMiss``)."""
    base_url = os.environ.get("LLAMABOOK_BASE_URL")
    if base_url:
        print("Using the server in LLAMABOOK_BASE_URL:", base_url)
        return NotebookServer(base_url, "new")
    must_record = os.environ.get("LLAMABOOK_RECORD") == "all" or not Path(cassette).exists()
    if must_record and (reason := why_not()) is None:
        stack = start()
        print("Started a local Llama Stack server at", stack.url, "and recording to", cassette)
        return NotebookServer(stack.url, "new", stack)
    if must_record:
        print(f"No Llama Stack server here: {reason}.")
    print(f"Replaying the Llama Stack session recorded in {cassette}: no server is needed.")
    print("To run it live: set LLAMABOOK_BASE_URL to a server, or LLAMABOOK_RECORD=all to start a local one.")
    return NotebookServer(REPLAY_URL, "none")
