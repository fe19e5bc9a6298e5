"""What the browser tests need, checked when each test module is imported.

Missing pieces skip the module with the reason (the ``[browser]`` extra, or Chromium);
with ``LLAMABOOK_REQUIRE_BROWSER=1`` (as ``make test-browser`` sets) they fail it instead,
so a CI run cannot pass by skipping.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LLAMABOOK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
REQUIRE = os.environ.get("LLAMABOOK_REQUIRE_BROWSER") == "1"
HINT = "run `make test-browser`, or `pip install -e '.[widgets,browser]'` and `apt-get install chromium`"
MODULES = ("playwright", "pytest_playwright", "jupyterlab", "ipykernel", "ipywidgets", "nbformat")


def missing(*extra: str) -> list[str]:
    gone = [name for name in (*MODULES, *extra) if importlib.util.find_spec(name) is None]
    if not Path(CHROMIUM).is_file():
        gone.append(f"Chromium at {CHROMIUM}")
    return gone


def require_browser(*extra: str) -> None:
    """Call at the top of a browser test module, before importing playwright (``extra``: more modules it needs)."""
    gone = missing(*extra)
    if not gone:
        return
    reason = f"browser tests need {', '.join(gone)}: {HINT}"
    if REQUIRE:
        pytest.fail(f"LLAMABOOK_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)
