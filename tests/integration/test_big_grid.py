"""Big grids stay cheap: the run log's chunked lookup, and a re-run's keys and frame equal to the old code's.

Correctness only (speed is measured by bench/bench_big_grid.py). The old per-row code paths are kept
here as references: the cache keys must stay byte-identical (existing run logs depend on them; keys
pinned from the hand-built fast path the production code had before it became one ``json.dumps``)
and the frame's columns, order and dtypes must not change.
"""

from __future__ import annotations

import hashlib
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import llamabook as lb
from llamabook.grid import keys
from llamabook.grid.frame import to_frame
from llamabook.grid.rows import records
from llamabook.grid import RESULT_COLUMNS, Task
from llamabook.frames import none_if_missing
from llamabook.schemas import resolve
from llamabook.store import Database, RunLog
from llamabook.types import Prompt
from support.scripted_engine import ScriptedEngine

DATA = Path(__file__).parent.parent / "data"
PROMPT = Prompt(
    prompt_id="pmpt_" + "ab" * 24,
    prompt="Describe {{photo}} for {{name}} ({{n}}, {{x}}, {{d}}).",
    version=2,
    variables=["photo", "name", "n", "x", "d"],
)
SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}


def old_cache_key(task: Task, options: dict[str, Any], schema: Any = None) -> str:
    """The cache key as computed before the grid was made cheap (one json.dumps of the whole request)."""
    request = {
        "template": task.prompt.prompt,
        "variables": {name: old_fingerprint(name, value) for name, value in sorted(task.values.items())},
        "model": task.model,
        "options": {k: options[k] for k in sorted(options)},
    }
    if schema is not None:
        request["schema"] = {"name": schema.name, "json_schema": schema.json_schema}
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def old_fingerprint(name: str, value: Any) -> Any:
    from llamabook.errors import LlamabookError
    from llamabook.inputs import classify

    try:
        item = classify(name, value)
    except LlamabookError:
        return repr(value)
    if item.variable is not None:
        return item.variable.model_dump(mode="json")
    return {"sha256": hashlib.sha256(item.data or b"").hexdigest(), "kind": item.kind}


def old_frame(tasks: list[Task]) -> pd.DataFrame:
    """The grid's frame as built before: one dict per row, then the result dtypes."""
    rows = []
    for task in tasks:
        base = {"prompt_id": task.prompt.prompt_id, "version": task.prompt.version, "model": task.model}
        result = {**{k: None for k in RESULT_COLUMNS}, "cached": False, **task.result, "call_key": task.key}
        rows.append({"row": task.row, **task.shown, **base, **{k: result[k] for k in RESULT_COLUMNS if k not in base}})
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=["row", *RESULT_COLUMNS])
    for name, dtype in {"row": "int64", **RESULT_COLUMNS}.items():
        frame[name] = frame[name].astype(dtype)
    return frame


def old_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): none_if_missing(v) for k, v in record.items()} for record in frame.to_dict(orient="records")]


# Computed with the code before this change (llamabook/batch.py's _cache_key) and pinned: a run log
# written then must still be found.
PINNED = {
    "text_and_image": "a55194b74ad8e434e8d42a5c3f76604c010331b9d817b7fac2271125f7baea46",
    "with_options": "216ccee8ba358344a8c9a128dd3771b92aa4e96709efbea2ba6e47636e466ad8",
    "typed_dict_and_dataframe": "1c0a86a8ff6a0bbf52e117189c41e9f8b7a9a14cf81c6d8e730693c06797b4b7",
    "path_and_bad_value": "1bd6b179f641599b6d1ad2cb58759d9a55daedfa83d8f8014381003a526927d4",
    "schema": "0c454540588db73d1a5ef9f83fa4e94e4ad8b137f4524c4b56043c367b296c48",
}


def pinned_cases() -> dict[str, tuple[dict[str, Any], dict[str, Any], Any]]:
    png = (DATA / "phone.png").read_bytes()
    return {
        "text_and_image": ({"name": 'Zoë "quoted"', "photo": png, "n": 3, "x": 2.5, "d": Decimal("1.10")}, {}, None),
        "with_options": ({"name": "Ada", "photo": png}, {"temperature": 0, "max_output_tokens": 16, "input": "Be brief."}, None),
        "typed_dict_and_dataframe": (
            {"name": {"type": "input_text", "text": "typed"}, "photo": pd.DataFrame({"a": [1, 2]})},
            {},
            None,
        ),
        "path_and_bad_value": ({"photo": DATA / "phone.jpeg", "name": {1, 2}}, {}, None),
        "schema": ({"name": "Ada"}, {}, resolve(SCHEMA)),
    }


