"""What the two interrupted time-series chapters share: parameters and the checks of settings.

Both ITSA chapters (``youxi-itsa``, ``sanming-itsa``) take the same model settings. Settings
whose value is a study's choice (the intervention period, the coding of the interaction) or
depends on the data (seasonal method, Newey-West lag, Fourier pairs, horizon) default to None or
``auto`` and are resolved by :func:`resolve_model_settings`, which also checks every setting
against the data, so that the analysis itself never stops on a user error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from payreform.chapters.base import Parameter
from payreform.errors import ContractError, ParameterError
from payreform.itsa import CODINGS, IMPACTS, MODELS, newey_west_lags
from payreform.itsa.design import full_design, is_full_rank
from payreform.periods import FREQUENCY_NAMES, PERIODS_PER_YEAR

SEASONAL_CHOICES = ("auto", "none", "ratio_to_moving_average", "season_dummies")

USER_CODING = "zero_at_intervention"
"""Coding used on a user's data unless set: beta2 is then the jump at the intervention."""

ITSA_PARAMETERS = {p.name: p for p in (
    Parameter("time_column", "str", "month", "column holding the period of each row"),
    Parameter("outcomes", "list", None, "outcome columns (comma-separated)", optional=True,
              derived="every numeric column"),
    Parameter("intervention", "str", None, "first period under the reform, in the data's form (2015-10, "
              "2015Q4, 2015)", optional=True,
              derived="the book's data: the study's reform date; your data: required"),
    Parameter("coding", "str", None, "coding of the post-intervention time term", choices=CODINGS, optional=True,
              derived="the book's data: the paper's coding; your data: zero_at_intervention (beta2 = the jump)"),
    Parameter("impact", "str", "level_and_slope", "impact model, chosen before looking", choices=IMPACTS),
    Parameter("seasonal", "str", "auto",
              "seasonality; auto = ratio_to_moving_average (the papers') for monthly/quarterly data with two "
              "years or more, none otherwise; season_dummies = month/quarter indicators in the regression",
              choices=SEASONAL_CHOICES),
    Parameter("log", "bool", False, "model ln(y + 1) instead of y (OLS only); effects are reported on the "
              "original scale"),
    Parameter("hac_lags", "lags", "auto", "Newey-West lag; auto = floor(4 (n/100)^(2/9))"),
    Parameter("bg_order", "int", 1, "lags in the Breusch-Godfrey test"),
    Parameter("horizon", "int", None, "periods after the intervention for the effect estimate", optional=True,
              derived="the last period of the data"),
)}
"""Parameters shared by the interrupted time-series chapters (defaults adjusted per chapter)."""


def itsa_parameter(name: str, **changes: Any) -> Parameter:
    """One of :data:`ITSA_PARAMETERS`, with some fields changed."""
    return replace(ITSA_PARAMETERS[name], **changes)


def resolve_seasonal(seasonal: str, frequency: str, n_periods: int) -> str:
    """The seasonal method used: ``auto`` becomes the ratio-to-moving-average method for monthly or
    quarterly data of two years or more, ``none`` otherwise.

    Examples
    --------
    >>> resolve_seasonal("auto", "M", 46), resolve_seasonal("auto", "Y", 16), resolve_seasonal("auto", "Q", 6)
    ('ratio_to_moving_average', 'none', 'none')
    """
    if seasonal != "auto":
        return seasonal
    per_year = PERIODS_PER_YEAR[frequency]
    return "ratio_to_moving_average" if frequency != "Y" and n_periods >= 2 * per_year else "none"


def resolve_fourier(fourier: int, frequency: str) -> int:
    """Fourier pairs that the frequency allows: none for annual data, at most one for quarters.

    Examples
    --------
    >>> resolve_fourier(2, "M"), resolve_fourier(2, "Q"), resolve_fourier(2, "Y")
    (2, 1, 0)
    """
    if frequency == "Y":
        return 0
    if frequency == "Q":
        return min(int(fourier), 1)
    return int(fourier)


