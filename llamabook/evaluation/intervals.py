"""Confidence intervals for a grid's figures: numpy only (pandas and scipy are never imported here).

- :func:`wilson`: a pass rate (k of n), Wilson's score interval. It stays inside [0, 1] and keeps a
  sensible width at 0 of n and n of n, where the textbook (Wald) interval collapses to a point.
- :func:`cluster_interval`: a mean over several values per input row (the overall pass rate of
  several checks, a mean score, the cost per call with repeats), with the **row** as the unit:
  values of the same row are not independent, so resampling single values would make the interval
  too narrow. Up to :data:`BOOTSTRAP_MAX_ROWS` rows it is a percentile **cluster bootstrap** by row
  (:data:`RESAMPLES` resamples, seeded: the same data gives the same interval on any machine);
  above it, the **normal approximation** of the same ratio estimator (its linearised,
  cluster-robust variance). :func:`mean_interval` is the one-value-per-row case.
- :func:`quantile_interval`: a quantile (p50, p95) from two order statistics, with ranks from the
  binomial distribution: distribution-free, with coverage at least the level asked for. An end
  that needs more observations than there are (the upper end of p95 at 95% needs 72) is NaN:
  unbounded, not made up.

Why the threshold. A bootstrap costs ``RESAMPLES × rows`` draws: at 2,000 rows about 20 ms per
interval, at 100,000 rows about 0.4 s (vectorised), and a scores table has several such intervals
per version × model. Above a couple of thousand rows the central limit theorem has done its work:
the bootstrap's percentiles and the normal interval agree to within the bootstrap's own Monte-Carlo
noise (about ±0.002 on a rate there, ``tests/unit/evaluation/test_intervals.py`` checks it), so
the normal interval gives the same answer in microseconds.

Every function takes a ``confidence`` in (0, 1) (:func:`check_confidence` checks one given by a
user) and returns ``(low, high)`` as floats, NaN where there is no interval (no data, one row).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

from ..errors import InvalidRequest

#: Up to this many input rows, :func:`cluster_interval` resamples; above it, the normal approximation.
BOOTSTRAP_MAX_ROWS = 2_000
#: Resamples of a bootstrap.
RESAMPLES = 1_000
#: The bootstrap's seed: an interval depends on the data alone.
SEED = 0
#: Draws per chunk of a bootstrap (resamples × rows), so its index matrix stays about 8 MB.
_CHUNK_DRAWS = 1_000_000

Interval = tuple[float, float]
NAN_INTERVAL: Interval = (math.nan, math.nan)


def check_confidence(confidence: Any, caller: str, name: str = "confidence") -> float:
    """``confidence`` as a float strictly between 0 and 1, else :class:`~llamabook.InvalidRequest` naming ``caller``."""
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.floating)):
        raise InvalidRequest(f"{caller}: {name} is a number between 0 and 1 (e.g. 0.95), not {confidence!r}")
    value = float(confidence)
    if not 0.0 < value < 1.0:
        raise InvalidRequest(f"{caller}: {name}={confidence!r} is outside (0, 1); give e.g. 0.95 (not 95)")
    return value


def z_of(confidence: float) -> float:
    """The two-sided normal quantile of ``confidence`` (1.95996… for 0.95)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: Any, n: Any, confidence: float = 0.95) -> tuple[Any, Any]:
    """Wilson's score interval for ``successes`` of ``n``; numbers or numpy arrays (elementwise). NaN where n is 0."""
    k, total = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    z = z_of(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / total
        scale = 1 + z * z / total
        centre = (p + z * z / (2 * total)) / scale
        half = z / scale * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))  # exactly 0 at 0 of n (not 1e-17)
    high = np.where((k == total) & (total > 0), 1.0, np.clip(centre + half, 0.0, 1.0))
    low, high = np.where(total > 0, low, np.nan), np.where(total > 0, high, np.nan)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def cluster_interval(
    sums: Any,
    counts: Any,
    confidence: float = 0.95,
    *,
    binary: bool = False,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    max_bootstrap_rows: int = BOOTSTRAP_MAX_ROWS,
) -> Interval:
    """An interval for ``sum(sums) / sum(counts)``, one entry per input row (the unit resampled).

    ``sums[r]`` is the total of row ``r``'s values (its passes, for a rate) and ``counts[r]`` how
    many it has; rows with a count of 0 are left out. ``binary=True`` says the values are 0/1
    passes: then one value per row gives exactly :func:`wilson` of the total, and a rate of 0 or 1
    (no spread to resample) gives Wilson's interval over the rows (as if each row's values were
    one: the widest the correlation can make it). Otherwise: the module's cluster bootstrap up to
    ``max_bootstrap_rows`` rows, the normal approximation above; NaN below two rows.
    """
    counted = np.asarray(counts, dtype=float)
    keep = counted > 0
    a, m = np.asarray(sums, dtype=float)[keep], counted[keep]
    rows = len(a)
    if rows == 0:
        return NAN_INTERVAL
    total, size = float(a.sum()), float(m.sum())
    if binary and (m.max() <= 1 or total in (0.0, size)):
        return wilson(total if m.max() <= 1 else total / size * rows, size if m.max() <= 1 else rows, confidence)
    if rows < 2:
        return NAN_INTERVAL
    if rows <= max_bootstrap_rows:
        return _bootstrap(a, m, confidence, resamples, seed)
    return _normal_ratio(a, m, confidence)


