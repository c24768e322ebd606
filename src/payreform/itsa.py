"""Interrupted time-series analysis (ITSA) by segmented regression.

The model for a single series observed at periods ``T = 1 .. n`` with the intervention
starting at period ``T0`` is

    Y_T = beta0 + beta1*T + beta2*X_T + beta3*XT_T + e_T,

where ``X_T = 1`` from ``T0`` on. Published studies code the interaction ``XT`` differently,
and the meaning of ``beta2`` changes with the coding (``beta0``, ``beta1`` and ``beta3`` do not):

=========================  ==================  ==========================================
coding                     ``XT_T`` (post)      ``beta2`` is
=========================  ==================  ==========================================
``zero_at_intervention``   ``T - T0``           the jump at ``T0`` (Bernal 2017; Linden 2015)
``one_at_intervention``    ``T - T0 + 1``       the jump at ``T0`` minus one slope change
                                                (Zhong et al. 2023, Youxi)
``time_times_post``        ``T``                the post line minus the pre line at ``T = 0``
                                                (Lin et al., Sanming)
=========================  ==================  ==========================================

All three are the same fitted line written in three bases; :meth:`ITSAResult.beta2_in`
converts ``beta2`` between them with its standard error.

Inference is OLS with Newey-West (Bartlett kernel) standard errors at a stated lag, with the
``n / (n - k)`` small-sample factor and t-based p-values and intervals: Stata's ``newey``, and
R's ``sandwich::NeweyWest(fit, lag = L, prewhite = FALSE, adjust = TRUE)`` with ``lmtest``'s
t tests. Count outcomes can instead be fitted by quasi-Poisson regression
(:func:`segmented_poisson`), with Fourier terms for seasonality (Bernal et al. 2017).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.diagnostic import acorr_breusch_godfrey
from statsmodels.stats.stattools import durbin_watson

from payreform.errors import ContractError, ParameterError, check_choice
from payreform.inference import TABLE_COLUMNS, LinearCombination, linear_combination
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
               "beta3": (time - origin) * post}
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


@dataclass(frozen=True)
class AutocorrelationTest:
    """Breusch-Godfrey test of residual autocorrelation up to ``order`` lags.

    ``statistic`` is the LM form ``n * R^2`` of the auxiliary regression (lagged residuals
    filled with 0, as R's ``lmtest::bgtest``), chi-square with ``order`` degrees of freedom;
    ``f_statistic`` is the F form.
    """

    order: int
    statistic: float
    p_value: float
    f_statistic: float
    f_p_value: float


@dataclass(frozen=True)
class Effect:
    """The intervention's effect at one period: fitted minus counterfactual, and relative to it."""

    period: pd.Period
    horizon: int
    fitted: float
    counterfactual: float
    absolute: LinearCombination
    relative: LinearCombination

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Absolute and relative effect with t-based (delta-method) intervals."""
        rows = [self.absolute.row(alpha), self.relative.row(alpha)]
        frame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
        frame.insert(1, "period", str(self.period))
        return frame


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


@dataclass(frozen=True, eq=False)
class ITSAResult:
    """A fitted segmented regression (see :func:`segmented_regression`).

    Attributes
    ----------
    outcome, coding, impact
        What was fitted and how.
    params, cov
        Coefficients and their covariance (Newey-West, or conventional OLS if ``hac_lags`` is None).
    df_resid
        Residual degrees of freedom ``n - k`` (used for t-based inference).
    hac_lags
        Newey-West lag used (None: conventional OLS standard errors).
    periods, observed, fitted
        The series and its fitted values.
    intervention, intervention_index
        First period under the intervention and its ``T``.
    breusch_godfrey, durbin_watson
        Residual autocorrelation diagnostics.
    """

    outcome: str
    coding: str
    impact: str
    params: pd.Series
    cov: pd.DataFrame
    df_resid: int
    hac_lags: int | None
    periods: pd.PeriodIndex
    observed: np.ndarray
    fitted: np.ndarray
    intervention: pd.Period
    intervention_index: int
    breusch_godfrey: AutocorrelationTest
    durbin_watson: float
    r_squared: float
    design: pd.DataFrame = field(repr=False)

    @property
    def n_obs(self) -> int:
        """Number of periods."""
        return len(self.observed)

    @property
    def residuals(self) -> np.ndarray:
        """Observed minus fitted."""
        return self.observed - self.fitted

    @property
    def se_type(self) -> str:
        """Description of the standard errors used."""
        if self.hac_lags is None:
            return "OLS (conventional)"
        return f"Newey-West, Bartlett kernel, lag {self.hac_lags}, small-sample factor n/(n-k)"

    def combination(self, weights: dict[str, float], name: str) -> LinearCombination:
        """Estimate and standard error of ``sum(weights[t] * beta_t)``.

        Examples
        --------
        >>> result.combination({"beta1": 1, "beta3": 1}, "post_slope")  # doctest: +SKIP
        """
        return linear_combination(self.params, self.cov, weights, name, self.df_resid)

    def term(self, name: str) -> LinearCombination:
        """One coefficient as a :class:`LinearCombination`."""
        return self.combination({name: 1.0}, name)

    def post_slope(self) -> LinearCombination:
        """Slope after the intervention, ``beta1 + beta3``."""
        if "beta3" not in self.params.index:
            return self.combination({"beta1": 1.0}, "post_slope")
        return self.combination({"beta1": 1.0, "beta3": 1.0}, "post_slope")

    def beta2_in(self, coding: str) -> LinearCombination:
        """``beta2`` as it would be estimated under another coding, with its standard error.

        ``beta2[c'] = beta2[c] + beta3 * (origin(c') - origin(c))``, where ``XT = (T - origin) * X``.

        Examples
        --------
        >>> result.beta2_in("zero_at_intervention")  # doctest: +SKIP
        """
        check_choice("coding", coding, CODINGS)
        if "beta2" not in self.params.index:
            raise ParameterError("this model has no level change (impact='slope'); beta2 is not estimated")
        shift = coding_origin(coding, self.intervention_index) - coding_origin(self.coding, self.intervention_index)
        weights = {"beta2": 1.0}
        if "beta3" in self.params.index and shift != 0:
            weights["beta3"] = float(shift)
        return self.combination(weights, f"beta2[{coding}]")

    def level_change_at_intervention(self) -> LinearCombination:
        """The jump at the intervention period: ``beta2`` under ``zero_at_intervention``."""
        combo = self.beta2_in("zero_at_intervention")
        return LinearCombination("level_change_at_intervention", combo.estimate, combo.std_error, combo.df)

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Tidy table: one row per term (``beta0``..``beta3``, ``post_slope``, then any season terms).

        Columns: term, estimate, std_error, statistic, p_value, ci_low, ci_high.
        """
        rows = [self.term(t).row(alpha) for t in self.params.index if t in TERMS]
        if "beta3" in self.params.index:
            rows.append(self.post_slope().row(alpha))
        rows += [self.term(t).row(alpha) for t in self.season_terms]
        return pd.DataFrame(rows, columns=TABLE_COLUMNS)

    @property
    def season_terms(self) -> list[str]:
        """Names of the season indicator terms (empty without ``seasonal_dummies``)."""
        return [t for t in self.params.index if t not in TERMS]

    def predictions(self) -> pd.DataFrame:
        """Observed, fitted and counterfactual (the fit with beta2 = beta3 = 0) per period."""
        time = self.design["beta1"].to_numpy()
        keep = [t for t in self.params.index if t not in ("beta2", "beta3")]
        counterfactual = self.design[keep].to_numpy() @ self.params[keep].to_numpy()
        post = time >= self.intervention_index
        return pd.DataFrame(
            {"T": time.astype(int), "post": post, "observed": self.observed, "fitted": self.fitted,
             "counterfactual": np.where(post, counterfactual, np.nan)},
            index=pd.PeriodIndex(self.periods, name="period"),
        )

    def effect_at(self, horizon: int | None = None, period: object = None) -> Effect:
        """Effect at ``horizon`` periods after the intervention's first period (0 = that period).

        Give either ``horizon`` or ``period`` (a label such as ``"2019-11"``); by default the last
        period. The relative effect ``(fitted - counterfactual) / counterfactual`` has a
        delta-method standard error.
        """
        if period is not None:
            target = parse_period(period, frequency_of(self.periods), "period")
            horizon = int(target.ordinal - self.intervention.ordinal)
        if horizon is None:
            horizon = self.n_obs - self.intervention_index
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 0:
            raise ParameterError(f"parameter 'horizon' is {horizon!r}; use an integer >= 0")
        time = self.intervention_index + int(horizon)
        row = design_matrix(max(time, self.n_obs), self.intervention_index, self.coding, self.impact).loc[time]
        target_period = self.intervention + int(horizon)
        seasons = self.season_terms
        x_full = np.r_[row.reindex([t for t in self.params.index if t in TERMS]).to_numpy(dtype=float),
                       _season_row(target_period, seasons) if seasons else []]
        x_cf = x_full.copy()
        for name in ("beta2", "beta3"):
            if name in self.params.index:
                x_cf[list(self.params.index).index(name)] = 0.0
        beta, cov = self.params.to_numpy(), self.cov.to_numpy()
        fitted, counterfactual = float(x_full @ beta), float(x_cf @ beta)
        diff = x_full - x_cf
        absolute = diff @ beta
        absolute_se = math.sqrt(max(float(diff @ cov @ diff), 0.0))
        gradient = diff / counterfactual - absolute * x_cf / counterfactual**2
        relative_se = math.sqrt(max(float(gradient @ cov @ gradient), 0.0))
        return Effect(
            period=target_period, horizon=int(horizon), fitted=fitted, counterfactual=counterfactual,
            absolute=LinearCombination("absolute_effect", float(absolute), absolute_se, self.df_resid),
            relative=LinearCombination("relative_effect", float(absolute / counterfactual), relative_se,
                                       self.df_resid),
        )


