"""One outcome analysed end to end (adjust, transform, fit) and the tables built from analyses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from payreform.errors import ContractError, ParameterError, check_choice
from payreform.inference import TABLE_COLUMNS
from payreform.itsa.design import CODINGS
from payreform.itsa.ols import ITSAResult, segmented_regression
from payreform.itsa.poisson import PoissonITSAResult, segmented_poisson
from payreform.itsa.seasonal import SeasonalAdjustment, ratio_to_moving_average

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
        """The ``model`` field of ``results.json``: ``ols_newey_west`` (the papers'), ``ols``
        (conventional errors), ``gls_<method>`` for the methods that model the autocorrelation
        (``gls_reml``, ``gls_calibrated`` ...), or ``quasipoisson``."""
        if isinstance(self.model, PoissonITSAResult):
            return "quasipoisson"
        if self.model.inference != "newey_west":
            return f"gls_{self.model.inference}"
        return "ols" if self.model.hac_lags is None else "ols_newey_west"

    def diagnostics(self) -> dict:
        """The per-outcome ``diagnostics`` entry of ``results.json`` (see :func:`diagnostics_record`)."""
        return diagnostics_record(self)

    def effect_at(self, horizon: int | None = None, period: object = None, alpha: float = 0.05):
        """The model's :meth:`~payreform.itsa.base.SegmentedFit.effect_at` (on the outcome's scale)."""
        return self.model.effect_at(horizon, period, alpha)

    def table(self, alpha: float = 0.05, level_change: bool = False) -> pd.DataFrame:
        """The model's table with ``model``, ``outcome`` and ``n_obs`` columns in front.

        ``level_change=True`` adds the row ``level_change_at_intervention`` (the jump at the
        intervention period, whatever the coding) for OLS models with a level change.
        """
        frame = self.model.table(alpha)
        if level_change and isinstance(self.model, ITSAResult):
            rows = [self.model.level_change_at_intervention(k).row(alpha)
                    for k in range(1, self.model.n_interruptions + 1)
                    if self.model.terms_of(k)[0] in self.model.params.index]
            if rows:
                frame = pd.concat([frame, pd.DataFrame(rows, columns=TABLE_COLUMNS)], ignore_index=True)
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
    >>> index = pd.period_range("2015-01", periods=24, freq="M")
    >>> analysed, adjustment = prepare_series(pd.Series(range(1, 25), index=index, dtype=float), log=True)
    >>> round(float(analysed.iloc[0]), 4), adjustment is None
    (0.6931, True)
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
    exclude: np.ndarray | None = None,
    inference: str = "newey_west",
    seed: int = 20260101,
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
    exclude
        Boolean mask of periods left out of the fit (see :func:`payreform.itsa.exclusion_mask`);
        not with the ratio-to-moving-average method, whose moving average would run through them.
    inference, seed
        Inference of the OLS segmented regression (see :func:`segmented_regression`); the
        quasi-Poisson model has its own.

    Examples
    --------
    >>> from payreform.contracts import validate_time_series
    >>> from payreform.synth import youxi
    >>> ts = validate_time_series(youxi.generate(seed=1), intervention="2017-10")
    >>> analysis = analyse_series(ts.frame, "hospitalizations", intervention=ts.intervention,
    ...                           seasonal="ratio_to_moving_average")
    >>> analysis.model_name, len(analysis.seasonal.indices)
    ('ols_newey_west', 12)
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
    if exclude is not None and np.asarray(exclude).any() and seasonal == "ratio_to_moving_average":
        raise ParameterError("parameter 'exclude' leaves periods out of the fit, but the ratio-to-moving-average "
                             "method would average through them; set seasonal=season_dummies or seasonal=none")
    series = data[outcome].astype(float).rename(outcome)
    analysed, adjustment = prepare_series(series, seasonal=seasonal, log=log)
    dummies = seasonal == "season_dummies"
    if model == "ols":
        fitted = segmented_regression(analysed, intervention=intervention, coding=coding, impact=impact,
                                      hac_lags=hac_lags, bg_order=bg_order, seasonal_dummies=dummies, log=log,
                                      exclude=exclude, inference=inference, seed=seed)
    else:
        frame = analysed.to_frame(outcome)
        if offset is not None:
            frame[offset] = data[offset]
        fitted = segmented_poisson(frame, outcome, intervention=intervention, coding=coding,
                                   impact=impact, offset=offset, fourier=fourier, seasonal_dummies=dummies,
                                   exclude=exclude)
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
    record |= model.diagnostics()
    if isinstance(model, ITSAResult):
        for k in range(1, model.n_interruptions + 1):
            if model.terms_of(k)[0] in model.params.index:
                combo = model.level_change_at_intervention(k)
                record[combo.name] = combo.row()
    return record


def _refit_options(model: ITSAResult) -> dict:
    """Keyword arguments that refit ``model``'s design (interruptions, exclusions, season, scale)."""
    return {"intervention": list(model.starts), "impact": model.impact, "bg_order": model.breusch_godfrey.order,
            "seasonal_dummies": bool(model.season_terms), "log": model.log,
            "exclude": None if model.fit_mask is None else ~model.fit_mask}


