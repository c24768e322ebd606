"""Synthetic monthly data for Sanming city (Lin, Liu, Xiang and Luo, Table 4; Tables 1 and 3).

The real monthly reports of Sanming's public hospitals and community health service
institutions are not public. This generator produces, for each institution type, monthly
medical expenditure (10,000 CNY), outpatient volume and inpatient volume from January 2016 to
December 2019, such that

* the planted line, on the ln(Y + 1) scale with the paper's coding (``time_times_post``:
  ``XT = T * X``), ``T = 1`` in January 2016 and the reform from October 2017 (``T0 = 22``),
  has Table 4's beta1..beta3 for that institution type;
* the noise-free series adds up, in every calendar year, to the annual totals of Tables 1 and 3,
  and a noisy series does so on average (the noise is multiplicative with mean one).

These two requirements conflict. A log-linear path with Table 4's slopes does not pass through
Table 1 and 3's yearly totals: the totals imply slower growth before the reform and, for
expenditure, faster growth after it (see :func:`totals_consistency`). The generator keeps Table
4's line as the planted path and multiplies it by a smooth correction, piecewise linear in the
log through one level per calendar year placed at mid-year, solved so that the noise-free
series adds up to every published total. The correction is not invisible to the regression:
the coefficients of the noise-free corrected series (the "truth the data carry", computed by
:func:`payreform.chapters.sanming_itsa.implied_truth`) differ from Table 4's, and the chapter
shows both, because the gap measures how far the paper's two sets of published numbers
disagree.

The noise is drawn *after* the correction and added to it, so it keeps its autocorrelation:
an AR(1) process on the log scale with coefficient :data:`AR_COEFFICIENT`, whose slow swings
a 47-month regression cannot tell from a change in trend. (Forcing each noisy series to the
yearly totals would remove those swings and make the Newey-West intervals look conservative.)

Assumptions (ours, not the paper's): the baseline level beta0 (solved from the totals), the
monthly seasonal pattern, the AR(1) coefficient, and the noise scales :data:`NOISE_SD`
(calibrated by ``bench/calibrate_sanming.py`` so that the median Newey-West standard errors
are about Table 4's). December 2019 is generated so that 2019 adds up to the full-year total,
and then left out of the analysis, as in the paper (the monthly series ends in November 2019).

The "overall" series is the sum of the two institution types, not a third draw.

This module imports no estimator: the fitted "truth the data carry" is computed by the
chapter runner from :func:`generate` with ``noise_scale=0``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

from payreform import published as published_tables
from payreform.errors import ParameterError, check_choice
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
TERMS = ("beta1", "beta2", "beta3")
OUTCOME_LABELS = {
    "medical_expenditure": "Medical expenditure (10,000 CNY)",
    "outpatient_volume": "Outpatient volume",
    "inpatient_volume": "Inpatient volume",
}
GROUP_LABELS = {"hospital": "Hospitals", "community": "Community health service institutions",
                "overall": "Overall"}
YEARS = (2016, 2017, 2018, 2019)

TABLE4 = "sanming_table4_itsa"
"""Published table (``data/published/``) holding Table 4: coefficient, standard error, P as printed."""


def _load_table4() -> dict[tuple[str, str], dict[str, tuple[float, float, float]]]:
    table = published_tables.load(TABLE4)
    values: dict[tuple[str, str], dict[str, tuple[float, float, float]]] = {}
    for row in table.itertuples():
        values.setdefault((row.group, row.outcome), {})[row.term] = (float(row.estimate), float(row.std_error),
                                                                     float(row.p_value))
    return values


def _load_totals() -> dict[tuple[str, str], tuple[float, ...]]:
    table1 = published_tables.load("sanming_table1_expenditure").set_index("year").loc[list(YEARS)]
    table3 = published_tables.load("sanming_table3_services").set_index("year").loc[list(YEARS)]
    columns = {("medical_expenditure", g): (table1, f"{g}_expenditure_10k") for g in GROUPS}
    columns |= {("outpatient_volume", g): (table3, f"{g}_outpatient") for g in GROUPS}
    columns |= {("inpatient_volume", g): (table3, f"{g}_inpatient") for g in GROUPS}
    return {(g, o): tuple(float(v) for v in table[column]) for (o, g), (table, column) in columns.items()}


PUBLISHED = _load_table4()
"""Table 4 as printed: (group, outcome) -> term -> (coefficient, standard error, P)."""

ANNUAL_TOTALS = _load_totals()
"""Tables 1 (expenditure, 10,000 CNY) and 3 (volumes, persons), 2016-2019, per institution type."""

AR_COEFFICIENT = 0.5
"""AR(1) coefficient of the errors on the log scale (assumed)."""

# Standard deviation of the AR(1) innovations on the log scale, calibrated by
# bench/calibrate_sanming.py (200 seeds): the median Newey-West (lag 3) standard errors of
# beta1..beta3, relative to Table 4's, balance the largest and smallest ratio of each series.
# The relative sizes of the three standard errors are fixed by the design, and the published
# ones (rounded to 0.001) do not always follow it, so not every ratio can be brought near 1.
NOISE_SD = {
    ("hospital", "medical_expenditure"): 0.0427,
    ("hospital", "outpatient_volume"): 0.0308,
    ("hospital", "inpatient_volume"): 0.0254,
    ("community", "medical_expenditure"): 0.0681,
    ("community", "outpatient_volume"): 0.1410,
    ("community", "inpatient_volume"): 0.0908,
}

# Calendar-month pattern (Jan..Dec), mean 1 (assumed): Spring Festival dip in February, a
# winter peak, quieter early autumn. Expenditure follows volumes at two-thirds the amplitude.
MONTH_PATTERN = np.array([1.02, 0.86, 1.03, 1.00, 1.01, 1.00, 1.03, 1.03, 0.99, 0.98, 1.01, 1.04])
MONTH_PATTERN = MONTH_PATTERN / MONTH_PATTERN.mean()
EXPENDITURE_AMPLITUDE = 2 / 3

DEFAULT_SEED = 20171002

_ORIGINS = {"zero_at_intervention": 0, "one_at_intervention": 1, "time_times_post": None}


def _time(n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    time = np.arange(1, n + 1, dtype=float)
    t0 = pd.Period(INTERVENTION, "M").ordinal - pd.Period(START, "M").ordinal + 1
    return time, (time >= t0).astype(float)


def intervention_index() -> int:
    """``T0``: the value of ``T`` in October 2017 (22).

    Examples
    --------
    >>> intervention_index()
    22
    """
    return int(_time()[1].argmax()) + 1


def _origin(coding: str) -> int:
    """The ``c`` in ``XT = (T - c) X`` for a coding (see :func:`payreform.itsa.coding_origin`)."""
    check_choice("coding", coding, tuple(_ORIGINS))
    shift = _ORIGINS[coding]
    return 0 if shift is None else intervention_index() - shift


def correction_path(year_levels: np.ndarray) -> np.ndarray:
    """48-month log correction through ``year_levels`` placed at mid-year, linear in between.

    Flat before mid-2016 and after mid-2019.

    Examples
    --------
    >>> correction_path(np.array([0.0, 0.12, 0.12, 0.12]))[[0, 6, 12, 18, 47]].round(3).tolist()
    [0.0, 0.005, 0.065, 0.12, 0.12]
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


