"""The HTTP backend's handling of real servers' errors and quirks: Llama Stack 0.7.3 and OGX 1.5.0."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

import llamabook as lb
from llamabook.backends.base import ResponseRequest
from llamabook.backends.http import HttpBackend, error_message
from llamabook.types import InputText, PromptReference
from servers import Server

MODEL = "llamacpp/smollm2"


@pytest.fixture(params=["llama_stack_server", "ogx_server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HttpBackend]:
    server: Server = request.getfixturevalue(request.param)
    http = HttpBackend(server.url, home=tmp_path)
    yield http
    http.close()


class _Fake(Exception):
    def __init__(self, body: object) -> None:
        super().__init__("fallback text")
        self.body = body


def test_both_error_body_shapes_are_read() -> None:
    assert error_message(_Fake({"error": {"message": "Prompt x:1 not found"}})) == "Prompt x:1 not found"
    assert error_message(_Fake({"message": "File 'f' not found"})) == "File 'f' not found"
    assert error_message(_Fake({"detail": "Response 'r' not found"})) == "Response 'r' not found"
    assert error_message(_Fake(None)) == "fallback text"


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


def test_errors_inside_a_200_stream_are_typed(backend: HttpBackend) -> None:
    p = backend.create_prompt("Hi {{name}}", ["name"])
    unknown = ResponseRequest(
        model=MODEL,
        input="hi",
        prompt=PromptReference(id=p.prompt_id, version="1", variables={"nope": InputText(text="x")}),
    )
    with pytest.raises(lb.UnknownVariables, match="nope"):
        list(backend.stream_response(unknown))
    missing = ResponseRequest(model=MODEL, input="hi", prompt=PromptReference(id="pmpt_" + "0" * 48, version="1"))
    with pytest.raises(lb.VersionNotFound):
        list(backend.stream_response(missing))


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
    assert backend.get_prompt(p.prompt_id).is_default  # the server itself says false here
    assert not backend.get_prompt(p.prompt_id, 2).is_default
    assert [v.is_default for v in backend.list_versions(p.prompt_id)] == [True, False]
