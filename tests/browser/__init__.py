"""Real-browser tests (JupyterLab + Chromium via Playwright).

This file makes ``tests/browser`` a package: its conftest is then imported as
``browser.conftest`` and does not replace the top-level ``conftest`` module that
other tests import names from (``from conftest import ...``).
"""
