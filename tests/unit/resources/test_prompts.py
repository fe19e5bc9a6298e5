"""Prompts on the embedded backend: versions, default pointer, errors."""

from __future__ import annotations

import json
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


# ---- names and references (no model needed: the scripted engine) --------------------------------


def test_references_are_parsed_by_one_rule() -> None:
    assert lb.PromptRef.parse("tutor") == lb.PromptRef("tutor")
    assert lb.PromptRef.parse("tutor@2") == lb.PromptRef("tutor", version=2)
    assert lb.PromptRef.parse("tutor@production") == lb.PromptRef("tutor", label="production")
    pid = "pmpt_" + "a" * 48
    assert lb.PromptRef.parse(f"{pid}@3").is_id and str(lb.PromptRef.parse(f"{pid}@3")) == f"{pid}@3"
    for bad, says in [("tutor@0", "from 1 up"), ("tutor@2x", "from 1 up"), ("two words", "can't name"),
                      ("tutor@", "after '@'"), ("../x", "can't name"), ("", "can't name")]:  # fmt: skip
        with pytest.raises(lb.InvalidRequest, match=says):
            lb.PromptRef.parse(bad)


def test_save_creates_reuses_and_versions_by_name_and_by_content(quick_client: lb.Client) -> None:
    prompts = quick_client.prompts
    unnamed = prompts.save(None, "Hi {{who}}")
    assert prompts.save(None, "Hi {{who}}") == unnamed  # keyed by content: the same prompt again
    assert prompts.find_or_create("Hi {{who}}", ["who"]) == unnamed  # the older name of that rule
    named = prompts.save("greeter", "Hi {{who}}")
    assert named.prompt_id != unnamed.prompt_id and named.name == "greeter"  # a name makes its own prompt
    v2 = prompts.save("greeter", "Hello {{who}}")
    assert (v2.prompt_id, v2.version) == (named.prompt_id, 2)
    assert prompts.save(named.prompt_id, "Hey {{who}}").version == 3  # an id works as well as the name
    with pytest.raises(lb.VersionConflict, match="the latest is 3"):
        prompts.save("greeter", "Yo {{who}}", base_version=2)  # an edit of v2 after v3 was stored
    with pytest.raises(lb.InvalidRequest, match="without '@'"):
        prompts.save("greeter@2", "x")
    with pytest.raises(lb.VersionNotFound, match="no label 'production'"):
        prompts.get("greeter@production")  # a label nobody set
    assert [(p.name, p.version) for p in prompts.list()] == [("greeter", 3), (None, 1)]
    assert list(prompts.list().to_pandas()["name"].fillna("-")) == ["greeter", "-"]


def test_a_name_of_a_deleted_prompt_goes_to_a_new_one(quick_client: lb.Client) -> None:
    old = quick_client.prompts.save("tutor", "Be {{tone}}.")
    quick_client.backend.delete_prompt(old.prompt_id)  # deleted behind the name's back
    new = quick_client.prompts.save("tutor", "Be {{tone}}.")
    assert new.prompt_id != old.prompt_id and quick_client.prompts.names() == {"tutor": new.prompt_id}


def test_names_live_in_the_home_per_backend_and_survive_a_new_client(tmp_path, scripted) -> None:  # type: ignore[no-untyped-def]
    with lb.Client(tmp_path / "home", engine=scripted) as client:
        saved = client.prompts.save("tutor", "Be {{tone}}.")
        client.backend.store.names("http://other:8321").set("tutor", "pmpt_" + "b" * 48)
    with lb.Client(tmp_path / "home", engine=scripted) as again:
        assert again.prompts.names() == {"tutor": saved.prompt_id}  # the server's table is its own
        assert again.prompts.get("tutor") == saved


def test_an_aliases_file_is_imported_once(tmp_path, scripted) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    with lb.Client(home, engine=scripted) as client:
        prompt = client.prompts.create("Be {{tone}}.", ["tone"])
    (home / "aliases.json").write_text(json.dumps({"local": {"tutor": prompt.prompt_id}, "http://s:1": {"x": "pmpt_y"}}))
    with lb.Client(home, engine=scripted) as client:
        assert client.prompts.names() == {"tutor": prompt.prompt_id}
        assert client.backend.store.names("http://s:1").all() == {"x": "pmpt_y"}
    assert not (home / "aliases.json").exists() and (home / "aliases.json.imported").exists()


