"""``PromptEditor``: write, version and run a ``{{templated}}`` prompt in a notebook.

The editor is one class made of parts, a module each:

* :mod:`.editor` — :class:`PromptEditor`: its state and what its buttons do (load, save, set the
  default version, run, stop, wait).
* :mod:`.layout` — its widgets: how each looks and where it sits (notebook 06 stores this tree).
* :mod:`.fields` — the variable fields: a row per ``{{name}}`` holding a text or a file (uploaded
  in the row or picked from the client's files).
* :mod:`.versions` — the prompt shown: storing an edit, the version list, the heading, the unsaved diff.
* :mod:`.streaming` — a run: the answer streamed in from a background thread, then its footer and details.
"""

from .editor import PromptEditor
from .fields import ACCEPT, FILE, NO_FILE, REPLACE, TEXT, UPLOAD, UPLOAD_TIP, VariableField
from .streaming import ANSWER, CURSOR, UPDATES_PER_SECOND

__all__ = [
    "ACCEPT",
    "ANSWER",
    "CURSOR",
    "FILE",
    "NO_FILE",
    "REPLACE",
    "TEXT",
    "UPDATES_PER_SECOND",
    "UPLOAD",
    "UPLOAD_TIP",
    "PromptEditor",
    "VariableField",
]
