"""PromptEditor at the Python level: set widget values, click, check the widgets and the store.

Runs that only check the panel's mechanics use the scripted engine (``quick_client``, ``scripted``: its answer
echoes what it was sent); runs end to end use the real embedded model (``client``). Also the rough edges
users reported: the text-only-model hint, a stale answer under a new error, the upload button's "(0)", a stale
status after a version switch, and a double-spaced answer (as JupyterLab draws it, measured in a real
browser: tests/browser/test_prompt_editor_layout.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import llamabook as lb
from llamabook import views
from llamabook.engines.embedded import EmbeddedEngine
from llamabook.views import safe_markdown_html
from llamabook.widgets import PromptEditor
from llamabook.widgets.prompt_editor import CURSOR
from support.htmlcheck import tags, text
from support.scripted_engine import MODEL_ID, ScriptedEngine
from support.widgets import classes, file_item, upload_value

QUESTION = "What is the capital of Ireland?"
TIMEOUT = 120
UPLOAD_TIP = "Upload an image or a PDF"  # not None: ipywidgets would title the button "null"


def row_names(editor: PromptEditor) -> list[str]:
    """The variable rows shown, by their ``llamabook-var-<name>`` class."""
    names = []
    for box in editor.variables.children:
        assert "llamabook-var" in classes(box)
        names += [c.removeprefix("llamabook-var-") for c in classes(box) if c != "llamabook-var"]
    return names


# ---- PromptEditor -----------------------------------------------------------------------------------


def test_fields_appear_and_disappear_as_the_template_is_typed(client: lb.Client) -> None:
    editor = PromptEditor(client)
    assert "llamabook-prompt-editor" in classes(editor)
    assert "llamabook-template" in classes(editor.template)
    assert "llamabook-variables" in classes(editor.variables)
    for typed, expected in [
        ("Hi {{na", []),
        ("Hi {{name}}", ["name"]),
        ("Hi {{name}} at {{ company }}, {{name}} again", ["name", "company"]),
        ("Hi {{name}} at {{ company }} {% if x %} {{ a.b }} {{a-b}} {{ 9z }}", ["name", "company", "9z"]),
        ("Hi {{name}}", ["name"]),
    ]:
        editor.template.value = typed
        assert row_names(editor) == expected, typed

    editor.template.value = "Hi {{name}} at {{company}}"
    company = editor.fields["company"]
    assert "llamabook-var-text" in classes(company.text)
    assert "llamabook-var-kind" in classes(company.kind) and company.kind.options == ("text", "file")
    assert "llamabook-var-upload" in classes(company.upload) and "image/*" in company.upload.accept
    company.text.value = "ACME"
    editor.template.value = "Hi {{name}}"
    assert row_names(editor) == ["name"]
    editor.template.value = "Hi {{name}} at {{company}}"
    assert editor.fields["company"] is company and company.text.value == "ACME"  # kept while hidden

    assert company.upload.layout.display == "none" and company.text.layout.display != "none"
    company.kind.value = "file"
    assert company.text.layout.display == "none" and company.upload.layout.display != "none"
    assert client.prompts.list() == []  # typing stores nothing
    assert editor.error.value == ""


def test_save_makes_a_prompt_then_versions_and_sets_the_default(client: lb.Client) -> None:
    editor = PromptEditor(client)
    assert "llamabook-model" in classes(editor.model)
    assert editor.model.value == client.models.default()
    editor.template.value = "Hello {{name}}"
    editor.save_button.click()
    (stored,) = client.prompts.list()
    assert (stored.prompt, stored.variables, stored.version) == ("Hello {{name}}", ["name"], 1)
    assert editor.prompt == stored and editor.status.value == "saved version 1"
    assert editor.heading.value == stored.prompt_id

    editor.save_button.click()  # unchanged: no new version
    assert len(client.prompts.versions(stored.prompt_id)) == 1
    assert editor.status.value == "unchanged (version 1)"

    editor.template.value = "Hello {{name}} from {{place}}"
    assert "edited" in editor.heading.value
    editor.save_button.click()
    versions = client.prompts.versions(stored.prompt_id)
    assert [(v.version, v.is_default, v.variables) for v in versions] == [
        (1, False, ["name"]),
        (2, True, ["name", "place"]),
    ]
    assert editor.versions.options == (("v1", 1), ("v2 · default", 2))

    editor.versions.value = 1
    assert editor.template.value == "Hello {{name}}" and row_names(editor) == ["name"]
    editor.set_default_button.click()
    assert client.prompts.retrieve(stored.prompt_id).version == 1
    assert editor.versions.options == (("v1 · default", 1), ("v2", 2))

    opened = PromptEditor(client, f"{stored.prompt_id}@2")
    assert opened.template.value == "Hello {{name}} from {{place}}" and opened.versions.value == 2
    missing = PromptEditor(client, "pmpt_" + "0" * 48)  # shown in the panel, not raised
    assert "PromptNotFound" in missing.error.message and "llamabook-error" in classes(missing.error)


def test_problems_are_shown_in_the_panel_and_nothing_is_stored(client: lb.Client, data: Path) -> None:
    editor = PromptEditor(client)
    editor.run_button.click()
    assert "Write a template first" in editor.error.message

    editor.template.value = "Look at {{photo}} for {{name}}."
    editor.run_button.click()
    assert editor.error.message.startswith("MissingVariables: no value for 'photo', 'name'")
    assert "MissingVariables" in text(editor.error.value)
    assert client.prompts.list() == [] and client.responses.list() == []

    photo = editor.fields["photo"]
    photo.kind.value = "file"
    photo.upload.value = upload_value(data / "phone.png")
    (uploaded,) = client.files.list()
    assert uploaded.filename == "phone.png" and photo.file.value == uploaded.id
    assert photo.upload.value == ()  # ready for the next one
    assert ("phone.png · 139 B", uploaded.id) in photo.file.options
    assert any(
        tag == "img" and attrs["src"].startswith("data:image/png;base64,") for tag, attrs in tags(photo.preview.value)
    )
    assert "phone.png · 139 B" in text(photo.preview.value)

    photo.upload.value = file_item("notes.txt", b"hello")
    assert "upload an image (PNG, JPEG, GIF, WebP) or a PDF" in editor.error.message
    assert len(client.files.list()) == 1

    editor.fields["name"].text.value = "Ada"
    editor.run_button.click()  # an image for the text-only embedded model
    assert editor.error.message.startswith("UnsupportedInput:") and "text-only" in editor.error.message
    assert client.responses.list() == [] and not editor.running


def test_a_file_over_the_limit_is_reported_in_the_panel(tmp_path: Path, engine: EmbeddedEngine, data: Path) -> None:
    with lb.Client(tmp_path / "home", engine=engine, max_file_bytes=100) as small:
        editor = PromptEditor(small)
        editor.template.value = "Describe {{photo}}"
        field = editor.fields["photo"]
        field.kind.value = "file"
        field.upload.value = upload_value(data / "phone.png")
        assert editor.error.message.startswith("FileTooLarge:") and "139 bytes" in editor.error.message
        assert small.files.list() == [] and field.file.value is None


@pytest.mark.model
def test_run_streams_throttled_into_the_panel_and_stores_the_response(client: lb.Client) -> None:
    editor = PromptEditor(client, input=QUESTION, max_output_tokens=24)
    editor.template.value = "You are a geography tutor for {{name}}. Answer in one sentence."
    editor.fields["name"].text.value = "Ada"
    updates: list[tuple[float, str]] = []
    editor.output.observe(lambda change: updates.append((time.monotonic(), change["new"])), "value")
    editor.run_button.click()
    assert editor.run_button.disabled or not editor.running
    assert editor.wait(TIMEOUT)
    assert editor.status.value == "completed" and "llamabook-status" in classes(editor.status)
    assert editor.error.value == ""

    r = editor.response
    assert r is not None
    stored = client.responses.retrieve(r.id)
    assert stored.status == "completed" and stored.output_text == r.output_text != ""
    assert stored.prompt.id == editor.prompt.prompt_id and stored.trace.prompt_version == 1
    assert stored.rendered_messages[0] == {
        "role": "system", "content": "You are a geography tutor for Ada. Answer in one sentence.",
    }  # fmt: skip
    assert stored.rendered_messages[-1] == {"role": "user", "content": QUESTION}
    assert stored.max_output_tokens == 24

    assert safe_markdown_html(r.output_text) in editor.output.value  # inside the answer's own line-height wrapper
    streaming = [at for at, value in updates if CURSOR.strip() in value]
    assert streaming, "no update while streaming"
    gaps = [b - a for a, b in zip(streaming, streaming[1:])]
    assert all(gap >= 0.09 for gap in gaps), gaps  # at most ~10 updates a second
    assert editor.footer.value == views.summary_line(r) and "out tokens" in editor.footer.value
    assert editor.details.response == r and r.id in text(editor.details.header.value)
    assert not editor.run_button.disabled and editor.stop_button.disabled

    editor.run_button.click()  # same template: runs the same version, stores no new one
    assert editor.wait(TIMEOUT) and editor.status.value == "completed"
    assert len(client.prompts.versions(editor.prompt.prompt_id)) == 1
    assert len(client.responses.list()) == 2


def test_stop_ends_the_run_and_keeps_the_partial_response(quick_client: lb.Client, scripted: ScriptedEngine) -> None:
    client = quick_client
    scripted.delay_s = 0.1  # 9 words: 0.9 s to the end; stopped at the first, after 0.1 s
    whole = "[system: Write a very long story about dragons.] echo:"
    editor = PromptEditor(client, max_output_tokens=400)
    editor.template.value = "Write a very long story about {{topic}}."
    editor.fields["topic"].text.value = "dragons"
    editor.run_button.click()
    assert editor.running and not editor.stop_button.disabled
    editor.stop_button.click()
    assert editor.wait(TIMEOUT)
    assert editor.status.value == "incomplete: cancelled"  # with its reason
    stored = client.responses.retrieve(editor.response.id)
    assert stored.status == "incomplete" and stored.incomplete_details == {"reason": "cancelled"}
    assert stored.usage.output_tokens < 9 and whole.startswith(stored.output_text) and stored.output_text != whole
    assert len(scripted.calls) == 1 and scripted.in_flight == 0  # the engine's stream was closed, not left running
    assert not editor.run_button.disabled and editor.stop_button.disabled


def test_a_picked_pdf_and_a_described_image_reach_the_model(
    quick_client: lb.Client, scripted: ScriptedEngine, data: Path
) -> None:
    client = quick_client  # text-only, as the embedded model: the image is described, the PDF read as text
    invoice = client.files.create(data / "invoice.pdf")
    editor = PromptEditor(client, max_output_tokens=8)
    editor.template.value = "Photo: {{photo}}. Document: {{doc}}. Who is billed?"
    doc, photo = editor.fields["doc"], editor.fields["photo"]
    doc.kind.value = photo.kind.value = "file"
    assert (f"invoice.pdf · {invoice.bytes} B", invoice.id) in doc.file.options  # already uploaded: pick it
    doc.file.value = invoice.id
    assert "invoice.pdf" in text(doc.preview.value) and not any(t == "img" for t, _ in tags(doc.preview.value))
    photo.upload.value = upload_value(data / "phone.png")
    editor.describe_images.value = True
    editor.run_button.click()
    assert editor.wait(TIMEOUT) and editor.error.message == ""
    assert editor.response.status == "completed" or editor.response.cut_off

    stored = client.responses.retrieve(editor.response.id)
    assert stored.prompt.variables["doc"].file_id == invoice.id
    seen = str(stored.rendered_messages)
    assert "[Image photo: phone.png" in seen and "Billed to: Dublin Bicycle Co." in seen
    (call,) = scripted.calls
    assert call.system == ["Photo: [Image: photo]. Document: [File: doc]. Who is billed?"]
    assert "[Image photo: phone.png" in call.user and "Billed to: Dublin Bicycle Co." in call.user
    assert stored.output_text == "[system: Photo: [Image: photo]. Document: [File: doc]. Who "  # 8 tokens, cut off
    assert editor.status.value == f"incomplete: {views.CUT_OFF_MARK}"  # and why
    view_input = editor.details.input.value
    assert any(tag == "img" and attrs["src"].startswith("data:image/png;base64,") for tag, attrs in tags(view_input))
    assert "invoice.pdf" in text(view_input) and "phone.png" in text(view_input)


# ---- ResponseView ------------------------------------------------------------------------------------


# ---- FilesPanel --------------------------------------------------------------------------------------


# ---- RunsTable ---------------------------------------------------------------------------------------


# ---- all panels --------------------------------------------------------------------------------------


def test_the_editor_opens_a_named_version_and_saves_through_the_client(quick_client: lb.Client) -> None:
    client = quick_client
    client.prompts.save("tutor", "Be {{tone}}.")
    client.prompts.save("tutor", "Be very {{tone}}.")
    editor = PromptEditor(client, "tutor@1")
    assert (editor.prompt.version, editor.template.value) == (1, "Be {{tone}}.")
    editor.template.value = "Be very {{tone}}."  # the text of version 2: the save rule reuses it
    editor.save_button.click()
    assert editor.error.value == "" and editor.prompt.version == 2
    assert [v.version for v in client.prompts.versions("tutor")] == [1, 2]
    editor.template.value = "Be {{tone}}, briefly."
    editor.save_button.click()
    assert editor.prompt.version == 3 and client.prompts.get("tutor").version == 3


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


# ---- what a newcomer met walking the tutorials (measured in a real browser: tests/browser/test_panels_newcomer.py) --


def test_the_heading_names_the_prompt_as_the_user_named_it(quick_client: lb.Client) -> None:
    client = quick_client
    client.prompts.save("haiku", "A haiku on {{topic}}.")
    stored = client.prompts.save("haiku", "A short haiku on {{topic}}.")
    editor = PromptEditor(client, "haiku")
    assert editor.heading.value == "haiku" and editor.versions.value == 2  # not its pmpt_ id
    editor.versions.value = 1
    assert editor.heading.value == "haiku@1"  # another version than the one opened: which one
    assert PromptEditor(client, "haiku@1").heading.value == "haiku@1"
    assert PromptEditor(client, client.prompts.get("haiku")).heading.value == "haiku@2"
    assert PromptEditor(client, stored.prompt_id).heading.value == stored.prompt_id  # opened by its id: the id

    editor.template.value = "A long haiku on {{topic}}."
    assert editor.heading.value == "haiku@1 · edited, not saved"
    editor.save_button.click()
    assert editor.prompt.version == 3 and editor.heading.value == "haiku@3"


def test_the_status_says_why_an_answer_is_incomplete(quick_client: lb.Client) -> None:
    client = quick_client
    client.prompts.save("haiku", "A haiku on {{topic}}, please, in many words.")
    editor = PromptEditor(client, "haiku", max_output_tokens=3)
    editor.fields["topic"].text.value = "frogs"
    editor.run_button.click()
    assert editor.wait(TIMEOUT)
    response = editor.response
    assert response.cut_off and response.incomplete_details == {"reason": "length"}
    assert editor.status.value == f"incomplete: {views.CUT_OFF_MARK}" == "incomplete: cut off at max_output_tokens"
    assert editor.footer.value == views.summary_line(response, "haiku")  # the magic's footer, the name as given
    assert "(haiku)" in editor.footer.value


def test_the_answer_is_shown_once_in_an_area_of_limited_height(quick_client: lb.Client) -> None:
    editor = PromptEditor(quick_client, input="Go on.")
    editor.template.value = "Say {{it}}."
    editor.fields["it"].text.value = "hello"
    editor.run_button.click()
    assert editor.wait(TIMEOUT) and editor.status.value == "completed"
    assert (editor.output.layout.max_height, editor.output.layout.overflow) == ("24em", "auto")
    assert editor.details.response == editor.response
    assert editor.details.output not in editor.details.tabs.children  # the answer is in the answer area
    assert editor.details.tabs.titles == ("Input", "Usage", "Raw JSON")
    assert editor.template.layout.width == editor.input.layout.width == "auto"  # not 100% plus margins


def test_an_empty_field_takes_the_notebook_variable_of_its_name(quick_client: lb.Client, ip, scripted: ScriptedEngine) -> None:
    """As ``%%llama`` does: a field left empty takes the notebook's variable; the field says so; a typed value wins."""
    ip.user_ns["audience"] = "a busy accountant"
    try:
        editor = PromptEditor(quick_client, input="Hi.")
        editor.template.value = "Explain VAT to {{audience}} in {{style}}."
        audience, style = editor.fields["audience"], editor.fields["style"]
        assert audience.text.placeholder == "from the notebook: audience = 'a busy accountant'"
        assert audience.text.tooltip == audience.text.placeholder
        assert style.text.placeholder == "value of style" and style.text.tooltip is None

        editor.run_button.click()  # style has neither a value nor a notebook variable
        assert editor.error.message.startswith("MissingVariables: no value for 'style'")
        style.text.value = "two lines"
        ip.user_ns["style"] = "rhyme"  # a typed value wins over the notebook's
        editor.run_button.click()
        assert editor.wait(TIMEOUT) and editor.error.message == ""
        (call,) = scripted.calls
        assert call.system == ["Explain VAT to a busy accountant in two lines."]
        assert audience.text.value == ""  # the field is left empty: the next run reads the notebook again
    finally:
        ip.user_ns.pop("audience", None)
        ip.user_ns.pop("style", None)
    editor.template.value = "Explain VAT to {{audience}}."
    assert editor.fields["audience"].text.placeholder == "value of audience"  # gone from the notebook


def test_without_ipython_an_empty_field_is_missing(quick_client: lb.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: None)  # a plain Python process: no notebook variables
    editor = PromptEditor(quick_client)
    editor.template.value = "Explain VAT to {{audience}}."
    assert editor.fields["audience"].text.placeholder == "value of audience"
    editor.run_button.click()
    assert editor.error.message.startswith("MissingVariables: no value for 'audience'")


def test_the_text_file_switch_has_the_panel_stylesheet(quick_client: lb.Client) -> None:
    """The picked side of the switch is drawn in the theme's brand colour (measured in the dark theme in a browser)."""
    editor = PromptEditor(quick_client)
    assert editor.stylesheet in editor.children and editor.stylesheet.layout.display == "none"
    css = editor.stylesheet.value
    assert css.startswith("<style>") and ".llamabook-var-kind .jupyter-button.mod-active" in css
    assert "var(--jp-brand-color1)" in css and "#" not in css  # theme variables, no hard-coded colour
    assert ".llamabook-footer.widget-label" in css and "white-space: normal" in css
