"""The GZ synthetic city's planted truth, the paper's figures as tables, and their agreement.

Split from :mod:`payreform.synth.gz` (the generator), which re-exports :func:`truth`,
:func:`published` and :func:`calibration_check`. Everything here is computed from the expected
values of the calibrated cells (no random draws) and from ``data/published``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from payreform.errors import ParameterError
from payreform.synth.gz import (
    ACTUAL_2024,
    AGE_BANDS,
    BAND_CV_2024,
    BANDS_2024,
    COEFFICIENTS,
    DISEASE_CV_2024,
    DISEASES,
    DISEASES_2024,
    LOS_P_VALUE_UEBHI,
    PUBLISHED_SAVINGS,
    R2_TARGET,
    SCHEMES,
    SCREENING_R2,
    YEARS,
    _design,
    _los_variance,
    _standard,
    _states,
    calibration,
)

__all__ = ["calibration_check", "published", "truth"]


def truth(table: str = "coefficients") -> pd.DataFrame:
    """The planted truth of the synthetic city (expected values at any scale).

    ``table``:

    * ``"coefficients"``: scheme, year, term, value: Tables 7-8 (the population OLS of the
      payment model with the paper's groupings equals them exactly in expectation).
    * ``"standards"``: scheme, year, gender, age_group, ocsd_group, inpatient, standard.
    * ``"age_bands"``: scheme, year, age band, persons (scale 1), per-capita expenditure
      (2024: Tables 3-4 exactly).
    * ``"diseases"``: scheme, year, disease, single-disease persons and per-capita expenditure.
    * ``"simulation"``: scheme (and total), omega, actual, payment, savings, savings_pct on
      the 2024 population (scale 1).
    * ``"fit"``: scheme, year, R² of the payment model, persons, total expenditure.

    Examples
    --------
    >>> table = truth()
    >>> table.query("scheme == 'UEBHI' and year == 2024 and term == 'inpatient_1'")["value"].item()
    789.63
    """
    choices = ("coefficients", "standards", "age_bands", "diseases", "simulation", "fit")
    if table not in choices:
        raise ParameterError(f"parameter 'table' is {table!r}; use one of {', '.join(choices)}")
    if table == "coefficients":
        return pd.DataFrame([{"scheme": s, "year": y, "term": t, "value": v[y][0]}
                             for s in SCHEMES for t, v in COEFFICIENTS[s].items() for y in YEARS])
    if table == "standards":
        rows = []
        for scheme in SCHEMES:
            k = max(s[1] for s in _states(scheme))
            grid = pd.DataFrame([(g, a, o, h) for g in (1, 2) for a in (1, 2, 3)
                                 for o in range(k + 1) for h in (0, 1)],
                                columns=["gender", "age_group", "ocsd_group", "inpatient"])
            for year in YEARS:
                part = grid.copy()
                part.insert(0, "year", year)
                part.insert(0, "scheme", scheme)
                part["standard"] = _standard(scheme, year, *(part[c].to_numpy() for c in (
                    "gender", "age_group", "ocsd_group", "inpatient")))
                rows.append(part)
        return pd.concat(rows, ignore_index=True)
    cells = calibration()
    cells["total"] = cells["persons"] * cells["mean"]
    if table == "age_bands":
        out = cells.groupby(["scheme", "year", "band"], sort=False)[["persons", "total"]].sum()
        out = out.reset_index()
        out["per_capita"] = out["total"] / out["persons"]
        out["band"] = pd.Categorical(out["band"], AGE_BANDS, ordered=True)
        out = out.sort_values(["scheme", "year", "band"]).reset_index(drop=True)
        out["band"] = out["band"].astype(str)
        return out.drop(columns="total")
    if table == "diseases":
        single = cells[cells["state"].isin(DISEASES)]
        out = single.groupby(["scheme", "year", "state"], sort=False)[["persons", "total"]].sum()
        out = out.reset_index().rename(columns={"state": "disease"})
        out["per_capita"] = out["total"] / out["persons"]
        return out.drop(columns="total")
    if table == "fit":
        rows = []
        for (scheme, year), part in cells.groupby(["scheme", "year"], sort=False):
            n, mean = part["persons"].to_numpy(), part["mean"].to_numpy()
            grand = np.sum(n * mean) / n.sum()
            model = part["model"].to_numpy()
            total_var = np.sum(n * ((mean - grand) ** 2 + part["sd"].to_numpy() ** 2)) / n.sum()
            total_var += _los_variance(scheme, part)
            rows.append({"scheme": scheme, "year": year, "persons": n.sum(),
                         "actual": float(np.sum(n * mean)),
                         "r_squared": float(np.sum(n * (model - grand) ** 2) / n.sum()
                                            / total_var)})
        return pd.DataFrame(rows)
    rows = []
    omegas = np.round(np.linspace(0, 1, 11), 10)
    totals = np.zeros((len(omegas), 2))
    for scheme in SCHEMES:
        part = cells[(cells["scheme"] == scheme) & (cells["year"] == 2024)]
        groups = [part[c].to_numpy() for c in ("gender", "age_group", "ocsd_group", "inpatient")]
        n = part["persons"].to_numpy()
        actual = float(np.sum(n * part["mean"].to_numpy()))
        base = float(np.sum(n * _standard(scheme, 2023, *groups)))
        target = float(np.sum(n * _standard(scheme, 2024, *groups)))
        for i, omega in enumerate(omegas):
            payment = omega * target + (1 - omega) * base
            totals[i] += (actual, payment)
            rows.append({"scheme": scheme, "omega": omega, "actual": actual, "payment": payment})
    for i, omega in enumerate(omegas):
        rows.append({"scheme": "total", "omega": omega, "actual": totals[i, 0],
                     "payment": totals[i, 1]})
    out = pd.DataFrame(rows)
    out["savings"] = out["actual"] - out["payment"]
    out["savings_pct"] = 100 * out["savings"] / out["actual"]
    return out


def published(table: str = "coefficients") -> pd.DataFrame:
    """The paper's published figures as tidy tables.

    ``table``:

    * ``"coefficients"``: Tables 7-8: scheme, year, term, estimate, std_error.
    * ``"groupings"``: Tables 3-6: scheme, dimension (``age_band``/``disease``), item,
      persons, per_capita, group (2024); the input of
      :func:`payreform.capitation.compare_groupings`.
    * ``"group_cv"``: the within-group coefficients of variation printed in Tables 3-6.
    * ``"simulation"``: section 5.2: scheme, omega, savings (RMB), actual.
    * ``"screening"``: Table 2's R² values (column reading ambiguous) and the LOS p-value.

    Examples
    --------
    >>> published("groupings").query("dimension == 'disease' and scheme == 'UEBHI'").shape[0]
    21
    """
    choices = ("coefficients", "groupings", "group_cv", "simulation", "screening")
    if table not in choices:
        raise ParameterError(f"parameter 'table' is {table!r}; use one of {', '.join(choices)}")
    if table == "coefficients":
        return pd.DataFrame([{"scheme": s, "year": y, "term": t, "estimate": v[y][0],
                              "std_error": v[y][1]}
                             for s in SCHEMES for t, v in COEFFICIENTS[s].items() for y in YEARS])
    if table == "groupings":
        rows = []
        for scheme in SCHEMES:
            for band in AGE_BANDS:
                if band in BANDS_2024[scheme]:
                    persons, per_capita, group = BANDS_2024[scheme][band]
                    rows.append({"scheme": scheme, "dimension": "age_band", "item": band,
                                 "persons": persons, "per_capita": per_capita, "group": group})
            for disease, (persons, per_capita, group) in DISEASES_2024[scheme].items():
                rows.append({"scheme": scheme, "dimension": "disease", "item": disease,
                             "persons": persons, "per_capita": per_capita, "group": group})
        return pd.DataFrame(rows)
    if table == "group_cv":
        rows = [{"scheme": s, "dimension": "age_band", "group": g + 1, "cv": cv}
                for s in SCHEMES for g, cv in enumerate(BAND_CV_2024[s])]
        rows += [{"scheme": s, "dimension": "disease", "group": g + 1, "cv": cv}
                 for s in SCHEMES for g, cv in enumerate(DISEASE_CV_2024[s])]
        return pd.DataFrame(rows)
    if table == "simulation":
        return pd.DataFrame([{"scheme": s, "omega": o, "savings": v,
                              "actual": ACTUAL_2024.get(s, sum(ACTUAL_2024.values()))}
                             for (s, o), v in PUBLISHED_SAVINGS.items()])
    return pd.DataFrame({"quantity": [f"r_squared_{i + 1}" for i in range(len(SCREENING_R2))]
                         + ["los_p_value_uebhi"],
                         "value": [*SCREENING_R2, LOS_P_VALUE_UEBHI]})


def calibration_check() -> pd.DataFrame:
    """How closely the synthetic city's expected values match the paper, one row per figure.

    Columns: quantity, scheme, published, synthetic, ratio. Covers persons and per-capita
    expenditure by band and disease (2024), totals, savings at omega = 0 and 0.5, R², and
    the ratio of the expected HC1 standard errors (at scale 1) to Tables 7-8's.

    Examples
    --------
    >>> check = calibration_check()
    >>> check.query("quantity == 'actual 2024'")["ratio"].round(3).tolist()
    [1.0, 1.0]
    """
    rows = []
    bands = truth("age_bands").query("year == 2024")
    for scheme in SCHEMES:
        for band, (_, per_capita, _) in BANDS_2024[scheme].items():
            got = bands[(bands["scheme"] == scheme) & (bands["band"] == band)].iloc[0]
            rows.append(("per-capita " + band, scheme, per_capita, got["per_capita"]))
    diseases = truth("diseases").query("year == 2024")
    for scheme in SCHEMES:
        for disease, (persons, per_capita, _) in DISEASES_2024[scheme].items():
            got = diseases[(diseases["scheme"] == scheme) & (diseases["disease"] == disease)]
            rows.append(("per-capita " + disease, scheme, per_capita,
                         got["per_capita"].iloc[0]))
            rows.append(("patients " + disease, scheme, persons, got["persons"].iloc[0]))
    simulation = truth("simulation")
    for scheme in SCHEMES:
        part = simulation[simulation["scheme"] == scheme]
        rows.append(("actual 2024", scheme, ACTUAL_2024[scheme], part["actual"].iloc[0]))
        for omega in (0.0, 0.5):
            rows.append((f"savings omega={omega:g}", scheme, PUBLISHED_SAVINGS[(scheme, omega)],
                         part.loc[np.isclose(part["omega"], omega), "savings"].iloc[0]))
    fit = truth("fit")
    cells = calibration()
    for (scheme, year), part in cells.groupby(["scheme", "year"], sort=False):
        rows.append((f"R2 {year}", scheme, R2_TARGET[(scheme, year)],
                     fit.query("scheme == @scheme and year == @year")["r_squared"].iloc[0]))
        groups = [part[c].to_numpy() for c in ("gender", "age_group", "ocsd_group", "inpatient")]
        design = _design(scheme, *groups)
        n = part["persons"].to_numpy()
        bread = np.linalg.inv(design.T @ (design * n[:, None]))
        residual = part["sd"].to_numpy() ** 2 + part["deviation"].to_numpy() ** 2
        se = np.sqrt(np.diag(bread @ (design.T @ (design * (n * residual)[:, None])) @ bread))
        for term, value in zip(COEFFICIENTS[scheme], se, strict=True):
            rows.append((f"std_error {term} {year}", scheme, COEFFICIENTS[scheme][term][year][1],
                         value))
    out = pd.DataFrame(rows, columns=["quantity", "scheme", "published", "synthetic"])
    out["ratio"] = out["synthetic"] / out["published"]
    return out