@pytest.mark.parametrize("case", sorted(PINNED))
def test_cache_keys_are_byte_identical_to_the_pinned_old_keys(case: str) -> None:
    values, options, schema = pinned_cases()[case]
    task = Task(0, values, {}, PROMPT, "test/scripted")
    assert keys.cache_key(task, options, schema) == PINNED[case]
    assert keys.cache_keys([task, task], options, schema) == [PINNED[case]] * 2
    assert old_cache_key(task, options, schema) == PINNED[case]  # the reference itself is the old code


# Pinned from the hand-built fast path (the exact bytes of json.dumps, assembled by hand) that
# computed the keys before the readable json.dumps: other models and templates, typed images and
# files, bools, a big int, -0.0, unicode, options and a schema.
PINNED_WIDER = {
    "typed_image_and_file": "a1bec34b100498b4f5a43376767c931db7f882a9acb14f194576a4914b31ef5e",
    "bools_numbers_unicode_schema": "c9d9da7b642a329e23f192bd0bed5bb15ef9712120d80702ecd97353715a3045",
}


def wider_cases() -> dict[str, tuple[dict[str, Any], dict[str, Any], Any, str, str | None]]:
    typed = {
        "photo": {"type": "input_image", "file_id": "file-abc"},
        "name": {"type": "input_file", "file_id": "file-xyz", "filename": "Zoë.pdf"},
    }
    plain = {"name": "Zoë ☃ 𝄞 🦙", "n": True, "x": -0.0, "d": False, "photo": 2**70}
    return {
        "typed_image_and_file": (
            typed, {"temperature": 0.2, "top_p": 0.9, "max_output_tokens": 64}, None, "other/ü model", 'He said "{{name}}"\n{{photo}}'
        ),
        "bools_numbers_unicode_schema": (plain, {"temperature": 0}, resolve(SCHEMA), "test/scripted", None),
    }


@pytest.mark.parametrize("case", sorted(PINNED_WIDER))
def test_cache_keys_of_other_models_templates_and_typed_media_are_the_pinned_old_keys(case: str) -> None:
    values, options, schema, model, template = wider_cases()[case]
    task = Task(0, values, {}, PROMPT.model_copy(update={"prompt": template}), model)
    assert keys.cache_keys([task], options, schema) == [PINNED_WIDER[case]]
    assert old_cache_key(task, options, schema) == PINNED_WIDER[case]


def test_cache_key_hashes_the_sorted_json_of_the_request() -> None:
    """The bytes behind a key, written out: keys sorted, json.dumps's separators, non-ASCII escaped."""
    task = Task(0, {"x": "ü", "a": 2}, {}, PROMPT.model_copy(update={"prompt": "t {{a}} {{x}}"}), "m")
    text = (
        '{"model": "m", "options": {"input": "Be brief.", "temperature": 0}, "template": "t {{a}} {{x}}", '
        '"variables": {"a": {"text": "2", "type": "input_text"}, "x": {"text": "\\u00fc", "type": "input_text"}}}'
    )
    assert keys.cache_key(task, {"temperature": 0, "input": "Be brief."}) == hashlib.sha256(text.encode()).hexdigest()


