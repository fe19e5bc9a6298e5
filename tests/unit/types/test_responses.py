"""``Response``: what is on the wire and what is llamabook's own (the trace, ``replayed``).

Responses replayed from a cassette, end to end: tests/unit/test_cassette.py.
"""

from __future__ import annotations

import json

from llamabook.types import OutputMessage, OutputText, Response, ResponseTrace, Usage


def answer(**extra: object) -> Response:
    fields: dict[str, object] = {
        "id": "resp_1", "created_at": 1_700_000_000, "status": "completed", "model": "m",
        "output": [OutputMessage(id="msg_1", content=[OutputText(text="Dublin.")])],
        "usage": Usage(input_tokens=3, output_tokens=2, total_tokens=5),
        "trace": ResponseTrace(latency_s=0.4321, usage_source="model"),
    }  # fmt: skip
    return Response(**{**fields, **extra})  # type: ignore[arg-type]


def test_replayed_is_client_side_and_never_on_the_wire() -> None:
    replayed = answer(replayed=True)
    assert replayed.replayed is True and answer().replayed is False
    assert "replayed" not in replayed.model_dump() and "replayed" not in replayed.model_dump(mode="json")
    assert "replayed" not in json.loads(replayed.model_dump_json())
    assert replayed.model_dump() == answer().model_dump()  # the wire object is the same either way


def test_a_replayed_answer_has_no_latency_but_keeps_its_trace() -> None:
    live, replayed = answer(), answer(replayed=True)
    assert live.latency_s == 0.4321
    assert replayed.latency_s is None  # no model ran: the time the replay took is not a latency
    assert replayed.trace is not None and replayed.trace.latency_s == 0.4321  # what was measured stays in the trace
    assert answer(trace=None).latency_s is None and answer(trace=None, replayed=True).latency_s is None


def test_the_frame_row_says_replayed_next_to_the_latency() -> None:
    columns = list(Response.frame_columns)
    assert columns[columns.index("latency_s") + 1] == "replayed" and Response.frame_dtypes["replayed"] == "bool"
    assert (answer().to_dict()["latency_s"], answer().to_dict()["replayed"]) == (0.4321, False)
    assert (answer(replayed=True).to_dict()["latency_s"], answer(replayed=True).to_dict()["replayed"]) == (None, True)
    assert set(answer().to_dict()) == set(columns)
