"""What the two interrupted time-series chapters share: parameters and the checks of settings.

Both ITSA chapters (``youxi-itsa``, ``sanming-itsa``) take the same model settings. Settings
whose value is a study's choice (the intervention period, the coding of the interaction) or
depends on the data (seasonal method, Newey-West lag, Fourier pairs, horizon) default to None or
``auto`` and are resolved by :func:`resolve_model_settings`, which also checks every setting
against the data, so that the analysis itself never stops on a user error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from payreform.chapters.base import Parameter
from payreform.errors import ContractError, ParameterError
from payreform.itsa import CODINGS, IMPACTS, INFERENCE_METHODS, MODELS, newey_west_lags
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
              "years or more (season_dummies with several interruptions or excluded windows), none otherwise; "
              "season_dummies = month/quarter indicators in the regression",
              choices=SEASONAL_CHOICES),
    Parameter("log", "bool", False, "model ln(y + 1) instead of y (OLS only); effects are reported on the "
              "original scale"),
    Parameter("exclude", "list", None, "windows left out of the fit, FIRST..LAST (for example a pandemic "
              "shock: 2015-02..2015-04); comma-separated", optional=True),
    Parameter("lag", "int", 0, "periods between each intervention date and its effective start"),
    Parameter("phase_in", "int", 0, "periods from each (effective) start left out of the fit as a transition"),
    Parameter("inference", "str", None, "how intervals allow for autocorrelation: newey_west (the papers'), "
              "prais_winsten, reml, reml_satterthwaite, arima or calibrated (a bootstrap-t that keeps 95% "
              "coverage in short autocorrelated series)", choices=INFERENCE_METHODS, optional=True,
              derived="the book's data: newey_west, as the papers; your data: calibrated"),
    Parameter("hac_lags", "lags", "auto", "Newey-West lag (inference=newey_west); auto = floor(4 (n/100)^(2/9))"),
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


def check_model_settings(ts, values: Mapping[str, Any], *, schedule: Schedule | None = None,
                         n_terms: int | None = None) -> None:
    """Check resolved settings against a validated series and its interruptions; one-line errors
    naming the parameter.

    ``schedule`` defaults to the series' single intervention; ``n_terms`` is accepted for
    compatibility and ignored (the design is built from the settings).
    """
    if schedule is None:
        schedule = resolve_schedule(ts.frame.index, str(ts.intervention))
    n = len(ts.frame)
    n_fit = n - schedule.n_excluded
    frequency = ts.frequency
    seasonal = values["seasonal"]
    name = FREQUENCY_NAMES[frequency]
    if seasonal in ("ratio_to_moving_average", "season_dummies") and frequency == "Y":
        raise ParameterError(f"parameter 'seasonal' is {seasonal} but the data are annual (no season); "
                             "set seasonal=none")
    per_year = PERIODS_PER_YEAR[frequency]
    if seasonal == "ratio_to_moving_average":
        if schedule.n_excluded:
            raise ParameterError("parameter 'seasonal' is ratio_to_moving_average, whose moving average would run "
                                 "through the periods left out of the fit (exclude, phase_in); set "
                                 "seasonal=season_dummies or seasonal=none")
        if n < 2 * per_year:
            raise ParameterError(f"parameter 'seasonal' is ratio_to_moving_average, which needs two years of "
                                 f"{name} data ({2 * per_year} periods); the series has {n}: set seasonal=none")
        for outcome in ts.outcomes:
            if (ts.frame[outcome] <= 0).any():
                period = ts.frame.index[(ts.frame[outcome] <= 0).to_numpy()][0]
                raise ContractError(f"outcome '{outcome}' is 0 in {period}; the ratio-to-moving-average method "
                                    "needs positive values: set seasonal=season_dummies or seasonal=none")
    model = values.get("model", "ols")
    design = full_design(ts.frame.index, schedule.indices, values.get("coding") or USER_CODING,
                         values.get("impact", "level_and_slope"), seasonal_dummies=seasonal == "season_dummies")
    k = design.shape[1]
    if seasonal == "season_dummies" and not is_full_rank(design[~schedule.exclude]):
        raise ParameterError(
            "parameter 'seasonal' is season_dummies, but with these periods the season indicators cannot be "
            "told apart from the trend and the level changes (two cycles split at the intervention?); use a "
            "longer series or seasonal=ratio_to_moving_average"
        )
    if model == "quasipoisson":
        k += 2 * int(values.get("fourier", 0))
        if values.get("log"):
            raise ParameterError("parameter 'log' must be false with model=quasipoisson (the model is already on "
                                 "the log scale)")
        if seasonal == "ratio_to_moving_average":
            raise ParameterError("parameter 'seasonal' is ratio_to_moving_average, which would divide counts by "
                                 "an index; with model=quasipoisson use Fourier terms (fourier=2) or "
                                 "seasonal=season_dummies")
    elif values.get("offset") is not None:
        raise ParameterError("parameter 'offset' applies to model=quasipoisson; set model=quasipoisson or drop it")
    if n_fit - k < 2:
        raise ParameterError(f"the model has {k} coefficients for {n_fit} fitted periods; simplify it "
                             "(seasonal=none, fewer Fourier pairs or interruptions) or use a longer series")
    order = values.get("bg_order", 1)
    if not isinstance(order, int) or order < 1:
        raise ParameterError(f"parameter 'bg_order' is {order!r}; use a whole number >= 1")
    if model == "ols" and order >= n_fit - k - 2:
        raise ParameterError(f"parameter 'bg_order' is {order}; with {n_fit} fitted periods and {k} coefficients "
                             f"use at most {max(n_fit - k - 3, 1)}")
    lags = values.get("hac_lags")
    if isinstance(lags, int) and lags >= n_fit - 1:
        raise ParameterError(f"parameter 'hac_lags' is {lags}; it must be smaller than {n_fit - 1} (fitted "
                             "periods - 1)")
    horizon = values.get("horizon")
    room = n - schedule.indices[0] + 1
    if horizon is not None and not 0 <= int(horizon) < room:
        raise ParameterError(f"parameter 'horizon' is {horizon}; it must lie between 0 and {room - 1} "
                             "(periods after the intervention in the data)")


@dataclass(frozen=True)
class Schedule:
    """The interruptions as fitted: effective starts, their ``T``, and the periods left out of the fit.

    ``dates`` are the intervention dates as given; ``starts`` shift them by ``lag`` periods;
    ``exclude`` is True for periods in an ``exclude`` window or in a phase-in window.
    """

    dates: tuple[pd.Period, ...]
    starts: tuple[pd.Period, ...]
    indices: tuple[int, ...]
    exclude: np.ndarray = field(repr=False)

    @property
    def n_excluded(self) -> int:
        """Number of periods left out of the fit."""
        return int(self.exclude.sum())

    @property
    def intervention(self) -> list[str] | str:
        """What :func:`payreform.itsa.analyse_series` takes as ``intervention``."""
        return [str(p) for p in self.starts] if len(self.starts) > 1 else str(self.starts[0])

    def mask(self) -> np.ndarray | None:
        """The exclusion mask, or None when every period is fitted."""
        return self.exclude if self.exclude.any() else None


def split_interventions(value: object) -> list[str]:
    """``"2017-10, 2020-02"`` (or a list) as a list of period texts.

    Examples
    --------
    >>> split_interventions("2015-10, 2018-02")
    ['2015-10', '2018-02']
    """
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def resolve_schedule(index: pd.PeriodIndex, intervention: object, exclude: object = None, lag: int = 0,
                     phase_in: int = 0, min_segment: int = 3) -> Schedule:
    """Check the interruptions, windows, lag and phase-in against the periods of a series.

    Every segment (before the first start, between two starts, after the last) must keep at least
    ``min_segment`` fitted periods; every date must lie inside the data. One-line errors name the
    parameter.

    Examples
    --------
    >>> index = pd.period_range("2015-01", periods=48, freq="M")
    >>> schedule = resolve_schedule(index, "2016-01,2017-03", exclude="2017-03..2017-04", lag=0)
    >>> schedule.indices, schedule.n_excluded
    ((13, 27), 2)
    """
    from payreform.itsa.design import exclusion_mask
    from payreform.periods import frequency_of, parse_period

    for name, number in (("lag", lag), ("phase_in", phase_in)):
        if not isinstance(number, (int, np.integer)) or isinstance(number, bool) or number < 0:
            raise ParameterError(f"parameter '{name}' is {number!r}; use a whole number >= 0")
    freq = frequency_of(index)
    dates = [parse_period(item, freq, "intervention") for item in split_interventions(intervention)]
    if not dates:
        raise ParameterError("parameter 'intervention' is empty; give the first period under the reform")
    for a, b in zip(dates, dates[1:], strict=False):
        if not a < b:
            raise ParameterError(f"parameter 'intervention' lists {a} before {b}; give each interruption once, "
                                 "in date order")
    starts = [d + int(lag) for d in dates]
    for date, start in zip(dates, starts, strict=True):
        if not index[0] < start <= index[-1]:
            shifted = f" (with lag {lag}: {start})" if lag else ""
            raise ContractError(f"intervention {date}{shifted} is outside the data ({index[0]} to {index[-1]}); "
                                "it must be a period after the first one in the file")
    mask = exclusion_mask(index, exclude)
    for start in starts:
        window = (index >= start) & (index < start + int(phase_in))
        mask = mask | window
    positions = [int(index.get_loc(start)) for start in starts]
    bounds = [0, *positions, len(index)]
    labels = ["before " + str(starts[0])] + [f"from {a} to {b - 1}" for a, b in zip(starts, starts[1:], strict=False)] \
        + ["from " + str(starts[-1]) + " on"]
    for (low, high), label in zip(zip(bounds, bounds[1:], strict=False), labels, strict=True):
        fitted = int((~mask[low:high]).sum())
        if fitted < min_segment:
            raise ContractError(
                f"the segment {label} keeps {fitted} fitted periods; segmented regression needs at least "
                f"{min_segment} per segment (check intervention, exclude, lag and phase_in)"
            )
    return Schedule(tuple(dates), tuple(starts), tuple(p + 1 for p in positions), mask)


def resolve_inference(values: Mapping[str, Any], book: bool) -> dict[str, Any]:
    """The inference method used: as set, else the papers' Newey-West on the book's data and the
    calibrated method on a user's; only the OLS model takes one (one-line error otherwise)."""
    method = values.get("inference")
    if values.get("model", "ols") == "quasipoisson":
        if method not in (None, "newey_west"):
            raise ParameterError("parameter 'inference' applies to model=ols; the quasi-Poisson model has its own "
                                 "(quasi-likelihood) standard errors: drop inference or set model=ols")
        return {}
    if method is None:
        return {"inference": "newey_west" if book else "calibrated"}
    return {}


