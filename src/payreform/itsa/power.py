"""Power and minimum detectable effects of an interrupted time series, before the post-period exists.

A county that plans an evaluation has its pre-period series and a question: with 12, 24 or 36
months after the reform, what change could the analysis detect? :func:`plan_itsa` fits the
pre-period's trend, season and AR(1) autocorrelation, simulates many series of the planned length
from that fit, analyses each with the chosen inference method, and reports the power for the
planned level and slope changes and the minimum detectable changes at 80% power, in the spirit of
Zhang, Wagner and Ross-Degnan (2011) and Linden's ``itsapower``.

Every inference method here is regression-equivariant: adding a level or slope change to a series
shifts its estimate by exactly that change and leaves its standard error, autocorrelation and
bootstrap draws untouched. So one set of noise-only fits gives the power for every effect size:
a change ``d`` is detected in draw r when ``d + low_r > 0`` or ``d + high_r < 0``, with
(low_r, high_r) the draw's 95% interval. The minimum detectable change is then a quantile, exact
for the draws made.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from payreform.errors import ParameterError
from payreform.itsa import gls
from payreform.itsa.design import design_matrix, season_indicators
from payreform.periods import FREQUENCY_NAMES, PERIODS_PER_YEAR, frequency_of

PLAN_METHODS = ("ols", *gls.INFERENCE_METHODS)
"""Inference methods a plan can use (``ols``: conventional errors, for the white-noise check)."""


@dataclass(frozen=True)
class PreperiodModel:
    """The pre-period fitted as the simulations' truth: trend, season terms, AR(1) errors."""

    periods: pd.PeriodIndex
    beta: np.ndarray
    names: tuple[str, ...]
    rho: float
    rho_estimate: float
    sigma: float
    seasonal: bool

    @property
    def level_at_end(self) -> float:
        """The fitted level in the last pre-period period (without the season)."""
        return float(self.beta[0] + self.beta[1] * len(self.periods))

    def table(self) -> pd.DataFrame:
        """The fitted values: trend, autocorrelation (estimated and bias-corrected), noise SD."""
        rows = [("level at the end of the pre-period", self.level_at_end), ("slope per period", self.beta[1]),
                ("autocorrelation (REML)", self.rho_estimate), ("autocorrelation used (bias-corrected)", self.rho),
                ("noise standard deviation", self.sigma), ("periods", len(self.periods))]
        return pd.DataFrame(rows, columns=["quantity", "value"])


def fit_preperiod(series: pd.Series, seasonal: bool | None = None, seed: int = 1) -> PreperiodModel:
    """Fit the pre-period series: linear trend (and season indicators), AR(1) errors by REML, with the
    autocorrelation corrected for its small-sample bias (:func:`payreform.itsa.gls.corrected_rho`).

    Examples
    --------
    >>> index = pd.period_range("2015-01", periods=30, freq="M")
    >>> y = pd.Series(100 + 0.5 * np.arange(30) + np.sin(np.arange(30)), index=index)
    >>> model = fit_preperiod(y, seasonal=False)
    >>> round(float(model.beta[1]), 1), model.names
    (0.5, ('trend_0', 'trend_1'))
    """
    if not isinstance(series.index, pd.PeriodIndex):
        raise ParameterError("the pre-period series must be indexed by periods (validate it first)")
    n = len(series)
    freq = frequency_of(series.index)
    per_year = PERIODS_PER_YEAR[freq]
    if seasonal is None:
        seasonal = freq != "Y" and n >= 2 * per_year
    if n < 8 + (per_year - 1 if seasonal else 0):
        raise ParameterError(f"the pre-period has {n} periods; planning needs at least 8 (more with the season)")
    x = np.column_stack([np.ones(n), np.arange(1, n + 1, dtype=float)])
    names = ["trend_0", "trend_1"]
    if seasonal:
        dummies = season_indicators(series.index)
        x = np.column_stack([x, dummies.to_numpy()])
        names += list(dummies.columns)
    fit = gls.ar1_gls(series.to_numpy(dtype=float), x)
    rho = gls.corrected_rho(fit.ar[0], x, np.random.default_rng(seed), reps=200)
    return PreperiodModel(series.index, fit.params, tuple(names), rho, fit.ar[0], math.sqrt(fit.sigma2),
                          bool(seasonal))


