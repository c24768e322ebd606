"""Robustness checks: placebo interventions, sensitivity to seasonal method and lag, percent changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from payreform.errors import ParameterError
from payreform.itsa.analysis import analyse_series
from payreform.itsa.design import _intervention_index
from payreform.itsa.ols import segmented_regression
from payreform.periods import frequency_of, parse_period

PLACEBO_MIN_SIDE = 6
"""Fewest pre-intervention periods on each side of a placebo date."""


def as_percent_change(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``percent``, ``percent_low`` and ``percent_high``: 100 (exp(b) - 1) for log-scale estimates.

    A coefficient b on ln(y + 1) multiplies y by exp(b); for small b this is close to 100 b %,
    but not for large ones (b = -0.154 is -14.3%, not -15.4%).

    Examples
    --------
    >>> as_percent_change(pd.DataFrame({"estimate": [0.1], "ci_low": [0.0], "ci_high": [0.2]}))["percent"].round(2).tolist()
    [10.52]
    """
    shown = table.copy()
    shown["percent"] = 100 * np.expm1(shown["estimate"])
    shown["percent_low"] = 100 * np.expm1(shown["ci_low"])
    shown["percent_high"] = 100 * np.expm1(shown["ci_high"])
    return shown


def placebo_dates(periods: pd.PeriodIndex, intervention: object, count: int = 3,
                  min_side: int = PLACEBO_MIN_SIDE) -> list[pd.Period]:
    """Up to ``count`` placebo dates evenly spaced inside the pre-intervention periods.

    A placebo date must leave at least ``min_side`` pre-intervention periods before it and
    ``min_side`` from it up to the real intervention. The dates are spread evenly over the
    admissible range (its first and last period included); a pre-period shorter than
    ``2 * min_side`` periods gets none.

    Examples
    --------
    >>> months = pd.period_range("2016-01", "2019-11", freq="M")
    >>> [str(p) for p in placebo_dates(months, "2017-10")]
    ['2016-07', '2016-12', '2017-04']
    >>> placebo_dates(pd.period_range("2016Q1", "2019Q4", freq="Q"), "2018Q1")
    []
    """
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ParameterError(f"the number of placebo dates is {count!r}; use a whole number >= 0")
    start, t0 = _intervention_index(periods, intervention)
    n_pre = t0 - 1
    first, last = min_side, n_pre - min_side  # 0-based positions in the pre-period
    if count == 0 or last < first:
        return []
    span = last - first
    steps = min(count, span + 1)
    positions = sorted({int(np.floor(first + span * i / (steps - 1) + 0.5)) for i in range(steps)}) if steps > 1 else \
        [first + span // 2]
    return [periods[p] for p in positions]


def placebo_analysis(series: pd.Series, *, intervention: object, placebos: list[object],
                     coding: str = "zero_at_intervention", hac_lags: int | str | None = "auto",
                     min_pre: int = PLACEBO_MIN_SIDE, min_post: int = PLACEBO_MIN_SIDE,
                     seasonal_dummies: bool = False, inference: str = "newey_west") -> pd.DataFrame:
    """Pretend the intervention happened earlier, using only the data before the real one.

    For each placebo date the segmented regression is fitted to the pre-intervention periods
    alone. A real effect should not appear there: level and slope changes near zero and
    non-significant, apart from the 5% false positives expected by chance.

    Parameters
    ----------
    series
        The series as analysed (seasonally adjusted and/or logged), indexed by periods.
    intervention
        The real intervention: only the periods before it are used.
    placebos
        Placebo dates, each with at least ``min_pre`` periods before it and ``min_post`` from it
        up to the real intervention.
    coding, hac_lags
        As in :func:`segmented_regression`.
    seasonal_dummies
        Fit calendar-season indicators too (when the series was not seasonally adjusted).
    inference
        The inference method (see :func:`segmented_regression`), the same as the main analysis.

    Returns
    -------
    DataFrame
        One row per placebo date: outcome, placebo, n_obs, and for beta2 and beta3 the
        estimate, standard error and p-value.

    Examples
    --------
    >>> idx = pd.period_range("2015-01", periods=48, freq="M")
    >>> line = pd.Series(5 + 0.01 * np.arange(48) + 0.01 * np.sin(np.arange(48)), index=idx, name="y")
    >>> placebo_analysis(line, intervention="2018-01", placebos=["2016-07"], hac_lags=None)["n_obs"].tolist()
    [36]
    """
    start, _ = _intervention_index(series.index, intervention)
    before = series[series.index < start]
    rows = []
    for placebo in placebos:
        fake = parse_period(placebo, frequency_of(series.index), "placebos")
        n_pre, n_post = int((before.index < fake).sum()), int((before.index >= fake).sum())
        if n_pre < min_pre or n_post < min_post:
            raise ParameterError(
                f"placebo date {fake} leaves {n_pre} periods before and {n_post} after inside the "
                f"pre-intervention data; choose dates with at least {min_pre} on each side"
            )
        result = segmented_regression(before, intervention=fake, coding=coding, hac_lags=hac_lags,
                                      seasonal_dummies=seasonal_dummies, inference=inference)
        row = {"outcome": series.name, "placebo": str(fake), "n_obs": result.n_obs}
        for term in ("beta2", "beta3"):
            combo = result.term(term)
            row |= {f"{term}": combo.estimate, f"{term}_se": combo.std_error, f"{term}_p": combo.p_value}
        rows.append(row)
    return pd.DataFrame(rows, columns=["outcome", "placebo", "n_obs", "beta2", "beta2_se", "beta2_p", "beta3",
                                       "beta3_se", "beta3_p"])


def placebo_rejections(placebo: pd.DataFrame, alpha: float = 0.05) -> dict:
    """How many placebo level and slope changes are significant, against what chance would give.

    Returns ``tests`` (2 per placebo fit), ``rejections`` (p < alpha), ``expected``
    (alpha x tests) and ``tail_p``, the binomial probability of at least that many rejections
    if every test had its nominal size. The tests share data and are not independent, so
    ``tail_p`` is a yardstick, not an exact test.

    Examples
    --------
    >>> table = pd.DataFrame({"beta2_p": [0.5, 0.01, 0.2], "beta3_p": [0.03, 0.02, 0.9]})
    >>> summary = placebo_rejections(table)
    >>> summary["tests"], summary["rejections"], round(summary["tail_p"], 4)
    (6, 3, 0.0022)
    """
    p_values = np.r_[placebo["beta2_p"].to_numpy(dtype=float), placebo["beta3_p"].to_numpy(dtype=float)]
    tests = int(len(p_values))
    rejections = int((p_values < alpha).sum())
    tail = float(stats.binom.sf(rejections - 1, tests, alpha)) if tests else float("nan")
    return {"tests": tests, "rejections": rejections, "expected": alpha * tests, "tail_p": tail}


def sensitivity_table(series: pd.Series, *, intervention: object, coding: str = "zero_at_intervention",
                      log: bool = False, term: str = "beta3",
                      seasonal_methods: tuple[str, ...] = ("none", "ratio_to_moving_average", "season_dummies"),
                      lags: tuple[int | None, ...] = (0, 3, 6)) -> pd.DataFrame:
    """``term`` across seasonal methods and Newey-West lags, one row per combination.

    Methods that the series cannot take (a season for annual data or for less than two years,
    the ratio to a moving average for zeros) and lags too long for the series are skipped.

    Examples
    --------
    >>> idx = pd.period_range("2015-01", periods=48, freq="M")
    >>> y = pd.Series(100 + np.arange(48.0) + 5 * (np.arange(48) >= 30) + np.cos(np.arange(48)), index=idx, name="y")
    >>> sensitivity_table(y, intervention="2017-07", lags=(0, 3))[["seasonal", "hac_lags"]].values.tolist()[:2]
    [['none', 0], ['none', 3]]
    """
    rows = []
    frame = series.to_frame()
    frequency = frequency_of(series.index)
    per_year = {"M": 12, "Q": 4, "Y": 1}[frequency]
    for method in seasonal_methods:
        if method != "none" and frequency == "Y":
            continue
        if method != "none" and len(series) < 2 * per_year:
            continue  # fewer than two years: seasons cannot be told from the trend and the break
        if method == "ratio_to_moving_average" and (series <= 0).any():
            continue
        for lag in lags:
            if lag is not None and lag >= len(series) - 1:
                continue
            analysis = analyse_series(frame, str(series.name), intervention=intervention, seasonal=method, log=log,
                                      coding=coding, hac_lags=lag)
            combo = analysis.model.term(term)
            low, high = combo.interval()
            rows.append({"outcome": series.name, "seasonal": method, "hac_lags": "OLS" if lag is None else lag,
                         "term": term, "estimate": combo.estimate, "std_error": combo.std_error,
                         "p_value": combo.p_value, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)
