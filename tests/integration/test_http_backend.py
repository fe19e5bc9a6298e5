"""The HTTP backend's handling of real servers' errors and quirks: Llama Stack 0.7.3 and OGX 1.5.0."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

import llamabook as lb
from llamabook.backends.base import ResponseRequest
from llamabook.backends.http import HttpBackend
from llamabook.types import InputText, PromptReference, ResponseFailed
from llamabook.views import tokens_label
from support.servers import Server

MODEL = "llamacpp/smollm2"


SERVERS = ["llama_stack_server", "ogx_server"]


@pytest.fixture(params=SERVERS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HttpBackend]:
    server: Server = request.getfixturevalue(request.param)
    http = HttpBackend(server.url, home=tmp_path)
    yield http
    http.close()


#: what llamabook assumes of a model when neither the user nor the server says (no metadata)
EVERYTHING = {MODEL: ["text", "image", "file"]}


@pytest.fixture(params=SERVERS)
def server_client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[lb.Client]:
    """A client on each server whose model is taken to accept files and images, as when a server says nothing."""
    server: Server = request.getfixturevalue(request.param)
    with lb.Client(tmp_path / "home", base_url=server.url, model_accepts=EVERYTHING) as client:
        yield client


def test_what_a_model_takes_is_read_from_the_servers_model_metadata(backend: HttpBackend) -> None:
    """Both servers pass a model's run-config metadata on in /v1/models; ci/*-run.yaml says text."""
    (model,) = backend.list_models()
    assert (model.id, model.accepts, model.accepts_source) == (MODEL, ["text"], "server")
    declared = HttpBackend(backend.base_url, model_accepts={MODEL: ["text", "image"]})
    assert [(m.accepts, m.accepts_source) for m in declared.list_models()] == [(["text", "image"], "declared")]
    declared.close()


def test_a_pdf_the_servers_model_rejects_is_one_typed_error(server_client: lb.Client, data: Path) -> None:
    """The PDF-invoice flow on a model wrongly taken to read files: llama-cpp-python's server
    rejects the file part with a 15-error validation dump; the user gets one error that says what to do."""
    p = server_client.prompts.create("You check invoices. The invoice: {{invoice}}", variables=["invoice"])
    with pytest.raises(lb.ModelRejectedInput) as raised:
        server_client.responses.create(input="Who is billed?", prompt=p, variables={"invoice": data / "invoice.pdf"})
    error = raised.value
    assert (error.model, error.kind, error.retryable) == (MODEL, "file", False)
    assert "model_accepts={'llamacpp/smollm2': ['text']}" in str(error) and "input_modalities" in str(error)
    assert "validation error" not in str(error) and "base64" not in str(error)
    for file in server_client.files.list():
        server_client.files.delete(file.id)
    stored = server_client.responses.retrieve(error.response.id)  # type: ignore[attr-defined]
    assert stored.status == "failed" and stored.error.message == str(error)  # the server's copy, in the same words


def test_no_llama_stack_client_dependency() -> None:
    assert importlib.util.find_spec("llama_stack_client") is None


def test_server_prompt_errors_are_typed_and_the_next_call_survives_the_dropped_connection(backend: HttpBackend) -> None:
    p = backend.create_prompt("Hi {{name}}", ["name"])
    for _ in range(3):  # each 400 makes the server close the connection
        with pytest.raises(lb.PromptNotFound):
            backend.get_prompt("pmpt_" + "0" * 48)
        assert backend.get_prompt(p.prompt_id).prompt == "Hi {{name}}"
    with pytest.raises(lb.VersionConflict) as conflict:
        backend.update_prompt(p.prompt_id, "x", 7, [], True)
    assert (conflict.value.given, conflict.value.latest) == (7, 1)
    with pytest.raises(lb.VersionNotFound):
        backend.set_default_version(p.prompt_id, 5)
    with pytest.raises(lb.UndeclaredVariables, match="other"):
        backend.create_prompt("{{other}}", [])


def failure(events: list[object]) -> ResponseFailed:
    """The stream's last event, which must be its failure."""
    assert isinstance(events[-1], ResponseFailed), [getattr(e, "type", e) for e in events]
    return events[-1]


def test_errors_inside_a_200_stream_are_typed_failed_responses(backend: HttpBackend) -> None:
    p = backend.create_prompt("Hi {{name}}", ["name"])
    unknown = ResponseRequest(
        model=MODEL,
        input="hi",
        prompt=PromptReference(id=p.prompt_id, version="1", variables={"nope": InputText(text="x")}),
    )
    failed = failure(list(backend.stream_response(unknown)))
    assert isinstance(failed._error, lb.UnknownVariables) and failed._error.names == ["nope"]
    assert (failed.response.status, failed.response.error.code) == ("failed", "unknown_variables")
    missing = ResponseRequest(model=MODEL, input="hi", prompt=PromptReference(id="pmpt_" + "0" * 48, version="1"))
    assert isinstance(failure(list(backend.stream_response(missing)))._error, lb.VersionNotFound)


