"""How wire objects are shown in notebooks and tabled as DataFrames.

The wire types sit in the lowest layer and name no view or DataFrame module; the package
(``llamabook/__init__``) registers the functions here when it is imported, and they import
``llamabook.views`` / ``llamabook.frames`` (jinja2, pandas) only when first called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: "html" (obj) → str | None, "mimebundle" (obj, include, exclude) → dict, "to_pandas" (items, kind) → DataFrame
PRESENTERS: dict[str, Callable[..., Any]] = {}


def present(kind: str, *args: Any) -> Any:
    """Call the registered presenter ``kind``."""
    try:
        presenter = PRESENTERS[kind]
    except KeyError:
        raise RuntimeError(f"no {kind!r} presenter is registered; import llamabook first") from None
    return presenter(*args)
