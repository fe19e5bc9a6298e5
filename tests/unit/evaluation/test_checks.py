"""Checks over grids: the built-ins, plain functions, judges, their columns, apply(), and bad checks.

Everything runs on the scripted engine: a client whose answer is the rendered prompt itself
(``parrot``), so each row's ``output_text`` is exactly its ``text`` column, or one whose judge
answers are set by the test (``ScriptedEngine(answer=...)``).
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import llamabook as lb
from llamabook import checks, schemas
from llamabook.grid import RESULT_COLUMNS
from support.scripted_engine import MODEL_ID, ScriptedEngine, text_of

JUDGE_MARK = "You check an answer"  # the start of a judge's input (llamabook.evaluation.checks.Judge.ask)


def parrot_or(verdict: Callable[[str], str]) -> Callable[[list[dict[str, Any]]], str]:
    """An answer function: a judge's input gets ``verdict(input)``, any other call its system text back."""

    def answer(messages: list[dict[str, Any]]) -> str:
        last = text_of(messages[-1]["content"])
        if last.startswith(JUDGE_MARK):
            return verdict(last)
        return " ".join(text_of(m["content"]) for m in messages if m["role"] == "system")

    return answer


def judge_calls(engine: ScriptedEngine) -> list[Any]:
    return [c for c in engine.calls if c.user.startswith(JUDGE_MARK)]


@pytest.fixture
def parrot() -> ScriptedEngine:
    """Answers with the rendered prompt itself; a judge answers yes when the answer holds "Paris"."""
    return ScriptedEngine(answer=parrot_or(lambda asked: '{"verdict": "yes"}' if "Paris" in asked else '{"verdict": "no"}'))


@pytest.fixture
def pclient(tmp_path: Path, parrot: ScriptedEngine) -> Iterator[lb.Client]:
    with lb.Client(tmp_path / "home", engine=parrot) as client:
        yield client


def result(text: str, **fields: Any) -> checks.CheckInput:
    """A successful result whose output is ``text``."""
    base = dict.fromkeys(f.name for f in dataclasses.fields(checks.CheckInput))
    return checks.CheckInput.from_values({**base, "output_text": text, "status": "completed", "model": MODEL_ID, **fields})


# ---- the built-ins ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "text", "expected"),
    [
        (checks.contains("Paris"), "The capital is Paris.", True),
        (checks.contains("paris"), "The capital is Paris.", False),
        (checks.contains("paris", ignore_case=True), "The capital is Paris.", True),
        (checks.regex(r"\b\d{4}\b"), "It was built in 1889.", True),
        (checks.regex(r"\b\d{4}\b"), "It was built long ago.", False),
        (checks.regex("^paris$", ignore_case=True), "PARIS", True),
        (checks.equals("Paris"), "  Paris\n", True),
        (checks.equals("Paris", strip=False), "  Paris\n", False),
        (checks.equals("Paris"), "Paris.", False),
        (checks.equals(4), "4", True),
        (checks.equals("PARIS", ignore_case=True), "paris", True),
        (checks.max_words(3), "one two three", True),
        (checks.max_words(3), "one two three four", False),
        (checks.max_words(0), "", True),
        (checks.is_json(), ' {"a": [1, 2]} ', True),
        (checks.is_json(), "```json\n{}\n```", False),
        (checks.is_json(), "", False),
        (checks.json_schema({"type": "object", "required": ["a"]}), '{"a": 1}', True),
        (checks.json_schema({"type": "object", "required": ["a"]}), '{"b": 1}', False),
        (checks.json_schema({"type": "object"}), "not json", False),
        (checks.similar_to("Paris", at_least=0.8), "Paris", True),
        (checks.similar_to("Paris", at_least=0.8), "Lyon", False),
    ],
)
def test_each_built_in_passes_and_fails(check: checks.Check, text: str, expected: bool) -> None:
    assert check({}, result(text)) is expected


