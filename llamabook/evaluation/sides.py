"""Two sides of a grid, paired: a ``baseline`` and a ``candidate``, matched by input row and repeat.

A side names a prompt version (an int), a model (a str) or both (``{"version": 2, "model": "…"}``),
as the grid's ``version`` and ``model`` columns hold them. :func:`pair` finds each side's calls and
lines them up: by ``row``, by ``repeat`` when the grid has one, and by whichever of version and model
neither side names (``baseline=1, candidate=2`` on a grid of two models pairs each model's calls with
its own). :func:`~llamabook.evaluation.significance.significance` and
:func:`~llamabook.evaluation.behaviour_diff.behaviour_diff` read both sides through it.
pandas is imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from ..errors import InvalidRequest
from ..frames import none_if_missing, require_columns

if TYPE_CHECKING:
    import pandas

#: What ``baseline=`` / ``candidate=`` take: a version, a model, or ``{"version": …, "model": …}``.
SideRef = Union[int, str, Mapping[str, Any]]

#: The columns a side can name.
DIMENSIONS = ("version", "model")


@dataclass(frozen=True)
class Side:
    """One side of a comparison: the version and/or model it names (None: not named)."""

    version: int | None = None
    model: str | None = None

    @classmethod
    def of(cls, ref: SideRef, role: str) -> Side:
        """``ref`` as a Side; ``role`` ("baseline", "candidate") names it in the error for a bad one."""
        if isinstance(ref, bool):
            raise InvalidRequest(f"{role}= takes a version (int), a model (str) or {{'version': …, 'model': …}}, not {ref!r}")
        if isinstance(ref, int):
            return cls(version=ref)
        if isinstance(ref, str) and ref:
            return cls(model=ref)
        if isinstance(ref, Mapping) and ref and set(ref) <= set(DIMENSIONS):
            version, model = ref.get("version"), ref.get("model")
            if (version is None or (isinstance(version, int) and not isinstance(version, bool))) and (
                model is None or (isinstance(model, str) and model)
            ):
                return cls(version=version, model=model)
        raise InvalidRequest(
            f"{role}= takes a version (int), a model (str) or {{'version': …, 'model': …}}, not {ref!r}"
        )

    @property
    def named(self) -> dict[str, Any]:
        """The dimensions this side names, ``{"version": 2}``."""
        return {name: value for name, value in (("version", self.version), ("model", self.model)) if value is not None}

    @property
    def label(self) -> str:
        """``"v2"``, ``"smollm2"`` or ``"v2 · smollm2"``: how views and tables name the side."""
        parts = ([f"v{self.version}"] if self.version is not None else []) + ([self.model] if self.model else [])
        return " · ".join(parts)


@dataclass(frozen=True)
class Pairs:
    """Both sides' calls, aligned: line ``i`` of ``baseline`` and of ``candidate`` share the values of ``keys``.

    ``baseline_only`` / ``candidate_only`` count the calls the other side has no partner for (left out).
    """

    baseline_side: Side
    candidate_side: Side
    keys: list[str]
    baseline: pandas.DataFrame
    candidate: pandas.DataFrame
    baseline_only: int
    candidate_only: int

    def __len__(self) -> int:
        return len(self.baseline)


def pair(grid: pandas.DataFrame, baseline: SideRef, candidate: SideRef, caller: str = "pair()") -> Pairs:
    """The calls of ``baseline`` and ``candidate`` in ``grid``, paired (see the module's docstring).

    Raises :class:`~llamabook.InvalidRequest`, saying what the grid holds, when a side is not in the
    grid, when both sides are the same, when a side matches calls of several values of a dimension
    the other side names, or when the pairing keys repeat on one side (the same row asked twice).
    """
    require_columns(grid, ["row", *DIMENSIONS], caller)
    base, cand = Side.of(baseline, "baseline"), Side.of(candidate, "candidate")
    if base == cand:
        raise InvalidRequest(f"{caller}: baseline and candidate are the same ({base.label}); name two versions or models")
    named = set(base.named) | set(cand.named)
    keys = ["row", *(["repeat"] if "repeat" in grid.columns else []), *(d for d in DIMENSIONS if d not in named)]
    frames = {}
    for role, side in (("baseline", base), ("candidate", cand)):
        frame = _calls_of(grid, side, role, caller)
        for dimension in named - set(side.named):
            values = _present(frame[dimension])
            if len(values) > 1:
                raise InvalidRequest(
                    f"{caller}: {role} {side.label} matches calls of {len(values)} {dimension}s ({', '.join(map(str, values))}); "
                    f"name one, e.g. {role}={{{', '.join(f'{k!r}: {v!r}' for k, v in {**side.named, dimension: values[0]}.items())}}}"
                )
        duplicated = frame.duplicated(keys)
        if duplicated.any():
            raise InvalidRequest(
                f"{caller}: {role} {side.label} has {int(duplicated.sum())} call(s) that repeat a {' × '.join(keys)}; "
                "each input row (and repeat) must be asked once per side"
            )
        frames[role] = frame
    return _aligned(base, cand, keys, frames["baseline"], frames["candidate"])


def _calls_of(grid: pandas.DataFrame, side: Side, role: str, caller: str) -> pandas.DataFrame:
    mask = None
    for dimension, value in side.named.items():
        matches = grid[dimension].eq(value).fillna(False).astype(bool)
        mask = matches if mask is None else mask & matches
    frame = grid[mask]
    if frame.empty:
        held = "; ".join(f"{d}s: {', '.join(map(str, _present(grid[d]))) or 'none'}" for d in DIMENSIONS)
        raise InvalidRequest(f"{caller}: {role} {side.label} is not in the grid ({held})")
    return frame


def _present(column: pandas.Series) -> list[Any]:
    """The distinct values of a column, missing ones left out, in order of appearance."""
    return [value for value in dict.fromkeys(map(none_if_missing, column)) if value is not None]


def _aligned(
    base: Side, cand: Side, keys: list[str], baseline: pandas.DataFrame, candidate: pandas.DataFrame
) -> Pairs:
    import pandas as pd

    left = baseline.reset_index(drop=True).assign(_position=lambda f: range(len(f)))
    right = candidate.reset_index(drop=True).assign(_position=lambda f: range(len(f)))
    on_left, on_right = left[keys].astype("object"), right[keys].astype("object")
    matched = pd.merge(
        on_left.assign(_left=left["_position"]), on_right.assign(_right=right["_position"]), on=keys, how="inner", sort=False
    )
    return Pairs(
        baseline_side=base,
        candidate_side=cand,
        keys=keys,
        baseline=baseline.iloc[matched["_left"].to_numpy()].reset_index(drop=True),
        candidate=candidate.iloc[matched["_right"].to_numpy()].reset_index(drop=True),
        baseline_only=len(baseline) - len(matched),
        candidate_only=len(candidate) - len(matched),
    )
