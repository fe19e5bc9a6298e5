"""``client.annotations``: human labels on calls, kept in the home database.

A label is a JSON value (``True``, ``"good"``, ``4``) named ``name`` (a safe identifier: it becomes the
column ``human_<name>``) with an optional note, on one call:

* **a grid row** (``grid.iloc[i]``, ``grid.loc[i]``, or a mapping) is keyed by its ``call_key``, the
  run-log key of its request, so the label outlives re-runs and replays of the same grid (same key);
* **a response id** (``"resp_…"``) is keyed by the run-log key of the grid call that made it, when the
  run log has one (an indexed lookup), so it is the same label as that grid row's; otherwise by the
  response id itself (it must be a response this backend knows), matched by a frame's ``response_id``.

Setting a label again overwrites its value and note (no history is kept). Every argument is checked,
and the target found, before anything is stored.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..backends.base import Backend
from ..errors import InvalidRequest, NotFound
from ..inputs import is_dataframe

if TYPE_CHECKING:
    import pandas

    from ..store import Annotation, AnnotationStore

#: A label's name: it becomes a column (``human_<name>``), so a short ASCII identifier.
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
#: The prefix of the columns :meth:`Annotations.attach` adds, and the suffix of their notes' columns.
PREFIX, NOTE = "human_", "_note"


class Annotations:
    """Human labels on grid rows and responses (see the module docstring); needs a home directory."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def set(self, target: Any, name: str, value: Any, note: str | None = None) -> Annotation:
        """Label ``target`` (a grid row or a response id) ``name`` = ``value`` (any JSON value but null),
        with an optional ``note``; setting it again overwrites both. Returns the stored label."""
        check_name(name)
        value_json = _json_of(value)
        if note is not None and not isinstance(note, str):
            raise InvalidRequest(f"note is text or None, not a {type(note).__name__}")
        store = self._store()
        call_key, response_id = self._call(target)
        return store.put(call_key, name, value_json, note or None, response_id)

    def get(self, target: Any, name: str | None = None) -> Annotation | dict[str, Annotation] | None:
        """``target``'s label ``name`` (None when it has none); without ``name``, all its labels by name."""
        if name is not None:
            check_name(name)
        store = self._store()
        call_key, _ = self._call(target)
        found = {label.name: label for label in store.get(call_key, name)}
        return found.get(name) if name is not None else found

    def delete(self, target: Any, name: str) -> None:
        """Drop ``target``'s label ``name``; :class:`~llamabook.NotFound` when it has none."""
        check_name(name)
        store = self._store()
        call_key, _ = self._call(target)
        if not store.delete(call_key, name):
            raise NotFound(f"This call has no label {name!r}; see client.annotations.get(target)")

    def list(self, name: str | None = None) -> list[Annotation]:
        """Every label in the home (only those named ``name`` when given), oldest first."""
        if name is not None:
            check_name(name)
        return self._store().all(name)

    def attach(self, frame: pandas.DataFrame) -> pandas.DataFrame:
        """A copy of ``frame`` (a ``client.grid`` DataFrame) with ``human_<name>`` and ``human_<name>_note``
        columns for every label name found on its rows (missing where a row has none).

        Rows are matched by ``call_key``, and by ``response_id`` for labels set on a response no grid
        logged. The values keep their kind: booleans as ``boolean``, text as ``string``, numbers as numbers.
        """
        _require_keys(frame)
        store = self._store()
        keys = _column_values(frame, "call_key")
        responses = _column_values(frame, "response_id")
        labels = store.of_keys(keys + responses) + store.of_responses(responses)
        by_key: dict[tuple[str, str], Annotation] = {}
        for label in labels:
            by_key[(label.call_key, label.name)] = label
            if label.response_id:
                by_key.setdefault((label.response_id, label.name), label)
        return _with_columns(frame, sorted({label.name for label in labels}), by_key)

    # ---- targets ----------------------------------------------------------------------------------

    def _store(self) -> AnnotationStore:
        store = self._backend.store
        if store is None:
            raise InvalidRequest("Labels are kept in the home database: give the client a home directory")
        return store.annotations

    def _call(self, target: Any) -> tuple[str, str | None]:
        """(the key a label on ``target`` is kept by, its response id or None); unknown targets refused."""
        if isinstance(target, str):
            return self._response_call(target)
        row = _row_of(target)
        if row is None:
            raise InvalidRequest(
                "A label's target is a grid row (grid.iloc[i]) or a response id ('resp_…'), "
                f"not a {type(target).__name__}"
            )
        call_key = none_if_missing(row.get("call_key"))
        if not isinstance(call_key, str) or not call_key:
            raise InvalidRequest(
                "This row has no call_key: label a row of a client.grid DataFrame (grid.iloc[i]), which says "
                "which call it is, or a response id"
            )
        response_id = none_if_missing(row.get("response_id"))
        return call_key, response_id if isinstance(response_id, str) and response_id else None

    def _response_call(self, response_id: str) -> tuple[str, str]:
        if not response_id.startswith("resp"):
            raise InvalidRequest(
                f"{response_id!r} is no response id ('resp_…'); to label a grid row, give grid.iloc[i]"
            )
        store = self._store()
        logged = store.call_of_response(response_id)
        if logged is not None:
            return logged, response_id
        self._backend.get_response(response_id)  # ResponseNotFound when this backend doesn't know it
        return response_id, response_id


