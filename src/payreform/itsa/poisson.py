"""Quasi-Poisson segmented regression for counts, with offset and Fourier seasonality."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from payreform.errors import ContractError, ParameterError
from payreform.itsa.base import SegmentedFit
from payreform.itsa.design import (
    _season_row,
    _series_from,
    design_matrix,
    intervention_indices,
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
class PoissonITSAResult(SegmentedFit):
    """A quasi-Poisson segmented regression (see :func:`segmented_poisson`).

    Coefficients are on the log scale; :meth:`table` adds rate ratios ``exp(beta)`` and percent
    changes. ``dispersion`` is the Pearson chi-square over the residual degrees of freedom.
    ``log_offset`` holds ``log(offset)`` per period (None without an offset).
    """

    dispersion: float
    offset: str | None
    fourier: int
    log_offset: np.ndarray | None = field(default=None, repr=False)

    scale_name = "log"

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per coefficient (log scale) with the rate ratio, its interval and percent change."""
        frame = super().table(alpha)
        frame["rate_ratio"] = np.exp(frame["estimate"])
        frame["rr_ci_low"] = np.exp(frame["ci_low"])
        frame["rr_ci_high"] = np.exp(frame["ci_high"])
        return frame

    def _season_values(self, target: pd.Period, seasons: list[str]) -> np.ndarray:
        fourier = fourier_terms(pd.PeriodIndex([target]), self.fourier).iloc[0] if self.fourier else pd.Series()
        indicators = [t for t in seasons if t not in fourier.index]
        by_name = dict(zip(indicators, _season_row(target, indicators), strict=True)) if indicators else {}
        return np.array([fourier[t] if t in fourier.index else by_name[t] for t in seasons], dtype=float)

    def _offset_at(self, position: int) -> float:
        if self.log_offset is None:
            return 0.0
        if position >= len(self.log_offset):
            raise ParameterError(
                "with an offset, effects can only be computed for periods inside the data (the offset "
                "is unknown after its last period)"
            )
        return float(self.log_offset[position])

    def diagnostics(self) -> dict:
        """Fit summary: scale, dispersion, Fourier pairs and offset."""
        return super().diagnostics() | {"dispersion": self.dispersion, "fourier": self.fourier,
                                        "offset": self.offset}


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
    exclude: np.ndarray | None = None,
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
    exclude
        Boolean mask, True for periods left out of the fit (they keep their ``T``).

    Examples
    --------
    >>> from payreform.contracts import validate_time_series
    >>> from payreform.synth import youxi
    >>> ts = validate_time_series(youxi.generate(seed=1), intervention="2017-10")
    >>> result = segmented_poisson(ts.frame, "hospitalizations", intervention="2017-10", fourier=2)
    >>> result.table().set_index("term").loc["beta3", "rate_ratio"] < 1
    np.True_
    """
    series = _series_from(data, outcome, None)
    if (series < 0).any():
        raise ContractError(f"outcome '{outcome}' has negative values; a count model needs counts >= 0")
    starts, indices = intervention_indices(series.index, intervention)
    design = design_matrix(len(series), indices, coding, impact)
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
    keep = np.ones(len(series), dtype=bool) if exclude is None else ~np.asarray(exclude, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        fit = sm.GLM(series.to_numpy()[keep], exog.to_numpy()[keep], family=sm.families.Poisson(),
                     offset=None if log_offset is None else log_offset[keep]).fit(
                         scale="X2", use_t=True, tol=1e-12, maxiter=200)
    names = list(exog.columns)
    linear = exog.to_numpy() @ np.asarray(fit.params) + (0.0 if log_offset is None else log_offset)
    return PoissonITSAResult(
        outcome=outcome, coding=coding, impact=impact,
        params=pd.Series(fit.params, index=names),
        cov=pd.DataFrame(fit.cov_params(), index=names, columns=names),
        df_resid=int(fit.df_resid), dispersion=float(fit.scale),
        periods=series.index, observed=series.to_numpy(), fitted=np.exp(linear),
        intervention=starts[0], intervention_index=indices[0], interventions=starts, intervention_indices=indices,
        fit_mask=None if keep.all() else keep, offset=offset, fourier=int(fourier), log_offset=log_offset,
    )