def breusch_godfrey(model_results, order: int) -> AutocorrelationTest:
    """Breusch-Godfrey test on a fitted statsmodels OLS result (lagged residuals filled with 0)."""
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ParameterError(f"parameter 'bg_order' is {order!r}; use an integer >= 1")
    if order >= model_results.nobs - model_results.df_model - 2:
        raise ParameterError(f"parameter 'bg_order' is {order}; too many lags for {int(model_results.nobs)} periods")
    test = acorr_breusch_godfrey(model_results, nlags=int(order), result_object=True)
    return AutocorrelationTest(int(order), float(test.lm), float(test.lmpval), float(test.fval),
                               float(test.fpval))


def segmented_regression(
    data: pd.DataFrame | pd.Series,
    outcome: str | None = None,
    *,
    intervention: object,
    coding: str = "zero_at_intervention",
    impact: str = "level_and_slope",
    hac_lags: int | str | None = "auto",
    bg_order: int = 1,
    period: str | None = None,
    seasonal_dummies: bool = False,
) -> ITSAResult:
    """Fit ``Y = beta0 + beta1*T + beta2*X + beta3*XT`` by OLS with Newey-West standard errors.

    Parameters
    ----------
    data
        A frame indexed by a gap-free :class:`pandas.PeriodIndex` (as returned in
        :attr:`payreform.contracts.TimeSeriesData.frame`), or such a Series.
    outcome
        Column to model (not needed for a Series).
    intervention
        First period under the intervention (``"2017-10"``, ``"2017Q4"``, ``2017`` or a Period).
    coding
        Interaction coding, one of :data:`CODINGS`.
    impact
        ``"level"``, ``"slope"`` or ``"level_and_slope"``; choose it before looking at the data.
    hac_lags
        Newey-West lag; ``"auto"`` uses :func:`newey_west_lags`, ``None`` gives conventional
        OLS standard errors, ``0`` gives White's (HC1) errors.
    bg_order
        Number of lags in the Breusch-Godfrey test.
    period
        Name of a period column, if ``data`` is not indexed by periods.
    seasonal_dummies
        Add indicators of the calendar month (or quarter) to the regression, so that seasonality
        is estimated together with the level and slopes (additive seasonality).

    Returns
    -------
    ITSAResult

    Examples
    --------
    >>> from payreform.synth import youxi
    >>> frame = youxi.generate(seed=1).set_index("month")
    >>> frame.index = pd.PeriodIndex(frame.index, freq="M")
    >>> result = segmented_regression(frame, "hospitalizations", intervention="2017-10",
    ...                               coding="one_at_intervention", hac_lags=3)
    >>> list(result.table()["term"])
    ['beta0', 'beta1', 'beta2', 'beta3', 'post_slope']
    """
    check_choice("coding", coding, CODINGS)
    check_choice("impact", impact, IMPACTS)
    series = _series_from(data, outcome, period)
    start, t0 = _intervention_index(series.index, intervention)
    design = design_matrix(len(series), t0, coding, impact)
    if seasonal_dummies:
        design = pd.concat([design, season_indicators(series.index)], axis=1)
    lags = _hac_lags(hac_lags, len(series))
    model = sm.OLS(series.to_numpy(), design.to_numpy())
    if lags is None:
        fit = model.fit(use_t=True)
    else:
        fit = model.fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True)
    names = list(design.columns)
    bg = breusch_godfrey(fit, bg_order)
    return ITSAResult(
        outcome=str(series.name if outcome is None else outcome),
        coding=coding,
        impact=impact,
        params=pd.Series(fit.params, index=names),
        cov=pd.DataFrame(fit.cov_params(), index=names, columns=names),
        df_resid=int(fit.df_resid),
        hac_lags=lags,
        periods=series.index,
        observed=series.to_numpy(),
        fitted=np.asarray(fit.fittedvalues),
        intervention=start,
        intervention_index=t0,
        breusch_godfrey=bg,
        durbin_watson=float(durbin_watson(fit.resid)),
        r_squared=float(fit.rsquared),
        design=design,
    )


