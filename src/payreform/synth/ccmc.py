"""Synthetic county panel for the CCMC bundled-payment DID (the CCMC study, Tables 1-3).

The county data behind the paper (528 pilot counties of the CCMC monitoring system, 2018-2022)
are confidential. This generator plants the published event-study coefficients as the truth:

    Y_it = level + mu_i + year_t + did_t * treat_i + theta'(X_it - X_i,2018) + e_it,

with ``did_2020 = 0`` (2020, the adoption year, is the paper's reference for the interactions)
and ``year_2018 = 0``. What the paper leaves open, and our choices:

* Treated share: not published; 40% (211 of 528 counties), assigned at random (our choice).
* Levels in 2018 and county effects ``mu_i``: not published; typical county values chosen by us
  (:data:`BASELINE_LEVEL`, :data:`COUNTY_SD`).
* Coefficients reported only as "n.s.", "negative" or not reported: small values chosen by us,
  marked in :data:`TRUTH` comments; the satisfaction year effects for 2020 and 2021 ("rising")
  are interpolated.
* Controls: realistic levels for Chinese counties (:data:`CONTROL_LEVELS`); treated counties
  are less dense (log density 0.35 lower, so that the 2018 t test has p < 0.05 as in Table 1);
  the other controls have the same distribution in both groups. Controls change from year to
  year (county-specific trends plus county-year fluctuations), so the fixed-effects model can
  estimate their effects; they enter relative to the county's own 2018 value (the rest is part
  of the county effect). Effects (:data:`CONTROL_EFFECTS`): density lowers the cost per
  discharge and the share aged 65+ lowers the reimbursement rate (both p < 0.01 in the paper);
  every effect the paper calls non-significant is planted as 0.
* Units: the paper does not state the unit of the two income outcomes (its text calls their
  coefficients percentage growth); we generate income in 10,000 yuan per staff member a year
  and plant the printed coefficients as absolute changes. Satisfaction is a 0-100 score.
* Errors: county-specific AR(1) over the five years (rho = 0.4, :data:`AR_COEFFICIENT`), so
  the errors of one county are correlated and standard errors must be clustered by county.
  Their scale (:data:`NOISE_SD`) is set so that the clustered standard errors give the
  significance levels the paper reports (e.g. did2022 = 17.576 significant at 5% but not 1%
  for the outpatient cost; year2021 = 0.347 at p < 0.1 for county-hospital income). This
  implies noisy county series; values are kept inside their natural range (costs and incomes
  > 0, rates and scores <= 100) by clipping, which touches under 0.5% of rows.

* Baseline balance: the treated-control gap of every outcome starts at zero in 2018
  (:data:`BALANCED_BASELINE`), so that, as in Table 1, only population density differs in 2018.
  The paper's Table 1 also reports treated means above control means for the incomes in 2022;
  with a balanced 2018, its own did2018 = 2.294 and a non-significant did2022 imply the
  opposite (the gap in 2022 is about did2022 - did2018 < 0), so both cannot be reproduced.

``generate(staggered=True)`` instead lets counties adopt in 2019, 2020 or 2021 (20% each; 40%
never), with effects that grow with time since adoption and differ strongly between cohorts
(four times the base effect for 2019 adopters, a quarter of it for 2021 adopters;
:data:`STAGGERED_EFFECT`, :data:`COHORT_SCALE`) and parallel trends that hold. The two-way
fixed-effects event study is then biased (a spurious pre-trend of several standard errors and
an understated long-run effect, visible exactly on the noise-free panel) while Callaway and
Sant'Anna's estimator is not; these choices are ours, made to show the problem clearly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from payreform.errors import ParameterError

SOURCE = ("Bundled medical-insurance payment in Close-Knit County Medical Communities: a "
          "difference-in-differences study of 528 pilot counties, 2018-2022 (author list and journal "
          "not given in the text used by this handbook; book/references.bib ccmc_bundled), Tables 1-3")

YEARS = (2018, 2019, 2020, 2021, 2022)
YEAR_BASE = 2018
DID_BASE = 2020
N_COUNTIES = 528
TREATED_SHARE = 0.40
"""Share of treated counties: not published (the paper gives 528 counties only); our choice."""

UNIT = "county_id"
TIME = "year"
TREATED = "treated"
FIRST_TREATED = "first_treated"

OUTCOMES = (
    "cost_per_discharge",
    "outpatient_cost_per_visit",
    "inpatient_reimbursement_rate",
    "income_county_hospital_staff",
    "income_primary_care_staff",
    "patient_satisfaction",
    "provider_satisfaction",
)
OUTCOME_LABELS = {
    "cost_per_discharge": "Average cost per discharged patient (yuan)",
    "outpatient_cost_per_visit": "Average outpatient cost per visit (yuan)",
    "inpatient_reimbursement_rate": "Actual inpatient reimbursement rate (%)",
    "income_county_hospital_staff": "Per-capita income of county-hospital staff (10,000 yuan)",
    "income_primary_care_staff": "Per-capita income of primary-care staff (10,000 yuan)",
    "patient_satisfaction": "Patient satisfaction in the county (score 0-100)",
    "provider_satisfaction": "Provider satisfaction in the medical community (score 0-100)",
}
DOMAINS = {
    "patients' financial burden": OUTCOMES[:3],
    "providers' income": OUTCOMES[3:5],
    "satisfaction": OUTCOMES[5:],
}
INCOME_OUTCOMES = ("income_county_hospital_staff", "income_primary_care_staff")
"""The outcomes whose pre-period terms are significant in the paper (parallel trends fail)."""

CONTROLS = (
    "log_population",
    "log_gdp_per_capita",
    "population_density",
    "insurance_fund_per_capita",
    "share_aged_65_plus",
)
CONTROL_LABELS = {
    "log_population": "ln(average permanent population)",
    "log_gdp_per_capita": "ln(GDP per capita, yuan)",
    "population_density": "Population density (persons per km2)",
    "insurance_fund_per_capita": "Medical-insurance fund per capita (yuan)",
    "share_aged_65_plus": "Share of population aged 65+ (%)",
}

# The paper's Tables 2 and 3 and Results text: year and did coefficients. Values the paper does
# not print are our choices and are commented. year2018 and did2020 are 0 by construction.
TRUTH = {
    "cost_per_discharge": {  # Table 2: year effects not reported ("annual growth" in the text)
        "year2019": 300.0, "year2020": 520.0, "year2021": 760.0, "year2022": 940.0,  # our choice
        "did2018": 30.0, "did2019": -20.0,  # n.s. in the paper: small values, our choice
        "did2021": -50.0, "did2022": -70.0,  # "negative, n.s.": our choice
    },
    "outpatient_cost_per_visit": {  # Table 2
        "year2019": 12.189, "year2020": 23.796, "year2021": 30.156,
        "year2022": 36.5,  # not reported: our extrapolation
        "did2018": 1.5, "did2019": -1.0,  # n.s.: our choice
        "did2021": 9.0,  # not reported: our choice
        "did2022": 17.576,
    },
    "inpatient_reimbursement_rate": {  # Table 2
        "year2019": 0.4, "year2020": 0.6, "year2021": 0.8,  # n.s.: our choice
        "year2022": 2.537,
        "did2018": 0.3, "did2019": -0.2,  # n.s.: our choice
        "did2021": 2.184,
        "did2022": 0.9,  # n.s.: our choice
    },
    "income_county_hospital_staff": {  # Table 3
        "year2019": 0.168, "year2020": 2.458, "year2021": 0.347, "year2022": 2.435,
        "did2018": 2.294, "did2019": 2.170, "did2021": 2.134,
        "did2022": 0.25,  # n.s.: our choice
    },
    "income_primary_care_staff": {  # Table 3
        "year2019": 0.099, "year2020": 0.655, "year2021": -1.195, "year2022": 0.698,
        "did2018": 0.406, "did2019": 0.402, "did2021": 2.109,
        "did2022": 0.05,  # n.s.: our choice
    },
    "patient_satisfaction": {  # Table 3
        "year2019": 2.723, "year2020": 7.4, "year2021": 12.1,  # "rising": our interpolation
        "year2022": 16.762,
        "did2018": 0.3, "did2019": -0.2,  # n.s.: our choice
        "did2021": -0.5,  # "negative", n.s.: our choice
        "did2022": -0.8,  # "negative (p < 0.1)": our choice
    },
    "provider_satisfaction": {  # Table 3
        "year2019": 3.787, "year2020": 8.1, "year2021": 12.4,  # "rising": our interpolation
        "year2022": 16.644,
        "did2018": 0.2, "did2019": -0.3, "did2021": 0.4, "did2022": -0.4,  # n.s.: our choice
    },
}

# How the paper reports each coefficient (Tables 2-3, Results text): "**" p < 0.01, "*" p < 0.05,
# "p<0.1", "n.s." not significant, "n/r" not reported.
PUBLISHED = {
    "cost_per_discharge": {
        "year2019": "n/r", "year2020": "n/r", "year2021": "n/r", "year2022": "n/r",
        "did2018": "n.s.", "did2019": "n.s.", "did2021": "n.s. (negative)", "did2022": "n.s. (negative)",
    },
    "outpatient_cost_per_visit": {
        "year2019": "**", "year2020": "**", "year2021": "**", "year2022": "n/r",
        "did2018": "n.s.", "did2019": "n.s.", "did2021": "n/r", "did2022": "*",
    },
    "inpatient_reimbursement_rate": {
        "year2019": "n.s.", "year2020": "n.s.", "year2021": "n.s.", "year2022": "**",
        "did2018": "n.s.", "did2019": "n.s.", "did2021": "*", "did2022": "n.s.",
    },
    "income_county_hospital_staff": {
        "year2019": "n.s.", "year2020": "**", "year2021": "p<0.1", "year2022": "**",
        "did2018": "**", "did2019": "**", "did2021": "**", "did2022": "n.s.",
    },
    "income_primary_care_staff": {
        "year2019": "**", "year2020": "**", "year2021": "**", "year2022": "**",
        "did2018": "**", "did2019": "**", "did2021": "**", "did2022": "n.s.",
    },
    "patient_satisfaction": {
        "year2019": "**", "year2020": "n/r", "year2021": "n/r", "year2022": "**",
        "did2018": "n.s.", "did2019": "n.s.", "did2021": "n.s. (negative)", "did2022": "p<0.1 (negative)",
    },
    "provider_satisfaction": {
        "year2019": "**", "year2020": "n/r", "year2021": "n/r", "year2022": "**",
        "did2018": "n.s.", "did2019": "n.s.", "did2021": "n.s.", "did2022": "n.s.",
    },
}
PUBLISHED_VALUES = {  # the coefficients printed in the paper (everything else is not printed)
    ("outpatient_cost_per_visit", "year2019"): 12.189, ("outpatient_cost_per_visit", "year2020"): 23.796,
    ("outpatient_cost_per_visit", "year2021"): 30.156, ("outpatient_cost_per_visit", "did2022"): 17.576,
    ("inpatient_reimbursement_rate", "year2022"): 2.537, ("inpatient_reimbursement_rate", "did2021"): 2.184,
    ("income_county_hospital_staff", "year2019"): 0.168, ("income_county_hospital_staff", "year2020"): 2.458,
    ("income_county_hospital_staff", "year2021"): 0.347, ("income_county_hospital_staff", "year2022"): 2.435,
    ("income_county_hospital_staff", "did2018"): 2.294, ("income_county_hospital_staff", "did2019"): 2.170,
    ("income_county_hospital_staff", "did2021"): 2.134,
    ("income_primary_care_staff", "year2019"): 0.099, ("income_primary_care_staff", "year2020"): 0.655,
    ("income_primary_care_staff", "year2021"): -1.195, ("income_primary_care_staff", "year2022"): 0.698,
    ("income_primary_care_staff", "did2018"): 0.406, ("income_primary_care_staff", "did2019"): 0.402,
    ("income_primary_care_staff", "did2021"): 2.109,
    ("patient_satisfaction", "year2019"): 2.723, ("patient_satisfaction", "year2022"): 16.762,
    ("provider_satisfaction", "year2019"): 3.787, ("provider_satisfaction", "year2022"): 16.644,
}

# Effects of the controls (outcome units per control unit). The paper prints signs and
# significance only: density lowers the cost per discharge (p < 0.01); a larger share aged 65+
# lowers the reimbursement rate (p < 0.01); the others are not significant and are planted as 0.
# The two magnitudes are our choice (large enough to be significant with the within-county
# variation of the controls below).
CONTROL_EFFECTS = {
    ("cost_per_discharge", "population_density"): -6.0,  # yuan per person/km2
    ("inpatient_reimbursement_rate", "share_aged_65_plus"): -2.0,  # points per point
}

# 2018 levels of the outcomes (control-group means) and the standard deviation of the county
# effects: not published; typical county values, our choice.
BASELINE_LEVEL = {
    "cost_per_discharge": 6_800.0,
    "outpatient_cost_per_visit": 250.0,
    "inpatient_reimbursement_rate": 56.0,
    "income_county_hospital_staff": 12.0,
    "income_primary_care_staff": 6.5,
    "patient_satisfaction": 70.0,
    "provider_satisfaction": 66.0,
}
COUNTY_SD = {
    "cost_per_discharge": 1_500.0,
    "outpatient_cost_per_visit": 30.0,
    "inpatient_reimbursement_rate": 6.0,
    "income_county_hospital_staff": 2.0,
    "income_primary_care_staff": 1.2,
    "patient_satisfaction": 2.5,
    "provider_satisfaction": 2.5,
}

AR_COEFFICIENT = 0.4
"""AR(1) coefficient of each county's errors over the years (assumed)."""

