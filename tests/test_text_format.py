"""The Responses API's ``text`` option: its wire form checked, carried to the engines, and JSON
Schema constrained decoding on the embedded model and llama-cpp-python's server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import llamabook as lb
from conftest import LLAMA_CPP_ALIAS, LLAMA_CPP_KEY
from llamabook.backends.http.requests import client_rendered_body, request_body
from llamabook.cassette import request_key
from llamabook.engines import GenerationOptions
from llamabook.engines.embedded import constrained as guidance
from llamabook.engines.embedded import EmbeddedEngine
from scripted_engine import ScriptedEngine
from servers import Server

VERDICT = {
    "type": "object",
    "properties": {"verdict": {"type": "string", "enum": ["yes", "no"]}},
    "required": ["verdict"],
}
PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 20},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 3},
    },
    "required": ["name", "age", "tags"],
}


def json_schema(schema: dict[str, Any], name: str = "answer") -> dict[str, Any]:
    """``text=`` for a JSON Schema, in the wire form."""
    return {"format": {"type": "json_schema", "name": name, "schema": schema, "strict": True}}


@pytest.fixture(autouse=True)
def _no_cassette_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLAMABOOK_CASSETTE", raising=False)
    monkeypatch.delenv("LLAMABOOK_RECORD", raising=False)


# ---- the wire form is checked before anything is sent --------------------------------------

BAD_TEXT = [
    ("not a dict", "text must be a dict"),
    ({"fmt": {"type": "text"}}, "only a 'format' key"),
    ({"format": "json_schema"}, "text['format'] must be a dict"),
    ({"format": {}}, "must be 'json_schema', 'json_object' or 'text', not None"),
    ({"format": {"type": "json"}}, "not 'json'"),
    ({"format": {"type": "json_schema", "schema": VERDICT}}, "needs a 'name'"),
    ({"format": {"type": "json_schema", "name": "has spaces", "schema": VERDICT}}, "needs a 'name'"),
    ({"format": {"type": "json_schema", "name": "v"}}, "'schema' that is a dict (a JSON Schema), not none"),
    ({"format": {"type": "json_schema", "name": "v", "schema": json.dumps(VERDICT)}}, "not str"),
    ({"format": {"type": "json_schema", "name": "v", "schema": [VERDICT]}}, "not list"),
    ({"format": {"type": "json_schema", "name": "v", "schema": VERDICT, "strict": "yes"}}, "'strict' must be True or False"),
    ({"format": {"type": "json_schema", "name": "v", "schema": VERDICT, "description": 3}}, "'description' must be a str"),
    ({"format": {"type": "json_schema", "name": "v", "json_schema": VERDICT}}, "not ['json_schema']"),
    ({"format": {"type": "text", "schema": VERDICT}}, "format 'text' takes only ['type'], not ['schema']"),
]


@pytest.mark.parametrize(("text", "says"), BAD_TEXT, ids=[s for _, s in BAD_TEXT])
def test_a_bad_text_option_is_refused_before_anything_is_generated_or_stored(
    quick_client: lb.Client, scripted: ScriptedEngine, text: Any, says: str
) -> None:
    with pytest.raises(lb.InvalidRequest) as caught:
        quick_client.responses.create(input="Is the sky blue?", text=text)
    assert says in str(caught.value)
    if "strict" not in says and "description" not in says:
        assert '{"format": {"type": "json_schema", "name":' in str(caught.value)  # shows the wire form
    assert scripted.calls == []
    assert list(quick_client.responses.list()) == []


def test_prepare_checks_text_too(quick_client: lb.Client, scripted: ScriptedEngine) -> None:
    with pytest.raises(lb.InvalidRequest, match="needs a 'schema'"):
        quick_client.responses.prepare("Hi", text={"format": {"type": "json_schema", "name": "v"}})
    assert scripted.calls == []


def yes(messages: Any) -> str:
    """A scripted answer that follows VERDICT (the scripted engine ignores schemas; the client validates)."""
    return '{"verdict": "yes"}'


def test_the_async_client_checks_text_and_echoes_it(tmp_path: Path) -> None:
    scripted = ScriptedEngine(answer=yes)

    async def run() -> lb.Response:
        async with lb.AsyncClient(tmp_path / "home", engine=scripted) as client:
            with pytest.raises(lb.InvalidRequest, match="not int"):
                await client.responses.create("Hi", text={"format": {"type": "json_schema", "name": "v", "schema": 1}})
            assert scripted.calls == []
            return await client.responses.create("Hi", text=json_schema(VERDICT))

    response = asyncio.run(run())
    assert response.text == json_schema(VERDICT)
    assert scripted.calls[-1].options.json_schema == VERDICT


# ---- the option reaches the engine and the response echoes it ------------------------------


def test_a_json_schema_reaches_the_engine_and_the_response_echoes_text(
    quick_client: lb.Client, scripted: ScriptedEngine
) -> None:
    scripted.answer = yes
    text = json_schema(VERDICT, "verdict")
    response = quick_client.responses.create(input="Is the sky blue?", text=text)
    assert scripted.calls[-1].options.json_schema == VERDICT
    assert response.text == text
    assert quick_client.responses.retrieve(response.id).text == text  # stored with it

    plain = quick_client.responses.create(input="Is the sky blue?")
    assert scripted.calls[-1].options.json_schema is None
    assert plain.text == {"format": {"type": "text"}}

    quick_client.responses.create(input="Is the sky blue?", text={"format": {"type": "text"}})
    assert scripted.calls[-1].options.json_schema is None
    quick_client.responses.create(input="Is the sky blue?", text={"format": {"type": "json_object"}})
    assert scripted.calls[-1].options.json_schema == {"type": "object"}  # JSON mode: any object


def test_a_streamed_response_carries_the_schema_too(quick_client: lb.Client, scripted: ScriptedEngine) -> None:
    stream = quick_client.responses.create(input="Is the sky blue?", text=json_schema(PERSON), stream=True)
    response = stream.until_done()
    assert scripted.calls[-1].options.json_schema == PERSON
    assert response.text["format"]["schema"] == PERSON


def test_the_http_bodies_pass_text_through_as_given_and_leave_it_out_by_default(quick_client: lb.Client) -> None:
    text = json_schema(PERSON, "person")
    request = quick_client.responses.prepare("Describe Ada.", text=text)
    assert request.text == text and request.json_schema == PERSON
    assert request_body(request)["text"] == text
    assert client_rendered_body(request)["text"] == text
    plain = quick_client.responses.prepare("Describe Ada.")
    assert "text" not in request_body(plain) and "text" not in client_rendered_body(plain)


# ---- cassettes key a generation by its schema ------------------------------------------------


def test_the_cassette_keys_a_generation_by_its_schema_and_keeps_old_keys(tmp_path: Path) -> None:
    cassette = tmp_path / "schemas.jsonl"
    scripted = ScriptedEngine(answer=yes)
    with lb.Client(tmp_path / "a", engine=scripted, cassette=cassette, record="new") as client:
        client.responses.create(input="Is the sky blue?")
        client.responses.create(input="Is the sky blue?", text=json_schema(VERDICT))
        reordered = {**VERDICT, "properties": {"reason": {"type": "string"}, **VERDICT["properties"]}}
        client.responses.create(input="Is the sky blue?", text=json_schema(reordered))
    assert len(scripted.calls) == 3  # none replayed another's answer
    entries = [json.loads(line) for line in cassette.read_text().splitlines()[1:]]
    generations = [e for e in entries if e["kind"] == "generation"]
    keys = [e["key"] for e in generations]
    assert len(set(keys)) == 3
    # Without a schema the key is what it was before schemas existed (committed cassettes replay).
    messages = scripted.calls[0].messages
    old_options = {"temperature": 0.0, "max_output_tokens": None, "top_p": None}
    material = {"engine": "scripted", "model": scripted.model_id, "messages": messages, "options": old_options}
    assert keys[0] == request_key("generation", material)
    assert generations[0]["request"]["options"] == old_options
    assert generations[1]["request"]["options"]["json_schema"] == VERDICT  # shown readably

    # Replayed: each call gets its own recording; an unrecorded schema misses.
    replaying = ScriptedEngine()
    with lb.Client(tmp_path / "b", engine=replaying, cassette=cassette, record="none") as client:
        client.responses.create(input="Is the sky blue?", text=json_schema(VERDICT))
        client.responses.create(input="Is the sky blue?")
        with pytest.raises(lb.CassetteMiss):
            client.responses.create(input="Is the sky blue?", text=json_schema(PERSON))
    assert replaying.calls == []


# ---- the real embedded model decodes to the schema ------------------------------------------

VERDICT_INPUTS = ["Is the sky blue?", "Is fire cold?", "Do cats bark?"]
PERSON_INPUTS = ["Alice is 30 and likes tennis and chess.", "Describe Bob, a 45 year old baker.", "Make up a person."]


@pytest.mark.parametrize(
    ("schema", "inputs"), [(VERDICT, VERDICT_INPUTS), (PERSON, PERSON_INPUTS)], ids=["enum", "nested"]
)
def test_the_embedded_model_answers_json_that_follows_the_schema(
    client: lb.Client, schema: dict[str, Any], inputs: list[str]
) -> None:
    answers = []
    for question in inputs:
        response = client.responses.create(input=question, text=json_schema(schema), max_output_tokens=120)
        assert response.status == "completed", response.output_text
        answer = json.loads(response.output_text)
        jsonschema.validate(answer, schema)
        assert response.text["format"]["schema"] == schema
        answers.append(response.output_text)
    again = client.responses.create(input=inputs[0], text=json_schema(schema), max_output_tokens=120)
    assert again.output_text == answers[0]  # greedy: the same request, the same bytes


def test_the_embedded_model_compiles_a_grammar_once_per_schema_and_refuses_what_it_cannot_hold(
    client: lb.Client, engine: EmbeddedEngine
) -> None:
    assert guidance.grammar(VERDICT) is guidance.grammar(json.loads(json.dumps(VERDICT)))
    reordered = {**PERSON, "properties": dict(reversed(list(PERSON["properties"].items())))}
    assert guidance.grammar(reordered) != guidance.grammar(PERSON)  # key order is output order
    with pytest.raises(lb.InvalidRequest, match="Not a valid JSON Schema"):
        client.responses.create(input="Is the sky blue?", text=json_schema({"type": "colour"}))
    with pytest.raises(lb.InvalidRequest, match="'uniqueItems' at #/properties/tags"):  # valid, but no grammar can hold it
        client.responses.create(input="Is the sky blue?", text=json_schema({**PERSON, "properties": {
            **PERSON["properties"], "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True}}}))
    assert list(client.responses.list()) == []  # refused before anything was stored


# ---- llama-cpp-python's server constrains the json_object + schema form --------------------


@pytest.mark.server
def test_the_openai_engine_sends_openais_form_and_finds_llama_cpps_once(llama_cpp_server: Server) -> None:
    """OpenAI's json_schema form first; llama-cpp-python's server refuses it as a malformed request, so the
    engine resends in its json_object + schema form and keeps to it; a declared form is sent as it is."""
    url, messages = f"{llama_cpp_server.url}/v1", [{"role": "user", "content": "Is the sky blue?"}]
    options = GenerationOptions(max_output_tokens=60, json_schema=VERDICT)
    auto = lb.OpenAICompatibleEngine(base_url=url, api_key=LLAMA_CPP_KEY, models=[LLAMA_CPP_ALIAS])
    assert auto.schema_form == "auto"
    jsonschema.validate(json.loads("".join(auto.generate(LLAMA_CPP_ALIAS, messages, options))), VERDICT)
    assert auto.schema_form == "json_object"  # found out once, kept
    jsonschema.validate(json.loads("".join(auto.generate(LLAMA_CPP_ALIAS, messages, options))), VERDICT)
    declared = lb.OpenAICompatibleEngine(base_url=url, api_key=LLAMA_CPP_KEY, models=[LLAMA_CPP_ALIAS], schema_form="json_schema")
    with pytest.raises(lb.OutputFormatUnsupported):  # declared OpenAI's form: no second try
        declared.generate(LLAMA_CPP_ALIAS, messages, options)
    with pytest.raises(lb.InvalidRequest, match="schema_form must be one of"):
        lb.OpenAICompatibleEngine(base_url=url, schema_form="grammar")


def test_the_two_forms_of_a_schema_in_chat_completions() -> None:
    from llamabook.engines.openai_compatible import response_format

    assert response_format(VERDICT, "json_schema") == {
        "type": "json_schema", "json_schema": {"name": "output", "schema": VERDICT, "strict": True}
    }  # fmt: skip
    assert response_format(VERDICT, "auto") == response_format(VERDICT, "json_schema")
    assert response_format(VERDICT, "json_object") == {"type": "json_object", "schema": VERDICT}


@pytest.mark.server
def test_the_llama_cpp_server_answers_json_that_follows_the_schema(llama_cpp_server: Server) -> None:
    engine = lb.OpenAICompatibleEngine(base_url=f"{llama_cpp_server.url}/v1", api_key=LLAMA_CPP_KEY, models=[LLAMA_CPP_ALIAS])
    messages = [{"role": "user", "content": "Is the sky blue?"}]
    generation = engine.generate(LLAMA_CPP_ALIAS, messages, GenerationOptions(max_output_tokens=60, json_schema=VERDICT))
    answer = json.loads("".join(generation))
    jsonschema.validate(answer, VERDICT)