def inference_phrase(settings: Mapping[str, Any]) -> str:
    """How the intervals of the run allow for autocorrelation, in words."""
    method = settings["inference"]
    if method == "newey_west":
        return f"Newey-West standard errors (lag {settings['hac_lags']})"
    return {"prais_winsten": "Prais-Winsten GLS with AR(1) errors", "reml": "GLS with AR(1) errors by REML",
            "reml_satterthwaite": "GLS with AR(1) errors by REML and Satterthwaite degrees of freedom",
            "arima": "maximum-likelihood regression with AR(1) errors",
            "calibrated": "calibrated intervals (REML with AR(1) errors, bootstrap-t with a bias-corrected "
                          "autocorrelation)"}[method]


def autocorrelation_handling(settings: Mapping[str, Any], language: str = "en") -> str:
    """What the run's intervals do about autocorrelation left in the residuals, in one sentence.

    Newey-West (the papers') corrects only part of it in short series; the AR(1) methods model
    it but still undercover in short series; the calibrated intervals are built to keep their
    coverage when the errors are AR(1).

    Examples
    --------
    >>> autocorrelation_handling({"inference": "calibrated"})[:40]
    'The calibrated intervals model it as AR('
    """
    method = settings["inference"]
    zh = language == "zh"
    if method == "newey_west":
        return ("短序列中 Newey-West 置信区间偏窄；P 值接近 0.05 时应视为不确定。" if zh else
                "Newey-West intervals from short series are too narrow; read p-values near 0.05 as inconclusive.")
    if method == "calibrated":
        return ("校准区间将其建模为 AR(1) 误差，并计入相关系数估计的不确定性；若自相关阶数更高，区间仍可能偏窄。" if zh else
                "The calibrated intervals model it as AR(1) errors and carry the uncertainty of the estimated "
                "correlation; autocorrelation of a higher order would still make them too narrow.")
    return ("该方法将其建模为 AR(1) 误差，但短序列中区间仍偏窄；P 值接近 0.05 时应视为不确定。" if zh else
            f"The {inference_phrase(settings)} models it, but its intervals are too narrow in short series; read "
            "p-values near 0.05 as inconclusive.")


def hac_lags_for(value: Any, n_periods: int) -> int:
    """``auto`` becomes the Newey-West rule for the series length; a number is kept.

    Examples
    --------
    >>> hac_lags_for("auto", 46), hac_lags_for(2, 46)
    (3, 2)
    """
    return newey_west_lags(n_periods) if value == "auto" else int(value)


__all__ = ["ITSA_PARAMETERS", "MODELS", "SEASONAL_CHOICES", "USER_CODING", "Schedule", "autocorrelation_handling",
           "check_model_settings",
           "hac_lags_for", "itsa_parameter", "resolve_fourier", "resolve_schedule", "resolve_seasonal",
           "split_interventions", "inference_phrase"]