def mean_interval(values: Any, confidence: float = 0.95, **options: Any) -> Interval:
    """An interval for the mean of independent ``values`` (NaNs left out): bootstrap, or normal above the threshold."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    return cluster_interval(x, np.ones(len(x)), confidence, **options)


def _bootstrap(a: np.ndarray, m: np.ndarray, confidence: float, resamples: int, seed: int) -> Interval:
    """Percentile interval of ``sum(a) / sum(m)`` over resampled rows (vectorised, in chunks)."""
    rng = np.random.default_rng(seed)
    rows = len(a)
    stats = np.empty(resamples)
    per_chunk = max(1, _CHUNK_DRAWS // rows)
    ones = bool(np.all(m == 1))
    for start in range(0, resamples, per_chunk):
        size = min(per_chunk, resamples - start)
        picks = rng.integers(0, rows, size=(size, rows))
        drawn = a[picks].sum(axis=1)
        stats[start : start + size] = drawn / rows if ones else drawn / m[picks].sum(axis=1)
    alpha = 1 - confidence
    low, high = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _normal_ratio(a: np.ndarray, m: np.ndarray, confidence: float) -> Interval:
    """Ratio estimate ± z × its linearised cluster-robust standard error, kept within the rows' own ratios."""
    rows = len(a)
    ratio = a.sum() / m.sum()
    residuals = a - ratio * m
    variance = rows / (rows - 1) * float(np.dot(residuals, residuals)) / float(m.sum()) ** 2
    half = z_of(confidence) * math.sqrt(variance)
    per_row = a / m
    return float(max(ratio - half, per_row.min())), float(min(ratio + half, per_row.max()))


def binomial_cdf(n: int, q: float) -> np.ndarray:
    """``P(K ≤ k)`` for ``k = 0 … n``, ``K ~ Binomial(n, q)``, ``0 < q < 1`` (log-space, no overflow for large n)."""
    k = np.arange(n + 1, dtype=float)
    log_choose = np.concatenate(([0.0], np.cumsum(np.log(n - k[:-1]) - np.log(k[:-1] + 1))))
    log_pmf = log_choose + k * math.log(q) + (n - k) * math.log1p(-q)
    pmf = np.exp(log_pmf - log_pmf.max())
    return np.cumsum(pmf) / pmf.sum()


def quantile_interval(values: Any, q: float, confidence: float = 0.95) -> Interval:
    """A distribution-free interval for the ``q`` quantile of ``values`` (NaNs left out).

    ``[x_(l), x_(u)]`` (order statistics, 1-based) with ``l`` the largest rank such that
    ``P(K ≤ l − 1) ≤ α/2`` and ``u`` the smallest such that ``P(K ≤ u − 1) ≥ 1 − α/2``, for
    ``K ~ Binomial(n, q)``: the interval holds the true quantile with probability ≥ ``confidence``
    whatever the distribution. An end with no such rank among the ``n`` values is NaN (unbounded).
    """
    x = np.asarray(values, dtype=float)
    x = np.sort(x[~np.isnan(x)])
    n = len(x)
    if n == 0:
        return NAN_INTERVAL
    alpha = 1 - confidence
    cdf = binomial_cdf(n, q)[:n]  # k = 0 … n − 1: the ranks 1 … n
    below = np.flatnonzero(cdf <= alpha / 2)
    above = np.flatnonzero(cdf >= 1 - alpha / 2)
    low = float(x[below[-1]]) if len(below) else math.nan
    high = float(x[above[0]]) if len(above) else math.nan
    return low, high


__all__ = [
    "BOOTSTRAP_MAX_ROWS",
    "RESAMPLES",
    "binomial_cdf",
    "check_confidence",
    "cluster_interval",
    "mean_interval",
    "quantile_interval",
    "wilson",
    "z_of",
]
