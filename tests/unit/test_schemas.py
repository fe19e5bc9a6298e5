"""JSON Schema outputs (``llamabook.schemas``): ``schema=`` and the Responses API's ``text=`` option.

``schema=``: resolved from a pydantic model or a dict, ``output_parsed``, ``OutputInvalid``, streams, the
grammar's limits and the embedded model held to each keyword. ``text=``: its wire form checked before
anything is sent, carried to the engines and echoed by the response, the HTTP bodies, the cassette's keys,
and JSON Schema constrained decoding on the embedded model. The same against real servers:
tests/integration/test_structured_outputs.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pydantic
import pytest

import llamabook as lb
from llamabook import schemas
from llamabook.backends.http.requests import client_rendered_body, request_body
from llamabook.cassette import request_key
from llamabook.engines.embedded import constrained as guidance
from llamabook.engines.embedded import EmbeddedEngine
from llamabook.engines.embedded.constrained import limits
from support.scripted_engine import ScriptedEngine
from support.structured import VERDICT, Invoice


@pytest.fixture(autouse=True)
def _no_cassette_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLAMABOOK_CASSETTE", raising=False)
    monkeypatch.delenv("LLAMABOOK_RECORD", raising=False)


class NoSchema(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(arbitrary_types_allowed=True)
    call: Callable[[int], int]


GOOD = {"number": "A-17", "total": 12.5, "paid": True, "currency": "EUR", "items": [{"name": "pen", "qty": 2}]}
INVOICE_TEXT = "Invoice A-17 to Ada: 2 pens, total 12.50 EUR, paid."


def answering(text: str) -> Callable[[list[dict[str, object]]], str]:
    return lambda messages: text


@pytest.fixture
def json_client(tmp_path: Path, scripted: ScriptedEngine) -> Iterator[lb.Client]:
    scripted.answer = answering(json.dumps(GOOD))
    with lb.Client(tmp_path / "home", engine=scripted) as c:
        yield c


# ---- schemas.resolve / text_format / parse ------------------------------------------------------


def test_resolve_a_model_and_a_dict() -> None:
    resolved = schemas.resolve(Invoice)
    assert resolved.name == "Invoice" and resolved.model is Invoice
    assert resolved.json_schema["required"] == ["number", "total", "paid", "currency", "items"]
    as_dict = schemas.resolve({"type": "object", "properties": {"a": {"type": "integer"}}})
    assert as_dict.name == "output" and as_dict.model is None
    wire = schemas.text_format(resolved)["format"]
    assert wire == {"type": "json_schema", "name": "Invoice", "schema": resolved.json_schema, "strict": True}


def test_parse_gives_an_instance_or_the_errors_with_paths() -> None:
    resolved = schemas.resolve(Invoice)
    value, errors = schemas.parse(json.dumps(GOOD), resolved)
    assert isinstance(value, Invoice) and value.items[0].qty == 2 and errors == []
    bad = {**GOOD, "total": "lots", "items": [{"name": "pen"}]}
    value, errors = schemas.parse(json.dumps(bad), resolved)
    assert value is None
    assert "$.total: 'lots' is not of type 'number'" in errors and "$.items[0]: 'qty' is a required property" in errors
    value, errors = schemas.parse('{"number": "A', resolved)
    assert value is None and errors[0].startswith("$: not valid JSON")


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        ({"type": "nope"}, "Not a valid JSON Schema"),
        (NoSchema, "NoSchema can't produce a JSON Schema"),
        (int, "not int"),
        ("Invoice", "not str"),
    ],
)
def test_resolve_refuses_what_is_not_a_schema(schema: object, says: str) -> None:
    with pytest.raises(lb.InvalidRequest, match=says):
        schemas.resolve(schema)


# ---- create(schema=...) on the scripted engine ---------------------------------------------------


def test_schema_shorthand_sets_output_parsed_and_the_wire_format(json_client: lb.Client, scripted: ScriptedEngine) -> None:
    response = json_client.responses.create(INVOICE_TEXT, schema=Invoice)
    assert isinstance(response.output_parsed, Invoice) and response.output_parsed.total == 12.5
    assert response.text["format"]["name"] == "Invoice" and response.text["format"]["strict"] is True
    assert scripted.calls[0].options.json_schema == schemas.resolve(Invoice).json_schema
    assert "output_parsed" not in response.model_dump() and "_output_parsed" not in response.model_dump_json()
    stored = json_client.responses.retrieve(response.id)  # read back: re-parsed, as a dict
    assert stored.output_parsed == GOOD
    assert json_client.responses.list()[0].output_parsed == GOOD


def test_a_json_schema_text_format_is_validated_too(json_client: lb.Client) -> None:
    schema = schemas.resolve(Invoice).json_schema
    text = {"format": {"type": "json_schema", "name": "inv", "schema": schema, "strict": True}}
    response = json_client.responses.create(INVOICE_TEXT, text=text)
    assert response.output_parsed == GOOD  # a dict: no model class was given


def test_free_text_has_no_output_parsed(quick_client: lb.Client) -> None:
    response = quick_client.responses.create("hello")
    assert response.output_text == "echo: hello" and response.output_parsed is None


def test_an_invalid_output_raises_output_invalid_and_keeps_the_raw_text(
    quick_client: lb.Client, scripted: ScriptedEngine
) -> None:
    raw = json.dumps({**GOOD, "total": "lots", "currency": "GBP"})
    scripted.answer = answering(raw)
    with pytest.raises(lb.OutputInvalid) as caught:
        quick_client.responses.create(INVOICE_TEXT, schema=Invoice)
    error = caught.value
    assert not error.cut_off and error.raw == raw
    assert any(e.startswith("$.total:") for e in error.errors) and any(e.startswith("$.currency:") for e in error.errors)
    assert "$.total" in str(error) and error.response.id in str(error)
    assert error.response.output_parsed is None
    stored = quick_client.responses.retrieve(error.response.id)
    assert stored.output_text == raw and stored.status == "completed" and stored.output_parsed is None


def test_prose_instead_of_json_is_invalid(quick_client: lb.Client) -> None:
    with pytest.raises(lb.OutputInvalid, match="not valid JSON") as caught:
        quick_client.responses.create("hello", schema={"type": "object"})
    assert caught.value.raw == "echo: hello"


def test_cut_off_output_is_invalid_never_half_parsed(json_client: lb.Client) -> None:
    with pytest.raises(lb.OutputInvalid, match="cut off at max_output_tokens") as caught:
        json_client.responses.create(INVOICE_TEXT, schema=Invoice, max_output_tokens=3)
    error = caught.value
    assert error.cut_off and error.response.cut_off and error.raw == '{"number": "A-17", "total": '
    assert error.response.output_parsed is None
    assert json_client.responses.retrieve(error.response.id).output_parsed is None


def test_a_stream_gets_output_parsed_when_valid(json_client: lb.Client) -> None:
    stream = json_client.responses.create(INVOICE_TEXT, schema=Invoice, stream=True)
    response = stream.until_done()
    assert stream.error is None and isinstance(response.output_parsed, Invoice)


def test_a_stream_does_not_raise_when_invalid_its_error_says_why(quick_client: lb.Client) -> None:
    stream = quick_client.responses.create("hello", schema=Invoice, stream=True)
    response = stream.until_done()
    assert isinstance(stream.error, lb.OutputInvalid) and stream.error.response is response
    assert response.output_parsed is None and response.output_text == "echo: hello"


def test_the_async_client_takes_schema(tmp_path: Path, scripted: ScriptedEngine) -> None:
    scripted.answer = answering(json.dumps(GOOD))

    async def run() -> tuple[lb.Response, lb.Response]:
        async with lb.AsyncClient(tmp_path / "home", engine=scripted) as client:
            request = await client.responses.prepare(INVOICE_TEXT, schema=Invoice)
            assert request.text == schemas.text_format(schemas.resolve(Invoice))
            stream = await client.responses.create(INVOICE_TEXT, schema=Invoice, stream=True)
            streamed = await stream.until_done()
            assert stream.error is None
            return await client.responses.create(INVOICE_TEXT, schema=Invoice), streamed

    response, streamed = asyncio.run(run())
    assert isinstance(response.output_parsed, Invoice) and isinstance(streamed.output_parsed, Invoice)


def test_a_judge_still_reads_a_bare_verdict(tmp_path: Path) -> None:
    """The judge asks with a json_schema text=: an unconstrained engine's bare "yes" is still a verdict."""
    from llamabook import checks

    class Answer:
        output_text = "Dublin."

    with lb.Client(tmp_path / "home", engine=ScriptedEngine(answer=answering("yes"))) as client:
        outcome = checks.judge("Does the answer name a city?").evaluate({}, Answer(), client)  # type: ignore[arg-type]
    assert outcome.value is True and outcome.error is None


