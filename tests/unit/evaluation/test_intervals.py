"""``llamabook.evaluation.intervals``: Wilson, the cluster bootstrap by row and its normal replacement, quantiles.

Every number is checked against one worked out by hand (or with exact fractions) in the test.
"""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import llamabook as lb
from llamabook.evaluation import intervals
from llamabook.evaluation.intervals import (
    BOOTSTRAP_MAX_ROWS,
    binomial_cdf,
    check_confidence,
    cluster_interval,
    mean_interval,
    quantile_interval,
    wilson,
    z_of,
)

Z95 = 1.959963984540054


def test_wilson_gives_the_issues_numbers() -> None:
    """names_capital: 4 of 4 for version 1, 1 of 4 for version 2 (issue 28)."""
    # 4/4: centre (1 + z²/8) / (1 + z²/4), half z / (1 + z²/4) · √(z²/64)
    z2 = Z95**2
    centre, half = (1 + z2 / 8) / (1 + z2 / 4), Z95 / (1 + z2 / 4) * math.sqrt(z2 / 64)
    assert wilson(4, 4) == pytest.approx((centre - half, 1.0), abs=1e-12)
    assert wilson(4, 4) == pytest.approx((0.5101, 1.0), abs=5e-5)
    assert wilson(1, 4) == pytest.approx((0.0456, 0.6994), abs=5e-5)
    assert z_of(0.95) == pytest.approx(Z95, abs=1e-12)


def test_wilson_is_vectorised_level_aware_and_nan_without_data() -> None:
    low, high = wilson(np.array([4, 1, 0]), np.array([4, 4, 0]))
    assert low[:2] == pytest.approx([wilson(4, 4)[0], wilson(1, 4)[0]]) and high[:2] == pytest.approx([1.0, wilson(1, 4)[1]])
    assert math.isnan(low[2]) and math.isnan(high[2])
    narrow, wide = wilson(5, 10, 0.8), wilson(5, 10, 0.99)
    assert wide[0] < narrow[0] < 0.5 < narrow[1] < wide[1]
    assert wilson(0, 10)[0] == 0.0 and wilson(0, 10)[1] > 0.2  # not collapsed to a point at 0 of n


@pytest.mark.parametrize("bad", [0, 1, 1.0, 95, -0.5, True, "0.95", None, float("nan")])
def test_a_confidence_outside_0_1_is_an_invalid_request(bad: object) -> None:
    with pytest.raises(lb.InvalidRequest, match=r"scores\(\): confidence"):
        check_confidence(bad, "scores()")
    assert check_confidence(0.9, "scores()") == 0.9 and check_confidence(np.float64(0.5), "x") == 0.5


def test_one_value_per_row_is_wilson_exactly() -> None:
    passes = np.array([1, 1, 0, 1, 0, 1, 1], dtype=float)
    assert cluster_interval(passes, np.ones(7), binary=True) == wilson(5, 7)
    with_empty_rows = cluster_interval(np.append(passes, [0, 0]), np.append(np.ones(7), [0, 0]), binary=True)
    assert with_empty_rows == wilson(5, 7)  # rows without a value are left out


def test_rows_with_several_correlated_values_give_a_wider_interval_than_counting_values() -> None:
    """5 rows × 2 checks; the normal approximation (forced) worked out by hand."""
    sums, counts = np.array([2, 1, 1, 2, 0.0]), np.full(5, 2.0)
    # p = 6/10; residuals a − p·m: .8, −.2, −.2, .8, −1.2; Σ² = 2.8; var = 5/4 · 2.8 / 10² = 0.035
    half = Z95 * math.sqrt(0.035)
    forced = cluster_interval(sums, counts, binary=True, max_bootstrap_rows=0)
    assert forced == pytest.approx((0.6 - half, 0.6 + half), abs=1e-12)
    assert forced == pytest.approx((0.23332, 0.96668), abs=1e-5)
    naive = wilson(6, 10)  # as if the 10 values were independent
    assert forced[1] - forced[0] > 1.3 * (naive[1] - naive[0])
    booted = cluster_interval(sums, counts, binary=True)
    assert booted == cluster_interval(sums, counts, binary=True)  # seeded: the same every time
    assert booted[0] <= 0.6 <= booted[1]
    many = np.random.default_rng(3).binomial(2, 0.6, 300).astype(float), np.full(300, 2.0)
    assert cluster_interval(*many, binary=True) != cluster_interval(*many, binary=True, seed=1)  # the seed is what fixes it


def test_all_agreeing_rows_fall_back_to_wilson_over_the_rows() -> None:
    """Nothing to resample: every value passes. The widest the correlation can make it: one value per row."""
    assert cluster_interval(np.full(4, 3.0), np.full(4, 3.0), binary=True) == wilson(4, 4)
    assert cluster_interval(np.zeros(6), np.full(6, 2.0), binary=True) == wilson(0, 6)


