"""A streamed ``%%llama`` answer: one display updated at most ten times a second (``Throttle``), or printed
once in a terminal."""

from __future__ import annotations

import time

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import llamabook as lb
from llamabook import magics
from support.magics import QUESTION, ok
from support.scripted_engine import ScriptedEngine


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