# ---- bad input: refused before any call, nothing stored ------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"schema": {"type": "object", "properties": {"a": {"type": "integr"}}}}, "Not a valid JSON Schema"),
        ({"schema": NoSchema}, "NoSchema can't produce a JSON Schema"),
        ({"schema": 42}, "schema= takes a pydantic model class"),
        ({"schema": Invoice, "text": {"format": {"type": "json_object"}}}, "not both"),
        (
            {"schema": Invoice, "text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}}},
            "not both",
        ),
        ({"text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": 3}}}}, "Not a valid JSON Schema"),
    ],
)
def test_bad_schemas_are_refused_before_anything_is_stored_or_sent(
    quick_client: lb.Client, scripted: ScriptedEngine, kwargs: dict[str, object], says: str
) -> None:
    with pytest.raises(lb.InvalidRequest, match=says):
        quick_client.responses.create(template="Read {{doc}}", variables={"doc": "x"}, name="reader", **kwargs)
    assert scripted.calls == [] and quick_client.responses.list() == [] and quick_client.prompts.list() == []


def test_the_limits_name_what_the_grammar_cannot_hold_and_where() -> None:
    class Tagged(pydantic.BaseModel):
        count: int = pydantic.Field(ge=0, le=120)  # held now: number bounds
        code: str = pydantic.Field(pattern="[A-Z]+")  # held now: an unanchored pattern
        tags: set[str]  # uniqueItems: not held

    assert limits(Tagged.model_json_schema()) == ["'uniqueItems' at #/properties/tags"]
    assert limits({"type": "object", "properties": {"a": {"not": {"type": "string"}}}}) == ["'not' at #/properties/a"]
    assert limits({"type": "array", "contains": {"type": "integer"}}) == ["'contains' at #"]
    assert limits({"if": {"required": ["a"]}, "then": {}, "type": "object"}) == ["'if' at #", "'then' at #"]
    every = {"type": "object", "properties": {"a": {"not": {}}, "b": {"type": "array", "contains": {}, "uniqueItems": True}}}
    assert limits(every) == ["'not' at #/properties/a", "'uniqueItems' at #/properties/b", "'contains' at #/properties/b"]
    assert limits({"type": "string", "pattern": "^(?=a)b$"})[0].startswith("regex parse error")
    assert "not present in a registry" in limits({"$ref": "https://example.com/s.json"})[0]
    assert limits({"type": "object", "required": ["x"], "additionalProperties": False}) == [
        "Unsatisfiable schema: required property 'x' is unsatisfiable"
    ]
    # a format the output validator doesn't check is an annotation: left out of the grammar, not refused
    assert limits({"type": "string", "format": "my-own-format"}) == []


