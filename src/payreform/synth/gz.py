"""Synthetic person-year outpatient settlement records for the GZ capitation chapter.

The real settlement records of GZ (about 9 million insured persons a year) are confidential.
This generator builds a city whose published aggregates are those of the paper (Sun J, He Q,
Liu K, Du W, Xu W, "Risk-adjusted capitation payment for outpatient services in China's
healthcare insurance: a case study of an affluent city in southern China"; seed paper 004):

* persons per age band and per-capita fund expenditure per band in 2024: Tables 3 (UEBHI) and 4
  (URRBHI), exactly in expectation (and the persons exactly at ``scale=1``);
* single-disease patients and their per-capita expenditure in 2024: Tables 5 and 6;
* the share of persons without a Class A OCSD: 83.86% (UEBHI), 89.62% (URRBHI) (section 4.2.2);
* the payment-standard regressions of Tables 7 and 8 as the *true* standards of 2023 and 2024:
  the population OLS of fund expenditure on the paper's cells (its published age and disease
  groupings) has exactly these coefficients in expectation;
* total 2024 fund expenditure 11.121 bn RMB (UEBHI) and 0.690 bn (URRBHI), which Tables 3-4
  imply to the yuan;
* R² of 0.24 for the payment model and about 0.18-0.20 for the screening regression, inside
  the range 0.18-0.24 of the paper's Table 2;
* length of stay without effect in UEBHI (the paper: p = 0.917) and with a small effect in URRBHI.

How the pieces fit (all assumptions are constants below, each with its reason):

1. *Composition.* Each scheme-year is a set of cells (gender, age band, disease state,
   inpatient status), disease state being none, one of the 21 diseases alone, two diseases, or
   three or more. Band sizes are the published ones. Each disease's single-disease patients
   (Tables 5-6) are spread over the bands by an age profile (chronic, young-onset or
   childhood; :data:`DISEASE_PROFILE`); multi-morbid patients make up the rest of the
   published OCSD share, older on average; female shares by age and for a few diseases are
   assumptions. Previous-year hospitalisation is an age profile times a level per age
   category, times a factor per disease state, plus a term per single-disease group: the
   levels and terms solve a linear system so that each age category's and each
   single-disease group's total expenditure is what Tables 3-6 imply (a group whose rate
   would leave :data:`INPATIENT_RATE_BOUNDS` keeps the bound; see :func:`calibration_check`).
2. *Cell means.* A cell's mean is the published model's standard (Tables 7-8, with the paper's
   groupings) plus a deviation that reproduces the per-band and per-disease means of Tables
   3-6. The deviations are the smallest relative to the standard (minimum sum of
   ``persons * deviation² / standard``) that do so while staying orthogonal to the model's
   regressors, so that the model's population OLS is exactly Tables 7-8. 2023 uses the 2024
   composition (persons times :data:`POPULATION_2023_FACTOR`) and the deviations scaled by the
   ratio of the intercepts.
3. *Individual expenditures.* Zero with probability ``ZERO_SHARE * exp(-mean / ZERO_SCALE)``,
   otherwise lognormal with the cell's mean and a variance ``A + B * mean²`` (many small, a
   few very large); ``A`` is set so that the payment model's R² is the target. Length of stay:
   1 + negative binomial days for those hospitalised, 0 otherwise. Ages are uniform within a
   band (:data:`OLDEST_AGE_DECAY` for 101+).
4. *Whole persons.* At a given ``scale`` each band gets its rounded expected persons; the cells
   within a band get the floor or the ceiling of theirs (systematic rounding with a random
   start, so rare cells are not lost at small scales).

Real data are richer (panels, more years, more diseases); the years here are drawn
independently (person identifiers do not link persons across years).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from payreform import published as _published
from payreform.contracts.person_years import COLUMNS
from payreform.errors import ParameterError
from payreform.synth.gz_figures import (  # noqa: F401 - the paper's figures, re-exported here
    BAND_CV_2024,
    BANDS_2024,
    COEFFICIENTS,
    DISEASE_CV_2024,
    DISEASES,
    DISEASES_2024,
    LOS_P_VALUE_UEBHI,
    PUBLISHED_SAVINGS,
    PUBLISHED_SAVINGS_PCT_05,
    SCREENING_R2,
    _text_figure,
)

SCALABLE = True
"""Marks a person-level study: ``payreform synth gz --scale X`` multiplies the persons."""

SOURCE = ("Sun J, He Q, Liu K, Du W, Xu W. Risk-adjusted capitation payment for outpatient "
          "services in China's healthcare insurance: a case study of an affluent city in southern "
          "China, Tables 2-8 and sections 4.2.2, 5.2 (figures in data/published/gz_*.csv)")

DEFAULT_SEED = 20240101
CHUNK_ROWS = 1_000_000
"""Rows generated (and written) at a time; bounds memory at any scale."""

SCHEMES = ("UEBHI", "URRBHI")
"""The paper's schemes: Urban Employee and Urban-Rural Resident Basic Healthcare Insurance."""