# Standard deviation of the errors (stationary AR(1)), set so that with 211 treated and 317
# control counties the clustered standard errors reproduce the significance levels of Tables
# 2-3 at their median over seeds (anchors: outpatient did2022 * but not **; reimbursement
# did2021 *; county-hospital income year2021 p < 0.1; primary-care income year2019 **; patient
# satisfaction did2022 p < 0.1; cost per discharge did2021-2022 n.s.). One anchor pair cannot
# both be met: reimbursement year2022 (** in the paper) has median t = 2.4 when did2021 has
# t = 2.5 (the controls' trends inflate the year SEs). bench/did_coverage.py prints the median
# clustered SEs and implied t values.
NOISE_SD = {
    "cost_per_discharge": 450.0,
    "outpatient_cost_per_visit": 62.0,
    "inpatient_reimbursement_rate": 9.0,
    "income_county_hospital_staff": 1.9,
    "income_primary_care_staff": 0.48,
    "patient_satisfaction": 3.8,
    "provider_satisfaction": 3.8,
}
VALUE_RANGE = {  # natural range of each outcome, enforced by clipping
    "cost_per_discharge": (1.0, np.inf),
    "outpatient_cost_per_visit": (1.0, np.inf),
    "inpatient_reimbursement_rate": (0.0, 100.0),
    "income_county_hospital_staff": (0.1, np.inf),
    "income_primary_care_staff": (0.1, np.inf),
    "patient_satisfaction": (0.0, 100.0),
    "provider_satisfaction": (0.0, 100.0),
}

