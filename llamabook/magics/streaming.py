"""Showing a response stream as it arrives: one display updated in place, or plain text in a terminal."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from IPython.display import display

from ..throttle import Throttle
from .bundles import body_bundle, fields_bundle

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..types import Response

UPDATES_PER_SECOND = 10


def updatable(shell: InteractiveShell) -> bool:
    """Whether displays can be updated in place (a kernel, or captured); not a terminal."""
    from IPython.core.displaypub import DisplayPublisher

    return type(shell.display_pub) is not DisplayPublisher


def show_stream(shell: InteractiveShell, events: Any, fmt: str) -> Response:
    """Show a response stream as it arrives (throttled updates, or plain text in a terminal).

    With a schema, a live display shows the fields filling in (``events.partial``), not the raw text.
    """
    live = updatable(shell)
    handle = display(body_bundle("", "text"), raw=True, display_id=True) if live else None
    throttle = Throttle(UPDATES_PER_SECOND)
    draft = "markdown" if fmt == "markdown" else "text"
    try:
        for event in events:
            if event.type != "response.output_text.delta":
                continue
            if handle is None:
                sys.stdout.write(event.delta)
                sys.stdout.flush()
            elif throttle.ready():
                partial = getattr(events, "partial", None)
                handle.update(fields_bundle(partial) if partial is not None else body_bundle(events.text + " ▌", draft), raw=True)
    except KeyboardInterrupt:
        events.close()  # stored as incomplete
        raise
    response = events.response
    if handle is not None:
        handle.update(body_bundle(response.output_text, fmt, response), raw=True)
    elif fmt == "json":
        print("\n" + json.dumps(response.model_dump(mode="json"), indent=2))
    else:
        print()
    return response
