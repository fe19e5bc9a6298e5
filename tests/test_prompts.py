"""Prompts on the embedded backend: versions, default pointer, errors."""

from __future__ import annotations

import re

import pytest

import llamabook as lb

TEMPLATE = "Hello {{name}}! You work at {{ company }}."


def test_create_retrieve_and_id_format(client: lb.Client) -> None:
    p = client.prompts.create(TEMPLATE, variables=["name", "company"])
    assert re.fullmatch(r"pmpt_[0-9a-f]{48}", p.prompt_id)
    assert (p.version, p.variables, p.is_default) == (1, ["name", "company"], True)
    again = client.prompts.retrieve(p.prompt_id)
    assert again == p


def test_undeclared_placeholder_is_rejected_and_nothing_is_stored(client: lb.Client) -> None:
    with pytest.raises(lb.UndeclaredVariables, match="company"):
        client.prompts.create(TEMPLATE, variables=["name"])
    with pytest.raises(lb.UndeclaredVariables):
        client.prompts.create("{{x}}")  # omitted variables means [] as on the server
    assert client.prompts.list() == []


def test_update_versions_and_default_pointer(client: lb.Client) -> None:
    p = client.prompts.create(TEMPLATE, variables=["name", "company"])
    p2 = client.prompts.update(p.prompt_id, prompt="Hi {{name}}", version=1, variables=["name"])
    assert (p2.version, p2.variables, p2.is_default) == (2, ["name"], True)
    p3 = client.prompts.update(p.prompt_id, prompt="Yo {{name}}", version=2, variables=["name"], set_as_default=False)
    assert (p3.version, p3.is_default) == (3, False)
    assert client.prompts.retrieve(p.prompt_id).version == 2
    versions = client.prompts.versions(p.prompt_id)
    assert [(v.version, v.is_default) for v in versions] == [(1, False), (2, True), (3, False)]
    assert versions[0].prompt == TEMPLATE  # old versions are immutable

    chosen = client.prompts.set_default_version(p.prompt_id, 1)
    assert (chosen.version, chosen.is_default) == (1, True)
    assert client.prompts.retrieve(p.prompt_id).prompt == TEMPLATE
    listed = client.prompts.list()
    assert [(x.prompt_id, x.version) for x in listed] == [(p.prompt_id, 1)]


def test_update_must_name_the_latest_version(client: lb.Client) -> None:
    p = client.prompts.create("A {{x}}", variables=["x"])
    client.prompts.update(p.prompt_id, prompt="B {{x}}", version=1, variables=["x"])
    client.prompts.set_default_version(p.prompt_id, 1)
    with pytest.raises(lb.VersionConflict) as caught:
        client.prompts.update(p.prompt_id, prompt="C {{x}}", version=1, variables=["x"])
    assert (caught.value.given, caught.value.latest) == (1, 2)
    assert "version=2" in str(caught.value)
    assert len(client.prompts.versions(p.prompt_id)) == 2


def test_missing_prompt_and_version_errors(client: lb.Client) -> None:
    missing = "pmpt_" + "0" * 48
    for call in (
        lambda: client.prompts.retrieve(missing),
        lambda: client.prompts.versions(missing),
        lambda: client.prompts.delete(missing),
        lambda: client.prompts.set_default_version(missing, 1),
        lambda: client.prompts.update(missing, prompt="x", version=1),
    ):
        with pytest.raises(lb.PromptNotFound):
            call()
    p = client.prompts.create("x")
    with pytest.raises(lb.VersionNotFound, match="no version 9"):
        client.prompts.retrieve(p.prompt_id, 9)
    with pytest.raises(lb.VersionNotFound):
        client.prompts.set_default_version(p.prompt_id, 9)
    assert client.prompts.retrieve(p.prompt_id).is_default


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"prompt": "x", "variables": "name"}, "list of names"),
        ({"prompt": "x", "variables": ["a b"]}, "letters, digits"),
        ({"prompt": "x", "variables": ["a", "a"]}, "twice"),
        ({"prompt": 42}, "template text"),
    ],
)
def test_bad_create_arguments_are_typed(client: lb.Client, kwargs: dict, fragment: str) -> None:
    with pytest.raises(lb.InvalidRequest, match=fragment):
        client.prompts.create(**kwargs)


def test_delete_removes_every_version(client: lb.Client) -> None:
    p = client.prompts.create("A")
    client.prompts.update(p.prompt_id, prompt="B", version=1)
    keep = client.prompts.create("keep")
    client.prompts.delete(p.prompt_id)
    assert [x.prompt_id for x in client.prompts.list()] == [keep.prompt_id]
    with pytest.raises(lb.PromptNotFound):
        client.prompts.versions(p.prompt_id)


def test_prompts_survive_a_new_client(client: lb.Client, engine) -> None:
    p = client.prompts.create("persist {{x}}", variables=["x"])
    with lb.Client(client.backend.home, engine=engine) as other:
        assert other.prompts.retrieve(p.prompt_id).prompt == "persist {{x}}"