def test_the_bootstrap_and_its_normal_replacement_agree_at_the_threshold() -> None:
    rng = np.random.default_rng(7)
    rows = BOOTSTRAP_MAX_ROWS
    sums, counts = rng.binomial(3, 0.7, rows).astype(float), np.full(rows, 3.0)
    booted = cluster_interval(sums, counts, binary=True)
    normal = cluster_interval(sums, counts, binary=True, max_bootstrap_rows=rows - 1)
    assert booted != normal  # two methods …
    assert booted == pytest.approx(normal, abs=0.003)  # … one answer, within the bootstrap's noise
    above = cluster_interval(np.append(sums, 3.0), np.append(counts, 3.0), binary=True)
    ratio = (sums.sum() + 3) / (counts.sum() + 3)
    assert above[0] < ratio < above[1] and (above[1] + above[0]) / 2 == pytest.approx(ratio, abs=1e-12)  # normal: symmetric


def test_mean_interval_is_the_mean_plus_minus_z_standard_errors_above_the_threshold() -> None:
    values = np.array([0.2, 0.4, 0.9, 0.5, 0.6, np.nan])
    mean, sd = 0.52, math.sqrt(((0.2 - 0.52) ** 2 + 0.12**2 + 0.38**2 + 0.02**2 + 0.08**2) / 4)
    half = Z95 * sd / math.sqrt(5)
    assert mean_interval(values, max_bootstrap_rows=0) == pytest.approx((mean - half, mean + half), abs=1e-12)
    booted = mean_interval(values)
    assert 0.2 <= booted[0] < mean < booted[1] <= 0.9 and booted == mean_interval(values)
    assert all(math.isnan(v) for v in mean_interval([0.5]))  # one value: no interval
    assert all(math.isnan(v) for v in mean_interval([]))


def exact_cdf(n: int, q: Fraction) -> list[Fraction]:
    total, cdf = Fraction(0), []
    for k in range(n + 1):
        total += math.comb(n, k) * q**k * (1 - q) ** (n - k)
        cdf.append(total)
    return cdf


def test_the_binomial_cdf_matches_exact_fractions() -> None:
    exact = exact_cdf(20, Fraction(3, 10))
    assert binomial_cdf(20, 0.3) == pytest.approx([float(f) for f in exact], abs=1e-12)
    assert binomial_cdf(100_000, 0.5)[50_000] == pytest.approx(float(Fraction(1, 2) + Fraction(math.comb(100_000, 50_000), 2**100_001)), abs=1e-9)


def test_the_median_interval_of_ten_values_is_the_2nd_to_the_9th() -> None:
    """Bin(10, ½): P(K ≤ 1) = 11/1024 ≤ .025 < P(K ≤ 2) = 56/1024; P(K ≤ 7) = 968/1024 < .975 ≤ P(K ≤ 8) = 1013/1024."""
    values = np.array([7.0, 1, 9, 3, 10, 2, 8, 5, 4, 6, np.nan])
    assert quantile_interval(values, 0.5) == (2.0, 9.0)  # x₍₂₎ … x₍₉₎: coverage 1 − 2·11/1024 = 0.9785
    assert quantile_interval(values, 0.5, 0.8) == (3.0, 8.0)  # P(K ≤ 2) = .0547 ≤ .1; P(K ≤ 7) = .945 ≥ .9


def test_an_end_that_needs_more_values_than_there_are_is_unbounded() -> None:
    """The upper end of p95 at 95% needs P(K ≤ n − 1) = 1 − .95ⁿ ≥ .975: n ≥ 72."""
    assert 1 - 0.95**71 < 0.975 <= 1 - 0.95**72
    low, high = quantile_interval(np.arange(71.0), 0.95)
    assert math.isnan(high) and not math.isnan(low)
    cdf = exact_cdf(72, Fraction(95, 100))
    lowest = max(k for k in range(72) if cdf[k] <= Fraction(25, 1000))  # rank lowest + 1, 0-based value lowest
    highest = min(k for k in range(72) if cdf[k] >= Fraction(975, 1000))
    assert quantile_interval(np.arange(72.0), 0.95) == (float(lowest), float(highest)) == (63.0, 71.0)
    assert all(math.isnan(v) for v in quantile_interval(np.arange(3.0), 0.5))  # 3 values bound no median at 95%
    assert all(math.isnan(v) for v in quantile_interval([], 0.5))


def test_the_module_imports_no_pandas_or_scipy() -> None:
    code = "import sys, llamabook.evaluation.intervals; print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'scipy'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
    assert intervals.RESAMPLES == 1_000 and BOOTSTRAP_MAX_ROWS == 2_000  # the numbers the docs give