# Controls: 2018 mean and between-county SD (on the log scale for the log controls and density),
# the average change per year, the between-county SD of that change (counties grow at different
# rates, which keeps the controls from being collinear with the year dummies) and the SD of
# county-year fluctuations. Levels are typical of Chinese pilot counties around 2018 (our
# choice; the paper does not print Table 1's values in its text).
CONTROL_LEVELS = {
    # ln(persons): about 480,000 residents; -0.3% a year
    "log_population": {"mean": 13.08, "sd": 0.55, "trend": -0.003, "trend_sd": 0.006, "noise": 0.006},
    # ln(yuan): about 48,000 yuan; growth 6.5%, 2.5%, 8.0%, 4.0% in 2019-2022
    "log_gdp_per_capita": {"mean": 10.78, "sd": 0.40, "trend": (0.065, 0.025, 0.080, 0.040),
                           "trend_sd": 0.06, "noise": 0.04},
    # ln(persons/km2): median 245 in control counties; -0.4% a year; 4% fluctuations
    "population_density": {"mean": 5.5, "sd": 0.8, "trend": -0.004, "trend_sd": 0.015, "noise": 0.04},
    # ln(yuan per insured resident): about 750 yuan, +7% a year
    "insurance_fund_per_capita": {"mean": 750.0, "sd": 150.0, "trend": 0.07, "trend_sd": 0.08, "noise": 0.05},
    # percent: 12.5%, +0.45 points a year, 0.5-point fluctuations in the annual estimate
    "share_aged_65_plus": {"mean": 12.5, "sd": 2.5, "trend": 0.45, "trend_sd": 0.4, "noise": 0.5},
}
BALANCED_BASELINE = True
"""Start the treated-control gap of every outcome at zero in 2018 (Table 1: in 2018 only
population density differs). The planted ``did_t`` are changes of the gap relative to 2020, so
with a balanced 2018 a positive did2018 means the treated units fell behind by 2020: the gap
was ``did2018`` larger in 2018 than in 2020. County effects absorb any constant gap, so this
choice changes levels only, never the event-study estimates."""

