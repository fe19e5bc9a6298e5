"""``grid(executor="jsonl")``: batch lines for OpenAI / vLLM, read back with ``batch_output=``; the batch errors.

On a scripted engine (no model): these are tests of the lines' shape, of reading both output
dialects and error files into the grid's frame, and of what is refused before any call.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

import llamabook as lb
from llamabook import checks
from llamabook.grid.lines import read_jsonl, result_of

TEMPLATE = "You name countries. Name the country of {{city}}."
ROWS = [{"city": "Paris"}, {"city": "Rome"}, {"city": "Oslo"}]


def lines_of(path: Path) -> list[dict[str, Any]]:
    return list(read_jsonl(path.read_bytes()))


def openai_output(custom_id: str, text: str, finish: str = "stop", *, body_as_text: bool = False) -> dict[str, Any]:
    """One line of an output file: OpenAI's and vLLM's form, or (``body_as_text``) Llama Stack / OGX's."""
    body: Any = {
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
    }  # fmt: skip
    if body_as_text:
        body = json.dumps(body)
    return {"id": "batch_req_1", "custom_id": custom_id, "response": {"status_code": 200, "request_id": "r1", "body": body}, "error": None}


def write_jsonl(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def check_typed_dict(value: dict[str, Any], kind: Any, required: set[str]) -> None:
    """``value`` uses only keys the openai SDK's TypedDict ``kind`` declares, and has ``required``."""
    allowed = set(kind.__required_keys__) | set(kind.__optional_keys__)
    assert set(value) <= allowed, f"{sorted(set(value) - allowed)} not in {kind.__name__}"
    assert required <= set(value)


def check_openai_line(line: dict[str, Any]) -> None:
    """A line OpenAI's Batch API takes: its envelope, and a chat-completions body the SDK's types describe."""
    import typing

    from openai.types import batch_create_params
    from openai.types.chat import chat_completion_content_part_image_param as image
    from openai.types.chat import chat_completion_content_part_param as parts
    from openai.types.chat import completion_create_params
    from openai.types.chat.chat_completion_system_message_param import ChatCompletionSystemMessageParam
    from openai.types.chat.chat_completion_user_message_param import ChatCompletionUserMessageParam

    assert set(line) == {"custom_id", "method", "url", "body"} and line["method"] == "POST"
    assert line["url"] in typing.get_args(typing.get_type_hints(batch_create_params.BatchCreateParams)["endpoint"])
    body = line["body"]
    check_typed_dict(body, completion_create_params.CompletionCreateParamsNonStreaming, {"model", "messages"})
    for message in body["messages"]:
        kind = ChatCompletionSystemMessageParam if message["role"] == "system" else ChatCompletionUserMessageParam
        check_typed_dict(message, kind, {"role", "content"})
        for part in message["content"] if isinstance(message["content"], list) else []:
            if part["type"] == "text":
                check_typed_dict(part, parts.ChatCompletionContentPartTextParam, {"type", "text"})
            elif part["type"] == "image_url":
                check_typed_dict(part, image.ChatCompletionContentPartImageParam, {"type", "image_url"})
                check_typed_dict(part["image_url"], image.ImageURL, {"url"})
            else:
                check_typed_dict(part, parts.File, {"type", "file"})
                check_typed_dict(part["file"], parts.FileFile, {"file_data", "filename"})


def test_jsonl_lines_are_openai_batch_requests_with_the_servers_messages(quick_client: lb.Client, scripted: Any, tmp_path: Path, data: Path) -> None:
    prompt = quick_client.prompts.save("ad", "Write an ad for {{product}}. Photo: {{photo}} Sheet: {{sheet}}")
    rows = [{"product": "Phone X", "photo": data / "phone.png", "sheet": data / "invoice.pdf"}]
    path = tmp_path / "requests.jsonl"
    frame = quick_client.grid(
        prompt, rows, models=["gpt-4o-mini"], executor="jsonl", path=path, progress=False,
        instructions="Be brief.", temperature=0, max_output_tokens=40, pdf_to_text=False,
    )  # fmt: skip
    assert scripted.calls == []  # nothing ran here
    [line] = lines_of(path)
    check_openai_line(line)
    body = line["body"]
    assert body["model"] == "gpt-4o-mini" and body["max_tokens"] == 40 and body["temperature"] == 0
    system, instructions, media = body["messages"]
    assert system == {"role": "system", "content": "Write an ad for Phone X. Photo: [Image: photo] Sheet: [File: sheet]"}
    assert instructions == {"role": "system", "content": "Be brief."}
    image, sheet = media["content"]
    assert base64.b64decode(image["image_url"]["url"].split(",", 1)[1]) == (data / "phone.png").read_bytes()
    assert sheet["file"]["filename"] == "invoice.pdf" and sheet["file"]["file_data"].startswith("data:application/pdf;base64,")
    assert line["custom_id"] == frame.custom_id[0] and frame.batch_id.isna().all()
    assert list(frame.status) == ["pending"] and "requests.jsonl" in frame.error[0]
    plan = quick_client.backend.store.batches.list()[0]
    assert (plan.executor, plan.path, plan.requests, plan.status) == ("jsonl", str(path), 1, "written")


def test_batch_output_reads_both_dialects_and_the_error_file_into_the_threads_frame(
    quick_client: lb.Client, scripted: Any, tmp_path: Path
) -> None:
    asked = {"names_italy": checks.contains("Italy")}
    path = tmp_path / "requests.jsonl"
    call = {"checks": asked, "executor": "jsonl", "path": path, "progress": False, "max_output_tokens": 20}
    quick_client.grid(TEMPLATE, ROWS, **call)
    paris, rome, oslo = (line["custom_id"] for line in lines_of(path))
    output = write_jsonl(tmp_path / "out.jsonl", [openai_output(paris, "France"), openai_output(rome, "Italy, by", "length", body_as_text=True)])
    errors = write_jsonl(tmp_path / "err.jsonl", [{"id": "x", "custom_id": oslo, "response": None, "error": {"code": "rate_limit", "message": "slow down"}}])
    frame = quick_client.grid(TEMPLATE, ROWS, batch_output=[output, errors], **call)
    threads = quick_client.grid(TEMPLATE, [{"city": "Lima"}], checks=asked, progress=False, max_output_tokens=20)
    columns = list(threads.columns)
    at = columns.index("response_id") + 1
    assert list(frame.columns) == [*columns[:at], "batch_id", "custom_id", *columns[at:]]
    assert list(frame.status) == ["completed", "incomplete", "failed"]
    assert list(frame.output_text.fillna("")) == ["France", "Italy, by", ""]
    assert list(frame.cut_off.fillna(False)) == [False, True, False]
    assert frame.error[2] == "EngineError: the batch's engine reported an error: rate_limit: slow down"
    assert list(frame.input_tokens[:2]) == [12, 12] and list(frame.output_tokens[:2]) == [3, 3]
    assert list(frame.check_names_italy[:2]) == [False, True] and frame.check_names_italy.isna()[2]
    assert len(scripted.calls) == 1  # only the threads grid's row ran here
    # The two answers are in the run log: the threads executor now runs only Oslo
    again = quick_client.grid(TEMPLATE, ROWS, checks=asked, progress=False, max_output_tokens=20)
    assert list(again.cached) == [True, True, False] and len(scripted.calls) == 2
    assert list(again.output_text[:2]) == ["France", "Italy, by"]


def test_batch_output_with_a_schema_gives_typed_fields_and_invalid_rows(quick_client: lb.Client, tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"country": {"type": "string"}, "people": {"type": "integer"}}, "required": ["country"]}
    path = tmp_path / "requests.jsonl"
    call = {"schema": schema, "executor": "jsonl", "path": path, "progress": False}
    quick_client.grid(TEMPLATE, ROWS[:2], **call)
    lines = lines_of(path)
    assert lines[0]["body"]["response_format"] == {"type": "json_schema", "json_schema": {"name": "output", "schema": schema, "strict": True}}
    output = write_jsonl(
        tmp_path / "out.jsonl",
        [openai_output(lines[0]["custom_id"], '{"country": "France", "people": 68}'), openai_output(lines[1]["custom_id"], "Italy")],
    )
    frame = quick_client.grid(TEMPLATE, ROWS[:2], batch_output=output, **call)
    assert list(frame.country.fillna("")) == ["France", ""] and frame.people.dtype == "Int64" and frame.people[0] == 68
    assert list(frame.valid) == [True, False]
    assert frame.status[1] == "failed" and frame.error[1].startswith("OutputInvalid: ")


