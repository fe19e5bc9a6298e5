"""A grid's DataFrame, read cell by cell: missing values, check columns, the columns a reader needs.

The evaluation, the grid and the panels read the DataFrame ``client.grid`` returns through these
(pandas is never imported here). A wire list's own DataFrame (``client.prompts.list().to_pandas()``)
is ``ObjectList.to_pandas`` with each type's ``frame_columns``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

from ._lazy import load


def none_if_missing(value: Any) -> Any:
    """A cell as a Python value: None for a missing one (None, NaN, ``pd.NA``, ``NaT``), else the value itself.

    Works without pandas (a float NaN is missing); pandas is not imported here: a ``pd.NA`` or
    ``NaT`` can only exist once something else has imported it.
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):  # numpy's float64 too
        return None if value != value else value
    if "pandas" not in sys.modules:
        return value
    pd = load("pandas")  # waits, should another thread be importing it right now
    try:
        return None if pd.api.types.is_scalar(value) and pd.isna(value) else value
    except (TypeError, ValueError):
        return value


#: The companions of a grid's check column ``check_<name>``: not checks themselves.
CHECK_COMPANIONS = ("_error", "_judge_id")


def check_columns(columns: Iterable[Any]) -> dict[str, str]:
    """A grid's check columns as ``{name: column}``: each ``check_<name>``, not its ``_error`` / ``_judge_id`` companions."""
    found = {}
    for column in map(str, columns):
        name = column.removeprefix("check_")
        if column.startswith("check_") and name and not column.endswith(CHECK_COMPANIONS):
            found[name] = column
    return found


def require_columns(
    frame: Any, columns: Sequence[str], caller: str, what: str = "the DataFrame client.grid returns"
) -> None:
    """Raise :class:`InvalidRequest` unless ``frame`` is a DataFrame with ``columns``, saying what ``caller`` takes."""
    from .errors import InvalidRequest
    from .inputs import is_dataframe

    if not is_dataframe(frame):
        raise InvalidRequest(f"{caller} takes {what}, not a {type(frame).__name__}")
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        shown = [str(c) for c in frame.columns] or "none"
        raise InvalidRequest(f"{caller} takes {what}: this DataFrame has no {missing} (its columns: {shown})")