def test_similar_to_is_difflibs_ratio() -> None:
    check = checks.similar_to("Paris")
    assert check({}, result("Paris")) == 1.0
    assert check({}, result("Lyon")) == 0.0
    assert check({}, result("Pari")) == pytest.approx(8 / 9)  # 2 × 4 matching characters / 9 characters


def test_a_built_in_reads_a_column_of_the_row() -> None:
    check = checks.contains(checks.column("expected"))
    assert check({"expected": "Paris"}, result("It is Paris.")) is True
    assert check({"expected": "Rome"}, result("It is Paris.")) is False
    assert checks.equals(checks.column("n"))({"n": 4}, result("4")) is True  # a number compares as its text
    assert checks.max_words(checks.column("limit"))({"limit": 2}, result("a b c")) is False
    outcome = check.evaluate({"expected": None}, result("It is Paris."), None)
    assert outcome.value is None and outcome.error == "ValueError: this row has no value in column 'expected'"


def test_checks_run_in_a_grid_as_typed_columns(pclient: lb.Client) -> None:
    rows = [
        {"text": "The capital is Paris.", "expected": "Paris"},
        {"text": '{"city": "Rome"}', "expected": "Lyon"},
    ]
    grid = pclient.grid(
        "{{text}}", rows, progress=False,
        checks={
            "names_it": checks.contains(checks.column("expected")),
            "json": checks.is_json(),
            "like": checks.similar_to("The capital is Paris."),
            "short": lambda row, res: len(res.output_text) < 20,
        },
    )  # fmt: skip
    assert grid["output_text"].tolist() == [r["text"] for r in rows]
    assert grid["check_names_it"].tolist() == [True, False]
    assert grid["check_json"].tolist() == [False, True]
    assert grid["check_like"].iloc[0] == 1.0 and 0 < grid["check_like"].iloc[1] < 0.5
    assert grid["check_short"].tolist() == [False, True]
    assert grid.columns[-8:].tolist() == [
        "check_names_it", "check_names_it_error", "check_json", "check_json_error",
        "check_like", "check_like_error", "check_short", "check_short_error",
    ]  # fmt: skip
    assert str(grid["check_names_it"].dtype) == "boolean" and str(grid["check_like"].dtype) == "Float64"
    assert str(grid["check_json_error"].dtype) == "string" and grid["check_json_error"].isna().all()


def test_a_function_sees_the_rows_own_columns_and_the_result(pclient: lb.Client) -> None:
    seen: list[tuple[dict[str, Any], checks.CheckInput]] = []

    def look(row: dict[str, Any], res: checks.CheckInput) -> float:
        seen.append((row, res))
        return res.output_tokens or 0

    grid = pclient.grid("{{text}}", [{"text": "a b c", "n": 7}], progress=False, checks={"tokens": look})
    (row, res), = seen
    assert row == {"text": "a b c", "n": 7}
    assert res.output_text == "a b c" and res.status == "completed" and res.cut_off is False
    assert res.response_id == grid["response_id"].iloc[0] and res.model == MODEL_ID and res.version == 1
    assert res.output_tokens == 3 and res.cached is False and res.attempts == 1
    assert grid["check_tokens"].tolist() == [3.0] and str(grid["check_tokens"].dtype) == "Float64"


# ---- checks that fail, rows that fail ----------------------------------------------------------


def check_error_warnings(record: Any) -> list[warnings.WarningMessage]:
    """The CheckErrorWarnings among the warnings ``pytest.warns`` recorded (it records every warning)."""
    return [w for w in record if issubclass(w.category, lb.CheckErrorWarning)]


