"""Synthetic monthly data for Sanming city (Lin, Liu, Xiang and Luo, Table 4; Tables 1 and 3).

The real monthly reports of Sanming's public hospitals and community health service
institutions are not public. This generator produces, for each institution type, monthly
medical expenditure (10,000 CNY), outpatient volume and inpatient volume from January 2016 to
December 2019, such that

* on the ln(Y + 1) scale, with the paper's coding (``time_times_post``: ``XT = T * X``),
  ``T = 1`` in January 2016 and the reform from October 2017 (``T0 = 22``), the planted
  coefficients beta1..beta3 are Table 4's for that institution type;
* every calendar year's monthly values add up to the annual totals of Tables 1 and 3.

These two requirements conflict. A log-linear path with Table 4's slopes does not pass
through Table 1 and 3's yearly totals: it misses them by up to 12% for the community
institutions (the published slopes imply faster or slower growth than the published totals).
The generator keeps Table 4's line as the planted path and multiplies it by a smooth
correction, piecewise linear in the log through one level per calendar year placed at
mid-year, solved so that every year adds up to its published total. The correction is solved
after the noise is drawn, so every seed matches the totals to rounding. It is not invisible to
the regression: the coefficients of the noise-free corrected series (:func:`implied_truth`)
differ from Table 4's, and the chapter shows both, because the gap measures how far the
paper's two sets of published numbers disagree.

Assumptions (ours, not the paper's): the baseline level beta0 (solved from the totals), the
monthly seasonal pattern, AR(1) errors with coefficient :data:`AR_COEFFICIENT`, and the noise
scales :data:`NOISE_SD` (calibrated by ``bench/calibrate_sanming.py`` so that Newey-West
standard errors are about Table 4's). December 2019 is generated so that 2019 adds up to the
full-year total, and then left out of the analysis, as in the paper (the monthly series ends
in November 2019).

The "overall" series is the sum of the two institution types, not a third draw; its true
coefficients are therefore not planted but implied (see :func:`implied_overall_truth`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

from payreform.errors import ParameterError
from payreform.synth import ar1_noise

SOURCE = ("Lin K, Liu X, Xiang L, Luo F. Sanming Model of Medical Service Integration: Impact on "
          "Medical Expenditures, Service Provision, and Resource Allocation in China. Risk Management "
          "and Healthcare Policy")

START = "2016-01"
END = "2019-11"  # last month analysed
GENERATED_END = "2019-12"  # December 2019 completes the 2019 total, then is dropped
INTERVENTION = "2017-10"
CODING = "time_times_post"
TIME_COLUMN = "month"
GROUP_COLUMN = "institution"
GROUPS = ("hospital", "community")
OUTCOMES = ("medical_expenditure", "outpatient_volume", "inpatient_volume")
OUTCOME_LABELS = {
    "medical_expenditure": "Medical expenditure (10,000 CNY)",
    "outpatient_volume": "Outpatient volume",
    "inpatient_volume": "Inpatient volume",
}
GROUP_LABELS = {"hospital": "Hospitals", "community": "Community health service institutions",
                "overall": "Overall"}

# Table 4: coefficient (standard error) on ln(Y + 1), coding T * X; p-values as printed.
PUBLISHED = {
    ("overall", "medical_expenditure"): {"beta1": (0.008, 0.001, 0.001), "beta2": (-0.029, 0.019, 0.575),
                                         "beta3": (-0.001, 0.001, 0.095)},
    ("overall", "outpatient_volume"): {"beta1": (0.016, 0.002, 0.001), "beta2": (-0.035, 0.063, 0.572),
                                       "beta3": (-0.014, 0.004, 0.001)},
    ("overall", "inpatient_volume"): {"beta1": (0.005, 0.002, 0.041), "beta2": (-0.062, 0.030, 0.042),
                                      "beta3": (-0.005, 0.003, 0.098)},
    ("hospital", "medical_expenditure"): {"beta1": (0.007, 0.002, 0.001), "beta2": (-0.007, 0.031, 0.802),
                                          "beta3": (-0.001, 0.003, 0.663)},
    ("hospital", "outpatient_volume"): {"beta1": (0.007, 0.002, 0.001), "beta2": (-0.037, 0.020, 0.068),
                                        "beta3": (-0.004, 0.002, 0.060)},
    ("hospital", "inpatient_volume"): {"beta1": (0.004, 0.001, 0.014), "beta2": (-0.042, 0.020, 0.034),
                                       "beta3": (-0.004, 0.002, 0.033)},
    ("community", "medical_expenditure"): {"beta1": (0.018, 0.003, 0.001), "beta2": (-0.035, 0.068, 0.604),
                                           "beta3": (-0.009, 0.004, 0.039)},
    ("community", "outpatient_volume"): {"beta1": (0.021, 0.004, 0.001), "beta2": (0.153, 0.129, 0.236),
                                         "beta3": (-0.008, 0.008, 0.288)},
    ("community", "inpatient_volume"): {"beta1": (0.007, 0.002, 0.227), "beta2": (-0.154, 0.097, 0.114),
                                        "beta3": (-0.004, 0.007, 0.595)},
}

# Tables 1 (expenditure, 10k CNY) and 3 (volumes, persons): 2016, 2017, 2018, 2019.
ANNUAL_TOTALS = {
    ("hospital", "medical_expenditure"): (259_257.8, 274_349.2, 302_237.1, 327_952.0),
    ("community", "medical_expenditure"): (25_254.4, 28_199.6, 31_512.5, 37_328.6),
    ("hospital", "outpatient_volume"): (5_831_787, 6_098_557, 6_221_613, 6_604_957),
    ("community", "outpatient_volume"): (3_378_034, 4_070_358, 4_251_996, 4_756_076),
    ("hospital", "inpatient_volume"): (312_957, 317_181, 311_150, 316_912),
    ("community", "inpatient_volume"): (100_116, 100_230, 97_986, 102_800),
}
YEARS = (2016, 2017, 2018, 2019)

AR_COEFFICIENT = 0.5
"""AR(1) coefficient of the errors on the log scale (assumed)."""

# Standard deviation of the AR(1) innovations on the log scale, calibrated by
# bench/calibrate_sanming.py: the median Newey-West (lag 3) standard errors over 100 seeds,
# relative to Table 4's, balance the largest and smallest ratio among beta1..beta3 of each
# series. 14 of the 18 ratios lie within 1/1.5..1.5; the other four (hospital outpatient beta1
# and beta2, hospital inpatient beta2, community inpatient beta1) cannot all be brought inside,
# because the relative sizes of the three standard errors are fixed by the design and the
# published ones (rounded to 0.001) do not follow it.
NOISE_SD = {
    ("hospital", "medical_expenditure"): 0.0448,
    ("hospital", "outpatient_volume"): 0.0334,
    ("hospital", "inpatient_volume"): 0.0264,
    ("community", "medical_expenditure"): 0.0753,
    ("community", "outpatient_volume"): 0.1446,
    ("community", "inpatient_volume"): 0.0947,
}

# Calendar-month pattern (Jan..Dec), mean 1 (assumed): Spring Festival dip in February, a
# winter peak, quieter early autumn. Expenditure follows volumes at two-thirds the amplitude.
MONTH_PATTERN = np.array([1.02, 0.86, 1.03, 1.00, 1.01, 1.00, 1.03, 1.03, 0.99, 0.98, 1.01, 1.04])
MONTH_PATTERN = MONTH_PATTERN / MONTH_PATTERN.mean()
EXPENDITURE_AMPLITUDE = 2 / 3

DEFAULT_SEED = 20171002


def _time(n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    time = np.arange(1, n + 1, dtype=float)
    t0 = pd.Period(INTERVENTION, "M").ordinal - pd.Period(START, "M").ordinal + 1
    return time, (time >= t0).astype(float)


def _design(time: np.ndarray, post: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones_like(time), time, post, time * post])


def correction_path(year_levels: np.ndarray) -> np.ndarray:
    """48-month log correction through ``year_levels`` placed at mid-year, linear in between.

    Flat before mid-2016 and after mid-2019.
    """
    time, _ = _time(48)
    anchors = np.array([6.5, 18.5, 30.5, 42.5])
    return np.interp(time, anchors, year_levels)


def seasonal_factors(periods: pd.PeriodIndex, outcome: str) -> np.ndarray:
    """Planted multiplicative seasonal factor of ``outcome`` in each month."""
    volume = MONTH_PATTERN[periods.month - 1]
    if outcome == "medical_expenditure":
        return 1 + EXPENDITURE_AMPLITUDE * (volume - 1)
    return volume


def _solve_level_and_correction(log_path: np.ndarray, season: np.ndarray, totals: tuple) -> np.ndarray:
    """Return ``log_path + correction`` whose calendar-year sums (with the season) hit ``totals``."""
    target = np.log(np.asarray(totals, dtype=float))

    def residual(levels: np.ndarray) -> np.ndarray:
        sums = (np.exp(log_path + correction_path(levels)) * season).reshape(4, 12).sum(axis=1)
        return np.log(sums) - target

    start = target - np.log((np.exp(log_path) * season).reshape(4, 12).sum(axis=1))
    solution = optimize.root(residual, start, method="hybr", options={"xtol": 1e-14})
    if np.max(np.abs(residual(solution.x))) > 1e-10:  # pragma: no cover - a smooth 4 x 4 system
        raise RuntimeError(f"could not match the annual totals: {solution.message}")
    return log_path + correction_path(solution.x)


def _series(group: str, outcome: str, noise: np.ndarray, periods: pd.PeriodIndex) -> np.ndarray:
    time, post = _time(48)
    b = PUBLISHED[(group, outcome)]
    log_path = b["beta1"][0] * time + b["beta2"][0] * post + b["beta3"][0] * time * post + noise
    season = seasonal_factors(periods, outcome)
    log_level = _solve_level_and_correction(log_path, season, ANNUAL_TOTALS[(group, outcome)])
    return np.exp(log_level) * season - 1.0


def generate(seed: int = DEFAULT_SEED, noise_scale: float = 1.0, include_december_2019: bool = False) -> pd.DataFrame:
    """Monthly series per institution type, in long format (one row per month and institution).

    Parameters
    ----------
    seed
        Random seed; the same seed gives the same data.
    noise_scale
        Multiplies the noise (0 = the noise-free planted path).
    include_december_2019
        Keep December 2019 (generated to complete the 2019 total; the paper's analysis stops
        in November 2019).

    Returns
    -------
    DataFrame
        Columns ``month`` (``YYYY-MM``), ``institution`` (``hospital`` or ``community``),
        ``medical_expenditure`` (10,000 CNY, two decimals), ``outpatient_volume`` and
        ``inpatient_volume`` (persons).

    Examples
    --------
    >>> generate(seed=1).shape
    (94, 5)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"parameter 'seed' is {seed!r}; use a whole number >= 0")
    if not noise_scale >= 0:
        raise ParameterError(f"parameter 'noise_scale' is {noise_scale!r}; use a number >= 0")
    periods = pd.period_range(START, GENERATED_END, freq="M")
    rng = np.random.default_rng(seed)
    frames = []
    for group in GROUPS:
        columns = {TIME_COLUMN: periods.astype(str), GROUP_COLUMN: group}
        for outcome in OUTCOMES:
            noise = ar1_noise(rng, len(periods), AR_COEFFICIENT, NOISE_SD[(group, outcome)] * noise_scale)
            values = _series(group, outcome, noise, periods)
            columns[outcome] = np.round(values, 2) if outcome == "medical_expenditure" else np.round(values)
        frames.append(pd.DataFrame(columns))
    frame = pd.concat(frames, ignore_index=True)
    if not include_december_2019:
        frame = frame[frame[TIME_COLUMN] <= END].reset_index(drop=True)
    return frame


