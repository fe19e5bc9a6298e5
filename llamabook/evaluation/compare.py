"""``compare(grid)``: a grid side by side, one line per input row, one column per (version, model).

The :class:`Comparison` is shown as HTML in a notebook (by its ``notebook_view`` in
:mod:`llamabook.views.reprs`, like every wire object; this module names no view) and saved as one
self-contained HTML file with :meth:`Comparison.save_html`. pandas is imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequest
from ..frames import check_columns, none_if_missing, require_columns
from ..types.base import NotebookRepr
from ..types.grid_rows import read_by, result_dtypes

if TYPE_CHECKING:
    import pandas

#: A column of the comparison: (prompt version, model).
Column = tuple[Any, str]

#: Grid columns :func:`compare` reads (those :class:`~llamabook.types.grid_rows.GridResult` marks ``compare``).
NEEDED = tuple(column.name for column in read_by("compare"))
#: The page :meth:`Comparison.save_html` writes around the rendered table (no script, no URL).
DOCUMENT = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>{title}</title>\n'
    '</head>\n<body style="margin:16px;font-family:system-ui,sans-serif;">\n{body}\n</body>\n</html>\n'
)


#: The mark of each :attr:`CheckMark.kind` but a score (shown as its value, ``0.80``).
MARKS = {"pass": "✓", "fail": "✗", "error": "⚠", "none": "–"}


@dataclass(frozen=True)
class CheckMark:
    """One check of one call: ``value`` True/False (pass/fail), a float score, or None (not run);
    ``error`` is the message of a check that raised (an error, not a verdict: its kind is ``"error"``)."""

    name: str
    value: bool | float | None
    error: str | None = None

    @classmethod
    def of(cls, name: str, value: Any, error: Any = None) -> CheckMark:
        """From a grid's cells ``check_<name>`` and ``check_<name>_error`` (NA as missing, numpy values too).

        A value that is no check (not True/False or a number) is an :class:`~llamabook.InvalidRequest`.
        """
        error = none_if_missing(error)
        return cls(name, _check_value(none_if_missing(value)), None if error is None else str(error))

    @property
    def kind(self) -> str:
        """``"pass"``, ``"fail"``, ``"score"``, ``"error"`` (the check raised, whatever ``value`` says) or ``"none"``."""
        if self.error is not None:
            return "error"
        if self.value is None:
            return "none"
        if isinstance(self.value, bool):
            return "pass" if self.value else "fail"
        return "score"

    @property
    def mark(self) -> str:
        """``✓``, ``✗``, the score as ``0.80``, ``⚠`` when the check raised, or ``–`` when it did not run."""
        return MARKS.get(self.kind) or f"{self.value:.2f}"

    def __str__(self) -> str:
        return f"{self.mark} {self.name}"


@dataclass(frozen=True)
class Cell:
    """One call of the grid: a row's answer from one (version, model)."""

    row: int
    version: Any
    model: str
    output_text: str | None
    status: str | None
    error: str | None
    cut_off: bool
    response_id: str | None
    checks: tuple[CheckMark, ...] = ()
    #: the batch that ran this call (``grid(executor="batch"/"jsonl")``: no response id), and its line's id
    batch_id: str | None = None
    custom_id: str | None = None

    def record(self) -> list[tuple[str, Any]]:
        """This call's stored result as (name, value) pairs: what a view shows when there is no response to open."""
        pairs = [("output_text", self.output_text), ("error", self.error), ("cut_off", self.cut_off)]
        pairs += [("batch_id", self.batch_id), ("custom_id", self.custom_id)]
        pairs += [(f"check {mark.name}", f"{mark.mark} {mark.error}" if mark.error else mark.mark) for mark in self.checks]
        return [(name, value) for name, value in pairs if value is not None]