def test_a_raising_check_is_missing_not_false_with_its_error_and_the_grid_survives(pclient: lb.Client) -> None:
    def broken(row: dict[str, Any], res: checks.CheckInput) -> bool:
        return {"a": True}[res.output_text]  # KeyError for anything but "a"

    def odd(row: dict[str, Any], res: checks.CheckInput) -> Any:
        return "yes"

    with pytest.warns(lb.CheckErrorWarning) as record:
        grid = pclient.grid(
            "{{text}}", [{"text": "a"}, {"text": "b"}], progress=False,
            checks={"broken": broken, "odd": odd, "fine": checks.max_words(1), "score": lambda r, res: 1 / len(res.output_text) - 1},
        )  # fmt: skip
    assert (grid["status"] == "completed").all() and len(grid) == 2
    passed, raised = grid["check_broken"].tolist()
    assert passed is True and raised is pd.NA  # an error is not a verdict
    assert str(grid["check_broken"].dtype) == "boolean" and not (grid["check_broken"] == False).any()  # noqa: E712
    assert grid["check_broken_error"].tolist()[0] is pd.NA and grid["check_broken_error"].iloc[1] == "KeyError: 'b'"
    assert grid["check_odd"].isna().all()  # a value that is not a verdict is an error too
    assert grid["check_odd_error"].str.startswith("TypeError: a check returns True/False or a number, not str").all()
    (warned,) = check_error_warnings(record)  # one warning for the grid, not one per row or per check
    assert str(warned.message).splitlines() == [
        "1 of 2 checks 'broken' raised (no verdict: <NA>, not False); first: KeyError: 'b'; see check_broken_error",
        "2 of 2 checks 'odd' raised (no verdict: <NA>, not False); first: TypeError: a check returns True/False "
        "or a number, not str 'yes'; see check_odd_error",
    ]
    assert warned.filename == __file__  # it points at the caller's grid line, not at llamabook's insides
    assert grid["check_fine"].tolist() == [True, True] and grid["check_fine_error"].isna().all()
    assert grid["check_score"].tolist() == [0.0, 0.0]


def test_a_failing_numeric_check_is_null_with_its_error(pclient: lb.Client) -> None:
    with pytest.warns(lb.CheckErrorWarning, match="1 of 2 checks 'like' raised"):
        grid = pclient.grid(
            "{{text}}", [{"text": "Paris", "other": "Paris"}, {"text": "Rome", "other": None}], progress=False,
            checks={"like": checks.similar_to(checks.column("other"))},
        )  # fmt: skip
    assert grid["check_like"].iloc[0] == 1.0 and grid["check_like"].iloc[1] is pd.NA
    assert grid["check_like_error"].iloc[1] == "ValueError: this row has no value in column 'other'"


class Length(checks.Check):
    """A check of one's own: a score, so its column is Float64 even when no row could be scored."""

    kind = "float"

    def __call__(self, row: dict[str, Any], result: checks.CheckInput) -> float:
        return len(result.output_text) / int(row["scale"])


def test_a_score_column_is_float_even_when_every_row_failed(pclient: lb.Client) -> None:
    rows = [{"text": "Paris", "other": None, "scale": 0}]
    with pytest.warns(lb.CheckErrorWarning):
        grid = pclient.grid(
            "{{text}}", rows, progress=False, checks={"like": checks.similar_to(checks.column("other")), "mine": Length()}
        )
    assert str(grid["check_like"].dtype) == "Float64" and grid["check_like"].isna().all()
    assert str(grid["check_mine"].dtype) == "Float64" and grid["check_mine_error"].iloc[0] == "ZeroDivisionError: division by zero"
    with pytest.warns(lb.CheckErrorWarning, match="1 of 1 checks 'mine' raised"):
        assert checks.apply(grid, {"mine": Length()}, client=None)["check_mine"].isna().all()


def test_rows_whose_call_failed_get_null_checks(quick_client: lb.Client, scripted: ScriptedEngine) -> None:
    scripted.fail("boom")
    with warnings.catch_warnings():
        warnings.simplefilter("error", lb.CheckErrorWarning)  # a failed call is no check error: nothing to warn of
        grid = quick_client.grid(
            "Say {{word}}.", [{"word": "fine"}, {"word": "boom"}], progress=False,
            checks={"has_say": checks.contains("Say"), "always": lambda row, res: True},
        )  # fmt: skip
    assert grid["status"].tolist() == ["completed", "failed"]
    assert grid["check_has_say"].tolist()[0] is True and grid["check_has_say"].iloc[1] is pd.NA
    assert grid["check_always"].iloc[1] is pd.NA and grid["check_always_error"].isna().all()


