"""The one error contract: every rule of ``llamabook.error_translation``, with both servers' words.

The messages are the ones Llama Stack 0.7.3 and OGX 1.5.0 sent, as measured (see
``shared/reference/ogx-server.md``); the live tests in ``integration/test_http_backend.py`` and
``integration/test_server_contract.py`` check that the servers still send them.
"""

from __future__ import annotations

import pytest

import llamabook as lb
from llamabook.error_translation import (
    ConnectError,
    HTTPStatusError,
    ReadTimeout,
    StreamError,
    from_exception,
    message_of,
    stream_event_error,
    typed_error,
)

URL = "http://127.0.0.1:8321"
PID = "pmpt_" + "a" * 48
# What llama-cpp-python's server answers (inside either server's 500 or response.failed) when a
# message carries a content part it does not know, abridged to the parts the rule reads.
REJECTED_FILE = (
    "15 validation errors: {'type': 'literal_error', 'loc': ('body', 'messages', 2, 'typed-dict', 'content', "
    "'list[union[ChatCompletionRequestMessageContentPartText,ChatCompletionRequestMessageContentPartImage]]', 0, "
    "'typed-dict', 'type'), 'msg': \"Input should be 'text'\", 'input': 'file', 'ctx': {'expected': \"'text'\"}}"
)


def error(message: str, status: int | None = None, **context: object) -> lb.LlamabookError:
    return typed_error(message, status, base_url=URL, **context)


# ---- rule 1: the status, with what the call addressed --------------------------------------------


@pytest.mark.parametrize(
    ("status", "message", "context", "expected"),
    [
        # OGX answers 404 with {"detail"}; the addressed object decides the type
        (404, f"Prompt '{PID}' not found. Use 'client.prompts.list()' to list prompts.", {"prompt_id": PID}, lb.PromptNotFound),
        (404, f"Prompt version '99' not found in prompt '{PID}'.", {"prompt_id": PID, "version": 99}, lb.VersionNotFound),
        (404, "File 'file-00' not found", {"file_id": "file-00"}, lb.FileNotFound),
        (404, "Response 'resp_0' not found", {"response_id": "resp_0"}, lb.ResponseNotFound),
        (404, "Not Found", {"file_id": "file-00"}, lb.FileNotFound),  # no words: the call says what
        (404, "The model `x` does not exist", {"model": "x"}, lb.ModelNotFound),
        # inside a stream no id was named: the message's first word says which object
        (404, "File 'file-00' not found", {"model": "m"}, lb.FileNotFound),
        (404, f"Prompt '{PID}' not found", {"model": "m"}, lb.PromptNotFound),
    ],
)
def test_a_404_is_the_not_found_of_what_was_addressed(
    status: int, message: str, context: dict[str, object], expected: type[Exception]
) -> None:
    got = error(message, status, **context)
    assert type(got) is expected
    assert message in str(got)


def test_a_404_on_a_path_the_server_lacks_keeps_its_status() -> None:
    got = error("Not Found", 404)
    assert type(got) is lb.EngineError and got.status_code == 404 and URL in str(got)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_says_to_check_it(status: int) -> None:
    got = error("Incorrect API key provided", status)
    assert type(got) is lb.EngineError and got.status_code == status and "check the API key" in str(got)


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (500, True), (503, True), (418, False)])
def test_other_statuses_keep_their_code_and_retry_after(status: int, retryable: bool) -> None:
    got = typed_error("busy", status, base_url=URL, retry_after=3.0)
    assert type(got) is lb.EngineError
    assert (got.status_code, got.retry_after, got.retryable) == (status, 3.0, retryable)


def test_too_large_is_an_input_error() -> None:
    assert isinstance(error("Request Entity Too Large", 413), lb.InvalidRequest)


# ---- rule 2: message text, both servers' wordings -----------------------------------------------


@pytest.mark.parametrize(
    ("message", "given", "latest"),
    [
        (f"'1' is not the latest prompt version for prompt_id='{PID}'. Use the latest version '2' in your request.", 1, 2),
        ("Invalid value for 'version': 1. Must be the latest prompt version '2'.", 1, 2),
    ],
    ids=["llama-stack-0.7.3", "ogx-1.5"],
)
def test_a_stale_update_is_a_version_conflict(message: str, given: int, latest: int) -> None:
    got = error(message, 400, prompt_id=PID)
    assert type(got) is lb.VersionConflict
    assert (got.prompt_id, got.given, got.latest) == (PID, given, latest)


