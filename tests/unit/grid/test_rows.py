"""A grid's input rows (``grid/rows.py``): a column the prompt needs and the rows lack is named, with the columns they have."""

from __future__ import annotations

import pytest

import llamabook as lb
from llamabook.grid.rows import check_columns, no_column

PID = "pmpt_" + "ab" * 24


def test_a_missing_column_is_named_with_the_columns_the_rows_have() -> None:
    rows = [{"topic": "tides"}, {"topic": "rust"}]
    with pytest.raises(lb.MissingVariables) as missing:
        check_columns(["topic", "mood"], rows, PID, named="haiku")
    assert str(missing.value) == (
        "Missing value for variable(s) 'mood' of prompt haiku: rows has no column 'mood' (columns: topic). "
        "Add that column to rows."
    )
    assert missing.value.names == ["mood"] and missing.value.prompt_id == PID  # the id is still there to read
    assert "variables=" not in str(missing.value) and "strict=False" not in str(missing.value) and PID not in str(missing.value)


def test_a_template_string_names_no_prompt_and_several_columns_are_listed() -> None:
    rows = [{"topic": "tides", "year": 1999}, {"topic": "rust", "note": "x"}]
    with pytest.raises(lb.MissingVariables) as missing:
        check_columns(["mood", "topic", "tone"], rows, None)
    assert str(missing.value) == (
        "Missing value for variable(s) 'mood', 'tone': rows has no columns 'mood', 'tone' "
        "(columns: topic, year, note). Add those columns to rows."
    )
    check_columns(["topic"], rows, None)  # present: nothing raised
    check_columns(["mood"], [], None)  # no rows: nothing to run


def test_a_long_list_of_columns_is_cut() -> None:
    rows = [{f"c{i}": i for i in range(25)}]
    assert no_column(["mood"], rows) == (
        f"rows has no column 'mood' (columns: {', '.join(f'c{i}' for i in range(20))}, and 5 more)"
    )