def test_a_grid_with_no_rows_still_has_the_check_columns(quick_client: lb.Client) -> None:
    grid = quick_client.grid("Say {{word}}.", [], progress=False, checks={"j": checks.is_json(), "ask": checks.judge("Ok?")})
    assert grid.empty and grid.columns[-5:].tolist() == ["check_j", "check_j_error", "check_ask", "check_ask_error", "check_ask_judge_id"]


# ---- an error is not a verdict -----------------------------------------------------------------

IMPORT_RACE = "cannot import name 'Draft3Validator' from partially initialized module 'jsonschema.validators'"


def flaky(row: dict[str, Any], res: checks.CheckInput) -> bool:
    """Raises on the first two rows (as a half-imported module did in issue 23's judge), True on the others."""
    if res.output_text in ("Paris 0", "Paris 1"):
        raise ImportError(IMPORT_RACE)
    return True


def test_a_check_that_raises_on_some_rows_is_missing_there_uncounted_and_warned_once(pclient: lb.Client) -> None:
    rows = [{"text": f"Paris {i}"} for i in range(8)]
    with pytest.warns(lb.CheckErrorWarning) as record:
        grid = pclient.grid(
            "{{text}}", rows, progress=False, concurrency=8, checks={"on_topic": flaky, "names": checks.contains("Paris")}
        )
    assert grid["check_on_topic"].isna().tolist() == [True, True] + [False] * 6  # not FFTTTTTT
    assert grid["check_on_topic"].dropna().tolist() == [True] * 6
    assert grid["check_on_topic_error"].dropna().tolist() == [f"ImportError: {IMPORT_RACE}"] * 2
    (warned,) = check_error_warnings(record)  # once for the grid, not once per row
    assert str(warned.message) == (
        f"2 of 8 checks 'on_topic' raised (no verdict: <NA>, not False); first: ImportError: {IMPORT_RACE}; "
        "see check_on_topic_error"
    )
    table = lb.scores(grid)  # over the rows evaluated: 6 of 6 pass, not 6 of 8
    assert table["pass_rate_on_topic"].tolist() == [1.0] and table["errors_on_topic"].tolist() == [2]
    assert table["pass_rate_names"].tolist() == [1.0] and table["errors_names"].tolist() == [0]
    assert table["pass_rate"].tolist() == [1.0]  # 14 passes among the 14 verdicts

    with pytest.warns(lb.CheckErrorWarning) as again:
        applied = checks.apply(grid, {"on_topic": flaky}, concurrency=4)
    assert applied["check_on_topic"].isna().sum() == 2 and len(check_error_warnings(again)) == 1
    assert str(check_error_warnings(again)[0].message).startswith("2 of 8 checks 'on_topic' raised")
    with warnings.catch_warnings():
        warnings.simplefilter("error", lb.CheckErrorWarning)  # no check raised: no warning
        assert checks.apply(grid, {"on_topic": checks.contains("Paris")})["check_on_topic"].all()


def test_the_warning_quotes_a_long_first_message_cut_and_the_column_keeps_it_whole(pclient: lb.Client) -> None:
    grid = pclient.grid("{{text}}", [{"text": "a"}, {"text": "b"}], progress=False)

    def wordy(row: dict[str, Any], res: checks.CheckInput) -> bool:
        raise ValueError(res.output_text * 500)

    with pytest.warns(lb.CheckErrorWarning) as record:
        applied = checks.apply(grid, {"wordy": wordy})
    assert applied["check_wordy_error"].tolist() == [f"ValueError: {'a' * 500}", f"ValueError: {'b' * 500}"]
    quoted = str(check_error_warnings(record)[0].message).split("first: ")[1].split("; see")[0]
    assert len(quoted) == checks.ERROR_QUOTE_CHARS and quoted == "ValueError: " + "a" * 187 + "…"


# ---- apply() on a finished grid ----------------------------------------------------------------


