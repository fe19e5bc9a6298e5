"""``lb.significance`` and ``lb.assert_no_regression`` on grids built by hand, with and without ``repeat``.

Every p-value and interval is worked out by hand in the test: the exact McNemar test is a binomial
test on the discordant pairs, ``2 · P(X ≤ min) `` for X ~ Bin(discordant, ½).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

import llamabook as lb
from llamabook.evaluation.significance import MCNEMAR, WILCOXON, assert_no_regression, holm, paired_difference_interval, significance

Z95 = 1.959963984540054
Value = object  # True / False / a float score / None (no verdict) / an error message (str: the check raised)


def grid(checks: dict[str, tuple[Sequence[Value], Sequence[Value]]], repeats: int | None = None, models: Sequence[str] = ("m",)) -> pd.DataFrame:
    """A grid as ``client.grid`` gives it: rows × versions 1 and 2 (× models) (× repeats, after ``model``).

    ``checks`` maps a name to (baseline values, candidate values), one per (row, repeat) for each model; a str
    value means the check raised with that message (stored as False / 0.0, as an older grid did).
    """
    lines = []
    count = len(next(iter(checks.values()))[0])
    for version in (1, 2):
        for model in models:
            for position in range(count):
                row, repeat = divmod(position, repeats) if repeats else (position, None)
                lines.append({"row": row, "version": version, "model": model, **({"repeat": repeat} if repeats else {}),
                              "status": "completed", "output_tokens": 3, "latency_s": 0.5, "position": position})  # fmt: skip
    frame = pd.DataFrame(lines)
    for name, sides in checks.items():
        values = [sides[line["version"] - 1][line["position"]] for line in lines]
        score = any(isinstance(v, float) for v in values)
        kept = [(0.0 if score else False) if isinstance(v, str) else v for v in values]
        frame[f"check_{name}"] = pd.array(kept, dtype="Float64" if score else "boolean")
        frame[f"check_{name}_error"] = pd.array([v if isinstance(v, str) else None for v in values], dtype="string")
    frame = frame.drop(columns="position").astype({"version": "Int64", "model": "string"})
    return frame.astype({"repeat": "Int64"}) if repeats else frame


T, F = True, False


def test_the_issues_example_has_no_evidence_either_way() -> None:
    """names_capital 4 of 4 (v1) against 1 of 4 (v2): 3 discordant pairs, all one way: p = 2 · ½³ = 0.25."""
    table = significance(grid({"names_capital": ([T, T, T, T], [T, F, F, F])}), baseline=1, candidate=2)
    assert list(table.columns) == [
        "check", "kind", "n", "errors", "baseline_rate", "candidate_rate", "delta", "delta_low", "delta_high",
        "p_value", "p_adjusted", "verdict", "test",
    ]  # fmt: skip
    line = table.iloc[0]
    assert (line["check"], line["kind"], line["n"], line["errors"], line["test"]) == ("names_capital", "pass/fail", 4, 0, MCNEMAR)
    assert (line["baseline_rate"], line["candidate_rate"], line["delta"]) == (1.0, 0.25, -0.75)
    assert line["p_value"] == pytest.approx(0.25, abs=1e-12) and line["p_adjusted"] == pytest.approx(0.25, abs=1e-12)
    assert line["verdict"] == "no evidence"
    # Agresti–Min: cells + ½ → gained ½, lost 3½ of 6: centre −½, variance (4/6 − ¼) / 6 = 5/72
    half = Z95 * math.sqrt(5 / 72)
    assert (line["delta_low"], line["delta_high"]) == pytest.approx((-1.0, -0.5 + half), abs=1e-12)  # −1.016 kept at −1
    assert line["delta_high"] == pytest.approx(0.0165, abs=5e-5)
    assert table.attrs["llamabook"] == {
        "baseline": "v1", "candidate": "v2", "alpha": 0.05, "pairs": 4, "baseline_only": 0, "candidate_only": 0,
    }  # fmt: skip
    assert assert_no_regression(grid({"names_capital": ([T, T, T, T], [T, F, F, F])}), baseline=1, candidate=2).equals(table)


def test_paired_difference_interval_by_hand() -> None:
    # 10 pairs, 4 gained, 1 lost: cells + ½ over 12: up 4.5/12, down 1.5/12, centre .25, var (.5 − .0625) / 12
    half = Z95 * math.sqrt((0.5 - 0.0625) / 12)
    assert paired_difference_interval(4, 1, 10) == pytest.approx((0.25 - half, 0.25 + half), abs=1e-12)
    assert paired_difference_interval(0, 0, 10)[0] < 0 < paired_difference_interval(0, 0, 10)[1]


def test_holm_by_hand() -> None:
    # sorted .01, .03, .04 → ×3, ×2, ×1 = .03, .06, .04 → running max: .03, .06, .06
    assert holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06], abs=1e-15)
    adjusted = holm([0.02, np.nan, 0.04])  # a NaN is no test: two tests, not three
    assert adjusted[0] == pytest.approx(0.04) and math.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.04)
    assert holm([0.6, 0.9]).tolist() == [1.0, 1.0]  # capped at 1


def test_holm_across_three_checks_turns_a_raw_p_under_alpha_into_no_evidence() -> None:
    """10 rows. fixed: 10 gained → p = 2/2¹⁰; broke: 6 lost → p = 2/2⁶; mixed: 7 gained, 1 lost → p = 2 · 9/2⁸."""
    checks = {
        "fixed": ([F] * 10, [T] * 10),
        "broke": ([T] * 10, [F] * 6 + [T] * 4),
        "mixed": ([F] * 7 + [T] + [T, F], [T] * 7 + [F] + [T, F]),
    }
    table = significance(grid(checks), baseline=1, candidate=2).set_index("check")
    raw = {"fixed": 2 / 1024, "broke": 2 / 64, "mixed": 18 / 256}
    assert table["p_value"].to_dict() == pytest.approx(raw, abs=1e-12)
    # Holm: fixed ×3 = .00586; broke ×2 = .0625; mixed ×1 = .0703
    assert table["p_adjusted"].to_dict() == pytest.approx({"fixed": 6 / 1024, "broke": 4 / 64, "mixed": 18 / 256}, abs=1e-12)
    assert table["verdict"].to_dict() == {"fixed": "better", "broke": "no evidence", "mixed": "no evidence"}
    assert table.loc["broke", "p_value"] < 0.05  # alone it would have been "worse"
    assert table["delta"].to_dict() == pytest.approx({"fixed": 1.0, "broke": -0.6, "mixed": 0.6})
    loose = significance(grid(checks), baseline=1, candidate=2, alpha=0.1).set_index("check")
    assert loose["verdict"].to_dict() == {"fixed": "better", "broke": "worse", "mixed": "better"}


def test_an_error_is_never_a_verdict_it_is_left_out_and_counted() -> None:
    """Row 4: the candidate's check raised (stored as False). As a fail it would make 4 discordant pairs (p = .125)."""
    checks = {"names_capital": ([T, T, T, T, T], [T, F, F, F, "ValueError: odd answer"])}
    line = significance(grid(checks), baseline=1, candidate=2).iloc[0]
    assert (line["n"], line["errors"], line["candidate_rate"]) == (4, 1, 0.25)
    assert line["p_value"] == pytest.approx(0.25, abs=1e-12)
    as_fail = grid(checks).drop(columns="check_names_capital_error")  # without its error column, the False is a fail
    assert significance(as_fail, baseline=1, candidate=2).iloc[0]["p_value"] == pytest.approx(0.125, abs=1e-12)
    both = significance(grid({"c": (["KeyError: x", T], [F, "KeyError: y"])}), baseline=1, candidate=2).iloc[0]
    assert (both["n"], both["errors"], both["verdict"]) == (0, 2, "no evidence") and pd.isna(both["p_value"])


