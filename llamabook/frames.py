"""DataFrame views of prompts, files, responses and models (pandas is imported here only).

Stable columns, in this order:

* prompts: ``prompt_id`` (str), ``version`` (int64), ``is_default`` (bool), ``variables`` (object: list of str), ``prompt`` (str),
  ``name`` (str, nullable: the prompt's name(s) in the home, comma-separated), ``labels`` (object: list of str)
* label history: ``prompt_id``, ``label``, ``from_version``, ``to_version`` (Int64, null: not set / removed),
  ``moved_at`` (datetime64[s, UTC])
* files: ``id`` (str), ``filename`` (str), ``bytes`` (int64), ``purpose`` (str), ``created_at`` (datetime64[s, UTC]), ``expires_at`` (datetime64[s, UTC])
* responses: ``id``, ``created_at`` (datetime64[s, UTC]), ``status``, ``model``, ``prompt_id``, ``prompt_version`` (Int64, nullable),
  ``output_text``, ``output_tokens`` (int64), ``input_tokens``, ``total_tokens`` (Int64: null where a server
  reported no usage), ``latency_s`` (float64),
  ``error_code``, ``error_message``, ``instructions``
* models: ``id``, ``engine``, ``accepts`` (comma-separated), ``context_length`` (Int64)
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ._lazy import load
from .types import File, LabelMove, Model, Prompt, Response, WireModel

if TYPE_CHECKING:
    import pandas

COLUMNS: dict[type, list[str]] = {
    Prompt: ["prompt_id", "version", "is_default", "variables", "prompt", "name", "labels"],
    LabelMove: ["prompt_id", "label", "from_version", "to_version", "moved_at"],
    File: ["id", "filename", "bytes", "purpose", "created_at", "expires_at"],
    Response: [
        "id", "created_at", "status", "model", "prompt_id", "prompt_version", "output_text",
        "input_tokens", "output_tokens", "total_tokens", "latency_s", "error_code", "error_message", "instructions",
    ],
    Model: ["id", "engine", "accepts", "context_length"],
}

DTYPES: dict[type, dict[str, str]] = {
    Prompt: {"prompt_id": "string", "version": "int64", "is_default": "bool", "prompt": "string", "name": "string"},
    File: {"id": "string", "filename": "string", "bytes": "int64", "purpose": "string"},
    Response: {
        "id": "string", "status": "string", "model": "string", "prompt_id": "string", "prompt_version": "Int64",
        "output_text": "string", "input_tokens": "Int64", "output_tokens": "int64", "total_tokens": "Int64",
        "latency_s": "float64", "error_code": "string", "error_message": "string", "instructions": "string",
    },
    Model: {"id": "string", "engine": "string", "accepts": "string", "context_length": "Int64"},
    LabelMove: {"prompt_id": "string", "label": "string", "from_version": "Int64", "to_version": "Int64"},
}

TIMESTAMPS = ("created_at", "expires_at", "moved_at")


def to_pandas(items: Sequence[WireModel], kind: type | None = None) -> pandas.DataFrame:
    """A DataFrame with one row per object and the documented columns (also when empty)."""
    import pandas as pd

    kind = kind or (type(items[0]) if items else None)
    columns = COLUMNS.get(kind) if kind else None
    rows: list[dict[str, Any]] = [item.to_dict() for item in items]
    frame = pd.DataFrame(rows, columns=columns) if columns else pd.DataFrame(rows)
    for name, dtype in DTYPES.get(kind, {}).items() if kind else ():
        frame[name] = frame[name].astype(dtype)
    for name in TIMESTAMPS:
        if name in frame.columns:
            frame[name] = pd.to_datetime(frame[name], unit="s", utc=True).astype("datetime64[s, UTC]")
    return frame


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
