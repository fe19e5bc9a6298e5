"""``behaviour_diff(grid, baseline=…, candidate=…)``: what changed in the answers between two sides of a grid.

The two sides (a version, a model or both) are paired by :func:`~llamabook.evaluation.sides.pair`: the
same input row, the same repeat when the grid has a ``repeat`` column, and the same value of whichever
of version and model neither side names. For each pair the :class:`BehaviourDiff` holds a word-level
diff of the two ``output_text`` s (``(op, text)`` segments, :func:`llamabook.diffs.diff_texts`), which
checks flipped, the score deltas and the output-token, cost and latency deltas, biggest change first.

A check that raised on either side is an error (``⚠``), never a flip. It is shown as an error and
counts as a change when the two sides differ in it. The :class:`BehaviourDiff` is shown as HTML in a
notebook (its ``notebook_view`` in :mod:`llamabook.views.reprs`) and saved as one inert,
self-contained file with :meth:`BehaviourDiff.save_html`. pandas is imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..diffs import Segment, diff_texts, tokens
from ..errors import InvalidRequest
from ..frames import check_columns, none_if_missing, require_columns
from ..prices import Prices, check_prices
from ..types.base import NotebookRepr
from ..types.grid_rows import result_dtypes
from .compare import Cell, CheckMark, save_page
from .scores import _cost
from .sides import Pairs, Side, SideRef, pair

if TYPE_CHECKING:
    import pandas

#: Grid columns :func:`behaviour_diff` needs; ``input_tokens``, ``output_tokens``, ``latency_s``,
#: ``replayed``, ``response_id`` and ``error`` are read when the grid has them.
NEEDED = ("row", "version", "model", "output_text", "status")
CALLER = "behaviour_diff()"


@dataclass(frozen=True)
class CheckChange:
    """One check of one pair: its :class:`~llamabook.evaluation.compare.CheckMark` on each side."""

    name: str
    baseline: CheckMark
    candidate: CheckMark

    @property
    def kind(self) -> str:
        """``"error"`` (it raised on either side: never a flip), ``"flip"`` (pass on one side, fail on the
        other), ``"score"`` (a score on both sides), ``"same"`` or ``"missing"`` (it ran on one side only)."""
        kinds = {self.baseline.kind, self.candidate.kind}
        if "error" in kinds:
            return "error"
        if kinds == {"pass", "fail"}:
            return "flip"
        if kinds == {"score"}:
            return "score"
        return "same" if len(kinds) == 1 else "missing"

    @property
    def direction(self) -> str | None:
        """``"pass→fail"`` or ``"fail→pass"`` for a flip, else None."""
        return f"{self.baseline.kind}→{self.candidate.kind}" if self.kind == "flip" else None

    @property
    def delta(self) -> float | None:
        """The candidate's score minus the baseline's (a score check on both sides), else None."""
        if self.kind != "score":
            return None
        return float(self.candidate.value) - float(self.baseline.value)  # type: ignore[arg-type]

    @property
    def changed(self) -> bool:
        """A flip, a check that ran on one side only, a score that moved, or an error on one side (or another one)."""
        if self.kind == "error":
            return (self.baseline.kind, self.baseline.error) != (self.candidate.kind, self.candidate.error)
        return self.kind in ("flip", "missing") or bool(self.delta)


@dataclass(frozen=True)
class PairDiff:
    """One input row (and repeat) asked of both sides: both calls, their word diff, check changes and deltas.

    ``keys`` are the values the pair shares (``row``, ``repeat``, the dimension neither side names);
    ``own`` the row's own columns. Deltas are the candidate's minus the baseline's, None when either is
    missing (``latency_delta_s`` too when either answer was replayed from a cassette).
    """

    keys: dict[str, Any]
    own: dict[str, Any]
    baseline: Cell
    candidate: Cell
    segments: tuple[Segment, ...]
    checks: tuple[CheckChange, ...] = ()
    output_tokens_delta: int | None = None
    cost_delta_usd: float | None = None
    latency_delta_s: float | None = None
    #: either answer was replayed from a cassette (so there is no latency delta)
    replayed: bool = False

    @property
    def row(self) -> int:
        """The grid's ``row`` number of the pair."""
        return int(self.keys["row"])

    @property
    def flipped(self) -> tuple[CheckChange, ...]:
        """The checks that passed on one side and failed on the other."""
        return tuple(c for c in self.checks if c.kind == "flip")

    @property
    def errored(self) -> tuple[CheckChange, ...]:
        """The checks that raised on either side (errors, not flips)."""
        return tuple(c for c in self.checks if c.kind == "error")

    @property
    def score_deltas(self) -> dict[str, float]:
        """``{check: candidate − baseline}`` for each score check scored on both sides."""
        return {c.name: c.delta for c in self.checks if c.delta is not None}

    @property
    def words_changed(self) -> int:
        """The word-diff distance: words (and other non-space tokens) deleted plus inserted."""
        return sum(1 for op, text in self.segments if op != "equal" for token in tokens(text) if not token.isspace())

    @property
    def changed(self) -> bool:
        """Whether anything changed: the output text, the call's status, or any check (:attr:`CheckChange.changed`)."""
        text = self.baseline.output_text != self.candidate.output_text
        return text or self.baseline.status != self.candidate.status or any(c.changed for c in self.checks)

    @property
    def change(self) -> tuple[int, float, int]:
        """How big the change is, the sort key: (flipped checks, |score deltas| summed, :attr:`words_changed`)."""
        moved = round(float(sum(abs(d) for d in self.score_deltas.values())), 9)
        return len(self.flipped), moved, self.words_changed


