"""A grid's frame in a notebook: a compact table, ``output_text`` wide and its line breaks kept.

A grid's frame is a plain pandas DataFrame that carries a mark in ``frame.attrs["llamabook"]["grid"]``
(``llamabook.grid.frame.GRID_MARK``, set by ``to_frame``: the row's own columns). In a running
IPython kernel, ``import llamabook`` (and ``%load_ext llamabook``) has IPython's HTML formatter call
:func:`frame_html` for every DataFrame: a marked one that still has its grid columns is shown here,
every other DataFrame (a column selection ``grid[[...]]``, ``pd.DataFrame(grid)``, any frame of
your own) as pandas shows it. A DataFrame formatter someone else registered is left in place.
The DataFrame keeps every column and its text/plain form is pandas'. Every value is escaped by
the template (:func:`~llamabook.views.sanitize.render`): model output is shown as text.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .comparisons import CHECK_COLOURS
from .sanitize import render

if TYPE_CHECKING:
    import pandas

#: ``frame.attrs["llamabook"]`` key of a grid's mark (``llamabook.grid.frame.GRID_MARK``; a test keeps them equal).
MARK = "grid"
#: The grid's columns shown after the row's own columns, in this order (``output_text`` the wide one).
SHOWN = ("version", "model", "status", "output_text")
#: Rows shown at most (the rest are counted under the table).
MAX_ROWS = 60
#: How to see every column, said under the table.
ALL_COLUMNS_HINT = "every column: pd.DataFrame(grid) or grid.to_html()"


def grid_columns(frame: pandas.DataFrame) -> list[str] | None:
    """The columns the compact display shows, or None when ``frame`` is not a grid's frame.

    The row's own columns, ``version``, ``model``, ``repeat`` (with repeats), ``status``, ``output_text``, the schema's field
    columns, ``error`` when a row has one, and each check's ``check_<name>`` column. A frame that
    lost one of these (a selection of columns) is no longer shown as a grid.
    """
    mark = frame.attrs.get("llamabook", {}).get(MARK) if isinstance(frame.attrs.get("llamabook"), dict) else None
    if not isinstance(mark, dict):
        return None
    own = [str(name) for name in mark.get("own", [])]
    fields = [str(name) for name in frame.attrs["llamabook"].get("fields", [])]
    columns = [str(name) for name in frame.columns]
    if len(set(columns)) != len(columns) or not {*own, *SHOWN, *fields} <= set(columns):
        return None
    taken = {*own, *fields}
    checks = [
        name
        for name in columns
        if name.startswith("check_") and name not in taken and not name.endswith(("_error", "_judge_id"))
    ]
    error = ["error"] if "error" in columns and frame["error"].notna().any() else []
    repeat = ["repeat"] if "repeat" in columns and "repeat" not in taken else []
    return [*own, "version", "model", *repeat, "status", "output_text", *fields, *error, *checks]


def grid_html(frame: pandas.DataFrame) -> str | None:
    """A grid's frame as a compact HTML table (None when ``frame`` is not a grid's frame)."""
    columns = grid_columns(frame)
    if columns is None:
        return None
    checks = {name for name in columns if name.startswith("check_") and name not in frame.attrs["llamabook"][MARK]["own"]}
    shown = frame.iloc[:MAX_ROWS]
    rows = [
        [_cell(name, value, name in checks) for name, value in zip(columns, values)]
        for values in shown[columns].itertuples(index=False, name=None)
    ]
    return render(
        "grid.html",
        columns=columns,
        rows=rows,
        more_rows=len(frame) - len(shown),
        total_columns=len(frame.columns),
        hint=ALL_COLUMNS_HINT,
    )


def _cell(name: str, value: Any, check: bool) -> dict[str, Any]:
    """One value as the template shows it: its text, its kind (``output``, ``check``, ``value``), a check's colour."""
    text = _text(value)
    if check and type(value).__name__ in ("bool", "bool_"):  # numpy.bool_ too
        return {"kind": "check", "text": "✓" if value else "✗", "title": text, "colour": CHECK_COLOURS["pass" if value else "fail"]}
    if check and text:
        return {"kind": "check", "text": text, "title": text, "colour": CHECK_COLOURS["score"]}
    return {"kind": "output" if name == "output_text" else "value", "text": text, "title": text, "colour": None}


def _text(value: Any) -> str:
    """A value as text: empty for a missing one (None, NaN, pd.NA), floats shortened."""
    try:
        import pandas as pd

        if value is None or value is pd.NA or value is pd.NaT:
            return ""
    except ImportError:  # pragma: no cover - a frame means pandas is there
        pass
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value)


#: Where pandas' DataFrame lives, for IPython's formatter registry (``pandas`` from pandas 3 on).
DATAFRAME_NAMES = (("pandas", "DataFrame"), ("pandas.core.frame", "DataFrame"))


def frame_html(frame: Any) -> str | None:
    """IPython's text/html for a DataFrame: a grid's compact view (:func:`grid_html`), else pandas' own
    ``_repr_html_`` (a formatter that returns None would show no HTML at all)."""
    try:
        html = grid_html(frame)
    except ImportError:  # jinja2 missing (no 'widgets' extra): pandas shows it
        html = None
    return html if html is not None else frame._repr_html_()


def show_grids_compactly(ipython: Any) -> None:
    """Have ``ipython`` show DataFrames through :func:`frame_html` (pandas is not imported here).

    Nothing changes where a DataFrame printer other than :func:`frame_html` is registered already.
    """
    import sys

    formatter = ipython.display_formatter.formatters["text/html"]
    pandas = sys.modules.get("pandas")
    taken = [formatter.deferred_printers.get(name) for name in DATAFRAME_NAMES]
    if pandas is not None:
        taken.append(formatter.type_printers.get(pandas.DataFrame))
    if any(printer is not None and printer is not frame_html for printer in taken):
        return
    for module, name in DATAFRAME_NAMES:
        formatter.for_type_by_name(module, name, frame_html)
    if pandas is not None:  # already imported: the type itself, so its deferred entry need not match
        formatter.for_type(pandas.DataFrame, frame_html)


def show_grids_as_pandas(ipython: Any) -> None:
    """Undo :func:`show_grids_compactly` (``%unload_ext llamabook``)."""
    import sys

    formatter = ipython.display_formatter.formatters["text/html"]
    for name in DATAFRAME_NAMES:
        if formatter.deferred_printers.get(name) is frame_html:
            formatter.deferred_printers.pop(name)
    pandas = sys.modules.get("pandas")
    if pandas is not None and formatter.type_printers.get(pandas.DataFrame) is frame_html:
        formatter.type_printers.pop(pandas.DataFrame)


def show_grids_in_running_kernel() -> None:
    """:func:`show_grids_compactly` in the IPython shell running now, if any (``import llamabook`` calls it)."""
    import sys

    ipython_module = sys.modules.get("IPython")  # never imported here: only a running shell matters
    get_ipython = getattr(ipython_module, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    if shell is not None and getattr(shell, "display_formatter", None) is not None:
        show_grids_compactly(shell)
