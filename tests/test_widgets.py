"""The notebook panels at the Python level: set widget values, click, check the widgets and the store.

Runs that only check the panels' mechanics use the scripted engine (``quick_client``, ``scripted``: its answer
echoes what it was sent); one run end to end uses the real embedded model (``client``).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from htmlcheck import active_parts, tags, text
from scripted_engine import ScriptedEngine

import llamabook as lb
from llamabook.engines.embedded import EmbeddedEngine
from llamabook.types import OutputMessage, OutputText, Response, ResponseTrace, Usage
from llamabook import views
from llamabook.views import safe_markdown_html
from llamabook.widgets import FilesPanel, PromptEditor, ResponseView, RunsTable
from llamabook.widgets.prompt_editor import CURSOR

QUESTION = "What is the capital of Ireland?"
XSS_OUTPUT = "Done.\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>"
TIMEOUT = 120


def classes(widget: Any) -> tuple[str, ...]:
    return tuple(widget._dom_classes)


def row_names(editor: PromptEditor) -> list[str]:
    """The variable rows shown, by their ``llamabook-var-<name>`` class."""
    names = []
    for box in editor.variables.children:
        assert "llamabook-var" in classes(box)
        names += [c.removeprefix("llamabook-var-") for c in classes(box) if c != "llamabook-var"]
    return names


def upload_value(path: Path, name: str | None = None) -> tuple[dict[str, Any], ...]:
    """What a FileUpload's value holds after the browser sends a file."""
    return file_item(name or path.name, path.read_bytes())


def file_item(name: str, data: bytes) -> tuple[dict[str, Any], ...]:
    modified = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return ({"name": name, "type": "", "size": len(data), "content": memoryview(data), "last_modified": modified},)


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
    assert editor.status.value == "incomplete"
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
    assert editor.status.value == editor.response.status and (editor.response.status == "completed" or editor.response.cut_off)

    stored = client.responses.retrieve(editor.response.id)
    assert stored.prompt.variables["doc"].file_id == invoice.id
    seen = str(stored.rendered_messages)
    assert "[Image photo: phone.png" in seen and "Billed to: Dublin Bicycle Co." in seen
    (call,) = scripted.calls
    assert call.system == ["Photo: [Image: photo]. Document: [File: doc]. Who is billed?"]
    assert "[Image photo: phone.png" in call.user and "Billed to: Dublin Bicycle Co." in call.user
    assert stored.output_text == "[system: Photo: [Image: photo]. Document: [File: doc]. Who "  # 8 tokens, cut off
    assert editor.status.value == "incomplete"
    view_input = editor.details.input.value
    assert any(tag == "img" and attrs["src"].startswith("data:image/png;base64,") for tag, attrs in tags(view_input))
    assert "invoice.pdf" in text(view_input) and "phone.png" in text(view_input)


# ---- ResponseView ------------------------------------------------------------------------------------


def test_response_view_tabs_show_safe_output_input_usage_and_json() -> None:
    r = Response(
        id="resp_view1", created_at=1_700_000_000, status="completed", model="m",
        output=[OutputMessage(id="msg_1", content=[OutputText(text=XSS_OUTPUT)])],
        usage=Usage(input_tokens=5, output_tokens=7, total_tokens=12),
        trace=ResponseTrace(
            messages=[{"role": "system", "content": "Be <b>brief</b>."}, {"role": "user", "content": "Hi"}],
            latency_s=1.5,
        ),
    )  # fmt: skip
    view = ResponseView(r)
    assert "llamabook-response-view" in classes(view)
    assert view.tabs.titles == ("Output", "Input", "Usage", "Raw JSON")
    assert view.tabs.children[0] is view.output and "llamabook-response-output" in classes(view.output)
    assert "<script" not in view.output.value.lower()
    assert not any("onerror" in attrs for _, attrs in tags(view.output.value))
    every_tab = [view.header, view.output, view.input, view.usage, view.raw]
    assert active_parts("".join(part.value for part in every_tab)) == []
    assert "<script>alert(1)</script>" in text(view.output.value)  # readable, inert
    assert "Be <b>brief</b>." in text(view.input.value) and not any(t == "b" for t, _ in tags(view.input.value))
    assert "input tokens5" in text(view.usage.value).replace("\n", "") and "1.500 s" in text(view.usage.value)
    assert '"id": "resp_view1"' in text(view.raw.value)

    view.show(r.model_copy(update={"id": "resp_view2", "status": "failed"}))
    assert "resp_view2" in text(view.header.value) and "failed" in text(view.header.value)


# ---- FilesPanel --------------------------------------------------------------------------------------


