"""The design of a segmented regression: codings of the interaction, impact models, season terms."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

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


def interruption_terms(k: int, n_interruptions: int) -> tuple[str, str]:
    """Names of the level and slope terms of interruption ``k`` (1-based).

    One interruption keeps the papers' names ``beta2``/``beta3``; with several they are numbered
    in date order.

    Examples
    --------
    >>> interruption_terms(1, 1), interruption_terms(2, 3)
    (('beta2', 'beta3'), ('beta2_2', 'beta3_2'))
    """
    if n_interruptions == 1:
        return "beta2", "beta3"
    return f"beta2_{k}", f"beta3_{k}"


_MODEL_TERM = re.compile(r"beta[0-3](_\d+)?")


def is_model_term(name: str) -> bool:
    """True for the level and slope terms (``beta0``..``beta3``, ``beta2_1`` ...), False for season terms.

    Examples
    --------
    >>> is_model_term("beta3_2"), is_model_term("month_2"), is_model_term("sin1")
    (True, False, False)
    """
    return bool(_MODEL_TERM.fullmatch(str(name)))


def _indices(intervention_index: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(intervention_index, (int, np.integer)):
        return (int(intervention_index),)
    indices = tuple(int(i) for i in intervention_index)
    if not indices:
        raise ParameterError("parameter 'intervention' is empty; give at least one period")
    return indices


def design_matrix(
    n_periods: int, intervention_index: int | Sequence[int], coding: str = "zero_at_intervention",
    impact: str = "level_and_slope",
) -> pd.DataFrame:
    """Columns ``beta0`` (constant), ``beta1`` (T), then per interruption its level and slope terms.

    With one interruption the terms are ``beta2`` (X) and ``beta3`` (XT); with several,
    ``beta2_1``, ``beta3_1``, ``beta2_2``, ``beta3_2`` ... in date order, each ``X_k`` being 1 from
    its interruption on and ``XT_k = (T - origin_k) X_k`` coded the same way for every interruption.

    Parameters
    ----------
    n_periods
        Length of the series; ``T`` runs from 1 to ``n_periods``.
    intervention_index
        ``T0`` (the value of ``T`` at the first period under the intervention), or one per
        interruption, increasing.
    coding, impact
        See :data:`CODINGS` and :data:`IMPACTS`.

    Examples
    --------
    >>> design_matrix(5, 3, "one_at_intervention")["beta3"].tolist()
    [0.0, 0.0, 1.0, 2.0, 3.0]
    >>> list(design_matrix(8, [3, 6]).columns)
    ['beta0', 'beta1', 'beta2_1', 'beta3_1', 'beta2_2', 'beta3_2']
    """
    check_choice("impact", impact, IMPACTS)
    indices = _indices(intervention_index)
    time = np.arange(1, n_periods + 1, dtype=float)
    columns = {"beta0": np.ones(n_periods), "beta1": time}
    for k, t0 in enumerate(indices, start=1):
        level, slope = interruption_terms(k, len(indices))
        post = (time >= t0).astype(float)
        if impact in ("level", "level_and_slope"):
            columns[level] = post
        if impact in ("slope", "level_and_slope"):
            columns[slope] = np.where(post > 0, time - coding_origin(coding, t0), 0.0)
    return pd.DataFrame(columns, index=pd.RangeIndex(1, n_periods + 1, name="T"))


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


def intervention_indices(index: pd.PeriodIndex, interventions: object) -> tuple[tuple[pd.Period, ...],
                                                                           tuple[int, ...]]:
    """Periods and ``T`` values of one or several interruptions (a period, a list, or ``"a,b"`` text).

    They must be inside the data, after its first period, distinct and in date order.

    Examples
    --------
    >>> index = pd.period_range("2016-01", periods=60, freq="M")
    >>> intervention_indices(index, "2017-10,2020-02")[1]
    (22, 50)
    """
    if isinstance(interventions, str) and "," in interventions:
        interventions = [part.strip() for part in interventions.split(",") if part.strip()]
    items = list(interventions) if isinstance(interventions, (list, tuple)) else [interventions]
    starts, positions = [], []
    for item in items:
        start, position = _intervention_index(index, item)
        starts.append(start)
        positions.append(position)
    for a, b in zip(starts, starts[1:], strict=False):
        if not a < b:
            raise ParameterError(
                f"parameter 'intervention' lists {a} before {b}; give the interruptions once each, in date order"
            )
    return tuple(starts), tuple(positions)


def exclusion_mask(index: pd.PeriodIndex, windows: object) -> np.ndarray:
    """True for the periods inside any of ``windows`` (``"2020-02..2020-04"``, a single period, a list
    of them, or comma-separated text), to be left out of the fit.

    Examples
    --------
    >>> index = pd.period_range("2019-11", periods=8, freq="M")
    >>> exclusion_mask(index, "2020-02..2020-04").astype(int).tolist()
    [0, 0, 0, 1, 1, 1, 0, 0]
    """
    if windows is None:
        return np.zeros(len(index), dtype=bool)
    items = [w.strip() for w in windows.split(",")] if isinstance(windows, str) else list(windows)
    freq = frequency_of(index)
    mask = np.zeros(len(index), dtype=bool)
    for item in items:
        first, _, last = str(item).partition("..")
        start = parse_period(first.strip(), freq, "exclude")
        end = parse_period(last.strip(), freq, "exclude") if last else start
        if end < start:
            raise ParameterError(f"parameter 'exclude' has the window {item!r}, which ends before it starts; "
                                 "write it as FIRST..LAST")
        if end < index[0] or start > index[-1]:
            raise ParameterError(f"parameter 'exclude' has the window {item!r}, outside the data "
                                 f"({index[0]} to {index[-1]})")
        window = (index >= start) & (index <= end)
        if (mask & window).any():
            raise ParameterError(f"parameter 'exclude' has overlapping windows ({item!r} overlaps another); "
                                 "give each period once")
        mask |= window
    return mask


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


def full_design(index: pd.PeriodIndex, intervention_index: int | Sequence[int], coding: str = "zero_at_intervention",
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
