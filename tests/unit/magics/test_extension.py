"""``%load_ext llamabook``: the line and cell magic registered, nothing heavy imported and no client made."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from IPython.core.interactiveshell import InteractiveShell



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