@dataclass(frozen=True, repr=False)
class BehaviourDiff(NotebookRepr):
    """Two sides of a grid paired call by call (see the module's docstring), biggest change first.

    ``pairs`` are the :class:`PairDiff` s shown (those that changed with ``only_changes=True``);
    ``paired`` counts all pairs, ``baseline_only`` / ``candidate_only`` the calls left without a partner.
    """

    notebook_view = "behaviour_diff"
    baseline: Side
    candidate: Side
    pairs: tuple[PairDiff, ...]
    keys: tuple[str, ...]
    own_columns: tuple[str, ...]
    checks: tuple[str, ...] = ()
    score_checks: tuple[str, ...] = ()
    only_changes: bool = False
    paired: int = 0
    baseline_only: int = 0
    candidate_only: int = 0

    def __len__(self) -> int:
        return len(self.pairs)

    def summary(self) -> str:
        """``Behaviour diff v1 → v2 · 4 pairs · 3 changed · 2 flipped checks`` (the text form)."""
        changed = sum(p.changed for p in self.pairs)
        flips = sum(len(p.flipped) for p in self.pairs)
        parts = [f"Behaviour diff {self.baseline.label} → {self.candidate.label}", _count(self.paired, "pair")]
        parts += [f"{changed} changed" + (" (shown)" if self.only_changes else ""), _count(flips, "flipped check")]
        unpaired = self.baseline_only + self.candidate_only
        if unpaired:
            parts.append(f"{_count(unpaired, 'call')} without a partner left out")
        return " · ".join(parts)

    def __repr__(self) -> str:
        return self.summary()

    def to_pandas(self) -> pandas.DataFrame:
        """One line per pair, in this order: the keys, the row's own columns, both outputs and statuses,
        ``words_changed``, ``segments`` (the ``(op, text)`` list), ``flips``, ``flipped`` (``✓→✗ name``),
        ``check_errors`` (``⚠ name``), ``score_delta_<check>``, ``output_tokens_delta``, ``cost_delta_usd``,
        ``latency_delta_s`` and ``changed``."""
        import pandas as pd

        lines = [_line(p, self.score_checks) for p in self.pairs]
        names = [*self.keys, *self.own_columns, *LINE_DTYPES, *(f"score_delta_{n}" for n in self.score_checks)]
        names += list(DELTA_DTYPES)
        frame = pd.DataFrame(lines, columns=names)
        scores = dict.fromkeys((f"score_delta_{n}" for n in self.score_checks), "Float64")
        return frame.astype({**LINE_DTYPES, **scores, **DELTA_DTYPES})

    def save_html(self, path: str | PathLike[str]) -> Path:
        """Write the diff as one self-contained HTML file (inline CSS, no script, no URL); returns its path."""
        return save_page(self._repr_html_(), path, "llamabook behaviour diff")