def check_name(name: Any) -> str:
    """``name`` if it is a label's name (an identifier of up to 64 ASCII characters, not ending in ``_note``)."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or name.endswith(NOTE):
        raise InvalidRequest(
            f"A label's name becomes the column human_<name>: letters, digits and _, up to 64, not starting "
            f"with a digit nor ending in {NOTE!r} (e.g. 'correct'), not {name!r}"
        )
    return name


def _json_of(value: Any) -> str:
    """``value`` as JSON text; a numpy scalar as its Python value. None, NaN and what JSON can't hold are refused."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        raise InvalidRequest(f"A label's value can't be {value!r}; to take a label off, use client.annotations.delete")
    try:
        return json.dumps(value, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"A label's value is what JSON holds (bool, number, text, list, dict): {exc}") from None


def _row_of(target: Any) -> Mapping[str, Any] | None:
    """A grid row (a pandas Series, or a mapping) as a mapping; None for anything else."""
    if isinstance(target, Mapping):
        return target
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(target, pandas.Series):
        return {str(k): v for k, v in target.items()}
    return None


def none_if_missing(value: Any) -> Any:
    """A frame's cell as a Python value: None for a missing one (None, NaN, ``pd.NA``), else the value.

    (``llamabook.frames`` has the grid's own, a tier above the client.)
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    pandas = sys.modules.get("pandas")
    try:
        missing = value != value if pandas is None else bool(pandas.api.types.is_scalar(value) and pandas.isna(value))
    except (TypeError, ValueError):
        return value
    return None if missing else value


def _require_keys(frame: Any) -> None:
    if not is_dataframe(frame):
        raise InvalidRequest(
            f"client.annotations.attach() takes the DataFrame client.grid returns, not a {type(frame).__name__}"
        )
    if "call_key" not in frame.columns and "response_id" not in frame.columns:
        raise InvalidRequest(
            "client.annotations.attach() takes a client.grid DataFrame: this one has neither call_key nor response_id"
        )


def _column_values(frame: pandas.DataFrame, column: str) -> list[str]:
    if column not in frame.columns:
        return []
    return [value for value in map(none_if_missing, frame[column].tolist()) if isinstance(value, str) and value]


def _with_columns(
    frame: pandas.DataFrame, names: list[str], by_key: dict[tuple[str, str], Annotation]
) -> pandas.DataFrame:
    """``frame``'s copy with each name's value and note columns (replacing any it had)."""
    import pandas as pd

    keys = frame["call_key"].tolist() if "call_key" in frame.columns else [None] * len(frame)
    responses = frame["response_id"].tolist() if "response_id" in frame.columns else [None] * len(frame)
    found = frame.copy()
    for name in names:
        labels = [
            by_key.get((none_if_missing(key), name)) or by_key.get((none_if_missing(response), name))
            for key, response in zip(keys, responses)
        ]
        values = pd.Series([label.value if label else None for label in labels], index=frame.index, dtype=object)
        notes = pd.Series([label.note if label else None for label in labels], index=frame.index, dtype="string")
        found[f"{PREFIX}{name}"] = values.convert_dtypes() if values.notna().any() else values
        found[f"{PREFIX}{name}{NOTE}"] = notes
    return found


__all__ = ["Annotations", "check_name"]
