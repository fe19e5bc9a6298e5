"""``scores(grid)``: a grid's numbers per version × model; ``plot_pass_rate``: them as a bar chart.

A check is any ``check_<name>`` column of the grid (not its ``check_<name>_error`` /
``check_<name>_judge_id`` companions): a boolean one is pass/fail, a float one a score 0..1.
A row whose check raised (its ``check_<name>_error`` is set) is an error, not a fail: it is left
out of the rates and counted in ``errors_<name>``. pandas and matplotlib are imported on first use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequest
from ..frames import check_columns, none_if_missing, require_columns
from ..prices import Prices, check_prices
from ..types.grid_rows import read_by
from .intervals import check_confidence, cluster_interval, quantile_interval, wilson

if TYPE_CHECKING:
    import numpy
    import pandas
    from matplotlib.axes import Axes


def _bounded(column: str) -> dict[str, str]:
    """``column`` and its interval's columns, ``<column>_low`` and ``<column>_high``, all Float64."""
    return dict.fromkeys((column, f"{column}_low", f"{column}_high"), "Float64")


#: Grid columns :func:`scores` reads (those :class:`~llamabook.types.grid_rows.GridResult` marks ``scores``),
#: and ``row``: an input row is the unit of the intervals that pool several values per row.
NEEDED = ("row", *(column.name for column in read_by("scores")))
#: The columns of :func:`scores` around the per-check ones, with their dtypes.
HEAD = {"version": "Int64", "model": "string", "calls": "int64", "failed": "int64"}
TAIL = {
    "output_tokens_mean": "Float64",
    "output_tokens_total": "Int64",
    **_bounded("latency_p50_s"),
    **_bounded("latency_p95_s"),
    "cost_usd": "Float64",
    **_bounded("cost_per_call_usd"),
}


@dataclass(frozen=True)
class CheckValues:
    """One check column of a grid, read: its kind, its verdicts as floats, the rows where it raised.

    ``values`` is 1.0 / 0.0 (pass / fail) or the score, NaN where the check gave no verdict
    (it did not run, or it raised: an error is never a verdict); ``errored`` is True where it raised.
    """

    kind: str  # "pass" or "score"
    values: numpy.ndarray
    errored: numpy.ndarray


def evaluated_checks(grid: pandas.DataFrame) -> dict[str, CheckValues]:
    """The grid's checks (``check_<name>`` columns) as ``{name: CheckValues}``, in column order.

    Raises :class:`~llamabook.InvalidRequest` for a check column that is neither pass/fail nor a score.
    """
    import numpy as np

    found = {}
    for name, column in check_columns(grid.columns).items():
        kind, series = _check_values(grid[column], column)
        errored = _errored(grid, column)
        values = series.mask(errored).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        found[name] = CheckValues(kind, values, errored.to_numpy(dtype=bool))
    return found


