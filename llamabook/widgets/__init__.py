"""ipywidgets panels for notebooks (``pip install 'llamabook[widgets]'``).

* :class:`PromptEditor` — write a ``{{templated}}`` prompt, fill its variables (text or an
  image/PDF), pick a model and a version, save, run (streamed) and stop.
* :class:`ResponseView` — one response: output, input, usage and timing, raw JSON.
* :class:`FilesPanel` — list, upload, preview and delete files.
* :class:`RunsTable` — a ``client.grid`` DataFrame with status colours; open a row's response.
* :class:`CompareView` — a grid side by side (rows × version/model); open a cell's response.
* :class:`AnnotateView` — label a grid's results by hand, one at a time (``client.annotations``).
* :class:`BehaviourView` — a behaviour diff (``lb.behaviour_diff``); open both responses of a pair.

The panels hold view state only: every action goes through the :class:`~llamabook.Client`,
and problems are shown inside the panel, never as a traceback. ipywidgets is imported when
a panel is first used, not by ``import llamabook.widgets``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

_LAZY = {
    "PromptEditor": "llamabook.widgets.prompt_editor",
    "ResponseView": "llamabook.widgets.response_view",
    "FilesPanel": "llamabook.widgets.files_panel",
    "RunsTable": "llamabook.widgets.runs_table",
    "CompareView": "llamabook.widgets.compare_view",
    "AnnotateView": "llamabook.widgets.annotate_view",
    "BehaviourView": "llamabook.widgets.behaviour_view",
}

if TYPE_CHECKING:
    from .annotate_view import AnnotateView
    from .behaviour_view import BehaviourView
    from .compare_view import CompareView
    from .files_panel import FilesPanel
    from .prompt_editor import PromptEditor
    from .response_view import ResponseView
    from .runs_table import RunsTable


_WIDGET_DEPENDENCIES = {name: "widgets" for name in ("ipywidgets", "jinja2", "markdown_it", "nh3")}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals(), extras=_WIDGET_DEPENDENCIES)


__all__ = ["AnnotateView", "BehaviourView", "CompareView", "FilesPanel", "PromptEditor", "ResponseView", "RunsTable"]