def overall(frame: pd.DataFrame) -> pd.DataFrame:
    """The city-wide series: hospitals plus community institutions, month by month."""
    summed = frame.groupby(TIME_COLUMN, sort=True)[list(OUTCOMES)].sum().reset_index()
    summed.insert(1, GROUP_COLUMN, "overall")
    return summed


def with_overall(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the overall series appended (long format)."""
    return pd.concat([frame, overall(frame)], ignore_index=True)


def annual_sums(frame: pd.DataFrame) -> pd.DataFrame:
    """Yearly sums of a long frame (one row per institution, outcome and year)."""
    years = frame[TIME_COLUMN].str[:4].astype(int)
    sums = frame.assign(year=years).groupby([GROUP_COLUMN, "year"])[list(OUTCOMES)].sum()
    return sums.reset_index().melt(id_vars=[GROUP_COLUMN, "year"], var_name="outcome", value_name="sum")


def published_totals() -> pd.DataFrame:
    """Tables 1 and 3 annual totals in the same long layout as :func:`annual_sums`."""
    rows = [{GROUP_COLUMN: g, "year": y, "outcome": o, "published": v}
            for (g, o), values in ANNUAL_TOTALS.items() for y, v in zip(YEARS, values, strict=True)]
    return pd.DataFrame(rows)


def truth(coding: str = CODING) -> pd.DataFrame:
    """Planted coefficients (institution types only) on ln(Y + 1), in the given coding.

    ``beta0`` is not listed: it is solved from the annual totals and differs slightly by seed.
    Under a coding other than the paper's, beta2 is converted (``beta2 + beta3 * shift``).
    """
    from payreform.itsa import coding_origin

    t0 = int(_time()[1].argmax()) + 1
    shift = coding_origin(coding, t0) - coding_origin(CODING, t0)
    rows = []
    for (group, outcome), b in PUBLISHED.items():
        if group == "overall":
            continue
        values = {t: b[t][0] for t in ("beta1", "beta2", "beta3")}
        values["beta2"] += values["beta3"] * shift
        values["post_slope"] = values["beta1"] + values["beta3"]
        values["level_change_at_intervention"] = values["beta2"] + values["beta3"] * (t0 - coding_origin(coding, t0))
        rows += [{"group": group, "outcome": outcome, "term": t, "value": v} for t, v in values.items()]
    return pd.DataFrame(rows)


def published(coding: str = CODING) -> pd.DataFrame:
    """Table 4 as printed: estimate, standard error, p-value, and the implied 95% interval.

    The interval is ``estimate +/- 1.96 SE`` (the paper prints only the SE). For another coding
    beta2 is converted and its SE and interval left empty.
    """
    from payreform.itsa import coding_origin

    t0 = int(_time()[1].argmax()) + 1
    shift = coding_origin(coding, t0) - coding_origin(CODING, t0)
    rows = []
    for (group, outcome), b in PUBLISHED.items():
        for term, (estimate, se, p) in b.items():
            row = {"group": group, "outcome": outcome, "term": term, "estimate": estimate, "std_error": se,
                   "p_value": p, "ci_low": estimate - 1.96 * se, "ci_high": estimate + 1.96 * se}
            if term == "beta2" and shift:
                row.update(estimate=estimate + b["beta3"][0] * shift, std_error=np.nan, p_value=np.nan,
                           ci_low=np.nan, ci_high=np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def implied_truth(coding: str = CODING) -> pd.DataFrame:
    """Coefficients of the noise-free generated series: what the analysis should recover.

    The noise-free series (Table 4's line, corrected to the annual totals) is divided by its
    planted seasonal factors, logged (ln(Y + 1)) and fitted over January 2016 - November 2019.
    For the overall series the two institution types are added first. Compare with
    :func:`truth` (Table 4's planted line) to see how far the paper's totals pull the trends.
    """
    from payreform.itsa import segmented_regression

    frame = with_overall(generate(noise_scale=0.0))
    periods = pd.PeriodIndex(frame[TIME_COLUMN].unique(), freq="M")
    rows = []
    for group in (*GROUPS, "overall"):
        part = frame[frame[GROUP_COLUMN] == group]
        for outcome in OUTCOMES:
            deseasonalised = (part[outcome].to_numpy() + 1.0) / seasonal_factors(periods, outcome)
            series = pd.Series(np.log(deseasonalised), index=periods, name=outcome)
            result = segmented_regression(series, intervention=INTERVENTION, coding=coding, hac_lags=None)
            table = result.table().set_index("term")["estimate"].to_dict()
            table["level_change_at_intervention"] = result.level_change_at_intervention().estimate
            rows += [{"group": group, "outcome": outcome, "term": t, "value": v} for t, v in table.items()]
    return pd.DataFrame(rows)