YEARS = (2023, 2024)
"""The paper's base and target years (its section 3.1.1)."""

AGE_BANDS = ("0-5", "6-10", "11-15", "16-25", "26-35", "36-45", "46-55", "56-60", "61-65",
             "66-70", "71-75", "76-80", "81-85", "86-90", "91-95", "96-100", "101+")
"""The paper's age bands (its Figure 1 and Tables 3-4); ``101+`` is open."""

AGE_BAND_LOWER = (0, 6, 11, 16, 26, 36, 46, 56, 61, 66, 71, 76, 81, 86, 91, 96, 101)

# ----------------------------------------------------------------------------- published figures

NO_OCSD_SHARE = {s: _text_figure("no_ocsd_share_pct", s) / 100 for s in SCHEMES}
"""Share of insured patients without a risk-adjusted Class A OCSD (section 4.2.2)."""

_SIMULATION = _published.load("gz_section5_simulation")
ACTUAL_2024 = {r.scheme: float(r.actual_rmb) for r in _SIMULATION.itertuples()
               if r.scheme in SCHEMES}
"""Actual 2024 outpatient fund expenditure, RMB (section 5.2)."""


# ----------------------------------------------------------------------------- assumptions

FEMALE_SHARE = {
    # (age, share) anchors, interpolated by band midpoint. Assumed: close to one half in
    # working ages, rising with age (women live longer); UEBHI slightly male (employment).
    "UEBHI": ((20, 0.47), (55, 0.47), (63, 0.52), (75, 0.55), (90, 0.62), (103, 0.68)),
    "URRBHI": ((3, 0.47), (13, 0.47), (20, 0.52), (55, 0.53), (70, 0.55), (90, 0.62),
               (103, 0.68)),
}
CHRONIC_PROFILE = {
    # Relative prevalence by age of most Class A OCSDs (hypertension, diabetes, CHD, COPD ...)
    # and of multi-morbidity (assumed: chronic disease rises steeply after 50).
    "UEBHI": ((20, 0.02), (30, 0.035), (40, 0.07), (50, 0.15), (58, 0.25), (63, 0.38), (68, 0.5),
              (73, 0.6), (78, 0.66), (83, 0.68), (88, 0.68), (93, 0.65), (98, 0.6), (103, 0.5)),
    "URRBHI": ((3, 0.02), (13, 0.02), (20, 0.025), (30, 0.05), (40, 0.09), (50, 0.18),
               (58, 0.3), (63, 0.38), (68, 0.40), (73, 0.43), (78, 0.45), (88, 0.45), (93, 0.43),
               (98, 0.4), (103, 0.35)),
}
YOUNG_PROFILE = ((3, 0.2), (10, 0.5), (20, 1.0), (50, 1.0), (70, 0.8), (103, 0.5))
"""Relative prevalence by age of diseases that start in youth (assumed)."""
CHILDHOOD_PROFILE = ((3, 1.0), (13, 1.0), (30, 0.7), (60, 0.7), (103, 0.5))
"""Relative prevalence by age of epilepsy and asthma, common from childhood (assumed)."""
DISEASE_PROFILE = {"epilepsy": CHILDHOOD_PROFILE, "BA": CHILDHOOD_PROFILE,
                   "AS": YOUNG_PROFILE, "psoriasis": YOUNG_PROFILE, "UC": YOUNG_PROFILE,
                   "CD": YOUNG_PROFILE, "SLE": YOUNG_PROFILE}
"""Age profile of each single-disease patient population; other diseases follow
:data:`CHRONIC_PROFILE` (assumed). A disease's patients are spread over the bands in proportion
to band persons x profile, so that its total is the published one."""

DISEASE_FEMALE_SHARE = {"AS": 0.25, "psoriasis": 0.45, "SLE": 0.90, "RA": 0.75,
                        "hypothyroidism": 0.80}
"""Female share of single-disease patients of these diseases (assumed from their known sex
ratios); other diseases have the female share of their age band."""

INPATIENT_RATE_BOUNDS = (0.02, 0.90)
"""Hospitalisation rates are kept within these bounds; a single-disease group whose published
mean would need a rate outside them gets the bound, and its diseases' means then differ a little
from Tables 5-6 (UEBHI group 4 and URRBHI group 1: see :func:`calibration_check`)."""

MULTI_SHARE = ((10, 0.10), (40, 0.15), (55, 0.25), (65, 0.35), (75, 0.45), (85, 0.50))
"""Relative share of patients with two or more OCSDs by age, times :data:`CHRONIC_PROFILE`,
scaled so that all OCSD patients are ``1 - NO_OCSD_SHARE`` of persons (assumed)."""

TWO_DISEASE_SHARE = 0.65
"""Among patients with two or more OCSDs, the share with exactly two (assumed)."""

THREE_PLUS_COUNTS = {3: 0.70, 4: 0.22, 5: 0.08}
"""Number of diseases of patients with three or more (assumed)."""

INPATIENT_AGE_SLOPE = 1 / 100
"""Hospitalisation in the previous year rises with age: rate proportional to
``0.7 + age * INPATIENT_AGE_SLOPE`` within an age category (assumed)."""

