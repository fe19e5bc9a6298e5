"""A prompt version's default output schema: saved with it, matched by the save rule, used by responses,
kept in the home per backend, and ``%%llama --schema NAME``.

Mechanics run on the scripted engine told to answer JSON; one test runs the real embedded model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from pydantic import BaseModel, ConfigDict

import llamabook as lb
from llamabook import magics
from support.magics import in_magics
from support.scripted_engine import ScriptedEngine

TEMPLATE = "Grade this answer: {{answer}}"
SCORE = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
LABEL = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}
OTHER_SCOPE = "http://other:8321"


class Verdict(BaseModel):
    a: int


class Opaque:
    """A type pydantic can hold but cannot describe in JSON Schema."""


class Unserialisable(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    when: Opaque


def json_answer(text: str) -> ScriptedEngine:
    return ScriptedEngine(answer=lambda messages: text)


@pytest.fixture
def scored(tmp_path: Path) -> Iterator[lb.Client]:
    """A client whose scripted model always answers ``{"a": 1}``."""
    with lb.Client(tmp_path / "home", engine=json_answer('{"a": 1}')) as c:
        yield c


# ---- the save rule ---------------------------------------------------------------------------------


def test_the_schema_is_part_of_a_version_and_only_a_change_makes_a_new_one(scored: lb.Client) -> None:
    prompts = scored.prompts
    v1 = prompts.save("grader", TEMPLATE, schema=SCORE)
    assert (v1.version, v1.schema) == (1, SCORE)
    assert prompts.save("grader", TEMPLATE, schema=SCORE).version == 1  # same template, same schema: reused
    as_class = prompts.save("grader", TEMPLATE, schema=Verdict)  # a class: its JSON Schema (titles too) differs
    assert (as_class.version, as_class.schema) == (2, Verdict.model_json_schema())
    assert prompts.save("grader", TEMPLATE, schema=dict(reversed(Verdict.model_json_schema().items()))).version == 2
    v3 = prompts.save("grader", TEMPLATE, schema=LABEL)  # only the schema changed: a new version
    assert (v3.prompt_id, v3.version, v3.schema, v3.prompt) == (v1.prompt_id, 3, LABEL, TEMPLATE)
    v4 = prompts.save("grader", TEMPLATE)  # without a schema is another version again
    assert (v4.version, v4.schema) == (4, None)
    assert prompts.save("grader", TEMPLATE, schema=SCORE).version == 1  # an older version is found again
    assert [(p.version, p.schema is None) for p in prompts.versions("grader")] == [(1, False), (2, False), (3, False), (4, True)]
    assert prompts.get("grader").version == 4 and prompts.get("grader@3").schema == LABEL
    assert "schema" not in v1.model_dump() and "schema" not in json.loads(v1.model_dump_json())  # not a wire field


def test_unnamed_templates_are_keyed_by_their_schema_too(scored: lb.Client) -> None:
    free = scored.prompts.save(None, TEMPLATE)
    shaped = scored.prompts.save(None, TEMPLATE, schema=SCORE)
    assert shaped.prompt_id != free.prompt_id and shaped.schema == SCORE and free.schema is None
    assert scored.prompts.save(None, TEMPLATE, schema=SCORE) == shaped
    assert scored.prompts.save(None, TEMPLATE) == free
    assert {p.prompt_id: p.schema for p in scored.prompts.list()} == {free.prompt_id: None, shaped.prompt_id: SCORE}


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        (42, "pydantic model class .* or a JSON-schema dict"),
        (str, "not str"),
        ({"type": "nope"}, "Not a valid JSON Schema"),
    ],
)
def test_a_bad_schema_is_refused_before_anything_is_stored(scored: lb.Client, schema: Any, says: str) -> None:
    with pytest.raises(lb.InvalidRequest, match=says):
        scored.prompts.save("grader", TEMPLATE, schema=schema)
    assert list(scored.prompts.list()) == [] and scored.prompts.names() == {}


def test_schemas_live_in_the_home_per_backend_and_go_with_the_prompt(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with lb.Client(home, engine=json_answer('{"a": 1}')) as client:
        saved = client.prompts.save("grader", TEMPLATE, schema=Verdict)
        other = client.backend.store.schemas(OTHER_SCOPE)
        assert other.get(saved.prompt_id, 1) is None  # a server's table is its own
        other.set(saved.prompt_id, 2, "label", LABEL)
    with lb.Client(home, engine=json_answer('{"a": 1}')) as again:
        back = again.prompts.get("grader")
        assert back.schema == Verdict.model_json_schema()  # kept in the home database
        assert again.prompts.default_schema(back).model is None  # the class is not: outputs parse to dicts
        assert again.prompts.default_schema(back).name == "Verdict"
        assert again.prompts.save("grader", TEMPLATE, schema=Verdict).version == 1
        assert again.prompts.save("grader", TEMPLATE, schema=LABEL).version == 2  # the other scope's row is not here
        again.prompts.delete("grader")
        assert again.backend.store.schemas("local").of_prompts() == {}
        assert again.backend.store.schemas(OTHER_SCOPE).get(saved.prompt_id, 2) is not None


# ---- responses use a version's default schema ------------------------------------------------------------


def test_a_versions_schema_constrains_its_responses_unless_the_call_gives_a_format(tmp_path: Path) -> None:
    engine = json_answer('{"a": 1}')
    with lb.Client(tmp_path / "home", engine=engine) as client:
        client.prompts.save("grader", TEMPLATE, schema=Verdict)
        shaped = client.responses.create(prompt="grader", variables={"answer": "42"})
        assert shaped.text["format"]["name"] == "Verdict"
        assert shaped.text["format"]["schema"] == engine.calls[-1].options.json_schema == Verdict.model_json_schema()
        assert isinstance(shaped.output_parsed, Verdict) and shaped.output_parsed.a == 1  # the class it was saved with
        explicit = client.responses.create(prompt="grader", variables={"answer": "42"}, schema=SCORE)
        assert explicit.text["format"]["schema"] == engine.calls[-1].options.json_schema == SCORE
        assert explicit.output_parsed == {"a": 1}
        free = client.responses.create(prompt="grader", variables={"answer": "42"}, text={"format": {"type": "text"}})
        assert free.text["format"]["type"] == "text" and engine.calls[-1].options.json_schema is None
        assert free.output_parsed is None
        client.prompts.save("grader", TEMPLATE)  # version 2: no schema
        assert client.responses.create(prompt="grader", variables={"answer": "42"}).text["format"]["type"] == "text"
        assert client.responses.create(prompt="grader@1", variables={"answer": "42"}).output_parsed.a == 1
    with lb.Client(tmp_path / "home", engine=engine) as again:  # the schema is in the home, the class is not
        back = again.responses.create(prompt="grader@1", variables={"answer": "42"})
        assert back.text["format"]["schema"] == Verdict.model_json_schema() and back.output_parsed == {"a": 1}


def test_an_output_the_default_schema_refuses_is_output_invalid(tmp_path: Path) -> None:
    with lb.Client(tmp_path / "home", engine=json_answer('{"a": "one"}')) as client:
        client.prompts.save("grader", TEMPLATE, schema=SCORE)
        with pytest.raises(lb.OutputInvalid, match=r"\$\.a") as caught:
            client.responses.create(prompt="grader", variables={"answer": "42"})
        assert caught.value.raw == '{"a": "one"}' and caught.value.response.output_text == '{"a": "one"}'


def test_a_template_run_with_a_schema_is_stored_with_it(scored: lb.Client) -> None:
    first = scored.responses.create(template=TEMPLATE, name="grader", variables={"answer": "42"}, schema=Verdict)
    assert isinstance(first.output_parsed, Verdict)
    assert scored.prompts.get("grader").schema == Verdict.model_json_schema()
    again = scored.responses.create(template=TEMPLATE, name="grader", variables={"answer": "42"}, schema=Verdict)
    assert again.prompt.version == first.prompt.version == "1"
    free = scored.responses.create(template=TEMPLATE, name="grader", variables={"answer": "42"})
    assert free.prompt.version == "2" and free.output_parsed is None and scored.prompts.get("grader").schema is None
    with pytest.raises(lb.InvalidRequest, match="Not a valid JSON Schema"):
        scored.responses.create(template="Other {{answer}}", name="other", variables={"answer": "1"}, schema={"type": "nope"})
    assert "other" not in scored.prompts.names()


# ---- %%llama --schema NAME ---------------------------------------------------------------------------


@pytest.fixture
def shell(scored: lb.Client, ip: InteractiveShell) -> Iterator[lb.Client]:
    """``scored`` in the magics."""
    yield from in_magics(scored, ip)


def run(ip: InteractiveShell, cell: str) -> tuple[BaseException | None, list[dict[str, Any]]]:
    """Run a cell: its error (or None) and the data of every display."""
    with capture_output() as captured:
        result = ip.run_cell(cell)
    return result.error_in_exec, [dict(o.data) for o in captured.outputs]


def parsed_shown(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in outputs if "application/json" in o and "text/plain" in o and "text/html" not in o]


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "no-stream"])
def test_schema_on_a_template_cell_is_saved_and_the_parsed_object_shown(
    shell: lb.Client, ip: InteractiveShell, stream: bool
) -> None:
    ip.user_ns["Verdict"] = Verdict
    error, outputs = run(ip, f"%%llama --save grader --schema Verdict --var answer=42 {'' if stream else '--no-stream'}\n{TEMPLATE}")
    assert error is None, error
    assert shell.prompts.get("grader").schema == Verdict.model_json_schema()
    assert isinstance(ip.user_ns["_llama"].output_parsed, Verdict)
    [shown] = parsed_shown(outputs)
    assert shown["application/json"] == {"a": 1} and shown["text/plain"] == '{\n  "a": 1\n}'
    error, outputs = run(ip, "%%llama -p grader --var answer=7 --no-stream\nGrade it.")  # the version's schema applies
    assert error is None, error
    assert [o["application/json"] for o in parsed_shown(outputs)] == [{"a": 1}]


def test_schema_with_p_applies_to_that_call_only(shell: lb.Client, ip: InteractiveShell) -> None:
    shell.prompts.save("grader", TEMPLATE)
    ip.user_ns["score"] = SCORE
    error, outputs = run(ip, "%%llama -p grader --schema score --var answer=42 --no-stream\nGrade it.")
    assert error is None, error
    assert ip.user_ns["_llama"].text["format"]["schema"] == SCORE and ip.user_ns["_llama"].output_parsed == {"a": 1}
    assert [o["application/json"] for o in parsed_shown(outputs)] == [{"a": 1}]
    assert [(p.version, p.schema) for p in shell.prompts.versions("grader")] == [(1, None)]  # nothing saved
    error, outputs = run(ip, "%%llama -p grader --var answer=42 --no-stream\nGrade it.")
    assert error is None and parsed_shown(outputs) == [] and ip.user_ns["_llama"].output_parsed is None


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "no-stream"])
def test_an_answer_the_schema_refuses_is_shown_bound_and_fails_the_cell(
    tmp_path: Path, ip: InteractiveShell, stream: bool
) -> None:
    with lb.Client(tmp_path / "home", engine=json_answer('{"a": "one"}')) as client:
        magics.set_client(client)
        ip.user_ns["score"] = SCORE
        try:
            error, outputs = run(ip, f"%%llama --schema score --var answer=1 {'' if stream else '--no-stream'}\n{TEMPLATE}")
        finally:
            magics.set_client(None)
            del ip.user_ns["score"]
        assert isinstance(error, UsageError) and "$.a" in str(error) and "_llama" in str(error)
        assert ip.user_ns["_llama"].output_text == '{"a": "one"}' and ip.user_ns["_llama"].output_parsed is None
        assert parsed_shown(outputs) == [] and any('{"a": "one"}' in o.get("text/plain", "") for o in outputs)


def test_schema_with_over_saves_it_and_gives_the_grid_its_columns(shell: lb.Client, ip: InteractiveShell) -> None:
    import pandas as pd

    ip.user_ns.update(Verdict=Verdict, answers=pd.DataFrame({"answer": ["1", "2"]}))
    error, _ = run(ip, f"%%llama --over answers --save grader --schema Verdict --no-progress -o graded\n{TEMPLATE}")
    assert error is None, error
    frame = ip.user_ns["graded"]
    assert list(frame["a"]) == [1, 1] and list(frame["valid"]) == [True, True]
    assert shell.prompts.get("grader").schema == Verdict.model_json_schema()


class NotAModel:
    """A class that is not a pydantic model."""


@pytest.mark.parametrize(
    ("setup", "says"),
    [
        ({}, "--schema Shape: no variable named Shape"),
        ({"Shape": 3}, "Shape is a int, not a pydantic model class or a JSON-schema dict"),
        ({"Shape": NotAModel}, "Shape is the class NotAModel"),
        ({"Shape": {"type": "nope"}}, "--schema Shape: Not a valid JSON Schema"),
        ({"Shape": Unserialisable}, "--schema Shape: .*Unserialisable"),
    ],
    ids=["missing", "an int", "another class", "invalid schema", "no schema from the model"],
)
def test_a_bad_schema_name_fails_the_cell_before_anything_is_stored(
    shell: lb.Client, ip: InteractiveShell, setup: dict[str, Any], says: str
) -> None:
    ip.user_ns.update(setup)
    error, _ = run(ip, f"%%llama --save grader --schema Shape --var answer=42\n{TEMPLATE}")
    assert isinstance(error, UsageError) and re.search(says, str(error)), error
    assert list(shell.prompts.list()) == [] and list(shell.responses.list()) == []


# ---- the real model ------------------------------------------------------------------------------------


def test_the_embedded_model_follows_a_versions_schema(client: lb.Client) -> None:
    class City(BaseModel):
        name: str
        country: str

    client.prompts.save("city", "Name one city in {{country}} as JSON.", schema=City)
    response = client.responses.create(prompt="city", variables={"country": "France"}, max_output_tokens=64)
    assert response.text["format"]["name"] == "City"
    assert isinstance(response.output_parsed, City), response.output_text
    assert response.output_parsed.name.strip() != ""
