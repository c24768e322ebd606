"""Chi-square test for trend in proportions (Cochran-Armitage), and what a published chi-square implies.

For groups ``i`` (for example years) with ``r_i`` successes out of ``n_i`` and scores ``s_i``,

    chi2 = [sum r_i (s_i - s_bar)]^2 / [p (1 - p) sum n_i (s_i - s_bar)^2],

with ``p = sum r_i / sum n_i`` and ``s_bar = sum n_i s_i / sum n_i``; 1 degree of freedom. This
is R's ``prop.trend.test``. (The linear-by-linear association test differs by the factor
``(N - 1) / N``.)

Papers often print the percentages and the chi-square but not the denominators. With equal
denominators ``n`` in every group the statistic is proportional to ``n``, so the denominator
that reproduces a published chi-square can be solved for exactly: :func:`implied_denominator`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd
from scipy import optimize, stats

from payreform.errors import ParameterError


@dataclass(frozen=True, eq=False)
class TrendTest:
    """Result of :func:`cochran_armitage`."""

    statistic: float
    p_value: float
    z: float
    scores: np.ndarray
    successes: np.ndarray
    totals: np.ndarray

    @property
    def df(self) -> int:
        """Degrees of freedom (always 1)."""
        return 1

    def table(self) -> pd.DataFrame:
        """One row: chi-square, df, signed z, p-value, total N."""
        return pd.DataFrame([{"term": "trend", "statistic": self.statistic, "df": 1, "z": self.z,
                              "p_value": self.p_value, "n_total": float(self.totals.sum())}])


def _as_array(values: Sequence[float], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or len(array) < 2:
        raise ParameterError(f"parameter '{name}' needs at least two groups")
    if not np.isfinite(array).all():
        raise ParameterError(f"parameter '{name}' has missing or infinite values")
    return array


def cochran_armitage(
    successes: Sequence[float], totals: Sequence[float], scores: Sequence[float] | None = None
) -> TrendTest:
    """Cochran-Armitage chi-square test for a linear trend in proportions.

    Parameters
    ----------
    successes
        Number of "successes" per group (for example persons under standardised management).
    totals
        Group sizes.
    scores
        Scores of the groups (default ``1, 2, ..., k``); equally spaced years give the same test.

    Examples
    --------
    >>> round(cochran_armitage([15, 10, 5], [50, 50, 50]).statistic, 4)
    6.25
    """
    r = _as_array(successes, "successes")
    n = _as_array(totals, "totals")
    if len(r) != len(n):
        raise ParameterError("'successes' and 'totals' must have the same length")
    s = np.arange(1, len(r) + 1, dtype=float) if scores is None else _as_array(scores, "scores")
    if len(s) != len(r):
        raise ParameterError("'scores' must have one value per group")
    if (n <= 0).any() or (r < 0).any() or (r > n).any():
        raise ParameterError("each group needs totals > 0 and 0 <= successes <= totals")
    p = r.sum() / n.sum()
    if p in (0.0, 1.0):
        raise ParameterError("all groups are 0% or all 100%; there is no variation to test")
    s_bar = (n * s).sum() / n.sum()
    numerator = (r * (s - s_bar)).sum()
    variance = p * (1 - p) * (n * (s - s_bar) ** 2).sum()
    if variance <= 0:
        raise ParameterError("'scores' are all equal; give distinct scores")
    z = numerator / np.sqrt(variance)
    chi2 = float(z**2)
    return TrendTest(chi2, float(stats.chi2.sf(chi2, 1)), float(z), s, r, n)


@dataclass(frozen=True)
class ImpliedDenominator:
    """Equal per-group denominator that reproduces a published chi-square.

    ``n`` uses the published percentages as exact; ``n_low`` and ``n_high`` bound it when each
    percentage may be off by up to ``rounding`` percentage points (the half-unit of the last
    printed digit).
    """

    chi2: float
    n: float
    n_low: float
    n_high: float
    rounding: float

    def row(self) -> dict:
        """As a dict for a table."""
        return {"published_chi2": self.chi2, "implied_n_per_group": self.n,
                "n_low": self.n_low, "n_high": self.n_high}


def _chi2_per_unit(proportions: np.ndarray, scores: np.ndarray) -> float:
    s_bar = scores.mean()
    p_bar = proportions.mean()
    numerator = (proportions * (scores - s_bar)).sum()
    variance = p_bar * (1 - p_bar) * ((scores - s_bar) ** 2).sum()
    return float(numerator**2 / variance)


def implied_denominator(
    percentages: Sequence[float], chi2: float, scores: Sequence[float] | None = None,
    rounding: float = 0.05,
) -> ImpliedDenominator:
    """Solve for the equal per-group denominator ``n`` behind a published trend chi-square.

    With ``r_i = n * p_i`` the Cochran-Armitage statistic is ``n`` times its value at ``n = 1``,
    so ``n = chi2 / chi2(n=1)``. The bounds search the box ``p_i +/- rounding`` (percentage
    points) for the smallest and largest ``chi2(n=1)``.

    Examples
    --------
    >>> d = implied_denominator([69.9, 78.4, 81.5], 1063.1)
    >>> round(d.n)
    28323
    """
    p = _as_array(percentages, "percentages") / 100.0
    if ((p <= 0) | (p >= 1)).any():
        raise ParameterError("percentages must lie strictly between 0 and 100")
    if not chi2 > 0:
        raise ParameterError("the published chi-square must be positive")
    s = np.arange(1, len(p) + 1, dtype=float) if scores is None else _as_array(scores, "scores")
    unit = _chi2_per_unit(p, s)
    h = rounding / 100.0
    bounds = [(max(x - h, 1e-9), min(x + h, 1 - 1e-9)) for x in p]
    starts = [np.array(c) for c in product(*bounds)] + [p]

    def extreme(sign: float) -> float:
        best = None
        for start in starts:
            res = optimize.minimize(lambda q: sign * _chi2_per_unit(q, s), start, bounds=bounds,
                                    method="L-BFGS-B")
            value = sign * res.fun
            best = value if best is None else (min(best, value) if sign > 0 else max(best, value))
        return float(best)

    smallest, largest = extreme(1.0), extreme(-1.0)
    n_high = float("inf") if smallest <= 1e-12 else chi2 / smallest
    return ImpliedDenominator(float(chi2), chi2 / unit, chi2 / largest, n_high, rounding)


def implied_denominator_table(tests: pd.DataFrame, rounding: float = 0.05) -> pd.DataFrame:
    """:func:`implied_denominator` for each row of ``tests`` (columns ``percentages``, ``published_chi2``).

    Other columns of ``tests`` are kept in front of the results.
    """
    rows = []
    for record in tests.to_dict(orient="records"):
        implied = implied_denominator(record["percentages"], record["published_chi2"], rounding=rounding)
        row = {k: v for k, v in record.items() if k not in {"percentages", "published_chi2"}}
        row["percentages"] = ", ".join(f"{v:.1f}" for v in record["percentages"])
        rows.append(row | implied.row())
    return pd.DataFrame(rows)


def pearson_chi_square(table) -> tuple[float, float, int]:
    """Pearson's chi-square test of independence on a contingency table (no continuity correction).

    Returns (statistic, p-value, degrees of freedom). Used to reconstruct a published test whose
    statistic fits a plain test of homogeneity rather than a test for trend.

    Examples
    --------
    >>> statistic, p, dof = pearson_chi_square([[10, 20, 30], [20, 20, 20]])
    >>> round(statistic, 3), dof
    (5.333, 2)
    """
    from scipy.stats import chi2_contingency

    result = chi2_contingency(np.asarray(table, dtype=float), correction=False)
    return float(result.statistic), float(result.pvalue), int(result.dof)
