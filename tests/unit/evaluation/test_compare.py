"""``compare`` on a grid with repeats (``grid(..., repeats=N)``): each cell holds its N calls, and each check
is tallied over them (k of the judged repeats passed, a score's mean; a check that raised is counted apart).

The grids are built by hand (tests/support/hand_grid.py): one model ``m``, a pass/fail check ``ok`` and a
score check ``quality``. compare without repeats is tested in tests/unit/evaluation/test_scores.py.
"""

from __future__ import annotations

import pandas as pd
import pytest

import llamabook as lb
from llamabook.evaluation.compare import CheckMark, CheckTally, compare
from support.hand_grid import grid as hand_grid

V1, V2 = (1, "m"), (2, "m")


def repeats_grid() -> pd.DataFrame:
    """Rows 0 and 1, versions 1 and 2, three repeats each, the lines shuffled (repeat 2 before repeat 0).

    Row 0, v1: ``ok`` passes, fails, raises; quality 0.25, 0.5, 1.0. Row 1: the same outputs in both versions.
    """
    lines = [
        {"row": 0, "version": 1, "repeat": 2, "output_text": "c", "ok": None, "ok_error": "judge down", "quality": 1.0},
        {"row": 0, "version": 1, "repeat": 0, "output_text": "a", "ok": True, "quality": 0.25},
        {"row": 0, "version": 1, "repeat": 1, "output_text": "b", "ok": False, "quality": 0.5},
        *({"row": 0, "version": 2, "repeat": r, "output_text": "a", "ok": True} for r in range(3)),
        *({"row": 1, "version": v, "repeat": r, "output_text": f"same {r}"} for v in (1, 2) for r in range(3)),
    ]
    return hand_grid(lines, repeats=True)


def test_a_cell_holds_its_repeats_in_order_and_cell_stays_repeat_zero() -> None:
    comparison = compare(repeats_grid())
    assert comparison.has_repeats and comparison.repeat_count == 3
    calls = comparison.repeats(0, V1)
    assert [(call.repeat, call.output_text) for call in calls] == [(0, "a"), (1, "b"), (2, "c")]
    assert comparison.cell(0, V1) == calls[0] and comparison.cell(0, V1).repeat == 0
    assert comparison.repeats(5, V1) == [] and comparison.cell(5, V1) is None
    assert comparison.own_columns == ["city"]  # `repeat` is the grid's, not one of the row's variables
    assert repr(comparison) == "Comparison · 2 rows · 2 columns: v1 m, v2 m · 3 repeats"


def test_tallies_count_passes_of_the_judged_repeats_a_scores_mean_and_errors_apart() -> None:
    ok, quality = compare(repeats_grid()).tallies(0, V1)
    # 3 repeats: one pass, one fail, one raised. The raised one is neither: 1 of the 2 judged passed.
    assert ok == CheckTally("ok", total=3, judged=2, passed=1, mean=None, errors=1)
    assert (ok.kind, ok.mark, str(ok)) == ("mixed", "1/2 ✓ ⚠1", "1/2 ✓ ⚠1 ok")
    assert ok.title == "ok: 1 of 2 passed, 1 raised (no verdict) · 3 repeats"
    assert quality == CheckTally("quality", total=3, judged=3, passed=0, mean=pytest.approx(1.75 / 3), errors=0)
    assert (quality.kind, str(quality)) == ("score", "0.58 n=3 quality")


@pytest.mark.parametrize(
    ("marks", "text", "kind"),
    [
        ([True, True], "2/2 ✓ c", "pass"),
        ([False, False, None], "0/2 ✓ c", "fail"),
        (["raised", "raised"], "⚠2 c", "error"),
        ([None, None], "– c", "none"),
        ([0.5, "raised"], "0.50 n=1 ⚠1 c", "score"),
    ],
)
def test_a_tally_s_text_and_kind(marks: list, text: str, kind: str) -> None:
    tally = CheckTally.of("c", [CheckMark("c", None, "x") if m == "raised" else CheckMark("c", m) for m in marks])
    assert (str(tally), tally.kind, tally.total) == (text, kind, len(marks))
    assert tally.passed <= tally.judged <= tally.total - tally.errors


def test_the_frame_keeps_one_column_per_version_and_model_with_repeat_zero_and_the_tallies() -> None:
    frame = compare(repeats_grid()).frame
    assert list(frame.columns) == ["row", "city", "v1 m", "v1 m checks", "v2 m", "v2 m checks"]
    assert frame["v1 m"].tolist() == ["a", "same 0"]  # repeat 0's output
    assert frame["v1 m checks"].tolist() == ["1/2 ✓ ⚠1 ok · 0.58 n=3 quality", "3/3 ✓ ok · 0.50 n=3 quality"]
    assert frame["v2 m checks"][0] == "3/3 ✓ ok · 0.50 n=3 quality"


def test_only_differences_compares_repeat_by_repeat() -> None:
    grid = repeats_grid()
    assert compare(grid, only_differences=True).rows == [0]  # row 1's repeats match, repeat by repeat
    swapped = grid.copy()
    at = (swapped["row"] == 1) & (swapped["version"] == 2)
    swapped.loc[at, "output_text"] = ["same 1", "same 0", "same 2"]  # the same outputs, two repeats swapped
    assert compare(swapped, only_differences=True).rows == [0, 1]
    missing = grid[~((grid["row"] == 1) & (grid["version"] == 2) & (grid["repeat"] == 2))]
    assert compare(missing, only_differences=True).rows == [0, 1]  # a repeat with no call differs


def test_a_repeated_row_column_and_repeat_is_an_error_naming_the_repeat() -> None:
    grid = repeats_grid()
    with pytest.raises(lb.InvalidRequest, match="more than one call for row 0, v1 m, repeat 2"):
        compare(pd.concat([grid, grid.iloc[[0]]]))
    plain = grid.drop(columns=["repeat"])  # the same lines without their repeat: three calls for one cell
    with pytest.raises(lb.InvalidRequest, match=r"more than one call for row 0, v1 m: compare one grid"):
        compare(plain)


def test_a_grid_with_one_repeat_per_cell_shows_marks_not_tallies() -> None:
    grid = repeats_grid()
    comparison = compare(grid[grid["repeat"] == 0])
    assert not comparison.has_repeats and comparison.repeat_count == 1
    assert comparison.frame["v1 m checks"][0] == "✓ ok · 0.25 quality"
    assert repr(comparison) == "Comparison · 2 rows · 2 columns: v1 m, v2 m"
