"""Real-browser fixtures: one JupyterLab server per session, driven by Debian's Chromium via Playwright.

Everything runs on 127.0.0.1 with no network: Playwright uses ``/usr/bin/chromium`` (never
``playwright install``), every request that is not to a local address is aborted, and the Lab
server gets fresh config / runtime / data / settings / workspace dirs plus its own
``LLAMABOOK_HOME``, all under one temporary work dir. The server is stopped by its PID.

Without the ``[browser]`` extra or Chromium these tests are skipped, with the reason; with
``LLAMABOOK_REQUIRE_BROWSER=1`` (``make test-browser``) a missing piece is an error instead.
Each test saves a screenshot (and a log of timings, console messages and blocked requests) to
``test-artifacts/browser/`` at the end, pass or fail.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ._requires import CHROMIUM

if TYPE_CHECKING:  # playwright and nbformat are imported only where used: missing, the tests skip
    from playwright.sync_api import BrowserContext, Locator, Page, Route

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("LLAMABOOK_TEST_ARTIFACTS") or REPO / "test-artifacts") / "browser"

# Playwright adds --headless, --no-sandbox and a fresh --user-data-dir itself (and refuses a
# --user-data-dir here); these keep Chromium from reaching out on its own.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]
LOCAL_PREFIXES = ("http://127.0.0.1:", "http://localhost:", "data:", "blob:", "about:")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

# Generous: two shared cores, and the kernel loads the real model.
TIMEOUT_MS = 60_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab (or Notebook 7: ``app="notebook"``) server: where it listens, where its notebooks live."""

    url: str
    token: str
    root: Path
    home: Path
    log: Path
    process: subprocess.Popen[bytes]
    app: str = "lab"

    def write_notebook(self, name: str, *cells: str) -> str:
        """Write an unexecuted notebook of code cells into the server root; return its name.

        One path per test: Lab keeps a notebook path's kernel session across page loads (P7).
        """
        import nbformat

        path = self.root / name
        if path.exists():
            raise AssertionError(f"{name} already exists: give every test its own notebook")
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = dict(KERNELSPEC)  # no "Select Kernel" dialog
        nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        nbformat.write(nb, path)
        return name

    def open_and_run_all(self, page: Page, name: str) -> Locator:
        """Open a notebook, wait for its kernel, then Run > Run All Cells; return the notebook panel."""
        from playwright.sync_api import expect

        if self.app == "notebook":  # Notebook 7: one notebook per page, no status bar
            page.goto(f"{self.url}/notebooks/{name}?token={self.token}")
        else:  # ?reset: no saved layout; the token in the first URL sets the auth cookie
            page.goto(f"{self.url}/lab/tree/{name}?reset&token={self.token}")
        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        expect(panel.locator(".jp-Cell").first).to_be_visible()
        if self.app == "notebook":
            # The toolbar indicator says idle before a kernel is attached (P2): first the kernel's name.
            expect(panel.locator(".jp-KernelName")).to_have_text(KERNELSPEC["display_name"])
            expect(panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_be_attached()
        else:
            # The status bar, not the toolbar indicator: the toolbar says idle while no kernel is
            # attached yet, and Run All then opens a "Select Kernel" dialog instead of running (P2).
            expect(self.kernel_idle(page)).to_be_visible()
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        # the menu's command id; notebook:run-all-cells exists only in the palette (P3)
        page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
        return panel

    @staticmethod
    def kernel_idle(page: Page) -> Locator:
        """The status bar's kernel item once it reads "<kernel> | Idle"."""
        return page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$"))


def _start_lab(work: Path, app: str = "lab") -> Lab:
    """Start ``jupyter lab`` (``app="lab"``) or Notebook 7's ``jupyter notebook`` (``app="notebook"``)."""
    root, home = work / "notebooks", work / "llamabook-home"
    jupyter = work / "jupyter"
    dirs = {
        "JUPYTER_CONFIG_DIR": jupyter / "config",
        "JUPYTER_DATA_DIR": jupyter / "data",
        "JUPYTER_RUNTIME_DIR": jupyter / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": jupyter / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": jupyter / "lab-workspaces",
        "IPYTHONDIR": work / "ipython",
    }
    for path in (root, home, *dirs.values()):
        path.mkdir(parents=True, exist_ok=True)
    # No news / update toast over the notebook and no fetch for it (P6).
    notification = dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    # jupyter-lsp probes for language servers at start-up; nothing here uses it.
    (dirs["JUPYTER_CONFIG_DIR"] / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_lsp": False}}})
    )

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLAMABOOK_", "JUPYTER", "PYTEST_"))}
    env.update({k: str(v) for k, v in dirs.items()})
    env["LLAMABOOK_HOME"] = str(home)  # the kernel's lb.Client() stores here, embedded backend
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # kernel = this venv
    env["PYTHONUNBUFFERED"] = "1"

    port, token = _free_port(), secrets.token_hex(16)
    log = work / ("jupyterlab.log" if app == "lab" else "notebook7.log")
    cmd = [
        sys.executable, "-m", {"lab": "jupyterlab", "notebook": "notebook"}[app],
        "--no-browser",
        "--allow-root",  # CI runs as root (P4)
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",  # not the deprecated ServerApp.token (P5)
        "--ServerApp.terminals_enabled=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, home, log, process, app)

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{lab.url}/api/status?token={token}", timeout=2) as resp:
                if resp.status == 200:
                    return lab
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    _stop(process)
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"jupyter {app} did not answer /api/status (exit code {process.poll()}):\n{tail}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server by its PID; on SIGTERM jupyter-server shuts its kernels down first."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def running(folder: Path, app: str = "lab") -> Iterator[Lab]:
    """A Jupyter server (``app``: "lab" or "notebook") on a free 127.0.0.1 port with a random token,
    stopped after use; its log is kept in the artifacts as ``<folder name>.log``."""
    started = time.monotonic()
    server = _start_lab(folder, app=app)
    print(f"{app} ready in {time.monotonic() - started:.1f} s at {server.url} (pid {server.process.pid})")
    try:
        yield server
    finally:
        _stop(server.process)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(server.log, ARTIFACTS / f"{folder.name}.log")


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One JupyterLab per session."""
    yield from running(tmp_path_factory.mktemp("jupyterlab", numbered=False))


@pytest.fixture(scope="session")
def base_url() -> None:
    """Replaces pytest-base-url's fixture, which warns under pytest 9 (P12); tests use ``lab.url``."""
    return None


# pytest-playwright's own fixtures, adjusted: Debian's Chromium, quiet flags, fixed viewport.
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 1000}}


