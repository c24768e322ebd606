"""Robustness checks: placebo interventions, sensitivity to seasonal method and lag, percent changes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from payreform.errors import ParameterError
from payreform.itsa.analysis import analyse_series
from payreform.itsa.design import _intervention_index
from payreform.itsa.ols import segmented_regression
from payreform.periods import frequency_of, parse_period


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


def placebo_analysis(series: pd.Series, *, intervention: object, placebos: list[object],
                     coding: str = "zero_at_intervention", hac_lags: int | str | None = "auto",
                     min_pre: int = 6, min_post: int = 6) -> pd.DataFrame:
    """Pretend the intervention happened earlier, using only the data before the real one.

    For each placebo date the segmented regression is fitted to the pre-intervention periods
    alone. A real effect should not appear there: level and slope changes near zero and
    non-significant, apart from the 5% false positives expected by chance.

    Returns one row per placebo date with beta2 and beta3 (estimate, SE, p-value).
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
        result = segmented_regression(before, intervention=fake, coding=coding, hac_lags=hac_lags)
        row = {"outcome": series.name, "placebo": str(fake), "n_obs": result.n_obs}
        for term in ("beta2", "beta3"):
            combo = result.term(term)
            row |= {f"{term}": combo.estimate, f"{term}_se": combo.std_error, f"{term}_p": combo.p_value}
        rows.append(row)
    return pd.DataFrame(rows)


def sensitivity_table(series: pd.Series, *, intervention: object, coding: str = "zero_at_intervention",
                      log: bool = False, term: str = "beta3",
                      seasonal_methods: tuple[str, ...] = ("none", "ratio_to_moving_average", "season_dummies"),
                      lags: tuple[int | None, ...] = (0, 3, 6)) -> pd.DataFrame:
    """``term`` across seasonal methods and Newey-West lags, one row per combination.

    Examples
    --------
    >>> sensitivity_table(frame["visits"], intervention="2017-10")  # doctest: +SKIP
    """
    rows = []
    frame = series.to_frame()
    for method in seasonal_methods:
        if method != "none" and frequency_of(series.index) == "Y":
            continue
        for lag in lags:
            analysis = analyse_series(frame, str(series.name), intervention=intervention, seasonal=method, log=log,
                                      coding=coding, hac_lags=lag)
            combo = analysis.model.term(term)
            low, high = combo.interval()
            rows.append({"outcome": series.name, "seasonal": method, "hac_lags": "OLS" if lag is None else lag,
                         "term": term, "estimate": combo.estimate, "std_error": combo.std_error,
                         "p_value": combo.p_value, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)
