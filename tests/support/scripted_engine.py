"""A small deterministic engine for tests of parsing, layout and grid mechanics: no model needed.

Its answer is made from the messages it receives, so a test can assert on what reached the engine:
``[system: <text>] `` for each system message, then ``echo: <the last user message's text>``
(a non-text part shows as ``<image_url>`` or ``<file>``). It streams one word (with the whitespace
after it) per delta and counts one output token per delta, so ``max_output_tokens=n`` keeps the
first ``n`` words and finishes with "length". Every call is kept in :attr:`ScriptedEngine.calls`.

When told to (:meth:`ScriptedEngine.fail`), it raises :class:`~llamabook.EngineError` before the first
word for calls whose messages contain a marker, as a model failing while it generates would.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from llamabook import EngineError, Model
from llamabook.engines import Generation, GenerationOptions

MODEL_ID = "test/scripted"


def text_of(content: Any) -> str:
    """A message's content as text: a string as it is, content parts joined, non-text parts as ``<type>``."""
    if isinstance(content, str):
        return content
    return "\n\n".join(p["text"] if p.get("type") == "text" else f"<{p.get('type')}>" for p in content or [])


def echo(messages: Sequence[dict[str, Any]]) -> str:
    """The scripted answer: a marker for each system message, then the last user message echoed."""
    systems = [f"[system: {text_of(m['content'])}]" for m in messages if m.get("role") == "system"]
    users = [text_of(m["content"]) for m in messages if m.get("role") == "user"]
    return " ".join([*systems, f"echo: {users[-1]}" if users else "echo:"])


def words(text: str) -> list[str]:
    """``text`` in deltas of one word each; joined, they give ``text`` back exactly."""
    return re.findall(r"\s*\S+\s*", text) or ([text] if text else [])


@dataclass(frozen=True)
class Call:
    """One ``generate`` call, as the engine received it."""

    model: str
    messages: list[dict[str, Any]]
    options: GenerationOptions

    @property
    def system(self) -> list[str]:
        """The text of each system message."""
        return [text_of(m["content"]) for m in self.messages if m.get("role") == "system"]

    @property
    def user(self) -> str:
        """The text of the last user message ("" when there is none)."""
        users = [text_of(m["content"]) for m in self.messages if m.get("role") == "user"]
        return users[-1] if users else ""


class ScriptedEngine:
    """An :class:`~llamabook.engines.Engine` whose answer is :func:`echo` of its messages (or ``answer``'s).

    ``accepts`` is what its one model takes (text only by default, as the embedded tiny model), so the
    media fallbacks still run. ``delay_s`` is slept before each delta: a stream that lasts long enough
    to watch, stop or overlap. Thread-safe: a grid may call it from several threads.
    """

    name = "scripted"

    def __init__(
        self,
        model_id: str = MODEL_ID,
        *,
        accepts: Sequence[str] = ("text",),
        delay_s: float = 0.0,
        answer: Callable[[list[dict[str, Any]]], str] = echo,
    ) -> None:
        self.model_id = model_id
        self.accepts = list(accepts)
        self.delay_s = delay_s
        self.answer = answer
        self.calls: list[Call] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._failures: dict[str, list[Any]] = {}  # marker -> [calls left to fail (None: all), status, retry_after]
        self._lock = threading.Lock()

    def models(self) -> list[Model]:
        return [Model(id=self.model_id, owned_by="tests", engine=self.name, accepts=self.accepts, context_length=2048)]

    def fail(
        self, marker: str, *, times: int | None = None, status_code: int | None = None, retry_after: float | None = None
    ) -> ScriptedEngine:
        """Raise :class:`EngineError` for calls whose messages contain ``marker``: the next ``times``, or all.

        ``status_code`` 429 or 5xx makes the error retryable (as a server's would be), None does not;
        ``retry_after`` (seconds) is the wait a retry honours instead of its backoff.
        """
        with self._lock:
            self._failures[marker] = [times, status_code, retry_after]
        return self

    def generate(self, model: str, messages: list[dict[str, Any]], options: GenerationOptions) -> Generation:
        call = Call(model, [dict(m) for m in messages], options)
        with self._lock:
            self.calls.append(call)
        generation = Generation()
        generation.start(self._stream(call, generation))
        return generation

    def _failure(self, call: Call) -> EngineError | None:
        seen = " ".join(text_of(m["content"]) for m in call.messages)
        with self._lock:
            for marker, plan in self._failures.items():
                left, status_code, retry_after = plan
                if marker in seen and left != 0:
                    plan[0] = None if left is None else left - 1
                    message = f"scripted failure on {marker!r}"
                    return EngineError(message, status_code=status_code, retry_after=retry_after)
        return None

    def _stream(self, call: Call, generation: Generation) -> Iterator[str]:
        return self._stream_text(call, generation, self.answer(call.messages))

    def _stream_text(self, call: Call, generation: Generation, text: str) -> Iterator[str]:
        deltas = words(text)
        limit = call.options.max_output_tokens
        generation.input_tokens = sum(len(words(text_of(m["content"]))) for m in call.messages)
        generation.output_tokens = 0
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            failure = self._failure(call)
            if failure is not None:
                raise failure
            for delta in deltas[:limit]:
                if self.delay_s:
                    time.sleep(self.delay_s)
                generation.output_tokens += 1
                yield delta
            generation.finish_reason = "length" if limit is not None and len(deltas) > limit else "stop"
        finally:
            with self._lock:
                self.in_flight -= 1


#: What :class:`ToolScriptedEngine`'s ``tool_answer`` returns: a call ``{"name": …, "arguments": {…}}``,
#: text, or None (the scripted :func:`echo`).
ToolAnswer = Callable[[list[dict[str, Any]], GenerationOptions], "dict[str, Any] | str | None"]


class ToolScriptedEngine(ScriptedEngine):
    """A :class:`ScriptedEngine` that takes function tools (it implements ``engines.base.ToolEngine``).

    Given tools, it answers what ``tool_answer(messages, options)`` returns: a dict
    ``{"name": …, "arguments": {…}}`` is written as the call text the embedded backend reads as a
    ``function_call`` item (``llamabook.rendering.parse_tool_call``), a str is the answer's text,
    None falls back to :func:`echo`. Without tools it is a plain :class:`ScriptedEngine`. Each
    :meth:`check_tools` is kept in :attr:`checked`; each call's ``options.tools`` / ``options.tool_choice``
    in :attr:`ScriptedEngine.calls`.
    """

    name = "scripted-tools"

    def __init__(self, model_id: str = MODEL_ID, *, tool_answer: ToolAnswer | None = None, **options: Any) -> None:
        super().__init__(model_id, **options)
        self.tool_answer = tool_answer
        self.checked: list[tuple[Any, Any, str]] = []

    def check_tools(self, tools: Any, tool_choice: Any, model: str) -> None:
        with self._lock:
            self.checked.append((tools, tool_choice, model))

    def _stream(self, call: Call, generation: Generation) -> Iterator[str]:
        if call.options.tools and self.tool_answer is not None:
            answer = self.tool_answer(call.messages, call.options)
            if answer is not None:
                text = answer if isinstance(answer, str) else json.dumps(answer)
                return super()._stream_text(call, generation, text)
        return super()._stream(call, generation)
