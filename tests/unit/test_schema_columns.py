"""client.grid(..., schema=...): typed field columns, valid / invalid rows, collisions, Parquet, cache; the panels.

Mechanics run on the scripted engine (it ignores schemas: ``answer=`` makes it return the JSON text a
test chooses); one grid runs on the real embedded model, whose grammar makes every row validate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from pydantic import BaseModel

import llamabook as lb
from llamabook.schema_columns import field_columns, parse_arrow_type
from llamabook.schemas import resolve
from support.htmlcheck import text
from support.scripted_engine import ScriptedEngine, text_of


class Item(BaseModel):
    description: str
    quantity: int
    amount: float


class Invoice(BaseModel):
    number: str
    total: float
    paid: bool
    lines: int | None = None
    items: list[Item]
    tags: list[str]
    extra: dict[str, int]  # free-form: JSON text
    mixed: list[int | str]  # mixed items: JSON text


GOOD = {
    "number": "INV-1", "total": 12.5, "paid": True, "lines": 2,
    "items": [{"description": "<b>pen</b>", "quantity": 2, "amount": 2.5}, {"description": "pad", "quantity": 1, "amount": 7.5}],
    "tags": ["office", "q1"], "extra": {"a": 1}, "mixed": [1, "two"],
}  # fmt: skip
BAD = {"number": 7, "total": "lots", "paid": True, "items": [], "tags": [], "extra": {}, "mixed": []}


def answers(by_marker: dict[str, Any]) -> Any:
    """A scripted answer: the JSON (or text) of the first marker found in the last user message."""

    def answer(messages: list[dict[str, Any]]) -> str:
        said = text_of(messages[-1]["content"])
        for marker, value in by_marker.items():
            if marker in said:
                return value if isinstance(value, str) else json.dumps(value)
        return "not JSON at all"

    return answer


@pytest.fixture
def invoices(tmp_path: Path) -> tuple[lb.Client, ScriptedEngine]:
    engine = ScriptedEngine(answer=answers({"good": GOOD, "bad": BAD}))
    client = lb.Client(tmp_path / "home", engine=engine)
    yield client, engine
    client.close()


ROWS = [{"case": "good"}, {"case": "bad"}, {"case": "garbage"}]


def test_each_kind_of_field_gets_its_dtype_next_to_output_text(invoices: tuple[lb.Client, ScriptedEngine]) -> None:
    client, _ = invoices
    grid = client.grid("Read the {{case}} invoice", ROWS, schema=Invoice, progress=False)
    columns = list(grid.columns)
    at = columns.index("output_text")
    assert columns[at + 1 : at + 10] == ["number", "total", "paid", "lines", "items", "tags", "extra", "mixed", "valid"]
    dtypes = {name: str(grid[name].dtype) for name in columns[at + 1 : at + 10]}
    assert dtypes == {
        "number": "string", "total": "Float64", "paid": "boolean", "lines": "Int64",
        "items": "list<item: struct<description: string, quantity: int64, amount: double>>[pyarrow]",
        "tags": "list<item: string>[pyarrow]", "extra": "string", "mixed": "string", "valid": "boolean",
    }  # fmt: skip
    good = grid.iloc[0]
    assert (good["number"], good["total"], good["paid"], good["lines"]) == ("INV-1", 12.5, True, 2)
    assert grid["items"].list.len().iloc[0] == 2
    assert grid["items"].iloc[0][0] == {"description": "<b>pen</b>", "quantity": 2, "amount": 2.5}
    assert list(grid["tags"].iloc[0]) == ["office", "q1"]
    assert json.loads(good["extra"]) == {"a": 1} and json.loads(good["mixed"]) == [1, "two"]
    assert grid.attrs["llamabook"]["fields"] == ["number", "total", "paid", "lines", "items", "tags", "extra", "mixed"]


def test_an_invalid_row_keeps_its_text_and_error_with_null_fields(invoices: tuple[lb.Client, ScriptedEngine]) -> None:
    client, _ = invoices
    grid = client.grid("Read the {{case}} invoice", ROWS, schema=Invoice, progress=False)
    assert grid["valid"].tolist() == [True, False, False]
    assert grid["status"].tolist() == ["completed", "failed", "failed"]
    bad, garbage = grid.iloc[1], grid.iloc[2]
    assert json.loads(bad["output_text"]) == BAD and garbage["output_text"] == "not JSON at all"
    assert bad["error"].startswith("OutputInvalid: ") and "$.number" in bad["error"] and "$.total" in bad["error"]
    assert "not valid JSON" in garbage["error"]
    for name in ("number", "total", "paid", "lines", "items", "tags", "extra", "mixed"):
        assert grid[name].iloc[1:].isna().all(), name
    assert pd.isna(grid.iloc[0]["error"])
    # the stored response keeps the raw text
    assert client.responses.retrieve(bad["response_id"]).output_text == bad["output_text"]


def test_a_failed_call_has_a_null_valid(invoices: tuple[lb.Client, ScriptedEngine]) -> None:
    client, engine = invoices
    engine.fail("boom")
    grid = client.grid("Read the {{case}} invoice", [{"case": "good"}, {"case": "boom"}], schema=Invoice, progress=False, retries=0)
    assert grid["valid"].tolist()[0] is True and pd.isna(grid["valid"].iloc[1])
    assert grid["error"].iloc[1].startswith("EngineError")


def test_a_field_colliding_with_a_column_is_refused_before_any_call_unless_prefixed(
    invoices: tuple[lb.Client, ScriptedEngine],
) -> None:
    client, engine = invoices
    schema = {"type": "object", "properties": {"model": {"type": "string"}, "case": {"type": "string"}}}
    with pytest.raises(lb.InvalidRequest, match=r"'model', 'case'.*schema_prefix='x_'"):
        client.grid("Read the {{case}} invoice", ROWS, schema=schema, progress=False)
    with pytest.raises(lb.InvalidRequest, match="check_ok"):
        client.grid("Read {{case}}", ROWS, schema={"type": "object", "properties": {"check_ok": {"type": "string"}}},
                    checks={"ok": lambda row, result: True}, progress=False)  # fmt: skip
    with pytest.raises(lb.InvalidRequest, match="give schema= too"):
        client.grid("Read {{case}}", ROWS, schema_prefix="x_", progress=False)
    with pytest.raises(lb.InvalidRequest, match="object with properties"):
        client.grid("Read {{case}}", ROWS, schema={"type": "array", "items": {"type": "string"}}, progress=False)
    assert engine.calls == []
    grid = client.grid("Read the {{case}} invoice", ROWS[:1], schema=schema, schema_prefix="x_", progress=False)
    assert {"x_model", "x_case", "model", "case"} <= set(grid.columns)
    assert grid["model"].iloc[0] == "test/scripted" and grid["case"].iloc[0] == "good"


def test_the_frame_round_trips_through_parquet_with_list_and_struct_columns(
    invoices: tuple[lb.Client, ScriptedEngine], tmp_path: Path
) -> None:
    client, _ = invoices
    grid = client.grid("Read the {{case}} invoice", ROWS, schema=Invoice, progress=False)
    path = tmp_path / "grid.parquet"
    grid.to_parquet(path)
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, grid)
    assert back.attrs["llamabook"]["fields"] == grid.attrs["llamabook"]["fields"]
    assert back["items"].iloc[0][1]["amount"] == 7.5


def test_a_rerun_is_cached_and_a_changed_schema_asks_again(invoices: tuple[lb.Client, ScriptedEngine]) -> None:
    client, engine = invoices
    first = client.grid("Read the {{case}} invoice", ROWS, schema=Invoice, progress=False)
    calls = len(engine.calls)
    again = client.grid("Read the {{case}} invoice", ROWS, schema=Invoice, progress=False)
    assert len(engine.calls) == calls and again["cached"].all()
    pd.testing.assert_frame_equal(again.drop(columns="cached"), first.drop(columns="cached"))
    plain = client.grid("Read the {{case}} invoice", ROWS, progress=False)  # no schema: another request
    assert len(engine.calls) == calls + 3 and "valid" not in plain.columns
    other = {"type": "object", "properties": {"number": {"type": "string"}}}
    changed = client.grid("Read the {{case}} invoice", ROWS, schema=other, progress=False)
    assert len(engine.calls) == calls + 6 and not changed["cached"].any()
    assert changed["valid"].tolist() == [True, False, False]  # GOOD has a string number; BAD does not


def test_checks_run_alongside_the_schema(invoices: tuple[lb.Client, ScriptedEngine]) -> None:
    client, _ = invoices
    grid = client.grid(
        "Read the {{case}} invoice", ROWS, schema=Invoice, progress=False,
        checks={"json": lb.checks.is_json(), "cheap": lambda row, result: json.loads(result.output_text)["total"] < 20},
    )  # fmt: skip
    assert grid["check_json"].tolist()[0] is True and grid["check_cheap"].tolist()[0] is True
    assert grid["check_json"].iloc[1:].isna().all()  # failed rows are not checked
    assert grid.columns.get_loc("valid") < grid.columns.get_loc("check_json")


def test_nested_shapes_follow_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "point": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": ["integer", "null"]}}},
            "grid": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
            "odd": {"type": "object", "properties": {"a b": {"type": "string"}}},  # not a plain name
            "free": {"type": "object"},
            "anything": {},
            "choice": {"enum": ["a", "b"]},
            "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
    }
    shapes = {c.field: str(c.dtype) for c in field_columns(resolve(schema))}
    assert shapes == {
        "point": "struct<x: double, y: int64>[pyarrow]", "grid": "list<item: list<item: int64>>[pyarrow]",
        "odd": "string", "free": "string", "anything": "string", "choice": "string", "either": "string",
    }  # fmt: skip
    assert parse_arrow_type("list<element: struct<a: int64, b: list<item: string>>>") == pa.list_(
        pa.struct([("a", pa.int64()), ("b", pa.list_(pa.string()))])
    )
    with pytest.raises(ValueError):
        parse_arrow_type("struct<a b: int64>")


def test_async_grid_takes_the_schema(invoices: tuple[lb.Client, ScriptedEngine], tmp_path: Path) -> None:
    import asyncio

    _, engine = invoices

    async def run() -> pd.DataFrame:
        async with lb.AsyncClient(tmp_path / "async-home", engine=engine) as client:
            return await client.grid("Read the {{case}} invoice", ROWS[:2], schema=Invoice, schema_prefix="f_", progress=False)

    grid = asyncio.run(run())
    assert grid["valid"].tolist() == [True, False] and grid["f_total"].iloc[0] == 12.5


# ---- panels --------------------------------------------------------------------------------------


def test_response_view_shows_the_parsed_fields_next_to_the_raw_text(invoices: tuple[lb.Client, ScriptedEngine]) -> None:
    pytest.importorskip("ipywidgets")
    from llamabook.widgets import ResponseView

    client, _ = invoices
    response = client.responses.create(input="the good invoice", schema=Invoice)
    view = ResponseView(response)
    html = view.output.value
    assert "llamabook-response-parsed" in html and "llamabook-response-json" in html
    assert "<td" in html and ">number</td>" in html and ">INV-1</td>" in html
    assert "&lt;b&gt;pen&lt;/b&gt;" in html and "<b>pen" not in html  # escaped in the table and the raw text
    stored = client.responses.retrieve(response.id)  # re-parsed from the stored text format
    assert "llamabook-response-parsed" in ResponseView(stored).output.value
    plain = client.responses.create(input="the good invoice")  # no schema: Markdown as before
    assert "llamabook-response-parsed" not in ResponseView(plain).output.value


def test_runs_table_shows_the_fields_as_columns(invoices: tuple[lb.Client, ScriptedEngine], tmp_path: Path) -> None:
    pytest.importorskip("ipywidgets")
    from llamabook.widgets import RunsTable

    client, _ = invoices
    grid = client.grid("Read the {{case}} invoice", ROWS, schema=Invoice, progress=False)
    grid.to_parquet(tmp_path / "g.parquet")
    for frame in (grid, pd.read_parquet(tmp_path / "g.parquet")):
        table = RunsTable(frame, client)
        assert table.own_columns == ["case"]
        assert table.field_columns == ["number", "total", "paid", "lines", "items", "tags", "extra", "mixed"]
        heads = [c for c in table.table.children if "llamabook-runs-header" in c._dom_classes][1:]  # after the open column
        texts = "".join(c.description.replace("\u200b", "") for c in heads)  # each a button: its name and arrow
        assert texts.index("output_text") < texts.index("number") < texts.index("mixed") < texts.index("tokens")
        cells = [c.value for c in table.table.children if "llamabook-run-field" in getattr(c, "_dom_classes", ())]
        assert len(cells) == 8 * 3
        joined = "".join(cells)
        shown = "".join(text(cell) for cell in cells)  # the cells' text (a long JSON word has break points)
        assert "INV-1" in shown and "<b>pen</b>" in shown and "<b>pen" not in joined
        assert "office" in shown


def test_every_row_validates_on_the_embedded_model(client: lb.Client) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "population_millions": {"type": "number"},
            "landmarks": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        },
        "required": ["city", "population_millions", "landmarks"],
        "additionalProperties": False,
    }
    rows = [{"country": "France"}, {"country": "Japan"}, {"country": "Peru"}]
    grid = client.grid("Describe the capital of {{country}} as JSON.", rows, schema=schema, max_output_tokens=160, progress=False)
    assert grid["valid"].tolist() == [True, True, True], grid["error"].tolist()
    assert str(grid["population_millions"].dtype) == "Float64" and str(grid["landmarks"].dtype) == "list<item: string>[pyarrow]"
    assert grid["city"].notna().all() and grid["status"].eq("completed").all()
