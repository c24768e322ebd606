"""Synthetic monthly data for the Youxi county-hospital ITSA (Zhong et al. 2023, Table 3).

The real monthly series of Youxi's county hospitals are not public. This generator plants the
published segmented-regression coefficients as the truth:

* Period: February 2016 (``T = 1``) to November 2019 (``T = 46``); IMPM from October 2017
  (``T0 = 21``). Coding as in the paper: ``XT`` counts October 2017 as 1
  (``one_at_intervention``), so ``beta2`` is the paper's level change (SPEC §12).
* ``beta1``, ``beta2``, ``beta3``: Table 3 point estimates.
* ``beta0``: not published. Chosen by us (see :data:`BASELINE_LEVEL`).
* Seasonality: multiplicative; a calendar-month pattern with a Spring Festival dip in February
  (assumed by us). The real festival moves between late January and mid-February; pass
  ``spring_festival="moving"`` to put the dip in the month that holds it and see what a
  fixed-month seasonal index then misses.
* Noise: AR(1) errors (``rho = 0.7``, assumed) with a scale calibrated so that the Newey-West
  95% intervals have about the widths printed in Table 3 (``bench/calibrate_youxi.py``).

Observed value = (beta0 + beta1*T + beta2*X + beta3*XT + AR(1) error) x seasonal factor;
counts are rounded to whole numbers and costs to 0.01 RMB.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from payreform.errors import ParameterError
from payreform.synth import ar1_noise

SOURCE = ("Zhong Z, Yao Q, Chen S, et al. China Promotes Sanming's Model: A National Template for "
          "Integrated Medicare Payment Methods. Int J Integr Care 2023;23(2):15, Table 3")

START = "2016-02"
END = "2019-11"
INTERVENTION = "2017-10"
CODING = "one_at_intervention"
TIME_COLUMN = "month"

OUTCOMES = (
    "outpatient_emergency_visits",
    "hospitalizations",
    "cost_per_outpatient_visit",
    "cost_per_hospitalization",
)
OUTCOME_LABELS = {
    "outpatient_emergency_visits": "Outpatient and emergency visits",
    "hospitalizations": "Hospitalizations",
    "cost_per_outpatient_visit": "Cost per outpatient/emergency visit (RMB)",
    "cost_per_hospitalization": "Cost per hospitalization (RMB)",
}
COUNT_OUTCOMES = ("outpatient_emergency_visits", "hospitalizations")

# Zhong et al. 2023, Table 3: estimate, 95% CI low, 95% CI high, p-value.
PUBLISHED = {
    "outpatient_emergency_visits": {
        "beta1": (578.3, 462.5, 694.1, 0.000),
        "beta2": (-2470.3, -4572.9, -367.7, 0.022),
        "beta3": (-459.9, -596.5, -323.3, 0.000),
    },
    "hospitalizations": {
        "beta1": (17.9, 11.7, 24.2, 0.000),
        "beta2": (-286.0, -406.8, -165.1, 0.000),
        "beta3": (-18.1, -26.8, -9.4, 0.000),
    },
    "cost_per_outpatient_visit": {
        "beta1": (-0.9, -1.3, -0.4, 0.000),
        "beta2": (15.9, 4.3, 27.5, 0.008),
        "beta3": (2.0, 1.1, 2.9, 0.000),
    },
    "cost_per_hospitalization": {
        "beta1": (6.4, -10.6, 23.4, 0.451),
        "beta2": (100.1, -168.1, 368.7, 0.456),
        "beta3": (18.7, -2.5, 39.9, 0.083),
    },
}

# beta0 is not published; our choices:
# - visits: the 2016 monthly mean equals the hospitals' share of Youxi's healthcare outpatient
#   visits in Table 4 (134.2 x 10k x 49.2% / 12 = 55,022), i.e. beta0 = 55,022 - 578.3 x 6;
#   this treats the two counts as the same, which the paper does not state.
# - hospitalizations: about 45% of the county's admissions implied by Table 4's 17.0%
#   hospitalization rate and Table 2's 358,000 residents (60,860 a year).
# - costs: typical 2016 county-hospital levels in China (our assumption).
BASELINE_LEVEL = {
    "outpatient_emergency_visits": 51_552.0,
    "hospitalizations": 2_200.0,
    "cost_per_outpatient_visit": 165.0,
    "cost_per_hospitalization": 5_200.0,
}

AR_COEFFICIENT = 0.7
"""AR(1) coefficient of the errors (assumed; strong enough for Breusch-Godfrey to detect)."""

# Innovation standard deviation of the AR(1) errors, calibrated by bench/calibrate_youxi.py so
# that the median Newey-West (lag 3) 95% interval widths over 200 seeds match Table 3 on
# average over beta1..beta3 (each coefficient's median width is within 0.83-1.32 of Table 3).
NOISE_SD = {
    "outpatient_emergency_visits": 1_323.0,
    "hospitalizations": 70.2,
    "cost_per_outpatient_visit": 6.47,
    "cost_per_hospitalization": 187.4,
}

# Calendar-month pattern (Jan..Dec) for volumes, mean 1 (assumed): a winter respiratory peak,
# a summer rise, quieter autumn. Costs get a third of the amplitude.
MONTH_PATTERN = np.array([1.03, 0.97, 1.02, 1.00, 0.99, 1.00, 1.03, 1.03, 0.98, 0.97, 0.99, 0.99])
SPRING_FESTIVAL = {2016: "2016-02", 2017: "2017-01", 2018: "2018-02", 2019: "2019-02", 2020: "2020-01",
                   2021: "2021-02", 2022: "2022-02", 2023: "2023-01"}
SPRING_FESTIVAL_DIP = 0.88
COST_AMPLITUDE = 1 / 3

DEFAULT_SEED = 20171001

# The teaching case of a second interruption (our assumptions, not the paper's: its series end in
# November 2019). With pandemic=True the series run to December 2023 and the COVID-19 shock
# starts in February 2020: volumes drop at once (visits by about 39%, admissions by about 31% of
# their January 2020 level) and recover over the following years; the patients who still come
# are sicker, so costs per visit and per admission jump up and drift back. The shock enters the
# same linear model as the reform, as a second level change and slope change in the paper's
# coding, so that a model with two interruptions can recover it exactly.
PANDEMIC = "2020-02"
PANDEMIC_END = "2023-12"
PANDEMIC_SHOCK = {  # (level change, slope change per month)
    "outpatient_emergency_visits": (-25_000.0, 700.0),
    "hospitalizations": (-700.0, 20.0),
    "cost_per_outpatient_visit": (12.0, -0.3),
    "cost_per_hospitalization": (300.0, -8.0),
}


def _beta2_shift(coding: str) -> float:
    """``origin(coding) - origin(paper's coding)``: beta2[coding] = beta2[paper] + beta3 * shift."""
    from payreform.itsa import coding_origin

    t0 = pd.Period(INTERVENTION, "M").ordinal - pd.Period(START, "M").ordinal + 1
    return float(coding_origin(coding, t0) - coding_origin(CODING, t0))


def truth(coding: str = CODING) -> pd.DataFrame:
    """Planted coefficients, one row per outcome and term, in the given coding.

    The truth is planted in the paper's coding (``one_at_intervention``); for another coding
    ``beta2`` is converted (``beta0``, ``beta1``, ``beta3`` do not depend on the coding).

    Examples
    --------
    >>> truth().query("outcome == 'hospitalizations' and term == 'beta3'")["value"].item()
    -18.1
    >>> round(truth("zero_at_intervention").query(
    ...     "outcome == 'hospitalizations' and term == 'beta2'")["value"].item(), 1)
    -304.1
    """
    shift = _beta2_shift(coding)
    rows = []
    for outcome in OUTCOMES:
        b = {t: PUBLISHED[outcome][t][0] for t in ("beta1", "beta2", "beta3")}
        b["beta2"] = b["beta2"] + b["beta3"] * shift
        rows.append({"outcome": outcome, "term": "beta0", "value": BASELINE_LEVEL[outcome]})
        rows += [{"outcome": outcome, "term": t, "value": v} for t, v in b.items()]
        rows.append({"outcome": outcome, "term": "post_slope", "value": b["beta1"] + b["beta3"]})
    return pd.DataFrame(rows)


def published(coding: str = CODING) -> pd.DataFrame:
    """Table 3 as published: estimate, 95% interval and p-value per outcome and term.

    For a coding other than the paper's, ``beta2`` is converted and its interval and p-value,
    which cannot be converted without the covariance, are left empty.
    """
    shift = _beta2_shift(coding)
    rows = []
    for o in OUTCOMES:
        for t, v in PUBLISHED[o].items():
            row = {"outcome": o, "term": t, "estimate": v[0], "ci_low": v[1], "ci_high": v[2],
                   "p_value": v[3]}
            if t == "beta2" and shift != 0:
                row.update(estimate=v[0] + PUBLISHED[o]["beta3"][0] * shift, ci_low=np.nan,
                           ci_high=np.nan, p_value=np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def seasonal_factors(periods: pd.PeriodIndex, spring_festival: str = "february") -> pd.DataFrame:
    """Multiplicative seasonal factor of each outcome in each month (the planted truth).

    ``spring_festival="february"`` puts the festival dip in every February; ``"moving"`` in the
    month that holds the festival each year (January 2017, February otherwise).
    """
    if spring_festival not in ("february", "moving"):
        raise ParameterError(
            f"parameter 'spring_festival' is {spring_festival!r}; use 'february' or 'moving'")
    volume = MONTH_PATTERN[periods.month - 1].copy()
    if spring_festival == "moving":
        festival = np.array([SPRING_FESTIVAL.get(p.year) == str(p) for p in periods])
    else:
        festival = np.asarray(periods.month == 2)
    volume = volume * np.where(festival, SPRING_FESTIVAL_DIP, 1.0)
    cost = 1 + COST_AMPLITUDE * (volume - 1)
    return pd.DataFrame({o: (volume if o in COUNT_OUTCOMES else cost) for o in OUTCOMES},
                        index=periods)


def pandemic_truth(coding: str = CODING) -> pd.DataFrame:
    """Planted coefficients of the two-interruption model (reform, then the pandemic shock).

    Terms ``beta0``, ``beta1``, ``beta2_1``, ``beta3_1`` (the reform, as in :func:`truth`) and
    ``beta2_2``, ``beta3_2`` (the shock), in the given coding.

    Examples
    --------
    >>> pandemic_truth().query("outcome == 'hospitalizations' and term == 'beta2_2'")["value"].item()
    -700.0
    """
    from payreform.itsa import coding_origin

    periods = pd.period_range(START, PANDEMIC_END, freq="M")
    t_shock = periods.get_loc(pd.Period(PANDEMIC, "M")) + 1
    shift = float(coding_origin(coding, t_shock) - coding_origin(CODING, t_shock))
    rows = []
    for row in truth(coding).itertuples():
        if row.term == "post_slope":
            continue
        term = {"beta2": "beta2_1", "beta3": "beta3_1"}.get(row.term, row.term)
        rows.append({"outcome": row.outcome, "term": term, "value": row.value})
    for outcome, (level, slope) in PANDEMIC_SHOCK.items():
        rows += [{"outcome": outcome, "term": "beta2_2", "value": level + slope * shift},
                 {"outcome": outcome, "term": "beta3_2", "value": slope}]
    return pd.DataFrame(rows)


def generate(seed: int = DEFAULT_SEED, noise_scale: float = 1.0,
             spring_festival: str = "february", pandemic: bool = False) -> pd.DataFrame:
    """Generate the four monthly county-hospital series, February 2016 - November 2019.

    Parameters
    ----------
    seed
        Random seed; the same seed gives the same data.
    noise_scale
        Multiplies the noise standard deviation (1 = calibrated to Table 3; 0 = no noise).
    spring_festival
        ``"february"`` (default) or ``"moving"``; see :func:`seasonal_factors`.
    pandemic
        Extend the series to December 2023 with the COVID-19 shock of February 2020 (a teaching
        case of a second interruption; see :data:`PANDEMIC_SHOCK` and :func:`pandemic_truth`).

    Returns
    -------
    DataFrame
        Columns ``month`` (``YYYY-MM`` text, as in an analyst's CSV) and the four outcomes.

    Examples
    --------
    >>> df = generate(seed=1)
    >>> df.shape
    (46, 5)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"parameter 'seed' is {seed!r}; use a whole number >= 0")
    if not noise_scale >= 0:
        raise ParameterError(f"parameter 'noise_scale' is {noise_scale!r}; use a number >= 0")
    periods = pd.period_range(START, PANDEMIC_END if pandemic else END, freq="M")
    n = len(periods)
    time = np.arange(1, n + 1, dtype=float)
    t0 = periods.get_loc(pd.Period(INTERVENTION, "M")) + 1
    post = (time >= t0).astype(float)
    since = (time - t0 + 1) * post
    shock_post = np.zeros(n)
    shock_since = np.zeros(n)
    if pandemic:
        t1 = periods.get_loc(pd.Period(PANDEMIC, "M")) + 1
        shock_post = (time >= t1).astype(float)
        shock_since = (time - t1 + 1) * shock_post
    rng = np.random.default_rng(seed)
    season = seasonal_factors(periods, spring_festival)
    data = {TIME_COLUMN: periods.astype(str)}
    for outcome in OUTCOMES:
        b = PUBLISHED[outcome]
        mean = BASELINE_LEVEL[outcome] + b["beta1"][0] * time + b["beta2"][0] * post + b["beta3"][0] * since
        if pandemic:
            level, slope = PANDEMIC_SHOCK[outcome]
            mean = mean + level * shock_post + slope * shock_since
        noise = ar1_noise(rng, n, AR_COEFFICIENT, NOISE_SD[outcome] * noise_scale)
        values = (mean + noise) * season[outcome].to_numpy()
        data[outcome] = np.round(values) if outcome in COUNT_OUTCOMES else np.round(values, 2)
    return pd.DataFrame(data)


def monthly_population() -> pd.DataFrame:
    """Youxi's resident population by month, interpolated linearly from Table 2's year values.

    Table 2 gives 35.8, 36.1, 36.2 and 36.3 (10,000 persons) for 2016-2019; we place each at
    the middle of its year (our assumption) and interpolate (extrapolating flat at the ends).
    """
    from payreform.published import load

    table = load("youxi_table2_socioeconomic")
    row = table.loc[table["indicator"] == "resident_population_10k"].iloc[0]
    years = [2016, 2017, 2018, 2019]
    anchor = np.array([pd.Period(f"{y}-06", "M").ordinal + 0.5 for y in years])
    values = np.array([float(row[str(y)]) * 10_000 for y in years])
    periods = pd.period_range(START, END, freq="M")
    population = np.interp(periods.asi8.astype(float), anchor, values)
    return pd.DataFrame({TIME_COLUMN: periods.astype(str), "population": np.round(population)})


def annual_trend_tests() -> pd.DataFrame:
    """The published chi-square tests for trend with the percentages they were computed on.

    Real published data (Tables 4 and 5 and the Results text of Zhong et al. 2023): one row per
    test with ``indicator``, ``years``, ``percentages`` (a tuple, one per year) and
    ``published_chi2``.
    """
    from payreform.published import load

    tests = load("youxi_trend_tests")
    table4 = load("youxi_table4_services")
    table5 = load("youxi_table5_health_management")
    rows = []
    for test in tests.itertuples():
        if test.table == 4:
            values = table4[test.column_or_row].to_numpy(dtype=float)
        else:
            condition, indicator = test.column_or_row.split("/")
            row = table5[(table5["condition"] == condition) & (table5["indicator"] == indicator)].iloc[0]
            values = row[["2017", "2018", "2019"]].to_numpy(dtype=float)
        rows.append({"indicator": test.indicator, "years": test.years,
                     "percentages": tuple(float(v) for v in values), "published_chi2": float(test.chi2_trend)})
    return pd.DataFrame(rows)
