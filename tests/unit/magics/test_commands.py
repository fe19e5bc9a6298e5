"""The ``%llama`` line commands: listings as DataFrames, ``use`` and ``config`` (never the key), ``label``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import llamabook as lb
from llamabook import magics
from support.htmlcheck import tags
from support.magics import ok, run, wide


def test_line_commands_show_dataframes(ip: InteractiveShell, client: lb.Client) -> None:
    ok(ip, "%%llama --save greeter --var name=Ada --max-tokens 2 --no-stream\nGreet {{name}}.")
    response = ip.user_ns["_llama"]
    with wide():
        prompts = ok(ip, "%llama prompts").texts()[0]
        models = ok(ip, "%llama models").texts()[0]
        responses = ok(ip, "%llama responses").texts()[0]
        files = ok(ip, "%llama files").texts()[0]
    assert prompts.split()[:6] == ["name", "prompt_id", "version", "is_default", "variables", "prompt"]
    assert "greeter" in prompts and response.prompt.id in prompts
    assert "smollm2-135m-instruct" in models and "accepts" in models
    assert response.id in responses and "output_tokens" in responses
    assert "filename" in files
    assert isinstance(run(ip, "%llama bogus").error, UsageError)


def test_use_and_config_never_show_the_key(
    ip: InteractiveShell, client: lb.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-magic-secret-4242"
    monkeypatch.setenv("LLAMABOOK_API_KEY", secret)
    used = ok(ip, f"%llama use http://127.0.0.1:9 home={tmp_path / 'http-home'} model=llamacpp/smollm2")
    assert "http://127.0.0.1:9" in used.stdout
    config = ok(ip, "%llama config").stdout
    assert "http://127.0.0.1:9" in config and "llamacpp/smollm2" in config and "set (hidden)" in config
    assert secret not in config + used.stdout + repr(magics.get_client())

    monkeypatch.setenv("LLAMABOOK_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LLAMABOOK_HOME", str(tmp_path / "env-home"))
    ok(ip, "%llama use embedded")
    local = ok(ip, "%llama config").stdout
    assert "backend   local" in local and str(tmp_path / "env-home") in local and secret not in local
    assert "server    embedded (SQLite + a model in this kernel)" in local
    assert "server    unknown (Could not reach http://127.0.0.1:9" in config  # the server row never fails the command
    ok(ip, f"%llama use home={tmp_path / 'other'}")
    assert magics.get_client().backend.home == tmp_path / "other"


def test_label_command_sets_moves_removes_and_lists(ip: InteractiveShell, quick: lb.Client) -> None:
    quick.prompts.save("tutor", "Be {{tone}}.")
    quick.prompts.save("tutor", "Be very {{tone}}.")
    assert "production → " in ok(ip, "%llama label tutor production 1").stdout
    assert quick.prompts.get("tutor@production").version == 1
    ok(ip, "%llama label tutor@2 production")  # the ref's version
    ok(ip, "%%llama -p tutor@production --var tone=kind --no-stream\nHi")
    assert ip.user_ns["_llama"].prompt.version == "2"
    ok(ip, "%llama label tutor production --remove")
    with wide():
        history = ok(ip, "%llama label tutor").texts()[0]
    assert "from_version" in history and history.count("production") == 3
    for bad, says in [("%llama label", "%llama label REF"), ("%llama label tutor production 9", "no version 9"),
                      ("%llama label tutor 'pro duction'", "can't be a label")]:  # fmt: skip
        ran = run(ip, bad)
        assert isinstance(ran.error, UsageError) and says in str(ran.error)


def test_label_through_a_gate_reads_the_evidence_grid_by_name_and_keeps_what_it_measured(
    ip: InteractiveShell, quick: lb.Client
) -> None:
    quick.prompts.save("weather", "Weather in {{city}}?")
    quick.prompts.save("weather", "Weather for {{city}} folk?")
    ip.user_ns["has_city"] = lb.checks.contains(lb.checks.column("city"))
    ip.user_ns["cities"] = [{"city": c} for c in ("Cork", "Sligo", "Galway", "Derry", "Ennis", "Tralee")]
    ok(ip, "%%llama --over cities -p weather --versions 1,2 --check has_city=has_city --repeats 2 -o grid --no-progress\nHi")
    grid = ip.user_ns["grid"]
    assert len(grid) == 24 and sorted(set(grid["repeat"])) == [0, 1]
    # 12 of 12 passes: Wilson's lower end 0.757 clears 0.7, so the label moves, with its evidence
    moved = ok(ip, "%llama label weather production 2 --evidence grid --require has_city=0.7 --baseline 1")
    assert "production → " in moved.stdout and "through the gate" in moved.stdout
    kept = quick.prompts.label_history("weather")[-1].evidence
    assert kept["version"] == 2 and kept["checks"][0]["check"] == "has_city" and kept["checks"][0]["verdict"] == "no evidence"
    for bad, says in [
        ("%llama label weather staging 2 --evidence grid --require has_city=0.9", "staging was not moved to weather@2"),
        ("%llama label weather staging 2 --evidence nothing --require has_city=0.5", "no variable named nothing"),
        ("%llama label weather staging 2 --evidence grid --require has_city", "write --require CHECK=MIN"),
        ("%llama label weather staging 2 --evidence grid --require has_town=0.5", "lacks (its checks: has_city)"),
        ("%llama label weather --evidence grid", "give REF and LABEL"),
    ]:
        ran = run(ip, bad)
        assert isinstance(ran.error, UsageError) and says in str(ran.error), (bad, ran.error)
    assert quick.prompts.get("weather@production").version == 2 and "staging" not in str(quick.prompts.label_history("weather"))


def test_prompts_is_a_compact_table_one_line_per_template(ip: InteractiveShell, quick: lb.Client) -> None:
    long = "You are a patient tutor.\nExplain {{topic}} step by step,\nwith one example, and <b>never</b> more than ten lines."
    quick.prompts.save("tutor", long)
    quick.prompts.save(None, "Unnamed <b>{{x}}</b>")  # no name, no labels
    quick.prompts.set_label("tutor", "production")
    ran = ok(ip, "%llama prompts")
    (shown,) = ran.outputs
    plain, html = shown.data["text/plain"], shown.data["text/html"]
    lines = plain.splitlines()
    assert lines[0].split() == ["name", "prompt_id", "version", "is_default", "variables", "prompt", "labels"]
    assert len(lines) == 3  # a header and one line per prompt
    assert "You are a patient tutor. Explain {{topic}} step by step, wi…" in plain
    assert "<NA>" not in plain + html and "[]" not in plain + html and "None" not in plain
    headers = [attrs["data-column"] for tag, attrs in tags(html) if tag == "th"]
    assert headers[:6] == ["name", "prompt_id", "version", "is_default", "variables", "prompt"]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", html)]
    by_name = {row[0]: dict(zip(headers, row)) for row in rows if row}
    assert by_name["tutor"]["prompt"] == "You are a patient tutor. Explain {{topic}} step by step, wi…"
    assert by_name["tutor"]["labels"] == "production" and by_name["tutor"]["variables"] == "topic"
    assert by_name[""]["prompt"] == "Unnamed &lt;b&gt;{{x}}&lt;/b&gt;" and by_name[""]["labels"] == ""  # empty cells
    assert not any(tag == "b" for tag, _ in tags(html))  # the template's own HTML stays text
