"""The harness itself, with plain ipywidgets only: if this fails, the llamabook widget tests cannot pass."""

from __future__ import annotations

import pytest

from ._requires import require_browser

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

APP = """\
import ipywidgets as w
name = w.Text(description="Name")
upload = w.FileUpload(description="Upload")
go = w.Button(description="Go")
result = w.Label("not clicked")
result.add_class("harness-result")

def on_click(_):
    files = ", ".join(f"{f['name']} ({len(f['content'])} bytes)" for f in upload.value)
    result.value = f"clicked: {name.value}; files: {files}"

go.on_click(on_click)
w.VBox([name, upload, go, result])
"""


def test_plain_widgets_round_trip(lab, lab_page: Page, record, data) -> None:
    page = lab_page
    panel = lab.open_and_run_all(page, lab.write_notebook("harness.ipynb", APP))
    record.lap("run all")
    out = panel.locator(".jp-OutputArea-output")
    out.locator(".widget-text input").fill("hello harness")
    record.lap("widget rendered")
    # ipywidgets 8's FileUpload keeps its <input type=file> out of the DOM: the button's click
    # opens the chooser, so a test answers the chooser instead of setting an input's files.
    upload = out.locator("button.widget-upload")
    with page.expect_file_chooser() as chooser:
        upload.click()
    chooser.value.set_files(data / "phone.png")
    expect(upload).to_have_text("Upload (1)")  # the value is set (and sent) once the file is read
    out.locator("button.jupyter-button", has_text="Go").click()
    size = (data / "phone.png").stat().st_size
    expect(out.locator(".harness-result")).to_have_text(f"clicked: hello harness; files: phone.png ({size} bytes)")
    record.lap("kernel round trip")
