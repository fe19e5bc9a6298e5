"""Which prompt a ``%%llama`` cell runs: a saved one (``-p REF``, the body being the input), its body, or
(``--continue``) none: the body is the next message of the conversation, sent as it is."""

from __future__ import annotations

from argparse import Namespace
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ..templates import placeholders

if TYPE_CHECKING:
    from ..client import Client
    from ..types import Prompt


@dataclass
class CellPrompt:
    """What a cell runs: a saved prompt (``-p``) or its body as a template, and the input sent with it."""

    prompt: Prompt | None
    template: str | None
    name: str | None
    input: str | None

    @property
    def variables(self) -> list[str]:
        """The prompt's variables: the saved prompt's, or the template's placeholders."""
        return list(self.prompt.variables) if self.prompt is not None else placeholders(self.template or "")

    def call_arguments(self) -> dict[str, Any]:
        """``prompt=`` or ``template=``/``name=`` for :meth:`Responses.create` (nothing for a plain message)."""
        if self.prompt is not None:
            return {"prompt": self.prompt}
        if self.template is None:
            return {}
        return {"template": self.template, "name": self.name}


def choose_prompt(client: Client, args: Namespace, cell: str) -> CellPrompt:
    """``-p REF``: the stored prompt version, the body being the input; else the body as a template."""
    body = cell.strip()
    if getattr(args, "continue_", False) and not args.prompt:  # the next message of a conversation, as it is
        if not body:
            raise UsageError("--continue sends the cell body as the next message: write it in the cell")
        return CellPrompt(None, None, None, body)
    if args.prompt:
        if body and args.input is not None:
            raise UsageError("With -p the cell body is the input: give the input in the body or with -i, not both")
        prompt = client.prompts.get(args.prompt)
        return CellPrompt(prompt, None, prompt.name, body or args.input)
    if not body:
        raise UsageError("The cell is empty: write a {{template}} in it, or run a saved prompt with -p NAME")
    return CellPrompt(None, body, args.save, args.input)
