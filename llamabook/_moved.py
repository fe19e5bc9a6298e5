"""Old module paths of names that moved, kept importable for a while with a DeprecationWarning.

``import llamabook.batch`` gives :mod:`llamabook.grid` itself (the same module object), so every
public name keeps working from its old path.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

#: old module path → where it lives now
MOVED = {
    "llamabook.batch": "llamabook.grid",
    "llamabook.server_batches": "llamabook.grid.executors.batch",
    "llamabook.batch_lines": "llamabook.grid.lines",
    "llamabook.checks": "llamabook.evaluation.checks",
    "llamabook.scoring": "llamabook.evaluation.scores",
    "llamabook.comparison": "llamabook.evaluation.compare",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path in :data:`MOVED` and loads the module it moved to."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        moved = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} has moved to {moved}: import it from there ({spec.name} will be removed in a later release)",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(moved)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module was imported where it lives now."""


def install() -> None:
    """Make the old paths importable (once)."""
    if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModules())