@pytest.mark.parametrize(
    "schema",
    [
        Invoice.model_json_schema(),
        {"type": "object", "properties": {"verdict": {"type": "string", "enum": ["yes", "no"]}}, "required": ["verdict"]},
        {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3},
        {"type": "object", "properties": {"when": {"type": "string", "format": "date"}, "n": {"type": ["integer", "null"]}}},
        {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}}},
        {"type": "object", "additionalProperties": {"type": "number"}},
        {"type": "integer", "minimum": 0, "maximum": 120, "multipleOf": 5},
        {"type": "object", "patternProperties": {"^x_": {"type": "integer"}}},
        {"type": "string", "format": "email"},
        {"anyOf": [{"type": "string"}], "minLength": 2},
    ],
)
def test_what_the_grammar_expresses_passes(schema: dict[str, object]) -> None:
    assert limits(schema) == []


def test_the_embedded_backend_refuses_an_inexpressible_schema_before_storing(
    tmp_path: Path, engine: EmbeddedEngine
) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}}}
    with lb.Client(tmp_path / "home", engine=engine) as client:
        with pytest.raises(lb.InvalidRequest, match=r"'uniqueItems' at #/properties/n"):
            client.responses.create(template="Pick {{x}}", variables={"x": "a number"}, schema=schema)
        with pytest.raises(lb.InvalidRequest, match="grammar can't express"):
            client.responses.prepare("Pick one", schema=schema)
        assert client.responses.list() == [] and client.prompts.list() == []