INPATIENT_STATE_FACTOR = {"none": 1.0, "single": 1.5, "two": 2.0, "three": 2.5}
"""Relative hospitalisation rate by disease state (assumed); single-disease groups then get an
additive term solved from Tables 5-6."""

POPULATION_2023_FACTOR = 0.98
"""2023 persons per cell relative to 2024 (assumed: slightly fewer users in 2023)."""

LOS_MEAN_DAYS = 8.5
LOS_DISPERSION = 2.0
"""Length of stay of those hospitalised: 1 + negative binomial (mean 7.5, size 2) days (assumed)."""

LOS_EFFECT = {"UEBHI": 0.0, "URRBHI": 1.5}
"""RMB of outpatient expenditure per day of stay above the mean stay (UEBHI none, as the
paper's p = 0.917; URRBHI a small effect, assumed). Centred, so the standards are unchanged."""

R2_TARGET = {("UEBHI", 2023): 0.24, ("UEBHI", 2024): 0.24,
             ("URRBHI", 2023): 0.24, ("URRBHI", 2024): 0.24}
"""R² of the payment model in the synthetic population (assumed). The paper prints R² between
0.18 and 0.24 for its regressions (Table 2, the screening models); its final model's R² is not
published. With 0.24 for the payment model, the screening regression (linear in age) has an R²
of about 0.20 (UEBHI) and 0.18 (URRBHI), so every regression lies in the published range."""

VARIANCE_CV2 = 0.05
"""``B`` of the within-cell variance ``A + B * mean²``; ``A`` is solved from :data:`R2_TARGET`.
With B = 0.05 the spread of expenditure is nearly the same in every cell (a high coefficient of
variation among cheap cells, a low one among chronic patients), which reproduces the *pattern*
of Tables 7-8's standard errors: they are all about 0.5 times the published ones. The published
standard errors would need about four times this residual variance, which R² = 0.24 does not
allow with the published coefficients (see :func:`calibration_check`)."""

ZERO_SHARE, ZERO_SCALE = 0.35, 800.0
"""Zero fund expenditure (all below the deductible) with probability
``ZERO_SHARE * exp(-mean / ZERO_SCALE)`` (assumed)."""

OLDEST_AGE_DECAY = 0.3
"""Ages in the open band 101+: 101 + a geometric number of years (p = 0.3), at most 120."""


# ----------------------------------------------------------------------------- calibration


def _published_groups(scheme: str) -> tuple[dict[str, int], dict[str, int]]:
    bands = {b: v[2] for b, v in BANDS_2024[scheme].items()}
    diseases = {d: v[2] for d, v in DISEASES_2024[scheme].items()}
    return bands, diseases


def published_groupings() -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """The paper's age categories (Tables 3-4) and single-disease groups (Tables 5-6).

    Returns ``(age_groups, disease_groups)``, each ``{scheme: {item: group}}``, ready for
    :func:`payreform.capitation.payment_standards`.

    Examples
    --------
    >>> ages, diseases = published_groupings()
    >>> ages["UEBHI"]["26-35"], diseases["URRBHI"]["AS"]
    (1, 5)
    """
    ages, diseases = {}, {}
    for scheme in SCHEMES:
        ages[scheme], diseases[scheme] = _published_groups(scheme)
    return ages, diseases


def _states(scheme: str) -> list[tuple[str, int]]:
    """Disease states: ("none", 0), (disease, group) for singles, ("two", k+1), ("three", k+2)."""
    k = max(v[2] for v in DISEASES_2024[scheme].values())
    singles = [(d, DISEASES_2024[scheme][d][2]) for d in DISEASES]
    return [("none", 0), *singles, ("two", k + 1), ("three", k + 2)]


def _band_midpoints(bands: list[str]) -> np.ndarray:
    lower = dict(zip(AGE_BANDS, AGE_BAND_LOWER, strict=True))
    upper = {b: (AGE_BAND_LOWER[i + 1] - 1 if i + 1 < len(AGE_BANDS) else 105)
             for i, b in enumerate(AGE_BANDS)}
    return np.array([(lower[b] + upper[b]) / 2 for b in bands])


def _interp(anchors, ages: np.ndarray) -> np.ndarray:
    x, y = zip(*anchors, strict=True)
    return np.interp(ages, x, y)


def _standard(scheme: str, year: int, gender: np.ndarray, age_group: np.ndarray,
              ocsd_group: np.ndarray, inpatient: np.ndarray) -> np.ndarray:
    c = {t: v[year][0] for t, v in COEFFICIENTS[scheme].items()}
    value = np.full(len(gender), c["intercept"])
    for g in (1, 2):
        for a in (1, 2, 3):
            if (g, a) != (1, 1):
                value = value + np.where((gender == g) & (age_group == a),
                                         c[f"gender_age_{g}_{a}"], 0.0)
    for o in range(1, max(ocsd_group) + 1):
        value = value + np.where(ocsd_group == o, c[f"ocsd_{o}"], 0.0)
    return value + np.where(inpatient == 1, c["inpatient_1"], 0.0)


