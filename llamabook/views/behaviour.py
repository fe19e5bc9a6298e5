"""A behaviour diff (``lb.behaviour_diff``): one line per pair, the word diff marked, flipped checks, deltas.

The table (:func:`behaviour_diff_html`, the notebook repr and ``save_html``) and BehaviourView's cells
(:func:`behaviour_view_cell_html`) render the same templates, autoescaped: model text is shown as text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .comparisons import CHECK_COLOURS, CHECK_ERROR_CHARS, VIEW_CELL_STYLE
from .formats import REPLAYED_MARK
from .sanitize import render

if TYPE_CHECKING:
    from ..evaluation.behaviour_diff import BehaviourDiff, PairDiff

#: The parts of one pair's line, in order after its keys and own columns (a template each).
PARTS = ("diff", "checks", "deltas")
#: Each part's header in the table and in BehaviourView.
PART_HEADERS = {"diff": "output", "checks": "checks", "deltas": "deltas"}
MINUS = "\u2212"


def deltas(pair: PairDiff) -> list[tuple[str, str]]:
    """``[("tokens", "+3"), ("cost", "+$0.000012"), ("latency", "−0.20 s")]``, the missing ones left out
    (a cost without prices); a latency where either answer was replayed says ``replayed``."""
    latency = REPLAYED_MARK if pair.replayed else _signed(pair.latency_delta_s, "{:.2f} s")
    found = [
        ("tokens", _signed(pair.output_tokens_delta, "{:d}")),
        ("cost", _signed(pair.cost_delta_usd, "${:.6f}")),
        ("latency", latency),
    ]
    return [(name, value) for name, value in found if value is not None]


def shown_keys(diff: BehaviourDiff) -> list[str]:
    """The keys a view shows for each pair: ``row``, ``repeat``, and the dimension neither side names only
    when the pairs hold more than one value of it (one model throughout says nothing)."""
    return [
        key for key in diff.keys
        if key in ("row", "repeat") or len({repr(p.keys[key]) for p in diff.pairs}) > 1
    ]  # fmt: skip


def _signed(value: float | int | None, form: str) -> str | None:
    """``value`` with its sign (``+``, ``−``, none for 0) in ``form``; None for a missing one."""
    if value is None:
        return None
    sign = "+" if value > 0 else MINUS if value < 0 else ""
    return sign + form.format(abs(value))


def _context(**extra: Any) -> dict[str, Any]:
    """What every behaviour template is rendered with, and ``extra``."""
    return {"check_colours": CHECK_COLOURS, "error_chars": CHECK_ERROR_CHARS, "deltas": deltas, **extra}


def behaviour_diff_html(diff: BehaviourDiff) -> str:
    """The diff as a table: one line per pair (keys, own columns, the word diff, checks, deltas); inline CSS only."""
    keys = shown_keys(diff)
    headers = [*keys, *diff.own_columns, *(PART_HEADERS[p] for p in PARTS)]
    context = _context(summary=diff.summary(), diff=diff, keys=keys, headers=headers, parts=PARTS)
    return render("behaviour_diff.html", **context)


def behaviour_diff_text(diff: BehaviourDiff) -> str:
    """The text form: the summary line."""
    return diff.summary()


def behaviour_view_cell_html(pair: PairDiff, part: str) -> str:
    """One part (``"diff"``, ``"checks"``, ``"deltas"``) of a pair's line in BehaviourView, in the table's type."""
    if part not in PARTS:
        raise ValueError(f"A behaviour diff's line has the parts {PARTS}, not {part!r}")
    return render("behaviour_view_cell.html", **_context(pair=pair, part=part, style=VIEW_CELL_STYLE))


__all__ = ["PARTS", "PART_HEADERS", "behaviour_diff_html", "behaviour_diff_text", "behaviour_view_cell_html", "deltas", "shown_keys"]