def test_files_panel_lists_uploads_previews_and_deletes(client: lb.Client, data: Path) -> None:
    invoice = client.files.create(data / "invoice.pdf")
    panel = FilesPanel(client)
    assert "llamabook-files-panel" in classes(panel)
    assert list(panel.delete_buttons) == [invoice.id] and panel.status.value == "1 file"
    listed = " ".join(getattr(w, "value", "") for w in panel.table.children)
    assert "invoice.pdf" in listed and "708 B" in listed and "assistants" in listed

    panel.purpose.value = "batch"
    panel.upload.value = upload_value(data / "phone.png")
    phone = next(f for f in client.files.list() if f.filename == "phone.png")
    assert phone.purpose == "batch" and len(panel.files) == 2 and panel.status.value == "uploaded phone.png"

    panel.preview_buttons[phone.id].click()
    assert any(t == "img" and a["src"].startswith("data:image/png;base64,") for t, a in tags(panel.preview.value))
    panel.preview_buttons[invoice.id].click()
    assert "Billed to: Dublin Bicycle Co." in text(panel.preview.value)

    panel.delete_buttons[phone.id].click()  # arms only
    assert len(client.files.list()) == 2 and panel.delete_buttons[phone.id].description == "Confirm"
    panel.delete_buttons[phone.id].click()
    assert [f.id for f in client.files.list()] == [invoice.id] and list(panel.delete_buttons) == [invoice.id]
    with pytest.raises(lb.FileNotFound):
        client.files.retrieve(phone.id)
    assert panel.error.value == ""


# ---- RunsTable ---------------------------------------------------------------------------------------


def test_runs_table_colours_filters_pages_and_opens_a_rows_response(quick_client: lb.Client) -> None:
    client = quick_client
    rows = pd.DataFrame({"country": ["Ireland", None]})  # the second row has no value: a failed call
    grid = client.grid("What is the capital of {{country}}?", rows, input="Answer in a few words.",
                       max_output_tokens=48, progress=False)  # fmt: skip
    assert list(grid["status"]) == ["completed", "failed"]
    assert grid.loc[0, "output_text"] == "[system: What is the capital of Ireland?] echo: Answer in a few words."

    table = RunsTable(grid, client, page_size=1)
    assert "llamabook-runs-table" in classes(table)
    assert table.summary.value == "2 lines · 1 completed · 1 failed"
    assert list(table.open_buttons) == [0] and table.page_label.value == "page 1 of 2" and table.prev_button.disabled
    table.next_button.click()
    assert list(table.open_buttons) == [1] and table.next_button.disabled
    columns = 2 + len(table.own_columns) + 6  # open, status, own columns, version … error
    status_cell = table.table.children[columns + 1]  # after the header line
    assert "#cf222e" in status_cell.value and "failed" in text(status_cell.value)

    table.failed_only.value = True
    assert table.visible() == [1] and table.page_label.value == "page 1 of 1" and list(table.open_buttons) == [1]
    table.open_buttons[1].click()
    shown = text(table.detail.children[-1].value)
    assert "MissingVariables" in shown and "this call made no response" in shown and table.view is None

    table.failed_only.value = False
    table.open_buttons[0].click()
    assert isinstance(table.view, ResponseView) and table.detail.children[-1] is table.view
    assert table.view.response.id == grid.loc[0, "response_id"]
    assert safe_markdown_html(grid.loc[0, "output_text"]) in table.view.output.value

    offline = RunsTable(grid)  # no client: the line's values instead
    offline.open_buttons[0].click()
    shown = text(offline.detail.children[-1].value)
    assert "pass client= to open its response" in shown and grid.loc[0, "output_text"].strip()[:10] in shown


# ---- all panels --------------------------------------------------------------------------------------


def test_every_panel_opens_its_widget_model_so_a_front_end_can_show_it(client: lb.Client) -> None:
    """ipywidgets' Widget.__init__ calls self.open() to open the comm; a panel method named open must keep that."""
    lines = pd.DataFrame({"country": ["Ireland"], "status": ["completed"]})
    for panel in (PromptEditor(client), ResponseView(), FilesPanel(client), RunsTable(lines)):
        name = type(panel).__name__
        assert panel.comm is not None, f"{name} has no comm"
        assert panel._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"]["model_id"], name
        assert panel.error.message == "", f"{name}: {panel.error.message}"


def test_redrawing_panels_closes_the_widgets_they_replace(client: lb.Client, data: Path) -> None:
    from ipywidgets.widgets.widget import _instances

    client.files.create(data / "invoice.pdf")
    panel = FilesPanel(client)
    runs = RunsTable(pd.DataFrame({"row": [0, 1], "status": ["failed", "failed"], "error": ["x", "y"]}))
    panel.refresh()
    runs.open(0)
    before = len(_instances)
    for _ in range(5):
        panel.refresh()
        runs.open(1)
        runs.open(0)
    assert len(_instances) == before  # each redraw closed what it replaced
    assert all(cell.comm is not None for cell in panel.table.children)


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