def _design(scheme: str, gender, age_group, ocsd_group, inpatient) -> np.ndarray:
    n_ocsd = max(s[1] for s in _states(scheme))
    columns = [np.ones(len(gender))]
    for g in (1, 2):
        for a in (1, 2, 3):
            if (g, a) != (1, 1):
                columns.append(((gender == g) & (age_group == a)).astype(float))
    columns += [(ocsd_group == o).astype(float) for o in range(1, n_ocsd + 1)]
    columns.append((inpatient == 1).astype(float))
    return np.column_stack(columns)


def _scheme_calibration(scheme: str) -> pd.DataFrame:
    """Expected 2024 persons and mean of every cell of one scheme (see the module docstring)."""
    table = BANDS_2024[scheme]
    bands = [b for b in AGE_BANDS if b in table]
    persons = np.array([table[b][0] for b in bands], dtype=float)
    category = np.array([table[b][2] for b in bands])
    age = _band_midpoints(bands)
    female = _interp(FEMALE_SHARE[scheme], age)
    singles = DISEASES_2024[scheme]
    single_total = sum(v[0] for v in singles.values())
    ocsd_total = (1 - NO_OCSD_SHARE[scheme]) * persons.sum()
    chronic = _interp(CHRONIC_PROFILE[scheme], age)
    single_persons = np.zeros((len(bands), len(DISEASES)))
    for j, disease in enumerate(DISEASES):
        profile = _interp(DISEASE_PROFILE.get(disease, CHRONIC_PROFILE[scheme]), age) * persons
        single_persons[:, j] = singles[disease][0] * profile / profile.sum()
    multi_profile = chronic * _interp(MULTI_SHARE, age) * persons
    multi_persons = (ocsd_total - single_total) * multi_profile / multi_profile.sum()
    if np.any(single_persons.sum(axis=1) + multi_persons >= persons):
        raise RuntimeError("calibration: prevalence above 1")  # pragma: no cover
    states = _states(scheme)
    rows = []
    for i, band in enumerate(bands):
        for gender in (1, 2):
            counts = ([persons[i] - single_persons[i].sum() - multi_persons[i]]
                      + list(single_persons[i])
                      + [multi_persons[i] * TWO_DISEASE_SHARE,
                         multi_persons[i] * (1 - TWO_DISEASE_SHARE)])
            for (state, group), count in zip(states, counts, strict=True):
                kind = ("none" if state == "none" else "two" if state == "two"
                        else "three" if state == "three" else "single")
                share = DISEASE_FEMALE_SHARE.get(state, female[i])
                share = share if gender == 2 else 1 - share
                if state == "none":  # keeps the band's female share
                    female_singles = sum(single_persons[i, j] * DISEASE_FEMALE_SHARE.get(
                        d, female[i]) for j, d in enumerate(DISEASES))
                    female_none = female[i] * persons[i] - female_singles - female[i] * (
                        multi_persons[i])
                    share = female_none / count if gender == 2 else 1 - female_none / count
                rows.append({"band": band, "band_index": i, "category": category[i],
                             "age_mid": age[i], "gender": gender, "state": state,
                             "ocsd_group": group, "kind": kind, "persons_state": count * share})
    cells = pd.DataFrame(rows)
    # hospitalisation rate = h[category] * (0.7 + age/100) * factor[kind] + eta[group] (singles)
    profile = ((0.7 + cells["age_mid"] * INPATIENT_AGE_SLOPE)
               * cells["kind"].map(INPATIENT_STATE_FACTOR)).to_numpy()
    k = max(singles[d][2] for d in DISEASES)
    n_state = cells["persons_state"].to_numpy()
    coef = {t: v[2024][0] for t, v in COEFFICIENTS[scheme].items()}
    no_stay = _standard(scheme, 2024, cells["gender"].to_numpy(), cells["category"].to_numpy(),
                        cells["ocsd_group"].to_numpy(), np.zeros(len(cells)))
    # unknowns: h1, h2, h3, eta_1..eta_k; equations: category totals, single-group totals
    matrix = np.zeros((3 + k, 3 + k))
    rhs = np.zeros(3 + k)
    single = (cells["kind"] == "single").to_numpy()
    for a in (1, 2, 3):
        member = (cells["category"] == a).to_numpy()
        target = sum(table[b][0] * table[b][1] for b in bands if table[b][2] == a)
        rhs[a - 1] = target - np.sum(n_state[member] * no_stay[member])
        for c in (1, 2, 3):
            matrix[a - 1, c - 1] = coef["inpatient_1"] * np.sum(
                (n_state * profile)[member & (cells["category"] == c).to_numpy()])
        for g in range(1, k + 1):
            matrix[a - 1, 2 + g] = coef["inpatient_1"] * np.sum(
                n_state[member & single & (cells["ocsd_group"] == g).to_numpy()])
    for g in range(1, k + 1):
        member = single & (cells["ocsd_group"] == g).to_numpy()
        target = sum(v[0] * v[1] for v in singles.values() if v[2] == g)
        rhs[2 + g] = target - np.sum(n_state[member] * no_stay[member])
        for c in (1, 2, 3):
            matrix[2 + g, c - 1] = coef["inpatient_1"] * np.sum(
                (n_state * profile)[member & (cells["category"] == c).to_numpy()])
        matrix[2 + g, 2 + g] = coef["inpatient_1"] * np.sum(n_state[member])
    low, high = INPATIENT_RATE_BOUNDS
    fixed: dict[int, float] = {}
    for _ in range(k + 1):  # active set: groups whose rate hits a bound keep the bound
        free = [i for i in range(3 + k) if i - 2 not in fixed]
        reduced_rhs = rhs - sum(matrix[:, 2 + g] * value for g, value in fixed.items())
        solution = np.zeros(3 + k)
        solution[free] = np.linalg.solve(matrix[np.ix_(free, free)], reduced_rhs[free])
        for g, value in fixed.items():
            solution[2 + g] = value
        level = solution[cells["category"].to_numpy() - 1]
        changed = False
        for g in range(1, k + 1):
            member = single & (cells["ocsd_group"] == g).to_numpy()
            rates = level[member] * profile[member] + solution[2 + g]
            if g not in fixed and (rates.min() < low or rates.max() > high):
                fixed[g] = (low - (level[member] * profile[member]).min() if rates.min() < low
                            else high - (level[member] * profile[member]).max())
                changed = True
        if not changed:
            break
    eta = np.where(single, solution[2 + np.clip(cells["ocsd_group"].to_numpy(), 1, k)], 0.0)
    rate = level * profile + eta
    if np.any(rate < 0.005) or np.any(rate > 0.95):
        raise RuntimeError(f"calibration: hospitalisation rate {rate.min():.3f}-{rate.max():.3f}"
                           f" in {scheme}")  # pragma: no cover
    expanded = []
    for inpatient in (0, 1):
        part = cells.copy()
        part["inpatient"] = inpatient
        part["persons"] = n_state * (rate if inpatient else 1 - rate)
        expanded.append(part)
    cells = pd.concat(expanded, ignore_index=True).drop(columns="persons_state")
    n = cells["persons"].to_numpy()
    gender = cells["gender"].to_numpy()
    groups = (cells["category"].to_numpy(), cells["ocsd_group"].to_numpy(),
              cells["inpatient"].to_numpy())
    model = _standard(scheme, 2024, gender, *groups)
    design = _design(scheme, gender, *groups)
    # deviations r (one per cell), as small as possible relative to the model's cell mean
    # (minimum sum(n * r^2 / model)), such that
    #   X' N r = 0            (the population OLS on the paper's cells stays Tables 7-8),
    #   band totals           = Tables 3-4,
    #   single-disease totals = Tables 5-6 (shifted together within a group whose
    #                           hospitalisation rate hit a bound, see INPATIENT_RATE_BOUNDS)
    band = cells["band"].to_numpy()
    state = cells["state"].to_numpy()
    rows_band = np.array([(band == b).astype(float) for b in bands])
    rows_disease = np.array([(state == d).astype(float) for d in DISEASES])
    band_rhs = np.array([table[b][0] * table[b][1] - np.sum((n * model)[band == b])
                         for b in bands])
    disease_rhs = np.array([singles[d][0] * singles[d][1] - np.sum((n * model)[state == d])
                            for d in DISEASES])
    for g in range(1, k + 1):  # a group's disease totals must add up to its model total
        member = [j for j, d in enumerate(DISEASES) if singles[d][2] == g]
        gap = disease_rhs[member].sum()
        weights = np.array([singles[DISEASES[j]][0] for j in member], dtype=float)
        disease_rhs[member] -= gap * weights / weights.sum()
    indicators = np.vstack([design.T, rows_band, rows_disease])
    rhs_all = np.concatenate([np.zeros(design.shape[1]), band_rhs, disease_rhs])
    gram = (indicators * (n * model)) @ indicators.T
    multipliers = np.linalg.pinv(gram, rcond=1e-11, hermitian=True) @ rhs_all
    deviation = model * (indicators.T @ multipliers)
    cells["model_2024"] = model
    cells["deviation_2024"] = deviation
    cells["mean_2024"] = model + cells["deviation_2024"]
    if np.any(cells["mean_2024"] <= 0.2 * model):
        raise RuntimeError(f"calibration: cell means too low in {scheme}")  # pragma: no cover
    cells.insert(0, "scheme", scheme)
    return cells.drop(columns=["band_index", "kind", "age_mid"])


