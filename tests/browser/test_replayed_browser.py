"""A replayed answer says so in a real JupyterLab, where a newcomer used to read a latency of 0.00 s.

The scripted engine (``tests/support/scripted_engine.py``, no model) answers once with a cassette
recording; a second client replays that cassette (``record="none"``: no engine call at all). The
test reads what the page shows for the replayed answer: the ``%%llama`` footer, a Response's HTML
header and usage table, and a RunsTable's latency cell all say "replayed", and none of them shows
a time in seconds. The live answer, shown the same way, does show its latency.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ._requires import require_browser

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

TESTS = Path(__file__).resolve().parents[1]
SECONDS = re.compile(r"\b\d+\.\d+ s\b")

SETUP = f"""\
import sys, tempfile, pathlib
sys.path.insert(0, {str(TESTS)!r})
import llamabook as lb, llamabook.magics
from llamabook.widgets import RunsTable
from support.scripted_engine import ScriptedEngine

%load_ext llamabook
cassette = pathlib.Path(tempfile.mkdtemp()) / "session.jsonl"
live = lb.Client(tempfile.mkdtemp(), engine=ScriptedEngine(), cassette=cassette, record="all")
first = live.responses.create(input="What is the capital of Ireland?", max_output_tokens=16)
grid_live = live.grid("Capital of {{{{country}}}}?", [{{"country": "Ireland"}}], progress=False)
llamabook.magics.set_client(live)
print(first.replayed)"""

# The second client replays what the first recorded (its cassette written by then): no engine call.
REPLAY = """\
replay = lb.Client(tempfile.mkdtemp(), engine=ScriptedEngine(), cassette=cassette, record="none")
again = replay.responses.create(input="What is the capital of Ireland?", max_output_tokens=16)
grid_replayed = replay.grid("Capital of {{country}}?", [{"country": "Ireland"}], progress=False)
llamabook.magics.set_client(replay)
print(again.replayed, again.output_text == first.output_text)"""

MAGIC = '%%llama -i "What is the capital of Ireland?" --max-tokens 16 --no-stream\nAnswer briefly.'


def test_a_replayed_answer_says_replayed_where_a_latency_would_show(lab, lab_page: Page, record) -> None:
    page = lab_page
    name = lab.write_notebook(
        "replayed.ipynb",
        SETUP,  # 0
        MAGIC,  # 1: live, recorded
        REPLAY,  # 2
        MAGIC,  # 3: replayed
        "again",  # 4
        "first",  # 5
        "RunsTable(grid_replayed)",  # 6
        "RunsTable(grid_live)",  # 7
        'print("done")',  # 8
    )
    panel = lab.open_and_run_all(page, name)
    cells = panel.locator(".jp-Cell")
    expect(cells.nth(8).locator(".jp-OutputArea-output")).to_have_text("done")
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text("False")
    expect(cells.nth(2).locator(".jp-OutputArea-output")).to_have_text("True True")
    record.lap("all cells ran")

    def text_of(index: int) -> str:
        return cells.nth(index).locator(".jp-OutputArea").inner_text()

    replayed_response, live_response = text_of(4), text_of(5)
    assert "replayed" in replayed_response and not SECONDS.search(replayed_response), replayed_response
    assert "replayed" not in live_response and SECONDS.search(live_response), live_response

    expect(cells.nth(6).locator(".llamabook-run-latency").first).to_have_text("replayed")
    live_latency = cells.nth(7).locator(".llamabook-run-latency").first.inner_text()
    assert SECONDS.fullmatch(live_latency.strip()), live_latency

    live_footer, replayed_footer = text_of(1).strip().splitlines()[-1], text_of(3).strip().splitlines()[-1]
    assert live_footer.endswith(" s") and SECONDS.search(live_footer), live_footer
    assert replayed_footer.endswith("· replayed") and not SECONDS.search(replayed_footer), replayed_footer
    record.lap("checked")