def test_a_row_with_an_empty_cell_fails_and_sends_no_line(quick_client: lb.Client, tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    frame = quick_client.grid(TEMPLATE, [{"city": "Paris"}, {"city": None}], executor="jsonl", path=path, progress=False)
    assert len(lines_of(path)) == 1
    assert list(frame.status) == ["pending", "failed"] and "Row 1 has no value in the column(s) 'city'" in frame.error[1]


def test_batch_executor_on_the_embedded_backend_is_a_typed_error_before_anything(
    quick_client: lb.Client, scripted: Any, tmp_path: Path
) -> None:
    with pytest.raises(lb.BatchesUnsupported, match="embedded backend has no Batches API.*executor='threads'"):
        quick_client.grid(TEMPLATE, ROWS, executor="batch")
    assert scripted.calls == [] and quick_client.prompts.list() == []


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"executor": "cluster"}, "executor must be one of"),
        ({"executor": "jsonl"}, "give path="),
        ({"path": "x.jsonl"}, "belong to executor='jsonl'"),
        ({"executor": "jsonl", "path": "x.jsonl", "batch_output": "missing.jsonl"}, "is not a file"),
    ],
)
def test_executor_arguments_that_dont_fit_are_refused_before_anything(quick_client: lb.Client, given: dict[str, Any], said: str) -> None:
    with pytest.raises(lb.InvalidRequest, match=said):
        quick_client.grid(TEMPLATE, ROWS, **given)
    assert quick_client.prompts.list() == []


