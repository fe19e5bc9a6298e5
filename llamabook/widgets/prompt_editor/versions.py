"""PromptEditor's prompt: storing an edit, the version list, the heading and the unsaved diff."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ... import views
from ...diffs import diff_draft
from ...errors import InvalidRequest, VersionConflict
from ...types.refs import written_as, written_name
from .._common import guarded
from .layout import UNSAVED, EditorWidgets

if TYPE_CHECKING:
    from ...types import Prompt


class VersionsMixin(EditorWidgets):
    """PromptEditor's part that stores the template and shows which version of the prompt it is on."""

    prompt: Prompt | None
    _latest: int | None
    #: What the user opened (``"haiku"``, ``"haiku@2"``, a Prompt), and its version: the heading names the prompt so.
    _given: Prompt | str | None
    _opened_version: int | None
    _sync_fields: Callable[[], None]

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
        if shown is None:  # a new prompt: named by its id (it has no name), from its first version
            self._given, self._opened_version = None, prompt.version
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
            self.heading.value = UNSAVED
            return
        changed = " · edited, not saved" if self.template.value != self.prompt.template else ""
        self.heading.value = f"{self._prompt_name()}{changed}"

    def _prompt_name(self) -> str:
        """The prompt shown, named as its user named it (:func:`written_as`): ``haiku`` as opened, ``haiku@2``
        once another version is shown; the ``pmpt_…`` id only when it was opened by id or has no name."""
        if self.prompt is None:
            return UNSAVED
        given = self._given if self._given is not None else self.prompt
        if self.prompt.version == self._opened_version:
            named = written_as(given)
        else:
            named = written_as(written_name(given), self.prompt.version)
        return named or self.prompt.prompt_id

    def _given_name(self) -> str | None:
        """The prompt's name as the user gave it (``haiku``), for the answer's summary line; None for an id."""
        if self.prompt is None:
            return None
        name = written_name(self._given if self._given is not None else self.prompt)
        return None if name is None or name.startswith("pmpt_") else name

    def _show_diff(self) -> None:
        """What a Save would change in the version shown (nothing shown when the text is that version's)."""
        shown, text = self.prompt, self.template.value
        self.diff.value = "" if shown is None or text == shown.template else views.diff_html(diff_draft(shown, text))
        self.diff.layout.display = "" if self.diff.value else "none"  # an empty HTML widget still takes a line

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
