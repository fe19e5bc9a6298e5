"""What ``%%llama --no-stream -f text`` and ``-f json`` display: the answer once, or the response's JSON."""

from __future__ import annotations

import json

from IPython.core.interactiveshell import InteractiveShell

import llamabook as lb
from support.magics import QUESTION, ok


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
