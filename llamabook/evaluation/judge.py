"""The judge check: a yes/no question about each answer, asked of a model (:func:`judge`), and its
verdict read strictly (:func:`parse_verdict`)."""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidRequest, OutputFormatUnsupported, OutputInvalid
from ..templates import placeholders, render
from .check_base import Check, CheckInput, Column, JudgeClient, Outcome, describe_error, text_of


#: The structured-output format a judge's verdict is constrained to.
VERDICT_FORMAT: dict[str, Any] = {
    "format": {
        "type": "json_schema",
        "name": "verdict",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"verdict": {"type": "string", "enum": ["yes", "no"]}},
            "required": ["verdict"],
            "additionalProperties": False,
        },
    }
}


@dataclass(frozen=True)
class Judge(Check):
    """A yes/no question about the answer, asked of a model through the grid's client."""

    question: str
    model: str | None = None
    needs_client = True

    def reads(self) -> list[str]:
        return placeholders(self.question)

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        raise InvalidRequest("A judge asks a model: run it through client.grid(checks=…) or checks.apply(…, client=client)")

    def ask(self, row: Mapping[str, Any], result: CheckInput) -> str:
        """The judge's input for this row: the question (its ``{{column}}`` placeholders filled) and the answer."""
        question = render(self.question, lambda name: text_of(Column(name), row))
        return (
            "You check an answer against a question about it.\n\n"
            f"Question: {question}\n\n"
            f"The answer:\n<<<\n{result.output_text}\n>>>\n\n"
            'Reply with {"verdict": "yes"} or {"verdict": "no"} and nothing else.'
        )

    def cache_key(self, row: Mapping[str, Any], result: CheckInput) -> str | None:
        try:
            asked = self.ask(row, result)
        except ValueError:
            return None  # an empty cell: it fails again, nothing to keep
        return hashlib.sha256(json.dumps([asked, self.model, VERDICT_FORMAT], sort_keys=True).encode()).hexdigest()

    def evaluate(self, row: Mapping[str, Any], result: CheckInput, client: JudgeClient | None) -> Outcome:
        if client is None:
            return Outcome(None, "InvalidRequest: a judge needs a client")
        try:
            asked = self.ask(row, result)
            response = _ask_judge(client, asked, self.model)
        except Exception as exc:  # the judge's call failed: no verdict (an error, not a fail), the grid goes on
            failed = getattr(exc, "response", None)
            return Outcome(None, describe_error(exc), getattr(failed, "id", None))
        try:
            return Outcome(parse_verdict(response.output_text), None, response.id, self.cache_key(row, result))
        except ValueError as exc:
            return Outcome(None, describe_error(exc), response.id)


#: Clients whose server refused the verdict's JSON schema (OutputFormatUnsupported): asked as plain text.
_UNCONSTRAINED: weakref.WeakSet[Any] = weakref.WeakSet()


def _ask_judge(client: JudgeClient, asked: str, model: str | None) -> Any:
    """The judge's response, its verdict held to the yes/no schema where the backend can do that.

    A server whose inference provider refuses a JSON schema is asked again without one, and from
    then on (per client) without one: its verdict is still parsed strictly, so an answer that is
    not one is an error (no verdict: ``<NA>``, not a no) with its message.
    """
    options = {"input": asked, "model": model, "temperature": 0, "max_output_tokens": 16}
    if client not in _UNCONSTRAINED:
        try:
            return client.responses.create(**options, text=VERDICT_FORMAT)
        except OutputInvalid as exc:  # parse_verdict judges the raw text (a bare yes / no passes)
            return exc.response
        except OutputFormatUnsupported:
            _UNCONSTRAINED.add(client)
    return client.responses.create(**options)


def parse_verdict(text: str) -> bool:
    """A judge's output as True (yes) or False (no): ``{"verdict": "yes"|"no"}``, or the bare word alone.

    Anything else raises ValueError: no guessing from a sentence that contains "yes".
    """
    word = text.strip()
    if word.lower() in ("yes", "no"):
        return word.lower() == "yes"
    try:
        data = json.loads(word)
    except ValueError:
        data = None
    if isinstance(data, dict) and set(data) == {"verdict"} and data["verdict"] in ("yes", "no"):
        return data["verdict"] == "yes"
    shown = text if len(text) <= 100 else text[:99] + "…"
    raise ValueError(f'the judge answered {shown!r}, not {{"verdict": "yes"}} or {{"verdict": "no"}} (or a bare yes / no)')


def judge(question: str, model: str | None = None) -> Judge:
    """Ask a model ``question`` (yes/no) about each answer: True for yes, False for no.

    The question may use the row's columns as ``{{placeholders}}``: ``"Does it name {{capital}}?"``.
    ``model`` is the judge's model (default: the client's default model), checked before the grid
    runs. The call is ``client.responses.create(input=…, model=model, temperature=0,
    max_output_tokens=16, text=VERDICT_FORMAT)``: the verdict is constrained to ``{"verdict": "yes"|"no"}``
    and parsed strictly (:func:`parse_verdict`); anything else is an error, not a no: ``<NA>`` with that message.
    """
    if not isinstance(question, str) or not question.strip():
        raise InvalidRequest("judge() takes a yes/no question about the answer, e.g. 'Is the answer polite?'")
    if model is not None and (not isinstance(model, str) or not model):
        raise InvalidRequest(f"judge(model=…) is a model id from client.models.list(), not {model!r}")
    return Judge(question, model)
