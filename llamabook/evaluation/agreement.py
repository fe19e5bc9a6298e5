"""``agreement(frame, a, b)``: how far two raters of the same rows agree, e.g. a judge check and a human label.

Cohen's kappa, the raw agreement and the confusion table between two columns of labels: booleans
(``check_judge``, ``human_judge``) or categories (text, or whole numbers such as 1–5 stars). Only rows
where both columns have a value count (``n``); the others are left out and counted: ``missing`` (a
value absent) and ``errored`` (a check column whose ``<column>_error`` is set: it gave no verdict).
Two columns of different kinds (a bool against text or a score) are refused, as is a fractional score
(threshold it first: ``frame["check_relevance"] >= 0.5``).

kappa = (p_o − p_e) / (1 − p_e), p_o the share of rows where both agree, p_e the share expected by
chance from each column's own shares; it is NaN when p_e = 1 (both columns always give the same one
value: agreement by chance alone). pandas is imported on first use.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequest
from ..frames import none_if_missing, require_columns
from ..types.base import NotebookRepr

if TYPE_CHECKING:
    import pandas

#: The kinds of label :func:`agreement` compares; both columns must be of the same one.
KINDS = ("boolean", "category", "number")


@dataclass(frozen=True, eq=False)
class Agreement(NotebookRepr):
    """Two columns' agreement: ``kappa`` (Cohen's), ``agreement`` (raw, 0..1), ``n`` rows where both have
    a value, ``missing`` and ``errored`` rows left out, the ``kind`` of label, and ``confusion``: a DataFrame
    of counts, ``a``'s values down, ``b``'s across (the same values on both axes, so agreement is its diagonal)."""

    a: str
    b: str
    kind: str
    kappa: float
    agreement: float
    n: int
    missing: int
    errored: int
    confusion: pandas.DataFrame

    notebook_view = "agreement"

    def summary(self) -> str:
        """``check_judge vs human_judge: kappa 0.40, agreement 70% (n=10; 2 missing, 1 errored)``."""
        kappa = "undefined (each side gives one value)" if math.isnan(self.kappa) else f"{self.kappa:.2f}"
        return (
            f"{self.a} vs {self.b}: kappa {kappa}, agreement {self.agreement:.0%} "
            f"(n={self.n}; {self.missing} missing, {self.errored} errored)"
        )

    def __repr__(self) -> str:
        return self.summary()


def agreement(frame: pandas.DataFrame, a: str, b: str) -> Agreement:
    """Cohen's kappa, raw agreement, ``n`` and the confusion table between columns ``a`` and ``b`` of ``frame``
    (see the module docstring). Raises :class:`~llamabook.InvalidRequest` for a missing column, columns of
    different kinds, a fractional score, or no row where both have a value."""
    require_columns(frame, (a, b), "agreement()", "a DataFrame with both columns")
    if a == b:
        raise InvalidRequest(f"agreement() compares two columns: a and b are both {a!r}")
    left, right = _values(frame, a), _values(frame, b)
    kind_a, kind_b = _kind(a, left), _kind(b, right)
    if kind_a and kind_b and kind_a != kind_b:
        raise InvalidRequest(
            f"agreement() compares labels of one kind: {a!r} holds {kind_a} values, {b!r} {kind_b} values "
            f"(e.g. frame[{a!r}] == 'good' or frame[{b!r}] >= 0.5 to make them match)"
        )
    errored = _errors(frame, a) | _errors(frame, b)
    pairs, missing = [], 0
    for index, (x, y) in enumerate(zip(left, right)):
        if index in errored:
            continue
        if x is None or y is None:
            missing += 1
        else:
            pairs.append((x, y))
    if not pairs:
        raise InvalidRequest(
            f"No row has both {a!r} and {b!r} ({missing} missing, {len(errored)} errored): label some rows first"
        )
    kappa, observed = cohen_kappa(pairs)
    return Agreement(a, b, kind_a or kind_b or "boolean", kappa, observed, len(pairs), missing, len(errored),
                     _confusion(pairs, a, b))  # fmt: skip


def cohen_kappa(pairs: list[tuple[Any, Any]]) -> tuple[float, float]:
    """(Cohen's kappa, raw agreement) of (a, b) pairs; kappa is NaN when chance agreement is 1."""
    n = len(pairs)
    observed = sum(x == y for x, y in pairs) / n
    counts_a, counts_b = Counter(x for x, _ in pairs), Counter(y for _, y in pairs)
    expected = sum(counts_a[value] * counts_b[value] for value in counts_a) / (n * n)
    if math.isclose(expected, 1.0):
        return math.nan, observed
    return (observed - expected) / (1 - expected), observed


def _values(frame: pandas.DataFrame, column: str) -> list[Any]:
    """The column as Python values (None when missing; numpy's bools and numbers as Python's)."""
    values = []
    for value in frame[column].tolist():
        value = none_if_missing(value)
        if type(value).__module__ == "numpy" and hasattr(value, "item"):
            value = value.item()
        values.append(value)
    return values


def _kind(column: str, values: list[Any]) -> str | None:
    """``"boolean"``, ``"category"`` (text) or ``"number"`` (whole numbers); None when every value is missing."""
    kinds = set()
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            kinds.add("boolean")
        elif isinstance(value, str):
            kinds.add("category")
        elif isinstance(value, (int, float)):
            if not float(value).is_integer():
                raise InvalidRequest(
                    f"{column!r} holds the score {value!r}: agreement() compares labels; threshold a score first "
                    f"(frame[{column!r}] >= 0.5)"
                )
            kinds.add("number")
        else:
            raise InvalidRequest(f"{column!r} holds {value!r}: agreement() compares booleans, text or whole numbers")
    if len(kinds) > 1:
        raise InvalidRequest(f"{column!r} mixes {' and '.join(sorted(kinds))} values: one kind of label per column")
    return kinds.pop() if kinds else None


def _errors(frame: pandas.DataFrame, column: str) -> set[int]:
    """Positions of the rows whose ``<column>_error`` is set (a check that raised)."""
    companion = f"{column}_error"
    if companion not in frame.columns:
        return set()
    return {i for i, value in enumerate(frame[companion].tolist()) if none_if_missing(value) not in (None, "")}


def _confusion(pairs: list[tuple[Any, Any]], a: str, b: str) -> pandas.DataFrame:
    """Counts of each (a value, b value), both axes over every value either column gave, sorted."""
    import pandas as pd

    labels = sorted({x for x, _ in pairs} | {y for _, y in pairs}, key=lambda v: (str(type(v)), v))
    counts = Counter(pairs)
    table = pd.DataFrame(
        [[counts[(x, y)] for y in labels] for x in labels],
        index=pd.Index(labels, name=a),
        columns=pd.Index(labels, name=b),
        dtype="int64",
    )
    return table


__all__ = ["Agreement", "agreement", "cohen_kappa"]