#: Each keyword the grammar holds, with a request that pulls the other way: the output must still follow it.
HELD = {
    "minimum-maximum": ("Bob is 250 years old and weighs -3 kg. Give his age and weight.", {
        "type": "object", "required": ["age", "kg"],
        "properties": {"age": {"type": "integer", "minimum": 0, "maximum": 120}, "kg": {"type": "number", "exclusiveMinimum": 0}},
    }),
    "multipleOf": ("Pick a number near 42.", {
        "type": "object", "required": ["n"], "properties": {"n": {"type": "integer", "multipleOf": 5}},
    }),
    "minItems-maxItems": ("List one fruit.", {
        "type": "object", "required": ["fruits"],
        "properties": {"fruits": {"type": "array", "items": {"type": "string", "maxLength": 12}, "minItems": 2, "maxItems": 3}},
    }),
    "minLength-maxLength": ("Write a long word and a short one.", {
        "type": "object", "required": ["long", "short"],
        "properties": {"long": {"type": "string", "minLength": 8, "maxLength": 20}, "short": {"type": "string", "maxLength": 3}},
    }),
    "pattern-anchored": ("The invoice number is 42.", {
        "type": "object", "required": ["number"], "properties": {"number": {"type": "string", "pattern": "^INV-[0-9]+$"}},
    }),
    "pattern-unanchored": ("Give a code.", {
        "type": "object", "required": ["code"], "properties": {"code": {"type": "string", "pattern": "[0-9]{3}", "maxLength": 10}},
    }),
    "enum-const": ("Is fire cold? Say the kind of answer too.", {
        "type": "object", "required": ["verdict", "kind"],
        "properties": {"verdict": {"enum": ["yes", "no"]}, "kind": {"const": "verdict"}},
    }),
    "anyOf-oneOf": ("Give a value, which is either a number or a word.", {
        "type": "object", "required": ["value", "unit"],
        "properties": {
            "value": {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 10}]},
            "unit": {"oneOf": [{"type": "null"}, {"enum": ["kg", "m"]}]},
        },
    }),
    "ref-defs-recursive": ("Describe a family tree with a parent and a child.", {
        "$defs": {"person": {"type": "object", "required": ["name", "child"], "properties": {
            "name": {"type": "string", "maxLength": 16},
            "child": {"anyOf": [{"$ref": "#/$defs/person"}, {"type": "null"}]},
        }}},
        "$ref": "#/$defs/person",
    }),
    "format": ("Ann's email is ann at example dot com, born 5 March 1990.", {
        "type": "object", "required": ["email", "born"],
        "properties": {"email": {"type": "string", "format": "email", "maxLength": 40}, "born": {"type": "string", "format": "date"}},
    }),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(HELD))