def test_apply_sets_and_replaces_check_columns_without_calling_a_model(pclient: lb.Client, parrot: ScriptedEngine) -> None:
    rows = [{"text": "The capital is Paris.", "expected": "Paris"}, {"text": "No idea.", "expected": "Rome"}]
    grid = pclient.grid("{{text}}", rows, progress=False, checks={"names_it": checks.contains("Paris")})
    calls = len(parrot.calls)
    seen: list[dict[str, Any]] = []
    again = checks.apply(
        grid, {"names_it": checks.contains(checks.column("expected")), "rows": lambda row, res: bool(seen.append(row)) or True}
    )
    assert len(parrot.calls) == calls  # no model call
    assert grid["check_names_it"].tolist() == [True, False]  # the grid given is unchanged
    assert again["check_names_it"].tolist() == [True, False] and again["check_rows"].tolist() == [True, True]
    assert seen == rows  # the row's own columns, as in the grid
    assert again.columns.tolist() == [*grid.columns[:-2], "check_names_it", "check_names_it_error", "check_rows", "check_rows_error"]
    replaced = checks.apply(again, {"names_it": checks.contains("capital")})
    assert replaced["check_names_it"].tolist() == [True, False] and replaced["check_rows"].tolist() == [True, True]
    assert len(parrot.calls) == calls


def test_apply_leaves_failed_rows_unchecked_and_works_after_parquet(quick_client: lb.Client, scripted: ScriptedEngine, tmp_path: Path) -> None:
    scripted.fail("boom")
    grid = quick_client.grid("Say {{word}}.", [{"word": "fine"}, {"word": "boom"}], progress=False)
    grid.to_parquet(tmp_path / "grid.parquet")
    back = checks.apply(pd.read_parquet(tmp_path / "grid.parquet"), {"said": checks.regex("Say (fine|boom)")})
    assert back["check_said"].tolist()[0] is True and back["check_said"].iloc[1] is pd.NA


def test_apply_takes_a_grid_frame() -> None:
    with pytest.raises(lb.InvalidRequest, match="DataFrame returned by client.grid"):
        checks.apply(pd.DataFrame({"x": [1]}), {"j": checks.is_json()})


# ---- judges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "verdict"),
    [('{"verdict": "yes"}', True), ('{"verdict":"no"}', False), (' {"verdict": "no"}\n', False), ("yes", True), ("No", False)],
)
def test_a_verdict_is_json_or_a_bare_word(said: str, verdict: bool) -> None:
    assert checks.parse_verdict(said) is verdict


@pytest.mark.parametrize(
    "said",
    ['{"verdict": "maybe"}', '{"verdict": "yes", "why": "polite"}', '{"verdict": "Yes"}', "Yes, it is polite.", "yes.", "", '["yes"]'],
)
def test_anything_else_is_no_verdict(said: str) -> None:
    with pytest.raises(ValueError, match="the judge answered"):
        checks.parse_verdict(said)


def test_a_judge_asks_through_the_client_and_keeps_its_response_id(pclient: lb.Client, parrot: ScriptedEngine) -> None:
    rows = [{"text": "It is Paris.", "country": "France"}, {"text": "It is Lyon.", "country": "France"}]
    grid = pclient.grid("{{text}}", rows, progress=False, concurrency=2, checks={"right": checks.judge("Does it name the capital of {{country}}?")})
    assert grid["check_right"].tolist() == [True, False] and grid["check_right_error"].isna().all()
    asked = judge_calls(parrot)
    assert len(asked) == 2 and all("Question: Does it name the capital of France?" in c.user for c in asked)
    assert sorted(c.user.split("<<<\n")[1].split("\n>>>")[0] for c in asked) == ["It is Lyon.", "It is Paris."]
    for call in asked:
        assert call.model == MODEL_ID and call.options.temperature == 0 and call.options.max_output_tokens == 16
        assert call.options.json_schema == checks.VERDICT_FORMAT["format"]["schema"]  # constrained, as the wire format asks
    judged = [pclient.responses.retrieve(i) for i in grid["check_right_judge_id"]]
    assert [r.output_text for r in judged] == ['{"verdict": "yes"}', '{"verdict": "no"}']
    assert str(grid["check_right_judge_id"].dtype) == "string"


