"""Prices: what a model's tokens cost, in USD per million, as a client records them with every grid.

``Client(prices={model: (input_per_million, output_per_million)})`` checks them here, before
anything runs; ``lb.scores(grid)`` reads them back to say what a grid cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import InvalidRequest

#: ``{model: (input_per_million, output_per_million)}`` in USD.
Prices = Mapping[str, tuple[float, float]]


def check_prices(prices: Any) -> dict[str, tuple[float, float]] | None:
    """Checked prices, or None; a malformed entry is an InvalidRequest naming the model."""
    if prices is None:
        return None
    if not isinstance(prices, Mapping):
        raise InvalidRequest(
            f"prices is {{model: (input_per_million, output_per_million)}} in USD, not a {type(prices).__name__}"
        )
    checked = {}
    for model, pair in prices.items():
        try:
            per_input, per_output = pair
            valid = all(isinstance(p, (int, float)) and not isinstance(p, bool) and p >= 0 for p in pair)
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise InvalidRequest(
                f"prices[{model!r}] is {pair!r}: give (input_per_million, output_per_million) in USD, "
                "two numbers ≥ 0, e.g. (0.15, 0.60)"
            )
        checked[str(model)] = (float(per_input), float(per_output))
    return checked
