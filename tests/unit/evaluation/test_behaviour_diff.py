"""``behaviour_diff``: two sides of a grid paired call by call, the word diff, flips, errors, deltas, sorting.

The grids are built by hand, shaped as ``client.grid`` returns them (with and without a ``repeat``
column), so every flip, error and delta is known in advance.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import llamabook as lb
from llamabook.evaluation.behaviour_diff import BehaviourDiff, behaviour_diff
from support.hand_grid import grid

PRICES = {"m": (1.0, 2.0)}


def four_rows() -> pd.DataFrame:
    """Row 0: same text, nothing changed. Row 1: one word more, ok flips pass→fail. Row 2: the check raised
    on the candidate (an error, not a flip). Row 3: the text rewritten, ok flips fail→pass, quality +0.25."""
    return grid([
        {"row": 0, "version": 1, "output_text": "Dublin is the capital."},
        {"row": 0, "version": 2, "output_text": "Dublin is the capital.", "latency_s": 0.5},
        {"row": 1, "version": 1, "output_text": "Paris is lovely."},
        {"row": 1, "version": 2, "output_text": "Paris is very lovely.", "ok": False, "output_tokens": 7},
        {"row": 2, "version": 1, "output_text": "Rome."},
        {"row": 2, "version": 2, "output_text": "Rome.", "ok": None, "ok_error": "ValueError: boom"},
        {"row": 3, "version": 1, "output_text": "No idea.", "ok": False},
        {"row": 3, "version": 2, "output_text": "Tokyo, of course.", "quality": 0.75, "replayed": True, "latency_s": None},
    ])  # fmt: skip


def test_pairs_flips_errors_and_sorting() -> None:
    diff = behaviour_diff(four_rows(), baseline=1, candidate=2)
    assert isinstance(diff, BehaviourDiff) and diff.paired == 4 and len(diff) == 4
    # Biggest change first: row 3 (a flip, a score moved, 6 words), row 1 (a flip, 1 word), row 2 (an error), row 0.
    assert [p.row for p in diff.pairs] == [3, 1, 2, 0]
    assert [p.change for p in diff.pairs] == [(1, 0.25, 6), (1, 0.0, 1), (0, 0.0, 0), (0, 0.0, 0)]
    tokyo, paris, rome, dublin = diff.pairs
    assert [(c.name, c.direction) for c in tokyo.flipped] == [("ok", "fail→pass")]
    assert [(c.name, c.direction) for c in paris.flipped] == [("ok", "pass→fail")]
    assert paris.segments == (("equal", "Paris is "), ("insert", "very "), ("equal", "lovely."))
    # A check that raised on one side is an error, never a flip, and still a change.
    assert rome.flipped == () and [c.name for c in rome.errored] == ["ok"] and rome.changed
    assert rome.errored[0].candidate.error == "ValueError: boom" and rome.errored[0].kind == "error"
    assert not dublin.changed and dublin.words_changed == 0
    assert tokyo.score_deltas == {"quality": 0.25} and paris.score_deltas == {"quality": 0.0}
    assert diff.summary() == "Behaviour diff v1 → v2 · 4 pairs · 3 changed · 2 flipped checks"
    assert repr(diff) == diff.summary()


def test_only_changes_keeps_the_pairs_where_anything_changed() -> None:
    diff = behaviour_diff(four_rows(), baseline=1, candidate=2, only_changes=True)
    assert [p.row for p in diff.pairs] == [3, 1, 2] and diff.paired == 4
    assert diff.summary() == "Behaviour diff v1 → v2 · 4 pairs · 3 changed (shown) · 2 flipped checks"
    same = grid([{"row": 0, "version": 1, "output_text": "a"}, {"row": 0, "version": 2, "output_text": "a"}])
    assert behaviour_diff(same, baseline=1, candidate=2, only_changes=True).pairs == ()


def test_deltas_tokens_cost_and_latency_null_when_replayed() -> None:
    diff = behaviour_diff(four_rows(), baseline=1, candidate=2, prices=PRICES)
    by_row = {p.row: p for p in diff.pairs}
    assert by_row[1].output_tokens_delta == 2
    assert by_row[1].cost_delta_usd == pytest.approx(2 * 2.0 / 1_000_000)  # two output tokens at $2 per million
    assert by_row[0].latency_delta_s == pytest.approx(-0.5)
    assert by_row[3].latency_delta_s is None and by_row[3].replayed  # replayed: no latency, whatever the column says
    replayed_with_latency = four_rows()
    replayed_with_latency.loc[replayed_with_latency["row"] == 0, "replayed"] = [False, True]
    again = behaviour_diff(replayed_with_latency, baseline=1, candidate=2)
    assert {p.row: p.latency_delta_s for p in again.pairs}[0] is None
    assert all(p.cost_delta_usd is None for p in again.pairs)  # no prices given, none recorded
    recorded = four_rows()
    recorded.attrs["llamabook"]["prices"] = PRICES  # what Client(prices=…) records
    assert {p.row: p.cost_delta_usd for p in behaviour_diff(recorded, baseline=1, candidate=2).pairs}[1] > 0


def test_to_pandas_has_one_line_per_pair_with_typed_columns() -> None:
    frame = behaviour_diff(four_rows(), baseline=1, candidate=2, prices=PRICES).to_pandas()
    assert frame["row"].tolist() == [3, 1, 2, 0] and frame["city"].tolist()[0] == "city 3"
    assert list(frame.columns[:3]) == ["row", "model", "city"]  # the keys (model: neither side names it), own columns
    assert frame["flips"].tolist() == [1, 1, 0, 0] and frame["flipped"].tolist()[:2] == ["✗→✓ ok", "✓→✗ ok"]
    assert frame["check_errors"].tolist()[2] == "⚠ ok" and pd.isna(frame["check_errors"][0])
    assert frame["score_delta_quality"].tolist() == [0.25, 0.0, 0.0, 0.0]
    assert str(frame["output_tokens_delta"].dtype) == "Int64" and str(frame["latency_delta_s"].dtype) == "Float64"
    assert pd.isna(frame["latency_delta_s"][0]) and frame["changed"].tolist() == [True, True, True, False]
    assert frame["segments"][1] == [("equal", "Paris is "), ("insert", "very "), ("equal", "lovely.")]
    assert frame["words_changed"].tolist() == [6, 1, 0, 0]  # "No idea." → "Tokyo, of course.": No idea out; Tokyo , of course in


def test_a_failed_call_differs_and_its_checks_ran_on_one_side_only() -> None:
    frame = grid([
        {"row": 0, "version": 1, "output_text": "Cork.", "ok": True},
        {"row": 0, "version": 2, "output_text": None, "status": "failed", "error": "EngineError: down", "ok": None,
         "quality": None, "output_tokens": None},
    ])  # fmt: skip
    pair = behaviour_diff(frame, baseline=1, candidate=2).pairs[0]
    assert pair.changed and pair.flipped == () and [c.kind for c in pair.checks] == ["missing", "missing"]
    assert pair.segments == (("delete", "Cork."),) and pair.output_tokens_delta is None
    assert pair.candidate.error == "EngineError: down"


def test_repeats_are_paired_by_row_and_repeat() -> None:
    frame = grid([
        {"row": 0, "version": 1, "repeat": 0, "output_text": "a b"},
        {"row": 0, "version": 1, "repeat": 1, "output_text": "a c"},
        {"row": 0, "version": 2, "repeat": 0, "output_text": "a b"},
        {"row": 0, "version": 2, "repeat": 1, "output_text": "a b c d", "ok": False},
    ], repeats=True)  # fmt: skip
    diff = behaviour_diff(frame, baseline=1, candidate=2)
    assert diff.keys == ("row", "repeat", "model") and "repeat" not in diff.own_columns
    assert [(p.keys["repeat"], p.change) for p in diff.pairs] == [(1, (1, 0.0, 2)), (0, (0, 0.0, 0))]  # b and d inserted
    assert diff.to_pandas()["repeat"].tolist() == [1, 0]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"baseline": 1, "candidate": 9}, "candidate v9 is not in the grid"),
        ({"baseline": 1, "candidate": 1}, "baseline and candidate are the same"),
        ({"baseline": True, "candidate": 2}, "baseline= takes a version"),
        ({"baseline": 1, "candidate": 2, "only_changes": "yes"}, "only_changes is True or False"),
        ({"baseline": 1, "candidate": 2, "prices": {"m": (1,)}}, "prices['m']"),
    ],
)
def test_bad_inputs_are_typed_errors(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(lb.InvalidRequest, match=message.replace("[", r"\[").replace("]", r"\]")):
        behaviour_diff(four_rows(), **arguments)


def test_bad_grids_are_typed_errors() -> None:
    with pytest.raises(lb.InvalidRequest, match="behaviour_diff\\(\\) takes the DataFrame client.grid returns, not a list"):
        behaviour_diff([{"row": 0}], baseline=1, candidate=2)
    with pytest.raises(lb.InvalidRequest, match="has no \\['output_text'\\]"):
        behaviour_diff(four_rows().drop(columns=["output_text"]), baseline=1, candidate=2)
    one_sided = four_rows()
    one_sided.loc[one_sided["version"] == 2, "check_quality"] = None  # the candidate answered but was never scored
    with pytest.raises(lb.InvalidRequest, match="the check 'quality' ran on the baseline but on none of the candidate's"):
        behaviour_diff(one_sided, baseline=1, candidate=2)
    apart = grid([{"row": 0, "version": 1, "output_text": "a"}, {"row": 1, "version": 2, "output_text": "a"}])
    with pytest.raises(lb.InvalidRequest, match="share no row × model"):
        behaviour_diff(apart, baseline=1, candidate=2)


def test_the_public_name_and_the_own_columns_without_the_grids_mark() -> None:
    assert lb.behaviour_diff is behaviour_diff
    frame = four_rows()
    frame.attrs = {}  # a frame that lost its mark (e.g. read back from a file): own columns found by elimination
    assert behaviour_diff(frame, baseline=1, candidate=2).own_columns == ("city",)
