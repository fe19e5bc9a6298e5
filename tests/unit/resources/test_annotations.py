"""``client.annotations``: labels on grid rows (by call_key) and responses, kept in the home; bad inputs refused
before anything is stored. Real SQLite under a temp home, the scripted engine (no model)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

import llamabook as lb
from llamabook.resources.annotations import Annotations
from support.scripted_engine import ScriptedEngine


def labelled_grid(client: lb.Client) -> pd.DataFrame:
    """A two-row grid with a ``call_key`` column (taken from the run log if the grid has none yet)."""
    client.prompts.save("tutor", "Capital of {{country}}?")
    grid = client.grid("tutor", pd.DataFrame({"country": ["Ireland", "France"]}), progress=False)
    if "call_key" not in grid.columns:
        grid["call_key"] = [client.backend.store.annotations.call_of_response(r) for r in grid["response_id"]]
    return grid


def count(client: lb.Client) -> int:
    return len(client.annotations.list())


def test_a_label_on_a_grid_row_is_kept_by_its_call_key_and_attached(quick_client: lb.Client) -> None:
    grid = labelled_grid(quick_client)
    stored = quick_client.annotations.set(grid.iloc[0], "correct", True, note="capital named")
    assert stored.call_key == grid["call_key"].iloc[0] and stored.response_id == grid["response_id"].iloc[0]
    quick_client.annotations.set(grid.loc[1], "correct", False)
    quick_client.annotations.set(grid.iloc[1], "tone", "curt")
    shown = quick_client.annotations.attach(grid)
    assert "human_correct" not in grid.columns  # a copy
    assert shown["human_correct"].tolist() == [True, False] and str(shown["human_correct"].dtype) == "boolean"
    assert shown["human_correct_note"].tolist()[0] == "capital named" and pd.isna(shown["human_correct_note"].iloc[1])
    assert pd.isna(shown["human_tone"].iloc[0]) and shown["human_tone"].iloc[1] == "curt"
    assert quick_client.annotations.get(grid.iloc[0], "correct").value is True
    assert sorted(quick_client.annotations.get(grid.iloc[1])) == ["correct", "tone"]


def test_a_rerun_grid_and_the_response_id_find_the_same_label(quick_client: lb.Client) -> None:
    grid = labelled_grid(quick_client)
    quick_client.annotations.set(grid["response_id"].iloc[0], "correct", True)  # a logged response: its call's key
    again = labelled_grid(quick_client)  # served from the run log: same keys
    assert again["cached"].all()
    assert quick_client.annotations.attach(again)["human_correct"].tolist()[0] is True
    assert quick_client.annotations.get(grid.iloc[0], "correct").value is True
    quick_client.annotations.set(grid.iloc[0], "correct", False)  # the same label, overwritten
    assert [a.value for a in quick_client.annotations.list("correct")] == [False]


def test_a_response_no_grid_logged_is_keyed_by_its_id_and_matched_by_response_id(quick_client: lb.Client) -> None:
    answer = quick_client.responses.create(input="Say hi.")
    stored = quick_client.annotations.set(answer.id, "stars", 4)
    assert stored.call_key == answer.id
    frame = pd.DataFrame({"response_id": [answer.id, "resp_other"], "output_text": ["hi", "yo"]})
    shown = quick_client.annotations.attach(frame)
    assert shown["human_stars"].iloc[0] == 4 and pd.isna(shown["human_stars"].iloc[1])
    quick_client.annotations.delete(answer.id, "stars")
    assert quick_client.annotations.get(answer.id, "stars") is None
    with pytest.raises(lb.NotFound, match="no label 'stars'"):
        quick_client.annotations.delete(answer.id, "stars")


BAD: list[tuple[Any, str, Any, type[Exception], str]] = [
    ("resp_nobody_made_this", "ok", True, lb.ResponseNotFound, "resp_nobody_made_this"),
    ("hello", "ok", True, lb.InvalidRequest, "no response id"),
    (pd.Series({"output_text": "x"}), "ok", True, lb.InvalidRequest, "no call_key"),
    (pd.Series({"call_key": pd.NA}), "ok", True, lb.InvalidRequest, "no call_key"),
    (42, "ok", True, lb.InvalidRequest, "not a int"),
    (pd.Series({"call_key": "k"}), "", True, lb.InvalidRequest, "becomes the column"),
    (pd.Series({"call_key": "k"}), "two words", True, lb.InvalidRequest, "becomes the column"),
    (pd.Series({"call_key": "k"}), "1st", True, lb.InvalidRequest, "becomes the column"),
    (pd.Series({"call_key": "k"}), "tone_note", True, lb.InvalidRequest, "becomes the column"),
    (pd.Series({"call_key": "k"}), "ok", {1, 2}, lb.InvalidRequest, "what JSON holds"),
    (pd.Series({"call_key": "k"}), "ok", float("nan"), lb.InvalidRequest, "can't be nan"),
    (pd.Series({"call_key": "k"}), "ok", None, lb.InvalidRequest, "delete"),
]


@pytest.mark.parametrize(("target", "name", "value", "error", "fragment"), BAD)
def test_bad_inputs_are_typed_errors_and_nothing_is_stored(
    quick_client: lb.Client, target: Any, name: str, value: Any, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match=fragment):
        quick_client.annotations.set(target, name, value)
    assert count(quick_client) == 0


def test_a_bad_note_and_a_frame_without_keys_are_refused(quick_client: lb.Client) -> None:
    with pytest.raises(lb.InvalidRequest, match="note is text"):
        quick_client.annotations.set(pd.Series({"call_key": "k"}), "ok", True, note=3)  # type: ignore[arg-type]
    with pytest.raises(lb.InvalidRequest, match="neither call_key nor response_id"):
        quick_client.annotations.attach(pd.DataFrame({"x": [1]}))
    with pytest.raises(lb.InvalidRequest, match="takes"):
        quick_client.annotations.attach([1, 2])  # type: ignore[arg-type]
    assert count(quick_client) == 0


def test_a_numpy_value_is_stored_as_its_python_value(quick_client: lb.Client) -> None:
    frame = pd.DataFrame({"call_key": ["k"], "flag": [True]})
    stored = quick_client.annotations.set(frame.iloc[0], "ok", frame["flag"].to_numpy()[0])
    assert stored.value is True


def test_without_a_home_database_labels_are_refused() -> None:
    annotations = Annotations(SimpleNamespace(store=None))  # type: ignore[arg-type]
    with pytest.raises(lb.InvalidRequest, match="home directory"):
        annotations.set(pd.Series({"call_key": "k"}), "ok", True)
    with pytest.raises(lb.InvalidRequest, match="home directory"):
        annotations.attach(pd.DataFrame({"call_key": ["k"]}))


def test_labels_survive_a_new_client_and_are_awaitable(tmp_path: Path) -> None:
    with lb.Client(tmp_path / "home", engine=ScriptedEngine()) as client:
        client.annotations.set(pd.Series({"call_key": "k1"}), "ok", "yes")

    async def main() -> Any:
        async with lb.AsyncClient.embedded(tmp_path / "home", engine=ScriptedEngine()) as client:
            return await client.annotations.get({"call_key": "k1"}, "ok")

    assert asyncio.run(main()).value == "yes"
