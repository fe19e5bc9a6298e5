"""``lb.agreement``: Cohen's kappa checked against values computed by hand, missing and errored rows
left out and counted, columns of different kinds refused."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import llamabook as lb
from llamabook.evaluation.agreement import Agreement, cohen_kappa


def textbook() -> pd.DataFrame:
    """Wikipedia's 2×2 example: 50 items, both yes 20, A yes B no 5, A no B yes 10, both no 15."""
    pairs = [(True, True)] * 20 + [(True, False)] * 5 + [(False, True)] * 10 + [(False, False)] * 15
    return pd.DataFrame(pairs, columns=["check_judge", "human_judge"])


def test_the_textbook_two_by_two_example() -> None:
    # p_o = 35/50 = 0.7; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; kappa = (0.7 − 0.5) / (1 − 0.5) = 0.4
    found = lb.agreement(textbook(), "check_judge", "human_judge")
    assert isinstance(found, Agreement) and found.kind == "boolean"
    assert found.kappa == pytest.approx(0.4) and found.agreement == pytest.approx(0.7)
    assert (found.n, found.missing, found.errored) == (50, 0, 0)
    assert found.confusion.loc[True, True] == 20 and found.confusion.loc[True, False] == 5
    assert found.confusion.loc[False, True] == 10 and found.confusion.loc[False, False] == 15
    assert found.confusion.index.name == "check_judge" and found.confusion.columns.name == "human_judge"
    assert repr(found) == "check_judge vs human_judge: kappa 0.40, agreement 70% (n=50; 0 missing, 0 errored)"


def test_three_categories_by_hand() -> None:
    # agree 4 of 6: p_o = 2/3; A: a2 b2 c2, B: a3 b1 c2 → p_e = (6 + 2 + 4) / 36 = 1/3; kappa = (1/3) / (2/3) = 0.5
    pairs = [("a", "a"), ("a", "a"), ("b", "b"), ("b", "c"), ("c", "c"), ("c", "a")]
    found = lb.agreement(pd.DataFrame(pairs, columns=["x", "y"]), "x", "y")
    assert found.kind == "category" and found.kappa == pytest.approx(0.5) and found.agreement == pytest.approx(2 / 3)
    assert found.confusion.to_numpy().tolist() == [[2, 0, 0], [0, 1, 1], [1, 0, 1]]
    assert cohen_kappa([(1, 1), (2, 2)]) == (1.0, 1.0)


def test_missing_and_errored_rows_are_left_out_and_counted() -> None:
    frame = pd.DataFrame({
        "check_judge": pd.array([True, False, True, None, True], dtype="boolean"),
        "check_judge_error": [None, None, None, None, "judge timed out"],
        "human_judge": pd.array([True, True, None, False, True], dtype="boolean"),
    })  # fmt: skip
    found = lb.agreement(frame, "check_judge", "human_judge")
    assert (found.n, found.missing, found.errored) == (2, 2, 1)
    assert found.agreement == pytest.approx(0.5)
    assert found.kappa == pytest.approx(0.0)  # p_o = 0.5; A: T1 F1, B: T2 → p_e = 0.5


def test_one_value_on_both_sides_has_no_kappa() -> None:
    found = lb.agreement(pd.DataFrame({"a": [True, True], "b": [True, True]}), "a", "b")
    assert math.isnan(found.kappa) and found.agreement == 1.0 and "undefined" in repr(found)


@pytest.mark.parametrize(
    ("a", "b", "fragment"),
    [
        ([True, False], [0.2, 0.9], "threshold a score"),
        ([True, False], ["good", "bad"], "labels of one kind"),
        ([1, 2], ["1", "2"], "labels of one kind"),
        ([True, "yes"], [True, False], "mixes"),
        ([None, None], [True, False], "No row has both"),
    ],
)
def test_columns_of_different_kinds_are_refused(a: list, b: list, fragment: str) -> None:
    with pytest.raises(lb.InvalidRequest, match=fragment):
        lb.agreement(pd.DataFrame({"a": pd.Series(a, dtype=object), "b": pd.Series(b, dtype=object)}), "a", "b")


def test_bad_columns_are_refused() -> None:
    with pytest.raises(lb.InvalidRequest, match="no \\['human'\\]"):
        lb.agreement(textbook(), "check_judge", "human")
    with pytest.raises(lb.InvalidRequest, match="both 'check_judge'"):
        lb.agreement(textbook(), "check_judge", "check_judge")


def test_whole_number_ratings_are_categories() -> None:
    found = lb.agreement(pd.DataFrame({"a": [1, 2, 3, 3], "b": [1.0, 2.0, 3.0, 1.0]}), "a", "b")
    assert found.kind == "number" and found.n == 4 and found.agreement == pytest.approx(0.75)


def test_the_html_view_is_inert_and_has_the_table() -> None:
    hostile = "<img src=x onerror=alert(1)>"
    found = lb.agreement(pd.DataFrame({"a": [hostile, "ok"], "b": [hostile, "no"]}), "a", "b")
    html = found._repr_html_()
    assert html is not None and "<img" not in html and "&lt;img src=x" in html
    assert html.count("<tr>") == 4 and "kappa" in html
    assert "kappa" in found._repr_mimebundle_()["text/plain"]
