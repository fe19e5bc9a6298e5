"""Modules imported on first use, so importing a package stays cheap, and safely from any thread.

Every import that can run first on a worker thread (a grid's call, check or judge) goes through
:func:`load`. Two threads that start the first import of a package a few milliseconds apart can
otherwise hand one of them a half-initialised module (CPython breaks the import lock's apparent
deadlock that way): ``ImportError: cannot import name … from partially initialized module``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from importlib import import_module
from types import ModuleType
from typing import Any

#: Held while a module is imported for the first time: one first import at a time in the process.
#: Re-entrant, because a module imported under it may load another one.
_first_imports = threading.RLock()


def load(name: str) -> ModuleType:
    """The module ``name`` (dotted), imported now if it isn't yet, one first import at a time.

    Once a module is fully imported this is a dictionary lookup; while another thread is still
    importing it, this waits for that import to finish instead of returning half a module.
    """
    module = sys.modules.get(name)
    if module is not None and not getattr(getattr(module, "__spec__", None), "_initializing", False):
        return module
    with _first_imports:
        return import_module(name)


def lazy_attributes(
    package: str,
    table: Mapping[str, str],
    namespace: dict[str, Any],
    *,
    extras: Mapping[str, str] | None = None,
    modules: Mapping[str, str] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's ``__getattr__`` and ``__dir__`` for the names in ``table`` (name → module).

    A loaded name is kept in ``namespace`` (the module's globals), so it is imported once.
    ``extras`` maps a top-level dependency to the extra that installs it: a missing one is
    reported as ``pip install 'llamabook[extra]'``. ``modules`` maps names that are submodules
    themselves (``lb.checks``).
    """

    def getattr_(name: str) -> Any:
        module = table.get(name) or (modules or {}).get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            loaded = load(module)
            value = loaded if name in (modules or {}) else getattr(loaded, name)
        except ModuleNotFoundError as exc:
            extra = (extras or {}).get((exc.name or "").split(".")[0])
            if extra is None:
                raise
            raise ModuleNotFoundError(
                f"{package}.{name} needs {exc.name}: pip install 'llamabook[{extra}]'", name=exc.name
            ) from None
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted(set(namespace) | set(table) | set(modules or {}))

    return getattr_, dir_