# ----------------------------------------------------------------------------- seasonality


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
    >>> round(ratio_to_moving_average(s).indices[2] / ratio_to_moving_average(s).indices[3], 6)
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


# ----------------------------------------------------------------------------- quasi-Poisson


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


# ----------------------------------------------------------------------------- the whole analysis

SEASONAL_METHODS = ("none", "ratio_to_moving_average", "season_dummies")
MODELS = ("ols", "quasipoisson")


@dataclass(frozen=True, eq=False)
class SeriesAnalysis:
    """One outcome analysed end to end: seasonal adjustment (if any), transformation, model.

    Attributes
    ----------
    outcome
        Column analysed.
    seasonal
        The seasonal adjustment, or None.
    analysed
        The series the model was fitted to (adjusted and/or ``ln(y + 1)``).
    model
        An :class:`ITSAResult` (OLS) or :class:`PoissonITSAResult`.
    log
        Whether ``ln(y + 1)`` was modelled.
    """

    outcome: str
    seasonal: SeasonalAdjustment | None
    analysed: pd.Series
    model: ITSAResult | PoissonITSAResult
    log: bool

    @property
    def model_name(self) -> str:
        """``ols_newey_west``, ``ols`` or ``quasipoisson`` (the ``model`` field of ``results.json``)."""
        if isinstance(self.model, PoissonITSAResult):
            return "quasipoisson"
        return "ols" if self.model.hac_lags is None else "ols_newey_west"

    def table(self, alpha: float = 0.05, level_change: bool = False) -> pd.DataFrame:
        """The model's table with ``model``, ``outcome`` and ``n_obs`` columns in front.

        ``level_change=True`` adds the row ``level_change_at_intervention`` (the jump at the
        intervention period, whatever the coding) for OLS models with a level change.
        """
        frame = self.model.table(alpha)
        if level_change and isinstance(self.model, ITSAResult) and "beta2" in self.model.params.index:
            extra = pd.DataFrame([self.model.level_change_at_intervention().row(alpha)], columns=TABLE_COLUMNS)
            frame = pd.concat([frame, extra], ignore_index=True)
        frame.insert(0, "outcome", self.outcome)
        frame.insert(0, "model", self.model_name)
        frame["n_obs"] = self.model.n_obs
        return frame