def inference_comparison(analysis: SeriesAnalysis, methods: tuple[str, ...] | None = None,
                         terms: tuple[str, ...] | None = None, seed: int = 20260101) -> pd.DataFrame:
    """The same segmented regression under each inference method: one row per method and term with
    the estimate, standard error, 95% interval, p-value and the estimated autocorrelation."""
    from payreform.itsa.gls import INFERENCE_METHODS

    model = analysis.model
    if not isinstance(model, ITSAResult):
        raise ParameterError("the inference comparison applies to OLS segmented regressions")
    methods = methods or INFERENCE_METHODS
    rows = []
    for method in methods:
        refit = segmented_regression(analysis.analysed, coding=model.coding, hac_lags=model.hac_lags or "auto",
                                     inference=method, seed=seed, **_refit_options(model))
        table = refit.table().set_index("term")
        wanted = terms or tuple(t for t in refit.model_terms if t not in ("beta0", "beta1"))
        for term in wanted:
            row = table.loc[term]
            rows.append({"outcome": analysis.outcome, "inference": method, "term": term, "estimate": row["estimate"],
                         "std_error": row["std_error"], "ci_low": row["ci_low"], "ci_high": row["ci_high"],
                         "p_value": row["p_value"], "rho": refit.ar[0] if refit.ar else np.nan})
    return pd.DataFrame(rows)


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
        refit = segmented_regression(analysis.analysed, coding=model.coding, hac_lags=lag, **_refit_options(model))
        row["OLS" if lag is None else f"NW lag {lag}"] = refit.term(term).std_error
    return pd.DataFrame([row])


def coding_comparison(analysis: SeriesAnalysis) -> pd.DataFrame:
    """Refit under each coding and convert each level term from the fitted coding: the two must agree.

    One row per coding and interruption. Columns: outcome, coding, interruption, beta1, beta2
    (refitted), se_beta2 (refitted), beta3, beta2_converted, se_beta2_converted (from the
    analysis's own coding).
    """
    model = analysis.model
    if not isinstance(model, ITSAResult) or model.impact != "level_and_slope":
        raise ParameterError("the coding comparison needs an OLS model with impact='level_and_slope'")
    rows = []
    for coding in CODINGS:
        refit = segmented_regression(analysis.analysed, coding=coding, hac_lags=model.hac_lags,
                                     **_refit_options(model))
        for k in range(1, model.n_interruptions + 1):
            level, slope = model.terms_of(k)
            converted = model.beta2_in(coding, k)
            rows.append({"outcome": analysis.outcome, "coding": coding, "interruption": k,
                         "beta1": refit.params["beta1"], "beta2": refit.params[level],
                         "se_beta2": refit.term(level).std_error, "beta3": refit.params[slope],
                         "beta2_converted": converted.estimate, "se_beta2_converted": converted.std_error})
    frame = pd.DataFrame(rows)
    return frame if model.n_interruptions > 1 else frame.drop(columns="interruption")


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
    from payreform.itsa.design import _intervention_index, full_design, is_full_rank

    index = data.index
    _, t0 = _intervention_index(index, intervention)
    if "season_dummies" in methods and not is_full_rank(full_design(index, t0, coding, seasonal_dummies=True)):
        methods = tuple(m for m in methods if m != "season_dummies")  # not identified on these periods
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