def test_pairs_are_matched_by_row_and_repeat() -> None:
    """3 rows × 2 repeats: the candidate loses the pass on repeat 1 of every row (3 lost, 0 gained → p = .25)."""
    checks = {"ok": ([T, T, T, T, T, T], [T, F, T, F, T, F])}
    table = significance(grid(checks, repeats=2), baseline=1, candidate=2)
    line = table.iloc[0]
    assert (line["n"], line["baseline_rate"], line["candidate_rate"]) == (6, 1.0, 0.5)
    assert line["p_value"] == pytest.approx(0.25) and table.attrs["llamabook"]["pairs"] == 6
    shuffled = grid(checks, repeats=2).sample(frac=1.0, random_state=3)  # the grid's order does not matter
    assert significance(shuffled, baseline=1, candidate=2).iloc[0]["p_value"] == pytest.approx(0.25)


def test_sides_name_models_or_both() -> None:
    checks = {"ok": ([T] * 8, [T] * 8)}
    two = grid(checks, models=("a", "b"))
    two.loc[(two["model"] == "b") & (two["version"] == 1), "check_ok"] = False  # b fails everything on v1
    by_model = significance(two[two["version"] == 1], baseline="a", candidate="b").iloc[0]
    assert (by_model["delta"], by_model["p_value"], by_model["verdict"]) == (-1.0, pytest.approx(2 / 256), "worse")
    by_version = significance(two, baseline=1, candidate=2).iloc[0]  # paired within each model: 16 pairs, 8 gained
    assert (by_version["n"], by_version["delta"], by_version["verdict"]) == (16, 0.5, "better")
    explicit = significance(two, baseline={"version": 1, "model": "b"}, candidate={"version": 2, "model": "b"})
    assert explicit.attrs["llamabook"]["baseline"] == "v1 · b" and explicit.iloc[0]["n"] == 8