def check_model_settings(ts, values: Mapping[str, Any], *, n_terms: int) -> None:
    """Check resolved settings against a validated series; one-line errors naming the parameter.

    ``n_terms`` is the number of regressors of the segmented model (without season terms).
    """
    n = len(ts.frame)
    frequency = ts.frequency
    seasonal = values["seasonal"]
    name = FREQUENCY_NAMES[frequency]
    if seasonal in ("ratio_to_moving_average", "season_dummies") and frequency == "Y":
        raise ParameterError(f"parameter 'seasonal' is {seasonal} but the data are annual (no season); "
                             "set seasonal=none")
    per_year = PERIODS_PER_YEAR[frequency]
    if seasonal == "ratio_to_moving_average":
        if n < 2 * per_year:
            raise ParameterError(f"parameter 'seasonal' is ratio_to_moving_average, which needs two years of "
                                 f"{name} data ({2 * per_year} periods); the series has {n}: set seasonal=none")
        for outcome in ts.outcomes:
            if (ts.frame[outcome] <= 0).any():
                period = ts.frame.index[(ts.frame[outcome] <= 0).to_numpy()][0]
                raise ContractError(f"outcome '{outcome}' is 0 in {period}; the ratio-to-moving-average method "
                                    "needs positive values: set seasonal=season_dummies or seasonal=none")
    extra = (per_year - 1) if seasonal == "season_dummies" else 0
    model = values.get("model", "ols")
    if model == "quasipoisson":
        extra += 2 * int(values.get("fourier", 0))
        if seasonal == "ratio_to_moving_average":
            raise ParameterError("parameter 'seasonal' is ratio_to_moving_average, which would divide counts by "
                                 "an index; with model=quasipoisson use Fourier terms (fourier=2) or "
                                 "seasonal=season_dummies")
        if values.get("log"):
            raise ParameterError("parameter 'log' must be false with model=quasipoisson (the model is already on "
                                 "the log scale)")
    elif values.get("offset") is not None:
        raise ParameterError("parameter 'offset' applies to model=quasipoisson; set model=quasipoisson or drop it")
    k = n_terms + extra
    if n - k < 2:
        raise ParameterError(f"the model has {k} coefficients for {n} periods; shorten it (seasonal=none, fewer "
                             "Fourier pairs) or use a longer series")
    if seasonal == "season_dummies":
        t0 = int(ts.n_pre + 1)
        design = full_design(ts.frame.index, t0, values.get("coding") or USER_CODING, values.get("impact",
                             "level_and_slope"), seasonal_dummies=True)
        if not is_full_rank(design):
            raise ParameterError(
                "parameter 'seasonal' is season_dummies, but with these periods the season indicators cannot be "
                "told apart from the trend and the level change (two cycles split at the intervention?); use a "
                "longer series or seasonal=ratio_to_moving_average"
            )
    order = values.get("bg_order", 1)
    if not isinstance(order, int) or order < 1:
        raise ParameterError(f"parameter 'bg_order' is {order!r}; use a whole number >= 1")
    if model == "ols" and order >= n - k - 2:
        raise ParameterError(f"parameter 'bg_order' is {order}; with {n} periods and {k} coefficients use at most "
                             f"{max(n - k - 3, 1)}")
    lags = values.get("hac_lags")
    if isinstance(lags, int) and lags >= n - 1:
        raise ParameterError(f"parameter 'hac_lags' is {lags}; it must be smaller than {n - 1} (periods - 1)")
    horizon = values.get("horizon")
    if horizon is not None and not 0 <= int(horizon) < ts.n_post:
        raise ParameterError(f"parameter 'horizon' is {horizon}; it must lie between 0 and {ts.n_post - 1} "
                             "(periods after the intervention in the data)")


def hac_lags_for(value: Any, n_periods: int) -> int:
    """``auto`` becomes the Newey-West rule for the series length; a number is kept.

    Examples
    --------
    >>> hac_lags_for("auto", 46), hac_lags_for(2, 46)
    (3, 2)
    """
    return newey_west_lags(n_periods) if value == "auto" else int(value)


__all__ = ["ITSA_PARAMETERS", "MODELS", "SEASONAL_CHOICES", "USER_CODING", "check_model_settings",
           "hac_lags_for", "itsa_parameter", "resolve_fourier", "resolve_seasonal"]
