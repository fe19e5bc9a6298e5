"""ipywidgets panels for notebooks (``pip install 'llamabook[widgets]'``).

* :class:`PromptEditor` — write a ``{{templated}}`` prompt, fill its variables (text or an
  image/PDF), pick a model and a version, save, run (streamed) and stop.
* :class:`ResponseView` — one response: output, input, usage and timing, raw JSON.
* :class:`FilesPanel` — list, upload, preview and delete files.
* :class:`RunsTable` — a ``client.grid`` DataFrame with status colours; open a row's response.

The panels hold view state only: every action goes through the :class:`~llamabook.Client`,
and problems are shown inside the panel, never as a traceback. ipywidgets is imported when
a panel is first used, not by ``import llamabook.widgets``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_LAZY = {
    "PromptEditor": "llamabook.widgets.prompt_editor",
    "ResponseView": "llamabook.widgets.response_view",
    "FilesPanel": "llamabook.widgets.files_panel",
    "RunsTable": "llamabook.widgets.runs_table",
}

if TYPE_CHECKING:
    from .files_panel import FilesPanel
    from .prompt_editor import PromptEditor
    from .response_view import ResponseView
    from .runs_table import RunsTable


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llamabook.widgets' has no attribute {name!r}")
    try:
        value = getattr(import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("ipywidgets", "jinja2", "markdown_it", "nh3"):
            raise ModuleNotFoundError(
                f"llamabook.widgets.{name} needs {exc.name}: pip install 'llamabook[widgets]'", name=exc.name
            ) from None
        raise
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["FilesPanel", "PromptEditor", "ResponseView", "RunsTable"]
