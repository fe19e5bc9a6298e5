"""FilesPanel at the Python level: uploads listed, previewed and deleted; the same bytes uploaded again name the
file already stored; a deleted file is named by its filename."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import llamabook as lb
from llamabook.widgets import FilesPanel
from support.htmlcheck import tags, text
from support.widgets import classes, upload_value


def uploaded(*files: tuple[str, bytes]) -> tuple[dict[str, Any], ...]:
    """What a FileUpload's value holds after the browser sends these (name, bytes) files."""
    modified = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return tuple(
        {"name": name, "type": "", "size": len(data), "content": memoryview(data), "last_modified": modified}
        for name, data in files
    )


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


def test_uploading_the_same_bytes_again_adds_no_row_and_names_the_file_already_stored(
    client: lb.Client, data: Path
) -> None:
    invoice, phone = (data / "invoice.pdf").read_bytes(), (data / "phone.png").read_bytes()
    panel = FilesPanel(client)
    panel.upload.value = uploaded(("invoice.pdf", invoice))
    (stored,) = client.files.list()
    assert panel.status.value == "uploaded invoice.pdf"

    panel.upload.value = uploaded(("invoice.pdf", invoice))
    assert [f.id for f in client.files.list()] == [stored.id] and list(panel.delete_buttons) == [stored.id]
    assert panel.status.value == f"already uploaded as invoice.pdf ({stored.id})"
    panel.upload.value = uploaded(("renamed.pdf", invoice))  # the bytes decide, not the name
    assert panel.status.value == f"already uploaded as invoice.pdf ({stored.id})" and len(panel.files) == 1
    assert client.files.upload_once(invoice, "again.pdf").id == stored.id  # the reuse prompt variables get

    panel.upload.value = uploaded(("phone.png", phone), ("invoice.pdf", invoice), ("phone.png", phone))
    (new_phone,) = [f for f in client.files.list() if f.filename == "phone.png"]
    assert panel.status.value == (
        f"uploaded phone.png; already uploaded as invoice.pdf ({stored.id}); "
        f"already uploaded as phone.png ({new_phone.id})"
    )
    assert len(panel.files) == 2

    panel.purpose.value = "batch"  # another purpose is another file, as client.files.upload_once keeps them
    panel.upload.value = uploaded(("invoice.pdf", invoice))
    assert panel.status.value == "uploaded invoice.pdf" and len(panel.files) == 3
    assert sorted(f.purpose for f in panel.files if f.filename == "invoice.pdf") == ["assistants", "batch"]
    assert panel.error.value == ""


def test_a_deleted_file_is_named_by_its_filename(client: lb.Client, data: Path) -> None:
    invoice = client.files.create(data / "invoice.pdf")
    panel = FilesPanel(client)
    panel.delete_buttons[invoice.id].click()
    panel.delete_buttons[invoice.id].click()
    assert panel.status.value == "deleted invoice.pdf" and client.files.list() == []

    notes = client.files.create(("notes.txt", b"remember the milk"))  # stored after the panel listed its files
    panel.delete(notes.id)
    assert panel.status.value == "deleted notes.txt" and panel.error.value == ""

    panel.delete(notes.id)  # gone already: said in the panel, the stale row dropped
    assert panel.error.message.startswith("FileNotFound") and panel.status.value == "0 files"


def test_the_upload_button_says_what_it_does_after_an_upload(quick_client: lb.Client, data: Path) -> None:
    """ipywidgets writes the button as "<description> (<files its value holds>)"; the panel empties that value after
    storing an upload, so "Upload (0)" after an upload read as if nothing was stored: the description and the
    tooltip say more, as PromptEditor's upload button does (measured in a real browser:
    tests/browser/test_panels_newcomer.py)."""
    from llamabook.widgets.files_panel import UPLOAD_MORE_CLASS, UPLOAD_TIP

    panel = FilesPanel(quick_client)
    assert (panel.upload.description, panel.upload.tooltip) == ("Upload", UPLOAD_TIP)  # not titled "null"
    assert "llamabook-files-upload" in classes(panel.upload) and UPLOAD_MORE_CLASS not in classes(panel.upload)
    # The count ipywidgets adds ("Upload (0)") is drawn at size 0; the stylesheet shows the label instead.
    assert panel.stylesheet in panel.children and panel.stylesheet.layout.display == "none"
    css = panel.stylesheet.value
    assert ".llamabook-files-upload.jupyter-button {\n  font-size: 0;" in css
    assert '.llamabook-files-upload.jupyter-button::after {\n  content: "Upload";' in css
    assert f'.llamabook-files-upload.{UPLOAD_MORE_CLASS}.jupyter-button::after {{\n  content: "Upload more";' in css

    panel.upload.value = uploaded(("empty.txt", b""))  # refused: nothing stored, the button unchanged
    assert panel.error.message and quick_client.files.list() == []
    assert (panel.upload.description, panel.upload.tooltip) == ("Upload", UPLOAD_TIP)

    panel.upload.value = uploaded(("invoice.pdf", (data / "invoice.pdf").read_bytes()))
    assert panel.upload.value == () and panel.status.value == "uploaded invoice.pdf"
    assert panel.upload.description == "Upload more" and UPLOAD_MORE_CLASS in classes(panel.upload)
    assert panel.upload.tooltip == "uploaded invoice.pdf; upload more files"
