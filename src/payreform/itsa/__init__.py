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

from payreform.itsa.analysis import (
    MODELS,
    SEASONAL_METHODS,
    SeriesAnalysis,
    analyse_series,
    coding_comparison,
    compare_conclusions,
    diagnostics_record,
    diagnostics_table,
    inference_comparison,
    lag_sensitivity,
    prepare_series,
    results_table,
    seasonal_method_comparison,
)
from payreform.itsa.base import SCALES, Effect, Estimate, SegmentedFit
from payreform.itsa.comparative import (
    COMPARATIVE_TERMS,
    ComparativeITSAResult,
    comparative_itsa,
    compare_series,
)
from payreform.itsa.design import (
    CODINGS,
    IMPACTS,
    TERM_LABELS,
    TERMS,
    coding_origin,
    design_matrix,
    newey_west_lags,
    season_indicators,
)
from payreform.itsa.gls import INFERENCE_METHODS
from payreform.itsa.ols import (
    AutocorrelationTest,
    ITSAResult,
    breusch_godfrey,
    segmented_regression,
)
from payreform.itsa.poisson import PoissonITSAResult, fourier_terms, segmented_poisson
from payreform.itsa.power import PowerPlan, analytic_power, plan_itsa
from payreform.itsa.robustness import (
    as_percent_change,
    placebo_analysis,
    placebo_dates,
    placebo_rejections,
    sensitivity_table,
)
from payreform.itsa.seasonal import (
    SeasonalAdjustment,
    centred_moving_average,
    ratio_to_moving_average,
)

__all__ = [
    "CODINGS", "COMPARATIVE_TERMS", "INFERENCE_METHODS", "PowerPlan", "analytic_power", "plan_itsa", "SCALES", "Estimate", "SegmentedFit", "IMPACTS", "MODELS", "SEASONAL_METHODS", "TERMS", "TERM_LABELS",
    "AutocorrelationTest", "ComparativeITSAResult", "Effect", "ITSAResult", "PoissonITSAResult",
    "SeasonalAdjustment", "SeriesAnalysis", "analyse_series", "as_percent_change", "breusch_godfrey",
    "centred_moving_average", "coding_comparison", "coding_origin", "compare_conclusions", "compare_series",
    "comparative_itsa", "design_matrix", "diagnostics_record", "diagnostics_table", "fourier_terms", "inference_comparison",
    "lag_sensitivity", "newey_west_lags", "placebo_analysis", "placebo_dates", "placebo_rejections", "prepare_series", "ratio_to_moving_average",
    "results_table", "seasonal_method_comparison", "season_indicators", "segmented_poisson",
    "segmented_regression", "sensitivity_table",
]