def calibration() -> pd.DataFrame:
    """Expected persons (scale 1) and mean expenditure of every synthetic cell, both years.

    One row per scheme, year, gender, age band, disease state and inpatient status, with the
    age category and OCSD group of the paper, ``persons``, the model standard (Tables 7-8),
    the deviation, ``mean``, within-cell ``sd`` and ``zero_share``. Deterministic (no seed).

    Examples
    --------
    >>> cells = calibration()
    >>> part = cells.query("scheme == 'UEBHI' and year == 2024")
    >>> round(float((part["persons"] * part["mean"]).sum()) / 1e9, 3)
    11.121
    """
    frames = []
    for scheme in SCHEMES:
        base = _scheme_calibration(scheme)
        for year in YEARS:
            cells = base.copy()
            if year != 2024:
                cells["persons"] = cells["persons"] * POPULATION_2023_FACTOR
            groups = (cells["category"].to_numpy(), cells["ocsd_group"].to_numpy(),
                      cells["inpatient"].to_numpy())
            model = _standard(scheme, year, cells["gender"].to_numpy(), *groups)
            ratio = COEFFICIENTS[scheme]["intercept"][year][0] / \
                COEFFICIENTS[scheme]["intercept"][2024][0]
            cells["model"] = model
            cells["deviation"] = cells["deviation_2024"] * ratio
            cells["mean"] = model + cells["deviation"]
            n = cells["persons"].to_numpy()
            mean = cells["mean"].to_numpy()
            grand = np.sum(n * mean) / n.sum()
            explained = np.sum(n * (model - grand) ** 2) / n.sum()
            deviation = np.sum(n * cells["deviation"].to_numpy() ** 2) / n.sum()
            los = _los_variance(scheme, cells)
            r2 = R2_TARGET[(scheme, year)]
            within = explained / r2 - explained - deviation - los
            a = within - VARIANCE_CV2 * np.sum(n * mean**2) / n.sum()
            if a <= 0:
                raise RuntimeError("calibration: negative variance constant")  # pragma: no cover
            cells["sd"] = np.sqrt(a + VARIANCE_CV2 * mean**2)
            cells["zero_share"] = ZERO_SHARE * np.exp(-mean / ZERO_SCALE)
            cells.insert(1, "year", year)
            frames.append(cells.drop(columns=["model_2024", "deviation_2024", "mean_2024"]))
    return pd.concat(frames, ignore_index=True).rename(columns={"category": "age_group"})