def test_score_checks_use_the_wilcoxon_signed_rank_test() -> None:
    """6 differences, all positive, no ties: the exact two-sided p is 2 / 2⁶ = 1/32."""
    before = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    after = [0.2, 0.4, 0.6, 0.8, 1.0, 0.65]
    line = significance(grid({"quality": (before, after)}), baseline=1, candidate=2).iloc[0]
    assert (line["kind"], line["test"], line["n"]) == ("score", WILCOXON, 6)
    assert line["p_value"] == pytest.approx(1 / 32, abs=1e-12) and line["verdict"] == "better"
    assert line["baseline_rate"] == pytest.approx(0.35) and line["candidate_rate"] == pytest.approx(0.608333333)
    assert line["delta"] == pytest.approx(0.258333333) and line["delta_low"] < line["delta"] < line["delta_high"]
    again = significance(grid({"quality": (before, after)}), baseline=1, candidate=2).iloc[0]
    assert (again["delta_low"], again["delta_high"]) == (line["delta_low"], line["delta_high"])  # seeded bootstrap
    same = significance(grid({"quality": (before, before)}), baseline=1, candidate=2).iloc[0]
    assert same["p_value"] == 1.0 and same["verdict"] == "no evidence" and same["delta"] == 0.0


def test_assert_no_regression_raises_with_the_table_when_a_check_got_worse() -> None:
    checks = {"names_capital": ([T] * 8, [F] * 8), "short": ([T] * 8, [T] * 8)}
    with pytest.raises(AssertionError) as raised:
        assert_no_regression(grid(checks), baseline=1, candidate=2)
    message = str(raised.value)
    assert message.startswith("v2 is worse than v1 on names_capital (Holm-adjusted p < 0.05):\n")
    table = significance(grid(checks), baseline=1, candidate=2)
    assert table.to_string(index=False) in message and "worse" in message and "no evidence" in message
    assert lb.assert_no_regression is assert_no_regression and lb.significance is significance
    assert assert_no_regression(grid(checks), baseline=2, candidate=1)["verdict"].tolist() == ["better", "no evidence"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda g: significance(g, baseline=1, candidate=9), "significance(): candidate v9 is not in the grid (versions: 1, 2; models: m)"),
        (lambda g: significance(g, baseline="nope", candidate=2), "baseline nope is not in the grid"),
        (lambda g: significance(g, baseline=1, candidate=1), "baseline and candidate are the same (v1)"),
        (lambda g: significance(g, baseline=1.5, candidate=2), "baseline= takes a version (int), a model (str)"),
        (lambda g: significance(g, baseline=1, candidate=2, alpha=0), "significance(): alpha=0 is outside (0, 1)"),
        (lambda g: significance(g, baseline=1, candidate=2, alpha=5), "alpha=5 is outside (0, 1); give e.g. 0.95"),
        (lambda g: significance(g, baseline=1, candidate=2, alpha="0.05"), "alpha is a number between 0 and 1"),
        (lambda g: assert_no_regression(g, baseline=1, candidate=2, alpha=1.0), "alpha=1.0 is outside (0, 1)"),
        (lambda g: significance(g.drop(columns=["check_ok", "check_ok_error"]), baseline=1, candidate=2), "the grid has no check column"),
        (lambda g: significance(g.to_dict(), baseline=1, candidate=2), "significance() takes the DataFrame client.grid returns, not a dict"),
        (lambda g: significance(g.drop(columns=["row"]), baseline=1, candidate=2), "this DataFrame has no ['row']"),
    ],
)
def test_bad_input_is_a_typed_error_that_says_what_to_fix(call, message: str) -> None:
    with pytest.raises(lb.InvalidRequest) as raised:
        call(grid({"ok": ([T, F], [T, T])}))
    assert message in str(raised.value)


