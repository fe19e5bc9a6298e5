"""``%llama`` / ``%%llama`` in a real IPython shell (no kernel).

Parsing and display mechanics run on the scripted engine (tests/scripted_engine.py, fixture ``quick``),
whose answer echoes what it was sent; end-to-end tests run on the real embedded model (fixture ``client``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell
from IPython.utils.capture import RichOutput, capture_output

import llamabook as lb
import llamabook.views as lb_views
from llamabook import magics
from llamabook.engines.embedded import EmbeddedEngine
from scripted_engine import ScriptedEngine

QUESTION = "What is the capital of Ireland?"


@dataclass
class Ran:
    """One cell run: its result, what it printed and what it displayed."""

    result: ExecutionResult
    stdout: str
    outputs: list[RichOutput]

    @property
    def error(self) -> BaseException | None:
        return self.result.error_in_exec

    def texts(self) -> list[str]:
        """text/plain of every display, updates included, in order."""
        return [o.data.get("text/plain", "") for o in self.outputs]

    def shown(self) -> str:
        """Everything printed or displayed, as one string."""
        return "\n".join([self.stdout, *self.texts()])

    def updates(self) -> list[RichOutput]:
        return [o for o in self.outputs if o.update]




@pytest.fixture
def client(tmp_path: Path, engine: EmbeddedEngine, ip: InteractiveShell) -> Iterator[lb.Client]:
    """A client on a fresh home, injected into the magics; notebook variables made by the test are removed."""
    before = set(ip.user_ns)
    with lb.Client(tmp_path / "home", engine=engine) as c:
        magics.set_client(c)
        yield c
        magics.set_client(None)
    for name in set(ip.user_ns) - before:
        del ip.user_ns[name]


def run(ip: InteractiveShell, cell: str) -> Ran:
    """Run a notebook cell, capturing stdout and every display."""
    with capture_output() as captured:
        result = ip.run_cell(cell)
    return Ran(result, captured.stdout, list(captured.outputs))


def ok(ip: InteractiveShell, cell: str) -> Ran:
    ran = run(ip, cell)
    assert ran.error is None, f"{type(ran.error).__name__}: {ran.error}\n{ran.stdout}"
    return ran


def wide() -> Any:
    """pandas options so a DataFrame's text shows every column."""
    return pd.option_context("display.width", 400, "display.max_columns", None, "display.max_colwidth", 80)


# ---- loading ----------------------------------------------------------------------------------------


def test_load_ext_registers_the_line_and_cell_magic(ip: InteractiveShell) -> None:
    assert "llama" in ip.magics_manager.magics["line"]
    assert "llama" in ip.magics_manager.magics["cell"]
    ip.run_line_magic("unload_ext", "llamabook")
    assert "llama" not in ip.magics_manager.magics["cell"]
    ip.run_line_magic("load_ext", "llamabook")
    assert "llama" in ip.magics_manager.magics["cell"]


