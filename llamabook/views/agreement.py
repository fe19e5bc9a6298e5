"""How ``lb.agreement``'s result looks: its summary line and its confusion table (autoescaped)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .sanitize import render

if TYPE_CHECKING:
    from ..evaluation.agreement import Agreement


def agreement_text(result: Agreement) -> str:
    """The summary line, then the confusion table as pandas prints it."""
    return f"{result.summary()}\n{result.confusion.to_string()}"


def agreement_html(result: Agreement) -> str:
    """The summary line and the confusion table (``a``'s values down, ``b``'s across); inline CSS only."""
    table = result.confusion
    return render(
        "agreement.html",
        summary=result.summary(),
        a=result.a,
        b=result.b,
        labels=[str(value) for value in table.columns],
        rows=[(str(value), [int(count) for count in table.loc[value]]) for value in table.index],
    )
