"""Pieces shared by the panels: CSS classes, the inline error area, guarded handlers."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import ipywidgets as widgets

from .. import views

log = logging.getLogger("llamabook.widgets")

W = TypeVar("W", bound=widgets.DOMWidget)
F = TypeVar("F", bound=Callable[..., Any])

#: Ends each panel's text/plain (its repr), which a notebook shows where widgets do not render.
PANEL_NOTE = "run the cell to use this panel"  # short: ipywidgets cuts text/plain at 110 characters


#: The panels' CSS rules (``views/templates/panel_style.html``): static, scoped to llamabook's classes,
#: Jupyter's theme variables only.
STYLESHEET = "panel_style.html"


def stylesheet() -> widgets.HTML:
    """The panels' CSS rules in an HTML widget that shows nothing (class ``llamabook-stylesheet``).

    A panel that needs them puts it among its children; the rules apply to the whole page once it is
    shown, so two panels' copies are the same rules twice, no conflict.
    """
    return styled(widgets.HTML(views.render(STYLESHEET), layout=widgets.Layout(display="none")), "llamabook-stylesheet")


def styled(widget: W, *names: str) -> W:
    """Add CSS classes (the DOM hooks the browser tests use) and return the widget."""
    for name in names:
        widget.add_class(name)
    return widget


def replace_children(box: widgets.Box, children: list[widgets.Widget]) -> None:
    """Show ``children`` in ``box`` and close the widgets it no longer shows.

    Closing frees their front-end models; a panel redrawn many times in a long-running kernel
    would otherwise keep every table it ever drew.
    """
    old, box.children = list(box.children), children
    keep = {id(child) for child in children}
    for child in old:
        if id(child) not in keep:
            _close_tree(child)


def _close_tree(widget: widgets.Widget) -> None:
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
        if isinstance(part, widgets.Widget):  # each widget's own, never shared in these panels
            part.close()
    widget.close()


def describe_error(problem: BaseException | str) -> str:
    """One line for the panel: ``'MissingVariables: Missing value for …'``."""
    if isinstance(problem, str):
        return problem
    return f"{type(problem).__name__}: {problem}"


class ErrorArea(widgets.HTML):
    """The inline error box of a panel (class ``llamabook-error``); empty when there is no problem."""

    def __init__(self) -> None:
        super().__init__(value="")
        self.add_class("llamabook-error")
        self.message = ""

    def show(self, problem: BaseException | str) -> None:
        self.message = describe_error(problem)
        self.value = views.error_html(self.message)

    def clear(self) -> None:
        self.message = ""
        self.value = ""


def guarded(method: F) -> F:
    """Run a handler; any exception is shown in ``self.error`` instead of reaching the kernel."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            log.debug("%s failed", method.__qualname__, exc_info=True)
            self.error.show(exc)
            return None

    return wrapper  # type: ignore[return-value]