def test_cache_keys_equal_the_old_json_of_the_request_for_odd_values() -> None:
    texts = ["", "plain", 'quote " and \\ backslash', "tab\tnew\nline\x00\x1f", "Zoë ☃ 𝄞 emoji 🦙", "lone \ud800 surrogate", "</script>"]
    numbers: list[Any] = [0, -1, 2**70, True, False, 0.0, -0.0, 1e300, 2.5, math.inf, -math.inf, math.nan, Decimal("1.10")]
    others: list[Any] = [
        {"type": "input_text", "text": "typed"}, (DATA / "phone.png").read_bytes(), {1, 2}, ["a", 1],
        {"type": "input_image", "image_url": "https://example.com/ü.png"}, {"type": "input_file", "file_id": "file-1"},
        DATA / "phone.jpeg", pd.DataFrame({"a": [1.5, None], "b": ["x", "ü"]}),
    ]
    prompts = [PROMPT, PROMPT.model_copy(update={"prompt": None}), PROMPT.model_copy(update={"prompt": 'He said "{{name}}"\n'})]
    tasks = []
    for index, value in enumerate(texts + numbers + others):
        other = texts[index % len(texts)]
        prompt = prompts[index % len(prompts)]
        model = ["test/scripted", "other/ü model"][index % 2]
        tasks.append(Task(index, {"photo": value, "name": other, "z_last": index}, {}, prompt, model))
    tasks.append(Task(99, {}, {}, PROMPT, "test/scripted"))  # no variables at all
    for options, schema in [({}, None), ({"temperature": 0.7, "input": "Ünïcode", "top_p": 1}, None), ({}, resolve(SCHEMA))]:
        assert keys.cache_keys(tasks, options, schema) == [old_cache_key(t, options, schema) for t in tasks]
    values = [t.values["photo"] for t in tasks[:-1]]
    assert [keys.fingerprint("v", v) for v in values] == [old_fingerprint("v", v) for v in values]


def test_get_many_chunks_finds_logged_keys_and_leaves_out_missing_ones(tmp_path: Path) -> None:
    log = RunLog(Database(tmp_path / "runs.db"))
    logged = {f"key-{i:05d}": {"output_text": f"answer {i}", "status": "completed", "attempts": 1, "verdicts": {"j": {"value": i}}} for i in range(1234)}
    for key, result in logged.items():
        log.put(key, result)
    statements: list[str] = []
    log.db.connection().set_trace_callback(statements.append)
    asked = [*reversed(logged), "missing-1", "key-00007", "missing-2", "key-00007"]  # unordered, 2 missing, 1 duplicated
    found = log.get_many(asked, chunk=100)
    by_key = [s for s in statements if "FROM grid_results WHERE cache_key IN" in s]
    by_rowid = [s for s in statements if "FROM grid_results WHERE rowid IN" in s]
    assert len(by_key) == 13 and len(by_rowid) == 13  # ceil(1,236 distinct keys / 100), ceil(1,234 found / 100)
    assert not [s for s in statements if "cache_key = " in s]  # chunked, never one query per key
    assert found == logged and "missing-1" not in found
    assert found["key-00042"] == log.get("key-00042")
    statements.clear()
    assert log.get_many(asked) == logged  # the default chunk, 500: three queries
    assert len([s for s in statements if "cache_key IN" in s]) == 3
    again = log.get_many(["key-00001"])
    again["key-00001"]["verdicts"]["j"]["value"] = "changed"  # each call parses fresh dicts
    assert log.get_many(["key-00001"])["key-00001"]["verdicts"]["j"]["value"] == 1
    assert log.get_many([]) == {} and log.get_many(iter(["missing"])) == {}
    with pytest.raises(ValueError):
        log.get_many(["key-00001"], chunk=0)


def test_a_rerun_of_1200_rows_makes_no_call_and_gives_the_same_frame(tmp_path: Path) -> None:
    engine = ScriptedEngine()
    rows = pd.DataFrame({
        "title": [f"Book {i % 1195}" for i in range(1200)],  # 5 duplicated rows: the same key twice
        "author": [["Austen", "Achebe", "Borges"][i % 1195 % 3] for i in range(1200)],
        "note": [[None, "kept"][i % 3 % 2] for i in range(1200)],
        "year": [1800 + i for i in range(1200)],
        "score": [i / 7 if i % 11 else math.nan for i in range(1200)],
    })  # fmt: skip
    template = "Summarize {{title}} by {{author}}."
    with lb.Client(tmp_path / "home", engine=engine) as client:
        first = client.grid(template, rows, concurrency=8, progress=False)
        calls = len(engine.calls)
        assert calls == 1200 and not first["cached"].any()
        statements: list[str] = []
        client.backend.store.db.connection().set_trace_callback(statements.append)
        second = client.grid(template, rows, concurrency=8, progress=False)
        client.backend.store.db.connection().set_trace_callback(None)
    assert len(engine.calls) == calls  # nothing called again
    assert second["cached"].all()
    assert len([s for s in statements if "FROM grid_results WHERE cache_key IN" in s]) == 3  # 1,195 keys / 500
    assert not [s for s in statements if "FROM grid_results WHERE cache_key =" in s]
    single = second.index[5:1195]  # rows 0-4 and 1195-1199 share a key: both read the one answer logged last
    pd.testing.assert_frame_equal(second.loc[single].drop(columns="cached"), first.loc[single].drop(columns="cached"))
    logged_last = second[list(RESULT_COLUMNS)].iloc[1195:].reset_index(drop=True)
    pd.testing.assert_frame_equal(second[list(RESULT_COLUMNS)].iloc[:5].reset_index(drop=True), logged_last)
    assert set(logged_last["response_id"]) <= set(first["response_id"])
    assert (second.dtypes == first.dtypes).all()
    assert list(second.columns) == ["row", "title", "author", "note", "year", "score", *RESULT_COLUMNS]
    assert str(second["score"].dtype) == "float64" and second["note"].isna().sum() == 800
    assert (second["status"] == "completed").all()