def scores(grid: pandas.DataFrame, prices: Prices | None = None, confidence: float = 0.95) -> pandas.DataFrame:
    """One row per (version, model) of a ``client.grid`` result, in the grid's order.

    Columns: ``version``, ``model``, ``calls``, ``failed`` (calls with status ``failed``);
    ``pass_rate`` (share of passes among all pass/fail check results, nulls left out) and
    ``pass_rate_<name>`` per pass/fail check; ``mean_score`` (mean of all score results) and
    ``score_<name>`` per score check; per check ``n_<name>`` (rows it evaluated) and
    ``errors_<name>`` (rows where it raised); ``output_tokens_mean`` / ``output_tokens_total``;
    ``latency_p50_s`` / ``latency_p95_s`` (pandas quantiles, linear interpolation, over the calls
    with a ``latency_s``: an answer replayed from a cassette (``replayed``) or a batch's has none,
    so they are left out, and a group of only those has null latencies); ``cost_usd`` and
    ``cost_per_call_usd`` (``cost_usd / calls``).

    Each of ``pass_rate*``, ``mean_score``, ``score_*``, the latencies and ``cost_per_call_usd`` is
    followed by ``<column>_low`` and ``<column>_high``, its interval at ``confidence`` (default 0.95;
    outside (0, 1): :class:`~llamabook.InvalidRequest`; :mod:`.intervals` says how each is made): a check's pass rate, Wilson's
    interval over its calls; the overall pass rate, the mean score, a check's mean score and the
    cost per call, with the input row as the unit (a cluster bootstrap by row, seeded, up to
    2,000 rows; the normal approximation above), so with one pass/fail check ``pass_rate_low/_high``
    equal that check's Wilson interval; the latencies, distribution-free order-statistic intervals
    (an end is null where there are too few calls to bound it, e.g. p95's upper end below 72 calls).

    Rates and means are over the rows a check evaluated: a row whose check raised (its
    ``check_<name>_error`` is set) is an error, not a fail, so it is left out of them (even from
    an older grid that stored such a check as False) and counted in ``errors_<name>`` instead.

    ``prices`` is ``{model: (input_per_million, output_per_million)}`` in USD; without it the
    grid's ``attrs["llamabook"]["prices"]`` is used, and without either the costs are null
    (also for a model the prices do not name). Every call in the grid counts, cached ones too.
    """
    import numpy as np
    import pandas as pd

    require_columns(grid, NEEDED, "scores()")
    level = check_confidence(confidence, "scores()")
    recorded = (grid.attrs.get("llamabook") or {}).get("prices")  # what Client(prices=…) records
    table = check_prices(prices if prices is not None else recorded)
    checks = evaluated_checks(grid)
    passes = [name for name, check in checks.items() if check.kind == "pass"]
    scored = [name for name, check in checks.items() if check.kind == "score"]
    grouped = grid.groupby(["version", "model"], sort=False, dropna=False)
    codes = grouped.ngroup().to_numpy()
    rows_of = pd.factorize(grid["row"], use_na_sentinel=False)[0]
    records = []
    for code in range(grouped.ngroups):
        at = (codes == code).nonzero()[0]
        group = grid.iloc[at]
        version, model = none_if_missing(group["version"].iloc[0]), none_if_missing(group["model"].iloc[0])
        record: dict[str, Any] = {
            "version": version, "model": model, "calls": len(at), "failed": int(group["status"].eq("failed").sum()),
        }  # fmt: skip
        rows = np.unique(rows_of[at], return_inverse=True)[1]  # the group's input rows, numbered 0 … k − 1
        record.update(_check_figures(checks, passes, scored, at, rows, level))
        record.update(_tail(group, rows, table.get(str(model)) if table is not None else None, level))
        records.append(record)
    middle = [*_bounded("pass_rate"), *(c for n in passes for c in _bounded(f"pass_rate_{n}"))]
    middle += [*_bounded("mean_score"), *(c for n in scored for c in _bounded(f"score_{n}"))]
    counts = {column: "int64" for name in checks for column in (f"n_{name}", f"errors_{name}")}
    dtypes = {**HEAD, **dict.fromkeys(middle, "Float64"), **counts, **TAIL}
    return pd.DataFrame(records, columns=list(dtypes)).astype(dtypes)


def _check_figures(
    checks: dict[str, CheckValues], passes: list[str], scored: list[str], at: Any, rows: Any, level: float
) -> dict[str, Any]:
    """A group's rates and mean scores with their intervals, and each check's ``n_`` / ``errors_``."""
    import numpy as np

    figures: dict[str, Any] = {}
    for overall, names, binary in (("pass_rate", passes, True), ("mean_score", scored, False)):
        values = np.stack([checks[name].values[at] for name in names], axis=1) if names else np.empty((len(at), 0))
        figures.update(_bounded_figure(overall, *_row_totals(values, rows), level, binary=binary))
        for number, name in enumerate(names):
            column = f"pass_rate_{name}" if binary else f"score_{name}"
            totals = _row_totals(values[:, number : number + 1], rows)
            figures.update(_bounded_figure(column, *totals, level, binary=binary, wilson_only=binary))
    for name, check in checks.items():
        figures[f"n_{name}"] = int(np.count_nonzero(~np.isnan(check.values[at])))
        figures[f"errors_{name}"] = int(check.errored[at].sum())
    return figures


