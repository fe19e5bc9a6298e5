"""PromptEditor rough edges users reported: the text-only-model hint, a stale answer under a new error,
the upload button's "(0)", a stale status after a version switch, and a double-spaced answer.

The answer's spacing as JupyterLab draws it is measured in a real browser:
tests/browser/test_prompt_editor_layout.py. These tests check the widgets the kernel sends: runs on the
scripted engine (``quick_client``, ``scripted``), except the streamed answer's layout, on the real model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from htmlcheck import tags, text
from scripted_engine import MODEL_ID, ScriptedEngine
from test_widgets import QUESTION, TIMEOUT, classes, file_item, upload_value

import llamabook as lb
from llamabook import views
from llamabook.views import safe_markdown_html
from llamabook.widgets import PromptEditor

UPLOAD_TIP = "Upload an image or a PDF"  # not None: ipywidgets would title the button "null"


def test_an_image_for_a_text_only_model_names_the_checkbox_to_tick(
    quick_client: lb.Client, scripted: ScriptedEngine, data: Path
) -> None:
    client = quick_client  # its model is text-only, as the embedded one
    editor = PromptEditor(client, max_output_tokens=8)
    editor.template.value = "Describe {{photo}} in a few words."
    photo = editor.fields["photo"]
    photo.kind.value = "file"
    photo.upload.value = upload_value(data / "phone.png")
    editor.run_button.click()
    message, label = editor.error.message, editor.describe_images.description
    assert message.startswith("UnsupportedInput:") and "text-only" in message and "'photo'" in message
    assert client.models.default() == MODEL_ID and f"'{MODEL_ID}'" in message
    assert f"Tick '{label}'" in message and f"Tick '{label}'" in text(editor.error.value)
    assert "describe_images=True" not in message  # the API's wording, not the panel's
    assert client.responses.list() == [] and not editor.running and scripted.calls == []

    editor.describe_images.value = True  # what the message says to do
    editor.run_button.click()
    assert editor.wait(TIMEOUT) and editor.error.message == ""
    seen = str(client.responses.retrieve(editor.response.id).rendered_messages)
    assert "[Image photo: phone.png" in seen
    (call,) = scripted.calls  # the engine got the placeholder and the description, no image part
    assert call.system == ["Describe [Image: photo] in a few words."]
    assert call.user.startswith("[Image photo: phone.png")


def test_a_new_run_and_a_failed_one_clear_the_last_answer_footer_and_details(quick_client: lb.Client) -> None:
    client = quick_client
    editor = PromptEditor(client, input=QUESTION, max_output_tokens=16)
    editor.template.value = "You are a geography tutor for {{name}}."
    name = editor.fields["name"]
    name.text.value = "Ada"
    editor.run_button.click()
    assert editor.wait(TIMEOUT)
    first = editor.response
    assert first is not None and editor.output.value and editor.footer.value == views.summary_line(first)
    assert first.output_text == f"[system: You are a geography tutor for Ada.] echo: {QUESTION}"
    assert safe_markdown_html(first.output_text) in editor.output.value
    assert editor.details_box.layout.display == "" and editor.details.response == first

    display: list[str] = []
    footers: list[str] = []
    editor.details_box.layout.observe(lambda change: display.append(change["new"]), "display")
    editor.footer.observe(lambda change: footers.append(change["new"]), "value")
    editor.run_button.click()
    assert editor.wait(TIMEOUT)
    assert display == ["none", ""]  # hidden while this run ran, shown again with its own response
    second = editor.response
    assert second is not None and second.id != first.id
    assert footers == ["", views.summary_line(second)]  # the last footer emptied, then this run's
    assert editor.details.response == second

    name.text.value = ""  # this run fails before it starts
    editor.run_button.click()
    assert editor.error.message.startswith("MissingVariables: no value for 'name'")
    assert editor.output.value == editor.footer.value == editor.status.value == ""
    assert editor.details_box.layout.display == "none" and editor.response is None
    assert len(client.responses.list()) == 2


def test_the_upload_button_says_a_file_is_picked(client: lb.Client, data: Path) -> None:
    """ipywidgets writes the button as "<description> (<files its value holds>)"; the panel empties that value
    after storing an upload (ready for the next one), so the count reads 0 and the description must say more."""
    editor = PromptEditor(client)
    editor.template.value = "Describe {{photo}}."
    photo = editor.fields["photo"]
    photo.kind.value = "file"
    assert (photo.upload.description, photo.upload.tooltip) == ("Upload", UPLOAD_TIP)

    photo.upload.value = upload_value(data / "phone.png")
    (stored,) = client.files.list()
    assert photo.upload.value == () and photo.file.value == stored.id
    assert photo.upload.description == "Replace"
    assert photo.upload.tooltip == "phone.png is picked; upload another file to use it instead"
    assert "phone.png · 139 B" in text(photo.preview.value)

    photo.upload.value = file_item("notes.txt", b"hello")  # refused: the picked file stays picked
    assert "upload an image" in editor.error.message and photo.file.value == stored.id
    assert photo.upload.description == "Replace"

    photo.file.value = None
    assert (photo.upload.description, photo.upload.tooltip, photo.preview.value) == ("Upload", UPLOAD_TIP, "")


def test_switching_the_version_says_which_version_is_shown(client: lb.Client) -> None:
    editor = PromptEditor(client)
    editor.template.value = "Hello {{name}}"
    editor.save_button.click()
    editor.template.value = "Hello {{name}} from {{place}}"
    editor.save_button.click()
    assert editor.status.value == "saved version 2"

    editor.versions.value = 1
    assert editor.template.value == "Hello {{name}}" and editor.status.value == "showing version 1"
    editor.set_default_button.click()
    assert editor.status.value == "version 1 is the default"
    editor.versions.value = 2
    assert editor.status.value == "showing version 2"
    editor.versions.value = 1
    assert editor.status.value == "showing version 1 (the default)"
    assert PromptEditor(client, editor.prompt.prompt_id).status.value == "showing version 1 (the default)"


@pytest.mark.model
def test_the_answer_has_its_own_line_height_while_streaming_and_after(client: lb.Client) -> None:
    """An HTML widget's content has ipywidgets' one-control line height (28 px in JupyterLab): the answer sets its own."""
    editor = PromptEditor(client, input=QUESTION, max_output_tokens=24)
    editor.template.value = "You are a geography tutor for {{name}}."
    editor.fields["name"].text.value = "Ada"
    updates: list[str] = []
    editor.output.observe(lambda change: updates.append(change["new"]), "value")
    editor.run_button.click()
    assert editor.wait(TIMEOUT) and editor.response is not None
    assert "llamabook-output" in classes(editor.output)

    shown = [value for value in updates if value]
    assert len(shown) >= 2, "no update while streaming"
    for value in shown:
        (tag, attrs), *_ = tags(value)
        assert (tag, attrs.get("class")) == ("div", "llamabook-answer"), value
        assert "line-height:1.5" in attrs["style"], value
    assert safe_markdown_html(editor.response.output_text) in editor.output.value
