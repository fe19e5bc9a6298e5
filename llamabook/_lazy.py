"""Module attributes imported on first use, so importing a package stays cheap."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


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
            loaded = import_module(module)
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
