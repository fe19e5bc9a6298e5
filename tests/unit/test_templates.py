"""The server's placeholder rule, the strict check and one-pass rendering."""

from __future__ import annotations

import pytest

import llamabook as lb
from llamabook.rendering import build_messages, render_prompt
from llamabook.templates import check_declared, check_supplied, placeholders, render
from llamabook.types import InputFile, InputImage, InputText


def test_placeholders_follow_the_server_regex() -> None:
    template = "{{a}} {{ b }} {{\tc\n}} {{ 9z }} {{ x.y }} {{x-y}} {% if a %} {a} $a {{a}}"
    assert placeholders(template) == ["a", "b", "c", "9z"]


def test_render_leaves_unknown_names_and_never_rescans_values() -> None:
    out = render("Hi {{name}}, {{missing}} {% raw %}", {"name": "{{missing}} and {{name}}"})
    assert out == "Hi {{missing}} and {{name}}, {{missing}} {% raw %}"


def test_render_never_evaluates_code() -> None:
    evil = "{{ __import__('os').system('echo pwned') }}"
    assert placeholders(evil) == []
    assert render(evil, {"__import__": "x"}) == evil


def test_undeclared_variables_name_the_culprits() -> None:
    with pytest.raises(lb.UndeclaredVariables) as caught:
        check_declared("{{a}} {{b}} {{c}}", ["a"])
    assert caught.value.names == ["b", "c"]
    assert "variables=" in str(caught.value)


def test_strict_check_names_missing_and_unknown() -> None:
    with pytest.raises(lb.MissingVariables, match="'role'") as missing:
        check_supplied(["name", "role"], ["name"], prompt_id="pmpt_x")
    assert missing.value.names == ["role"]
    with pytest.raises(lb.UnknownVariables, match="'nope'"):
        check_supplied(["name"], ["name", "nope"])
    # server behaviour: missing is fine, unknown is still an error
    check_supplied(["name", "role"], ["name"], strict=False)
    with pytest.raises(lb.UnknownVariables):
        check_supplied(["name"], ["nope"], strict=False)


def test_media_placeholders_and_message_order_match_the_server() -> None:
    rendered = render_prompt(
        "You are a tester at {{co}}. Photo: {{photo}} Doc: {{doc}} Unset: {{unset}}",
        {
            "co": InputText(text="ACME"),
            "photo": InputImage(file_id="file-" + "a" * 32),
            "doc": InputFile(file_id="file-" + "b" * 32, filename="tiny.pdf"),
        },
    )
    assert rendered.text == "You are a tester at ACME. Photo: [Image: photo] Doc: [File: doc] Unset: {{unset}}"
    messages = build_messages("Hello there", "INSTRUCTIONS-TEXT", rendered)
    assert [m["role"] for m in messages] == ["system", "system", "user", "user"]
    assert messages[0]["content"] == rendered.text
    assert messages[1]["content"] == "INSTRUCTIONS-TEXT"
    assert messages[2]["content"] == "Hello there"
    assert [p["type"] for p in messages[3]["content"]] == ["input_image", "input_file"]


def test_no_variables_inserts_the_raw_template() -> None:
    assert render_prompt("Hello {{name}}", {}).text == "Hello {{name}}"
    assert render_prompt("Hello {{name}}", None).text == "Hello {{name}}"