def test_a_damaged_aliases_file_is_left_alone_with_a_warning(tmp_path, scripted, caplog) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    home.mkdir()
    (home / "aliases.json").write_text("{not json")
    with caplog.at_level("WARNING", logger="llamabook"), lb.Client(home, engine=scripted) as client:
        assert client.prompts.names() == {}
    assert (home / "aliases.json").read_text() == "{not json"
    assert "cannot read the prompt names" in caplog.text


def test_labels_point_at_versions_move_with_history_and_resolve_as_refs(quick_client: lb.Client) -> None:
    prompts = quick_client.prompts
    first = prompts.save("tutor", "Be {{tone}}.")
    prompts.save("tutor", "Be very {{tone}}.")
    prompts.save("tutor", "Be {{tone}}, briefly.")
    assert prompts.set_label("tutor@2", "production").version == 2  # the ref's version
    assert prompts.set_label("tutor", "staging").version == 3  # no version: the default
    assert prompts.get("tutor@production").prompt == "Be very {{tone}}."
    labelled = {v.version: v.labels for v in prompts.versions("tutor")}
    assert labelled == {1: [], 2: ["production"], 3: ["staging"]}
    assert list(prompts.versions("tutor").to_pandas()["labels"]) == [[], ["production"], ["staging"]]
    prompts.set_label("tutor", "production", version=3)  # promote: the move is recorded
    prompts.set_label("tutor", "production", version=3)  # no move: not recorded again
    prompts.remove_label("tutor", "staging")
    moves = [(m.label, m.from_version, m.to_version) for m in prompts.label_history("tutor")]
    assert moves == [("production", None, 2), ("staging", None, 3), ("production", 2, 3), ("staging", 3, None)]
    history = prompts.label_history("tutor").to_pandas()
    assert list(history.columns) == ["prompt_id", "label", "from_version", "to_version", "moved_at", "evidence"]
    assert str(history["moved_at"].dtype) == "datetime64[s, UTC]" and history["from_version"].isna().sum() == 2
    assert history["evidence"].isna().all()  # moves without a gate carry none
    response = quick_client.responses.create(prompt="tutor@production", variables={"tone": "kind"})
    assert (response.prompt.id, response.prompt.version) == (first.prompt_id, "3")
    grid = quick_client.grid("tutor@production", [{"tone": "kind"}], progress=False)
    assert list(grid["version"]) == [3]
    assert prompts.get("tutor").version == 3 and quick_client.backend.get_prompt(first.prompt_id).version == 3


def test_a_missing_version_is_named_as_the_user_wrote_the_prompt(quick_client: lb.Client) -> None:
    prompts = quick_client.prompts
    pid = prompts.save("tutor", "Be {{tone}}.").prompt_id
    for call in (
        lambda: prompts.get("tutor@9"),
        lambda: prompts.set_label("tutor", "production", version=9),
        lambda: prompts.set_default_version("tutor", 9),
    ):
        with pytest.raises(lb.VersionNotFound) as missing:
            call()
        assert str(missing.value) == "Prompt tutor has no version 9; see client.prompts.versions('tutor')"
    with pytest.raises(lb.VersionNotFound) as by_id:
        prompts.get(f"{pid}@9")
    assert str(by_id.value) == f"Prompt {pid} has no version 9; see client.prompts.versions({pid!r})"


def test_bad_labels_are_refused_before_anything_moves(quick_client: lb.Client) -> None:
    prompts = quick_client.prompts
    prompts.save("tutor", "Be {{tone}}.")
    with pytest.raises(lb.VersionNotFound, match="no version 9"):
        prompts.set_label("tutor", "production", version=9)
    for bad in ("2nd", "pro duction", "", "x" * 65):
        with pytest.raises(lb.InvalidRequest, match="can't be a label"):
            prompts.set_label("tutor", bad)
    with pytest.raises(lb.VersionNotFound, match="no label 'production'"):
        prompts.remove_label("tutor", "production")
    assert list(prompts.label_history("tutor")) == []