@pytest.mark.parametrize(
    "message",
    [
        f"Prompt {PID}:99 not found",  # Llama Stack 0.7.3: a 400
        f"Prompt version '99' not found in prompt '{PID}'. Use 'client.prompts.versions()'.",  # OGX: a 404
    ],
    ids=["llama-stack-0.7.3", "ogx-1.5"],
)
def test_an_unknown_version_is_version_not_found(message: str) -> None:
    for status in (400, 404, None):
        assert type(error(message, status, prompt_id=PID)) is lb.VersionNotFound


def test_an_unknown_prompt_in_0_7_3s_400_is_prompt_not_found() -> None:
    assert type(error(f"Prompt {PID} not found", 400, prompt_id=PID)) is lb.PromptNotFound


@pytest.mark.parametrize(
    "message",
    [
        "Prompt contains undeclared variables: ['other']",
        "1 validation error for Prompt\n  Value error, Prompt contains undeclared variables: ['other'] "
        "[type=value_error, input_value={'prompt_id': 'pmpt_x', 'variables': ['name']}, input_type=dict]",
    ],
    ids=["llama-stack-0.7.3", "ogx-1.5"],
)
def test_undeclared_variables_name_exactly_the_undeclared(message: str) -> None:
    got = error(message, 400)
    assert type(got) is lb.UndeclaredVariables
    assert got.names == ["other"]  # no 'type', 'value_error' or 'prompt_id' from the dump


def test_a_value_for_an_undeclared_name_is_unknown_variables() -> None:
    got = error(f"Invalid value for 'prompt.variables': nope. Variable not defined in prompt '{PID}'.", None, prompt_id=PID)
    assert type(got) is lb.UnknownVariables and got.names == ["nope"]


def test_a_file_part_the_upstream_model_rejects_is_model_rejected_input() -> None:
    for status in (500, 400, None):
        got = error(REJECTED_FILE, status, model="llamacpp/smollm2")
        assert type(got) is lb.ModelRejectedInput and (got.model, got.kind) == ("llamacpp/smollm2", "file")
        assert "model_accepts={'llamacpp/smollm2': ['text']}" in str(got) and "literal_error" not in str(got)
        assert not got.retryable


def test_an_image_part_the_upstream_model_rejects_names_describe_images() -> None:
    got = error(REJECTED_FILE.replace("'input': 'file'", "'input': 'image_url'"), 500, model="m")
    assert (type(got), got.kind) == (lb.ModelRejectedInput, "image") and "describe_images=True" in str(got)


#: What OGX 1.5.0 and Llama Stack 0.7.3 relay (measured) when text.format json_schema reaches a llama-cpp upstream.
REJECTED_FORMAT = (
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
    "'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  File \".../llama_cpp/server/app.py\", line 376"
)


def test_a_json_schema_format_the_upstream_refuses_is_output_format_unsupported() -> None:
    for status in (500, 400, None):
        got = error(REJECTED_FORMAT, status, model="llamacpp/smollm2")
        assert type(got) is lb.OutputFormatUnsupported and got.model == "llamacpp/smollm2" and not got.retryable
        assert "json_object" in str(got) and "literal_error" not in str(got) and "app.py" not in str(got)
    assert type(error(REJECTED_FORMAT.replace("'response_format'", "'messages'"), 400)) is lb.InvalidRequest


# ---- rule 3: the status alone -------------------------------------------------------------------


def test_anything_else_by_status() -> None:
    assert type(error("temperature must be <= 2", 400)) is lb.InvalidRequest
    assert type(error("field required", 422)) is lb.InvalidRequest
    got = error("upstream crashed", None)
    assert type(got) is lb.EngineError and "reported an error" in str(got)


# ---- stream events and exceptions ---------------------------------------------------------------


def test_both_stream_error_shapes_are_typed() -> None:
    ogx = {"type": "error", "code": "404", "message": "File 'file-00' not found", "param": None, "sequence_number": 1}
    llama_stack = {"error": {"message": "File 'file-00' not found"}}
    for event in (ogx, llama_stack):
        assert type(stream_event_error(event, base_url=URL, model="m")) is lb.FileNotFound