@dataclass
class Record:
    """What a browser test leaves behind besides its screenshot."""

    started: float = field(default_factory=time.monotonic)
    lines: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def lap(self, what: str) -> None:
        line = f"{time.monotonic() - self.started:6.1f} s  {what}"
        self.lines.append(line)
        print(line)


@pytest.fixture(autouse=True)
def record(context: BrowserContext) -> Record:
    """Every test here: abort each non-local request (noting it) and collect timings for the artifacts."""
    rec = Record()

    def route(r: Route) -> None:
        if r.request.url.startswith(LOCAL_PREFIXES):
            r.continue_()
        else:
            rec.blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return rec


@pytest.fixture
def lab_page(page: Page, record: Record, request: pytest.FixtureRequest) -> Iterator[Page]:
    """Playwright's page, with long timeouts; a screenshot is saved when the test ends, pass or fail."""
    from playwright.sync_api import expect

    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page.on("console", lambda m: record.lines.append(f"console.{m.type}: {m.text}"))
    page.on("pageerror", lambda e: record.lines.append(f"pageerror: {e}"))
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", request.node.name)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
    finally:
        record.lap("end")
        blocked = [f"blocked: {url}" for url in record.blocked]
        (ARTIFACTS / f"{stem}.log").write_text("\n".join(record.lines + blocked) + "\n")
