"""A conversation's view (``client.responses.thread(id)``): one compact block per turn.

Each turn shows its summary line, what was sent (the user's messages; the results of the previous turn's
calls, named), the model's text answer and its tool calls as steps (:mod:`.tool_steps`), each with the
result the next turn sent back. All text goes through the templates' autoescaping, and the answers
through :func:`~.sanitize.safe_markdown_html`.

What the view reads of a thread (``llamabook.types.Thread``): ``thread.turns``, oldest first, each with
``.response`` (a Response) and ``.input`` (its request's input items: ``InputItem`` objects or wire dicts);
optionally ``thread.truncated_at``, the id of an earlier response that could not be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .formats import CUT_OFF_MARK
from .responses import _message_text, summary_line
from .sanitize import _safe, render, safe_markdown_html
from .tool_steps import Step, call_steps, sent_steps, steps_html, steps_text, tool_items

if TYPE_CHECKING:
    from ..types import Response


class TurnLike(Protocol):
    response: Response
    input: Sequence[Any]


class ThreadLike(Protocol):
    """What the thread view reads: the turns, oldest first."""

    turns: Sequence[TurnLike]


@dataclass
class TurnView:
    """One turn as the view shows it."""

    number: int
    response: Response
    summary: str
    #: the messages of the request's input: (role, text)
    messages: list[tuple[str, str]] = field(default_factory=list)
    #: results sent with this request whose call is not in the previous turn (shown as steps)
    unmatched: list[Step] = field(default_factory=list)
    #: names of the calls whose results this request sent back (their steps are in the previous turn)
    answered: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def _input_of(turn: Any) -> list[Any]:
    items = getattr(turn, "input", None)
    if items is None:
        items = getattr(turn, "input_items", None)
    return list(items or [])


def _item_message(item: Any) -> tuple[str, str] | None:
    """(role, text) of a message input item; None for a tool item."""
    if tool_items(item):
        return None
    role = item.get("role") if isinstance(item, dict) else getattr(item, "role", None)
    content = item.get("content") if isinstance(item, dict) else getattr(item, "content", None)
    if isinstance(content, list):  # stored parts: input_text / output_text by their text
        content = [{"type": "text", "text": p.get("text", "")} if p.get("type") in ("input_text", "output_text") else p
                   for p in content if isinstance(p, dict)]  # fmt: skip
    return str(role or "user"), _message_text(content)


def thread_turns(thread: ThreadLike) -> list[TurnView]:
    """The turns as the view shows them: each call with the result the next turn sent back for it."""
    turns = list(thread.turns)
    inputs = [_input_of(turn) for turn in turns]
    views: list[TurnView] = []
    for index, turn in enumerate(turns):
        response = turn.response
        following = inputs[index + 1] if index + 1 < len(turns) else []
        steps = call_steps(response, following)
        own = {call.call_id for call in response.tool_calls}
        previous = turns[index - 1].response.tool_calls if index else []
        known = {call.call_id for call in previous}
        sent = sent_steps(inputs[index], previous)
        messages = [m for m in map(_item_message, inputs[index]) if m is not None]
        views.append(
            TurnView(
                number=index + 1, response=response, summary=summary_line(response, calls=False), messages=messages,
                unmatched=[s for s in sent if s.call_id not in known and s.call_id not in own],
                answered=[s.name for s in sent if s.call_id in known], steps=steps,
            )
        )  # fmt: skip
    return views


def thread_html(thread: ThreadLike) -> str:
    """The thread as one HTML block (``<div class="llamabook-thread">``), a compact block per turn."""
    turns = thread_turns(thread)
    blocks = [
        {
            "t": t,
            "output_html": _safe(safe_markdown_html(t.response.output_text)) if t.response.output_text else None,
            "sent_html": _safe(steps_html(t.unmatched, heading="results sent")),
            "steps_html": _safe(steps_html(t.steps, pending="no result sent")),
            "cut_off_mark": CUT_OFF_MARK if t.response.cut_off else None,
        }
        for t in turns
    ]
    calls = sum(len(t.steps) for t in turns)
    return render("thread.html", blocks=blocks, calls=calls, truncated_at=getattr(thread, "truncated_at", None))


def thread_text(thread: ThreadLike) -> str:
    """The plain-text form: a line per turn (its summary), what it sent, its answer and its calls."""
    turns = thread_turns(thread)
    calls = sum(len(t.steps) for t in turns)
    lines = [f"Thread · {len(turns)} turn{'s' * (len(turns) != 1)} · {calls} tool call{'s' * (calls != 1)}"]
    truncated = getattr(thread, "truncated_at", None)
    if truncated:
        lines.append(f"(starts after {truncated}, which could not be read)")
    for t in turns:
        lines.append(f"{t.number}. {t.response.id} · {t.summary}")
        lines += [f"   {role}: {' '.join(text.split())}" for role, text in t.messages]
        if t.answered:
            lines.append(f"   results sent: {', '.join(t.answered)}")
        lines += [f"   {line}" for line in steps_text(t.unmatched, arrow="←")]
        if t.response.output_text:
            lines.append(f"   {' '.join(t.response.output_text.split())}")
        lines += [f"   {line}" for line in steps_text(t.steps)]
    return "\n".join(lines)