def test_a_failure_inside_the_stream_is_raised_typed_and_kept_here(server_client: lb.Client) -> None:
    """An image by a file id the server lacks: OGX sends an error event, 0.7.3 an error payload."""
    client = server_client
    p = client.prompts.create("Look: {{photo}}", variables=["photo"])
    photo = {"type": "input_image", "file_id": "file-" + "0" * 32}
    with pytest.raises(lb.FileNotFound) as raised:
        client.responses.create(input="What is it?", prompt=p, variables={"photo": photo}, max_output_tokens=16)
    kept = raised.value.response  # type: ignore[attr-defined]
    assert (kept.status, kept.error.code, kept.model) == ("failed", "file_not_found", MODEL)
    assert kept.prompt.id == p.prompt_id and kept.rendered_messages[0]["content"] == "Look: [Image: photo]"
    again = client.responses.retrieve(kept.id)
    assert (again.status, again.error.message) == ("failed", kept.error.message)
    assert kept.id in [r.id for r in client.responses.list(limit=5)]
    stream = client.responses.create(input="And now?", prompt=p, variables={"photo": photo}, stream=True)
    events = list(stream)
    assert events[-1].type == "response.failed" and isinstance(stream.error, lb.FileNotFound)
    assert stream.response is not None and stream.response.status == "failed"
    client.responses.delete(kept.id)
    with pytest.raises(lb.ResponseNotFound):
        client.responses.retrieve(kept.id)


def test_file_quirks(backend: HttpBackend) -> None:
    blob = bytes(range(256)) * 3
    f = backend.upload_file(blob, "all-bytes.bin", "assistants")
    assert backend.file_content(f.id) == blob  # raw bytes, not a decoded string
    with pytest.raises(lb.FileNotFound):
        backend.get_file("file-" + "0" * 32)
    with pytest.raises(lb.InvalidRequest, match="file_id"):
        backend.get_file("file-nothex")
    digest = hashlib.sha256(blob).hexdigest()
    assert backend.find_file(digest, "assistants").id == f.id
    backend.delete_file(f.id)
    assert backend.find_file(digest, "assistants") is None


def test_is_default_is_right_everywhere(backend: HttpBackend) -> None:
    p = backend.create_prompt("a", [])
    backend.update_prompt(p.prompt_id, "b", 1, [], False)
    assert backend.get_prompt(p.prompt_id).is_default
    # OGX's get says so itself, and is believed; Llama Stack 0.7.3's says false, so it is computed
    said = backend._transport.json("get", f"/prompts/{p.prompt_id}")["is_default"]
    assert said is (backend.server_info().kind == "ogx")
    assert backend.capabilities.server_prompts
    assert not backend.get_prompt(p.prompt_id, 2).is_default
    assert [v.is_default for v in backend.list_versions(p.prompt_id)] == [True, False]


def test_llama_config_reads_which_server_it_is(server_client: lb.Client) -> None:
    from llamabook.magics import config_rows

    rows = dict(config_rows(server_client))
    expected = {"ogx": "OGX 1.5.0", "llama-stack": "Llama Stack 0.7.3"}[server_client.server.kind]
    assert rows["server"] == expected and rows["base_url"] == server_client.server.location


def test_usage_a_server_did_not_report_is_null_in_the_grid_never_zero(server_client: lb.Client) -> None:
    """Both servers, with llama-cpp-python behind them, stream ``usage: null``: llamabook counts the
    output deltas (``usage_source == "deltas"``) but knows no input count, so it shows none, not 0.
    (Both servers refuse ``max_output_tokens`` below 16.)"""
    response = server_client.responses.create(input="Say hi.", max_output_tokens=16, temperature=0)
    assert response.trace is not None and response.trace.usage_source == "deltas"
    assert response.usage is not None and response.usage.output_tokens > 0
    assert response.input_tokens is None
    assert response.to_dict()["input_tokens"] is None and response.to_dict()["total_tokens"] is None
    assert tokens_label(response) == f"? in / {response.usage.output_tokens} out tokens"
    grid = server_client.grid("Say {{word}}.", [{"word": "hi"}, {"word": "yo"}], progress=False, max_output_tokens=16)
    assert grid["status"].isin(["completed", "incomplete"]).all(), grid["error"].tolist()
    assert grid["input_tokens"].isna().all()  # not reported: <NA>, never 0
    assert (grid["output_tokens"] > 0).all()
    frame = server_client.responses.list().to_pandas()
    assert frame["input_tokens"].isna().all() and str(frame["input_tokens"].dtype) == "Int64"
