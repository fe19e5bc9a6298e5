"""Servers without a Prompts API (api.openai.com): prompts live locally and render on the client."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import llamabook as lb
from llamabook.backends.base import ResponseRequest
from llamabook.backends.http.requests import client_rendered_body, request_body as _request_body
from llamabook.types import InputFile, InputImage, InputText, PromptReference
from support.servers import Server

IMAGE_ID = "file-" + "a" * 32
PDF_ID = "file-" + "b" * 32


def test_client_rendered_request_keeps_the_server_order() -> None:
    request = ResponseRequest(
        model="gpt-test",
        input="What is in the attachments?",
        instructions="Be terse.",
        prompt=PromptReference(
            id="pmpt_" + "1" * 48,
            version="2",
            variables={
                "name": InputText(text="Alice"),
                "photo": InputImage(file_id=IMAGE_ID, detail="high"),
                "doc": InputFile(file_id=PDF_ID, filename="x.pdf"),
            },
        ),
        prompt_template="You help {{ name }}. See {{photo}} and {{doc}}.",
        temperature=0,
    )
    body = client_rendered_body(request)
    assert "prompt" not in body and "instructions" not in body
    assert body["model"] == "gpt-test" and body["temperature"] == 0
    assert body["input"] == [
        {"role": "system", "content": "You help Alice. See [Image: photo] and [File: doc]."},
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "What is in the attachments?"},
        {
            "role": "user",
            "content": [
                {"type": "input_image", "file_id": IMAGE_ID, "detail": "high"},
                {"type": "input_file", "file_id": PDF_ID, "filename": "x.pdf"},
            ],
        },
    ]


def test_a_prompt_by_reference_is_sent_with_a_string_version_and_typed_variables() -> None:
    request = ResponseRequest(
        model="gpt-test",
        input="hi",
        prompt=PromptReference(id="pmpt_dashboard", version="3", variables={"city": InputText(text="Cork")}),
    )
    assert _request_body(request)["prompt"] == {
        "id": "pmpt_dashboard",
        "version": "3",
        "variables": {"city": {"type": "input_text", "text": "Cork"}},
    }


def test_local_prompts_rendered_on_the_client_against_a_real_responses_server(
    tmp_path: Path, llama_stack_server: Server
) -> None:
    """The Llama Stack server stands in for a Responses server; its Prompts API is not used."""
    with lb.Client(tmp_path, base_url=llama_stack_server.url, prompts="local") as client:
        p = client.prompts.create("You are {{name}} at {{company}}.", variables=["name", "company"])
        assert client.prompts.versions(p.prompt_id)[0].is_default
        r = client.responses.create(
            input="What is the capital of Ireland?",
            prompt=p,
            variables={"name": "Alice", "company": "ACME"},
            instructions="One sentence.",
            temperature=0,
            max_output_tokens=32,
        )
        assert r.status == "completed" and r.output_text.strip()
        assert r.prompt.id == p.prompt_id and r.prompt.version == "1"
        assert r.rendered_messages[:2] == [
            {"role": "system", "content": "You are Alice at ACME."},
            {"role": "system", "content": "One sentence."},
        ]
        with pytest.raises(lb.MissingVariables):
            client.responses.create(input="x", prompt=p, variables={"name": "A"})
        # the server's own Prompts API never saw the prompt
        with lb.Client(tmp_path / "other", base_url=llama_stack_server.url, prompts="server") as direct:
            assert p.prompt_id not in [x.prompt_id for x in direct.prompts.list()]


@pytest.mark.skipif(not os.environ.get("OPENAI_API_KEY"), reason="OPENAI_API_KEY is not set: live OpenAI calls skipped")
def test_live_openai(tmp_path: Path) -> None:
    model = os.environ.get("LLAMABOOK_OPENAI_MODEL", "gpt-4.1-mini")
    with lb.Client(tmp_path, base_url="https://api.openai.com/v1", api_key=os.environ["OPENAI_API_KEY"], model=model) as client:
        p = client.prompts.create("Answer as {{persona}}.", variables=["persona"])
        r = client.responses.create(input="What is the capital of Ireland?", prompt=p, variables={"persona": "a poet"})
        assert r.status == "completed" and "Dublin" in r.output_text
