"""``lb.scores`` (with intervals) + ``lb.significance`` on a 100,000-row × 2-version grid with 3 checks.

The grid is made in memory, seeded, with the columns and dtypes ``client.grid`` gives: ``row``,
``version`` (Int64), ``model`` (string), ``status``, tokens, ``latency_s`` (lognormal),
and three pass/fail checks (``check_<name>`` boolean, ``check_<name>_error`` string, all null) whose
pass rates differ a little between the versions. No model runs.

Compared in the same process, interleaved round by round, with what a user would write for the
same point figures without intervals or tests: one plain pandas ``groupby(["version", "model"])``
(calls, failed, each check's pass rate, the pooled pass rate, tokens' mean and sum, latency p50/p95,
cost). The goal is on llamabook's time alone (scores + significance ≤ 2 s on 2 cores); the ratio
says what the intervals and the paired tests cost on top of the point figures.

    .venv/bin/python bench/bench_significance.py [--rows 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import llamabook as lb  # noqa: E402
from _common import machine_info, table, write_json  # noqa: E402

GOAL_S = 2.0
CHECKS = {"exact": (0.70, 0.71), "short": (0.80, 0.798), "grounded": (0.50, 0.50)}  # pass rate v1, v2
PRICES = {"m": (0.15, 0.60)}


def make_grid(rows: int, seed: int = 0) -> pd.DataFrame:
    """``rows`` input rows × versions 1 and 2, one model, every call completed."""
    rng = np.random.default_rng(seed)
    n = 2 * rows
    version = np.repeat([1, 2], rows)
    frame = pd.DataFrame({
        "row": np.tile(np.arange(rows), 2),
        "version": pd.array(version, dtype="Int64"),
        "model": pd.array(["m"] * n, dtype="string"),
        "status": pd.array(["completed"] * n, dtype="string"),
        "input_tokens": pd.array(rng.integers(20, 200, n), dtype="Int64"),
        "output_tokens": pd.array(rng.integers(1, 300, n), dtype="Int64"),
        "latency_s": pd.array(rng.lognormal(-0.5, 0.6, n), dtype="Float64"),
    })  # fmt: skip
    shared = rng.random(rows)  # a row's difficulty: the two versions' verdicts are correlated, as on real inputs
    for name, (before, after) in CHECKS.items():
        noise = np.where(rng.random(n) < 0.3, rng.random(n), np.tile(shared, 2))
        frame[f"check_{name}"] = pd.array(noise < np.where(version == 1, before, after), dtype="boolean")
        frame[f"check_{name}_error"] = pd.array([None] * n, dtype="string")
    return frame


def llamabook_side(grid: pd.DataFrame) -> dict[str, Any]:
    started = time.perf_counter()
    scored = lb.scores(grid, prices=PRICES)
    middle = time.perf_counter()
    tested = lb.significance(grid, baseline=1, candidate=2)
    ended = time.perf_counter()
    return {"seconds": ended - started, "scores_s": middle - started, "significance_s": ended - middle,
            "scores": scored, "significance": tested}  # fmt: skip


def pandas_side(grid: pd.DataFrame) -> dict[str, Any]:
    """The same point figures as ``lb.scores``, with a plain groupby (no intervals, no test)."""
    started = time.perf_counter()
    checks = [f"check_{name}" for name in CHECKS]
    price_in, price_out = PRICES["m"]
    work = grid.assign(
        failed=grid["status"].eq("failed"),
        passes=grid[checks].sum(axis=1),
        verdicts=grid[checks].notna().sum(axis=1),
        cost=(grid["input_tokens"] * price_in + grid["output_tokens"] * price_out) / 1e6,
    )
    grouped = work.groupby(["version", "model"], sort=False)
    figures = grouped.agg(
        calls=("row", "size"), failed=("failed", "sum"),
        **{f"pass_rate_{c.removeprefix('check_')}": (c, "mean") for c in checks},
        passes=("passes", "sum"), verdicts=("verdicts", "sum"),
        output_tokens_mean=("output_tokens", "mean"), output_tokens_total=("output_tokens", "sum"),
        latency_p50_s=("latency_s", lambda s: s.quantile(0.5)), latency_p95_s=("latency_s", lambda s: s.quantile(0.95)),
        cost_usd=("cost", "sum"),
    ).reset_index()  # fmt: skip
    figures["pass_rate"] = figures["passes"] / figures["verdicts"]
    return {"seconds": time.perf_counter() - started, "figures": figures}


def same_figures(scored: pd.DataFrame, figures: pd.DataFrame) -> bool:
    columns = ["pass_rate", *(f"pass_rate_{n}" for n in CHECKS), "output_tokens_mean", "latency_p50_s", "latency_p95_s", "cost_usd"]
    return all(np.allclose(scored[c].to_numpy(dtype=float), figures[c].to_numpy(dtype=float), rtol=1e-9) for c in columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    machine = machine_info()
    started = time.monotonic()
    grid = make_grid(args.rows)
    small = make_grid(500, seed=1)
    warm = llamabook_side(small)  # first use: imports scipy.stats, warms pandas' groupby paths
    pandas_side(small)
    samples: dict[str, list[dict[str, float]]] = {"llamabook": [], "pandas": []}
    agree = True
    for number in range(args.rounds):
        order = ["llamabook", "pandas"] if number % 2 == 0 else ["pandas", "llamabook"]
        for side in order:
            result = llamabook_side(grid) if side == "llamabook" else pandas_side(grid)
            samples[side].append({k: v for k, v in result.items() if k.endswith("s") and isinstance(v, float)})
            kept = result
            if side == "llamabook":
                mine = kept
            else:
                theirs = kept
        agree = agree and same_figures(mine["scores"], theirs["figures"])
    median = {side: statistics.median(s["seconds"] for s in runs) for side, runs in samples.items()}
    phases = {p: statistics.median(s[p] for s in samples["llamabook"]) for p in ("scores_s", "significance_s")}
    ratio = median["llamabook"] / median["pandas"]

    print(f"## scores + significance: {args.rows:,} rows × 2 versions, 3 pass/fail checks, {args.rounds} rounds\n")
    print(table(
        ["side", "median s", "runs (s)"],
        [["llamabook: lb.scores (intervals) + lb.significance", f"{median['llamabook']:.3f}",
          ", ".join(f"{s['seconds']:.3f}" for s in samples["llamabook"])],
         ["  of which lb.scores", f"{phases['scores_s']:.3f}", ""],
         ["  of which lb.significance", f"{phases['significance_s']:.3f}", ""],
         ["pandas groupby, the same point figures", f"{median['pandas']:.3f}", ", ".join(f"{s['seconds']:.3f}" for s in samples["pandas"])]],
    ))  # fmt: skip
    print(f"\nllamabook / pandas groupby: **{ratio:.2f}×**; goal ≤ {GOAL_S:.0f} s: "
          f"{'met' if median['llamabook'] <= GOAL_S else 'NOT met'}; the same point figures: {agree}\n")  # fmt: skip
    print(mine["significance"][["check", "n", "baseline_rate", "candidate_rate", "delta", "delta_low", "delta_high",
                                "p_value", "p_adjusted", "verdict"]].to_string(index=False, formatters={
        "p_value": "{:.3g}".format, "p_adjusted": "{:.3g}".format}))  # fmt: skip
    result = {
        "benchmark": "scores + significance of a 2-version grid", "machine": machine, "rows": args.rows,
        "checks": CHECKS, "samples": samples, "median_s": median, "phases_median_s": phases, "ratio_to_pandas": ratio,
        "same_point_figures": agree, "goal_s": GOAL_S, "goal_met": median["llamabook"] <= GOAL_S,
        "warm_up_s": warm["seconds"], "significance": mine["significance"].astype(object).where(mine["significance"].notna(), None).to_dict(orient="records"),
        "wall_s": time.monotonic() - started,
    }  # fmt: skip
    print(f"\nwrote {write_json('significance', result)} in {result['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
