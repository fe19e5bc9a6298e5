"""Version diffs of prompts: the diff object, refs through the client, the inert HTML view,
``%llama diff`` in IPython's test shell and the PromptEditor's diff of its unsaved text.

Everything runs on the scripted engine (``quick_client``): no model is needed to compare templates.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import llamabook as lb
from llamabook import magics
from llamabook.diffs import PromptDiff, diff_draft, diff_prompts, diff_texts, tokens
from llamabook.widgets import PromptEditor
from support.htmlcheck import active_parts, tags, text
from support.scripted_engine import ScriptedEngine

V1 = "You are a {{tone}} tutor.\nBe brief."
V2 = "You are a {{tone}} teacher.\nBe brief, {{name}}."
HOSTILE = 'Hi <b>{{x}}</b> <script>alert(1)</script> <img src=x onerror="alert(2)">'


def prompt(template: str, version: int = 1, variables: list[str] | None = None) -> lb.Prompt:
    from llamabook.templates import placeholders

    names = placeholders(template) if variables is None else variables
    return lb.Prompt(prompt_id="pmpt_" + "a" * 48, prompt=template, version=version, variables=names)


def old_and_new(segments: list[tuple[str, str]]) -> tuple[str, str]:
    """The two texts the pieces describe: equal+delete, and equal+insert."""
    old = "".join(t for op, t in segments if op in ("equal", "delete"))
    new = "".join(t for op, t in segments if op in ("equal", "insert"))
    return old, new


# ---- the diff object ------------------------------------------------------------------------------


def test_tokens_keep_every_character_and_placeholders_whole() -> None:
    template = "Be {{ tone }},\tvery  kind.\r\n\nBye"
    assert "".join(tokens(template)) == template
    assert "{{ tone }}" in tokens(template) and "\n" in tokens(template) and "  " in tokens(template)


def test_segments_are_word_level_and_give_back_both_texts() -> None:
    segments = diff_texts(V1, V2)
    assert segments == [
        ("equal", "You are a {{tone}} "),
        ("delete", "tutor"),
        ("insert", "teacher"),
        ("equal", ".\nBe brief"),
        ("insert", ", {{name}}"),
        ("equal", "."),
    ]
    assert old_and_new(segments) == (V1, V2)
    for old, new in [("", "new text"), ("old text", ""), ("same", "same"), ("a b a b a", "b a b a b"), ("x\n\ny", "x\ny\n")]:
        pieces = diff_texts(old, new)
        assert old_and_new(pieces) == (old, new)
        assert all(text for _, text in pieces) and all(a[0] != b[0] for a, b in zip(pieces, pieces[1:]))
    assert diff_texts("same", "same") == [("equal", "same")]


def test_unified_diff_variables_and_changed() -> None:
    diff = diff_prompts(prompt(V1), prompt(V2, 2), a_label="tutor@1", b_label="tutor@2")
    assert diff.unified == (
        "--- tutor@1\n+++ tutor@2\n@@ -1,2 +1,2 @@\n"
        "-You are a {{tone}} tutor.\n-Be brief.\n+You are a {{tone}} teacher.\n+Be brief, {{name}}."
    )
    assert (diff.added_variables, diff.removed_variables, diff.changed) == (["name"], [], True)
    assert diff.segments() == diff_texts(V1, V2)
    back = diff_prompts(prompt(V2, 2), prompt(V1))
    assert (back.added_variables, back.removed_variables) == ([], ["name"])
    assert (back.a_label, back.b_label) == ("pmpt_" + "a" * 48 + "@2", "pmpt_" + "a" * 48 + "@1")  # no name: the ids


def test_the_same_version_has_no_changes_and_declared_variables_count() -> None:
    same = diff_prompts(prompt(V1), prompt(V1))
    assert (same.changed, same.unified, same.added_variables, same.removed_variables) == (False, "", [], [])
    assert same.segments() == [("equal", V1)]
    # The text is the same but a declared variable is not: that is a change, with no text diff.
    declared = diff_prompts(prompt(V1), prompt(V1, 2, ["tone", "extra"]))
    assert (declared.changed, declared.unified, declared.added_variables) == (True, "", ["extra"])


def test_the_diff_keeps_the_prompts_as_they_were() -> None:
    a, b = prompt(V1), prompt(V2, 2)
    diff = diff_prompts(a, b)
    b.prompt, b.variables = "something else", []
    assert diff.b.template == V2 and diff.added_variables == ["name"]
    with pytest.raises(AttributeError):
        diff.a_label = "x"  # type: ignore[misc]  # frozen


def test_a_draft_declares_its_placeholders_as_save_does() -> None:
    shown = prompt(V1, 3, ["tone", "extra"])
    draft = diff_draft(shown, "Be {{tone}} with {{name}}.")
    assert (draft.a_label, draft.b_label) == ("pmpt_" + "a" * 48 + "@3", "unsaved")
    assert (draft.added_variables, draft.removed_variables) == (["name"], ["extra"])


# ---- references through the client ---------------------------------------------------------------


def test_refs_resolve_through_the_client(quick_client: lb.Client) -> None:
    client = quick_client
    first = client.prompts.save("tutor", V1)
    client.prompts.save("tutor", V2)
    diff = client.prompts.diff("tutor@1", "tutor@2")
    assert isinstance(diff, PromptDiff)
    assert (diff.a.version, diff.b.version, diff.a_label, diff.b_label) == (1, 2, "tutor@1", "tutor@2")
    assert diff.unified.startswith("--- tutor@1\n+++ tutor@2\n") and diff.added_variables == ["name"]
    # A name alone is its default version; a Prompt and an id work too, labelled by name.
    by_default = client.prompts.diff(first, "tutor")
    assert (by_default.a_label, by_default.b_label, by_default.b.version) == ("tutor@1", "tutor@2", 2)
    by_id = client.prompts.diff(f"{first.prompt_id}@2", f"{first.prompt_id}@1")
    assert by_id.removed_variables == ["name"] and by_id.a_label == f"{first.prompt_id}@2"
    assert client.prompts.diff("tutor@2", "tutor@2").changed is False
    with pytest.raises(lb.PromptNotFound):
        client.prompts.diff("tutor@1", "nosuch")
    with pytest.raises(lb.VersionNotFound):
        client.prompts.diff("tutor@1", "tutor@9")


def test_labels_resolve_like_any_other_ref(quick_client: lb.Client) -> None:
    client = quick_client
    if not hasattr(client.prompts, "set_label"):
        pytest.skip("prompt labels are not in this tree yet")
    client.prompts.save("tutor", V1)
    client.prompts.save("tutor", V2)
    client.prompts.set_label("tutor", "production", 1)
    diff = client.prompts.diff("tutor@production", "tutor")
    assert (diff.a.version, diff.a_label, diff.b_label) == (1, "tutor@production", "tutor@2")


def test_the_async_twin_returns_the_same_diff(tmp_path: Path) -> None:
    async def main() -> PromptDiff:
        async with lb.AsyncClient(tmp_path / "home", engine=ScriptedEngine()) as client:
            await client.prompts.save("tutor", V1)
            await client.prompts.save("tutor", V2)
            return await client.prompts.diff("tutor@1", "tutor@2")

    diff = asyncio.run(main())
    assert (diff.a_label, diff.b_label, diff.added_variables) == ("tutor@1", "tutor@2", ["name"])


# ---- the views --------------------------------------------------------------------------------------


def test_the_html_marks_changes_inline_and_the_text_view_is_the_unified_diff() -> None:
    diff = diff_prompts(prompt(V1), prompt(V2, 2), a_label="tutor@1", b_label="tutor@2")
    html = diff._repr_html_()
    assert html is not None and 'class="llamabook-prompt-diff"' in html
    assert "<del" in html and ">tutor</del>" in html and ">teacher</ins>" in html and ">, {{name}}</ins>" in html
    assert "tutor@1" in html and "tutor@2" in html and "variables added" in html and "name</code>" in html
    bundle = diff._repr_mimebundle_()
    assert bundle["text/plain"] == "Diff tutor@1 → tutor@2 · variables added: name\n" + diff.unified
    assert bundle["text/html"] == html
    unchanged = diff_prompts(prompt(V1), prompt(V1))._repr_mimebundle_()
    assert unchanged["text/plain"].endswith("no changes") and "no changes" in unchanged["text/html"]


def test_the_html_of_a_hostile_template_is_inert() -> None:
    diff = diff_prompts(prompt("Hi {{x}}."), prompt(HOSTILE, 2))
    html = diff._repr_html_()
    assert html is not None
    assert "&lt;b&gt;" in html and "&lt;script&gt;" in html
    assert "<script" not in html.lower() and "<b>" not in html and "<img" not in html
    assert active_parts(html) == []
    assert {tag for tag, _ in tags(html)} <= {"div", "code", "pre", "ins", "del"}
    shown = text(html)  # what a reader sees: the template's own markup, as text
    assert "<b>" in shown and "<script>alert(1)</script>" in shown and 'onerror="alert(2)"' in shown


# ---- %llama diff ------------------------------------------------------------------------------------


def test_the_line_magic_shows_the_diff(ip: InteractiveShell, quick: lb.Client) -> None:
    quick.prompts.save("tutor", V1)
    quick.prompts.save("tutor", HOSTILE)
    with capture_output() as captured:
        result = ip.run_cell("%llama diff tutor@1 tutor@2")
    assert result.error_in_exec is None, result.error_in_exec
    [shown] = captured.outputs
    assert shown.data["text/plain"] == quick.prompts.diff("tutor@1", "tutor@2")._repr_mimebundle_()["text/plain"]
    assert shown.data["text/plain"].startswith("Diff tutor@1 → tutor@2 · variables added: x · variables removed: tone")
    html = shown.data["text/html"]
    assert "<del" in html and "<ins" in html and "&lt;script&gt;" in html and active_parts(html) == []
    assert "diff REF REF" in magics.LINE_USAGE and "diff" in magics.SUBCOMMANDS


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("%llama diff tutor@1", "takes two prompt references"),
        ("%llama diff a b c", "takes two prompt references"),
        ("%llama diff tutor@1 nosuch", "No prompt named 'nosuch'"),
    ],
)
def test_the_line_magic_says_what_to_fix(ip: InteractiveShell, quick: lb.Client, line: str, message: str) -> None:
    quick.prompts.save("tutor", V1)
    with capture_output():
        result = ip.run_cell(line)
    assert isinstance(result.error_in_exec, UsageError) and message in str(result.error_in_exec)


# ---- the PromptEditor -----------------------------------------------------------------------------


def test_the_editor_shows_the_unsaved_diff_and_clears_it(quick_client: lb.Client) -> None:
    client = quick_client
    client.prompts.save("tutor", V1)
    client.prompts.save("tutor", V2)
    editor = PromptEditor(client, "tutor@1")
    assert "llamabook-diff" in editor.diff._dom_classes and editor.diff in editor.children
    assert (editor.diff.value, editor.diff.layout.display) == ("", "none")  # the text is version 1's

    editor.template.value = V1.replace("tutor", "<b>coach</b>") + " {{level}}"  # typed: shown at once
    html = editor.diff.value
    assert editor.diff.layout.display == ""
    assert ">tutor</del>" in html and "&lt;b&gt;coach&lt;/b&gt;</ins>" in html and active_parts(html) == []
    assert "<code>tutor@1</code> → <code>unsaved</code>" in html  # the version shown, by its name
    assert "variables added" in html and "level</code>" in html

    editor.template.value = V1  # typed back to the version shown: nothing to show
    assert editor.diff.value == ""

    editor.template.value = V1 + " Again."
    assert "Again.</ins>" in editor.diff.value
    editor.versions.value = 2  # another version shown: its text, no diff
    assert (editor.template.value, editor.diff.value) == (V2, "")

    editor.template.value = V2 + " More."
    assert "More.</ins>" in editor.diff.value
    editor.save_button.click()
    assert editor.error.value == "" and editor.prompt.version == 3
    assert (editor.diff.value, editor.diff.layout.display) == ("", "none")

    editor.template.value = "Something new."
    assert editor.diff.value != ""
    editor.load("tutor@1")
    assert (editor.template.value, editor.diff.value) == (V1, "")


def test_a_new_editor_has_no_version_to_compare(quick_client: lb.Client) -> None:
    editor = PromptEditor(quick_client)
    editor.template.value = "Summarise {{doc}}."
    assert editor.diff.value == ""  # nothing stored yet
    editor.save_button.click()
    assert editor.prompt is not None and editor.diff.value == ""
    editor.template.value = "Summarise {{doc}} briefly."
    assert " briefly</ins>" in editor.diff.value