DENSITY_GAP = -0.35
"""ln(density) of treated minus control counties (our choice: lower density with p < 0.05 in
2018, as in Table 1, which gives the sign and significance only)."""

# Staggered adoption (generate(staggered=True)): cohort shares (our choice) and effects. The
# effect of cohort g at e = year - g >= 0 years after adoption is
# STAGGERED_EFFECT[outcome] * COHORT_SCALE[g] * (e + 1); 0 before adoption.
COHORT_SHARE = {2019: 0.20, 2020: 0.20, 2021: 0.20}
COHORT_SCALE = {2019: 4.0, 2020: 1.0, 2021: 0.25}
STAGGERED_OUTCOME = "outpatient_cost_per_visit"
"""The outcome whose staggered comparison the book shows (the largest TWFE bias relative to its
standard error among the seven)."""
STAGGERED_EFFECT = {
    "cost_per_discharge": -120.0,
    "outpatient_cost_per_visit": 15.0,
    "inpatient_reimbursement_rate": 2.0,
    "income_county_hospital_staff": 0.5,
    "income_primary_care_staff": 0.15,
    "patient_satisfaction": -0.6,  # negative, as the paper's did2021-2022 (keeps scores below 100)
    "provider_satisfaction": 0.3,
}

DEFAULT_SEED = 20200101


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"parameter 'seed' is {seed!r}; use a whole number >= 0")


