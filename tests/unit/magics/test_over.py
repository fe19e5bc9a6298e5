"""``%%llama --over DF``: the cell's template for every row, through ``client.grid``, with the cell's options."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import llamabook as lb
from support.magics import ok, run
from support.scripted_engine import ScriptedEngine


def test_over_runs_the_template_for_every_row(ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine) -> None:
    ip.user_ns["cities"] = pd.DataFrame({"city": ["Paris", "Dublin"]})
    ran = ok(ip, "%%llama --over cities --var style=short --max-tokens 7 -o facts\nGive a {{style}} fact about {{city}}.")
    frame = ip.user_ns["facts"]
    assert ip.user_ns["_llama"] is frame
    assert list(frame["city"]) == ["Paris", "Dublin"] and list(frame["style"]) == ["short", "short"]
    assert list(frame["status"]) == ["incomplete", "incomplete"] and frame["cut_off"].all()  # 7 tokens: cut off
    assert list(frame["output_text"]) == [f"[system: Give a short fact about {c}.] " for c in ("Paris", "Dublin")]
    assert frame["prompt_id"].nunique() == 1
    sent = sorted((call.system, call.user, call.options.max_output_tokens) for call in scripted.calls)
    assert sent == [([f"Give a short fact about {c}."], "", 7) for c in ("Dublin", "Paris")]
    assert ran.texts()[0] == "values: style = 'short' (--var)"


def test_temperature_concurrency_and_no_progress_reach_the_client(
    ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine
) -> None:
    client = quick
    scripted.delay_s = 0.03  # calls long enough to overlap
    ok(ip, "%%llama --no-stream -t 0.7 --max-tokens 2 -o warm\nSay hi.")
    assert ip.user_ns["warm"].temperature == 0.7
    assert client.responses.retrieve(ip.user_ns["warm"].id).temperature == 0.7
    ip.user_ns["words"] = pd.DataFrame({"word": ["a", "b", "c"]})
    cell = "%%llama --over words {}--concurrency 2 -t 0 --max-tokens 2 -o said\nSay {{{{word}}}}."
    for quiet in ("", "--no-progress "):
        with capture_output() as captured:
            assert ip.run_cell(cell.format(quiet)).error_in_exec is None
        assert ("llamabook grid" in captured.stderr) == (not quiet)  # tqdm's bar, or none
    assert ip.user_ns["said"]["status"].isin(["completed", "incomplete"]).all() and ip.user_ns["said"]["cached"].all()
    assert {r.temperature for r in client.responses.list()} == {0.7, 0.0}
    assert [call.options.temperature for call in scripted.calls] == [0.7, 0.0, 0.0, 0.0]  # the rerun: from the log
    assert scripted.max_in_flight == 2  # --concurrency 2: two calls at a time, never three


def test_over_with_a_missing_column_names_the_columns_and_sends_nothing(
    ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine
) -> None:
    ip.user_ns["cities"] = pd.DataFrame({"city": ["Paris", "Dublin"], "country": ["France", "Ireland"]})
    ran = run(ip, "%%llama --over cities\nName a street of {{town}} in {{country}}.")
    assert isinstance(ran.error, UsageError)
    assert str(ran.error) == (
        "No value for town: --over cities has no column 'town' (columns: city, country). Add that column to cities, "
        "or give every row the same value: define town in the notebook, or pass --var town=..."
    )
    assert not str(ran.error).startswith("No value for town: define town")  # the advice that ignored the DataFrame
    ip.user_ns["town"] = "the capital"  # a notebook variable: the same value in every row
    ok(ip, "%%llama --over cities --max-tokens 2\nName a street of {{town}} in {{country}}.")
    assert sorted(call.system[0] for call in scripted.calls) == [
        "Name a street of the capital in France.", "Name a street of the capital in Ireland.",
    ]  # fmt: skip
    assert len(list(quick.prompts.list())) == 1  # the failed cell stored nothing


def test_over_compares_versions_with_a_check_from_a_notebook_variable(
    ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine
) -> None:
    quick.prompts.save("guide", "Tell me about {{city}}.")
    quick.prompts.save("guide", "Describe {{city}} in a word.")
    ip.user_ns["cities"] = pd.DataFrame({"city": ["Paris", "Dublin"]})
    ip.user_ns["has_city"] = lb.checks.contains("Dublin")
    formatter, html_formatter = ip.display_formatter, ip.display_formatter.formatters["text/html"]
    active, enabled = formatter.active_types, html_formatter.enabled
    formatter.active_types, html_formatter.enabled = ["text/plain", "text/html"], True  # as in a notebook
    try:
        ran = ok(ip, "%%llama --over cities -p guide --versions 1,2 --check ok=has_city -o grid\nBe brief.")
    finally:
        formatter.active_types, html_formatter.enabled = active, enabled
    grid = ip.user_ns["grid"]
    assert ip.user_ns["_llama"] is grid
    assert sorted(zip(grid["city"], grid["version"])) == [("Dublin", 1), ("Dublin", 2), ("Paris", 1), ("Paris", 2)]
    assert "check_ok" in grid.columns
    assert dict(zip(grid["city"], grid["check_ok"])) == {"Paris": False, "Dublin": True}
    assert sorted(call.user for call in scripted.calls) == ["Be brief."] * 4  # -p: the body is the input
    html = [o.data["text/html"] for o in ran.outputs if "text/html" in o.data]
    assert len(html) == 1 and 'data-column="check_ok"' in html[0] and 'data-column="output_text"' in html[0]


def test_versions_with_save_runs_the_body_version_with_the_listed_ones(
    ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine
) -> None:
    quick.prompts.save("guide", "Tell me about {{city}}.")
    ip.user_ns["cities"] = pd.DataFrame({"city": ["Paris"]})
    ok(ip, "%%llama --over cities --save guide --versions 1 -o grid\nDescribe {{city}} in a word.")
    grid = ip.user_ns["grid"]
    assert list(grid["version"]) == [1, 2]  # the changed body became version 2 and ran next to version 1
    assert [p.template for p in quick.prompts.versions("guide")] == ["Tell me about {{city}}.", "Describe {{city}} in a word."]
    assert sorted(call.system[0] for call in scripted.calls) == ["Describe Paris in a word.", "Tell me about Paris."]
    ok(ip, "%%llama --over cities --save guide --versions 1,2 -o again\nDescribe {{city}} in a word.")
    assert list(ip.user_ns["again"]["version"]) == [1, 2]  # unchanged body: still version 2, nothing added


@pytest.mark.parametrize(
    "line, message",
    [
        ("--over cities -p guide --check ok=text", "--check ok=text: text is a str, not a check"),
        ("--over cities -p guide --check ok=Contains", "--check ok=Contains: Contains is the class Contains, not a check"),
        ("--over cities -p guide --check ok=nowhere", "--check ok=nowhere: no variable named nowhere in the notebook"),
        ("--over cities -p guide --check 'ok=has_city()'", "--check 'ok=has_city()': write --check NAME=VAR"),
        ("--over cities -p guide --check ok=has_city --check ok=has_city", "--check ok: two checks named ok"),
        ("--over cities --versions 1,2", "--versions compares versions of a saved prompt: add -p NAME"),
        ("--over cities -p guide --versions 1,x", "--versions '1,x': give version numbers separated by commas"),
        ("--over cities -p guide --versions 2,2", "--versions '2,2': each version once"),
        ("-p guide --versions 1,2", "--versions is for a grid: add --over DF"),
        ("-p guide --check ok=has_city", "--check is for a grid: add --over DF"),
    ],
)
def test_versions_and_checks_are_refused_before_anything_runs(
    ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine, line: str, message: str
) -> None:
    from llamabook.evaluation.text_checks import Contains

    quick.prompts.save("guide", "Tell me about {{city}}.")
    ip.user_ns.update(cities=pd.DataFrame({"city": ["Paris"]}), text="Dublin", Contains=Contains,
                      has_city=lb.checks.contains("Dublin"))  # fmt: skip
    ran = run(ip, f"%%llama {line}\nDescribe {{{{city}}}}.")
    assert isinstance(ran.error, UsageError)
    assert str(ran.error).startswith(message), str(ran.error)
    assert scripted.calls == [] and [p.version for p in quick.prompts.versions("guide")] == [1]


def test_a_plain_function_is_a_check_too(ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine) -> None:
    ip.user_ns["cities"] = pd.DataFrame({"city": ["Paris", "Dublin"]})
    ok(ip, "def short(row, result):\n    return len(result.output_text) < 1000")
    ok(ip, "%%llama --over cities --check short=short -o grid\nName {{city}}.")
    assert ip.user_ns["grid"]["check_short"].tolist() == [True, True]
