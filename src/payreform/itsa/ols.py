"""Segmented regression by OLS with Newey-West standard errors; effects at a horizon."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.diagnostic import acorr_breusch_godfrey
from statsmodels.stats.stattools import durbin_watson

from payreform.errors import ParameterError, check_choice
from payreform.inference import TABLE_COLUMNS, LinearCombination, linear_combination
from payreform.itsa.design import (
    CODINGS,
    IMPACTS,
    TERMS,
    _hac_lags,
    _intervention_index,
    _season_row,
    _series_from,
    coding_origin,
    design_matrix,
    season_indicators,
)
from payreform.periods import frequency_of, parse_period


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
