"""``compare(grid)``: a grid side by side, one line per input row, one column per (version, model).

The :class:`Comparison` is shown as HTML in a notebook (by its ``notebook_view`` in
:mod:`llamabook.views.reprs`, like every wire object; this module names no view) and saved as one
self-contained HTML file with :meth:`Comparison.save_html`. pandas is imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequest
from ..frames import check_columns, none_if_missing, require_columns
from ..types.base import NotebookRepr
from ..types.grid_rows import read_by, result_columns, result_dtypes
from .compare_summary import ColumnSummary, summarize, summary_frame

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
class CheckTally:
    """One check over the repeats of one cell (``grid(..., repeats=N)``): ``passed`` of the ``judged``
    repeats for a pass/fail check, the ``mean`` of the ``judged`` scores for a score check.

    ``errors`` counts the repeats where the check raised: an error is never a verdict, so it is neither
    a pass nor a fail and is not in ``judged``. ``total`` is the cell's repeats (N). Text form
    (:meth:`__str__`): ``2/3 ✓ has_city`` (2 of the 3 judged passed), ``0.50 n=3 quality`` (a mean of
    3 scores), ``2/2 ✓ ⚠1 polite`` (1 raised, 2 passed), ``⚠3 polite`` (every repeat raised), ``– name``
    (the check never ran).
    """

    name: str
    total: int
    judged: int = 0
    passed: int = 0
    #: A score check's mean over the judged repeats (None for a pass/fail check).
    mean: float | None = None
    errors: int = 0

    @classmethod
    def of(cls, name: str, marks: Sequence[CheckMark]) -> CheckTally:
        """The tally of ``marks``, one per repeat (a check that did not run in a repeat is a ``"none"`` mark)."""
        judged = [mark for mark in marks if mark.kind in ("pass", "fail", "score")]
        errors = sum(mark.kind == "error" for mark in marks)
        passed = sum(mark.kind == "pass" for mark in judged)
        if not any(mark.kind == "score" for mark in judged):
            return cls(name, len(marks), len(judged), passed, None, errors)
        mean = sum(float(mark.value) for mark in judged) / len(judged)  # type: ignore[arg-type]
        return cls(name, len(marks), len(judged), passed, mean, errors)

    @property
    def kind(self) -> str:
        """``"pass"`` (every judged repeat passed), ``"fail"`` (none did), ``"mixed"``, ``"score"``,
        ``"error"`` (every repeat that ran raised) or ``"none"`` (the check never ran)."""
        if not self.judged:
            return "error" if self.errors else "none"
        if self.mean is not None:
            return "score"
        return "pass" if self.passed == self.judged else "fail" if not self.passed else "mixed"

    @property
    def verdicts(self) -> str | None:
        """What the judged repeats say: ``2/3 ✓`` or ``0.50 n=3`` (None when no repeat was judged)."""
        if not self.judged:
            return None
        return f"{self.mean:.2f} n={self.judged}" if self.mean is not None else f"{self.passed}/{self.judged} ✓"

    @property
    def mark(self) -> str:
        """:attr:`verdicts`, then ``⚠<errors>`` when the check raised; ``–`` when it never ran."""
        parts = [part for part in (self.verdicts, f"⚠{self.errors}" if self.errors else None) if part]
        return " ".join(parts) or MARKS["none"]

    @property
    def title(self) -> str:
        """The tally in words (a view's tooltip)."""
        said = f"mean {self.mean:.2f} of {self.judged}" if self.mean is not None else f"{self.passed} of {self.judged} passed"
        raised = f", {self.errors} raised (no verdict)" if self.errors else ""
        return f"{self.name}: {said}{raised} · {self.total} repeats"

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
    #: which of the cell's repeats this call is (``grid(..., repeats=N)``; 0 without repeats)
    repeat: int = 0

    @classmethod
    def of(cls, values: Mapping[str, Any], checks: Mapping[str, str]) -> Cell:
        """One line of a grid (its values, NA as None) as a Cell; ``checks`` is ``{name: check column}``."""
        return cls(
            row=int(values["row"]),
            version=values["version"],
            model=str(values["model"]),
            output_text=values["output_text"],
            status=values["status"],
            error=values.get("error"),
            cut_off=bool(values.get("cut_off")),
            response_id=values.get("response_id"),
            batch_id=values.get("batch_id"),
            custom_id=values.get("custom_id"),
            checks=tuple(CheckMark.of(name, values[column], values.get(f"{column}_error")) for name, column in checks.items()),
            repeat=int(values.get("repeat") or 0),
        )

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

    **Repeats** (``grid(..., repeats=N)``): each (row, column) holds its N calls, repeat 0 first
    (:meth:`repeats`; :meth:`cell` is repeat 0). :attr:`frame` keeps one column per (version, model):
    its output is repeat 0's, and its checks column is each check's :class:`CheckTally` over the
    repeats (:meth:`tallies`), e.g. ``2/3 ✓ has_city · 0.50 n=3 quality · ⚠1 polite``: passes of the
    repeats judged, a score's mean, ``⚠<n>`` for the repeats where the check raised (never a pass or a
    fail). The HTML shows the same, and the N outputs in a ``<details>`` element.

    **Summaries** (:attr:`summaries`, made once by :func:`compare`; :mod:`.compare_summary`): per column,
    each check's pass rate (or mean score) with its interval, ``n`` and errors counted apart (as
    ``lb.scores`` gives them), and for every column after the first its verdict against the first (the
    baseline), as ``lb.significance`` gives it (none without scipy, or for a column it cannot pair).
    The HTML shows them under the table; :meth:`summary_frame` gives them as a DataFrame. A grid
    without checks has none.
    """

    notebook_view = "comparison"

    def __init__(
        self,
        cells: dict[tuple[int, Column], Cell | Sequence[Cell]],
        rows: list[int],
        columns: list[Column],
        own: dict[int, dict[str, Any]],
        own_columns: list[str],
        *,
        only_differences: bool = False,
        has_checks: bool = False,
        summaries: Sequence[ColumnSummary] = (),
    ) -> None:
        #: Each (row, column)'s calls, repeat 0 first (one call without repeats).
        self._calls = {
            key: (found,) if isinstance(found, Cell) else tuple(sorted(found, key=lambda call: call.repeat))
            for key, found in cells.items()
        }
        #: The most repeats of any cell: 1 for a grid without repeats.
        self.repeat_count = max(map(len, self._calls.values()), default=1)
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
        #: Each column's checks in figures, first column (the baseline) first (:mod:`.compare_summary`).
        self.summaries = tuple(summaries)

    @property
    def has_repeats(self) -> bool:
        """Whether a cell holds more than one call (a grid run with ``repeats=`` above 1)."""
        return self.repeat_count > 1

    def cell(self, row: int, column: Column) -> Cell | None:
        """The call of ``row`` for ``column``, repeat 0 with repeats (None when the grid has no such call)."""
        calls = self._calls.get((row, column))
        return calls[0] if calls else None

    def repeats(self, row: int, column: Column) -> list[Cell]:
        """Every call of ``row`` for ``column``, by repeat (one without repeats; none when the grid has no such call)."""
        return list(self._calls.get((row, column), ()))

    def tallies(self, row: int, column: Column) -> tuple[CheckTally, ...]:
        """Each check over the repeats of ``row`` in ``column`` (:class:`CheckTally`, in repeat 0's order)."""
        calls = self._calls.get((row, column), ())
        names = list(dict.fromkeys(mark.name for call in calls for mark in call.checks))
        marks = [{mark.name: mark for mark in call.checks} for call in calls]
        return tuple(CheckTally.of(name, [found.get(name, CheckMark(name, None)) for found in marks]) for name in names)

    def checks_text(self, row: int, column: Column) -> str | None:
        """The frame's checks cell: the marks of the call, or the tallies of its repeats (None: no call)."""
        cell = self.cell(row, column)
        if cell is None:
            return None
        return " · ".join(map(str, self.tallies(row, column) if self.has_repeats else cell.checks))

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
                    line[f"{self.label(column)} checks"] = self.checks_text(row, column)
            lines.append(line)
        names = ["row", *self.own_columns]
        for column in self.columns:
            names += [self.label(column)] + ([f"{self.label(column)} checks"] if self.has_checks else [])
        frame = pd.DataFrame(lines, columns=names)
        frame["row"] = frame["row"].astype("int64")
        return frame.astype({name: "string" for name in names[1 + len(self.own_columns) :]})

    def summary_frame(self) -> pandas.DataFrame:
        """:attr:`summaries` as a DataFrame: one line per (column, check) with ``column`` (``v1 model``),
        ``check``, ``kind``, ``value``, ``low``, ``high``, ``n``, ``errors``, ``verdict``, ``p_adjusted``."""
        return summary_frame(self.summaries)

    def summary(self) -> str:
        """``Comparison · 3 rows · 2 columns: v1 m, v2 m`` (the text form)."""
        rows = f"{len(self.rows)} row{'s' if len(self.rows) != 1 else ''}"
        if self.only_differences:
            rows += " that differ"
        shown = ", ".join(map(self.label, self.columns)) or "none"
        repeats = f" · {self.repeat_count} repeats" if self.has_repeats else ""
        return f"Comparison · {rows} · {len(self.columns)} column{'s' if len(self.columns) != 1 else ''}: {shown}{repeats}"

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
    (a failed call, with no output, differs from one that answered). With repeats, repeat ``r`` of a
    column is compared with repeat ``r`` of the others (pairs as ``lb.significance`` makes them): a row
    differs when any of its repeats does. A grid with repeats (its ``repeat`` column) gives each cell
    its N calls (see :class:`Comparison`); two calls for the same row, column and repeat are an error.
    Each column's checks are summed up once, in :attr:`Comparison.summaries` (:mod:`.compare_summary`).
    """
    require_columns(grid, NEEDED, "compare()")
    if not isinstance(only_differences, bool):
        raise InvalidRequest(f"only_differences is True or False, not {only_differences!r}")
    checks = check_columns(grid.columns)
    grid_columns = {*result_dtypes(), *(column.name for column in result_columns("repeats"))}  # `repeat` is no own column
    own_names = [
        str(c) for c in grid.columns if c != "row" and c not in grid_columns and not str(c).startswith("check_")
    ]
    has_repeat = "repeat" in grid.columns
    calls: dict[tuple[int, Column], dict[int, Cell]] = {}
    own: dict[int, dict[str, Any]] = {}
    for record in grid.to_dict(orient="records"):
        values = {str(k): none_if_missing(v) for k, v in record.items()}
        cell = Cell.of(values, checks)
        column = (cell.version, cell.model)
        found = calls.setdefault((cell.row, column), {})
        if cell.repeat in found:
            again = f", repeat {cell.repeat}" if has_repeat else ""
            raise InvalidRequest(
                f"The grid has more than one call for row {cell.row}, {Comparison.label(column)}{again}: compare one "
                "grid (or drop the repeated lines first)"
            )
        found[cell.repeat] = cell
        own.setdefault(cell.row, {name: values[name] for name in own_names})
    cells = {key: list(found.values()) for key, found in calls.items()}
    columns = list(dict.fromkeys(column for _, column in cells))
    shown = list(own)
    if only_differences:
        shown = [row for row in shown if _differs(calls, row, columns)]
    summaries = summarize(grid, columns) if checks else ()
    return Comparison(
        cells, shown, columns, own, own_names, only_differences=only_differences, has_checks=bool(checks), summaries=summaries
    )


def _differs(calls: dict[tuple[int, Column], dict[int, Cell]], row: int, columns: list[Column]) -> bool:
    """Whether ``row``'s outputs are not the same in every column, repeat by repeat (a missing call: None)."""
    found = [calls.get((row, column), {}) for column in columns]
    repeats = sorted({repeat for by_repeat in found for repeat in by_repeat}) or [0]
    return any(
        len({by_repeat[repeat].output_text if repeat in by_repeat else None for by_repeat in found}) > 1
        for repeat in repeats
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


__all__ = ["MARKS", "Cell", "CheckMark", "CheckTally", "Column", "Comparison", "compare"]