def _row_totals(values: numpy.ndarray, rows: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Per input row (``rows``: each line's row, numbered 0 … k − 1): the sum and the count of
    ``values`` (lines × columns, NaN: no value)."""
    import numpy as np

    present = ~np.isnan(values)
    size = int(rows.max()) + 1 if len(rows) else 0
    sums = np.bincount(rows, weights=np.where(present, values, 0.0).sum(axis=1), minlength=size)
    counts = np.bincount(rows, weights=present.sum(axis=1), minlength=size)
    return sums, counts


def _bounded_figure(
    column: str, sums: numpy.ndarray, counts: numpy.ndarray, level: float, *, binary: bool, wilson_only: bool = False
) -> dict[str, float | None]:
    """``{column: mean, column_low: …, column_high: …}`` of per-row sums and counts (None without values)."""
    size = float(counts.sum())
    if size == 0:
        return dict.fromkeys(_bounded(column))
    if wilson_only:  # a check's pass rate: Wilson over its calls
        low, high = wilson(float(sums.sum()), size, level)
    else:
        low, high = cluster_interval(sums, counts, level, binary=binary)
    return {column: float(sums.sum()) / size, f"{column}_low": _number(low), f"{column}_high": _number(high)}


def _tail(group: pandas.DataFrame, rows: numpy.ndarray, price: tuple[float, float] | None, level: float) -> dict[str, Any]:
    """Tokens, the latency quantiles and the costs of a group, with their intervals."""
    import numpy as np

    tokens = group["output_tokens"].dropna()
    latency = group["latency_s"].dropna().astype(float)
    tail: dict[str, Any] = {
        "output_tokens_mean": float(tokens.mean()) if len(tokens) else None,
        "output_tokens_total": int(tokens.sum()) if len(tokens) else None,
    }
    for column, q in (("latency_p50_s", 0.5), ("latency_p95_s", 0.95)):
        low, high = quantile_interval(latency.to_numpy(), q, level)
        point = float(latency.quantile(q)) if len(latency) else None
        tail.update({column: point, f"{column}_low": _number(low), f"{column}_high": _number(high)})
    if price is None:
        return {**tail, "cost_usd": None, **dict.fromkeys(_bounded("cost_per_call_usd"))}
    used_in = group["input_tokens"].fillna(0).astype("int64").to_numpy()
    used_out = group["output_tokens"].fillna(0).astype("int64").to_numpy()
    tail["cost_usd"] = (int(used_in.sum()) * price[0] + int(used_out.sum()) * price[1]) / 1_000_000
    per_call = (used_in * price[0] + used_out * price[1]) / 1_000_000
    tail.update(_bounded_figure("cost_per_call_usd", *_row_totals(per_call[:, np.newaxis], rows), level, binary=False))
    return tail


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def plot_pass_rate(scores: pandas.DataFrame, check: str | None = None, ax: Axes | None = None) -> Axes:
    """A bar chart of :func:`scores`: one bar per (version, model), versions along x, one colour per model.

    ``check=None`` plots ``pass_rate`` (all pass/fail checks); ``check="name"`` plots that check's
    pass rate or mean score, with its interval as error bars when the scores have one. Draws on ``ax``
    (a new figure's axes without it) and returns it.
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
        where = [versions.index(r["version"]) + offset for r in mine]
        ax.bar(where, heights, width, label=str(model), yerr=_whiskers(mine, column, heights))
    ax.set_xticks(range(len(versions)), [f"v{v}" for v in versions])
    ax.set_ylim(0, 1)
    what = "score" if column.startswith("score_") else "pass rate"
    ax.set_ylabel(what if check is None else f"{what}: {check}")
    ax.set_xlabel("version")
    ax.legend(title="model")
    return ax


def _whiskers(records: list[dict[str, Any]], column: str, heights: list[float]) -> list[list[float]] | None:
    """Error bars from ``<column>_low`` / ``_high`` (the interval :func:`scores` gives), None without them."""
    if not records or f"{column}_low" not in records[0]:
        return None
    ends = [[math.nan if r[f"{column}_{end}"] is None else float(r[f"{column}_{end}"]) for r in records] for end in ("low", "high")]
    return [[h - low for h, low in zip(heights, ends[0])], [high - h for h, high in zip(heights, ends[1])]]


def _plotted_column(scores: pandas.DataFrame, check: str | None) -> str:
    names = [str(c).removeprefix("errors_") for c in scores.columns if str(c).startswith("errors_")]
    if check is None:
        if not any(f"pass_rate_{name}" in scores.columns for name in names):
            raise InvalidRequest(
                "These scores have no pass/fail check to plot: give the grid check columns, "
                "or name a score check with check="
            )
        return "pass_rate"
    for column in (f"pass_rate_{check}", f"score_{check}"):
        if column in scores.columns:
            return column
    raise InvalidRequest(f"These scores have no check {check!r}; their checks: {names or 'none'}")


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


def _cost(group: pandas.DataFrame, price: tuple[float, float] | None) -> float | None:
    """USD for the group's calls; tokens a call did not report count as none."""
    if price is None:
        return None
    used_in = group["input_tokens"].fillna(0).astype(int).sum()
    used_out = group["output_tokens"].fillna(0).astype(int).sum()
    return (int(used_in) * price[0] + int(used_out) * price[1]) / 1_000_000


__all__ = ["CheckValues", "Prices", "check_prices", "evaluated_checks", "plot_pass_rate", "scores"]