def _los_variance(scheme: str, cells: pd.DataFrame) -> float:
    """Population variance added by the length-of-stay effect."""
    gamma = LOS_EFFECT[scheme]
    if gamma == 0:
        return 0.0
    extra_mean = LOS_MEAN_DAYS - 1
    variance = extra_mean + extra_mean**2 / LOS_DISPERSION
    n = cells["persons"].to_numpy()
    return gamma**2 * variance * np.sum(n * cells["inpatient"].to_numpy()) / n.sum()


# ----------------------------------------------------------------------------- generation


def _check_seed_scale(seed: int, scale: float) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"parameter 'seed' is {seed!r}; use a whole number >= 0")
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.floating, np.integer)) \
            or not 0 < scale <= 10 or not math.isfinite(scale):
        raise ParameterError(
            f"parameter 'scale' is {scale!r}; use a number above 0 and at most 10 (1 = the full "
            "city, about 18 million person-years)")


def _integer_counts(expected: np.ndarray, groups: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """Whole persons per cell: each group (age band) gets its rounded expected total exactly;
    within it, systematic rounding with a random start gives every cell the floor or the
    ceiling of its expected count, unbiased (largest-remainder rounding would starve the many
    cells that expect less than one person at small scales)."""
    counts = np.zeros(len(expected), dtype=np.int64)
    for group in np.unique(groups):
        member = np.flatnonzero(groups == group)
        total = float(expected[member].sum())
        target = int(round(total))
        if target == 0:
            continue
        cumulative = np.cumsum(expected[member]) * (target / total)
        start = rng.random()
        counts[member] = np.diff(np.floor(cumulative + start), prepend=np.floor(start))
    return counts


def _cells(scale: float, seed: int) -> pd.DataFrame:
    """The calibrated cells with whole persons at ``scale`` (age-band totals exact)."""
    cells = calibration()
    cells["count"] = 0
    rng = np.random.default_rng([seed, 2023_2024])
    for _, part in cells.groupby(["scheme", "year"], sort=False):
        expected = part["persons"].to_numpy() * scale
        cells.loc[part.index, "count"] = _integer_counts(expected, part["band"].to_numpy(), rng)
    return cells


def _band_ranges(bands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lower = dict(zip(AGE_BANDS, AGE_BAND_LOWER, strict=True))
    width = {b: (AGE_BAND_LOWER[i + 1] - AGE_BAND_LOWER[i] if i + 1 < len(AGE_BANDS) else 0)
             for i, b in enumerate(AGE_BANDS)}
    return (np.array([lower[b] for b in bands]), np.array([width[b] for b in bands]))


def _multi_strings(masks: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Codes of ';'-joined disease lists (DISEASES order) for bit masks, and the strings."""
    unique, inverse = np.unique(masks, return_inverse=True)
    strings = [";".join(d for j, d in enumerate(DISEASES) if int(m) >> j & 1) for m in unique]
    return inverse, strings


def _chunk(cells: pd.DataFrame, counts: np.ndarray, scheme: str, year: int, first_id: int,
           rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Person rows for ``counts[i]`` persons of each cell ``i`` (arrays by column)."""
    index = np.repeat(np.arange(len(cells)), counts)
    n = len(index)
    take = {c: cells[c].to_numpy()[index] for c in ("gender", "band", "state", "inpatient",
                                                     "mean", "sd", "zero_share")}
    low, width = _band_ranges(take["band"])
    oldest = width == 0
    age = low + np.floor(rng.random(n) * np.maximum(width, 1)).astype(np.int64)
    age[oldest] = 101 + np.minimum(rng.geometric(OLDEST_AGE_DECAY, int(oldest.sum())) - 1, 19)
    # diseases: none -> code 0, single d -> 1 + d, multi -> 1 + 21 + position in `extra`
    state = take["state"]
    code = np.zeros(n, dtype=np.int64)
    for j, disease in enumerate(DISEASES):
        code[state == disease] = 1 + j
    prevalence = np.array([DISEASES_2024[scheme][d][0] for d in DISEASES], dtype=float)
    multi = np.flatnonzero((state == "two") | (state == "three"))
    strings = ["", *DISEASES]
    if multi.size:
        how_many = np.where(state[multi] == "two", 2, rng.choice(
            list(THREE_PLUS_COUNTS), size=multi.size, p=list(THREE_PLUS_COUNTS.values())))
        keys = np.log(prevalence)[None, :] - np.log(-np.log(rng.random((multi.size,
                                                                       len(DISEASES)))))
        order = np.argsort(-keys, axis=1)
        chosen = np.arange(len(DISEASES))[None, :] < how_many[:, None]
        bits = np.zeros(multi.size, dtype=np.int64)
        for column in range(int(how_many.max())):
            bits |= np.where(chosen[:, column], np.int64(1) << order[:, column], 0)
        inverse, extra = _multi_strings(bits)
        code[multi] = 1 + len(DISEASES) + inverse
        strings += extra
    inpatient = take["inpatient"].astype(np.int64)
    extra_days = rng.negative_binomial(LOS_DISPERSION,
                                       LOS_DISPERSION / (LOS_DISPERSION + LOS_MEAN_DAYS - 1), n)
    los = np.where(inpatient == 1, np.minimum(1 + extra_days, 365), 0)
    mean, sd, zero = take["mean"], take["sd"], take["zero_share"]
    cv2_positive = np.maximum((1 + (sd / mean) ** 2) * (1 - zero) - 1, 1e-4)
    sigma = np.sqrt(np.log1p(cv2_positive))
    positive_mean = mean / (1 - zero)
    if LOS_EFFECT[scheme]:
        positive_mean = positive_mean * np.where(
            inpatient == 1, 1 + LOS_EFFECT[scheme] * (los - LOS_MEAN_DAYS) / mean, 1.0)
    draws = np.exp(np.log(positive_mean) - sigma**2 / 2 + sigma * rng.standard_normal(n))
    fund = np.where(rng.random(n) < zero, 0.0, np.round(draws, 2))
    return {
        "person_id": np.arange(first_id, first_id + n, dtype=np.int64),
        "year": np.full(n, year, dtype=np.int32),
        "scheme": np.zeros(n, dtype=np.int32), "scheme_values": np.array([scheme], dtype=object),
        "gender": take["gender"].astype(np.int8),
        "age": age.astype(np.int16),
        "ocsd": code, "ocsd_values": np.array(strings, dtype=object),
        "inpatient_prev_year": inpatient.astype(np.int8),
        "los": los.astype(np.int16),
        "fund_exp": fund,
    }


def _chunks(seed: int, scale: float,
            progress: Callable[[str, int, int], None] | None = None) -> Iterator[dict]:
    """Person rows in chunks of at most :data:`CHUNK_ROWS` (same chunks for generate and write)."""
    cells = _cells(scale, seed)
    total = int(cells["count"].sum())
    done, first_id = 0, 1
    for s, scheme in enumerate(SCHEMES):
        for year in YEARS:
            part = cells[(cells["scheme"] == scheme) & (cells["year"] == year)]
            part = part[part["count"] > 0].reset_index(drop=True)
            counts = part["count"].to_numpy()
            ends = np.cumsum(counts)
            starts = ends - counts
            rows = int(ends[-1]) if len(ends) else 0
            for c, begin in enumerate(range(0, rows, CHUNK_ROWS)):
                stop = min(begin + CHUNK_ROWS, rows)
                in_chunk = np.clip(np.minimum(ends, stop) - np.maximum(starts, begin), 0, None)
                keep = in_chunk > 0
                rng = np.random.default_rng([seed, s, year, c])
                yield _chunk(part[keep].reset_index(drop=True), in_chunk[keep], scheme, year,
                             first_id, rng)
                first_id += stop - begin
                done += stop - begin
                if progress is not None:
                    progress("generating person-years", done, total)


def _frame(chunk: dict) -> pd.DataFrame:
    return pd.DataFrame({
        "person_id": chunk["person_id"], "year": chunk["year"],
        "scheme": chunk["scheme_values"][chunk["scheme"]],
        "gender": chunk["gender"], "age": chunk["age"],
        "ocsd": chunk["ocsd_values"][chunk["ocsd"]],
        "inpatient_prev_year": chunk["inpatient_prev_year"], "los": chunk["los"],
        "fund_exp": chunk["fund_exp"]})[list(COLUMNS)]


def generate(seed: int = DEFAULT_SEED, scale: float = 0.01) -> pd.DataFrame:
    """Generate the synthetic person-year records (both schemes, 2023 and 2024) in memory.

    Parameters
    ----------
    seed
        Random seed; the same seed and scale give the same data (and the same rows as
        :func:`write`).
    scale
        Fraction of the city (1 = about 18 million person-years; the default 0.01 gives about
        180,000). Persons per age band are the published ones times ``scale``, rounded; the
        cells within a band get the floor or ceiling of their expected persons.

    Returns
    -------
    DataFrame
        The contract's columns (:data:`payreform.contracts.person_years.COLUMNS`).

    Examples
    --------
    >>> frame = generate(seed=1, scale=0.001)
    >>> len(frame), list(frame.columns)[:3]
    (17888, ['person_id', 'year', 'scheme'])
    """
    _check_seed_scale(seed, scale)
    frames = [_frame(chunk) for chunk in _chunks(int(seed), float(scale))]
    return pd.concat(frames, ignore_index=True)


def _arrow_table(chunk: dict):
    import pyarrow as pa

    def dictionary(codes: np.ndarray, values: np.ndarray) -> pa.Array:
        return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)),
                                              pa.array(list(values), type=pa.string())
                                              ).cast(pa.string())

    columns = {
        "person_id": pa.array(chunk["person_id"]), "year": pa.array(chunk["year"]),
        "scheme": dictionary(chunk["scheme"], chunk["scheme_values"]),
        "gender": pa.array(chunk["gender"]), "age": pa.array(chunk["age"]),
        "ocsd": dictionary(chunk["ocsd"], chunk["ocsd_values"]),
        "inpatient_prev_year": pa.array(chunk["inpatient_prev_year"]),
        "los": pa.array(chunk["los"]), "fund_exp": pa.array(chunk["fund_exp"]),
    }
    return pa.table({c: columns[c] for c in COLUMNS})


