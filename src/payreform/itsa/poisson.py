"""Quasi-Poisson segmented regression for counts, with offset and Fourier seasonality."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from payreform.errors import ContractError, ParameterError
from payreform.inference import TABLE_COLUMNS, linear_combination
from payreform.itsa.design import (
    _intervention_index,
    _series_from,
    design_matrix,
    season_indicators,
)
from payreform.periods import PERIODS_PER_YEAR, frequency_of, season_of


def fourier_terms(index: pd.PeriodIndex, pairs: int) -> pd.DataFrame:
    """``sin(2*pi*k*s/P)`` and ``cos(2*pi*k*s/P)`` for ``k = 1..pairs``, ``s`` the calendar month or quarter.

    Examples
    --------
    >>> idx = pd.period_range("2016-01", periods=12, freq="M")
    >>> list(fourier_terms(idx, 2).columns)
    ['sin1', 'cos1', 'sin2', 'cos2']
    """
    freq = frequency_of(index)
    period_length = PERIODS_PER_YEAR[freq]
    if isinstance(pairs, bool) or not isinstance(pairs, (int, np.integer)) or pairs < 0:
        raise ParameterError(f"parameter 'fourier' is {pairs!r}; use an integer >= 0")
    if pairs and freq == "Y":
        raise ParameterError("parameter 'fourier' must be 0 for annual data (there is no season)")
    if pairs * 2 >= period_length and pairs:
        raise ParameterError(
            f"parameter 'fourier' is {pairs}; with {period_length} periods a year use at most {(period_length - 1) // 2}"
        )
    season = season_of(index).astype(float)
    columns = {}
    for k in range(1, pairs + 1):
        columns[f"sin{k}"] = np.sin(2 * np.pi * k * season / period_length)
        columns[f"cos{k}"] = np.cos(2 * np.pi * k * season / period_length)
    return pd.DataFrame(columns, index=range(1, len(index) + 1))


@dataclass(frozen=True, eq=False)
class PoissonITSAResult:
    """A quasi-Poisson segmented regression (see :func:`segmented_poisson`).

    Coefficients are on the log scale; :meth:`table` adds rate ratios ``exp(beta)``.
    ``dispersion`` is the Pearson chi-square over the residual degrees of freedom.
    """

    outcome: str
    coding: str
    impact: str
    params: pd.Series
    cov: pd.DataFrame
    df_resid: int
    dispersion: float
    periods: pd.PeriodIndex
    observed: np.ndarray
    fitted: np.ndarray
    counterfactual: np.ndarray
    intervention: pd.Period
    intervention_index: int
    offset: str | None
    fourier: int

    @property
    def n_obs(self) -> int:
        """Number of periods."""
        return len(self.observed)

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per coefficient (log scale) with the rate ratio and its interval."""
        names = list(self.params.index)
        rows = [linear_combination(self.params, self.cov, {n: 1.0}, n, self.df_resid).row(alpha) for n in names]
        if "beta3" in names:
            rows.append(linear_combination(self.params, self.cov, {"beta1": 1.0, "beta3": 1.0}, "post_slope",
                                           self.df_resid).row(alpha))
        frame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
        frame["rate_ratio"] = np.exp(frame["estimate"])
        frame["rr_ci_low"] = np.exp(frame["ci_low"])
        frame["rr_ci_high"] = np.exp(frame["ci_high"])
        return frame

    def predictions(self) -> pd.DataFrame:
        """Observed, fitted and counterfactual expected counts per period."""
        time = np.arange(1, self.n_obs + 1)
        post = time >= self.intervention_index
        return pd.DataFrame({"T": time, "post": post, "observed": self.observed, "fitted": self.fitted,
                             "counterfactual": np.where(post, self.counterfactual, np.nan)},
                            index=pd.PeriodIndex(self.periods, name="period"))


def segmented_poisson(
    data: pd.DataFrame,
    outcome: str,
    *,
    intervention: object,
    coding: str = "zero_at_intervention",
    impact: str = "level_and_slope",
    offset: str | None = None,
    fourier: int = 0,
    seasonal_dummies: bool = False,
) -> PoissonITSAResult:
    """Quasi-Poisson segmented regression for counts, with optional offset and Fourier seasonality.

    ``log E[Y_T] = log(offset_T) + beta0 + beta1*T + beta2*X + beta3*XT + Fourier terms``;
    the variance is ``phi * E[Y]`` with ``phi`` estimated by Pearson chi-square / (n - k), and
    t-based inference as R's ``glm(family = quasipoisson)``.

    Parameters
    ----------
    data
        Frame indexed by a gap-free PeriodIndex holding the count (and the offset column).
    outcome
        The count column (non-negative).
    intervention, coding, impact
        As in :func:`segmented_regression`.
    offset
        Column with the population at risk; its log enters with coefficient 1.
    fourier
        Number of sine/cosine pairs for the season (0 = none).
    seasonal_dummies
        Add calendar-month (or quarter) indicators instead of, or besides, Fourier terms.

    Examples
    --------
    >>> result = segmented_poisson(frame, "hospitalizations", intervention="2017-10",
    ...                            fourier=2)  # doctest: +SKIP
    >>> result.table()[["term", "rate_ratio"]]  # doctest: +SKIP
    """
    series = _series_from(data, outcome, None)
    if (series < 0).any():
        raise ContractError(f"outcome '{outcome}' has negative values; a count model needs counts >= 0")
    start, t0 = _intervention_index(series.index, intervention)
    design = design_matrix(len(series), t0, coding, impact)
    seasonal = fourier_terms(series.index, fourier)
    parts = [design, seasonal.set_axis(design.index)]
    if seasonal_dummies:
        parts.append(season_indicators(series.index).set_axis(design.index))
    exog = pd.concat(parts, axis=1)
    log_offset = None
    if offset is not None:
        if offset not in data.columns:
            raise ContractError(f"offset column '{offset}' not found in the data")
        population = data[offset].to_numpy(dtype=float)
        if (population <= 0).any():
            raise ContractError(f"offset column '{offset}' must be greater than 0 in every period")
        log_offset = np.log(population)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        fit = sm.GLM(series.to_numpy(), exog.to_numpy(), family=sm.families.Poisson(),
                     offset=log_offset).fit(scale="X2", use_t=True, tol=1e-12, maxiter=200)
    names = list(exog.columns)
    cf = exog.to_numpy().copy()
    for name in ("beta2", "beta3"):
        if name in names:
            cf[:, names.index(name)] = 0.0
    linear_cf = cf @ fit.params + (log_offset if log_offset is not None else 0.0)
    return PoissonITSAResult(
        outcome=outcome, coding=coding, impact=impact,
        params=pd.Series(fit.params, index=names),
        cov=pd.DataFrame(fit.cov_params(), index=names, columns=names),
        df_resid=int(fit.df_resid), dispersion=float(fit.scale),
        periods=series.index, observed=series.to_numpy(), fitted=np.asarray(fit.fittedvalues),
        counterfactual=np.exp(linear_cf), intervention=start, intervention_index=t0,
        offset=offset, fourier=int(fourier),
    )
