"""``ResponseView``: one response in tabs — output, input, usage and timing, raw JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ipywidgets as widgets

from .. import views
from ..errors import InvalidRequest
from ..throttle import Throttle
from ..types import Response
from ._common import PANEL_NOTE, ErrorArea, guarded, styled

if TYPE_CHECKING:
    from ..client import Client
    from ..evaluation.compare import Cell
    from ..resources.responses import ResponseStream
    from ..views.tool_steps import Results

TITLES = ("Output", "Input", "Usage", "Raw JSON")
#: Live updates of a followed stream, at most this many a second.
UPDATES_PER_SECOND = 10


class ResponseView(widgets.VBox):
    """A response in four tabs: the output (Markdown, sanitized, and the tool calls as steps), the input
    (the messages the model saw and the attachments), usage and timing, and the raw JSON.

    With ``client`` the attachments show their filename, size and a thumbnail (read through
    the client); without it they show their file ids. :meth:`show` replaces the response;
    :meth:`follow` shows a stream as it arrives (a structured output's fields filling in).

    >>> ResponseView(client.responses.retrieve("resp_…"), client=client)
    """

    def __init__(self, response: Response | None = None, client: Client | None = None, results: Results = None) -> None:
        self.client = client
        self.response: Response | None = None
        self.results: Results = None
        self.header = styled(widgets.HTML(), "llamabook-response-header")
        self.output = styled(widgets.HTML(), "llamabook-response-output")
        self.input = styled(widgets.HTML(), "llamabook-response-input")
        self.usage = styled(widgets.HTML(), "llamabook-response-usage")
        self.raw = styled(widgets.HTML(), "llamabook-response-raw")
        self.error = ErrorArea()
        self.tabs = widgets.Tab(children=[self.output, self.input, self.usage, self.raw], titles=TITLES)
        super().__init__([self.header, self.error, self.tabs])
        self.add_class("llamabook-response-view")
        if response is not None:
            self.show(response, results)

    def __repr__(self) -> str:
        # The notebook's text/plain for this widget: what a reader sees where widgets do not render.
        shown = f"response {self.response.id}" if self.response is not None else "no response"
        return f"ResponseView: {shown} ({PANEL_NOTE})"

    def follow(self, stream: ResponseStream) -> Response | None:
        """Show a streaming response as it arrives, then the final one (returned; None if the stream had none).

        A structured output's fields fill in (``stream.partial``); other output shows as text so far.
        Runs in the caller's thread (``client.responses.create(..., stream=True)`` gives the stream).
        """
        throttle = Throttle(UPDATES_PER_SECOND)
        for event in stream:
            if event.type == "response.output_text.delta" and throttle.ready():
                partial = stream.partial
                self.output.value = views.fields_html(partial) if partial is not None else views.safe_markdown_html(stream.text)
                throttle.mark()
        if stream.response is not None:
            self.show(stream.response)
        return stream.response

    @guarded
    def show(self, response: Response, results: Results = None) -> None:
        """Show ``response`` (attachments are read through the client when there is one).

        Its tool calls are steps in the Output tab: each call's name, its arguments as a table and, when
        ``results`` has it (``{call_id: text}``, or the next request's input items), its result.
        """
        self.error.clear()
        if not isinstance(response, Response):
            hint = " (read it with client.responses.retrieve(id))" if isinstance(response, str) else ""
            raise InvalidRequest(f"ResponseView shows a Response{hint}, not a {type(response).__name__}")
        self.response, self.results = response, results
        sections = views.response_sections(response, views.attachments(response, self.client), results)
        self.header.value = sections["header"]
        self.output.value = sections["output"]
        self.input.value = sections["input"]
        self.usage.value = sections["usage"]
        self.raw.value = sections["raw"]


#: What a call's stored record says when it is shown instead of its response.
RECORD_NOTES = {
    "batch": "a batch's answer (no Responses id): shown from its stored result",
    "no client": "no client to read its response: shown from the grid",
}


def call_view(cell: Cell, client: Client | None, where: str) -> widgets.Widget:
    """What opening one grid call shows (CompareView, BehaviourView): its response's :class:`ResponseView`,
    read with ``client.responses.retrieve``; its stored record for a batch's answer (no Responses id) or
    when there is no client. A call that made no response is an InvalidRequest naming ``where`` it is."""
    if cell.response_id and client is not None:
        return ResponseView(client.responses.retrieve(cell.response_id), client=client)
    if cell.custom_id or cell.response_id:
        note = RECORD_NOTES["no client" if cell.response_id else "batch"]
        return styled(widgets.HTML(views.record_html(cell.record(), status=cell.status, note=note)), "llamabook-run-record")
    raise InvalidRequest(f"{where} made no response ({cell.error or 'no error recorded'})")
