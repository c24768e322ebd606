"""Segmented regression by OLS with Newey-West standard errors; effects at a horizon."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.diagnostic import acorr_breusch_godfrey
from statsmodels.stats.stattools import durbin_watson

from payreform.errors import ParameterError, check_choice
from payreform.inference import EmpiricalCombination, LinearCombination
from payreform.itsa.base import SegmentedFit
from payreform.itsa.design import (
    CODINGS,
    IMPACTS,
    _hac_lags,
    _series_from,
    full_design,
    intervention_indices,
)
from payreform.itsa.gls import INFERENCE_METHODS, fit_errors, satterthwaite_df


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


@dataclass(frozen=True, eq=False)
class ITSAResult(SegmentedFit):
    """A segmented regression fitted by OLS (see :func:`segmented_regression`).

    Attributes
    ----------
    outcome, coding, impact
        What was fitted and how.
    params, cov
        Coefficients and their covariance (Newey-West, or conventional OLS if ``hac_lags`` is None).
    df_resid
        Residual degrees of freedom ``n - k`` (used for t-based inference).
    periods, observed, fitted
        The series as fitted (``ln(y + 1)`` if ``log``) and its fitted values.
    intervention, intervention_index
        First period under the intervention and its ``T``.
    hac_lags
        Newey-West lag used (None: conventional OLS standard errors).
    breusch_godfrey, durbin_watson, r_squared
        Residual autocorrelation diagnostics and fit.
    design
        The regressors of every period.
    log
        True if the series fitted is ``ln(y + 1)``: effects are then reported on the original
        scale (relative effect ``exp(d) - 1``) and changes also as percentages.
    """

    hac_lags: int | None
    breusch_godfrey: AutocorrelationTest
    durbin_watson: float
    r_squared: float
    design: pd.DataFrame = field(repr=False)
    log: bool = False
    inference: str = field(default="newey_west", kw_only=True)
    ar: tuple[float, ...] = field(default=(), kw_only=True)
    gls_fit: object = field(default=None, kw_only=True, repr=False)

    @property
    def scale(self) -> str:
        """``log1p`` for a model of ``ln(y + 1)``, else ``linear``."""
        return "log1p" if self.log else "linear"

    @property
    def residuals(self) -> np.ndarray:
        """Observed minus fitted (on the scale fitted); NaN in periods left out of the fit."""
        residuals = self.observed - self.fitted
        return residuals if self.fit_mask is None else np.where(self.fit_mask, residuals, np.nan)

    @property
    def se_type(self) -> str:
        """Description of the inference used."""
        ar = ", ".join(f"{v:.3f}" for v in self.ar)
        if self.inference == "prais_winsten":
            return f"Prais-Winsten FGLS, AR(1) errors (rho = {ar}), iterated, t on n - k df"
        if self.inference == "reml":
            return f"GLS, AR({len(self.ar)}) errors by REML (AR = {ar}), t on n - k df"
        if self.inference == "reml_satterthwaite":
            return f"GLS, AR(1) errors by REML (rho = {ar}), Satterthwaite df"
        if self.inference == "arima":
            return f"maximum likelihood, AR(1) errors (rho = {ar}), normal intervals"
        if self.inference == "calibrated":
            cal = self.gls_fit.extra["calibration"]
            return (f"calibrated: GLS with AR(1) errors by REML (rho = {ar}), bootstrap-t with the bias-corrected "
                    f"rho = {cal.rho_corrected:.3f} ({cal.reps} draws)")
        if self.hac_lags is None:
            return "OLS (conventional)"
        return f"Newey-West, Bartlett kernel, lag {self.hac_lags}, small-sample factor n/(n-k)"

    def combination(self, weights: dict[str, float], name: str) -> LinearCombination:
        """Estimate and standard error of a linear combination; its degrees of freedom or bootstrap-t
        distribution follow the inference method (Satterthwaite df, or the calibrated draws)."""
        combo = super().combination(weights, name)
        if self.inference not in ("reml_satterthwaite", "calibrated") or self.gls_fit is None:
            return combo
        w = np.array([weights.get(t, 0.0) for t in self.params.index], dtype=float)
        if self.inference == "calibrated":
            draws = self.gls_fit.extra["calibration"].t_draws(w)
            return EmpiricalCombination(combo.name, combo.estimate, combo.std_error, combo.df, draws)
        keep = self.fit_mask if self.fit_mask is not None else np.ones(self.n_obs, dtype=bool)
        df = satterthwaite_df(self.observed[keep], self.design.to_numpy()[keep], self.gls_fit, w)
        return LinearCombination(combo.name, combo.estimate, combo.std_error, df)

    def diagnostics(self) -> dict:
        """Fit summary: scale, Breusch-Godfrey, Durbin-Watson, R², standard errors."""
        return super().diagnostics() | {
            "breusch_godfrey": vars(self.breusch_godfrey), "durbin_watson": self.durbin_watson,
            "r_squared": self.r_squared, "hac_lags": self.hac_lags, "se_type": self.se_type}


def breusch_godfrey(model_results, order: int) -> AutocorrelationTest:
    """Breusch-Godfrey test on a fitted statsmodels OLS result (lagged residuals filled with 0)."""
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ParameterError(f"parameter 'bg_order' is {order!r}; use an integer >= 1")
    if order >= model_results.nobs - model_results.df_model - 2:
        raise ParameterError(f"parameter 'bg_order' is {order}; too many lags for {int(model_results.nobs)} periods")
    test = acorr_breusch_godfrey(model_results, nlags=int(order), result_object=True)
    return AutocorrelationTest(int(order), float(test.lm), float(test.lmpval), float(test.fval),
                               float(test.fpval))


def _keep_mask(exclude: np.ndarray | None, n: int) -> np.ndarray:
    if exclude is None:
        return np.ones(n, dtype=bool)
    exclude = np.asarray(exclude, dtype=bool)
    if exclude.shape != (n,):
        raise ParameterError(f"the exclusion mask has {exclude.size} entries for {n} periods")
    return ~exclude


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
    log: bool = False,
    exclude: np.ndarray | None = None,
    inference: str = "newey_west",
    ar_order: int = 1,
    seed: int = 20260101,
) -> ITSAResult:
    """Fit ``Y = beta0 + beta1*T + beta2*X + beta3*XT`` by OLS with Newey-West standard errors.

    With several interruptions, each adds its own level and slope terms (``beta2_1``,
    ``beta3_1``, ``beta2_2`` ... in date order); periods in excluded windows keep their ``T`` but
    are left out of the fit.

    Parameters
    ----------
    data
        A frame indexed by a gap-free :class:`pandas.PeriodIndex` (as returned in
        :attr:`payreform.contracts.TimeSeriesData.frame`), or such a Series.
    outcome
        Column to model (not needed for a Series).
    intervention
        First period under the intervention (``"2017-10"``, ``"2017Q4"``, ``2017`` or a Period),
        or several (a list, or ``"2017-10,2020-02"``), in date order.
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
    log
        Set to True when the series given is ``ln(y + 1)`` of the outcome (see
        :func:`payreform.itsa.analyse_series`): the fit is the same, but effects are reported
        on the original scale and changes as percentages.
    exclude
        Boolean mask, True for periods left out of the fit (see :func:`exclusion_mask`). The
        Newey-West weights and the Breusch-Godfrey lags then run over the periods kept, in order.
    inference
        ``newey_west`` (OLS with ``hac_lags``, the papers'), or a method that models the
        autocorrelation: ``prais_winsten``, ``reml`` (AR(``ar_order``) errors), ``reml_satterthwaite``,
        ``arima`` or ``calibrated`` (see :mod:`payreform.itsa.gls`).
    ar_order, seed
        AR order of ``reml``; random seed of the ``calibrated`` bootstrap.

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
    starts, indices = intervention_indices(series.index, intervention)
    design = full_design(series.index, indices, coding, impact, seasonal_dummies)
    check_choice("inference", inference, INFERENCE_METHODS)
    keep = _keep_mask(exclude, len(series))
    lags = _hac_lags(hac_lags, int(keep.sum())) if inference == "newey_west" else None
    model = sm.OLS(series.to_numpy()[keep], design.to_numpy()[keep])
    if lags is None:
        fit = model.fit(use_t=True)
    else:
        fit = model.fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True)
    names = list(design.columns)
    bg = breusch_godfrey(fit, bg_order)
    params, cov, df, ar, gls_fit = fit.params, fit.cov_params(), int(fit.df_resid), (), None
    if inference != "newey_west":
        times = np.flatnonzero(keep) + 1
        gls_fit = fit_errors(series.to_numpy()[keep], design.to_numpy()[keep], inference, ar_order=ar_order,
                             seed=seed, times=times)
        params, cov, df, ar = gls_fit.params, gls_fit.cov, gls_fit.df, gls_fit.ar
    return ITSAResult(
        outcome=str(series.name if outcome is None else outcome),
        coding=coding,
        impact=impact,
        params=pd.Series(params, index=names),
        cov=pd.DataFrame(cov, index=names, columns=names),
        df_resid=df,
        hac_lags=lags,
        periods=series.index,
        observed=series.to_numpy(),
        fitted=design.to_numpy() @ np.asarray(params),
        intervention=starts[0],
        intervention_index=indices[0],
        interventions=starts,
        intervention_indices=indices,
        fit_mask=None if keep.all() else keep,
        breusch_godfrey=bg,
        durbin_watson=float(durbin_watson(fit.resid)),
        r_squared=float(fit.rsquared),
        design=design,
        log=bool(log),
        inference=inference,
        ar=tuple(ar),
        gls_fit=gls_fit,
    )