def test_a_judge_that_answers_garbage_is_an_error_not_a_no_with_a_clear_message(tmp_path: Path) -> None:
    engine = ScriptedEngine(answer=parrot_or(lambda asked: "I think so" if "Paris" in asked else "no"))
    with lb.Client(tmp_path / "home", engine=engine) as client, pytest.warns(lb.CheckErrorWarning, match="the judge answered 'I think so'"):
        grid = client.grid("{{text}}", [{"text": "Paris"}, {"text": "Rome"}], progress=False, checks={"ok": checks.judge("Is it right?")})
    assert grid["check_ok"].tolist()[0] is pd.NA and grid["check_ok"].tolist()[1] is False  # no verdict ≠ a "no"
    assert grid["check_ok_error"].iloc[0] == (
        "ValueError: the judge answered 'I think so', not {\"verdict\": \"yes\"} or {\"verdict\": \"no\"} (or a bare yes / no)"
    )
    assert grid["check_ok_error"].iloc[1] is pd.NA
    assert grid["check_ok_judge_id"].notna().all()  # the failed judge's response is kept too


def test_a_judge_whose_call_fails_is_an_error_not_a_fail(pclient: lb.Client, parrot: ScriptedEngine) -> None:
    parrot.fail("Is it rude?")
    with pytest.warns(lb.CheckErrorWarning, match="first: EngineError: scripted failure"):
        grid = pclient.grid("{{text}}", [{"text": "Paris"}], progress=False, checks={"rude": checks.judge("Is it rude?")})
    assert grid["status"].tolist() == ["completed"] and grid["check_rude"].isna().all()
    assert grid["check_rude_error"].iloc[0] == "EngineError: scripted failure on 'Is it rude?'"
    assert pclient.responses.retrieve(grid["check_rude_judge_id"].iloc[0]).status == "failed"


def test_judge_verdicts_are_kept_in_the_run_log_other_checks_are_computed_again(pclient: lb.Client, parrot: ScriptedEngine) -> None:
    rows = [{"text": "It is Paris."}, {"text": "It is Rome."}]
    first = pclient.grid("{{text}}", rows, progress=False, checks={"j": checks.judge("Right?"), "c": checks.contains("Paris")})
    calls = len(parrot.calls)
    again = pclient.grid("{{text}}", rows, progress=False, checks={"j": checks.judge("Right?"), "c": checks.contains("Rome")})
    assert again["cached"].all() and len(parrot.calls) == calls  # no call, no judge asked again
    assert again["check_j"].tolist() == [True, False] and again["check_j_judge_id"].tolist() == first["check_j_judge_id"].tolist()
    assert again["check_c"].tolist() == [False, True]  # the changed check, computed again
    other = pclient.grid("{{text}}", rows, progress=False, checks={"j": checks.judge("Is it right?")})
    assert len(judge_calls(parrot)) == 4 and other["check_j"].tolist() == [True, False]  # another question is asked
    assert pclient.grid("{{text}}", rows, progress=False, checks={"j": checks.judge("Is it right?")})["check_j"].notna().all()
    assert len(parrot.calls) == calls + 2  # and then kept as well


def test_apply_asks_a_judge_only_with_a_client(pclient: lb.Client, parrot: ScriptedEngine) -> None:
    grid = pclient.grid("{{text}}", [{"text": "Paris"}, {"text": "Rome"}], progress=False)
    calls = len(parrot.calls)
    with pytest.raises(lb.InvalidRequest, match=r"\['polite'\] ask a model: pass client="):
        checks.apply(grid, {"polite": checks.judge("Is it polite?"), "j": checks.is_json()})
    assert len(parrot.calls) == calls
    judged = checks.apply(grid, {"paris": checks.judge("Is it the capital of France?")}, client=pclient)
    assert judged["check_paris"].tolist() == [True, False] and judged["check_paris_judge_id"].notna().all()
    assert len(judge_calls(parrot)) == 2


