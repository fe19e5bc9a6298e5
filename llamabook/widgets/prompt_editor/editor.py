"""``PromptEditor``: the panel, its state, and what its buttons do."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ...errors import InvalidRequest, MissingVariables, UnsupportedInput
from ...templates import check_supplied
from ...types import File, Prompt, Response
from .._common import PANEL_NOTE, guarded
from .fields import NO_FILE, FieldsMixin, VariableField
from .streaming import StreamingMixin
from .versions import VersionsMixin

if TYPE_CHECKING:
    from ...client import Client


class PromptEditor(VersionsMixin, FieldsMixin, StreamingMixin, widgets.VBox):
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
        self._given: Prompt | str | None = None
        self._opened_version: int | None = None
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

        super().__init__(self._make_widgets(input, max_output_tokens))
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

    def __repr__(self) -> str:
        # The notebook's text/plain for this widget: what a reader sees where widgets do not render.
        on = f"{self.prompt.prompt_id}@{self.prompt.version}" if self.prompt is not None else "an unsaved prompt"
        return f"PromptEditor: {on} ({PANEL_NOTE})"

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
        given, prompt = prompt, self.client.prompts.get(prompt)
        self.error.clear()
        self._given, self._opened_version = given, prompt.version
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
        values = self._values(names)
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

    # ---- models ------------------------------------------------------------------------------------

    @guarded
    def _load_models(self) -> None:
        models = self.client.models.list()
        self.model.options = [(f"{m.id} ({', '.join(m.accepts)})", m.id) for m in models]
        ids = [m.id for m in models]
        default = self.client.models.default() if ids else None
        self.model.value = default if default in ids else (ids[0] if ids else None)
