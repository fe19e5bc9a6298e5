"""``%%llama --over DF``: the cell's template for every row, through ``client.grid``, with the cell's options."""

from __future__ import annotations

import pandas as pd
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
