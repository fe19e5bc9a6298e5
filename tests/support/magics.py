"""Running ``%llama`` / ``%%llama`` cells in IPython's test shell (the ``ip`` fixture) and reading what they showed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell
from IPython.utils.capture import RichOutput, capture_output

import llamabook as lb

QUESTION = "What is the capital of Ireland?"


def in_magics(client: lb.Client, ip: InteractiveShell) -> Iterator[lb.Client]:
    """Use ``client`` in the magics for one test; the notebook variables the test made are removed after."""
    from llamabook import magics

    before = set(ip.user_ns)
    magics.set_client(client)
    yield client
    magics.set_client(None)
    for name in set(ip.user_ns) - before:
        del ip.user_ns[name]


@dataclass
class Ran:
    """One cell run: its result, what it printed and what it displayed."""

    result: ExecutionResult
    stdout: str
    outputs: list[RichOutput]

    @property
    def error(self) -> BaseException | None:
        return self.result.error_in_exec

    def texts(self) -> list[str]:
        """text/plain of every display, updates included, in order."""
        return [o.data.get("text/plain", "") for o in self.outputs]

    def shown(self) -> str:
        """Everything printed or displayed, as one string."""
        return "\n".join([self.stdout, *self.texts()])

    def updates(self) -> list[RichOutput]:
        return [o for o in self.outputs if o.update]


def run(ip: InteractiveShell, cell: str) -> Ran:
    """Run a notebook cell, capturing stdout and every display."""
    with capture_output() as captured:
        result = ip.run_cell(cell)
    return Ran(result, captured.stdout, list(captured.outputs))


def ok(ip: InteractiveShell, cell: str) -> Ran:
    ran = run(ip, cell)
    assert ran.error is None, f"{type(ran.error).__name__}: {ran.error}\n{ran.stdout}"
    return ran


def wide() -> Any:
    """pandas options so a DataFrame's text shows every column."""
    return pd.option_context("display.width", 400, "display.max_columns", None, "display.max_colwidth", 80)
