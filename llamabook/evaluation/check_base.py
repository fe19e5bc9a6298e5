"""What a check is (:class:`Check`), what it sees of a grid result (:class:`CheckInput`, the row's
cells and :class:`Column`) and what it gives (:class:`Outcome`): the protocol every check follows."""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import InvalidRequest
from ..frames import none_if_missing
from ..types.grid_rows import ROW, ResultColumn, read_by, result_dtypes


#: Statuses of a call that checks run on; other rows (failed, cancelled) get null checks.
CHECKED_STATUSES = ("completed", "incomplete")


class _CreatesResponses(Protocol):
    def create(self, *args: Any, **kwargs: Any) -> Any: ...


class _ListsModels(Protocol):
    def list(self) -> Any: ...

    def default(self) -> str: ...


class JudgeClient(Protocol):
    """What a judge needs of a client (a :class:`~llamabook.Client` is one)."""

    @property
    def responses(self) -> _CreatesResponses: ...

    @property
    def models(self) -> _ListsModels: ...


def _optional(kind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else kind(value)


def _cell_reader(column: ResultColumn) -> Callable[[Any], Any]:
    """How :meth:`CheckInput.from_values` turns a cell (missing: None already) into the field's Python value."""
    if column.name == "output_text":
        return lambda value: value or ""  # a check always gets text
    if column.type == "bool":
        return bool  # a missing cut_off or cached is False
    return {"int | None": _optional(int), "float | None": _optional(float)}.get(column.type, lambda value: value)


#: The result columns a check sees, and how each is read from a grid row.
_SEEN: tuple[tuple[str, Callable[[Any], Any]], ...] = tuple((c.name, _cell_reader(c)) for c in read_by("checks"))


def _from_values(cls: type, values: Mapping[str, Any]) -> Any:
    """From a grid row (a dict, or a DataFrame row's values): missing cells become None, numbers plain Python."""
    return cls(**{name: read(none_if_missing(values.get(name))) for name, read in _SEEN})


#: What a check sees of one grid result: the result columns of its grid row that are marked ``checks`` in
#: :class:`~llamabook.types.grid_rows.GridResult`, with their Python types. A frozen dataclass, made with
#: keyword arguments (or :meth:`CheckInput.from_values`).
CheckInput = dataclasses.make_dataclass(
    "CheckInput",
    [(column.name, column.type) for column in read_by("checks")],
    frozen=True,
    kw_only=True,
    namespace={
        "__module__": __name__,  # checks.py names it as its own, where users import it from
        "__doc__": "What a check sees of one grid result: the result columns of its grid row ("
        + ", ".join(f"``{name}``" for name, _ in _SEEN)
        + ").",
        "from_values": classmethod(_from_values),
    },
)


#: The columns of a grid frame that are not the row's own (the result columns, and ``row``).
GRID_COLUMNS = frozenset({ROW.name, *result_dtypes()})


@dataclass(frozen=True)
class Column:
    """A value read from the row's column ``name``, in place of a literal (see :func:`column`)."""

    name: str


def column(name: str) -> Column:
    """Read a built-in check's value from the row's column ``name``: ``contains(column("expected"))``."""
    if not isinstance(name, str) or not name:
        raise InvalidRequest(f"column() takes a column name, not {name!r}")
    return Column(name)


@dataclass(frozen=True)
class Outcome:
    """One check on one row: its value, or why it has none; a judge's response id; a judge's cache key."""

    value: bool | float | None
    error: str | None = None
    judge_id: str | None = None
    key: str | None = None


class Check:
    """Base of the checks: ``check(row, result)`` returns True/False or a number.

    ``kind`` is ``"float"`` for a score (its column is Float64 even when no row could be scored),
    else None: a check returning numbers gets a Float64 column, True/False a boolean one.
    ``needs_client`` is True for a check that calls a model (a :func:`judge`).
    """

    needs_client: bool = False
    kind: str | None = None

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool | float:
        raise NotImplementedError

    def reads(self) -> list[str]:
        """The row's columns this check reads (checked against the rows before anything runs)."""
        return [v.name for v in vars(self).values() if isinstance(v, Column)]

    def cache_key(self, row: Mapping[str, Any], result: CheckInput) -> str | None:
        """A key under which this check's outcome may be kept in the run log (None: never kept, run again)."""
        return None

    def evaluate(self, row: Mapping[str, Any], result: CheckInput, client: JudgeClient | None) -> Outcome:
        """Run the check; whatever it raises or returns that is not a verdict becomes the outcome's error."""
        try:
            return Outcome(_verdict(self(row, result)))
        except Exception as exc:  # a check's bug or an odd row: no verdict here (an error, not a fail), the grid goes on
            return Outcome(None, describe_error(exc))


def _verdict(value: Any) -> bool | float:
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":  # numpy.bool_ too
        return bool(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"a check returns True/False or a number, not {type(value).__name__} {value!r:.60}")


def describe_error(exc: BaseException) -> str:
    """An exception as an outcome's error: ``"ValueError: …"``."""
    return f"{type(exc).__name__}: {exc}"


def value_of(value: Any, row: Mapping[str, Any]) -> Any:
    """A literal as it is; a :class:`Column` as the row's value (raises when the cell is empty)."""
    if not isinstance(value, Column):
        return value
    cell = none_if_missing(row.get(value.name))
    if cell is None:
        raise ValueError(f"this row has no value in column {value.name!r}")
    return cell


def text_of(value: Any, row: Mapping[str, Any]) -> str:
    """:func:`value_of` as text."""
    cell = value_of(value, row)
    return cell if isinstance(cell, str) else str(cell)