def result(i: int) -> dict[str, Any]:
    if i % 4 == 3:
        return {"status": "failed", "error": "EngineError: no", "response_id": None, "attempts": 2, "cached": False}
    if i % 4 == 2:
        return {}  # not run (cancelled before it started)
    return {
        "output_text": f"answer {i}", "status": "completed", "cut_off": i % 2 == 0, "error": None,
        "input_tokens": 10 + i, "output_tokens": i, "latency_s": 0.5 * i, "response_id": f"resp_{i}", "attempts": 1,
        **({"cached": True} if i % 5 == 0 else {}),
    }  # fmt: skip


@pytest.mark.parametrize(
    "shown",
    [
        [{"country": "Ireland", "n": 1, "x": 0.5, "flag": True}, {"country": None, "n": None, "x": None, "flag": None}] * 3,
        [{"a": 1}, {"b": "x"}, {"a": 2, "c": None}, {}],  # rows with different columns
        [{"status": "mine", "model": 3, "title": "t"}, {"status": "also", "model": 4, "title": None}],  # clashes with results
        [{"row": 10, "x": "y"}, {"x": "z"}, {"row": 12, "x": None}],  # a column named "row"
        [{0: "int name", "text": "s"}, {0: "again", "text": 1}],  # a non-string column name; mixed types
        [{}, {}],
    ],
)
def test_the_frame_is_the_old_frame_column_for_column(shown: list[dict[str, Any]]) -> None:
    other = PROMPT.model_copy(update={"version": 3})
    tasks = [Task(i, {}, s, [PROMPT, other][i % 2], ["m/one", "m/two"][i % 3 % 2], result=result(i)) for i, s in enumerate(shown)]
    new = to_frame(tasks)
    pd.testing.assert_frame_equal(new, old_frame(tasks), check_dtype=True, check_index_type=True, check_column_type=True)
    assert to_frame([]).dtypes.to_dict() == old_frame([]).dtypes.to_dict()


def cells(records: list[dict[str, Any]]) -> list[list[tuple[Any, type, Any]]]:
    """Records as comparable cells: the value's type too (1, 1.0 and True are equal), NaN as a marker."""
    return [[(k, type(v), "NaN" if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()] for r in records]


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"s": ["a", None, "c"], "i": [1, 2, 3], "f": [0.5, math.nan, 2.0], "b": [True, False, True]}),
        pd.DataFrame({"s": pd.array(["a", pd.NA, "c"], dtype="string"), "u": pd.array([1, 2, 3], dtype="uint8")}),
        pd.DataFrame({"o": pd.Series(["a", None, "b"], dtype=object), "f32": pd.array([1.5, 2.5, math.nan], dtype="float32")}),
        pd.DataFrame({"o": pd.Series(["a", 1, 2.5], dtype=object)}),  # mixed objects: the general path
        pd.DataFrame({"I": pd.array([1, None, 3], dtype="Int64"), "t": pd.to_datetime(["2024-01-01", None, "2024-01-03"])}),
        pd.DataFrame({0: ["x", "y"], "s": ["a", "b"]}),  # a non-string column name
        pd.DataFrame([["a", "b"], ["c", "d"]], columns=["dup", "dup"]),
        pd.DataFrame({"c": pd.Categorical(["x", "y", "x"])}),
        pd.DataFrame(index=range(3)),
        pd.DataFrame({"s": pd.Series([], dtype="str")}),
    ],
)
@pytest.mark.filterwarnings("ignore:DataFrame columns are not unique")
def test_records_of_a_dataframe_are_the_old_records(frame: pd.DataFrame) -> None:
    assert cells(records(frame)) == cells(old_records(frame))
