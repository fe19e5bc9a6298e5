"""PromptEditor's variable fields: one row per ``{{name}}``, holding a text or a file.

A file is uploaded in the row (an image or a PDF, checked before it is stored) or picked from the
client's files; a picked file shows as a chip, with a thumbnail for an image. A field left empty
takes the notebook's variable of its name, as ``%%llama`` does (its text box says so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ... import views
from ...inputs import check_variable_file
from ...templates import placeholders
from ...types import File
from .._common import guarded, styled
from .layout import EditorWidgets

if TYPE_CHECKING:
    from ...types import Prompt

TEXT, FILE = "text", "file"
#: What a variable's upload button offers in the browser's file dialog.
ACCEPT = "image/*,.pdf,application/pdf"
NO_FILE: tuple[str, None] = ("— pick an uploaded file —", None)
#: The upload button's text (ipywidgets adds the count of files its value holds, which the panel empties).
UPLOAD, REPLACE = "Upload", "Replace"  # short: the button cut "Upload another (0)" off
UPLOAD_TIP = "Upload an image or a PDF"  # without one, ipywidgets titles the button "null"


def notebook_variables() -> Mapping[str, Any]:
    """The notebook's variables (IPython's user namespace) when the editor runs inside IPython; else none."""
    try:
        from IPython import get_ipython
    except ImportError:  # no IPython: no notebook variables
        return {}
    shell = get_ipython()
    space = getattr(shell, "user_ns", None)
    return space if isinstance(space, Mapping) else {}


def from_notebook(name: str, value: Any) -> str:
    """Where a field's value came from, as the magic's note says it: ``from the notebook: name = 'Ada'``."""
    from ...inputs import describe

    return f"from the notebook: {name} = {describe(value)}"


class VariableField:
    """The row of one ``{{name}}``: a text value, or a file (uploaded here or picked from the client's files)."""

    def __init__(
        self,
        name: str,
        file_options: list[tuple[str, str | None]],
        on_upload: Callable[[VariableField, tuple[dict[str, Any], ...]], None],
        on_pick: Callable[[VariableField], None],
    ) -> None:
        self.name = name
        self.label = widgets.Label(name, layout=widgets.Layout(width="9em"))
        self.kind = styled(
            widgets.ToggleButtons(options=[TEXT, FILE], value=TEXT, style={"button_width": "4.5em"}),
            "llamabook-var-kind",
        )
        self.text = styled(
            widgets.Textarea(placeholder=f"value of {name}", rows=1, layout=widgets.Layout(flex="1 1 auto")),
            "llamabook-var-text",
        )
        self.upload = styled(
            widgets.FileUpload(accept=ACCEPT, multiple=False, description=UPLOAD, tooltip=UPLOAD_TIP),
            "llamabook-var-upload",
        )
        self.file = styled(
            widgets.Dropdown(options=file_options, value=None, layout=widgets.Layout(width="18em")),
            "llamabook-var-file",
        )
        self.preview = styled(widgets.HTML(), "llamabook-var-preview")
        self.box = styled(
            widgets.HBox([self.label, self.kind, self.text, self.upload, self.file, self.preview]),
            "llamabook-var",
            f"llamabook-var-{name}",
        )
        self.kind.observe(self._show_kind, "value")
        self.upload.observe(lambda change: on_upload(self, change["new"]), "value")
        self.file.observe(lambda change: on_pick(self), "value")
        self._show_kind()

    def _show_kind(self, change: Any = None) -> None:
        as_file = self.kind.value == FILE
        self.text.layout.display = "none" if as_file else ""
        for widget in (self.upload, self.file, self.preview):
            widget.layout.display = "" if as_file else "none"

    def value(self, files: Mapping[str, File]) -> str | File | None:
        """The text, or the picked :class:`File`; None when nothing is filled in."""
        if self.kind.value == FILE:
            return files.get(self.file.value) if self.file.value else None
        return self.text.value or None

    def take_notebook(self, notebook: Mapping[str, Any]) -> str | None:
        """Say in the empty text box (and its tooltip) which notebook value an empty field takes; that note, or None."""
        note = from_notebook(self.name, notebook[self.name]) if self.name in notebook else None
        self.text.placeholder = note or f"value of {self.name}"
        self.text.tooltip = note
        return note


class FieldsMixin(EditorWidgets):
    """PromptEditor's part that keeps a field for each variable, and the client's files they offer."""

    prompt: Prompt | None
    fields: dict[str, VariableField]
    _files: dict[str, File]
    _file_options: list[tuple[str, str | None]]
    _thumbs: dict[str, str | None]

    def _names(self) -> list[str]:
        """The template's placeholders; for an unchanged stored version also its other declared variables."""
        names = placeholders(self.template.value)
        if self.prompt is not None and self.template.value == self.prompt.template:
            names += [name for name in self.prompt.variables if name not in names]
        return names

    def _values(self, names: list[str]) -> dict[str, Any]:
        """The values of ``names``, by name: a field's own, else the notebook's variable of that name, as
        ``%%llama`` takes it (passed as it is: the client types it); a name with neither is left out."""
        notebook = notebook_variables()
        values: dict[str, Any] = {}
        for name in names:
            field = self.fields[name]
            field.take_notebook(notebook)
            value = field.value(self._files)
            if value is None and name in notebook:
                value = notebook[name]
            if value is not None:
                values[name] = value
        return values

    def _sync_fields(self) -> None:
        names = self._names()
        notebook = notebook_variables()
        for name in names:
            if name not in self.fields:
                self.fields[name] = VariableField(name, self._file_options, self._on_upload, self._on_pick)
            self.fields[name].take_notebook(notebook)
        boxes = tuple(self.fields[name].box for name in names)
        if tuple(self.variables.children) != boxes:
            self.variables.children = boxes

    @guarded
    def _refresh_files(self) -> None:
        files = self.client.files.list(purpose="assistants", limit=1000)
        self._files = {f.id: f for f in files}
        self._file_options[:] = [NO_FILE, *((f"{f.filename} · {views.human_size(f.bytes)}", f.id) for f in files)]
        with self._quiet():
            for field in self.fields.values():
                keep = field.file.value
                field.file.options = list(self._file_options)
                field.file.value = keep if keep in self._files else None

    @guarded
    def _on_upload(self, field: VariableField, items: tuple[dict[str, Any], ...]) -> None:
        if not items:
            return
        item = items[0]
        name, data = str(item.get("name") or "upload"), bytes(item["content"])
        field.upload.value = ()  # ready for the next upload, also after a problem
        self.error.clear()
        check_variable_file(field.name, data, name)
        stored = self.client.files.create((name, data))
        self._refresh_files()
        field.file.value = stored.id
        self.status.value = f"uploaded {stored.filename}"

    @guarded
    def _on_pick(self, field: VariableField) -> None:
        if self._quiet_depth:
            return
        file = self._files.get(field.file.value or "")
        field.preview.value = views.file_chip_html(file, self._thumbnail(file)) if file else ""
        field.upload.description = REPLACE if file else UPLOAD
        field.upload.tooltip = (
            f"{file.filename} is picked; upload another file to use it instead" if file else UPLOAD_TIP
        )

    def _thumbnail(self, file: File) -> str | None:
        if not file.mime_type.startswith("image/"):
            return None
        if file.id not in self._thumbs:
            self._thumbs[file.id] = views.thumbnail(self.client.files.content(file.id), max_px=64)
        return self._thumbs[file.id]
