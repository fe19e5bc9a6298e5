"""``FilesPanel``: the client's files — list, upload, preview, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import views
from ..errors import FileNotFound, InvalidVariable
from ..media import pdf_text, sniff_mime
from ..types import PURPOSES, File
from ._common import ErrorArea, guarded, replace_children, styled

if TYPE_CHECKING:
    from ..client import Client

COLUMNS = ("name", "size", "purpose", "created", "", "")
GRID = "minmax(12em, 3fr) 6em 7em 12em auto auto"
EXCERPT_CHARS = 800


class FilesPanel(widgets.VBox):
    """The client's files in a table (name, size, purpose, created), newest first, with upload,
    preview (a thumbnail for images, the start of the text for PDFs and text files) and delete.

    Delete asks once more: the first click arms the button (``Confirm``), the second deletes.
    """

    def __init__(self, client: Client, *, limit: int = 200) -> None:
        self.client = client
        self.limit = limit
        #: The files listed, newest first.
        self.files: list[File] = []
        #: The Preview and Delete buttons of each listed file, by file id.
        self.preview_buttons: dict[str, widgets.Button] = {}
        self.delete_buttons: dict[str, widgets.Button] = {}
        self._armed: tuple[str, widgets.Button] | None = None
        self.error = ErrorArea()
        self.upload = styled(widgets.FileUpload(multiple=True, description="Upload"), "llamabook-files-upload")
        self.purpose = styled(
            widgets.Dropdown(options=list(PURPOSES), value="assistants", description="purpose"),
            "llamabook-files-purpose",
        )
        self.refresh_button = styled(widgets.Button(description="Refresh", icon="refresh"), "llamabook-files-refresh")
        self.status = styled(widgets.Label(""), "llamabook-status")
        self.table = styled(
            widgets.GridBox(layout=widgets.Layout(grid_template_columns=GRID, grid_gap="2px 8px")),
            "llamabook-files-list",
        )
        self.preview = styled(widgets.HTML(""), "llamabook-files-preview")
        super().__init__(
            [
                widgets.HBox([self.upload, self.purpose, self.refresh_button, self.status]),
                self.error,
                self.table,
                self.preview,
            ]
        )
        self.add_class("llamabook-files-panel")
        self.upload.observe(lambda change: self._on_upload(change["new"]), "value")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.refresh()

    @guarded
    def refresh(self) -> None:
        """List the files again."""
        self.files = list(self.client.files.list(limit=self.limit))
        self._armed = None
        header = [styled(widgets.HTML(f"<b>{name}</b>"), "llamabook-files-header") for name in COLUMNS]
        cells: list[widgets.Widget] = list(header)
        self.preview_buttons, self.delete_buttons = {}, {}
        for file in self.files:
            cells.extend(self._row(file))
        replace_children(self.table, cells)
        self.status.value = f"{len(self.files)} file{'s' if len(self.files) != 1 else ''}"

    @guarded
    def show(self, file_id: str) -> None:
        """Preview a file: its metadata, and a thumbnail or the start of its text."""
        self.error.clear()
        self.preview.value = ""  # never the previous file's preview next to this file's error
        file = self.client.files.retrieve(file_id)
        preview = excerpt = None
        problem: InvalidVariable | None = None
        mime = file.mime_type
        if mime.startswith("image/") or mime == "application/pdf" or mime.startswith("text/"):
            data = self.client.files.content(file_id)
            mime = sniff_mime(data, file.filename)
            if mime.startswith("image/"):
                preview = views.thumbnail(data, max_px=240)
                if preview is None:
                    problem = InvalidVariable(
                        f"Could not decode the image {file.filename!r}: it may be truncated or corrupt. Re-upload it."
                    )
            elif mime == "application/pdf":
                try:
                    excerpt = pdf_text(data)[0][:EXCERPT_CHARS]
                except InvalidVariable as exc:
                    excerpt, problem = "(the PDF's text could not be read)", exc
            else:
                excerpt = data[:EXCERPT_CHARS].decode("utf-8", errors="replace")
        self.preview.value = views.file_html(file, preview=preview, excerpt=excerpt)
        if problem is not None:  # the metadata is shown; say why the content is not
            self.error.show(problem)

    @guarded
    def delete(self, file_id: str) -> None:
        """Delete a file (no second ask; the Delete button asks)."""
        self.error.clear()
        try:
            self.client.files.delete(file_id)
        except FileNotFound:
            self.refresh()  # deleted elsewhere already: drop its stale row, then say so
            raise
        self.preview.value = ""
        self.refresh()
        self.status.value = f"deleted {file_id}"

    def _row(self, file: File) -> list[widgets.Widget]:
        name = styled(widgets.HTML(views.text_cell(file.filename, 60)), "llamabook-file", f"llamabook-file-{file.id}")
        preview = styled(widgets.Button(description="Preview", icon="eye"), "llamabook-file-preview")
        delete = styled(widgets.Button(description="Delete", icon="trash"), "llamabook-file-delete")
        preview.on_click(lambda _: self.show(file.id))
        delete.on_click(lambda button: self._on_delete(file.id, button))
        self.preview_buttons[file.id], self.delete_buttons[file.id] = preview, delete
        return [
            name,
            widgets.Label(views.human_size(file.bytes)),
            widgets.Label(file.purpose),
            widgets.Label(views.when(file.created_at)),
            preview,
            delete,
        ]

    def _on_delete(self, file_id: str, button: widgets.Button) -> None:
        if self._armed is not None and self._armed[0] == file_id:
            self.delete(file_id)
            return
        if self._armed is not None:
            self._armed[1].description, self._armed[1].button_style = "Delete", ""
        self._armed = (file_id, button)
        button.description, button.button_style = "Confirm", "danger"
        self.status.value = "click Confirm to delete the file"

    @guarded
    def _on_upload(self, items: tuple[dict[str, Any], ...]) -> None:
        if not items:
            return
        self.upload.value = ()  # ready for the next upload, also after a problem
        self.error.clear()
        batch = [(str(item.get("name") or "upload"), bytes(item["content"])) for item in items]
        for name, data in batch:  # check them all first: one bad file stores none of the batch
            self.client.files.check(data, name)
        names = []
        try:
            for name, data in batch:
                names.append(self.client.files.create((name, data), self.purpose.value).filename)
        finally:
            self.refresh()  # list what was stored, also when a later file failed
        self.status.value = f"uploaded {', '.join(names)}"