#: Columns of :meth:`BehaviourDiff.to_pandas` after the own columns, and their dtypes ("object": a list).
LINE_DTYPES = {
    "baseline_output": "string", "candidate_output": "string", "baseline_status": "string",
    "candidate_status": "string", "words_changed": "int64", "segments": "object", "flips": "int64",
    "flipped": "string", "check_errors": "string",
}  # fmt: skip
DELTA_DTYPES = {"output_tokens_delta": "Int64", "cost_delta_usd": "Float64", "latency_delta_s": "Float64", "changed": "bool"}


def _line(p: PairDiff, score_checks: tuple[str, ...]) -> dict[str, Any]:
    """One pair as a line of :meth:`BehaviourDiff.to_pandas`."""
    flipped = " · ".join(f"{c.baseline.mark}→{c.candidate.mark} {c.name}" for c in p.flipped)
    return {
        **p.keys, **p.own, "baseline_output": p.baseline.output_text, "candidate_output": p.candidate.output_text,
        "baseline_status": p.baseline.status, "candidate_status": p.candidate.status,
        "words_changed": p.words_changed, "segments": list(p.segments), "flips": len(p.flipped),
        "flipped": flipped or None, "check_errors": " · ".join(f"⚠ {c.name}" for c in p.errored) or None,
        **{f"score_delta_{n}": p.score_deltas.get(n) for n in score_checks},
        "output_tokens_delta": p.output_tokens_delta, "cost_delta_usd": p.cost_delta_usd,
        "latency_delta_s": p.latency_delta_s, "changed": p.changed,
    }  # fmt: skip


def behaviour_diff(
    grid: pandas.DataFrame,
    *,
    baseline: SideRef,
    candidate: SideRef,
    only_changes: bool = False,
    prices: Prices | None = None,
) -> BehaviourDiff:
    """Each input row's answer from ``baseline`` against ``candidate``'s (see the module's docstring).

    ``baseline`` / ``candidate`` name a version (int), a model (str) or both (``{"version": 2, "model": "…"}``).
    Pairs are sorted by :attr:`PairDiff.change`, biggest first: flipped checks, then how far the scores
    moved, then the word-diff distance; on a tie a pair where anything changed (a check that raised on one
    side, a status) comes first, then the grid's order. ``only_changes=True`` keeps the
    pairs where anything changed (:attr:`PairDiff.changed`). ``prices`` as :func:`~llamabook.evaluation.scores.scores`
    takes them (else the grid's recorded ones; without either, cost deltas are null).

    Raises :class:`~llamabook.InvalidRequest` before anything else for a grid that is not one, a side
    not in the grid (or both the same), a check that ran on one side only, no pair at all, or bad prices.
    """
    require_columns(grid, NEEDED, CALLER)
    if not isinstance(only_changes, bool):
        raise InvalidRequest(f"{CALLER}: only_changes is True or False, not {only_changes!r}")
    recorded = (grid.attrs.get("llamabook") or {}).get("prices")  # what Client(prices=…) records
    table = check_prices(prices if prices is not None else recorded)
    checks = check_columns(grid.columns)
    pairs = pair(grid, baseline, candidate, CALLER)
    if not len(pairs):
        raise InvalidRequest(
            f"{CALLER}: {pairs.baseline_side.label} and {pairs.candidate_side.label} share no {' × '.join(pairs.keys)}: "
            "there is nothing to pair"
        )
    _require_checks_on_both(pairs, checks)
    own = _own_columns(grid, pairs.keys)
    made = _pair_diffs(pairs, own, checks, table)
    scored = tuple(n for n in checks if any(c.name == n and c.kind == "score" for p in made for c in p.checks))
    shown = sorted((p for p in made if p.changed or not only_changes), key=lambda p: (p.change, p.changed), reverse=True)
    return BehaviourDiff(
        baseline=pairs.baseline_side, candidate=pairs.candidate_side, pairs=tuple(shown), keys=tuple(pairs.keys),
        own_columns=tuple(own), checks=tuple(checks), score_checks=scored, only_changes=only_changes,
        paired=len(pairs), baseline_only=pairs.baseline_only, candidate_only=pairs.candidate_only,
    )  # fmt: skip