def _match_totals(log_path: np.ndarray, season: np.ndarray, totals: tuple) -> np.ndarray:
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


def planted_log_path(group: str, outcome: str) -> np.ndarray:
    """The noise-free ln level of ``(group, outcome)``, January 2016 - December 2019 (48 months).

    Table 4's line (beta1..beta3 in the paper's coding) times the smooth correction that makes
    the calendar-year sums, with the planted season, equal the published totals.
    """
    if (group, outcome) not in ANNUAL_TOTALS:
        raise ParameterError(f"no planted series for group '{group}' and outcome '{outcome}'; "
                             f"groups are {', '.join(GROUPS)}, outcomes {', '.join(OUTCOMES)}")
    time, post = _time(48)
    b = PUBLISHED[(group, outcome)]
    line = b["beta1"][0] * time + b["beta2"][0] * post + b["beta3"][0] * time * post
    periods = pd.period_range(START, GENERATED_END, freq="M")
    # the series is exp(level) x season - 1, so the (Y + 1) sums are the totals plus one per month
    totals = tuple(np.asarray(ANNUAL_TOTALS[(group, outcome)]) + 12.0)
    return _match_totals(line, seasonal_factors(periods, outcome), totals)


def generate(seed: int = DEFAULT_SEED, noise_scale: float = 1.0, include_december_2019: bool = False) -> pd.DataFrame:
    """Monthly series per institution type, in long format (one row per month and institution).

    Parameters
    ----------
    seed
        Random seed; the same seed gives the same data.
    noise_scale
        Multiplies the noise (0 = the noise-free planted path, which adds up to the totals).
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
            sd = NOISE_SD[(group, outcome)] * noise_scale
            noise = ar1_noise(rng, len(periods), AR_COEFFICIENT, sd)
            mean_one = noise - 0.5 * sd**2 / (1 - AR_COEFFICIENT**2)  # E[exp(noise)] = 1
            level = planted_log_path(group, outcome) + mean_one
            values = np.exp(level) * seasonal_factors(periods, outcome) - 1.0
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


def published_totals(include_overall: bool = False) -> pd.DataFrame:
    """Tables 1 and 3 annual totals in the same long layout as :func:`annual_sums`.

    Examples
    --------
    >>> published_totals().query("year == 2016 and outcome == 'inpatient_volume'")["published"].tolist()
    [312957.0, 100116.0]
    """
    totals = dict(ANNUAL_TOTALS)
    if include_overall:
        for outcome in OUTCOMES:
            totals[("overall", outcome)] = tuple(np.add(*(ANNUAL_TOTALS[(g, outcome)] for g in GROUPS)))
    rows = [{GROUP_COLUMN: g, "year": y, "outcome": o, "published": float(v)}
            for (g, o), values in totals.items() for y, v in zip(YEARS, values, strict=True)]
    return pd.DataFrame(rows)


def truth(coding: str = CODING) -> pd.DataFrame:
    """The planted line (Table 4's coefficients, institution types only), in the given coding.

    ``beta0`` is not listed: it is solved from the annual totals. Under a coding other than the
    paper's, beta2 is converted (``beta2 + beta3 * shift``). This is the line the generator
    starts from; the truth the generated data carry is bent by the totals (see the module
    docstring).

    Examples
    --------
    >>> planted = truth("zero_at_intervention").set_index(["group", "outcome", "term"])["value"]
    >>> round(float(planted["community", "inpatient_volume", "beta2"]), 3)
    -0.242
    """
    t0 = intervention_index()
    shift = _origin(coding) - _origin(CODING)
    rows = []
    for (group, outcome), b in PUBLISHED.items():
        if group == "overall":
            continue
        values = {t: b[t][0] for t in TERMS}
        values["beta2"] += values["beta3"] * shift
        values["post_slope"] = values["beta1"] + values["beta3"]
        values["level_change_at_intervention"] = values["beta2"] + values["beta3"] * (t0 - _origin(coding))
        rows += [{"group": group, "outcome": outcome, "term": t, "value": v} for t, v in values.items()]
    return pd.DataFrame(rows)


def published(coding: str = CODING) -> pd.DataFrame:
    """Table 4 as printed: estimate, standard error, p-value, and the implied 95% interval.

    The interval is ``estimate +/- 1.96 SE`` (the paper prints only the SE). For another coding
    beta2 is converted and its SE and interval left empty (the paper does not print the
    covariance the conversion needs).
    """
    shift = _origin(coding) - _origin(CODING)
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


def totals_line(group: str, outcome: str) -> dict[str, float]:
    """The segmented line (paper's coding) whose calendar-year sums equal the published totals.

    Four yearly totals fix the four coefficients of ``ln(Y + 1) = b0 + b1 T + b2 X + b3 T X``
    exactly (the planted season included; 2019 is a full year). This is what Tables 1 and 3
    say about the trends if the monthly series were a straight segmented line; compare with
    Table 4's coefficients (:func:`totals_consistency`).

    Examples
    --------
    >>> line = totals_line("community", "medical_expenditure")
    >>> line["beta3"] > 0 > PUBLISHED[("community", "medical_expenditure")]["beta3"][0]
    True
    """
    totals = published_totals(include_overall=True)
    part = totals[(totals[GROUP_COLUMN] == group) & (totals["outcome"] == outcome)].sort_values("year")
    if part.empty:
        raise ParameterError(f"no published totals for group '{group}' and outcome '{outcome}'")
    target = np.log(part["published"].to_numpy() + 12.0)  # the line is ln(Y + 1): sums of Y + 1
    time, post = _time(48)
    design = np.column_stack([np.ones_like(time), time, post, time * post])
    season = seasonal_factors(pd.period_range(START, GENERATED_END, freq="M"), outcome)

    def residual(beta: np.ndarray) -> np.ndarray:
        return np.log((np.exp(design @ beta) * season).reshape(4, 12).sum(axis=1)) - target

    start = np.array([target[0] - np.log(12.0), 0.0, 0.0, 0.0])
    solution = optimize.root(residual, start, method="hybr", options={"xtol": 1e-14})
    if np.max(np.abs(residual(solution.x))) > 1e-9:  # pragma: no cover - a smooth 4 x 4 system
        raise RuntimeError(f"could not solve the line through the totals: {solution.message}")
    return dict(zip(("beta0", "beta1", "beta2", "beta3"), map(float, solution.x), strict=True))


def totals_consistency() -> pd.DataFrame:
    """Do Table 4's slopes agree with Tables 1 and 3's yearly totals? One row per series and slope.

    Columns: group, outcome, term (beta1, beta3), table4 (coefficient), table4_se,
    from_totals (:func:`totals_line`), gap_in_se = (from_totals - table4) / table4_se.
    A gap of 2 or more standard errors means the two tables are hard to reconcile with a
    straight segmented line and noise of the size Table 4's standard errors imply.

    Examples
    --------
    >>> table = totals_consistency()
    >>> len(table), sorted(set(table["term"]))
    (18, ['beta1', 'beta3'])
    """
    rows = []
    for (group, outcome), b in PUBLISHED.items():
        line = totals_line(group, outcome)
        for term in ("beta1", "beta3"):
            estimate, se, _ = b[term]
            rows.append({"group": group, "outcome": outcome, "term": term, "table4": estimate, "table4_se": se,
                         "from_totals": line[term], "gap_in_se": (line[term] - estimate) / se})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- the budget chapter's county

BUDGET_FIRST_YEAR = 2018
"""First year of the illustrative county (the first full year under IMPM, Zhong et al. 2023)."""
BUDGET_YEARS = 6
BUDGET_POPULATION = 362_000
"""Youxi's resident population in 2018 (Zhong et al. 2023, Table 2: 36.2 x 10,000)."""
BUDGET_FIRST_YEAR_SPENDING = 300.0
"""Insured spending of the coalition in the first year, million RMB (assumed)."""
BUDGET_SPENDING_GROWTH = 0.08
"""Yearly growth of spending without any saving effort (assumed)."""
BUDGET_PREMIUM = 900.0
"""Per-capita premium in the first year, RMB (assumed)."""
BUDGET_PREMIUM_GROWTH = 0.07
"""Yearly growth of the per-capita premium (assumed)."""
BUDGET_SPENDING_UNIT = 1e6
"""The county's spending column is in million RMB."""


def budget_county(first_year: int = BUDGET_FIRST_YEAR, years: int = BUDGET_YEARS,
                  first_year_spending: float = BUDGET_FIRST_YEAR_SPENDING,
                  spending_growth: float = BUDGET_SPENDING_GROWTH, population: float = BUDGET_POPULATION,
                  premium_per_person: float = BUDGET_PREMIUM, premium_growth: float = BUDGET_PREMIUM_GROWTH
                  ) -> pd.DataFrame:
    """The illustrative county of the budget chapter: one row per year.

    Columns ``year``, ``spending`` (million RMB, growing at ``spending_growth``), ``population``
    (constant) and ``premium`` (RMB per person, growing at ``premium_growth``). The county is
    Youxi-sized; the amounts are assumptions, not published figures.

    Examples
    --------
    >>> budget_county(years=2)["spending"].round(1).tolist()
    [300.0, 324.0]
    """
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years < 2:
        raise ParameterError(f"parameter 'years' is {years!r}; the county needs at least 2 years")
    for name, value in (("first_year_spending", first_year_spending), ("population", population),
                        ("premium_per_person", premium_per_person)):
        if not value > 0:
            raise ParameterError(f"parameter '{name}' is {value!r}; use a number > 0")
    for name, value in (("spending_growth", spending_growth), ("premium_growth", premium_growth)):
        if not value > -1:
            raise ParameterError(f"parameter '{name}' is {value!r}; a growth rate must exceed -1")
    step = np.arange(years)
    return pd.DataFrame({"year": int(first_year) + step,
                         "spending": first_year_spending * (1 + spending_growth) ** step,
                         "population": float(population),
                         "premium": premium_per_person * (1 + premium_growth) ** step})