def truth(staggered: bool = False) -> pd.DataFrame:
    """Planted coefficients, one row per outcome and term (columns outcome, term, value).

    Common adoption: ``year2019``.. ``year2022``, ``did2018``, ``did2019``, ``did2021``,
    ``did2022`` and the five control effects. Staggered: the event-time effects ``event-4`` ..
    ``event3`` averaged over the cohorts observed at each event time with the cohort sizes as
    weights (the estimand of Callaway and Sant'Anna's dynamic aggregation; 0 before adoption),
    and ``average_post`` (their mean over e >= 0).

    Examples
    --------
    >>> truth().query("outcome == 'income_county_hospital_staff' and term == 'did2018'")["value"].item()
    2.294
    """
    rows = []
    if not staggered:
        for outcome in OUTCOMES:
            for term, value in TRUTH[outcome].items():
                rows.append({"outcome": outcome, "term": term, "value": value})
            for control in CONTROLS:
                rows.append({"outcome": outcome, "term": control,
                             "value": CONTROL_EFFECTS.get((outcome, control), 0.0)})
        return pd.DataFrame(rows)
    group_time = group_time_truth()
    sizes = _cohort_sizes()
    for outcome in OUTCOMES:
        sub = group_time[group_time["outcome"] == outcome]
        post = []
        for e in sorted(sub["event_time"].unique()):
            cells = sub[sub["event_time"] == e]
            weights = np.array([sizes[g] for g in cells["group"]], dtype=float)
            value = float(weights @ cells["att"].to_numpy() / weights.sum())
            rows.append({"outcome": outcome, "term": f"event{int(e)}", "value": value})
            if e >= 0:
                post.append(value)
        rows.append({"outcome": outcome, "term": "average_post", "value": float(np.mean(post))})
    return pd.DataFrame(rows)


