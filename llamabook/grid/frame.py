"""A grid's tasks as its DataFrame: the row's columns, the result columns in their dtypes, fields and checks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any

from ..types.grid_rows import ROW, placed_after, result_columns
from .spec import RESULT_COLUMNS

if TYPE_CHECKING:
    import pandas

    from ..evaluation.checks import CheckSet
    from ..schema_columns import FieldColumn
    from .task import Task


#: The key in ``frame.attrs["llamabook"]`` that marks a grid's frame: ``{"own": [the row's own columns]}``.
#: The notebook's HTML display of a grid (``llamabook.views.grids``) reads it; the frame is a plain DataFrame.
GRID_MARK = "grid"


def to_frame(
    tasks: Sequence[Task], checks: CheckSet | None = None, fields: list[FieldColumn] | None = None, groups: Sequence[str] = ()
) -> pandas.DataFrame:
    """The grid's frame; ``groups`` are the optional result-column groups it has (``"batch"``, ``"repeats"``)."""
    frame = columns_frame(tasks) if tasks else _empty_frame()
    own = [str(name) for name in frame.columns if name != ROW.name and name not in RESULT_COLUMNS]
    frame.attrs["llamabook"] = {**frame.attrs.get("llamabook", {}), GRID_MARK: {"own": own}}
    if fields is not None:
        frame = _with_fields(frame, tasks, fields)
    for group in groups:
        frame = with_group(frame, _group_values(tasks, group), group)
    return checks.add_columns(frame, [task.checks for task in tasks]) if checks is not None else frame


def _group_values(tasks: Sequence[Task], group: str) -> list[dict[str, Any]]:
    """Where a group's columns are read: the cell itself for ``repeat``, its result for the others."""
    if group == "repeats":
        return [{"repeat": task.repeat} for task in tasks]
    return [task.result for task in tasks]


def _empty_frame() -> pandas.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(columns=[ROW.name, *RESULT_COLUMNS])
    for name, dtype in {ROW.name: ROW.dtype, **RESULT_COLUMNS}.items():
        frame[name] = frame[name].astype(dtype)
    return frame


def columns_frame(tasks: Sequence[Task]) -> pandas.DataFrame:
    """The grid's frame, built a column at a time.

    The same frame as ``pd.DataFrame([{"row": …, **shown, **base, **result}, …])`` followed by the
    dtypes of ``RESULT_COLUMNS``: the same column order (first appearance, a row's column named like
    a result column keeps its place but takes the result), the row's own columns typed by pandas
    from the same values, and each result column built at once in its dtype.
    """
    import pandas as pd

    shown = [task.shown for task in tasks]
    first = shown[0]
    if all(s is first or s.keys() == first.keys() for s in shown):
        own = list(first)
    else:
        own = list(dict.fromkeys(name for s in shown for name in s))
    order = list(dict.fromkeys(["row", *first, *RESULT_COLUMNS, *own]))
    kept = [name for name in own if name != "row" and name not in RESULT_COLUMNS]
    # The row's own columns: typed from a list of dicts (missing cells are NaN).
    mine = pd.DataFrame(shown, columns=kept) if kept else None
    columns = {name: mine[name] if name in kept else _result_column(name, tasks, "row" in own) for name in order}  # type: ignore[index]
    return pd.DataFrame(columns, index=pd.RangeIndex(len(tasks)))


def _result_column(name: str, tasks: Sequence[Task], row_given: bool) -> Any:
    """One of the grid's own columns, built at once in its dtype."""
    import numpy as np
    import pandas as pd

    if name == "row":
        if row_given:  # a row's own "row" value wins where it has one
            return pd.Series([t.shown["row"] if "row" in t.shown else t.row for t in tasks]).astype("int64")
        return np.array([t.row for t in tasks], dtype="int64")
    if name == "prompt_id":
        return pd.array([t.prompt.prompt_id for t in tasks], dtype=RESULT_COLUMNS[name])
    if name == "version":
        return pd.array([t.prompt.version for t in tasks], dtype=RESULT_COLUMNS[name])
    if name == "model":
        return pd.array([t.model for t in tasks], dtype=RESULT_COLUMNS[name])
    if name == "call_key":
        return pd.array([t.key for t in tasks], dtype=RESULT_COLUMNS[name])
    results = [t.result for t in tasks]
    if RESULT_COLUMNS[name] == "bool":  # cached, replayed: never null (a result without one is False)
        return np.array(list(map(dict.get, results, repeat(name), repeat(False))), dtype="bool")
    return pd.array(list(map(dict.get, results, repeat(name))), dtype=RESULT_COLUMNS[name])


def _with_fields(frame: pandas.DataFrame, tasks: Sequence[Task], fields: list[FieldColumn]) -> pandas.DataFrame:
    """``frame`` with the schema's field columns and ``valid`` right after ``output_text``."""
    import pandas as pd

    (valid_column,) = result_columns("schema")
    valid = [task.result.get(valid_column.name) for task in tasks]
    values = [json.loads(task.result["output_text"]) if ok else {} for task, ok in zip(tasks, valid)]
    at = list(frame.columns).index(placed_after(valid_column.name)) + 1
    for offset, column in enumerate(fields):
        frame.insert(at + offset, column.column, column.array([value.get(column.field) for value in values]))
    frame.insert(at + len(fields), valid_column.name, pd.array(valid, dtype=valid_column.dtype))
    frame.attrs["llamabook"] = {**frame.attrs.get("llamabook", {}), "fields": [f.column for f in fields]}
    return frame


def with_group(frame: pandas.DataFrame, results: Sequence[Any], group: str) -> pandas.DataFrame:
    """``frame`` with a group of result columns (``"batch"``: ``batch_id``, ``custom_id``; ``"repeats"``: ``repeat``) at their place.

    The columns, their dtypes and their place come from :class:`~llamabook.types.grid_rows.GridResult`.
    """
    import pandas as pd

    added = result_columns(group)
    at = list(frame.columns).index(placed_after(added[0].name)) + 1
    for offset, column in enumerate(added):
        frame.insert(at + offset, column.name, pd.array([r.get(column.name) for r in results], dtype=column.dtype))
    return frame