def prepare_series(series: pd.Series, *, seasonal: str = "none", log: bool = False
                   ) -> tuple[pd.Series, SeasonalAdjustment | None]:
    """The series a model is fitted to: seasonally adjusted (ratio to moving average) and/or ln(y + 1).

    ``seasonal="season_dummies"`` leaves the series as it is (the season enters the model).

    Examples
    --------
    >>> analysed, adjustment = prepare_series(frame["visits"], log=True)  # doctest: +SKIP
    """
    check_choice("seasonal", seasonal, SEASONAL_METHODS)
    adjustment = ratio_to_moving_average(series) if seasonal == "ratio_to_moving_average" else None
    analysed = adjustment.adjusted if adjustment is not None else series
    if log:
        if (analysed <= -1).any():
            raise ContractError(f"outcome '{series.name}' has values <= -1; ln(y + 1) is undefined there")
        analysed = np.log(analysed + 1.0)
    return analysed.rename(series.name), adjustment


def analyse_series(
    data: pd.DataFrame,
    outcome: str,
    *,
    intervention: object,
    seasonal: str = "none",
    log: bool = False,
    model: str = "ols",
    coding: str = "zero_at_intervention",
    impact: str = "level_and_slope",
    hac_lags: int | str | None = "auto",
    bg_order: int = 1,
    offset: str | None = None,
    fourier: int = 0,
) -> SeriesAnalysis:
    """Seasonally adjust (optionally), transform (optionally) and fit one outcome.

    Parameters
    ----------
    data
        Frame indexed by a gap-free PeriodIndex (``TimeSeriesData.frame``).
    outcome
        Column to analyse.
    seasonal
        ``"none"``; ``"ratio_to_moving_average"`` (the series is divided by its seasonal index
        before the fit: the papers' two-step method); or ``"season_dummies"`` (month or quarter
        indicators in the regression, estimated together with the level and slopes).
    log
        Model ``ln(y + 1)`` (after seasonal adjustment); OLS only.
    model
        ``"ols"`` (segmented regression with Newey-West errors) or ``"quasipoisson"``.
    coding, impact, hac_lags, bg_order
        Passed to :func:`segmented_regression`.
    offset, fourier
        Passed to :func:`segmented_poisson`.

    Examples
    --------
    >>> analysis = analyse_series(frame, "hospitalizations", intervention="2017-10",
    ...                           seasonal="ratio_to_moving_average")  # doctest: +SKIP
    """
    check_choice("seasonal", seasonal, SEASONAL_METHODS)
    check_choice("model", model, MODELS)
    if model == "quasipoisson" and log:
        raise ParameterError("parameter 'log' must be false with model=quasipoisson (the model is already on the log scale)")
    if model == "ols" and fourier:
        raise ParameterError("parameter 'fourier' applies to model=quasipoisson; with ols use seasonal=ratio_to_moving_average")
    if model == "ols" and offset is not None:
        raise ParameterError("parameter 'offset' applies to model=quasipoisson only")
    if outcome not in data.columns:
        raise ContractError(f"column '{outcome}' not found in the data")
    series = data[outcome].astype(float).rename(outcome)
    analysed, adjustment = prepare_series(series, seasonal=seasonal, log=log)
    dummies = seasonal == "season_dummies"
    if model == "ols":
        fitted = segmented_regression(analysed, intervention=intervention, coding=coding, impact=impact,
                                      hac_lags=hac_lags, bg_order=bg_order, seasonal_dummies=dummies)
    else:
        frame = analysed.to_frame(outcome)
        if offset is not None:
            frame[offset] = data[offset]
        fitted = segmented_poisson(frame, outcome, intervention=intervention, coding=coding,
                                   impact=impact, offset=offset, fourier=fourier, seasonal_dummies=dummies)
    return SeriesAnalysis(outcome, adjustment, analysed.rename(outcome), fitted, bool(log))