class Comparison(NotebookRepr):
    """A grid side by side: :attr:`frame` has one line per input row, one column per (version, model).

    :attr:`frame` columns: ``row``, the row's own columns, then for each column of :attr:`columns`
    its output (labelled ``v1 model``, see :meth:`label`) and, when the grid has checks, its marks
    (``v1 model checks``, e.g. ``✓ exact · ✗ short · 0.80 relevance · ⚠ polite``, ``⚠`` for a check
    that raised). A failed call's output is null there; its error, and a check's error message, are
    in the HTML (as text) and in :meth:`cell` (``cell.error``, ``cell.checks[i].error``).
    """

    notebook_view = "comparison"

    def __init__(
        self,
        cells: dict[tuple[int, Column], Cell],
        rows: list[int],
        columns: list[Column],
        own: dict[int, dict[str, Any]],
        own_columns: list[str],
        *,
        only_differences: bool = False,
        has_checks: bool = False,
    ) -> None:
        self._cells = cells
        #: The input rows shown, by their grid ``row`` number.
        self.rows = rows
        #: The (version, model) pairs, in the grid's order.
        self.columns = columns
        #: The row's own values, by row number.
        self.own = own
        #: The row's own columns (the variables the grid ran over).
        self.own_columns = own_columns
        self.only_differences = only_differences
        self.has_checks = has_checks

    def cell(self, row: int, column: Column) -> Cell | None:
        """The call of ``row`` for ``column`` (None when the grid has no such call)."""
        return self._cells.get((row, column))

    @staticmethod
    def label(column: Column) -> str:
        """``v1 model``: the frame's name for a column."""
        version, model = column
        return f"v{version} {model}"

    @property
    def frame(self) -> pandas.DataFrame:
        """The wide DataFrame (see the class docstring)."""
        import pandas as pd

        lines = []
        for row in self.rows:
            line: dict[str, Any] = {"row": row, **self.own[row]}
            for column in self.columns:
                cell = self.cell(row, column)
                line[self.label(column)] = cell.output_text if cell else None
                if self.has_checks:
                    line[f"{self.label(column)} checks"] = " · ".join(map(str, cell.checks)) if cell else None
            lines.append(line)
        names = ["row", *self.own_columns]
        for column in self.columns:
            names += [self.label(column)] + ([f"{self.label(column)} checks"] if self.has_checks else [])
        frame = pd.DataFrame(lines, columns=names)
        frame["row"] = frame["row"].astype("int64")
        return frame.astype({name: "string" for name in names[1 + len(self.own_columns) :]})

    def summary(self) -> str:
        """``Comparison · 3 rows · 2 columns: v1 m, v2 m`` (the text form)."""
        rows = f"{len(self.rows)} row{'s' if len(self.rows) != 1 else ''}"
        if self.only_differences:
            rows += " that differ"
        shown = ", ".join(map(self.label, self.columns)) or "none"
        return f"Comparison · {rows} · {len(self.columns)} column{'s' if len(self.columns) != 1 else ''}: {shown}"

    def __repr__(self) -> str:
        return self.summary()

    def save_html(self, path: str | PathLike[str]) -> Path:
        """Write the comparison as one self-contained HTML file (inline CSS, no script, no URL); returns its path."""
        return save_page(self._repr_html_(), path, "llamabook comparison")


def save_page(body: str | None, path: str | PathLike[str], title: str) -> Path:
    """Write ``body`` (a view's HTML; None without jinja2) as one self-contained :data:`DOCUMENT`; returns its path."""
    if body is None:
        raise ModuleNotFoundError("save_html() needs jinja2: pip install 'llamabook[widgets]'", name="jinja2")
    target = Path(path)
    # ASCII with character references (✓ is &#10003;): the file reads right in any encoding, no <meta> needed.
    target.write_text(DOCUMENT.format(title=title, body=body), encoding="ascii", errors="xmlcharrefreplace")
    return target


def compare(grid: pandas.DataFrame, only_differences: bool = False) -> Comparison:
    """A ``client.grid`` result side by side: one line per input row, one column per (version, model).

    ``only_differences=True`` keeps only the rows whose outputs are not the same in every column
    (a failed call, with no output, differs from one that answered).
    """
    require_columns(grid, NEEDED, "compare()")
    if not isinstance(only_differences, bool):
        raise InvalidRequest(f"only_differences is True or False, not {only_differences!r}")
    checks = check_columns(grid.columns)
    grid_columns = result_dtypes()
    own_names = [
        str(c) for c in grid.columns if c != "row" and c not in grid_columns and not str(c).startswith("check_")
    ]
    cells: dict[tuple[int, Column], Cell] = {}
    rows: dict[int, None] = {}
    columns: dict[Column, None] = {}
    own: dict[int, dict[str, Any]] = {}
    for record in grid.to_dict(orient="records"):
        values = {str(k): none_if_missing(v) for k, v in record.items()}
        row, column = int(values["row"]), (values["version"], str(values["model"]))
        if (row, column) in cells:
            raise InvalidRequest(
                f"The grid has more than one call for row {row}, {Comparison.label(column)}: compare one grid "
                "(or drop the repeated lines first)"
            )
        rows.setdefault(row)
        columns.setdefault(column)
        own.setdefault(row, {name: values[name] for name in own_names})
        cells[(row, column)] = Cell(
            row=row,
            version=column[0],
            model=column[1],
            output_text=values["output_text"],
            status=values["status"],
            error=values["error"],
            cut_off=bool(values.get("cut_off")),
            response_id=values["response_id"],
            batch_id=values.get("batch_id"),
            custom_id=values.get("custom_id"),
            checks=tuple(
                CheckMark.of(name, values[column_name], values.get(f"{column_name}_error"))
                for name, column_name in checks.items()
            ),
        )
    shown = list(rows)
    if only_differences:
        shown = [
            row for row in shown
            if len({(cells[(row, c)].output_text if (row, c) in cells else None) for c in columns}) > 1
        ]  # fmt: skip
    return Comparison(
        cells, shown, list(columns), own, own_names, only_differences=only_differences, has_checks=bool(checks)
    )


def _check_value(value: Any) -> bool | float | None:
    """A check cell as Python: True/False, a float score, or None."""
    if value is None:
        return None
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":  # numpy's bool too
        return bool(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"A check holds {value!r}: a check is True/False or a score 0..1") from None


__all__ = ["MARKS", "Cell", "CheckMark", "Column", "Comparison", "compare"]
