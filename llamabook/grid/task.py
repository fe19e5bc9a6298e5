"""One cell of a grid: a row's values, a prompt version and a model, and once run, its result and checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..evaluation.checks import CheckInput, Outcome
from ..types import Prompt


@dataclass
class Task:
    """One cell of the grid: a row of variables, a prompt version and a model."""

    row: int
    values: dict[str, Any]
    shown: dict[str, Any]
    prompt: Prompt
    model: str
    #: which of the cell's repeats this is (0: the call a grid without repeats makes)
    repeat: int = 0
    #: the embedded model's sampling seed for this repeat (None: the engine's own, as without repeats)
    seed: int | None = None
    key: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, Outcome] | None = None  # None: not checked (no checks, or the call failed)
    finished: bool = False
    #: the prompt version as its user wrote it (``haiku``, ``haiku@2``), None for a template string: for messages
    named: str | None = None

    def check_input(self) -> CheckInput:
        """What this cell's checks see of its result."""
        where = {"prompt_id": self.prompt.prompt_id, "version": self.prompt.version, "model": self.model}
        return CheckInput.from_values({**self.result, **where})
