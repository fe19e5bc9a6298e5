"""AnnotateView at the Python level: one result at a time, choices saved through client.annotations,
the keys box's shortcuts, the note, the progress count, inert output; bad arguments refused."""

from __future__ import annotations

import pandas as pd
import pytest

import llamabook as lb
from llamabook.widgets import AnnotateView
from support.htmlcheck import active_parts, text
from support.widgets import classes

HOSTILE = "<img src=x onerror=alert(1)>"


def grid_of(n: int = 3) -> pd.DataFrame:
    """A grid's frame by hand: own column ``country``, a call_key per row, a check column (the second errored)."""
    frame = pd.DataFrame({
        "row": list(range(n)),
        "country": [f"C{i}" for i in range(n)],
        "version": [1] * n,
        "model": ["m"] * n,
        "output_text": [HOSTILE] + [f"answer {i}" for i in range(1, n)],
        "status": ["completed"] * n,
        "error": [None] * n,
        "response_id": [f"resp_{i}" for i in range(n)],
        "call_key": [f"key{i}" for i in range(n)],
        "check_judge": [True] + [False] * (n - 1),
        "check_judge_error": [None, "judge timed out"] + [None] * (n - 2),
    })  # fmt: skip
    frame.attrs["llamabook"] = {"grid": {"own": ["country"]}}
    return frame


def test_one_result_at_a_time_with_its_input_output_and_marks_inert(quick_client: lb.Client) -> None:
    view = AnnotateView(quick_client, grid_of(), "correct")
    assert "llamabook-annotate-view" in classes(view)
    assert view.progress.value == "0 of 3 labelled" and "0 of 3 labelled" in repr(view)
    assert "result 1 of 3" in text(view.where.value) and "v1" in text(view.where.value)
    assert "C0" in text(view.input.value) and "country" in text(view.input.value)
    assert HOSTILE in text(view.output.value) and active_parts(view.output.value) == []
    assert "✓ judge" in text(view.output.value)
    assert [b.description for b in view.choice_buttons] == ["1 · yes", "2 · no"]
    assert view.previous.disabled and not view.next.disabled
    view.move(1)
    assert "⚠" in text(view.output.value) and "judge timed out" in text(view.output.value)


def test_a_click_saves_the_label_and_shows_the_next_result(quick_client: lb.Client) -> None:
    grid = grid_of()
    view = AnnotateView(quick_client, grid, "correct")
    view.note.value = "named the capital"  # Enter in the note box before any label: kept for the label
    view.choice_buttons[0].click()
    assert view.position == 1 and view.progress.value == "1 of 3 labelled" and view.note.value == ""
    stored = quick_client.annotations.get(grid.iloc[0], "correct")
    assert stored.value is True and stored.note == "named the capital" and stored.response_id == "resp_0"
    view.previous.click()
    assert view.note.value == "named the capital" and view.choice_buttons[0].button_style == "info"
    assert "correct: true" in text(view.current.value)


def test_the_keys_box_labels_and_moves(quick_client: lb.Client) -> None:
    grid = grid_of()
    view = AnnotateView(quick_client, grid, "tone", choices=["good", "bad", "unsure"])
    view.shortcuts.value = "2"  # label "bad", then the next result
    assert view.shortcuts.value == "" and view.position == 1
    view.shortcuts.value = "k"
    assert view.position == 0
    view.shortcuts.value = "j"
    view.shortcuts.value = "3"
    view.shortcuts.value = "9"  # no ninth choice: ignored
    assert view.progress.value == "2 of 3 labelled" and view.position == 2
    shown = quick_client.annotations.attach(grid)
    assert shown["human_tone"].tolist()[:2] == ["bad", "unsure"] and pd.isna(shown["human_tone"].iloc[2])
    view.choose(0)  # the last result: stays there
    assert view.position == 2 and view.progress.value == "3 of 3 labelled"


def test_a_note_entered_after_the_label_is_saved_with_it(quick_client: lb.Client) -> None:
    grid = grid_of()
    view = AnnotateView(quick_client, grid, "correct")
    view.choose(1)
    view.move(-1)
    view.note.value = "second look"
    assert quick_client.annotations.get(grid.iloc[0], "correct").note == "second look"


def test_labels_already_in_the_home_are_counted_when_it_opens(quick_client: lb.Client) -> None:
    grid = grid_of()
    quick_client.annotations.set(grid.iloc[2], "correct", False, note="old")
    view = AnnotateView(quick_client, grid, "correct")
    assert view.progress.value == "1 of 3 labelled"
    view.show(2)
    assert view.note.value == "old" and view.choice_buttons[1].button_style == "info"


def test_a_row_without_call_key_shows_the_error_and_stores_nothing(quick_client: lb.Client) -> None:
    grid = grid_of(2)
    grid.loc[0, "call_key"] = None
    view = AnnotateView(quick_client, grid, "correct")
    view.choose(0)
    assert "no call_key" in view.error.message and quick_client.annotations.list() == []


@pytest.mark.parametrize(
    ("grid", "name", "choices", "fragment"),
    [
        (grid_of().drop(columns=["call_key"]), "ok", (True, False), "call_key"),
        ([1, 2], "ok", (True, False), "not a list"),
        (grid_of(), "bad name", (True, False), "becomes the column"),
        (grid_of(), "ok", [], "1 to 9 choices"),
        (grid_of(), "ok", list(range(10)), "1 to 9 choices"),
        (grid_of(), "ok", "yes", "list of labels"),
        (grid_of(), "ok", ["a", "a"], "repeat"),
        (grid_of(), "ok", [None, True], "can't be None"),
        (grid_of(), "ok", [{1, 2}], "JSON value"),
    ],
)
def test_bad_arguments_are_refused(quick_client: lb.Client, grid: object, name: str, choices: object, fragment: str) -> None:
    with pytest.raises(lb.InvalidRequest, match=fragment):
        AnnotateView(quick_client, grid, name, choices=choices)  # type: ignore[arg-type]
