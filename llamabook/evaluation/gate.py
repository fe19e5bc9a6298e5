"""The gate a prompt label moves through (``client.prompts.promote``): evidence from a grid, per check.

For each check of the candidate version's calls (per model), the gate reads :func:`~.scores.scores`:
a check named in ``require`` passes when the *lower end* of its interval (a pass rate's Wilson
interval, a score's bootstrap interval) reaches its minimum, so a few lucky rows can't carry it.
With a ``baseline``, :func:`~.significance.significance` compares the two on the same input rows,
and a check on which the candidate is significantly worse fails the gate, required or not. A check
that raised on every row has no interval: it fails a requirement (an error is never a pass).
pandas is imported on first use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import GateFailed, InvalidRequest
from ..frames import check_columns, none_if_missing, require_columns
from .intervals import check_confidence
from .scores import evaluated_checks, scores
from .sides import SideRef

if TYPE_CHECKING:
    import pandas

#: The columns of a gate's table, with their dtypes.
COLUMNS = {
    "check": "string", "model": "string", "required": "Float64", "value": "Float64", "low": "Float64",
    "high": "Float64", "n": "Int64", "errors": "Int64", "verdict": "string", "passed": "boolean", "reason": "string",
}  # fmt: skip


@dataclass(frozen=True)
class GateOutcome:
    """What the gate found: ``passed``, the table (one row per check × model) and the evidence kept with the move."""

    passed: bool
    table: pandas.DataFrame
    evidence: dict[str, Any]


def check_require(require: Any, grid: pandas.DataFrame | None) -> dict[str, float]:
    """``require`` as ``{check: minimum}``: names of the grid's checks, minimums between 0 and 1."""
    if require is None:
        return {}
    if not isinstance(require, Mapping) or not require:
        raise InvalidRequest(f"require takes {{check: minimum}}, e.g. {{'names_capital': 0.8}}, not {require!r}")
    checks = sorted(check_columns(grid.columns)) if grid is not None else []
    found: dict[str, float] = {}
    for name, minimum in require.items():
        if grid is not None and name not in checks:
            raise InvalidRequest(f"require names the check {name!r}, which the evidence grid lacks (its checks: {', '.join(checks) or 'none'})")
        if isinstance(minimum, bool) or not isinstance(minimum, (int, float)) or not 0 <= minimum <= 1:
            raise InvalidRequest(f"require[{name!r}] is a minimum rate or score between 0 and 1, not {minimum!r}")
        found[str(name)] = float(minimum)
    return found


def run_gate(
    grid: pandas.DataFrame,
    *,
    prompt_id: str,
    version: int,
    require: Mapping[str, float] | None,
    baseline: SideRef | None = None,
    confidence: float = 0.95,
    alpha: float = 0.05,
) -> GateOutcome:
    """The gate for moving a label to ``version`` of ``prompt_id``, on the evidence ``grid`` (see the module).

    Raises :class:`~llamabook.InvalidRequest` before anything is measured when the grid did not run
    that prompt or version, names an unknown check, or the levels are out of range.
    """
    require_columns(grid, ["prompt_id", "version", "model", "row"], "promote(evidence=…)", "a grid's DataFrame (client.grid)")
    needed = check_require(require, grid)
    level = check_confidence(confidence, "promote()")
    if not 0 < alpha < 1:
        raise InvalidRequest(f"alpha is a significance level between 0 and 1 (e.g. 0.05), not {alpha!r}")
    ran = grid[grid["prompt_id"].eq(prompt_id).fillna(False).astype(bool)]
    if ran.empty:
        prompts = ", ".join(map(str, dict.fromkeys(grid["prompt_id"].dropna()))) or "none"
        raise InvalidRequest(f"The evidence grid did not run {prompt_id} (it ran {prompts}): run it with client.grid first")
    versions = sorted({int(v) for v in ran["version"].dropna()})
    if version not in versions:
        raise InvalidRequest(f"The evidence grid has no calls of version {version} (its versions: {versions}): add versions=[…, {version}]")
    verdicts = _verdicts(ran, baseline, version, alpha) if baseline is not None else {}
    table = _table(ran, version, needed, verdicts, level)
    evidence = _evidence(table, ran, version, baseline, level, alpha)
    return GateOutcome(bool(table["passed"].all()), table, evidence)


