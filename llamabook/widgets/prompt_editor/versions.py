"""PromptEditor's prompt: storing an edit, the version list, the heading and the unsaved diff."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ... import views
from ...diffs import diff_draft
from ...errors import InvalidRequest, VersionConflict
from .._common import guarded
from .layout import UNSAVED, EditorWidgets

if TYPE_CHECKING:
    from ...types import Prompt


class VersionsMixin(EditorWidgets):
    """PromptEditor's part that stores the template and shows which version of the prompt it is on."""

    prompt: Prompt | None
    _latest: int | None
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
        self.heading.value = f"{self.prompt.prompt_id}{changed}"

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
