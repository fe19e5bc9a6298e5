"""A grid's input rows: a DataFrame or a list of dicts as plain records, and what each cell sees of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InvalidRequest, MissingVariables
from ..frames import none_if_missing
from ..types import Prompt

_NOT_ROWS = "rows must be a DataFrame or a list of dicts (one dict of variables per row)"


def records(rows: Any) -> list[dict[str, Any]]:
    """``rows`` as one dict per row; a missing value is None whatever its form (None, NaN, pd.NA, NaT)."""
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        fast = plain_records(rows)
        if fast is not None:
            return fast
        return [{str(k): none_if_missing(v) for k, v in record.items()} for record in rows.to_dict(orient="records")]
    if isinstance(rows, Mapping) or isinstance(rows, (str, bytes)):
        raise InvalidRequest(_NOT_ROWS)
    found = list(rows)
    if not all(isinstance(r, Mapping) for r in found):
        raise InvalidRequest(_NOT_ROWS)
    return [{k: none_if_missing(v) for k, v in r.items()} for r in found]


def plain_records(frame: Any) -> list[dict[str, Any]] | None:
    """A DataFrame's rows as the records ``to_dict(orient="records")`` gives, built column by column.

    Only for unique string column names whose columns are numbers, booleans or text (their cells
    come out as the same Python values, a missing one as None); None for any other frame, which
    takes the general path. Ten times faster than a dict per row through pandas on 100,000 rows
    (``bench/bench_big_grid.py``); ``tests/integration/test_big_grid.py`` holds it equal to the general path.
    """
    names = list(frame.columns)
    if not all(type(name) is str for name in names) or len(set(names)) != len(names):
        return None
    columns = []
    for index in range(len(names)):
        values = _plain_column(frame.iloc[:, index])
        if values is None:
            return None
        columns.append(values)
    return [dict(zip(names, cells)) for cells in zip(*columns)] if columns else [{} for _ in range(len(frame))]


def _plain_column(series: Any) -> list[Any] | None:
    """A column's cells as Python values (a missing one as None), or None for a column of other values."""
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        values = series.tolist()  # Python int / float / bool, as to_dict gives them
    elif isinstance(dtype, pd.StringDtype) or dtype == object:
        values = series.tolist()
        # object columns only when they hold nothing but text and missing values
        if dtype == object and not all(type(v) is str or v is None for v in values):
            return None
    else:
        return None
    missing = series.isna()
    if missing.any():
        values = [None if gap else value for value, gap in zip(values, missing.tolist())]
    return values


def check_columns(names: Sequence[str], rows: list[dict[str, Any]], prompt_id: str | None, named: str | None = None) -> None:
    """:class:`~llamabook.MissingVariables` when the rows have no column for one of ``names``.

    ``named`` is the prompt as the user wrote it (``haiku``, ``haiku@2``), None for a template string.
    """
    if not rows:
        return
    columns = set().union(*rows)
    missing = [name for name in names if name not in columns]
    if missing:
        raise MissingVariables(missing, prompt_id, no_column_advice(missing), named=named, because=no_column(missing, rows))


#: How many of the rows' columns a message lists.
LISTED_COLUMNS = 20


def no_column(missing: Sequence[str], rows: list[dict[str, Any]]) -> str:
    """``rows has no column 'mood' (columns: topic)``: why a grid has no value for ``missing``, with the columns it has."""
    have = list(dict.fromkeys(name for row in rows for name in row))  # in the rows' order
    listed = ", ".join(map(str, have[:LISTED_COLUMNS])) if have else "none"
    more = f", and {len(have) - LISTED_COLUMNS} more" if len(have) > LISTED_COLUMNS else ""
    which = f"column {missing[0]!r}" if len(missing) == 1 else f"columns {', '.join(map(repr, missing))}"
    return f"rows has no {which} (columns: {listed}{more})"


def no_column_advice(missing: Sequence[str]) -> str:
    """What to do when the rows have no column for ``missing``."""
    return "Add that column to rows." if len(missing) == 1 else "Add those columns to rows."


def declared(record: dict[str, Any], prompt: Prompt) -> dict[str, Any]:
    """The row's values of the variables ``prompt`` declares (a missing one left out)."""
    return {name: value for name in prompt.variables if (value := record.get(name)) is not None}


_PLAIN = frozenset({str, int, float, bool})


def shown(record: dict[str, Any]) -> dict[str, Any]:
    """The row's values as output columns: scalars as they are, anything else as text."""
    for v in record.values():
        if v is not None and type(v) not in _PLAIN and not isinstance(v, (str, int, float, bool)):
            return {k: v if v is None or isinstance(v, (str, int, float, bool)) else str(v) for k, v in record.items()}
    return dict(record)


def no_value_advice(rows: Sequence[int], names: Sequence[str]) -> str:
    """The grid's advice for rows with no value in ``names`` (several rows: the same request, one result)."""
    columns = ", ".join(map(repr, names))
    if len(rows) == 1:
        return f"Row {rows[0]} has no value in the column(s) {columns}: fill them in or leave the row out."
    listed = f"{', '.join(map(str, rows[:-1]))} and {rows[-1]}"
    return f"Rows {listed} have no value in the column(s) {columns}: fill them in or leave the rows out."
