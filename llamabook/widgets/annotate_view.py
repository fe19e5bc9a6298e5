"""``AnnotateView``: label a grid's results by hand, one at a time, saved with ``client.annotations``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import views
from ..errors import InvalidRequest
from ..evaluation.compare import Cell, CheckMark
from ..frames import check_columns, none_if_missing
from ..inputs import is_dataframe
from ..resources.annotations import PREFIX, check_name
from ._common import PANEL_NOTE, ErrorArea, guarded, styled

if TYPE_CHECKING:
    import pandas

    from ..client import Client

#: Number keys pick a choice (1 … 9), so at most this many choices.
MAX_CHOICES = 9
#: The shortcut box's keys, besides the numbers: each moves by this many results.
MOVES = {"j": 1, "n": 1, "k": -1, "p": -1}
KEYS_HINT = "keys: 1–{last} label · j/n next · k/p previous"


class AnnotateView(widgets.VBox):
    """A grid's results one at a time: the row's input, the call's output (as inert text) and its check
    marks, a button per choice, previous/next, a note and a progress count ("3 of 12 labelled").

    A choice is saved at once with ``client.annotations.set(row, name, choice, note=…)`` (so
    ``client.annotations.attach(grid)`` gives the ``human_<name>`` column) and the next result shows.
    ``choices`` are JSON values (default ``(True, False)``); up to nine.

    **Keyboard**: ipywidgets gives a panel no key events, so the shortcuts are typed into the
    *keys* box (a text box sending each keystroke): ``1`` … ``9`` pick a choice, ``j``/``n`` the next
    result, ``k``/``p`` the previous one; the box empties itself. Its key presses stay in it (they
    never reach the notebook's shortcuts); clicking into it once is the price. The note box saves its
    text with the label on Enter (the result's label again, when it has one).

    >>> AnnotateView(client, grid, "correct", choices=[True, False])
    """

    def __init__(
        self, client: Client, grid: pandas.DataFrame, name: str, choices: Sequence[Any] = (True, False)
    ) -> None:
        _check_grid(grid)
        self.client = client
        self.grid = grid
        self.name = check_name(name)
        self.choices = _checked_choices(choices)
        #: The result shown: its position in the grid (0 … len − 1).
        self.position = 0
        #: The value of each labelled call, by call key (read from the home when the panel opens).
        self.labels: dict[str, Any] = {}
        self.notes: dict[str, str] = {}
        self._call_keys = _call_keys(grid)
        self._quiet = False
        self.error = ErrorArea()
        self.progress = styled(widgets.Label(""), "llamabook-annotate-progress")
        self.where = styled(widgets.HTML(""), "llamabook-annotate-where")
        self.input = styled(widgets.HTML(""), "llamabook-annotate-input")
        self.output = styled(widgets.HTML(""), "llamabook-annotate-output")
        self.current = styled(widgets.HTML(""), "llamabook-annotate-current")
        self.choice_buttons = [self._choice_button(i) for i in range(len(self.choices))]
        self.previous = self._move_button("◀ previous", -1, "llamabook-annotate-previous")
        self.next = self._move_button("next ▶", 1, "llamabook-annotate-next")
        self.note = styled(
            widgets.Text(placeholder="note (Enter saves it with the label)", continuous_update=False),
            "llamabook-annotate-note",
        )
        self.shortcuts = styled(
            widgets.Text(placeholder=KEYS_HINT.format(last=len(self.choices)), continuous_update=True),
            "llamabook-annotate-keys",
        )
        self.note.observe(self._note_changed, names="value")
        self.shortcuts.observe(self._keys_typed, names="value")
        bar = widgets.HBox([self.previous, *self.choice_buttons, self.next])
        super().__init__([self.progress, self.error, self.where, self.input, self.output, self.current, bar,
                          widgets.HBox([self.note, self.shortcuts])])  # fmt: skip
        self.add_class("llamabook-annotate-view")
        self._load()

    def __repr__(self) -> str:
        # The notebook's text/plain for this widget: what a reader sees where widgets do not render.
        return f"AnnotateView: {self.name!r}, {self.summary()} ({PANEL_NOTE})"

    def summary(self) -> str:
        """``3 of 12 labelled``."""
        done = sum(1 for key in self._keys() if key in self.labels)
        return f"{done} of {len(self.grid)} labelled"

    # ---- actions ----------------------------------------------------------------------------------

    @guarded
    def choose(self, index: int) -> None:
        """Label the result shown with choice ``index`` (0-based), with the note's text; then show the next."""
        self.error.clear()
        if not 0 <= index < len(self.choices):
            raise InvalidRequest(f"There are {len(self.choices)} choices: 1 to {len(self.choices)}")
        self._save(self.choices[index])
        if self.position < len(self.grid) - 1:
            self.show(self.position + 1)
        else:
            self._render()

    @guarded
    def show(self, position: int) -> None:
        """Show result ``position`` (0-based; kept within the grid)."""
        self.error.clear()
        self.position = max(0, min(int(position), len(self.grid) - 1))
        self._render()

    def move(self, step: int) -> None:
        """Show the result ``step`` places on (negative: back)."""
        self.show(self.position + step)

    # ---- drawing and events -----------------------------------------------------------------------

    @guarded
    def _load(self) -> None:
        found = self.client.annotations.attach(self.grid) if len(self.grid) else self.grid
        column, notes = f"{PREFIX}{self.name}", f"{PREFIX}{self.name}_note"
        if column in found.columns:
            for key, value, note in zip(self._keys(), found[column].tolist(), found[notes].tolist()):
                if key is not None and none_if_missing(value) is not None:
                    self.labels[key] = _plain(value)
                    if none_if_missing(note):
                        self.notes[key] = str(note)
        self._render()

    def _render(self) -> None:
        self.progress.value = self.summary()
        if not len(self.grid):
            self.where.value = views.text_cell("The grid has no results to label")
            return
        row = self.grid.iloc[self.position]
        heading = f"result {self.position + 1} of {len(self.grid)}"
        self.where.value = views.text_cell(" · ".join([heading, *_place(row)]))
        self.input.value = views.record_html([(name, none_if_missing(row[name])) for name in _own_columns(self.grid)])
        self.output.value = views.compare_cell_html(_cell(row, self.grid.columns))
        key = self._keys()[self.position]
        labelled = key in self.labels
        shown = f"{self.name}: {json.dumps(self.labels[key])}" if labelled else f"{self.name}: not labelled yet"
        self.current.value = views.text_cell(shown, limit=200)
        for button, choice in zip(self.choice_buttons, self.choices):
            button.button_style = "info" if labelled and self.labels[key] == choice else ""
        self.previous.disabled = self.position == 0
        self.next.disabled = self.position >= len(self.grid) - 1
        self._quiet = True
        try:
            self.note.value = self.notes.get(key or "", "")
        finally:
            self._quiet = False

    def _save(self, value: Any) -> None:
        row = self.grid.iloc[self.position]
        note = self.note.value.strip() or None
        self.client.annotations.set(row, self.name, value, note=note)
        key = self._keys()[self.position]
        assert key is not None  # set() refused a row without one
        self.labels[key] = value
        if note:
            self.notes[key] = note
        else:
            self.notes.pop(key, None)

    @guarded
    def _note_changed(self, change: dict[str, Any]) -> None:
        """The note box's Enter (or leaving it): the label shown is saved again with the note."""
        if self._quiet:
            return
        self.error.clear()
        key = self._keys()[self.position] if len(self.grid) else None
        if key in self.labels:
            self._save(self.labels[key])

    @guarded
    def _keys_typed(self, change: dict[str, Any]) -> None:
        """Each key typed into the keys box: a number picks a choice, j/n and k/p move; the box empties."""
        typed = str(change["new"] or "")
        if not typed or self._quiet:
            return
        self._quiet = True
        try:
            self.shortcuts.value = ""
        finally:
            self._quiet = False
        for key in typed.lower():
            if key.isdigit() and 1 <= int(key) <= len(self.choices):
                self.choose(int(key) - 1)
            elif key in MOVES:
                self.move(MOVES[key])

    def _keys(self) -> list[str | None]:
        """Each result's call key (None where the grid has none)."""
        return self._call_keys

    def _choice_button(self, index: int) -> widgets.Button:
        label = _label(self.choices[index])
        button = styled(
            widgets.Button(description=f"{index + 1} · {label}", tooltip=f"label it {label} (key {index + 1})"),
            "llamabook-annotate-choice",
        )
        button.layout.width = "auto"
        button.on_click(lambda _: self.choose(index))
        return button

    def _move_button(self, description: str, step: int, name: str) -> widgets.Button:
        button = styled(widgets.Button(description=description, layout=widgets.Layout(width="auto")), name)
        button.on_click(lambda _: self.move(step))
        return button


def _check_grid(grid: Any) -> None:
    if not is_dataframe(grid):
        raise InvalidRequest(f"AnnotateView labels the results of a client.grid DataFrame, not a {type(grid).__name__}")
    if "call_key" not in grid.columns:
        raise InvalidRequest(
            "AnnotateView needs the grid's call_key column (what a label is kept by): give it client.grid's DataFrame"
        )


def _call_keys(grid: pandas.DataFrame) -> list[str | None]:
    return [key if isinstance(key, str) and key else None for key in map(none_if_missing, grid["call_key"].tolist())]


def _checked_choices(choices: Any) -> tuple[Any, ...]:
    """The choices as a tuple: 1 to 9 distinct JSON values (not null)."""
    if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
        raise InvalidRequest(f"choices is a list of labels, e.g. [True, False] or ['good', 'bad'], not {choices!r}")
    found = tuple(choices)
    if not 1 <= len(found) <= MAX_CHOICES:
        raise InvalidRequest(f"AnnotateView takes 1 to {MAX_CHOICES} choices (one number key each), not {len(found)}")
    texts = []
    for choice in found:
        try:
            texts.append(json.dumps(choice, allow_nan=False))
        except (TypeError, ValueError):
            raise InvalidRequest(f"A choice is a JSON value (bool, number, text), not {choice!r}") from None
        if choice is None:
            raise InvalidRequest("A choice can't be None: a label with no value is no label")
    if len(set(texts)) != len(texts):
        raise InvalidRequest(f"The choices repeat one: {list(found)!r}")
    return found


def _label(choice: Any) -> str:
    """A choice as a button shows it: ``yes``/``no`` for True/False, else its text."""
    if choice is True or choice is False:
        return "yes" if choice else "no"
    return str(choice)


def _plain(value: Any) -> Any:
    """A frame's value as Python's (numpy's bool as bool)."""
    return value.item() if type(value).__module__ == "numpy" and hasattr(value, "item") else value


def _own_columns(grid: pandas.DataFrame) -> list[str]:
    """The row's own columns, as the grid marked them (``grid.attrs``)."""
    mark = grid.attrs.get("llamabook", {}).get("grid", {})
    return [str(name) for name in mark.get("own", []) if name in grid.columns]


def _place(row: pandas.Series) -> list[str]:
    """Where the result sits: its row, version, model and repeat (those the grid has)."""
    parts = []
    for name, shown in (("row", "row {}"), ("version", "v{}"), ("model", "{}"), ("repeat", "repeat {}")):
        value = none_if_missing(row.get(name))
        if value is not None:
            parts.append(shown.format(value))
    return parts


def _cell(row: pandas.Series, columns: Any) -> Cell:
    """The row's call as a comparison cell: output, status, error and check marks (shown inertly by the views)."""
    value = {str(k): none_if_missing(v) for k, v in row.items()}
    return Cell(
        row=int(value.get("row") or 0),
        version=value.get("version"),
        model=str(value.get("model") or ""),
        output_text=value.get("output_text"),
        status=value.get("status"),
        error=value.get("error"),
        cut_off=bool(value.get("cut_off")),
        response_id=value.get("response_id"),
        checks=tuple(
            CheckMark.of(name, value.get(column), value.get(f"{column}_error"))
            for name, column in check_columns(columns).items()
        ),
    )


__all__ = ["AnnotateView"]