def test_the_embedded_model_honours_each_keyword_the_grammar_holds(client: lb.Client, case: str) -> None:
    text, schema = HELD[case]
    response = client.responses.create(text, schema=schema, max_output_tokens=160)
    assert response.status == "completed", response.output_text
    value = json.loads(response.output_text)
    assert schemas.validate(value, schema) == []  # jsonschema, formats included: every keyword honoured


def test_other_engines_are_not_held_to_the_grammar(quick_client: lb.Client, scripted: ScriptedEngine) -> None:
    scripted.answer = answering('{"n": 4}')
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]}
    assert quick_client.responses.create("Pick", schema=schema).output_parsed == {"n": 4}
    scripted.answer = answering('{"n": 0}')
    with pytest.raises(lb.OutputInvalid, match=r"\$\.n: 0 is less than the minimum of 1"):
        quick_client.responses.create("Pick", schema=schema)


# ---- the real embedded model -----------------------------------------------------------------------


def test_the_embedded_model_returns_a_valid_invoice_and_the_same_bytes_twice(tmp_path: Path, engine: EmbeddedEngine) -> None:
    outputs = []
    for home in ("a", "b"):
        with lb.Client(tmp_path / home, engine=engine) as client:
            response = client.responses.create(INVOICE_TEXT, schema=Invoice, max_output_tokens=200)
            assert isinstance(response.output_parsed, Invoice)
            assert schemas.validate(json.loads(response.output_text), Invoice.model_json_schema()) == []
            outputs.append(response.output_text)
    assert outputs[0] == outputs[1]


def test_the_embedded_model_cut_off_is_reported(client: lb.Client) -> None:
    with pytest.raises(lb.OutputInvalid) as caught:
        client.responses.create(INVOICE_TEXT, schema=Invoice, max_output_tokens=4)
    error = caught.value
    assert error.cut_off and error.raw == client.responses.retrieve(error.response.id).output_text
    assert error.raw.startswith("{") and error.response.output_parsed is None


def test_a_number_ends_within_fifteen_digits_where_the_schema_sets_no_bound(client: lb.Client) -> None:
    """A greedy small model left free would write 1.1111… or 1E+0000… until max_output_tokens (seen on notebook
    08's invoices and in tests/unit/engines/embedded/test_constrained.py)."""
    from llamabook.engines.embedded.constrained import MAX_DIGITS, _number_is_full

    assert _number_is_full(b'{"a": 1.' + b"1" * MAX_DIGITS) and _number_is_full(b"[" + b"9" * MAX_DIGITS)
    assert not _number_is_full(b'{"a": 1.' + b"1" * (MAX_DIGITS - 1)) and not _number_is_full(b'"abc' + b"1" * 20)
    assert _number_is_full(b'{"a": 1.5E+000') and not _number_is_full(b'{"a": 1.5E+00')  # an exponent: 3 digits
    schema = {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}
    response = client.responses.create(
        "Write the number one point one, followed by ones forever: 1.11111111111111111111111111111111111111",
        schema=schema, max_output_tokens=80,
    )  # fmt: skip
    assert response.status == "completed", response.output_text
    whole, _, fraction = response.output_text.split('"x": ')[1].rstrip("}").partition(".")
    assert len(whole.lstrip("-")) <= MAX_DIGITS and len(fraction) <= MAX_DIGITS


# ---- text=: the Responses API's option, in its wire form ---------------------------------------------

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


# ---- the OpenAI engine's two forms of a schema ------------------------------------------------


def test_the_two_forms_of_a_schema_in_chat_completions() -> None:
    from llamabook.engines.openai_compatible import response_format

    assert response_format(VERDICT, "json_schema") == {
        "type": "json_schema", "json_schema": {"name": "output", "schema": VERDICT, "strict": True}
    }  # fmt: skip
    assert response_format(VERDICT, "auto") == response_format(VERDICT, "json_schema")
    assert response_format(VERDICT, "json_object") == {"type": "json_object", "schema": VERDICT}
