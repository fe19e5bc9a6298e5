"""client.grid: rows × versions × models, retries, the run log, resume, and what it refuses before any call.

Grid mechanics run on the scripted engine (``quick_client``, ``scripted``: its answer echoes what it was
sent); a few grids run end to end on the real embedded model. Over HTTP against the fault server (bounded
concurrency, retries, a kill, Ctrl-C): tests/integration/test_grid_over_http.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import llamabook as lb
from support.scripted_engine import ScriptedEngine


def test_grid_on_the_embedded_model_with_versions_and_resume(client: lb.Client) -> None:
    p = client.prompts.create("What is the capital of {{country}}?", variables=["country"])
    client.prompts.update(p.prompt_id, prompt="Name the capital city of {{country}}.", version=1, variables=["country"])
    rows = pd.DataFrame({"country": ["Ireland", "France"], "continent": ["Europe", "Europe"]})
    grid = client.grid(p, rows, versions=[1, 2], concurrency=2, max_output_tokens=24, progress=False)
    assert len(grid) == 4
    assert list(grid.columns[:3]) == ["row", "country", "continent"]
    assert sorted(zip(grid["row"], grid["version"])) == [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert grid["status"].isin(["completed", "incomplete"]).all() and grid["error"].isna().all()
    assert (grid["cut_off"] == (grid["status"] == "incomplete")).all()  # incomplete only when cut off
    assert grid["output_text"].str.len().min() > 0
    assert grid["response_id"].tolist() == [r for r in grid["response_id"] if client.responses.retrieve(r)]
    assert (grid["input_tokens"] > 0).all() and not grid["cached"].any()
    stored = len(client.responses.list())
    again = client.grid(p, rows, versions=[1, 2], concurrency=2, max_output_tokens=24, progress=False)
    assert again["cached"].all() and len(client.responses.list()) == stored  # no repeated call
    assert again["output_text"].tolist() == grid["output_text"].tolist()
    assert str(grid["version"].dtype) == "Int64" and str(grid["latency_s"].dtype) == "Float64"


def test_rows_versions_and_models_each_send_their_own_prompt_once(tmp_path: Path) -> None:
    first, second = ScriptedEngine("test/first"), ScriptedEngine("test/second")
    with lb.Client(tmp_path / "home", engines=[first, second]) as client:
        p = client.prompts.create("What is the capital of {{country}}?", variables=["country"])
        client.prompts.update(p.prompt_id, prompt="Name the capital of {{country}}.", version=1, variables=["country"])
        rows = pd.DataFrame({"country": ["Ireland", "France"]})
        models = ["test/first", "test/second"]
        grid = client.grid(p, rows, versions=[1, 2], models=models, concurrency=3, input="Be brief.", progress=False)
        assert list(grid.columns[:2]) == ["row", "country"] and len(grid) == 8
        templates = {1: "What is the capital of {}?", 2: "Name the capital of {}."}
        expected = {
            (row, version, model): f"[system: {templates[version].format(country)}] echo: Be brief."
            for row, country in enumerate(["Ireland", "France"])
            for version in (1, 2)
            for model in models
        }
        assert dict(zip(zip(grid["row"], grid["version"], grid["model"]), grid["output_text"])) == expected
        assert (grid["status"] == "completed").all() and not grid["cut_off"].any() and grid["error"].isna().all()
        assert (grid["input_tokens"] == [len(o.split()) - 2 for o in grid["output_text"]]).all()  # system + user words
        assert (grid["output_tokens"] == [len(o.split()) for o in grid["output_text"]]).all()
        assert len(first.calls) == len(second.calls) == 4 and not grid["cached"].any()
        assert {c.model for c in first.calls} == {"test/first"} and {c.model for c in second.calls} == {"test/second"}

        again = client.grid(p, rows, versions=[1, 2], models=models, concurrency=3, input="Be brief.", progress=False)
        assert again["cached"].all() and len(first.calls) + len(second.calls) == 8  # all from the run log
        assert again["output_text"].tolist() == grid["output_text"].tolist()
        assert again["response_id"].tolist() == grid["response_id"].tolist()

        shorter = client.grid(p, rows, versions=[2], models=models[:1], input="Be brief.", max_output_tokens=3,
                              progress=False)  # fmt: skip
        assert not shorter["cached"].any() and len(first.calls) == 6  # other options: new calls
        assert shorter["output_text"].tolist() == ["[system: Name the ", "[system: Name the "]
        assert (shorter["status"] == "incomplete").all() and shorter["cut_off"].all()
        assert [c.options.max_output_tokens for c in first.calls[-2:]] == [3, 3]


def test_an_engine_failure_is_an_error_row_retried_when_it_may_pass(
    quick_client: lb.Client, scripted: ScriptedEngine
) -> None:
    scripted.fail("Cork")  # not retryable: the row fails at once
    scripted.fail("Dublin", times=2, status_code=503, retry_after=0.01)  # retryable: passes on the third attempt
    scripted.fail("Galway", status_code=429, retry_after=0.01)  # never passes: fails after every retry
    rows = [{"city": city} for city in ("Cork", "Dublin", "Galway", "Sligo")]
    grid = quick_client.grid("Weather in {{city}}?", rows, concurrency=4, retries=2, progress=False)
    by_row = grid.set_index("row")
    assert by_row["status"].tolist() == ["failed", "completed", "failed", "completed"]
    assert by_row["attempts"].tolist() == [1, 3, 3, 1]
    assert by_row.loc[0, "error"] == "EngineError: scripted failure on 'Cork'"
    assert by_row.loc[2, "error"] == "EngineError: scripted failure on 'Galway'"
    assert by_row.loc[1, "output_text"] == "[system: Weather in Dublin?] echo:"
    calls = [call.system[0] for call in scripted.calls]
    assert {city: calls.count(f"Weather in {city}?") for city in ("Cork", "Dublin", "Galway", "Sligo")} == {
        "Cork": 1, "Dublin": 3, "Galway": 3, "Sligo": 1,
    }  # fmt: skip
    failed = quick_client.responses.retrieve(by_row.loc[0, "response_id"])  # the failed call is kept, as failed
    assert failed.status == "failed" and "scripted failure on 'Cork'" in failed.error.message

    again = quick_client.grid("Weather in {{city}}?", rows, concurrency=4, retries=0, progress=False)
    assert again.set_index("row")["cached"].tolist() == [False, True, False, True]  # failures are not cached
    assert len(scripted.calls) == len(calls) + 2


def test_bad_grid_input_fails_before_any_call(client: lb.Client) -> None:
    rows = pd.DataFrame({"city": ["Cork"]})
    with pytest.raises(lb.MissingVariables, match="country"):
        client.grid("Capital of {{country}}?", rows, progress=False)
    with pytest.raises(lb.InvalidRequest, match="models"):
        client.grid("Hi {{city}}", rows, models=["gpt-9"], progress=False)
    with pytest.raises(lb.InvalidRequest, match="rows"):
        client.grid("Hi {{city}}", {"city": "Cork"}, progress=False)
    assert client.responses.list() == []


def test_parquet_round_trip(quick_client: lb.Client, tmp_path: Path) -> None:
    grid = quick_client.grid("Say {{word}}.", [{"word": "yes"}, {"word": "no"}], max_output_tokens=3, progress=False)
    assert grid["output_text"].tolist() == ["[system: Say yes.] ", "[system: Say no.] "]
    assert grid["cut_off"].tolist() == [True, True]
    path = tmp_path / "grid.parquet"
    grid.to_parquet(path)
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, grid, check_dtype=False)
    assert str(back["version"].dtype) == "Int64" and back["cached"].dtype == bool


def test_a_grid_takes_a_named_prompt_and_its_versions(quick_client: lb.Client, scripted: ScriptedEngine) -> None:
    quick_client.prompts.save("weather", "Weather in {{city}}?")
    quick_client.prompts.save("weather", "Forecast for {{city}}?")
    rows = [{"city": "Cork"}]
    pinned = quick_client.grid("weather@1", rows, progress=False)
    both = quick_client.grid("weather", rows, versions=[1, 2], progress=False)
    assert list(pinned["version"]) == [1] and list(both["version"]) == [1, 2]
    assert [call.system[0] for call in scripted.calls] == ["Weather in Cork?", "Forecast for Cork?"]  # v1 from the log
    assert both["cached"].tolist() == [True, False]
    with pytest.raises(lb.PromptNotFound, match="No prompt named 'nosuch'"):
        quick_client.grid("nosuch", rows, progress=False)


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, pd.NaT], ids=["None", "NaN", "NA", "NaT"])
@pytest.mark.parametrize("shape", ["list of dicts", "DataFrame"])
def test_a_missing_value_in_any_form_fails_its_row_and_sends_nothing(
    quick_client: lb.Client, scripted: ScriptedEngine, missing: object, shape: str
) -> None:
    records = [{"city": "Paris"}, {"city": missing}, {"city": "Oslo"}]
    rows = records if shape == "list of dicts" else pd.DataFrame(records, dtype=object)
    grid = quick_client.grid("The city of {{city}}?", rows, progress=False)
    assert grid["status"].tolist() == ["completed", "failed", "completed"]
    assert grid["error"][1] == (  # a template string: no prompt named (the row's prompt_id column has the id)
        "MissingVariables: Missing value for variable(s) 'city'. "
        "Row 1 has no value in the column(s) 'city': fill them in or leave the row out."
    )
    assert sorted(call.system[0] for call in scripted.calls) == ["The city of Oslo?", "The city of Paris?"]
    assert len(scripted.calls) == 2  # nothing was sent for the row with the missing value


def test_grid_errors_name_the_prompt_as_written_and_the_missing_column(
    quick_client: lb.Client, scripted: ScriptedEngine
) -> None:
    """``client.grid("haiku", df[["topic"]])``: the rows lack a column, said with the prompt as the user named it."""
    first = quick_client.prompts.save("haiku", "A {{mood}} haiku about {{topic}}.")
    quick_client.prompts.set_label("haiku", "production", version=1)
    df = pd.DataFrame({"topic": ["tides", "rust"], "mood": ["calm", "wry"]})
    pid = first.prompt_id
    expected = (
        "Missing value for variable(s) 'mood' of prompt {}: rows has no column 'mood' (columns: topic). "
        "Add that column to rows."
    )
    for given, shown, options in [
        ("haiku", "haiku", {}),
        ("haiku@1", "haiku@1", {}),
        ("haiku@production", "haiku@production", {}),
        ("haiku", "haiku@1", {"versions": [1]}),
        (first, "haiku@1", {}),  # a Prompt: its name and version
        (pid, pid, {}),  # the id only when the user gave the id
    ]:
        with pytest.raises(lb.MissingVariables) as missing:
            quick_client.grid(given, df[["topic"]], progress=False, **options)
        assert str(missing.value) == expected.format(shown)
        assert "variables=" not in str(missing.value) and "strict=False" not in str(missing.value)
    with pytest.raises(lb.MissingVariables) as missing:
        quick_client.grid("A {{mood}} haiku about {{topic}}!", df[["topic"]], progress=False)
    assert str(missing.value) == (
        "Missing value for variable(s) 'mood': rows has no column 'mood' (columns: topic). Add that column to rows."
    )
    with pytest.raises(lb.VersionNotFound) as unknown:
        quick_client.grid("haiku", df, versions=[1, 4], progress=False)
    assert str(unknown.value) == "Prompt haiku has no version 4; it has versions [1]"
    assert scripted.calls == [] and list(quick_client.responses.list()) == []  # nothing sent
    rows = pd.DataFrame({"topic": ["tides", "rust"], "mood": ["calm", None]})
    grid = quick_client.grid("haiku", rows, progress=False)
    assert grid["error"][1] == (
        "MissingVariables: Missing value for variable(s) 'mood' of prompt haiku. "
        "Row 1 has no value in the column(s) 'mood': fill them in or leave the row out."
    )


def test_a_grid_checks_its_versions_before_any_call(tmp_path, engine) -> None:
    import pandas as pd

    rows = pd.DataFrame({"country": ["Ireland"]})
    with lb.Client(tmp_path / "home", engine=engine) as client:
        with pytest.raises(lb.InvalidRequest, match=r"a template string runs as a prompt of its own.*pass the Prompt"):
            client.grid("Capital of {{country}}?", rows, versions=[1, 2], progress=False)
        assert list(client.prompts.list()) == []  # nothing stored
        p = client.prompts.create("Capital of {{country}}?", variables=["country"])
        with pytest.raises(lb.VersionNotFound, match=r"has no version 5; it has versions \[1\]"):
            client.grid(p, rows, versions=[1, 5], progress=False)
        assert list(client.responses.list()) == []  # nothing ran


@pytest.mark.model
def test_a_row_with_an_empty_cell_fails_in_the_grids_words_and_keeps_its_columns(client: lb.Client) -> None:
    import pandas as pd

    from llamabook.widgets import RunsTable

    rows = pd.DataFrame({"country": ["Ireland", None], "note": ["first", "second"]})
    grid = client.grid("Capital of {{country}}?", rows, max_output_tokens=4, progress=False)
    error = grid["error"][1]
    assert error.startswith("MissingVariables: ") and "Row 1 has no value in the column(s) 'country'" in error
    assert "variables=" not in error and "strict=False" not in error
    assert grid["attempts"][1] == 0 and len(client.responses.list()) == 1  # nothing was sent for it
    table = RunsTable(grid, client)
    table.open(1)
    shown = table.detail.children[-1].value
    assert "country" in shown and "(empty)" in shown and "second" in shown


def test_a_grid_replayed_from_a_cassette_says_so_and_has_no_latencies(tmp_path: Path, scripted: ScriptedEngine) -> None:
    """``replayed`` is not ``cached``: a replayed row ran no model (null latency); a cached row keeps what its call had."""
    from llamabook.cassette import forget

    cassette = tmp_path / "grid.jsonl"
    rows = pd.DataFrame({"country": ["Ireland", "France"]})
    template = "Name the capital of {{country}}."
    with lb.Client(tmp_path / "live", engine=scripted, cassette=cassette) as client:
        live = client.grid(template, rows, max_output_tokens=8, progress=False)
        logged = client.grid(template, rows, max_output_tokens=8, progress=False)
    assert str(live["replayed"].dtype) == "bool" and not live["replayed"].any() and live["latency_s"].notna().all()
    assert list(live.columns).index("replayed") == list(live.columns).index("latency_s") + 1
    assert logged["cached"].all() and not logged["replayed"].any()
    assert logged["latency_s"].tolist() == live["latency_s"].tolist()  # a cached row keeps its call's latency

    forget(cassette)
    calls = len(scripted.calls)
    more = pd.concat([rows, pd.DataFrame({"country": ["Peru"]})], ignore_index=True)
    with lb.Client(tmp_path / "replay", engine=scripted, cassette=cassette, record="new") as client:
        mixed = client.grid(template, more, max_output_tokens=8, progress=False)
        again = client.grid(template, more, max_output_tokens=8, progress=False)
    assert len(scripted.calls) == calls + 1  # only Peru ran live
    assert mixed["replayed"].tolist() == [True, True, False] and not mixed["cached"].any()
    assert mixed["latency_s"].isna().tolist() == [True, True, False]
    assert mixed["output_text"].head(2).tolist() == live["output_text"].tolist()
    # From the run log: cached, and still replayed with no latency (or live with its latency)
    assert again["cached"].all() and again["replayed"].tolist() == [True, True, False]
    assert again["latency_s"].isna().tolist() == [True, True, False]
    assert lb.scores(mixed)["latency_p50_s"].tolist() == [mixed["latency_s"][2]]  # the live call's alone