def results_table(analyses: list[SeriesAnalysis], alpha: float = 0.05, level_change: bool = False) -> pd.DataFrame:
    """Stack the tables of several analyses (one row per model, outcome and term)."""
    return pd.concat([a.table(alpha, level_change) for a in analyses], ignore_index=True)


def diagnostics_table(analyses: list[SeriesAnalysis]) -> pd.DataFrame:
    """One row per analysis: Breusch-Godfrey, Durbin-Watson, R², Newey-West lag, dispersion."""
    rows = []
    for a in analyses:
        model = a.model
        bg = getattr(model, "breusch_godfrey", None)
        rows.append({
            "outcome": a.outcome, "model": a.model_name,
            "bg_order": bg.order if bg else None,
            "bg_statistic": bg.statistic if bg else np.nan,
            "bg_p_value": bg.p_value if bg else np.nan,
            "durbin_watson": getattr(model, "durbin_watson", np.nan),
            "r_squared": getattr(model, "r_squared", np.nan),
            "hac_lags": getattr(model, "hac_lags", None),
            "dispersion": getattr(model, "dispersion", np.nan),
        })
    return pd.DataFrame(rows)


def diagnostics_record(analysis: SeriesAnalysis) -> dict:
    """The per-outcome ``diagnostics`` entry of ``results.json``."""
    model = analysis.model
    record: dict = {
        "model": analysis.model_name,
        "seasonal_indices": analysis.seasonal.indices.to_dict() if analysis.seasonal is not None else None,
        "log": analysis.log,
    }
    if isinstance(model, ITSAResult):
        record |= {"breusch_godfrey": vars(model.breusch_godfrey), "durbin_watson": model.durbin_watson,
                   "hac_lags": model.hac_lags, "se_type": model.se_type, "r_squared": model.r_squared,
                   "coding": model.coding, "impact": model.impact}
        if "beta2" in model.params.index:
            record["level_change_at_intervention"] = model.level_change_at_intervention().row()
    else:
        record |= {"dispersion": model.dispersion, "fourier": model.fourier, "offset": model.offset,
                   "coding": model.coding, "impact": model.impact}
    return record


