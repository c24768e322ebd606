"""The design of a segmented regression: codings of the interaction, impact models, season terms."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from payreform.errors import ContractError, ParameterError, check_choice
from payreform.periods import PERIODS_PER_YEAR, frequency_of, parse_period, season_of

CODINGS = ("zero_at_intervention", "one_at_intervention", "time_times_post")
"""The three codings of the post-intervention time term (see the module docstring)."""

IMPACTS = ("level", "slope", "level_and_slope")
"""Impact models: a level change only, a slope change only, or both."""

TERMS = ("beta0", "beta1", "beta2", "beta3")
TERM_LABELS = {
    "beta0": "baseline level",
    "beta1": "pre-intervention slope",
    "beta2": "level change",
    "beta3": "slope change",
    "post_slope": "post-intervention slope (beta1 + beta3)",
}



def newey_west_lags(n_obs: int) -> int:
    """Default Newey-West lag: ``floor(4 * (n/100) ** (2/9))`` (Newey and West 1994).

    Examples
    --------
    >>> newey_west_lags(46), newey_west_lags(120)
    (3, 4)
    """
    if n_obs < 1:
        raise ParameterError("n_obs must be positive")
    return int(math.floor(4 * (n_obs / 100) ** (2 / 9)))


def coding_origin(coding: str, intervention_index: int) -> int:
    """The ``c`` in ``XT = (T - c) * X`` for a coding, given the intervention's ``T0``.

    Examples
    --------
    >>> [coding_origin(c, 21) for c in CODINGS]
    [21, 20, 0]
    """
    check_choice("coding", coding, CODINGS)
    return {"zero_at_intervention": intervention_index, "one_at_intervention": intervention_index - 1,
            "time_times_post": 0}[coding]


def design_matrix(
    n_periods: int, intervention_index: int, coding: str = "zero_at_intervention",
    impact: str = "level_and_slope",
) -> pd.DataFrame:
    """Columns ``beta0`` (constant), ``beta1`` (T), ``beta2`` (X), ``beta3`` (XT).

    Parameters
    ----------
    n_periods
        Length of the series; ``T`` runs from 1 to ``n_periods``.
    intervention_index
        ``T0``, the value of ``T`` at the first period under the intervention.
    coding, impact
        See :data:`CODINGS` and :data:`IMPACTS`.

    Examples
    --------
    >>> design_matrix(5, 3, "one_at_intervention")["beta3"].tolist()
    [0.0, 0.0, 1.0, 2.0, 3.0]
    """
    check_choice("impact", impact, IMPACTS)
    origin = coding_origin(coding, intervention_index)
    time = np.arange(1, n_periods + 1, dtype=float)
    post = (time >= intervention_index).astype(float)
    columns = {"beta0": np.ones(n_periods), "beta1": time, "beta2": post,
               "beta3": np.where(post > 0, time - origin, 0.0)}
    keep = {"level": ["beta0", "beta1", "beta2"], "slope": ["beta0", "beta1", "beta3"],
            "level_and_slope": list(TERMS)}[impact]
    return pd.DataFrame({k: columns[k] for k in keep}, index=pd.RangeIndex(1, n_periods + 1, name="T"))


def season_indicators(index: pd.PeriodIndex) -> pd.DataFrame:
    """Indicators of calendar months 2-12 (or quarters 2-4); the first season is the reference.

    Examples
    --------
    >>> list(season_indicators(pd.period_range("2016-01", periods=12, freq="M")).columns)[:2]
    ['month_2', 'month_3']
    """
    freq = frequency_of(index)
    if freq == "Y":
        raise ParameterError("parameter 'seasonal' cannot be 'season_dummies' for annual data (there is no season)")
    name = "month" if freq == "M" else "quarter"
    seasons = season_of(index)
    return pd.DataFrame({f"{name}_{s}": (seasons == s).astype(float)
                         for s in range(2, PERIODS_PER_YEAR[freq] + 1)},
                        index=pd.RangeIndex(1, len(index) + 1, name="T"))


def _season_row(period: pd.Period, columns: list[str]) -> np.ndarray:
    season = period.month if frequency_of(pd.PeriodIndex([period])) == "M" else period.quarter
    return np.array([1.0 if c.endswith(f"_{season}") else 0.0 for c in columns])


def _series_from(frame: pd.DataFrame | pd.Series, outcome: str | None, period: str | None) -> pd.Series:
    if isinstance(frame, pd.Series):
        series = frame
    else:
        if outcome is None:
            raise ParameterError("parameter 'outcome' is required when a DataFrame is given")
        if outcome not in frame.columns:
            raise ContractError(f"column '{outcome}' not found in the data")
        series = frame.set_index(period)[outcome] if period is not None else frame[outcome]
    index = series.index
    if not isinstance(index, pd.PeriodIndex):
        raise ContractError(
            "the series must be indexed by periods; run payreform.contracts.validate_time_series first"
        )
    if (np.diff(index.asi8) != 1).any():
        raise ContractError(
            "the series is not sorted with one row per period; run payreform.contracts.validate_time_series first"
        )
    values = pd.to_numeric(series, errors="coerce").astype(float)
    if values.isna().any():
        raise ContractError(f"outcome '{series.name}' has missing or non-numeric values")
    return values


def _intervention_index(index: pd.PeriodIndex, intervention: object) -> tuple[pd.Period, int]:
    start = parse_period(intervention, frequency_of(index), "intervention")
    position = index.get_indexer([start])[0]
    if position <= 0:
        raise ContractError(
            f"intervention {start} must be a period inside the data after its first period "
            f"({index[0]} to {index[-1]})"
        )
    return start, int(position) + 1


def _hac_lags(value: int | str | None, n_obs: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value != "auto":
            raise ParameterError(f"parameter 'hac_lags' is {value!r}; use an integer >= 0, 'auto' or None")
        return newey_west_lags(n_obs)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ParameterError(f"parameter 'hac_lags' is {value!r}; use an integer >= 0, 'auto' or None")
    if value >= n_obs - 1:
        raise ParameterError(f"parameter 'hac_lags' is {value}; it must be smaller than the series length - 1")
    return int(value)


def full_design(index: pd.PeriodIndex, intervention_index: int, coding: str = "zero_at_intervention",
                impact: str = "level_and_slope", seasonal_dummies: bool = False) -> pd.DataFrame:
    """The regressors of a segmented regression on ``index``, with season indicators if asked.

    Examples
    --------
    >>> index = pd.period_range("2016-10", periods=24, freq="M")
    >>> design = full_design(index, 13, seasonal_dummies=True)
    >>> design.shape, int(np.linalg.matrix_rank(design.to_numpy()))  # two cycles split 12/12: T and X collide
    ((24, 15), 14)
    """
    design = design_matrix(len(index), intervention_index, coding, impact)
    if seasonal_dummies:
        design = pd.concat([design, season_indicators(index)], axis=1)
    return design


def is_full_rank(design: pd.DataFrame) -> bool:
    """True if the regressors are linearly independent (the coefficients are identified)."""
    values = design.to_numpy(dtype=float)
    return int(np.linalg.matrix_rank(values)) == values.shape[1]