def test_an_output_of_another_grid_is_refused(quick_client: lb.Client, tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    quick_client.grid(TEMPLATE, ROWS, executor="jsonl", path=path, progress=False)
    other = write_jsonl(tmp_path / "out.jsonl", [openai_output("not-ours", "France")])
    with pytest.raises(lb.InvalidRequest, match="answers none of this grid's requests"):
        quick_client.grid(TEMPLATE, ROWS, executor="jsonl", path=path, batch_output=other, progress=False)


#: Llama Stack 0.7.3's error line for a json_schema text.format llama-cpp-python's server refuses (measured)
REFUSED_FORMAT = (
    "Error code: 500 - 1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', 'ctx': {'expected': \"'text' or "
    "'json_object'\"}}\n\n  File \"/srv/venv/lib/python3.11/site-packages/llama_cpp/server/app.py\", line 376, in "
    "create_chat_completion\n    POST /v1/chat/completions"
)
TRACEBACK = 'Traceback (most recent call last):\n  File "/srv/app/worker.py", line 9, in run\n    go()\nKeyError: \'choices\''


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ({"custom_id": "a", "response": {"status_code": 400, "body": {"error": {"message": "bad model", "type": "invalid_request_error"}}}},
         "InvalidRequest: The server rejected the request: invalid_request_error: bad model"),
        ({"custom_id": "a", "response": {"status_code": 500, "body": '{"detail": "Internal Server Error"}'}},
         "EngineError: http://srv answered 500: Internal Server Error"),
        ({"custom_id": "a", "error": {"type": "ValueError", "message": "Model 'x' not found"}},
         "ModelNotFound: The server has no model 'm1' (ValueError: Model 'x' not found); see client.models.list()"),
        ({"custom_id": "a", "error": {"type": "request_failed", "message": REFUSED_FORMAT}},
         "OutputFormatUnsupported: The server can't hold 'm1' to a JSON schema: its inference provider takes only "
         "response_format 'text' or 'json_object'. Leave text= out (and check the output yourself, e.g. with "
         "lb.checks.json_schema), or use a model whose provider supports json_schema."),
        ({"custom_id": "a", "error": {"type": "request_failed", "message": "Error code: 503 - {'error': {'message': 'busy in /srv/x/app.py'}}"}},
         "EngineError: http://srv answered 503: busy in <server file>"),
        ({"custom_id": "a", "error": {"type": "request_failed", "message": TRACEBACK}},
         "EngineError: http://srv reported an error: request_failed: KeyError: 'choices'"),
    ],
)  # fmt: skip
def test_error_lines_of_each_dialect_go_through_the_error_translator(line: dict[str, Any], error: str) -> None:
    """The same typed error as the thread executor's call for the same cause, with no server traceback or path."""
    custom_id, result = result_of(line, "batch_1", where="http://srv", models={"a": "m1"})  # type: ignore[misc]
    assert (custom_id, result["status"], result["error"], result["batch_id"]) == ("a", "failed", error, "batch_1")
    assert "File \"" not in result["error"] and ".py" not in result["error"]



def test_runs_table_and_compare_view_show_a_batch_row_from_its_stored_result(quick_client: lb.Client, tmp_path: Path) -> None:
    from llamabook.widgets import CompareView, RunsTable

    path = tmp_path / "requests.jsonl"
    quick_client.grid(TEMPLATE, ROWS[:1], executor="jsonl", path=path, progress=False)
    output = write_jsonl(tmp_path / "out.jsonl", [openai_output(lines_of(path)[0]["custom_id"], "<b>France</b>")])
    frame = quick_client.grid(TEMPLATE, ROWS[:1], executor="jsonl", path=path, batch_output=output, progress=False)
    table = RunsTable(frame, quick_client)
    table.open(0)
    shown = table.detail.children[-1].value
    assert "shown from its stored result" in shown and "&lt;b&gt;France&lt;/b&gt;" in shown and "<b>France" not in shown
    assert table.view is None
    view = CompareView(quick_client, frame)
    assert list(view.open_buttons) == [(0, (1, frame.model[0]))]
    view.show(0, 0)
    shown = view.detail.children[-1].value
    assert view.error.message == "" and "shown from its stored result" in shown and frame.custom_id[0] in shown
    assert "&lt;b&gt;France&lt;/b&gt;" in shown