def _require_checks_on_both(pairs: Pairs, checks: dict[str, str]) -> None:
    """A check that gave results on one side and none at all on the other's answered calls is a bad input."""
    for name, column in checks.items():
        ran = {}
        for role, frame in (("baseline", pairs.baseline), ("candidate", pairs.candidate)):
            results = frame[column].notna()
            if f"{column}_error" in frame.columns:
                results = results | frame[f"{column}_error"].notna()
            answered = frame["status"].eq("completed").fillna(False).astype(bool)
            ran[role] = (bool(results.any()), bool(answered.any()))
        for role, other in (("baseline", "candidate"), ("candidate", "baseline")):
            if ran[role][0] and not ran[other][0] and ran[other][1]:
                raise InvalidRequest(
                    f"{CALLER}: the check {name!r} ran on the {role} but on none of the {other}'s answers: "
                    "run it on both (lb.checks.apply) before comparing them"
                )


def _own_columns(grid: pandas.DataFrame, keys: list[str]) -> list[str]:
    """The row's own columns: those the grid's frame marks (``attrs["llamabook"]["grid"]["own"]``), else
    every column that is no result, no check and no pairing key."""
    marked = ((grid.attrs.get("llamabook") or {}).get("grid") or {}).get("own")
    if marked is not None:
        return [str(c) for c in marked if c in grid.columns and c not in keys]
    results = result_dtypes()
    return [
        str(c) for c in grid.columns
        if c not in keys and c not in ("row", "repeat") and c not in results and not str(c).startswith("check_")
    ]  # fmt: skip


def _pair_diffs(
    pairs: Pairs, own: list[str], checks: dict[str, str], table: dict[str, tuple[float, float]] | None
) -> list[PairDiff]:
    """A :class:`PairDiff` per pair, in the pairs' order."""
    sides = [_records(pairs.baseline), _records(pairs.candidate)]
    costs = [_costs(pairs.baseline, table), _costs(pairs.candidate, table)]
    made = []
    for i, (base, cand) in enumerate(zip(*sides)):
        b, c = Cell.of(base, checks), Cell.of(cand, checks)
        made.append(
            PairDiff(
                keys={k: base[k] for k in pairs.keys},
                own={name: base.get(name) for name in own},
                baseline=b,
                candidate=c,
                segments=tuple(diff_texts(b.output_text or "", c.output_text or "")),
                checks=tuple(CheckChange(mb.name, mb, mc) for mb, mc in zip(b.checks, c.checks)),
                output_tokens_delta=_int(_delta(base.get("output_tokens"), cand.get("output_tokens"))),
                cost_delta_usd=_delta(costs[0][i], costs[1][i]),
                latency_delta_s=_latency_delta(base, cand),
                replayed=bool(base.get("replayed") or cand.get("replayed")),
            )
        )
    return made


def _records(frame: pandas.DataFrame) -> list[dict[str, Any]]:
    """The frame's lines as dicts, missing values as None."""
    return [{str(k): none_if_missing(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]


def _costs(frame: pandas.DataFrame, table: dict[str, tuple[float, float]] | None) -> list[float | None]:
    """Each call's cost in USD as :func:`~llamabook.evaluation.scores.scores` counts it (None without a price)."""
    if table is None or not {"input_tokens", "output_tokens"} <= set(frame.columns):
        return [None] * len(frame)
    return [_cost(frame.iloc[[i]], table.get(str(frame["model"].iloc[i]))) for i in range(len(frame))]


def _delta(base: Any, cand: Any) -> Any:
    """``cand - base``, None when either is missing."""
    return None if base is None or cand is None else cand - base


def _int(value: Any) -> int | None:
    """A count as a Python int (None stays None)."""
    return None if value is None else int(value)


def _latency_delta(base: dict[str, Any], cand: dict[str, Any]) -> float | None:
    """The latency delta in seconds; None when either side was replayed from a cassette (it has no latency)."""
    if base.get("replayed") or cand.get("replayed"):
        return None
    delta = _delta(base.get("latency_s"), cand.get("latency_s"))
    return None if delta is None else float(delta)


def _count(n: int, what: str) -> str:
    """``"1 pair"``, ``"3 pairs"``."""
    return f"{n} {what}{'s' if n != 1 else ''}"


__all__ = ["BehaviourDiff", "CheckChange", "PairDiff", "behaviour_diff"]
