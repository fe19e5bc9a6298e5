"""PromptEditor's widgets: how each looks and where it sits.

Notebook 06 stores this tree (the rows in this order, their CSS classes, layouts and descriptions)
and nbval replays it: a change here is a change to that notebook's saved widget state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import ipywidgets as widgets

from .._common import ErrorArea, styled, stylesheet
from ..response_view import TITLES, ResponseView

if TYPE_CHECKING:
    from ...client import Client

#: The heading while the editor is on no stored prompt.
UNSAVED = "New prompt (not saved)"
#: The answer area's highest: a longer answer scrolls inside it (its details are under it).
ANSWER_MAX_HEIGHT = "24em"
#: A text box as wide as the panel: ``"auto"`` stretches it to the panel less its margins
#: (``"100%"`` plus ipywidgets' 2 px margins made the panel 4 px wider than the output area).
FULL_WIDTH = "auto"


class EditorWidgets:
    """The widgets of a :class:`~llamabook.widgets.PromptEditor`, made by :meth:`_make_widgets`.

    The editor's other parts (fields, versions, streaming) build on this class: they read and
    set these widgets, and change them :meth:`_quiet`-ly when their own observers must not react.
    """

    client: Client
    _quiet_depth: int

    error: ErrorArea
    heading: widgets.Label
    versions: widgets.Dropdown
    set_default_button: widgets.Button
    template: widgets.Textarea
    #: The unsaved text against the version shown, changes marked inline; empty when they are the same.
    diff: widgets.HTML
    variables: widgets.VBox
    input: widgets.Textarea
    model: widgets.Dropdown
    max_output_tokens: widgets.BoundedIntText
    describe_images: widgets.Checkbox
    save_button: widgets.Button
    run_button: widgets.Button
    stop_button: widgets.Button
    status: widgets.Label
    output: widgets.HTML
    footer: widgets.Label
    #: The panel's few CSS rules (``views/templates/panel_style.html``, Jupyter's theme variables only),
    #: in an HTML widget that shows nothing.
    stylesheet: widgets.HTML
    #: The last run's response (shown in ``details_box``, "Response details", once the run has ended).
    details: ResponseView
    details_box: widgets.Accordion

    def _make_widgets(self, input: str, max_output_tokens: int) -> list[widgets.Widget]:
        """Make the widgets; returns the panel's rows, top to bottom."""
        self.error = ErrorArea()
        self._make_prompt_widgets(input)
        self._make_run_widgets(max_output_tokens)
        return [
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
            self.stylesheet,
        ]

    def _make_prompt_widgets(self, input: str) -> None:
        """What is sent: the heading and versions, the template and its diff, the variables, the user input."""
        self.heading = styled(widgets.Label(UNSAVED), "llamabook-prompt-id")
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
                layout=widgets.Layout(width=FULL_WIDTH, height="8em"),
            ),
            "llamabook-template",
        )
        self.diff = styled(widgets.HTML("", layout=widgets.Layout(display="none")), "llamabook-diff")
        self.variables = styled(widgets.VBox(), "llamabook-variables")
        self.input = styled(
            widgets.Textarea(
                value=input, placeholder="User input (optional)", rows=2, layout=widgets.Layout(width=FULL_WIDTH)
            ),
            "llamabook-input",
        )

    def _make_run_widgets(self, max_output_tokens: int) -> None:
        """How it runs and what comes back: model and options, the buttons and status, the answer and its details."""
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
        self.output = styled(
            widgets.HTML("", layout=widgets.Layout(max_height=ANSWER_MAX_HEIGHT, overflow="auto")), "llamabook-output"
        )
        self.footer = styled(widgets.Label(""), "llamabook-footer")  # wraps (the stylesheet): never cut off
        self.stylesheet = stylesheet()  # the footer wraps; the picked text/file switch stands out, in both themes
        self.details = ResponseView(client=self.client)
        # The answer is in the answer area above: the details show the rest, not the answer a second time.
        self.details.tabs.children = [tab for tab in self.details.tabs.children if tab is not self.details.output]
        self.details.tabs.titles = tuple(title for title in TITLES if title != "Output")
        self.details_box = widgets.Accordion(children=[self.details], titles=("Response details",), selected_index=None)
        self.details_box.layout.display = "none"

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """Change widgets without their observers reacting."""
        self._quiet_depth += 1
        try:
            yield
        finally:
            self._quiet_depth -= 1