def group_time_truth() -> pd.DataFrame:
    """Planted ATT(g, t) of the staggered design: outcome, group, time, event_time, att."""
    rows = []
    for outcome in OUTCOMES:
        for g in COHORT_SHARE:
            for t in YEARS:
                e = t - g
                att = STAGGERED_EFFECT[outcome] * COHORT_SCALE[g] * (e + 1) if e >= 0 else 0.0
                rows.append({"outcome": outcome, "group": g, "time": t, "event_time": e, "att": att})
    return pd.DataFrame(rows)


def published() -> pd.DataFrame:
    """The paper's reporting of each coefficient: outcome, term, estimate (NaN if not printed), significance.

    Examples
    --------
    >>> table = published()
    >>> table.query("outcome == 'outpatient_cost_per_visit' and term == 'did2022'")["estimate"].item()
    17.576
    """
    rows = []
    for outcome in OUTCOMES:
        for term, stars in PUBLISHED[outcome].items():
            rows.append({"outcome": outcome, "term": term,
                         "estimate": PUBLISHED_VALUES.get((outcome, term), np.nan), "significance": stars})
    return pd.DataFrame(rows)


def _cohort_sizes() -> dict[int, int]:
    sizes = {g: int(round(share * N_COUNTIES)) for g, share in COHORT_SHARE.items()}
    sizes[0] = N_COUNTIES - sum(sizes.values())
    return sizes


def _controls(rng: np.random.Generator, treat: np.ndarray) -> dict[str, np.ndarray]:
    """Control values, shape (counties, years)."""
    n, t = len(treat), len(YEARS)
    out = {}
    for name, spec in CONTROL_LEVELS.items():
        base = rng.normal(spec["mean"], spec["sd"], n)
        if name == "population_density":
            base = base + DENSITY_GAP * treat
        trend = spec["trend"]
        steps = np.array(trend) if isinstance(trend, tuple) else np.full(t - 1, trend)
        own = rng.normal(0.0, spec["trend_sd"], n)
        path = np.hstack([np.zeros((n, 1)), np.cumsum(steps[None, :] + own[:, None], axis=1)])
        noise = rng.normal(0.0, spec["noise"], (n, t))
        if name in ("log_population", "log_gdp_per_capita"):
            values = base[:, None] + path + noise
        elif name == "population_density":
            values = np.exp(base[:, None] + path + noise)
        elif name == "insurance_fund_per_capita":
            values = np.clip(base, 200.0, None)[:, None] * np.exp(path + noise)
        else:  # share aged 65+
            values = np.clip(base[:, None] + path + noise, 3.0, 30.0)
        out[name] = values
    return out


def _ar1_errors(rng: np.random.Generator, n: int, t: int, rho: float, sd: float) -> np.ndarray:
    errors = np.empty((n, t))
    errors[:, 0] = rng.normal(0.0, sd, n)
    innovation = sd * np.sqrt(1 - rho**2)
    for j in range(1, t):
        errors[:, j] = rho * errors[:, j - 1] + rng.normal(0.0, innovation, n)
    return errors