def _verdicts(grid: pandas.DataFrame, baseline: SideRef, version: int, alpha: float) -> dict[str, str]:
    from .significance import significance

    candidate: SideRef = {"version": version, **({"model": baseline["model"]} if isinstance(baseline, Mapping) and "model" in baseline else {})}
    found = significance(grid, baseline=baseline, candidate=candidate, alpha=alpha)
    return {str(check): str(verdict) for check, verdict in zip(found["check"], found["verdict"])}


def _table(
    grid: pandas.DataFrame, version: int, require: Mapping[str, float], verdicts: Mapping[str, str], level: float
) -> pandas.DataFrame:
    import pandas as pd

    figures = scores(grid[grid["version"].eq(version).fillna(False).astype(bool)], confidence=level)
    kinds = {name: check.kind for name, check in evaluated_checks(grid).items()}
    records = []
    for _, group in figures.iterrows():
        for name, kind in kinds.items():
            column = f"pass_rate_{name}" if kind == "pass" else f"score_{name}"
            value, low, high = (none_if_missing(group.get(c)) for c in (column, f"{column}_low", f"{column}_high"))
            required, verdict = require.get(name), verdicts.get(name)
            reason = _reason(required, low, verdict)
            records.append({
                "check": name, "model": none_if_missing(group["model"]), "required": required, "value": value,
                "low": low, "high": high, "n": int(group[f"n_{name}"]), "errors": int(group[f"errors_{name}"]),
                "verdict": verdict, "passed": reason is None, "reason": reason,
            })  # fmt: skip
    return pd.DataFrame(records, columns=list(COLUMNS)).astype(COLUMNS)


def _reason(required: float | None, low: float | None, verdict: str | None) -> str | None:
    """Why a check fails the gate, every reason that applies (None: it passes)."""
    reasons = []
    if required is not None and low is None:
        reasons.append(f"no evaluated rows (required {required:g})")
    elif required is not None and low is not None and low < required:
        reasons.append(f"interval's lower end {low:.3f} is below {required:g}")
    if verdict == "worse":
        reasons.append("significantly worse than the baseline")
    return "; ".join(reasons) or None


def _evidence(
    table: pandas.DataFrame, grid: pandas.DataFrame, version: int, baseline: SideRef | None, level: float, alpha: float
) -> dict[str, Any]:
    """What the label move keeps: the table's figures as JSON values, and what they were measured on."""
    rows = [{k: _plain(v) for k, v in record.items()} for record in table.to_dict("records")]
    return {
        "version": version,
        "calls": int(grid["version"].eq(version).fillna(False).sum()),
        "input_rows": int(grid["row"].nunique()),
        "confidence": level,
        "alpha": alpha,
        "baseline": baseline if not isinstance(baseline, Mapping) else dict(baseline),
        "checks": rows,
    }


def _plain(value: Any) -> Any:
    value = none_if_missing(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") else value


def gate_failed(outcome: GateOutcome, written: str, label: str) -> GateFailed:
    """The error for a gate that did not pass: which checks failed and why, the whole table attached."""
    failed = outcome.table[~outcome.table["passed"].astype(bool)]
    models = outcome.table["model"].nunique() > 1  # name the model only where there is a choice
    lines = [f"{row.check}{f' ({row.model})' if models else ''}: {row.reason}" for row in failed.itertuples()]
    message = f"{label} was not moved to {written}: " + "; ".join(lines)
    return GateFailed(message, table=outcome.table)