def lag_sensitivity(analysis: SeriesAnalysis, lags: tuple = (None, 0, 1, 2, 3, 4, 5, 6),
                    term: str = "beta3") -> pd.DataFrame:
    """Standard error of ``term`` under conventional OLS (``None``) and Newey-West at each lag.

    Returns one row: the outcome, then one column per lag (``OLS``, ``NW lag 0`` ...).
    """
    model = analysis.model
    if not isinstance(model, ITSAResult):
        raise ParameterError("lag sensitivity applies to OLS segmented regressions")
    row: dict = {"outcome": analysis.outcome}
    for lag in lags:
        refit = segmented_regression(analysis.analysed, intervention=model.intervention, coding=model.coding,
                                     impact=model.impact, hac_lags=lag, bg_order=model.breusch_godfrey.order,
                                     seasonal_dummies=bool(model.season_terms))
        row["OLS" if lag is None else f"NW lag {lag}"] = refit.term(term).std_error
    return pd.DataFrame([row])


def coding_comparison(analysis: SeriesAnalysis) -> pd.DataFrame:
    """Refit under each coding and convert ``beta2`` from the fitted coding: the two must agree.

    Columns: outcome, coding, beta1, beta2 (refitted), se_beta2 (refitted), beta3,
    beta2_converted, se_beta2_converted (from the analysis's own coding).
    """
    model = analysis.model
    if not isinstance(model, ITSAResult) or model.impact != "level_and_slope":
        raise ParameterError("the coding comparison needs an OLS model with impact='level_and_slope'")
    rows = []
    for coding in CODINGS:
        refit = segmented_regression(analysis.analysed, intervention=model.intervention, coding=coding,
                                     impact=model.impact, hac_lags=model.hac_lags,
                                     bg_order=model.breusch_godfrey.order,
                                     seasonal_dummies=bool(model.season_terms))
        converted = model.beta2_in(coding)
        rows.append({"outcome": analysis.outcome, "coding": coding, "beta1": refit.params["beta1"],
                     "beta2": refit.params["beta2"], "se_beta2": refit.term("beta2").std_error,
                     "beta3": refit.params["beta3"], "beta2_converted": converted.estimate,
                     "se_beta2_converted": converted.std_error})
    return pd.DataFrame(rows)