def test_a_judge_model_is_checked_before_anything_runs(quick_client: lb.Client, scripted: ScriptedEngine) -> None:
    with pytest.raises(lb.InvalidRequest, match=r"The judge 'ok' uses model 'no/such-model', which is not available here; choose from \['test/scripted'\]"):
        quick_client.grid("Say {{word}}.", [{"word": "hi"}], progress=False, checks={"ok": checks.judge("Ok?", model="no/such-model")})
    assert scripted.calls == [] and len(quick_client.prompts.list()) == 0  # nothing sent, nothing stored
    grid = quick_client.grid("Say {{word}}.", [{"word": "hi"}], progress=False)
    with pytest.raises(lb.InvalidRequest, match="no/such-model"):
        checks.apply(grid, {"ok": checks.judge("Ok?", model="no/such-model")}, client=quick_client)
    assert len(scripted.calls) == 1


def test_a_judge_cannot_be_called_without_a_client() -> None:
    with pytest.raises(lb.InvalidRequest, match="run it through client.grid"):
        checks.judge("Ok?")({}, result("fine"))


# ---- bad checks: typed errors before any call ------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"x": "containz"}, r"The check 'x' is the string 'containz', which names no check.*Built-ins: checks.contains, checks.regex"),
        ({"x": "contains"}, r"call it with its argument: checks.contains\(…\)"),
        ({"x": "is_json"}, r"call it: checks.is_json\(\)"),
        ({"x": 42}, "The check 'x' is a int, not callable"),
        ({"x": lambda row: True}, r"must take two arguments, \(row, result\)"),
        ({"has city": checks.is_json()}, "'check_has city': use a Python identifier"),
        ({"1st": checks.is_json()}, "use a Python identifier"),
        ({"x": checks.is_json(), "x_error": checks.is_json()}, "would share the column 'check_x_error'"),
        ({"x": checks.contains(checks.column("nope"))}, r"reads column\(s\) \['nope'\] that the rows do not have"),
        ({"x": checks.judge("Is {{nope}} there?")}, r"reads column\(s\) \['nope'\]"),
        ([checks.is_json()], "checks= is a dict of name → check"),
    ],
)
def test_bad_checks_are_refused_before_any_call(quick_client: lb.Client, scripted: ScriptedEngine, given: Any, message: str) -> None:
    with pytest.raises(lb.InvalidRequest, match=message):
        quick_client.grid("Say {{word}}.", [{"word": "hi"}], progress=False, checks=given)
    assert scripted.calls == [] and len(quick_client.prompts.list()) == 0


def test_rows_may_not_hold_a_column_a_check_writes(quick_client: lb.Client, scripted: ScriptedEngine) -> None:
    with pytest.raises(lb.InvalidRequest, match=r"already have column\(s\) \['check_x'\]"):
        quick_client.grid("Say {{word}}.", [{"word": "hi", "check_x": 1}], progress=False, checks={"x": checks.is_json()})
    assert scripted.calls == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: checks.contains(5), r"contains\(\) takes a str or checks.column\('name'\), not int 5"),
        (lambda: checks.regex("(unclosed"), "not a valid regular expression"),
        (lambda: checks.equals(None), r"equals\(\) takes a str or number"),
        (lambda: checks.max_words(-1), "0 or more words"),
        (lambda: checks.max_words(True), r"max_words\(\) takes a whole number"),
        (lambda: checks.similar_to("x", at_least=2), "a ratio from 0 to 1"),
        (lambda: checks.json_schema({"type": "nope"}), r"Not a valid JSON Schema: at \$.type"),
        (lambda: checks.judge(""), "yes/no question"),
        (lambda: checks.column(""), "column name"),
    ],
)
def test_bad_literals_are_refused_when_the_check_is_made(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(lb.InvalidRequest, match=message):
        make()


# ---- frames ---------------------------------------------------------------------------------------


def test_parquet_round_trip_with_check_columns(pclient: lb.Client, tmp_path: Path) -> None:
    with pytest.warns(lb.CheckErrorWarning, match="2 of 2 checks 'bad' raised"):
        grid = pclient.grid(
            "{{text}}", [{"text": "Paris"}, {"text": "Rome"}], progress=False,
            checks={"paris": checks.judge("Paris?"), "like": checks.similar_to("Paris"), "bad": lambda r, res: 1 / 0},
        )  # fmt: skip
    path = tmp_path / "grid.parquet"
    grid.to_parquet(path)
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, grid)  # dtypes too: boolean, Float64, string
    assert back["check_bad"].isna().all() and lb.scores(back)["errors_bad"].tolist() == [2]  # errors survive it
    assert str(back["check_paris"].dtype) == "boolean" and str(back["check_like"].dtype) == "Float64"


