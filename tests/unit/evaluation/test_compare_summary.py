"""``Comparison.summaries`` (:mod:`llamabook.evaluation.compare_summary`): each column's checks with their
intervals and counts (as ``lb.scores`` gives them) and, after the first column, the verdict of
``lb.significance`` against it. Every figure here is worked out by hand.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from llamabook.evaluation import significance as significance_module
from llamabook.evaluation.compare import compare
from llamabook.evaluation.compare_summary import FRAME_COLUMNS, NO_SCIPY, CheckSummary
from support.hand_grid import grid as hand_grid

Z95 = 1.959963984540054
T, F = True, False


def one_check(baseline: list[Any], candidate: list[Any], repeats: int = 1) -> pd.DataFrame:
    """Versions 1 and 2 of one model, check ``ok`` only: one value per (row, repeat), a str = the check raised."""
    lines = []
    for version, values in ((1, baseline), (2, candidate)):
        for position, value in enumerate(values):
            row, repeat = divmod(position, repeats)
            raised = isinstance(value, str)
            lines.append({"row": row, "version": version, "repeat": repeat, "output_text": f"v{version} {position}",
                          "ok": None if raised else value, "ok_error": value if raised else None})  # fmt: skip
    return hand_grid(lines, repeats=repeats > 1).drop(columns=["check_quality"])


def test_the_issues_example_four_of_four_against_one_of_four_has_no_evidence() -> None:
    comparison = compare(one_check([T, T, T, T], [T, F, F, F]))
    first, second = comparison.summaries
    assert (first.column, first.baseline, first.note, second.baseline, second.note) == ((1, "m"), True, "baseline", False, None)
    ok1, ok2 = first.checks[0], second.checks[0]
    # Wilson, 4 of 4: low = n / (n + z²); 1 of 4: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)
    assert (ok1.value, ok1.low, ok1.high, ok1.n, ok1.errors) == (1.0, pytest.approx(4 / (4 + Z95**2)), 1.0, 4, 0)
    centre, half = 0.25 + Z95**2 / 8, Z95 * math.sqrt(0.25 * 0.75 / 4 + Z95**2 / 64)
    assert (ok2.low, ok2.high) == pytest.approx(((centre - half) / (1 + Z95**2 / 4), (centre + half) / (1 + Z95**2 / 4)))
    assert (round(ok2.low, 2), round(ok2.high, 2)) == (0.05, 0.70)
    # McNemar: 3 discordant pairs, all one way: p = 2 · ½³ = 0.25 (one check: Holm leaves it)
    assert (ok1.verdict, ok2.verdict, ok2.p_adjusted) == (None, "no evidence", pytest.approx(0.25))
    assert str(ok1) == "ok 1.00 [0.51, 1.00] n=4"
    assert str(ok2) == "ok 0.25 [0.05, 0.70] n=4 no evidence"
    frame = comparison.summary_frame()
    assert list(frame.columns) == list(FRAME_COLUMNS) == [
        "column", "check", "kind", "value", "low", "high", "n", "errors", "verdict", "p_adjusted",
    ]  # fmt: skip
    assert frame["column"].tolist() == ["v1 m", "v2 m"] and frame["n"].tolist() == [4, 4]
    assert frame["verdict"].isna().tolist() == [True, False] and frame["p_adjusted"][1] == pytest.approx(0.25)


def test_a_check_that_raised_is_counted_apart_not_as_a_fail() -> None:
    comparison = compare(one_check([T, T, "judge down", T], [T, T, T, T]))
    ok1 = comparison.summaries[0].checks[0]
    assert (ok1.value, ok1.n, ok1.errors, ok1.errors_text) == (1.0, 3, 1, "⚠1")  # 3 of 3 judged, not 3 of 4
    assert str(ok1) == "ok 1.00 [0.44, 1.00] n=3 ⚠1"
    assert comparison.summaries[1].checks[0].errors_text is None


def test_one_column_has_no_verdict() -> None:
    grid = one_check([T, F], [T, T])
    comparison = compare(grid[grid["version"] == 1])
    (only,) = comparison.summaries
    assert only.baseline and only.note is None and only.checks[0].verdict is None
    assert comparison.summary_frame()["verdict"].isna().all()


def test_with_repeats_the_columns_are_paired_by_row_and_repeat() -> None:
    """3 rows × 2 repeats, all passed against all failed: 6 discordant pairs, p = 2 · ½⁶ = 0.03125 → worse.
    Paired by row alone, a row's two repeats would make its calls ambiguous (lb.significance refuses that)."""
    comparison = compare(one_check([T] * 6, [F] * 6, repeats=2))
    assert comparison.has_repeats
    ok2 = comparison.summaries[1].checks[0]
    assert (ok2.value, ok2.n, ok2.verdict, ok2.p_adjusted) == (0.0, 6, "worse", pytest.approx(2 * 0.5**6))
    assert ok2.verdict_text == "worse p=0.0312"
    mixed = compare(one_check([T, F] * 3, [F, T] * 3, repeats=2))  # paired by repeat: 3 gained, 3 lost → p = 1
    assert mixed.summaries[1].checks[0].verdict == "no evidence" and mixed.summaries[1].checks[0].p_adjusted == 1.0


def test_a_pair_significance_refuses_has_no_verdict_never_a_wrong_one() -> None:
    grid = one_check([T, T, F, F], [T, T, T, T])
    apart = grid[(grid["version"] == 1) & (grid["row"] < 2) | (grid["version"] == 2) & (grid["row"] >= 2)]
    second = compare(apart).summaries[1]  # no input row in common
    assert (second.note, second.checks[0].verdict) == ("no verdict", None)
    assert "has no result on the baseline side" in second.reason
    assert second.checks[0].value == 1.0 and second.checks[0].n == 2  # its interval is still shown


def test_without_scipy_the_intervals_stay_and_the_verdicts_go(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Any:
        raise ModuleNotFoundError(f"No module named {name!r}", name="scipy")

    monkeypatch.setattr(significance_module, "load", missing)
    first, second = compare(one_check([T, T, T, T], [T, F, F, F])).summaries
    assert (second.note, second.reason, second.checks[0].verdict) == ("no verdict", NO_SCIPY, None)
    assert str(second.checks[0]) == "ok 0.25 [0.05, 0.70] n=4"


def test_a_grid_without_checks_has_no_summaries() -> None:
    grid = one_check([T], [F]).drop(columns=["check_ok", "check_ok_error"])
    comparison = compare(grid)
    assert comparison.summaries == ()
    assert comparison.summary_frame().empty and list(comparison.summary_frame().columns) == list(FRAME_COLUMNS)


def test_a_score_check_and_its_text() -> None:
    score = CheckSummary("close", "score", 0.8125, 0.7, 0.9, 12, 2, "better", 0.0123)
    assert str(score) == "close 0.81 [0.70, 0.90] n=12 ⚠2 better p=0.0123"
    assert CheckSummary("close", "score", None, None, None, 0, 3).rate_text == "– n=0"
