"""``PromptEditor``: write, version and run a ``{{templated}}`` prompt in a notebook."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import views
from ..diffs import diff_draft
from ..errors import InvalidRequest, LlamabookError, MissingVariables, UnsupportedInput, VersionConflict
from ..inputs import check_image
from ..media import sniff_mime
from ..templates import check_supplied, placeholders
from ..types import File, Prompt, Response
from ..throttle import Throttle
from ._common import PANEL_NOTE, ErrorArea, guarded, styled
from .response_view import ResponseView

if TYPE_CHECKING:
    from ..client import Client
    from ..resources.responses import ResponseStream

TEXT, FILE = "text", "file"
#: What a variable's upload button offers in the browser's file dialog.
ACCEPT = "image/*,.pdf,application/pdf"
NO_FILE: tuple[str, None] = ("— pick an uploaded file —", None)
UPDATES_PER_SECOND = 10
CURSOR = " ▌"
#: The answer's own line height: an HTML widget's content has ipywidgets' one-control line height
#: (``--jp-widgets-inline-height``, 28 px at JupyterLab's 13 px font), which double-spaces every line.
ANSWER = '<div class="llamabook-answer" style="line-height:1.5;overflow-wrap:anywhere;">{html}</div>'
#: The upload button's text (ipywidgets adds the count of files its value holds, which the panel empties).
UPLOAD, REPLACE = "Upload", "Replace"  # short: the button cut "Upload another (0)" off
UPLOAD_TIP = "Upload an image or a PDF"  # without one, ipywidgets titles the button "null"


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


class PromptEditor(widgets.VBox):
    """Edit, version and run a prompt template.

    Each ``{{name}}`` in the template gets a field as it is typed (the server's placeholder
    rule, :func:`llamabook.templates.placeholders`); a field holds text or a file (an image or
    PDF uploaded here, or one already uploaded). **Save** stores the template as a new prompt,
    or as a new version (made the default) of the prompt shown. **Run** saves a changed
    template the same way, then streams the response into the panel from a background thread,
    so the kernel stays free and **Stop** works; :meth:`wait` waits for the end, after which
    :attr:`response` is the stored :class:`Response` and the status label reads its status.
    Problems (a missing value, an image for a text-only model, a file over the limit) are shown
    in the panel.

    ``prompt`` is a :class:`Prompt` or a reference to open: a name (``"tutor"``, ``"tutor@2"``)
    or an id (``"pmpt_…"``, ``"pmpt_…@2"``).

    >>> editor = PromptEditor(client)
    >>> editor.template.value = "Summarise {{doc}} for {{name}}."
    """

    def __init__(
        self,
        client: Client,
        prompt: Prompt | str | None = None,
        *,
        input: str = "",
        max_output_tokens: int = 256,
    ) -> None:
        self.client = client
        #: The stored prompt version the editor is on (None until saved or opened).
        self.prompt: Prompt | None = None
        #: The prompt's latest version when the editor last listed them: a save must build on it.
        self._latest: int | None = None
        #: The response of the last run, once it has ended.
        self.response: Response | None = None
        #: Every variable field made so far, by name (a field keeps its value while its placeholder is gone).
        self.fields: dict[str, VariableField] = {}
        self._files: dict[str, File] = {}
        self._file_options: list[tuple[str, str | None]] = [NO_FILE]
        self._thumbs: dict[str, str | None] = {}
        self._quiet_depth = 0
        self._stop = threading.Event()
        self._done = threading.Event()
        self._done.set()

        self.error = ErrorArea()
        self.heading = styled(widgets.Label("New prompt (not saved)"), "llamabook-prompt-id")
        self.versions = styled(
            widgets.Dropdown(description="version", options=[], disabled=True, layout=widgets.Layout(width="14em")),
            "llamabook-version",
        )
        self.set_default_button = styled(
            widgets.Button(description="Set as default", disabled=True, tooltip="Use this version when none is given"),
            "llamabook-set-default",
        )
        self.template = styled(
            widgets.Textarea(
                placeholder="You are a {{tone}} assistant. Summarise {{doc}} for {{name}}.",
                continuous_update=True,
                layout=widgets.Layout(width="100%", height="8em"),
            ),
            "llamabook-template",
        )
        #: The unsaved text against the version shown, changes marked inline; empty when they are the same.
        self.diff = styled(widgets.HTML("", layout=widgets.Layout(display="none")), "llamabook-diff")
        self.variables = styled(widgets.VBox(), "llamabook-variables")
        self.input = styled(
            widgets.Textarea(
                value=input, placeholder="User input (optional)", rows=2, layout=widgets.Layout(width="100%")
            ),
            "llamabook-input",
        )
        self.model = styled(widgets.Dropdown(description="model", options=[]), "llamabook-model")
        self.max_output_tokens = styled(
            widgets.BoundedIntText(
                value=max_output_tokens, min=1, max=1_000_000, description="max tokens", continuous_update=True
            ),
            "llamabook-max-tokens",
        )
        self.describe_images = styled(
            widgets.Checkbox(value=False, description="describe images to text-only models", indent=False),
            "llamabook-describe-images",
        )
        self.save_button = styled(
            widgets.Button(
                description="Save", icon="save", tooltip="Store as a new prompt, or a new version of this one"
            ),
            "llamabook-save",
        )
        self.run_button = styled(
            widgets.Button(description="Run", icon="play", button_style="primary"), "llamabook-run"
        )
        self.stop_button = styled(widgets.Button(description="Stop", icon="stop", disabled=True), "llamabook-stop")
        self.status = styled(widgets.Label(""), "llamabook-status")
        self.output = styled(widgets.HTML(""), "llamabook-output")
        self.footer = styled(widgets.Label(""), "llamabook-footer")
        self.details = ResponseView(client=client)
        self.details_box = widgets.Accordion(children=[self.details], titles=("Response details",), selected_index=None)
        self.details_box.layout.display = "none"

        super().__init__(
            [
                widgets.HBox([self.heading, self.versions, self.set_default_button]),
                self.template,
                self.diff,
                self.variables,
                self.input,
                widgets.HBox([self.model, self.max_output_tokens, self.describe_images]),
                widgets.HBox([self.save_button, self.run_button, self.stop_button, self.status]),
                self.error,
                self.output,
                self.footer,
                self.details_box,
            ]
        )
        self.add_class("llamabook-prompt-editor")

        self.template.observe(self._on_template, "value")
        self.versions.observe(self._on_version, "value")
        self.set_default_button.on_click(lambda _: self.set_default())
        self.save_button.on_click(lambda _: self.save())
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self._load_models()
        self._refresh_files()
        if prompt is not None:
            self.load(prompt)

    # ---- public actions (the buttons call these) ---------------------------------------------

    @property
    def running(self) -> bool:
        """Whether a run is streaming."""
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the current run (if any) has ended; False if ``timeout`` passed first."""
        return self._done.wait(timeout)

    @guarded
    def load(self, prompt: Prompt | str) -> None:
        """Open a stored prompt: a :class:`Prompt` or a reference (``"tutor"``, ``"tutor@2"``, ``"pmpt_…@2"``)."""
        if not isinstance(prompt, (str, Prompt)):
            raise InvalidRequest(f"prompt must be a Prompt or a reference such as 'tutor@2', not {type(prompt).__name__}")
        prompt = self.client.prompts.get(prompt)
        self.error.clear()
        self._show_prompt(prompt)
        self._say_version()

    @guarded
    def save(self) -> Prompt | None:
        """Store the template: a new prompt, or a new default version of the one shown (unchanged: nothing)."""
        self.error.clear()
        prompt, stored = self._store()
        self.status.value = f"saved version {prompt.version}" if stored else f"unchanged (version {prompt.version})"
        return prompt

    @guarded
    def set_default(self) -> None:
        """Make the version picked in the version list the prompt's default."""
        if self.prompt is None:
            raise InvalidRequest("Save the prompt first; then pick a version to make the default")
        version = self.versions.value
        self.error.clear()
        self.client.prompts.set_default_version(self.prompt.prompt_id, version)
        self.prompt = self.client.prompts.retrieve(self.prompt.prompt_id, version)
        self._refresh_versions()
        self.status.value = f"version {version} is the default"

    @guarded
    def run(self) -> None:
        """Check the values, save a changed template, and start streaming (returns at once; see :meth:`wait`)."""
        if self.running:
            return
        self.error.clear()
        self._clear_result()  # from here on the panel shows this run's answer, or its error
        names = self._names()
        values = {name: value for name in names if (value := self.fields[name].value(self._files)) is not None}
        try:
            check_supplied(names, values, prompt_id=self.prompt.prompt_id if self.prompt else None)
        except MissingVariables:
            missing = ", ".join(repr(name) for name in names if name not in values)  # in template order
            self.error.show(f"MissingVariables: no value for {missing}. Type a value, or switch to file and pick one.")
            return
        prompt, _ = self._store()
        try:
            stream = self.client.responses.create(
                input=self.input.value or None,
                prompt=prompt,
                variables=values,
                model=self.model.value or None,
                max_output_tokens=self.max_output_tokens.value,
                describe_images=self.describe_images.value,
                stream=True,
            )
        except UnsupportedInput as exc:
            if exc.kind != "image":
                raise
            self.error.show(self._text_only_message(exc, values))
            return
        self._start(stream)  # type: ignore[arg-type]

    def _text_only_message(self, exc: UnsupportedInput, values: Mapping[str, Any]) -> str:
        """The text-only-model error in the panel's words: its checkbox, not the API's ``describe_images=True``."""
        images = [repr(n) for n, v in values.items() if isinstance(v, File) and v.mime_type.startswith("image/")]
        what = f"the image in {', '.join(images)}" if images else "images"
        return (
            f"UnsupportedInput: model {exc.model!r} is text-only and cannot see {what}. "
            f"Tick '{self.describe_images.description}' to send a short text description instead, "
            "or pick a model that accepts images."
        )

    def stop(self) -> None:
        """Stop the run at the next token; the embedded backend stores the partial response (``incomplete``)."""
        if self.running:
            self._stop.set()
            self.status.value = "stopping"

    def close(self) -> None:
        self._stop.set()
        super().close()

    # ---- streaming (background thread) ----------------------------------------------------------

    def _clear_result(self) -> None:
        """Empty the last run's answer, footer, details and status."""
        self.response = None
        self.output.value = self.footer.value = self.status.value = ""
        self.details_box.layout.display = "none"

    def _show_answer(self, text: str) -> None:
        self.output.value = ANSWER.format(html=views.safe_markdown_html(text))

    def _start(self, stream: ResponseStream) -> None:
        self._stop.clear()
        self._done.clear()
        self._set_running(True)
        self.status.value = "running"
        thread = threading.Thread(target=self._consume, args=(stream,), name="llamabook-prompt-editor", daemon=True)
        thread.start()

    def _consume(self, stream: ResponseStream) -> None:
        response_id: str | None = None
        throttle = Throttle(UPDATES_PER_SECOND)
        try:
            for event in stream:
                if event.type == "response.created":
                    response_id = event.response.id  # type: ignore[union-attr]
                elif event.type == "response.output_text.delta":
                    if self._stop.is_set():
                        stream.close()  # the backend stores the partial response as incomplete
                        break
                    if throttle.ready():
                        if stream.partial is not None:  # a structured output: its fields fill in
                            self.output.value = ANSWER.format(html=views.fields_html(stream.partial))
                        else:
                            self._show_answer(stream.text + CURSOR)
                        throttle.mark()
            response = stream.response
            if response is None and response_id is not None:
                try:
                    response = self.client.responses.retrieve(response_id)
                except LlamabookError:
                    response = None
            self._finish(response, stream.text)
        except Exception as exc:  # shown in the panel: a thread has no one else to tell
            self.error.show(exc)
            self.status.value = "failed"
        finally:
            self._set_running(False)
            self._done.set()

    def _finish(self, response: Response | None, text: str) -> None:
        if response is None:
            self._show_answer(text)
            self.status.value = "incomplete"
            return
        self.response = response
        self._show_answer(response.output_text)
        self.footer.value = views.summary_line(response)
        self.details.show(response)
        self.details_box.layout.display = ""
        if response.status == "failed":
            self.error.show(f"EngineError: {response.error.message if response.error else 'generation failed'}")
        self.status.value = response.status

    def __repr__(self) -> str:
        # The notebook's text/plain for this widget: what a reader sees where widgets do not render.
        on = f"{self.prompt.prompt_id}@{self.prompt.version}" if self.prompt is not None else "an unsaved prompt"
        return f"PromptEditor: {on} ({PANEL_NOTE})"

    def _set_running(self, running: bool) -> None:
        self.run_button.disabled = running
        self.save_button.disabled = running
        self.stop_button.disabled = not running

    # ---- prompt, versions, fields ------------------------------------------------------------------

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """Change widgets without their observers reacting."""
        self._quiet_depth += 1
        try:
            yield
        finally:
            self._quiet_depth -= 1

    def _store(self) -> tuple[Prompt, bool]:
        """(the prompt version to run, whether it was stored now)."""
        template = self.template.value
        if not template.strip():
            raise InvalidRequest("Write a template first, e.g. 'Summarise {{doc}} for {{name}}.'")
        if self.prompt is not None and template == self.prompt.template:
            return self.prompt, False
        shown = self.prompt
        try:  # the client's one save rule; an edit builds on the latest version the editor listed
            prompt = self.client.prompts.save(
                shown.prompt_id if shown else None,
                template,
                base_version=(self._latest or shown.version) if shown else None,
            )
        except VersionConflict:
            self._refresh_versions()  # list the newer version; Save again stores the edit on top of it
            raise
        self._show_prompt(prompt)
        return prompt, True

    def _show_prompt(self, prompt: Prompt) -> None:
        self.prompt = prompt
        with self._quiet():
            self.template.value = prompt.template
        self._refresh_versions()
        self._sync_fields()

    def _refresh_versions(self) -> None:
        if self.prompt is None:
            return
        history = self.client.prompts.versions(self.prompt.prompt_id)
        self._latest = history[-1].version if history else None
        with self._quiet():
            self.versions.options = [
                (f"v{p.version}" + (" · default" if p.is_default else ""), p.version) for p in history
            ]
            self.versions.value = self.prompt.version
        self.versions.disabled = False
        self.set_default_button.disabled = False
        self._show_heading()
        self._show_diff()

    def _show_heading(self) -> None:
        if self.prompt is None:
            self.heading.value = "New prompt (not saved)"
            return
        changed = " · edited, not saved" if self.template.value != self.prompt.template else ""
        self.heading.value = f"{self.prompt.prompt_id}{changed}"

    def _show_diff(self) -> None:
        """What a Save would change in the version shown (nothing shown when the text is that version's)."""
        shown, text = self.prompt, self.template.value
        self.diff.value = "" if shown is None or text == shown.template else views.diff_html(diff_draft(shown, text))
        self.diff.layout.display = "" if self.diff.value else "none"  # an empty HTML widget still takes a line

    def _names(self) -> list[str]:
        """The template's placeholders; for an unchanged stored version also its other declared variables."""
        names = placeholders(self.template.value)
        if self.prompt is not None and self.template.value == self.prompt.template:
            names += [name for name in self.prompt.variables if name not in names]
        return names

    def _sync_fields(self) -> None:
        names = self._names()
        for name in names:
            if name not in self.fields:
                self.fields[name] = VariableField(name, self._file_options, self._on_upload, self._on_pick)
        boxes = tuple(self.fields[name].box for name in names)
        if tuple(self.variables.children) != boxes:
            self.variables.children = boxes

    @guarded
    def _on_template(self, change: dict[str, Any]) -> None:
        if self._quiet_depth:
            return
        self._sync_fields()
        self._show_heading()
        self._show_diff()

    @guarded
    def _on_version(self, change: dict[str, Any]) -> None:
        if self._quiet_depth or change["new"] is None or self.prompt is None:
            return
        self.error.clear()
        self._show_prompt(self.client.prompts.retrieve(self.prompt.prompt_id, change["new"]))
        self._say_version()

    def _say_version(self) -> None:
        """Name the version shown in the status line (which may still name the last save or run)."""
        if self.prompt is not None:
            default = " (the default)" if self.prompt.is_default else ""
            self.status.value = f"showing version {self.prompt.version}{default}"

    # ---- models and files ------------------------------------------------------------------------

    @guarded
    def _load_models(self) -> None:
        models = self.client.models.list()
        self.model.options = [(f"{m.id} ({', '.join(m.accepts)})", m.id) for m in models]
        ids = [m.id for m in models]
        default = self.client.models.default() if ids else None
        self.model.value = default if default in ids else (ids[0] if ids else None)

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
        mime = sniff_mime(data, name)
        if not (mime.startswith("image/") or mime == "application/pdf"):
            raise InvalidRequest(f"{name!r} is {mime}: upload an image (PNG, JPEG, GIF, WebP) or a PDF")
        if mime.startswith("image/"):
            check_image(field.name, data, name)  # a truncated or bomb image fails here, not after it is stored
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