def compare_conclusions(first: SeriesAnalysis, second: SeriesAnalysis, terms: tuple[str, ...] = ("beta2", "beta3"),
                        alpha: float = 0.05) -> pd.DataFrame:
    """Do two models of the same outcome agree on the sign and significance of each term?

    Returns one row per term: each model's estimate and p-value, and ``same_conclusion`` (same
    sign and same side of ``alpha``).
    """
    a, b = first.table().set_index("term"), second.table().set_index("term")
    rows = []
    for term in terms:
        if term not in a.index or term not in b.index:
            continue
        same = bool((a.loc[term, "p_value"] < alpha) == (b.loc[term, "p_value"] < alpha)
                    and np.sign(a.loc[term, "estimate"]) == np.sign(b.loc[term, "estimate"]))
        rows.append({"outcome": first.outcome, "term": term,
                     f"{first.model_name}_estimate": a.loc[term, "estimate"],
                     f"{first.model_name}_p": a.loc[term, "p_value"],
                     f"{second.model_name}_estimate": b.loc[term, "estimate"],
                     f"{second.model_name}_p": b.loc[term, "p_value"],
                     "same_conclusion": same})
    return pd.DataFrame(rows)


def seasonal_method_comparison(data: pd.DataFrame, outcome: str, *, intervention: object,
                               coding: str = "zero_at_intervention", hac_lags: int | str | None = "auto",
                               methods: tuple[str, ...] = ("ratio_to_moving_average", "season_dummies"),
                               ) -> pd.DataFrame:
    """beta1..beta3 (estimate and standard error) of one outcome under each seasonal method.

    Shows how much the choice between the two-step ratio-to-moving-average adjustment and season
    indicators inside the regression moves the estimates (the two-step method smooths the
    break and shrinks the level change).
    """
    rows = []
    for method in methods:
        analysis = analyse_series(data, outcome, intervention=intervention, seasonal=method, coding=coding,
                                  hac_lags=hac_lags)
        table = analysis.table().set_index("term")
        for term in ("beta1", "beta2", "beta3"):
            if term in table.index:
                rows.append({"outcome": outcome, "seasonal": method, "term": term,
                             "estimate": table.loc[term, "estimate"], "std_error": table.loc[term, "std_error"]})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- two groups (Linden 2015)

COMPARATIVE_TERMS = {
    "beta0": "reference group: level at T = 0",
    "beta1": "reference group: pre-intervention slope",
    "beta2": "reference group: level change",
    "beta3": "reference group: slope change",
    "beta4": "difference in level at T = 0 (group - reference)",
    "beta5": "difference in pre-intervention slope",
    "beta6": "difference in level change",
    "beta7": "difference in slope change",
}


