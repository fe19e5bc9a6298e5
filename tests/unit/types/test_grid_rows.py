"""The grid's result columns are defined once (``llamabook.types.grid_rows.GridResult``).

Every list of them is derived from that definition and still says what it said when it was written
out by hand; the frames have its dtypes; the table in docs/dataframes.md is generated from it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from llamabook import grid
from llamabook.evaluation import checks, scores, compare
from llamabook.grid.frame import to_frame
from llamabook.schema_columns import fields_of
from llamabook.types.grid_rows import ROW, GridResult, read_by, result_columns, result_dtypes

DOCS = Path(__file__).resolve().parents[3] / "docs"

#: The lists as they were written out before they were derived (behaviour must not change), and
#: ``replayed`` since (an answer replayed from a cassette, whose ``latency_s`` is null) and ``call_key`` (the run-log key).
WRITTEN_OUT = {
    "prompt_id": "string", "version": "Int64", "model": "string", "output_text": "string", "status": "string",
    "cut_off": "boolean", "error": "string", "input_tokens": "Int64", "output_tokens": "Int64",
    "latency_s": "Float64", "replayed": "bool", "response_id": "string", "cached": "bool", "attempts": "Int64",
    "call_key": "string",
}  # fmt: skip
CHECK_INPUT = {
    "output_text": "str", "status": "str", "cut_off": "bool", "input_tokens": "int | None",
    "output_tokens": "int | None", "latency_s": "float | None", "response_id": "str | None", "model": "str",
    "prompt_id": "str", "version": "int | None", "cached": "bool", "attempts": "int | None",
    "tool_calls": "str | None",
}  # fmt: skip


def generator() -> ModuleType:
    """docs/hooks/generate.py, the MkDocs hook that fills the pages' ``<!-- generate: … -->`` markers."""
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "hooks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table_rows(markdown: str) -> dict[str, list[str]]:
    """``{column: [its other cells]}`` of the table rows whose first cell is a code span."""
    rows = {}
    for line in markdown.splitlines():
        match = re.match(r"^\| `([a-z_]+)` \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_the_lists_of_columns_are_derived_and_unchanged() -> None:
    assert list(grid.RESULT_COLUMNS.items()) == list(WRITTEN_OUT.items())  # order too
    assert grid.RESULT_COLUMNS == result_dtypes()
    assert {f.name: f.type for f in dataclasses.fields(checks.CheckInput)} == CHECK_INPUT
    assert checks.GRID_COLUMNS == {"row", *WRITTEN_OUT}
    assert scores.NEEDED == ("row", "version", "model", "status", "input_tokens", "output_tokens", "latency_s")
    assert compare.NEEDED == ("row", "version", "model", "output_text", "status", "error", "response_id")
    assert [c.name for c in result_columns("batch")] == ["batch_id", "custom_id"]
    assert [c.name for c in result_columns("repeats")] == ["repeat"]
    assert [c.name for c in read_by("checks")] == [f.name for f in dataclasses.fields(checks.CheckInput)]
    assert [f.name for f in dataclasses.fields(GridResult)] == [c.name for c in result_columns()]


def test_check_input_reads_a_grid_row_as_before() -> None:
    """Missing cells are None (False for the flags, "" for the text), numbers plain Python."""
    cells = {
        "output_text": pd.NA, "status": "completed", "cut_off": pd.NA, "input_tokens": np.int64(3),
        "output_tokens": 4.0, "latency_s": np.float32(0.5), "model": "m", "version": pd.NA, "cached": np.bool_(True),
        "error": "not seen", "valid": True,
    }  # fmt: skip
    seen = checks.CheckInput.from_values(cells)
    assert dataclasses.asdict(seen) == {
        "prompt_id": None, "version": None, "model": "m", "output_text": "", "status": "completed", "cut_off": False,
        "input_tokens": 3, "output_tokens": 4, "latency_s": 0.5, "response_id": None, "cached": True, "attempts": None,
        "tool_calls": None,
    }  # fmt: skip
    assert type(seen.input_tokens) is int and type(seen.output_tokens) is int and type(seen.latency_s) is float
    assert type(seen.cached) is bool and dataclasses.is_dataclass(seen) and checks.CheckInput.__module__ == "llamabook.evaluation.checks"


def test_the_frames_have_the_definitions_columns_and_dtypes() -> None:
    empty = to_frame([])
    assert {str(k): str(v) for k, v in empty.dtypes.items()} == {ROW.name: ROW.dtype, **result_dtypes()}
    batched = to_frame([], groups=["batch"])
    always_or_batch = [ROW, *result_columns("always", "batch")]
    assert [(str(k), str(v)) for k, v in batched.dtypes.items()] == [(c.name, c.dtype) for c in always_or_batch]


def test_schema_fields_are_found_where_the_definition_puts_them() -> None:
    frame = pd.DataFrame(columns=["row", "q", "prompt_id", "version", "model", "output_text", "total", "items", "valid", "status"])
    assert fields_of(frame) == ["total", "items"]
    assert fields_of(frame.drop(columns=["valid"])) == []


def test_the_docs_table_is_the_definition() -> None:
    page = (DOCS / "dataframes.md").read_text()
    assert page.count("<!-- generate: grid-columns -->") == 1
    assert not set(table_rows(page)) & {c.name for c in result_columns()}, "a result column is written out by hand"
    shown = table_rows(generator().grid_columns())
    assert list(shown) == [c.name for c in (ROW, *result_columns())]
    for column in (ROW, *result_columns()):
        dtype, _, description, _ = shown[column.name]
        assert (dtype, description) == (f"`{column.dtype}`", column.description)
