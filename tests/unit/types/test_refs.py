"""How a message names a user's prompt: as it was written (``types/refs.py``: written_as, written_name)."""

from __future__ import annotations

import llamabook as lb
from llamabook.types import PromptReference
from llamabook.types.refs import PromptRef, written_as, written_name

PID = "pmpt_" + "ab" * 24


def test_a_reference_is_named_as_it_was_written() -> None:
    assert written_as("haiku") == "haiku"
    assert written_as("haiku@2") == "haiku@2"
    assert written_as("haiku@production") == "haiku@production"
    assert written_as(" haiku@2 ") == "haiku@2"
    assert written_as(PromptRef("haiku", label="production")) == "haiku@production"
    assert written_as("haiku@2x") == "haiku@2x"  # mistyped: still as written
    # the 52-character id only when the user gave the id
    assert written_as(PID) == PID and written_as(f"{PID}@2") == f"{PID}@2"
    assert written_as({"id": PID, "version": "2"}) == f"{PID}@2"
    assert written_as(PromptReference(id=PID, version="2")) == f"{PID}@2"


def test_the_version_meant_is_added_when_the_reference_names_none() -> None:
    assert written_as("haiku", 3) == "haiku@3"
    assert written_as("haiku@2", 3) == "haiku@2" and written_as("haiku@production", 3) == "haiku@production"
    assert written_as(PID, 3) == f"{PID}@3"


def test_a_prompt_object_is_one_version_named_by_its_name() -> None:
    named = lb.Prompt(prompt_id=PID, version=2, prompt="Hi {{x}}", variables=["x"], name="haiku, verse")
    anonymous = lb.Prompt(prompt_id=PID, version=2, prompt="Hi {{x}}", variables=["x"])
    assert written_as(named) == "haiku@2" and written_name(named) == "haiku"
    assert written_as(anonymous) == PID and written_name(anonymous) == PID  # no name: its id, as before
    assert written_as(anonymous, 2) == f"{PID}@2"


def test_the_name_without_a_version() -> None:
    assert [written_name(g) for g in ("haiku", "haiku@2", "haiku@production", f"{PID}@2")] == ["haiku"] * 3 + [PID]
    assert written_name({"id": PID, "version": "2"}) == PID


def test_no_prompt_has_no_name() -> None:
    assert written_as(None) is None and written_name(None) is None
    assert written_as("Write a haiku about {{topic}}.") is None  # a template string: no stored prompt to the user
    assert written_as("Hi {{x}}", 1) is None