def test_both_error_body_shapes_are_read() -> None:
    assert message_of({"error": {"message": "Prompt x:1 not found"}}) == "Prompt x:1 not found"
    assert message_of({"message": "File 'f' not found"}) == "File 'f' not found"
    assert message_of({"detail": "Response 'r' not found"}) == "Response 'r' not found"
    assert message_of({"error": "plain"}) == "plain"
    assert message_of(None) == ""
    # Llama Stack 0.7.3 sends request validation as a Python dict's text
    wrapped = {"message": "{'errors': [{'loc': ['body', 'max_output_tokens'], 'msg': 'Input should be greater than or equal to 16', 'type': 'greater_than_equal'}]}"}
    assert message_of({"error": wrapped}) == "max_output_tokens: Input should be greater than or equal to 16"
    assert message_of({"detail": [{"loc": ["body", "model"], "msg": "Field required"}]}) == "model: Field required"


def test_transport_failures() -> None:
    assert isinstance(from_exception(ConnectError("refused"), base_url=URL), lb.EngineUnavailable)
    dropped = from_exception(ConnectError("broke"), base_url=URL, mid_stream=True)
    assert isinstance(dropped, lb.EngineUnavailable) and "mid-answer" in str(dropped)
    assert "timed out" in str(from_exception(ReadTimeout("slow"), base_url=URL))
    status = from_exception(HTTPStatusError(404, {"detail": "File 'f' not found"}, {}), base_url=URL, file_id="f")
    assert type(status) is lb.FileNotFound
    streamed = from_exception(StreamError("x", {"message": REJECTED_FILE}), base_url=URL, model="m")
    assert type(streamed) is lb.ModelRejectedInput
    typed = lb.FileNotFound("already typed")
    assert from_exception(typed, base_url=URL) is typed
    assert type(from_exception(RuntimeError("odd"), base_url=URL)) is lb.EngineError


def test_the_openai_sdks_exceptions() -> None:
    openai = pytest.importorskip("openai")
    from llamabook.backends.cassette_transport import httpx_module

    httpx = httpx_module()  # httpx or httpx2, whichever the installed SDK is built on

    request = httpx.Request("GET", URL + "/v1/files/file-00")
    answer = httpx.Response(404, request=request, json={"detail": "File 'file-00' not found"})
    sdk = openai.NotFoundError("File 'file-00' not found", response=answer, body={"detail": "File 'file-00' not found"})
    assert type(from_exception(sdk, base_url=URL, file_id="file-00")) is lb.FileNotFound
    limited = httpx.Response(429, request=request, headers={"retry-after": "2"}, json={"error": {"message": "slow down"}})
    rate = from_exception(openai.RateLimitError("slow down", response=limited, body={"error": {"message": "slow down"}}), base_url=URL)
    assert (type(rate), rate.status_code, rate.retry_after) == (lb.EngineError, 429, 2.0)
    in_stream = openai.APIError("x", request, body={"message": "Prompt version '9' not found in prompt 'p'"})
    assert type(from_exception(in_stream, base_url=URL, prompt_id="p")) is lb.VersionNotFound
    down = openai.APIConnectionError(request=request)
    assert isinstance(from_exception(down, base_url=URL), lb.EngineUnavailable)


# ---- tools: both servers validate the request themselves, and answer 400 ----------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [  # as Llama Stack 0.7.3 and OGX 1.5.0 both answered (docs/servers.md, Tools)
        ({"error": {"message": "{'errors': [{'loc': ['body', 'tools', 0, 'function', 'parameters'], 'msg': "
                               "'Input should be a valid dictionary', 'type': 'dict_type'}]}"}},
         "tools.0.function.parameters: Input should be a valid dictionary"),
        ({"error": {"message": "{'errors': [{'loc': ['body', 'tools', 0, 'function', 'name'], 'msg': 'Field required', "
                               "'type': 'missing'}]}"}},
         "tools.0.function.name: Field required"),
        ({"detail": "Received function_call_output(s) with call_id(s) dict_keys(['call_x']), but no corresponding "
                    "function_call"},
         "but no corresponding function_call"),
    ],
)  # fmt: skip
def test_a_tool_the_server_refuses_is_an_invalid_request_naming_the_field(body: dict, expected: str) -> None:
    got = from_exception(HTTPStatusError(400, body, {}), base_url=URL, model="llamacpp/smollm2")
    assert type(got) is lb.InvalidRequest and expected in str(got) and "{'errors'" not in str(got)
