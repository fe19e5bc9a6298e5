"""``significance(grid, baseline=…, candidate=…)``: is the candidate better or worse than the baseline, check by check?

Both sides are read from one grid and paired by input row (and repeat, when the grid has one) by
:func:`~llamabook.evaluation.sides.pair`, so each row is compared with itself: the difference
between two versions on the same input is much less noisy than between two independent samples.
:func:`assert_no_regression` is the same table as a test, for pytest and nbval in CI.
pandas and scipy are imported on first use (scipy through :func:`llamabook._lazy.load`).

The tests:

- **Pass/fail checks**: the exact McNemar test, ``scipy.stats.binomtest`` on the discordant
  pairs (passed on one side only) against 1/2; it uses only the pairs that differ, which is
  where the evidence is. The delta interval is the Agresti–Min adjusted Wald interval for a
  paired difference (Wald on the 2×2 table with 0.5 added to each cell; Agresti & Min 2005),
  which keeps close to its level even with a handful of pairs, where the plain Wald interval
  collapses. It is not the test inverted: at the margin the two can disagree; the verdict
  follows the test.
- **Score checks**: the Wilcoxon signed-rank test on the paired differences
  (``scipy.stats.wilcoxon``, zero differences dropped), rather than a paired bootstrap: judge
  scores are bounded, lumpy and skewed, so a test on ranks assumes no shape; its p-value is
  exact for small samples and has no resampling noise (Holm compares p-values to each other,
  and the same grid must give the same verdict); and it is fast at 100,000 pairs. The delta
  interval is for the mean difference: a seeded bootstrap of the paired differences up to
  2,000 pairs, the normal approximation above (:mod:`llamabook.evaluation.intervals`).

``p_adjusted`` is Holm's step-down adjustment across the checks: it keeps the chance of any false
"better" or "worse" in the table at ``alpha``, without assuming the checks are independent.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .._lazy import load
from ..errors import InvalidRequest
from ..frames import check_columns, require_columns
from .intervals import check_confidence, mean_interval, z_of
from .scores import CheckValues, evaluated_checks
from .sides import Pairs, SideRef, pair

if TYPE_CHECKING:
    import pandas

#: The columns of :func:`significance`, with their dtypes.
COLUMNS = {
    "check": "string",
    "kind": "string",
    "n": "int64",
    "errors": "int64",
    "baseline_rate": "Float64",
    "candidate_rate": "Float64",
    "delta": "Float64",
    "delta_low": "Float64",
    "delta_high": "Float64",
    "p_value": "Float64",
    "p_adjusted": "Float64",
    "verdict": "string",
    "test": "string",
}
#: The tests named in the ``test`` column.
MCNEMAR = "exact McNemar (binomial test on the discordant pairs)"
WILCOXON = "Wilcoxon signed-rank"


def significance(
    grid: pandas.DataFrame, baseline: SideRef, candidate: SideRef, alpha: float = 0.05
) -> pandas.DataFrame:
    """One row per check of ``grid``: the candidate against the baseline on the same input rows.

    ``baseline`` and ``candidate`` name a version (an int), a model (a str) or both
    (``{"version": 2, "model": "…"}``), as the grid holds them; calls are paired by ``row``, by
    ``repeat`` when the grid has one, and by the dimension neither side names.

    Columns: ``check``; ``kind`` (``"pass/fail"`` or ``"score"``); ``n``, the pairs evaluated on
    both sides; ``errors``, the pairs left out because the check raised on either side (an error is
    never a pass or a fail); ``baseline_rate`` / ``candidate_rate``, the pass rate (or mean score)
    of each side over those ``n`` pairs; ``delta`` (candidate − baseline) and ``delta_low`` /
    ``delta_high``, its interval at ``1 − alpha``; ``p_value``; ``p_adjusted``, Holm's adjustment
    across the checks; ``verdict``, ``"better"`` or ``"worse"`` when ``p_adjusted < alpha`` (the
    sign of ``delta``), else ``"no evidence"``; ``test``, the test that gave the p-value.

    Pass/fail checks use the exact McNemar test (delta interval: Agresti–Min's paired Wald), score
    checks the Wilcoxon signed-rank test (delta interval: a seeded bootstrap of the mean paired
    difference, normal above 2,000 pairs); the module's docstring says why.

    A check with no pair evaluated on both sides has a null p-value and ``"no evidence"``.
    The frame's ``attrs["llamabook"]`` holds the sides' labels, ``alpha``, the pairs and the calls
    of each side left unpaired (``baseline_only``, ``candidate_only``).

    Raises :class:`~llamabook.InvalidRequest` when ``alpha`` is not in (0, 1), when a side is not
    in the grid (see :func:`~llamabook.evaluation.sides.pair`), when the grid has no check column,
    or when a check has no result at all on one side (its column is empty there).
    """
    import pandas as pd

    caller = "significance()"
    alpha = check_confidence(alpha, caller, "alpha")
    level = 1 - alpha
    require_columns(grid, ["row", "version", "model", "status"], caller)
    if not check_columns(grid.columns):
        raise InvalidRequest(
            f"{caller}: the grid has no check column (check_<name>): run it with checks=[…] or add them with lb.checks.apply"
        )
    pairs = pair(grid, baseline, candidate, caller)
    sides = evaluated_checks(pairs.baseline), evaluated_checks(pairs.candidate)
    records = []
    for name in sides[0]:
        _require_results(name, sides, pairs, caller)
        records.append(_compare_check(name, sides[0][name], sides[1][name], level))
    frame = pd.DataFrame(records, columns=list(COLUMNS))
    frame["p_adjusted"] = holm(frame["p_value"].to_numpy(dtype=float))
    frame["verdict"] = [_verdict(p, d, alpha) for p, d in zip(frame["p_adjusted"], frame["delta"])]
    frame = frame.astype(COLUMNS)
    frame.attrs["llamabook"] = {
        "baseline": pairs.baseline_side.label, "candidate": pairs.candidate_side.label, "alpha": alpha,
        "pairs": len(pairs), "baseline_only": pairs.baseline_only, "candidate_only": pairs.candidate_only,
    }  # fmt: skip
    return frame


def assert_no_regression(
    grid: pandas.DataFrame, baseline: SideRef, candidate: SideRef, alpha: float = 0.05
) -> pandas.DataFrame:
    """:func:`significance`, as a test: an ``AssertionError`` when any check's verdict is ``"worse"``.

    The error's message names the checks that got worse and holds the whole table as text, so a
    failing pytest or nbval run says what regressed. Returns the table otherwise. ``"no evidence"``
    passes: with few rows, a real regression may not show; add rows (or repeats) to see smaller ones.
    """
    table = significance(grid, baseline=baseline, candidate=candidate, alpha=alpha)
    worse = table[table["verdict"] == "worse"]
    if len(worse):
        sides = table.attrs["llamabook"]
        names = ", ".join(str(name) for name in worse["check"])
        raise AssertionError(
            f"{sides['candidate']} is worse than {sides['baseline']} on {names} "
            f"(Holm-adjusted p < {alpha}):\n{table.to_string(index=False)}"
        )
    return table


def holm(p_values: Any) -> np.ndarray:
    """Holm's step-down adjustment of ``p_values`` (NaNs stay NaN and do not count as tests)."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    order = present[np.argsort(p[present], kind="stable")]
    tests = len(order)
    running = 0.0
    for rank, at in enumerate(order):
        running = max(running, min(1.0, (tests - rank) * p[at]))
        adjusted[at] = running
    return adjusted


def _require_results(name: str, sides: tuple[dict[str, CheckValues], ...], pairs: Pairs, caller: str) -> None:
    """A check with neither a verdict nor an error on one side was not run there: say so."""
    for role, checks, calls in (("baseline", sides[0], pairs.baseline), ("candidate", sides[1], pairs.candidate)):
        check = checks[name]
        if np.isnan(check.values).all() and not check.errored.any():
            label = getattr(pairs, f"{role}_side").label
            why = "every call of it failed" if calls["status"].eq("failed").all() else f"its check_{name} column is empty there"
            raise InvalidRequest(
                f"{caller}: check {name!r} has no result on the {role} side ({label}): {why}. "
                f"Run the check on both sides (lb.checks.apply(grid, …)), or leave check_{name} out of the grid"
            )


def _compare_check(name: str, base: CheckValues, cand: CheckValues, level: float) -> dict[str, Any]:
    """The figures of one check over the pairs evaluated on both sides."""
    before, after = base.values, cand.values
    errors = base.errored | cand.errored
    both = ~np.isnan(before) & ~np.isnan(after) & ~errors
    before, after = before[both], after[both]
    record: dict[str, Any] = {
        "check": name, "kind": "pass/fail" if base.kind == "pass" else "score", "n": int(both.sum()), "errors": int(errors.sum()),
        "test": MCNEMAR if base.kind == "pass" else WILCOXON,
    }  # fmt: skip
    if not len(before):
        return {**record, **dict.fromkeys(("baseline_rate", "candidate_rate", "delta", "delta_low", "delta_high", "p_value"))}
    if base.kind == "pass":
        p_value, (low, high) = _mcnemar(before.astype(bool), after.astype(bool), level)
    else:
        p_value, (low, high) = _wilcoxon(after - before), mean_interval(after - before, level)
    delta = float(after.mean() - before.mean())
    return {
        **record, "baseline_rate": float(before.mean()), "candidate_rate": float(after.mean()), "delta": delta,
        "delta_low": _number(low), "delta_high": _number(high), "p_value": p_value,
    }  # fmt: skip


def _mcnemar(before: np.ndarray, after: np.ndarray, level: float) -> tuple[float, tuple[float, float]]:
    """The exact McNemar p-value and the Agresti–Min interval of ``mean(after) − mean(before)``."""
    gained = int(np.count_nonzero(after & ~before))  # fail → pass
    lost = int(np.count_nonzero(before & ~after))  # pass → fail
    p_value = float(_stats().binomtest(gained, gained + lost, 0.5).pvalue) if gained + lost else 1.0
    return p_value, paired_difference_interval(gained, lost, len(before), level)


def paired_difference_interval(gained: int, lost: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Agresti–Min interval for a paired difference of rates, of ``n`` pairs: ``gained`` went fail → pass, ``lost`` pass → fail.

    Wald's interval on the 2×2 table with 0.5 added to each of its four cells (so 2 to ``n``),
    kept within [−1, 1].
    """
    size = n + 2.0
    up, down = (gained + 0.5) / size, (lost + 0.5) / size
    centre = up - down
    half = z_of(confidence) * math.sqrt(max(up + down - centre * centre, 0.0) / size)
    return max(centre - half, -1.0), min(centre + half, 1.0)


def _wilcoxon(differences: np.ndarray) -> float:
    """The two-sided Wilcoxon signed-rank p-value; 1.0 when every difference is 0 (nothing to rank)."""
    if not np.count_nonzero(differences):
        return 1.0
    return float(_stats().wilcoxon(differences, zero_method="wilcox").pvalue)


def _stats() -> Any:
    """``scipy.stats``, imported on first use (safely from any thread); a missing scipy says which extra installs it."""
    try:
        return load("scipy.stats")
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError("significance() needs scipy: pip install 'llamabook[frames]'", name=exc.name) from None


def _verdict(p_adjusted: Any, delta: Any, alpha: float) -> str:
    if p_adjusted is None or delta is None or math.isnan(p_adjusted) or not p_adjusted < alpha:
        return "no evidence"
    return "better" if delta > 0 else "worse" if delta < 0 else "no evidence"


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


__all__ = ["MCNEMAR", "WILCOXON", "assert_no_regression", "holm", "paired_difference_interval", "significance"]
