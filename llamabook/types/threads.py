"""A conversation as stored: the responses chained by ``previous_response_id``, oldest first (``client.responses.thread``).

Each :class:`Turn` is one response: the request's ``input`` items (messages, or the results of the
previous turn's calls as ``function_call_output`` items) and the response's output items (messages,
``function_call`` items). :attr:`Thread.steps` pairs each call with the result sent back for it.
No I/O here: ``llamabook.resources.threads`` reads the turns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .base import NotebookRepr
from .responses import InputItem, OutputMessage, OutputText, Response
from .tool_calls import FunctionCall

if TYPE_CHECKING:
    import pandas

#: The columns of :meth:`Thread.to_pandas`: one row per item, input before output, turn by turn.
THREAD_COLUMNS = ("turn", "response_id", "side", "type", "role", "name", "call_id", "text")


@dataclass(frozen=True)
class Turn:
    """One response of a thread: what was sent (``input``) and what the model answered (``output``)."""

    response: Response
    #: the request's input items as stored, in order
    input: list[InputItem] = field(default_factory=list)

    @property
    def output(self) -> list[Any]:
        """The response's output items: :class:`OutputMessage`, :class:`FunctionCall` (and any other as a dict)."""
        return list(self.response.output)

    @property
    def tool_calls(self) -> list[FunctionCall]:
        return self.response.tool_calls

    @property
    def tool_outputs(self) -> list[InputItem]:
        """The ``function_call_output`` items of the input: the results of the previous turn's calls."""
        return [item for item in self.input if item.type == "function_call_output"]


@dataclass(frozen=True)
class ToolStep:
    """One call of a thread and the result sent back for it (None when none was sent: the thread's last calls
    when ``max_tool_rounds`` was reached, or a call answered elsewhere)."""

    call: FunctionCall
    #: the ``function_call_output`` text (``"Error: <Type>: <message>"`` when the function raised)
    output: str | None
    #: the response that asked for the call, and the one the result was sent with
    response_id: str
    answered_in: str | None = None

    @property
    def error(self) -> bool:
        """True when the result is an error text (the function raised, or its arguments did not validate)."""
        return self.output is not None and self.output.startswith("Error: ")


@dataclass(frozen=True)
class Thread(NotebookRepr):
    """The turns of a conversation, oldest first, ending with the response it was asked for.

    ``truncated_at`` is the id of an earlier response that could not be read (deleted, or not
    stored): the thread starts after it. Shown in a notebook by the ``"thread"`` view.
    """

    notebook_view: ClassVar[str] = "thread"

    turns: tuple[Turn, ...]
    truncated_at: str | None = None

    @property
    def id(self) -> str:
        """The id of the last response (the one the thread was read from)."""
        return self.turns[-1].response.id

    @property
    def responses(self) -> list[Response]:
        """The responses, oldest first."""
        return [turn.response for turn in self.turns]

    @property
    def last(self) -> Response:
        return self.turns[-1].response

    @property
    def steps(self) -> list[ToolStep]:
        """Every function call, in order, with the result sent back in the next turn (when there was one)."""
        steps = []
        for index, turn in enumerate(self.turns):
            following = self.turns[index + 1] if index + 1 < len(self.turns) else None
            outputs = {item.call_id: item for item in following.tool_outputs} if following else {}  # type: ignore[attr-defined]
            for call in turn.tool_calls:
                sent = outputs.get(call.call_id)
                steps.append(
                    ToolStep(call, _output_text(sent) if sent is not None else None, turn.response.id,
                             following.response.id if sent is not None and following else None)
                )  # fmt: skip
        return steps

    def __len__(self) -> int:
        return len(self.turns)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per item (the columns of :data:`THREAD_COLUMNS`): each turn's input items, then its output."""
        rows = []
        for number, turn in enumerate(self.turns, 1):
            for side, items in (("input", turn.input), ("output", turn.output)):
                for item in items:
                    rows.append({"turn": number, "response_id": turn.response.id, "side": side, **_item_row(item)})
        return rows

    def to_pandas(self) -> pandas.DataFrame:
        """:meth:`rows` as a DataFrame (the transcript, one row per item)."""
        import pandas as pd

        frame = pd.DataFrame(self.rows(), columns=list(THREAD_COLUMNS))
        frame["turn"] = frame["turn"].astype("int64")
        return frame

    def __repr__(self) -> str:
        calls = sum(len(turn.tool_calls) for turn in self.turns)
        head = f"<Thread {self.id}: {len(self.turns)} turn{'s' * (len(self.turns) != 1)}, {calls} tool call{'s' * (calls != 1)}"
        lines = [head + (f", starts after {self.truncated_at} (not found)" if self.truncated_at else "") + ">"]
        for number, turn in enumerate(self.turns, 1):
            lines.append(f"{number:>3} {turn.response.id} [{turn.response.status}]")
            for side, items in (("in ", turn.input), ("out", turn.output)):
                for item in items:
                    row = _item_row(item)
                    who = row["name"] or row["role"] or ""
                    lines.append(f"      {side} {row['type']}{f' {who}' if who else ''}: {_short(row['text'])}")
        return "\n".join(lines)


def _short(text: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")


def _output_text(item: Any) -> str:
    output = getattr(item, "output", None)
    if isinstance(output, list):
        return "\n\n".join(str(part.get("text", "")) for part in output if isinstance(part, dict))
    return "" if output is None else str(output)


def _item_row(item: Any) -> dict[str, Any]:
    """(type, role, name, call_id, text) of an input or output item."""
    if isinstance(item, FunctionCall):
        return {"type": "function_call", "role": None, "name": item.name, "call_id": item.call_id, "text": item.arguments}
    if isinstance(item, OutputMessage):
        text = "".join(part.text for part in item.content if isinstance(part, OutputText))
        return {"type": "message", "role": item.role, "name": None, "call_id": None, "text": text}
    if isinstance(item, InputItem):
        if item.type == "function_call_output":
            return {"type": item.type, "role": None, "name": None, "call_id": getattr(item, "call_id", None),
                    "text": _output_text(item)}  # fmt: skip
        if item.type == "function_call":
            return {"type": item.type, "role": None, "name": getattr(item, "name", None),
                    "call_id": getattr(item, "call_id", None), "text": str(getattr(item, "arguments", ""))}  # fmt: skip
        texts = [str(p.get("text", "")) if "text" in p else f"<{p.get('type')}>" for p in item.content]
        return {"type": item.type, "role": item.role, "name": None, "call_id": None, "text": "\n\n".join(texts)}
    kind = item.get("type") if isinstance(item, dict) else type(item).__name__
    return {"type": str(kind), "role": None, "name": None, "call_id": None, "text": ""}
