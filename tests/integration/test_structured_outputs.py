"""Structured outputs against real servers: llama-cpp-python's server through the OpenAI-compatible engine
(``schema=``, and both forms of ``text=``'s JSON Schema in chat completions), and Llama Stack 0.7.3 and
OGX 1.5.0 refusing a schema before any output. The rest of structured outputs: tests/unit/test_schemas.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import llamabook as lb
from llamabook.engines import GenerationOptions
from support.servers import LLAMA_CPP_ALIAS, LLAMA_CPP_KEY, Server
from support.structured import VERDICT, Invoice


# ---- schema= ------------------------------------------------------------------------------------------


def test_llama_cpp_server_through_the_openai_engine_validates(tmp_path: Path, llama_cpp_server: Server) -> None:
    engine = lb.OpenAICompatibleEngine(llama_cpp_server.url + "/v1", api_key=LLAMA_CPP_KEY)
    # Enums and numbers: the server's grammar (llama-cpp-python 0.3.36's converter, unpatched) lets raw
    # control characters into free strings, which JSON forbids; such an output would be OutputInvalid.
    schema = {
        "type": "object",
        "properties": {"city": {"enum": ["Dublin", "Cork", "Galway"]}, "founded": {"type": "integer"}},
        "required": ["city", "founded"],
    }
    with lb.Client(tmp_path / "home", engine=engine) as client:
        response = client.responses.create(
            "Name the capital of Ireland.", schema=schema, max_output_tokens=64, temperature=0
        )
    assert isinstance(response.output_parsed, dict) and set(response.output_parsed) == {"city", "founded"}
    assert response.output_parsed["city"] in ("Dublin", "Cork", "Galway")


@pytest.mark.parametrize("server_fixture", ["llama_stack_server", "ogx_server"])
def test_servers_refuse_a_schema_before_any_output(
    request: pytest.FixtureRequest, tmp_path: Path, server_fixture: str
) -> None:
    server: Server = request.getfixturevalue(server_fixture)
    with lb.Client(tmp_path / "home", base_url=server.url) as client:
        with pytest.raises(lb.OutputFormatUnsupported) as caught:
            client.responses.create("Is Dublin a city?", schema=Invoice, max_output_tokens=16, temperature=0)
    failed = getattr(caught.value, "response", None)
    assert failed is None or failed.output_text == ""


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


@pytest.mark.server
def test_the_llama_cpp_server_answers_json_that_follows_the_schema(llama_cpp_server: Server) -> None:
    engine = lb.OpenAICompatibleEngine(base_url=f"{llama_cpp_server.url}/v1", api_key=LLAMA_CPP_KEY, models=[LLAMA_CPP_ALIAS])
    messages = [{"role": "user", "content": "Is the sky blue?"}]
    generation = engine.generate(LLAMA_CPP_ALIAS, messages, GenerationOptions(max_output_tokens=60, json_schema=VERDICT))
    answer = json.loads("".join(generation))
    jsonschema.validate(answer, VERDICT)
