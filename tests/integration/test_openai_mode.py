"""Servers without a Prompts API (api.openai.com): prompts live locally and render on the client."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import llamabook as lb
from llamabook.backends.base import ResponseRequest
from llamabook.backends.http.requests import client_rendered_body, request_body as _request_body
from llamabook.tools import check_tools
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


def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (None, None),
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("get_weather", {"type": "function", "name": "get_weather"}),
        ({"type": "function", "name": "get_weather"}, {"type": "function", "name": "get_weather"}),
    ],
)
def test_tools_go_to_openai_in_the_responses_form(given: object, sent: object) -> None:
    """OpenAI's Responses API takes a function tool flat, ``{"type": "function", "name", …}``, and
    ``tool_choice`` as ``{"type": "function", "name"}``: not Chat Completions' nested ``"function": {…}``."""
    tools = check_tools([get_weather], given)
    request = ResponseRequest(
        model="gpt-test", input="Weather in Cork?", prompt=PromptReference(id="pmpt_" + "1" * 48, version="1"),
        prompt_template="You forecast.", tools=tools.wire, tool_choice=tools.choice,
    )  # fmt: skip
    for body in (client_rendered_body(request), _request_body(request)):  # a prompt on the client (OpenAI) or by reference
        assert body["tools"] == [{
            "type": "function", "name": "get_weather", "description": "The weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            "strict": False,
        }]  # fmt: skip
        assert "function" not in body["tools"][0] and body.get("tool_choice") == sent
        assert ("tool_choice" in body) == (sent is not None)  # not given: OpenAI's default ("auto")
        assert not isinstance(body.get("tool_choice"), dict) or set(body["tool_choice"]) == {"type", "name"}


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


@pytest.mark.skipif(not os.environ.get("OPENAI_API_KEY"), reason="OPENAI_API_KEY is not set: live OpenAI calls skipped")
def test_live_openai_tools(tmp_path: Path) -> None:
    """OpenAI honours "required" and a named function (no ToolChoiceIgnored), and takes the result back."""
    model = os.environ.get("LLAMABOOK_OPENAI_MODEL", "gpt-4.1-mini")
    with lb.Client(tmp_path, base_url="https://api.openai.com/v1", api_key=os.environ["OPENAI_API_KEY"], model=model) as client:
        for choice in ("required", {"type": "function", "name": "get_weather"}):
            r = client.responses.create(input="What is the weather in Cork?", tools=[get_weather], tool_choice=choice)
            assert r.tool_calls[0].name == "get_weather" and set(r.tool_calls[0].parsed_arguments()) == {"city"}
        result = {"type": "function_call_output", "call_id": r.tool_calls[0].call_id, "output": "sunny, 21 C"}
        answer = client.responses.create(input=[result], tools=[get_weather], previous_response_id=r.id)
        assert answer.status == "completed" and answer.output_text