def write(path: str | os.PathLike, seed: int = DEFAULT_SEED, scale: float = 1.0,
          progress: Callable[[str, int, int], None] | None = None) -> Path:
    """Write the synthetic records to a Parquet (or CSV) file, a chunk at a time.

    Memory stays bounded at any scale (one chunk of :data:`CHUNK_ROWS` rows at a time). The
    file format follows the suffix: ``.parquet`` (zstd-compressed) or ``.csv`` (UTF-8). The
    rows are those of :func:`generate` with the same seed and scale.

    Parameters
    ----------
    path
        Output file; its folder must exist. An existing file is replaced.
    seed, scale
        As :func:`generate` (default scale 1: the full city, about 18 million rows).
    progress
        Optional ``progress(step, done, total)`` callback, called after each chunk.

    Examples
    --------
    >>> import tempfile
    >>> path = write(Path(tempfile.mkdtemp()) / "gz.parquet", seed=1, scale=0.001)
    >>> len(pd.read_parquet(path)) == len(generate(seed=1, scale=0.001))
    True
    """
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    _check_seed_scale(seed, scale)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise ParameterError(f"output file '{path.name}' must end in .parquet or .csv")
    if not path.parent.exists():
        raise ParameterError(f"folder '{path.parent}' does not exist; create it first")
    writer = None
    try:
        for chunk in _chunks(int(seed), float(scale), progress):
            table = _arrow_table(chunk)
            if writer is None:
                writer = (pq.ParquetWriter(path, table.schema, compression="zstd",
                                           compression_level=1) if suffix == ".parquet"
                          else pcsv.CSVWriter(path, table.schema))
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return path


# ----------------------------------------------------------------------------- truth and paper
# (in payreform.synth.gz_tables; imported when called, so that the two modules load in any order)


def truth(table: str = "coefficients") -> pd.DataFrame:
    """The planted truth of the synthetic city (see :func:`payreform.synth.gz_tables.truth`).

    Examples
    --------
    >>> table = truth()
    >>> table.query("scheme == 'UEBHI' and year == 2024 and term == 'inpatient_1'")["value"].item()
    789.63
    """
    from payreform.synth.gz_tables import truth as tables_truth

    return tables_truth(table)


def published(table: str = "coefficients") -> pd.DataFrame:
    """The paper's figures as tidy tables (see :func:`payreform.synth.gz_tables.published`)."""
    from payreform.synth.gz_tables import published as tables_published

    return tables_published(table)


def calibration_check() -> pd.DataFrame:
    """How closely the city matches the paper (see
    :func:`payreform.synth.gz_tables.calibration_check`)."""
    from payreform.synth.gz_tables import calibration_check as tables_check

    return tables_check()