def test_checks_know_which_columns_of_a_grid_are_results() -> None:
    """apply() tells the row's own columns from the result columns; they must not drift from the grid's."""
    assert checks.GRID_COLUMNS == {"row", *RESULT_COLUMNS}


# ---- llamabook.schemas ----------------------------------------------------------------------------


def test_schema_errors_name_the_field() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}, "day": {"format": "date"}},
        "required": ["name"],
    }
    assert schemas.validate({"name": "Ada", "tags": ["x"], "day": "2024-02-29"}, schema) == []
    assert schemas.validate({"tags": ["x", 3], "day": "2024-02-30"}, schema) == [
        "$: 'name' is a required property",
        "$.day: '2024-02-30' is not a 'date'",
        "$.tags[1]: 3 is not of type 'string'",
    ]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "nope"}, r"Not a valid JSON Schema: at \$.type: 'nope' is not valid"),
        ({"properties": {"a": {"minLength": -1}}}, r"at \$.properties.a.minLength: -1 is less than the minimum of 0"),
        ([{"type": "object"}], "A JSON Schema is a dict"),
        ({"enum": {1, 2}}, "holds JSON values only"),
        ({"$schema": "https://example.com/mine"}, "unknown \\$schema"),
    ],
)
def test_invalid_schemas_are_typed_errors(schema: Any, message: str) -> None:
    with pytest.raises(lb.InvalidRequest, match=message):
        schemas.check_schema(schema)


def test_a_ref_is_resolved_within_the_schema_only() -> None:
    local = {"$defs": {"n": {"type": "integer"}}, "$ref": "#/$defs/n"}
    assert schemas.validate(3, local) == [] and schemas.validate("3", local) == ["$: '3' is not of type 'integer'"]
    with pytest.raises(lb.InvalidRequest, match="cannot be resolved within it"):
        schemas.validate(3, {"$ref": "https://example.com/schema.json"})  # never fetched


def test_a_verdict_format_is_a_valid_schema() -> None:
    schema = checks.VERDICT_FORMAT["format"]["schema"]
    schemas.check_schema(schema)
    assert schemas.validate(json.loads('{"verdict": "yes"}'), schema) == []
    assert schemas.validate({"verdict": "maybe"}, schema) == ["$.verdict: 'maybe' is not one of ['yes', 'no']"]


def test_a_judge_on_the_embedded_model_gives_verdicts_that_parse(client: lb.Client) -> None:
    """The verdict format constrains the real model's decoding: every verdict parses, none is guessed."""
    rows = [{"country": "France"}, {"country": "Italy"}]
    grid = client.grid(
        "What is the capital of {{country}}? Answer in one word.", rows, progress=False, max_output_tokens=8,
        checks={"right": checks.judge("Does the answer name the capital of {{country}}?")},
    )  # fmt: skip
    assert (grid["status"] != "failed").all()
    assert grid["check_right_error"].isna().all() and grid["check_right"].notna().all()
    for judge_id in grid["check_right_judge_id"]:
        checks.parse_verdict(client.responses.retrieve(judge_id).output_text)