def _intervals(y: np.ndarray, x: np.ndarray, method: str, alpha: float, seed: int, reps: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """95% intervals of the level (column 2) and slope (column 3) changes for one simulated series."""
    if method == "ols":
        beta, *_ = np.linalg.lstsq(x, y, rcond=None)
        resid = y - x @ beta
        df = len(y) - x.shape[1]
        cov = float(resid @ resid) / df * np.linalg.inv(x.T @ x)
        q = stats.t.ppf(1 - alpha / 2, df)
        se = np.sqrt(np.diag(cov))[2:4]
        return beta[2:4] - q * se, beta[2:4] + q * se
    if method == "newey_west":
        import statsmodels.api as sm

        from payreform.itsa.design import newey_west_lags

        result = sm.OLS(y, x).fit(cov_type="HAC", cov_kwds={"maxlags": newey_west_lags(len(y)),
                                                            "use_correction": True}, use_t=True)
        ci = np.asarray(result.conf_int(alpha))[2:4]
        return ci[:, 0], ci[:, 1]
    fit = gls.fit_errors(y, x, method, seed=seed, reps=reps)
    lows, highs = [], []
    for index in (2, 3):
        w = np.zeros(x.shape[1])
        w[index] = 1.0
        se = float(np.sqrt(fit.cov[index, index]))
        if method == "calibrated":
            draws = fit.extra["calibration"].t_draws(w)
            lo_q, hi_q = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
            low, high = fit.params[index] - hi_q * se, fit.params[index] - lo_q * se
        else:
            df = gls.satterthwaite_df(y, x, fit, w) if method == "reml_satterthwaite" else fit.df
            low, high = gls.t_interval(fit.params[index], se, df, alpha)
        lows.append(low)
        highs.append(high)
    return np.array(lows), np.array(highs)


def power_at(effect: float, lows: np.ndarray, highs: np.ndarray) -> float:
    """Share of draws whose interval, shifted by ``effect``, excludes zero.

    Examples
    --------
    >>> power_at(2.0, np.array([-1.0, -3.0]), np.array([1.0, 1.0]))
    0.5
    """
    return float(np.mean((effect + lows > 0) | (effect + highs < 0)))


def minimum_detectable(lows: np.ndarray, highs: np.ndarray, power: float = 0.8, sign: int = 1) -> float:
    """The smallest change (of the given sign) detected in at least ``power`` of the draws.

    Examples
    --------
    >>> lows = -np.arange(1.0, 11.0)
    >>> minimum_detectable(lows, -lows, 0.8)
    8.0
    """
    thresholds = np.sort(-lows if sign > 0 else highs)  # a draw detects d when d > -low (or -d > high)
    candidates = np.unique(np.clip(thresholds, 0, None))
    for value in candidates:
        d = np.nextafter(value, np.inf) * sign
        if power_at(d, lows, highs) >= power:
            return float(value)  # detected by any change beyond this boundary
    return float("inf")


@dataclass(frozen=True)
class PowerPlan:
    """Power and minimum detectable changes for each planned post-period length (see :func:`plan_itsa`)."""

    preperiod: PreperiodModel = field(repr=False)
    inference: str
    reps: int
    level_change: float
    slope_change: float
    table: pd.DataFrame
    intervals: dict = field(repr=False, default_factory=dict)

    def figure(self) -> Figure:
        """Power against the post-period length, for the planned level and slope changes."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
        unit = FREQUENCY_NAMES[frequency_of(self.preperiod.periods)].replace("ly", "s").replace("annuals", "years")
        for ax, (term, label) in zip(axes, (("level", "level change"), ("slope", "slope change")), strict=True):
            rows = self.table[self.table["term"] == term]
            ax.plot(rows["post_periods"], rows["power"], "o-")
            ax.axhline(0.8, color="black", ls="--", lw=0.8)
            ax.set_ylim(0, 1)
            ax.set_xlabel(f"post-period length ({unit})")
            ax.set_ylabel("power")
            size = self.level_change if term == "level" else self.slope_change
            ax.set_title(f"{label} of {size:,.4g}")
        fig.tight_layout()
        return fig


def plan_itsa(
    series: pd.Series,
    post_periods: int | Sequence[int],
    *,
    level_change: float = 0.0,
    slope_change: float = 0.0,
    inference: str = "calibrated",
    reps: int = 200,
    alpha: float = 0.05,
    seasonal: bool | None = None,
    rho: float | None = None,
    seed: int = 20260101,
    bootstrap_reps: int = 199,
    progress: Callable[[int, int], None] | None = None,
) -> PowerPlan:
    """Power of the segmented regression for a planned post-period, simulated from the pre-period.

    Parameters
    ----------
    series
        The pre-period series, indexed by periods (validate it with
        :func:`payreform.contracts.validate_time_series` first).
    post_periods
        Planned number of periods from the intervention on (one or several).
    level_change, slope_change
        The planned changes, in the outcome's units (level: the jump at the intervention; slope:
        per period).
    inference
        How each simulated series is analysed: one of :data:`PLAN_METHODS`.
    reps
        Simulated series per post-period length.
    seasonal
        Season indicators in the model (default: monthly or quarterly data of two years or more).
    rho
        Use this AR(1) correlation instead of the pre-period's (bias-corrected) estimate.
    bootstrap_reps
        Bootstrap draws of the calibrated method in each simulated series.
    progress
        Called with (done, total) after each simulated series.

    Returns
    -------
    PowerPlan
        Its ``table`` has one row per post-period length and term (level, slope): the planned
        change, the power, and the minimum detectable change at 80% power (both directions).

    Examples
    --------
    >>> index = pd.period_range("2015-01", periods=24, freq="M")
    >>> y = pd.Series(50 + np.random.default_rng(1).normal(0, 1, 24), index=index)
    >>> plan = plan_itsa(y, 12, level_change=3.0, inference="ols", reps=100, seasonal=False, rho=0.0)
    >>> plan.table.set_index("term").loc["level", "power"] > 0.8
    np.True_
    """
    if inference not in PLAN_METHODS:
        raise ParameterError(f"parameter 'inference' is {inference!r}; use one of {', '.join(PLAN_METHODS)}")
    lengths = [int(post_periods)] if isinstance(post_periods, (int, np.integer)) else [int(p) for p in post_periods]
    if not lengths or min(lengths) < 3:
        raise ParameterError("parameter 'post_periods' needs whole numbers >= 3 (periods after the intervention)")
    if reps < 20:
        raise ParameterError(f"parameter 'reps' is {reps}; use at least 20 simulated series (200 or more advisable)")
    model = fit_preperiod(series, seasonal=seasonal, seed=seed)
    if rho is not None:
        if not -0.95 <= rho <= 0.97:
            raise ParameterError(f"parameter 'rho' is {rho}; use a correlation between -0.95 and 0.97")
        model = PreperiodModel(model.periods, model.beta, model.names, float(rho), model.rho_estimate, model.sigma,
                               model.seasonal)
    n_pre = len(model.periods)
    rng = np.random.default_rng(seed)
    rows, intervals = [], {}
    total, done = reps * len(lengths), 0
    for m in lengths:
        n = n_pre + m
        periods = pd.period_range(model.periods[0], periods=n, freq=model.periods.freq)
        x = design_matrix(n, n_pre + 1).to_numpy()
        if model.seasonal:
            x = np.column_stack([x, season_indicators(periods).to_numpy()])
        lows, highs = np.empty((reps, 2)), np.empty((reps, 2))
        noise = model.sigma * gls._simulate_ar1(rng, n, reps, model.rho)
        for r in range(reps):
            lows[r], highs[r] = _intervals(noise[:, r], x, inference, alpha, seed + r, bootstrap_reps)
            done += 1
            if progress is not None:
                progress(done, total)
        intervals[m] = (lows, highs)
        for j, (term, change) in enumerate((("level", level_change), ("slope", slope_change))):
            rows.append({"post_periods": m, "term": term, "change": change,
                         "power": power_at(change, lows[:, j], highs[:, j]),
                         "mde_increase": minimum_detectable(lows[:, j], highs[:, j], 0.8, 1),
                         "mde_decrease": minimum_detectable(lows[:, j], highs[:, j], 0.8, -1),
                         "false_positive_rate": power_at(0.0, lows[:, j], highs[:, j])})
    table = pd.DataFrame(rows)
    table["mc_error"] = np.sqrt(table["power"] * (1 - table["power"]) / reps)
    return PowerPlan(model, inference, reps, float(level_change), float(slope_change), table, intervals)


def analytic_power(n_pre: int, n_post: int, change: float, sigma: float, term: str = "level",
                   alpha: float = 0.05) -> float:
    """Exact power of the OLS t test of a level or slope change with white-noise errors (noncentral t).

    Examples
    --------
    >>> round(analytic_power(24, 24, 0.0, 1.0), 3)
    0.05
    """
    n = n_pre + n_post
    x = design_matrix(n, n_pre + 1).to_numpy()
    index = 2 if term == "level" else 3
    se = sigma * math.sqrt(float(np.linalg.inv(x.T @ x)[index, index]))
    df = n - x.shape[1]
    q = stats.t.ppf(1 - alpha / 2, df)
    ncp = change / se
    return float(stats.nct.sf(q, df, ncp) + stats.nct.cdf(-q, df, ncp))


__all__ = ["PLAN_METHODS", "PowerPlan", "PreperiodModel", "analytic_power", "fit_preperiod", "minimum_detectable",
           "plan_itsa", "power_at"]