def test_load_ext_imports_nothing_heavy_and_creates_no_client(tmp_path: Path) -> None:
    home = tmp_path / "never-created"
    code = (
        "import json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "before = set(sys.modules)\n"
        "shell.run_line_magic('load_ext', 'llamabook')\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))\n"
    )
    env = {**os.environ, "LLAMABOOK_HOME": str(home), "IPYTHONDIR": str(tmp_path / "ipython")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    new = set(json.loads(out.stdout.splitlines()[-1]))
    assert "llamabook" in new
    assert new & {"pandas", "numpy", "openai", "llama_cpp", "pydantic", "PIL", "pypdf", "httpx", "tqdm"} == set()
    assert not home.exists()


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


def test_stream_updates_one_display_at_most_ten_times_a_second(
    ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine
) -> None:
    scripted.delay_s = 0.02  # ten words in 0.2 s: unthrottled, that would be ten drafts
    started = time.monotonic()
    ran = ok(ip, f'%%llama -i "{QUESTION}" --max-tokens 48\nAnswer in detail.')
    elapsed = time.monotonic() - started
    response = ip.user_ns["_llama"]
    assert response.output_text == f"[system: Answer in detail.] echo: {QUESTION}"
    updates = ran.updates()
    assert updates and updates[-1].data["text/plain"] == response.output_text
    assert len({o.transient["display_id"] for o in updates}) == 1
    drafts = [o.data["text/plain"] for o in updates[:-1]]
    assert drafts and all(d.endswith(" ▌") and response.output_text.startswith(d[:-2]) for d in drafts), drafts
    assert len(updates) <= 2 + 10 * elapsed  # throttled drafts, plus the final update


def test_terminal_prints_the_stream_once(ip: InteractiveShell, quick: lb.Client) -> None:
    """Terminal IPython cannot update a display: the deltas are printed as they come, then the footer."""
    with capture_output(display=False) as captured:
        result = ip.run_cell(f'%%llama -i "{QUESTION}" --max-tokens 24\nAnswer briefly.')
    assert result.error_in_exec is None
    response = ip.user_ns["_llama"]
    assert response.output_text == f"[system: Answer briefly.] echo: {QUESTION}"
    assert captured.stdout.count(response.output_text) == 1
    assert captured.stdout.rstrip().endswith(" s")  # the footer's latency comes last


def test_throttle_allows_at_most_n_per_second() -> None:
    throttle = magics.Throttle(per_second=10)
    deadline = time.monotonic() + 0.35
    allowed = 0
    while time.monotonic() < deadline:
        allowed += throttle.ready()
    assert 1 <= allowed <= 5


def test_no_stream_text_format_displays_the_answer_once(ip: InteractiveShell, quick: lb.Client) -> None:
    ran = ok(ip, f'%%llama -i "{QUESTION}" --no-stream -f text --max-tokens 16\nAnswer briefly.')
    response = ip.user_ns["_llama"]
    assert ran.updates() == []
    assert ran.outputs[0].data == {"text/plain": f"[system: Answer briefly.] echo: {QUESTION}"}
    assert response.output_text == ran.outputs[0].data["text/plain"]


def test_json_format_shows_the_response_json(ip: InteractiveShell, quick: lb.Client) -> None:
    ran = ok(ip, "%%llama -f json --max-tokens 4 -i Hi\nBe brief.")
    response = ip.user_ns["_llama"]
    final = ran.updates()[-1].data
    assert final["application/json"]["id"] == response.id
    assert final["application/json"]["output"][0]["content"][0]["text"] == response.output_text
    assert response.output_text == "[system: Be brief.] echo: "  # 4 tokens of "[system: Be brief.] echo: Hi"
    assert final["application/json"]["status"] == "incomplete"
    assert final["application/json"]["incomplete_details"] == {"reason": "length"}
    assert json.loads(final["text/plain"]) == final["application/json"]


def test_dataframe_variable_is_sent_as_csv(ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine) -> None:
    ip.user_ns["table"] = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    ran = ok(ip, "%%llama --max-tokens 2 --no-stream\nRows:\n{{table}}")
    assert ip.user_ns["_llama"].rendered_messages[0]["content"] == "Rows:\na,b\n1,x\n2,y\n"
    assert [call.system for call in scripted.calls] == [["Rows:\na,b\n1,x\n2,y\n"]]
    assert ran.texts()[0] == "values: table = DataFrame 2x2 as CSV"


def test_values_are_described_briefly(data: Path) -> None:
    from PIL import Image

    assert magics.describe("text") == "'text'" and magics.describe(7) == "7"
    assert magics.describe("x" * 100) == "'" + "x" * 37 + "…'"
    assert magics.describe(data / "invoice.pdf") == "Path invoice.pdf"
    assert magics.describe(b"1234") == "bytes (4)"
    assert magics.describe(Image.new("RGB", (3, 2))) == "PIL image 3x2"


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


# ---- --over: client.grid ----------------------------------------------------------------------------


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


def test_values_line_shows_long_values_shortened(
    ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine
) -> None:
    ip.user_ns["story"] = "once upon a time " * 10
    ip.user_ns["year"] = 1999
    ran = ok(ip, "%%llama --no-stream --max-tokens 2\nSummarise {{story}} from {{year}}.")
    line = ran.texts()[0]
    assert line == "values: story = 'once upon a time once upon a time onc…', year = 1999"
    assert [call.system for call in scripted.calls] == [[f"Summarise {'once upon a time ' * 10} from 1999."]]  # whole


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
