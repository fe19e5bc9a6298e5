"""The ``%%llama`` cell in a real IPython shell (no kernel): its help, templates with notebook variables and
``--var``, saved (named) prompts, and the errors that stop a cell before anything is stored.

Parsing and display mechanics run on the scripted engine (tests/support/scripted_engine.py, fixture ``quick``),
whose answer echoes what it was sent; end-to-end tests run on the real embedded model (fixture ``client``,
tests/unit/magics/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import llamabook as lb
import llamabook.views as lb_views
from support.magics import QUESTION, ok, run
from support.scripted_engine import ScriptedEngine


def test_cell_help_lists_the_options_and_runs_nothing(ip: InteractiveShell, client: lb.Client) -> None:
    ran = ok(ip, "%%llama --help\nignored body {{x}}")
    assert "usage: %%llama" in ran.stdout
    for option in ("-p REF", "--save NAME", "--var NAME=VALUE", "--over DF", "--no-stream", "--debug"):
        assert option in ran.stdout
    assert list(client.prompts.list()) == []
    line_help = ok(ip, "%llama --help").stdout
    assert "%llama use http://HOST:PORT" in line_help and "usage: %%llama" in line_help
    for alone in ("%%llama --help", "%%llama -h\n\n", "%%llama -m x --help"):  # no body: IPython alone would refuse
        assert "usage: %%llama" in ok(ip, alone).stdout
    assert list(client.prompts.list()) == []


# ---- the cell: templates, values, display -------------------------------------------------------------


def test_template_with_a_notebook_variable_and_a_var(ip: InteractiveShell, client: lb.Client) -> None:
    ip.user_ns["country"] = "Ireland"
    ran = ok(ip, f'%%llama -i "{QUESTION}" --var tone=brief --max-tokens 24 -o answer\nGive a {{{{tone}}}} answer about {{{{country}}}}.\n')
    answer = ip.user_ns["answer"]
    assert isinstance(answer, lb.Response) and ip.user_ns["_llama"] is answer
    assert answer.rendered_messages[0] == {"role": "system", "content": "Give a brief answer about Ireland."}
    assert answer.rendered_messages[1] == {"role": "user", "content": QUESTION}
    assert "Dublin" in answer.output_text
    assert ran.texts()[0] == "values: tone = 'brief' (--var), country = 'Ireland'"
    final = ran.updates()[-1].data
    assert "text/markdown" not in final and final["text/plain"] == answer.output_text
    assert final["text/html"] == lb_views.safe_markdown_html(answer.output_text)
    footer = ran.texts()[-1]
    assert footer.startswith(f"smollm2-135m-instruct · {answer.prompt.id}@1 · ")
    assert f"{answer.usage.input_tokens} in / {answer.usage.output_tokens} out tokens" in footer


def test_dollar_and_single_braces_stay_literal(
    ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine
) -> None:
    ip.user_ns["x"] = "EXPANDED"
    ok(ip, "%%llama --var name=Ada --max-tokens 2 --no-stream\nPrint $x, {x}, $$x and {{name}} as written.\n")
    system = ip.user_ns["_llama"].rendered_messages[0]
    assert system == {"role": "system", "content": "Print $x, {x}, $$x and Ada as written."}
    (call,) = scripted.calls
    assert call.messages == [system] and call.options.max_output_tokens == 2  # exactly this reached the engine
    assert ip.user_ns["_llama"].output_text == "[system: Print "  # two tokens, then cut off


def test_dataframe_variable_is_sent_as_csv(ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine) -> None:
    ip.user_ns["table"] = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    ran = ok(ip, "%%llama --max-tokens 2 --no-stream\nRows:\n{{table}}")
    assert ip.user_ns["_llama"].rendered_messages[0]["content"] == "Rows:\na,b\n1,x\n2,y\n"
    assert [call.system for call in scripted.calls] == [["Rows:\na,b\n1,x\n2,y\n"]]
    assert ran.texts()[0] == "values: table = DataFrame 2x2 as CSV"


# ---- saved (named) prompts ---------------------------------------------------------------------------


def test_save_reuse_new_version_and_pinned_version(ip: InteractiveShell, quick: lb.Client) -> None:
    client = quick
    ok(ip, "%%llama --save tutor --var tone=kind --max-tokens 2 --no-stream\nYou are a {{tone}} tutor.")
    prompt_id = ip.user_ns["_llama"].prompt.id
    assert client.prompts.names() == {"tutor": prompt_id}  # kept in the home database, by the client
    assert client.prompts.get("tutor").prompt_id == prompt_id
    assert not (client.backend.home / "aliases.json").exists()

    ok(ip, "%%llama --save tutor --var tone=kind --max-tokens 2 --no-stream\nYou are a {{tone}} tutor.")
    assert len(client.prompts.versions(prompt_id)) == 1  # unchanged body: same version

    ran = ok(ip, "%%llama -p tutor --var tone=kind --max-tokens 2 --no-stream\nWhat is 2+2?")
    reused = ip.user_ns["_llama"]
    assert f"{prompt_id}@1 (tutor)" in ran.texts()[-1]  # the footer names the prompt
    assert (reused.prompt.id, reused.prompt.version) == (prompt_id, "1")
    assert reused.rendered_messages[1] == {"role": "user", "content": "What is 2+2?"}

    ok(ip, "%%llama --save tutor --var tone=kind --max-tokens 2 --no-stream\nYou are a {{tone}} teacher.")
    assert [p.version for p in client.prompts.versions(prompt_id)] == [1, 2]
    assert ip.user_ns["_llama"].prompt.version == "2"

    ok(ip, f"%%llama -p {prompt_id}@1 --var tone=kind --max-tokens 2 --no-stream\nHi")
    pinned = ip.user_ns["_llama"]
    assert pinned.prompt.version == "1"
    assert pinned.rendered_messages[0]["content"] == "You are a kind tutor."


def test_missing_variable_fails_naming_it_and_stores_nothing(ip: InteractiveShell, quick: lb.Client) -> None:
    client = quick
    ran = run(ip, "%%llama --max-tokens 2\nHello {{nobody_here}}, from {{country_x}}.")
    assert isinstance(ran.error, UsageError)
    assert "nobody_here, country_x" in str(ran.error) and "--var nobody_here=..." in str(ran.error)
    assert list(client.prompts.list()) == [] and list(client.responses.list()) == []
    assert client.prompts.names() == {}


def test_a_bad_value_stops_the_cell_before_its_body_is_stored(
    ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine, data: Path
) -> None:
    """One client call checks every value, then stores the body, then sends: a bad value stores nothing."""
    ip.user_ns["doc"] = object()
    ran = run(ip, "%%llama --save reader --max-tokens 2\nRead {{doc}}.")
    assert isinstance(ran.error, UsageError) and "cannot type" in str(ran.error)
    ip.user_ns["doc"] = data / "invoice.pdf"
    ran = run(ip, "%%llama --save reader -m nosuch-model --max-tokens 2\nRead {{doc}}.")
    assert isinstance(ran.error, UsageError) and "'nosuch-model'" in str(ran.error)
    assert list(quick.prompts.list()) == [] and quick.prompts.names() == {} and quick.files.list() == []
    assert scripted.calls == []


def test_errors_are_short_unless_debug(ip: InteractiveShell, quick: lb.Client) -> None:
    unknown = run(ip, "%%llama -p nosuch\nHi")
    assert isinstance(unknown.error, UsageError) and "No prompt named 'nosuch'" in str(unknown.error)
    missing_id = "pmpt_" + "0" * 48
    short = run(ip, f"%%llama -p {missing_id}\nHi")
    assert isinstance(short.error, UsageError) and missing_id in str(short.error)
    debug = run(ip, f"%%llama -p {missing_id} --debug\nHi")
    assert isinstance(debug.error, lb.PromptNotFound)
    both = run(ip, "%%llama -p x --save y\nHi")
    assert isinstance(both.error, UsageError) and "--save" in str(both.error)


# ---- line commands ----------------------------------------------------------------------------------


# ---- --over: client.grid ----------------------------------------------------------------------------
