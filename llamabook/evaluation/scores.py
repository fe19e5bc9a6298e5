"""``scores(grid)``: a grid's numbers per version × model; ``plot_pass_rate``: them as a bar chart.

A check is any ``check_<name>`` column of the grid (not its ``check_<name>_error`` /
``check_<name>_judge_id`` companions): a boolean one is pass/fail, a float one a score 0..1.
A row whose check raised (its ``check_<name>_error`` is set) is an error, not a fail: it is left
out of the rates and counted in ``errors_<name>``. pandas and matplotlib are imported on first use.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequest
from ..frames import check_columns, none_if_missing, require_columns
from ..prices import Prices, check_prices
from ..types.grid_rows import read_by

if TYPE_CHECKING:
    import pandas
    from matplotlib.axes import Axes

#: Grid columns :func:`scores` reads (those :class:`~llamabook.types.grid_rows.GridResult` marks ``scores``).
NEEDED = tuple(column.name for column in read_by("scores"))
#: The columns of :func:`scores` around the per-check ones, with their dtypes.
HEAD = {"version": "Int64", "model": "string", "calls": "int64", "failed": "int64"}
TAIL = {
    "output_tokens_mean": "Float64",
    "output_tokens_total": "Int64",
    "latency_p50_s": "Float64",
    "latency_p95_s": "Float64",
    "cost_usd": "Float64",
}


def scores(grid: pandas.DataFrame, prices: Prices | None = None) -> pandas.DataFrame:
    """One row per (version, model) of a ``client.grid`` result, in the grid's order.

    Columns: ``version``, ``model``, ``calls``, ``failed`` (calls with status ``failed``);
    ``pass_rate`` (share of passes among all pass/fail check results, nulls left out) and
    ``pass_rate_<name>`` per pass/fail check; ``mean_score`` (mean of all score results) and
    ``score_<name>`` per score check; ``errors_<name>`` per check (rows where it raised);
    ``output_tokens_mean`` / ``output_tokens_total``; ``latency_p50_s`` / ``latency_p95_s``
    (pandas quantiles, linear interpolation, over the calls with a ``latency_s``: an answer replayed
    from a cassette (``replayed``) or a batch's has none, so they are left out, and a group of only
    those has null latencies); ``cost_usd``.

    Rates and means are over the rows a check evaluated: a row whose check raised (its
    ``check_<name>_error`` is set) is an error, not a fail, so it is left out of them (even from
    an older grid that stored such a check as False) and counted in ``errors_<name>`` instead.

    ``prices`` is ``{model: (input_per_million, output_per_million)}`` in USD; without it the
    grid's ``attrs["llamabook"]["prices"]`` is used, and without either ``cost_usd`` is null
    (also for a model the prices do not name). Every call in the grid counts, cached ones too.
    """
    import pandas as pd

    require_columns(grid, NEEDED, "scores()")
    recorded = (grid.attrs.get("llamabook") or {}).get("prices")  # what Client(prices=…) records
    table = check_prices(prices if prices is not None else recorded)
    columns = check_columns(grid.columns)
    errored = {name: _errored(grid, column) for name, column in columns.items()}
    checks = {name: _evaluated(_check_values(grid[column], column), errored[name]) for name, column in columns.items()}
    passes = [name for name, (kind, _) in checks.items() if kind == "pass"]
    scored = [name for name, (kind, _) in checks.items() if kind == "score"]
    rows = []
    for (version, model), group in grid.groupby(["version", "model"], sort=False, dropna=False):
        values = {name: series.loc[group.index].dropna() for name, (_, series) in checks.items()}
        row: dict[str, Any] = {
            "version": none_if_missing(version),
            "model": none_if_missing(model),
            "calls": len(group),
            "failed": int(group["status"].eq("failed").sum()),
            "pass_rate": _mean([v for name in passes for v in values[name]]),
            **{f"pass_rate_{name}": _mean(values[name]) for name in passes},
            "mean_score": _mean([v for name in scored for v in values[name]]),
            **{f"score_{name}": _mean(values[name]) for name in scored},
            **{f"errors_{name}": int(errored[name].loc[group.index].sum()) for name in checks},
        }
        tokens = group["output_tokens"].dropna()
        latency = group["latency_s"].dropna().astype(float)
        row.update(
            output_tokens_mean=float(tokens.mean()) if len(tokens) else None,
            output_tokens_total=int(tokens.sum()) if len(tokens) else None,
            latency_p50_s=float(latency.quantile(0.5)) if len(latency) else None,
            latency_p95_s=float(latency.quantile(0.95)) if len(latency) else None,
            cost_usd=_cost(group, table.get(str(model))) if table is not None else None,
        )
        rows.append(row)
    middle = ["pass_rate", *(f"pass_rate_{n}" for n in passes), "mean_score", *(f"score_{n}" for n in scored)]
    errors = dict.fromkeys((f"errors_{name}" for name in checks), "int64")
    dtypes = {**HEAD, **dict.fromkeys(middle, "Float64"), **errors, **TAIL}
    frame = pd.DataFrame(rows, columns=list(dtypes))
    return frame.astype(dtypes)


def plot_pass_rate(scores: pandas.DataFrame, check: str | None = None, ax: Axes | None = None) -> Axes:
    """A bar chart of :func:`scores`: one bar per (version, model), versions along x, one colour per model.

    ``check=None`` plots ``pass_rate`` (all pass/fail checks); ``check="name"`` plots that check's
    pass rate or mean score. Draws on ``ax`` (a new figure's axes without it) and returns it.
    """
    require_columns(scores, ["version", "model"], "plot_pass_rate()", "the DataFrame lb.scores returns")
    column = _plotted_column(scores, check)
    if scores.empty:
        raise InvalidRequest("plot_pass_rate() has nothing to draw: these scores have no rows")
    if ax is None:
        try:
            import matplotlib.pyplot as plt
        except ModuleNotFoundError as exc:
            message = "plot_pass_rate() needs matplotlib: pip install matplotlib"
            raise ModuleNotFoundError(message, name=exc.name) from None
        _, ax = plt.subplots()
    records = [{k: none_if_missing(v) for k, v in r.items()} for r in scores.to_dict(orient="records")]
    versions = list(dict.fromkeys(r["version"] for r in records))
    models = list(dict.fromkeys(r["model"] for r in records))
    width = 0.8 / len(models)
    for number, model in enumerate(models):
        mine = [r for r in records if r["model"] == model]
        offset = (number - (len(models) - 1) / 2) * width
        heights = [math.nan if r[column] is None else float(r[column]) for r in mine]
        ax.bar([versions.index(r["version"]) + offset for r in mine], heights, width, label=str(model))
    ax.set_xticks(range(len(versions)), [f"v{v}" for v in versions])
    ax.set_ylim(0, 1)
    what = "score" if column.startswith("score_") else "pass rate"
    ax.set_ylabel(what if check is None else f"{what}: {check}")
    ax.set_xlabel("version")
    ax.legend(title="model")
    return ax


def _plotted_column(scores: pandas.DataFrame, check: str | None) -> str:
    if check is None:
        if not any(str(c).startswith("pass_rate_") for c in scores.columns):
            raise InvalidRequest(
                "These scores have no pass/fail check to plot: give the grid check columns, "
                "or name a score check with check="
            )
        return "pass_rate"
    for column in (f"pass_rate_{check}", f"score_{check}"):
        if column in scores.columns:
            return column
    known = [str(c).split("_", 2)[-1] for c in scores.columns if str(c).startswith(("pass_rate_", "score_"))]
    raise InvalidRequest(f"These scores have no check {check!r}; their checks: {known or 'none'}")


def _check_values(series: pandas.Series, column: str) -> tuple[str, pandas.Series]:
    """``("pass", booleans)`` or ``("score", floats)`` for a check column."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if is_bool_dtype(series.dtype):
        return "pass", series.astype("boolean")
    if is_numeric_dtype(series.dtype):
        return "score", series.astype("Float64")
    present = [none_if_missing(v) for v in series]
    present = [v for v in present if v is not None]
    if all(_is_bool(v) for v in present):
        return "pass", series.astype("boolean")
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "score", series.astype("Float64")
    odd = next(v for v in present if not isinstance(v, (bool, int, float)) and not _is_bool(v))
    raise InvalidRequest(
        f"The check column {column!r} holds {odd!r} ({type(odd).__name__}): a check is boolean (pass/fail) "
        "or a float score 0..1, with nulls where it did not run"
    )


def _is_bool(value: Any) -> bool:
    """True for Python's and numpy's booleans (numpy 2 names its type ``bool``, 1.x ``bool_``)."""
    return isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b"


def _errored(grid: pandas.DataFrame, column: str) -> pandas.Series:
    """True on the rows where the check of ``column`` raised (its ``<column>_error`` is set)."""
    import pandas as pd

    error = f"{column}_error"
    if error in grid.columns:
        return grid[error].notna().astype(bool)
    return pd.Series(False, index=grid.index)  # no error column: nothing raised


def _evaluated(check: tuple[str, pandas.Series], errored: pandas.Series) -> tuple[str, pandas.Series]:
    """A check's values with its errors made null: an error is not a verdict, whatever the column holds."""
    kind, values = check
    return kind, values.mask(errored)


def _mean(values: Any) -> float | None:
    numbers = [float(v) for v in values]
    return sum(numbers) / len(numbers) if numbers else None


def _cost(group: pandas.DataFrame, price: tuple[float, float] | None) -> float | None:
    """USD for the group's calls; tokens a call did not report count as none."""
    if price is None:
        return None
    used_in = group["input_tokens"].fillna(0).astype(int).sum()
    used_out = group["output_tokens"].fillna(0).astype(int).sum()
    return (int(used_in) * price[0] + int(used_out) * price[1]) / 1_000_000


__all__ = ["Prices", "check_prices", "plot_pass_rate", "scores"]