@dataclass(frozen=True, eq=False)
class ComparativeITSAResult:
    """A two-group interrupted time series fitted to the stacked series (Linden 2015).

    ``Y = b0 + b1 T + b2 X + b3 XT + b4 Z + b5 Z T + b6 Z X + b7 Z XT``, with ``Z = 1`` for
    ``group`` and 0 for ``reference``. ``beta6`` and ``beta7`` test whether the level change and
    the slope change differ between the two series. Newey-West errors are computed within each
    series (no cross-series lags), with the ``n / (n - k)`` factor and t tests on ``n - 8`` df.
    """

    outcome: str
    group: str
    reference: str
    coding: str
    params: pd.Series
    cov: pd.DataFrame
    df_resid: int
    hac_lags: int | None
    n_obs: int
    intervention: pd.Period
    intervention_index: int

    def term(self, name: str) -> LinearCombination:
        """One coefficient with its standard error."""
        return self.combination({name: 1.0}, name)

    def combination(self, weights: dict[str, float], name: str) -> LinearCombination:
        """Estimate and standard error of a linear combination of the coefficients."""
        return linear_combination(self.params, self.cov, weights, name, self.df_resid)

    def difference_in_jump(self) -> LinearCombination:
        """Difference between the two series' jumps at the intervention period (beta6 under zero coding)."""
        shift = self.intervention_index - coding_origin(self.coding, self.intervention_index)
        weights = {"beta6": 1.0} | ({"beta7": float(shift)} if shift else {})
        return self.combination(weights, "difference_in_level_change_at_intervention")

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        """beta0..beta7 and the difference in the jump at the intervention, one row each."""
        rows = [self.term(t).row(alpha) for t in self.params.index]
        rows.append(self.difference_in_jump().row(alpha))
        return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def comparative_itsa(
    group_series: pd.Series,
    reference_series: pd.Series,
    *,
    intervention: object,
    coding: str = "zero_at_intervention",
    hac_lags: int | str | None = "auto",
    group: str = "group",
    reference: str = "reference",
) -> ComparativeITSAResult:
    """Two-group segmented regression on two series with the same periods (Linden 2015).

    Parameters
    ----------
    group_series, reference_series
        The two series (already seasonally adjusted and/or logged, see :func:`prepare_series`),
        indexed by the same gap-free PeriodIndex.
    intervention, coding
        As in :func:`segmented_regression`.
    hac_lags
        Newey-West lag within each series; ``"auto"`` uses the rule on one series' length.
    group, reference
        Names used in the result.

    Examples
    --------
    >>> result = comparative_itsa(hospital, community, intervention="2017-10",
    ...                           group="hospital", reference="community")  # doctest: +SKIP
    >>> result.term("beta7")  # doctest: +SKIP
    """
    from statsmodels.stats.sandwich_covariance import cov_nw_panel

    check_choice("coding", coding, CODINGS)
    first = _series_from(group_series, None, None)
    second = _series_from(reference_series, None, None)
    if not first.index.equals(second.index):
        raise ContractError("the two series must cover the same periods; validate them together first")
    start, t0 = _intervention_index(first.index, intervention)
    n = len(first)
    base = design_matrix(n, t0, coding).to_numpy()
    zeros = np.zeros_like(base)
    design = np.vstack([np.hstack([base, zeros]), np.hstack([base, base])])
    # rows: reference series first (Z = 0), then the group series (Z = 1)
    y = np.r_[second.to_numpy(), first.to_numpy()]
    names = [f"beta{i}" for i in range(8)]
    lags = _hac_lags(hac_lags, n)
    fit = sm.OLS(y, design).fit()
    if lags is None:
        cov = np.asarray(fit.cov_params())
    else:
        cov = cov_nw_panel(fit, lags, [(0, n), (n, 2 * n)], use_correction="hac")
    return ComparativeITSAResult(
        outcome=str(first.name), group=group, reference=reference, coding=coding,
        params=pd.Series(fit.params, index=names), cov=pd.DataFrame(cov, index=names, columns=names),
        df_resid=int(fit.df_resid), hac_lags=lags, n_obs=2 * n, intervention=start, intervention_index=t0,
    )


# ----------------------------------------------------------------------------- robustness helpers


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


def compare_series(group_data: pd.DataFrame, reference_data: pd.DataFrame, outcome: str, *, intervention: object,
                   seasonal: str = "none", log: bool = False, coding: str = "zero_at_intervention",
                   hac_lags: int | str | None = "auto", group: str = "group", reference: str = "reference",
                   **_ignored) -> ComparativeITSAResult:
    """Prepare two series the same way (:func:`prepare_series`) and fit :func:`comparative_itsa`.

    Extra keyword arguments (those of :func:`analyse_series` that do not apply) are ignored, so
    the same settings dictionary can be passed to both functions.
    """
    if seasonal == "season_dummies":
        raise ParameterError(
            "the two-group comparison supports seasonal=none or ratio_to_moving_average, not season_dummies"
        )
    first, _ = prepare_series(group_data[outcome].astype(float).rename(outcome), seasonal=seasonal, log=log)
    second, _ = prepare_series(reference_data[outcome].astype(float).rename(outcome), seasonal=seasonal, log=log)
    return comparative_itsa(first, second, intervention=intervention, coding=coding, hac_lags=hac_lags,
                            group=group, reference=reference)
