"""Seasonal adjustment by the ratio-to-moving-average method (R's ``decompose``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from payreform.errors import ContractError, ParameterError
from payreform.periods import PERIODS_PER_YEAR, frequency_of, season_of


@dataclass(frozen=True, eq=False)
class SeasonalAdjustment:
    """Result of :func:`ratio_to_moving_average`.

    Attributes
    ----------
    indices
        Seasonal index per calendar month (or quarter), scaled to mean 1.
    adjusted
        The series divided by its period's index.
    trend
        The centred moving average (NaN at both ends).
    ratios
        Observed / moving average.
    """

    indices: pd.Series
    adjusted: pd.Series
    trend: pd.Series
    ratios: pd.Series

    def table(self) -> pd.DataFrame:
        """One row per season: its index and how many ratios it averages."""
        counts = self.ratios.dropna().groupby(season_of(self.ratios.dropna().index)).size()
        return pd.DataFrame({"season": self.indices.index, "index": self.indices.to_numpy(),
                             "n_ratios": counts.reindex(self.indices.index).to_numpy()})


def centred_moving_average(series: pd.Series, period_length: int) -> pd.Series:
    """Centred moving average over one year: ``2 x P`` for even ``P`` (12, 4), plain for odd.

    Examples
    --------
    >>> s = pd.Series(range(1, 6), dtype=float)
    >>> centred_moving_average(s, 4).tolist()
    [nan, nan, 3.0, nan, nan]
    """
    values = series.to_numpy(dtype=float)
    if period_length % 2 == 0:
        weights = np.r_[0.5, np.ones(period_length - 1), 0.5] / period_length
    else:
        weights = np.ones(period_length) / period_length
    half = len(weights) // 2
    out = np.full(len(values), np.nan)
    for i in range(half, len(values) - half):
        out[i] = float(weights @ values[i - half:i + half + 1])
    return pd.Series(out, index=series.index, name=series.name)


def ratio_to_moving_average(series: pd.Series) -> SeasonalAdjustment:
    """Multiplicative seasonal indices by the ratio-to-moving-average method.

    Steps: centred 2 x 12 (monthly) or 2 x 4 (quarterly) moving average; ratio of each
    observation to it; average ratio per calendar month (or quarter); indices scaled to mean
    1; the series divided by its period's index. Equal to R's
    ``decompose(x, type = "multiplicative")``.

    Parameters
    ----------
    series
        Monthly or quarterly values indexed by a gap-free PeriodIndex, at least two years long.

    Examples
    --------
    >>> idx = pd.period_range("2016-01", periods=36, freq="M")
    >>> s = pd.Series(100 * (1 + 0.1 * (idx.month == 2)), index=idx)
    >>> indices = ratio_to_moving_average(s).indices
    >>> round(float(indices[2] / indices[3]), 6)
    1.1
    """
    if not isinstance(series.index, pd.PeriodIndex):
        raise ContractError("seasonal adjustment needs a series indexed by periods")
    freq = frequency_of(series.index)
    if freq == "Y":
        raise ParameterError("parameter 'seasonal' must be 'none' for annual data (there is no season)")
    period_length = PERIODS_PER_YEAR[freq]
    if len(series) < 2 * period_length:
        raise ParameterError(
            f"seasonal adjustment needs at least two years of data ({2 * period_length} periods); "
            f"the series has {len(series)}: set seasonal=none"
        )
    if (series <= 0).any():
        raise ContractError(
            f"outcome '{series.name}' has values <= 0; multiplicative seasonal adjustment needs positive values"
        )
    trend = centred_moving_average(series, period_length)
    ratios = series / trend
    seasons = season_of(series.index)
    raw = ratios.groupby(seasons).mean()
    raw = raw.reindex(range(1, period_length + 1))
    indices = raw / raw.mean()
    indices.index.name = "month" if freq == "M" else "quarter"
    indices.name = "seasonal_index"
    adjusted = series / indices.reindex(seasons).to_numpy()
    return SeasonalAdjustment(indices=indices, adjusted=adjusted.rename(series.name), trend=trend,
                              ratios=ratios.rename("ratio"))
