"""PromptEditor's run: the answer streamed in from a background thread, then its summary and details.

The thread reads the stream and sets widget values, so the kernel stays free; **Stop** sets an
event the thread checks at each token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ... import views
from ...errors import LlamabookError
from ...throttle import Throttle
from .layout import EditorWidgets

if TYPE_CHECKING:
    from ...resources.responses import ResponseStream
    from ...types import Response

UPDATES_PER_SECOND = 10
CURSOR = " ▌"
#: The answer's own line height: an HTML widget's content has ipywidgets' one-control line height
#: (``--jp-widgets-inline-height``, 28 px at JupyterLab's 13 px font), which double-spaces every line.
ANSWER = '<div class="llamabook-answer" style="line-height:1.5;overflow-wrap:anywhere;">{html}</div>'


class StreamingMixin(EditorWidgets):
    """PromptEditor's part that streams a run's answer into the panel and shows how the run ended."""

    response: Response | None
    _stop: threading.Event
    _done: threading.Event
    _given_name: Callable[[], str | None]

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
        self.footer.value = views.summary_line(response, self._given_name())
        self.details.show(response)
        self.details_box.layout.display = ""
        if response.status == "failed":
            self.error.show(f"EngineError: {response.error.message if response.error else 'generation failed'}")
        self.status.value = status_line(response)

    def _set_running(self, running: bool) -> None:
        self.run_button.disabled = running
        self.save_button.disabled = running
        self.stop_button.disabled = not running


def status_line(response: Response) -> str:
    """How the run ended, with the reason when it is incomplete: ``incomplete: cut off at max_output_tokens``
    (:data:`views.CUT_OFF_MARK`, as the footer says it), ``incomplete: cancelled`` (Stop), else the status."""
    if response.status != "incomplete":
        return response.status
    reason = views.CUT_OFF_MARK if response.cut_off else (response.incomplete_details or {}).get("reason")
    return f"incomplete: {reason}" if reason else "incomplete"
