"""``FilesPanel``: the client's files — list, upload, preview, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import views
from ..errors import FileNotFound, InvalidVariable
from ..media import pdf_text, sniff_mime
from ..types import PURPOSES, File
from ._common import PANEL_NOTE, ErrorArea, guarded, replace_children, styled, stylesheet

if TYPE_CHECKING:
    from ..client import Client

COLUMNS = ("name", "size", "purpose", "created", "", "")
#: The name takes what the other columns leave (it wraps); they are as wide as their text, so the
#: created time is never cut off, also next to an open sidebar (~850 px).
GRID = "minmax(min-content, 1fr) auto auto auto auto auto"
#: Wraps the name cell's HTML (from :mod:`llamabook.views`, escaped there; nothing else goes in) so a
#: long name without spaces breaks instead of running under the next column.
WRAP = '<div style="overflow-wrap:anywhere;">{html}</div>'
EXCERPT_CHARS = 800
#: The upload button's text: ipywidgets writes "<description> (<files its value holds>)" as one text node, and the
#: panel empties the value after storing an upload (ready for the next one), so the count always reads 0. The
#: panels' stylesheet hides that text and shows "Upload" in its place, "Upload more" once the button has the class
#: UPLOAD_MORE_CLASS (after an upload), when its tooltip names what was stored (as PromptEditor's does). The
#: description says the same for text front ends; the button's accessible name may still read "Upload (0)".
UPLOAD, UPLOAD_MORE = "Upload", "Upload more"
UPLOAD_MORE_CLASS = "llamabook-files-upload-more"
UPLOAD_TIP = "Upload files; they are stored with the purpose picked beside"  # without one, the title is "null"


class FilesPanel(widgets.VBox):
    """The client's files in a table (name, size, purpose, created), newest first, with upload,
    preview (a thumbnail for images, the start of the text for PDFs and text files) and delete.

    Delete asks once more: the first click arms the button (``Confirm``), the second deletes.
    An upload of bytes already stored with the chosen purpose adds no row: the status names the
    file it already is (``client.files.upload_once``, the reuse prompt variables get too).
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
        self.upload = styled(
            widgets.FileUpload(multiple=True, description=UPLOAD, tooltip=UPLOAD_TIP), "llamabook-files-upload"
        )
        self.purpose = styled(
            widgets.Dropdown(options=list(PURPOSES), value="assistants", description="purpose"),
            "llamabook-files-purpose",
        )
        self.refresh_button = styled(widgets.Button(description="Refresh", icon="refresh"), "llamabook-files-refresh")
        self.status = styled(widgets.Label("", layout=widgets.Layout(max_width="100%")), "llamabook-status")
        self.table = styled(
            widgets.GridBox(layout=widgets.Layout(grid_template_columns=GRID, grid_gap="2px 8px")),
            "llamabook-files-list",
        )
        self.preview = styled(widgets.HTML(""), "llamabook-files-preview")
        #: The panels' CSS rules: the upload button's label (``views/templates/panel_style.html``).
        self.stylesheet = stylesheet()
        super().__init__(
            [
                widgets.HBox(  # the status goes to a line of its own when it does not fit beside the buttons
                    [self.upload, self.purpose, self.refresh_button, self.status],
                    layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self.error,
                self.table,
                self.preview,
                self.stylesheet,
            ]
        )
        self.add_class("llamabook-files-panel")
        self.upload.observe(lambda change: self._on_upload(change["new"]), "value")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.refresh()

    def __repr__(self) -> str:
        # The notebook's text/plain for this widget: what a reader sees where widgets do not render.
        return f"FilesPanel: {len(self.files)} file{'s' if len(self.files) != 1 else ''} ({PANEL_NOTE})"

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
        """Delete a file (no second ask; the Delete button asks); the status names it by its filename."""
        self.error.clear()
        try:
            name = self._filename(file_id)
            self.client.files.delete(file_id)
        except FileNotFound:
            self.refresh()  # deleted elsewhere already: drop its stale row, then say so
            raise
        self.preview.value = ""
        self.refresh()
        self.status.value = f"deleted {name}"

    def _filename(self, file_id: str) -> str:
        """The filename of a file: as listed, else as stored (raises FileNotFound when it is gone)."""
        listed = next((file.filename for file in self.files if file.id == file_id), None)
        return listed or self.client.files.retrieve(file_id).filename

    def _row(self, file: File) -> list[widgets.Widget]:
        name = styled(
            widgets.HTML(WRAP.format(html=views.text_cell(file.filename, 60))),
            "llamabook-file",
            f"llamabook-file-{file.id}",
        )
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
        purpose = self.purpose.value
        known = {file.id for file in self.client.files.list(purpose=purpose)}
        uploaded: list[File] = []
        reused: list[File] = []
        try:
            for name, data in batch:  # identical bytes already stored with this purpose: that file, no new row
                file = self.client.files.upload_once(data, name, purpose)
                (reused if file.id in known else uploaded).append(file)
                known.add(file.id)
        finally:
            self.refresh()  # list what was stored, also when a later file failed
        self.status.value = _upload_status(uploaded, reused)
        self.upload.description = UPLOAD_MORE
        self.upload.add_class(UPLOAD_MORE_CLASS)  # the label the stylesheet shows
        self.upload.tooltip = f"{self.status.value}; upload more files"


def _upload_status(uploaded: list[File], reused: list[File]) -> str:
    """``'uploaded a.pdf, b.png'``, ``'already uploaded as a.pdf (file-…)'``, or both, joined by ``'; '``."""
    parts = [f"uploaded {', '.join(file.filename for file in uploaded)}"] if uploaded else []
    parts += [f"already uploaded as {file.filename} ({file.id})" for file in reused]
    return "; ".join(parts)