def generate(seed: int = DEFAULT_SEED, staggered: bool = False, noise_scale: float = 1.0,
             cohort_scale: dict[int, float] | None = None) -> pd.DataFrame:
    """Generate the county-year panel: 528 counties x 2018-2022.

    Parameters
    ----------
    seed
        Random seed; the same seed gives the same data.
    staggered
        False: 40% of counties adopt in 2020 (column ``treated``, 0/1). True: adoption in 2019,
        2020 or 2021 or never (column ``first_treated``: the year, 0 = never).
    noise_scale
        Multiplies the error standard deviation (1 = calibrated; 0 = no error, so that an
        estimator's probability limit can be seen in one sample).
    cohort_scale
        Staggered design only: the effect multiplier of each adoption cohort (default
        :data:`COHORT_SCALE`); equal values give every cohort the same effect path. The planted
        truth of :func:`truth` uses the default.

    Returns
    -------
    DataFrame
        One row per county and year: ``county_id``, ``year``, ``treated`` or
        ``first_treated``, the five controls (:data:`CONTROLS`) and the seven outcomes
        (:data:`OUTCOMES`).

    Examples
    --------
    >>> df = generate(seed=1)
    >>> df.shape, round(float(df["treated"].mean()), 3)
    ((2640, 15), 0.4)
    """
    _check_seed(seed)
    if isinstance(noise_scale, bool) or not isinstance(noise_scale, (int, float)) or not noise_scale >= 0:
        raise ParameterError(f"parameter 'noise_scale' is {noise_scale!r}; use a number >= 0")
    if not isinstance(staggered, (bool, np.bool_)):
        raise ParameterError(f"parameter 'staggered' is {staggered!r}; use True or False")
    scales = dict(COHORT_SCALE) if cohort_scale is None else {int(g): float(v) for g, v in cohort_scale.items()}
    if set(scales) != set(COHORT_SCALE):
        raise ParameterError(f"parameter 'cohort_scale' must give a number for each of {sorted(COHORT_SCALE)}")
    rng = np.random.default_rng(seed)
    n, t = N_COUNTIES, len(YEARS)
    order = rng.permutation(n)
    cohort = np.zeros(n, dtype=int)
    if staggered:
        start = 0
        for g, size in _cohort_sizes().items():
            if g == 0:
                continue
            cohort[order[start:start + size]] = g
            start += size
        treat = (cohort > 0).astype(float)
    else:
        treat = np.zeros(n)
        treat[order[: int(round(TREATED_SHARE * n))]] = 1.0
    controls = _controls(rng, treat)
    years = np.array(YEARS)
    data = {UNIT: np.repeat(np.arange(1, n + 1), t), TIME: np.tile(years, n)}
    if staggered:
        data[FIRST_TREATED] = np.repeat(cohort, t)
    else:
        data[TREATED] = np.repeat(treat.astype(int), t)
    for name in CONTROLS:
        data[name] = controls[name].ravel()
    for outcome in OUTCOMES:
        coefs = TRUTH[outcome]
        year_effect = np.array([coefs.get(f"year{y}", 0.0) for y in YEARS])
        mean = BASELINE_LEVEL[outcome] + rng.normal(0.0, COUNTY_SD[outcome], n)[:, None] + year_effect[None, :]
        if staggered:
            event = years[None, :] - cohort[:, None]
            scale = np.array([scales.get(g, 0.0) for g in cohort])[:, None]
            mean = mean + np.where((cohort[:, None] > 0) & (event >= 0),
                                   STAGGERED_EFFECT[outcome] * scale * (event + 1), 0.0)
        else:
            did_effect = np.array([coefs.get(f"did{y}", 0.0) for y in YEARS])
            # the did terms fix only how the gap changes; it starts at zero in the first year, so
            # that 2018 is balanced as in Table 1 (a constant gap would be absorbed by mu_i anyway)
            did_effect = did_effect - did_effect[0] * BALANCED_BASELINE
            mean = mean + treat[:, None] * did_effect[None, :]
        for control in CONTROLS:
            effect = CONTROL_EFFECTS.get((outcome, control), 0.0)
            if effect:
                # relative to the county's own 2018 value: theta * X_i2018 is part of the county
                # effect, which keeps the levels of the outcome realistic
                mean = mean + effect * (controls[control] - controls[control][:, [0]])
        values = mean + _ar1_errors(rng, n, t, AR_COEFFICIENT, NOISE_SD[outcome] * noise_scale)
        low, high = VALUE_RANGE[outcome]
        data[outcome] = np.clip(values, low, high).ravel()
    frame = pd.DataFrame(data)
    for name in CONTROLS:
        frame[name] = frame[name].round(4)
    for outcome in OUTCOMES:
        frame[outcome] = frame[outcome].round(3)
    return frame


def published_text() -> pd.DataFrame:
    """:func:`published` as one display string per term, e.g. ``"17.576 *"`` or ``"n.s."``."""
    table = published()
    text = [f"{e:,.3f} {s}".strip() if not np.isnan(e) else s
            for e, s in zip(table["estimate"], table["significance"], strict=True)]
    return table[["outcome", "term"]].assign(paper=text)