def test_a_check_missing_on_one_side_is_an_invalid_request() -> None:
    frame = grid({"ok": ([T, T], [T, F]), "new": ([T, T], [T, F])})
    frame.loc[frame["version"] == 1, "check_new"] = pd.NA  # the check was only run on v2
    with pytest.raises(lb.InvalidRequest) as raised:
        significance(frame, baseline=1, candidate=2)
    assert str(raised.value) == (
        "significance(): check 'new' has no result on the baseline side (v1): its check_new column is empty there. "
        "Run the check on both sides (lb.checks.apply(grid, …)), or leave check_new out of the grid"
    )
    frame.loc[frame["version"] == 2, "status"] = "failed"
    frame.loc[frame["version"] == 2, ["check_ok", "check_new"]] = pd.NA
    frame.loc[frame["version"] == 1, "check_new"] = True
    with pytest.raises(lb.InvalidRequest, match=re.escape("no result on the candidate side (v2): every call of it failed")):
        significance(frame, baseline=1, candidate=2)


def test_a_real_grid_with_repeats_pairs_each_repeat_with_its_own(tmp_path) -> None:
    """client.grid(..., repeats=2) on the scripted engine (it echoes the prompt): Cork's answers name Cork."""
    from support.scripted_engine import ScriptedEngine

    with lb.Client(tmp_path / "home", engines=[ScriptedEngine("test/a")]) as client:
        client.prompts.save("w", "Weather in {{city}}?")
        client.prompts.save("w", "Forecast for {{city}}.")
        rows = [{"city": "Cork"}, {"city": "Dublin"}]
        frame = client.grid("w", rows, versions=[1, 2], repeats=2, progress=False, checks={"cork": lb.checks.contains("Cork")})
    assert list(frame.columns[frame.columns.get_loc("model") + 1 : frame.columns.get_loc("model") + 2]) == ["repeat"]
    line = significance(frame, baseline=1, candidate=2).iloc[0]
    assert (line["n"], line["baseline_rate"], line["candidate_rate"], line["p_value"], line["verdict"]) == (4, 0.5, 0.5, 1.0, "no evidence")
    table = lb.scores(frame)
    assert table["n_cork"].tolist() == [4, 4] and table["pass_rate_cork_low"][0] == pytest.approx(0.1500, abs=5e-5)  # Wilson 2 of 4
    # the row is the unit: 2 rows (Cork passes twice, Dublin fails twice) bound the overall rate by [0, 1]
    assert (table["pass_rate_low"][0], table["pass_rate_high"][0]) == (0.0, 1.0)
