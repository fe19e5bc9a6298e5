"""``%load_ext llamabook``: the line and cell magic registered, nothing heavy imported and no client made."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import llamabook as lb
from support.magics import run

ROWS_ERROR = (
    "InvalidRequest: rows must be a DataFrame or a list of dicts (one dict of variables per row) "
    "(%tb shows the full traceback)"
)


def test_load_ext_registers_the_line_and_cell_magic(ip: InteractiveShell) -> None:
    assert "llama" in ip.magics_manager.magics["line"]
    assert "llama" in ip.magics_manager.magics["cell"]
    ip.run_line_magic("unload_ext", "llamabook")
    assert "llama" not in ip.magics_manager.magics["cell"]
    ip.run_line_magic("load_ext", "llamabook")
    assert "llama" in ip.magics_manager.magics["cell"]


def test_load_ext_imports_nothing_heavy_and_creates_no_client(tmp_path: Path) -> None:
    home = tmp_path / "never-created"
    code = (
        "import json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "before = set(sys.modules)\n"
        "shell.run_line_magic('load_ext', 'llamabook')\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))\n"
    )
    env = {**os.environ, "LLAMABOOK_HOME": str(home), "IPYTHONDIR": str(tmp_path / "ipython")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    new = set(json.loads(out.stdout.splitlines()[-1]))
    assert "llamabook" in new
    assert new & {"pandas", "numpy", "openai", "llama_cpp", "pydantic", "PIL", "pypdf", "httpx", "tqdm"} == set()
    assert not home.exists()


def test_bad_input_through_the_python_api_is_one_line_other_errors_keep_their_traceback(
    ip: InteractiveShell, quick: lb.Client
) -> None:
    ip.user_ns["client"] = quick
    bad = run(ip, "client.grid('Hi {{city}}', {'city': 'Cork'}, progress=False)")
    assert isinstance(bad.error, lb.InvalidRequest)  # the cell still fails (a kernel stops Run All there)
    assert bad.stdout == ROWS_ERROR + "\n"  # one line of text, no library frames
    assert bad.outputs == []  # nothing displayed as a rich (HTML) output
    full = run(ip, "%tb")
    assert "Traceback" in full.stdout and "InvalidRequest" in full.stdout and "plan.py" in full.stdout
    other = run(ip, "1/0")
    assert isinstance(other.error, ZeroDivisionError)
    assert "Traceback" in other.stdout and "ZeroDivisionError" in other.stdout and "%tb" not in other.stdout
    not_found = run(ip, "client.prompts.get('nosuch')")  # not an input error: its traceback as before
    assert isinstance(not_found.error, lb.PromptNotFound) and "Traceback" in not_found.stdout


def test_debug_keeps_the_traceback_of_an_input_error_in_a_magic(ip: InteractiveShell, quick: lb.Client) -> None:
    short = run(ip, "%%llama --save ../x\nHi")
    assert isinstance(short.error, UsageError) and "'../x' can't name a prompt" in str(short.error)
    assert "Traceback" not in short.stdout
    debug = run(ip, "%%llama --save ../x --debug\nHi")
    assert isinstance(debug.error, lb.InvalidRequest) and "Traceback" in debug.stdout and "refs.py" in debug.stdout


def test_unloading_removes_the_one_line_errors_and_another_handler_is_left_alone(
    ip: InteractiveShell, quick: lb.Client
) -> None:
    ip.user_ns["client"] = quick
    assert ip.custom_exceptions == (lb.InputError,)
    ip.run_line_magic("unload_ext", "llamabook")
    try:
        assert ip.custom_exceptions == ()
        plain = run(ip, "client.grid('Hi {{city}}', {'city': 'Cork'}, progress=False)")
        assert "Traceback" in plain.stdout and "(%tb shows the full traceback)" not in plain.stdout

        def theirs(shell, etype, value, tb, tb_offset=None):  # type: ignore[no-untyped-def]
            print("their handler")

        ip.set_custom_exc((KeyError,), theirs)
        ip.run_line_magic("load_ext", "llamabook")
        assert ip.custom_exceptions == (KeyError,)  # kept: IPython holds one handler
        ip.run_line_magic("unload_ext", "llamabook")
        assert ip.custom_exceptions == (KeyError,)
    finally:
        ip.set_custom_exc((), None)
        if "llamabook" not in ip.extension_manager.loaded:
            ip.run_line_magic("load_ext", "llamabook")
    assert ip.custom_exceptions == (lb.InputError,)
    assert run(ip, "client.grid('Hi {{city}}', {'city': 'Cork'}, progress=False)").stdout == ROWS_ERROR + "\n"
