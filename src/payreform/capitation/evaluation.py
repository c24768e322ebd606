"""Beyond the paper: where do the standards over- or under-pay, how well do they fit, and are the
published groupings what exact clustering finds?

Predictive ratios (actual over predicted expenditure) are given by age band, gender x age group,
OCSD group, single disease and by *tenths of predicted cost*. Ranking persons by their own
realised expenditure would not do: the persons who happened to spend most in a year are
expensive partly by chance, so any predictor, even the true expected cost, "under-pays" them and
"over-pays" the lowest spenders (regression to the mean). Ranking by predicted cost asks the
question that matters for selection: are the persons the standards *expect* to be dear paid
what they cost? Every ratio resting on fewer than ``min_cell_size`` persons is suppressed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from payreform.capitation.kmeans1d import calinski_harabasz, first_peak, kmeans_1d, kmeans_path
from payreform.capitation.schema import (
    AGE_BANDS,
    WEIGHTINGS,
    check_min_cell_size,
    predicted_tenths,
    standardise,
    suppress,
)
from payreform.capitation.standards import PaymentStandards
from payreform.errors import ContractError, ParameterError, check_choice

__all__ = ["FitStatistics", "GroupingComparison", "PredictiveRatios", "adjusted_rand_index",
           "compare_groupings", "fit_statistics", "paper_grouping_table", "predictive_ratios"]

DIMENSIONS = ("scheme", "age_band", "gender_age_group", "ocsd_group", "disease",
              "predicted_tenth")


def _label(omega: float, base_year: int, target_year: int) -> str:
    if omega == 1:
        return f"{target_year} standards"
    if omega == 0:
        return f"{base_year} standards"
    return f"{omega:g} x {target_year} + {1 - omega:g} x {base_year}"


def _blend(standards: PaymentStandards, atoms: pd.DataFrame, scheme: str,
           omega: float) -> tuple[np.ndarray, float]:
    """Per-person blended standard of each atom and the blended length-of-stay coefficient."""
    base_year, target_year = standards.years
    base, los_base = standards.predict(atoms, scheme, base_year) if omega < 1 else (0.0, 0.0)
    target, los_target = (standards.predict(atoms, scheme, target_year) if omega > 0
                          else (0.0, 0.0))
    per_person = omega * np.asarray(target) + (1 - omega) * np.asarray(base)
    return (np.broadcast_to(per_person, (len(atoms),)).astype(float),
            omega * los_target + (1 - omega) * los_base)


@dataclass(frozen=True, eq=False)
class PredictiveRatios:
    """Actual over predicted expenditure by group (see :func:`predictive_ratios`).

    A ratio above 1 means the standards under-pay for that group (a provider loses on such
    persons and gains by avoiding them); below 1, they over-pay.
    """

    ratios: pd.DataFrame = field(repr=False)
    min_cell_size: int

    def table(self) -> pd.DataFrame:
        """One row per scheme, standards, dimension and level (small groups suppressed)."""
        return suppress(self.ratios, "persons", ["actual", "predicted", "ratio"],
                        self.min_cell_size)

    def diagnostics(self) -> dict[str, Any]:
        """The range of the ratios by tenth of predicted cost, per scheme and standards."""
        table = self.table()
        tenths = table[(table["dimension"] == "predicted_tenth") & ~table["suppressed"]]
        return {f"{s} {label}": {"lowest": float(p["ratio"].min()),
                                 "highest": float(p["ratio"].max())}
                for (s, label), p in tenths.groupby(["scheme", "standards"], sort=False)}

    def __repr__(self) -> str:
        return f"PredictiveRatios({len(self.ratios)} groups)"


def predictive_ratios(
    standards: PaymentStandards,
    *,
    year: int | None = None,
    omegas: Sequence[float] = (1.0, 0.5, 0.0),
    min_cell_size: int | None = None,
) -> PredictiveRatios:
    """Predictive ratios (actual / predicted expenditure) of the standards, by group.

    Groups: the whole scheme, age band, gender x age group, OCSD group, single disease and tenth
    of predicted cost (persons ranked by the standard they are paid; persons with the same
    standard stay in one tenth, so a large cell can fill several tenths and leave them empty).
    With standards fitted on the same year (``omega = 1`` on the target year) the ratio is exactly
    1 for every gender x age group and OCSD group (OLS normal equations); finer groups and
    predicted-cost tenths show what the additive model leaves out, ``omega = 0`` judges the base
    year's standards out of sample.

    Parameters
    ----------
    standards
        Result of :func:`payment_standards`.
    year
        Year whose persons are priced (default: the target year).
    omegas
        Weights on the target year's standards to evaluate.
    min_cell_size
        Suppression threshold (default: the standards').

    Examples
    --------
    >>> from payreform.capitation import cell_statistics, paper_groupings, payment_standards
    >>> from payreform.synth import gz
    >>> cells = cell_statistics(gz.generate(seed=1, scale=0.002))
    >>> standards = payment_standards(cells, *paper_groupings())
    >>> table = predictive_ratios(standards, omegas=(1.0,)).table()
    >>> inside = table[table["dimension"] == "ocsd_group"]
    >>> bool(np.allclose(inside["ratio"], 1.0))  # the normal equations, in sample
    True
    """
    min_cell_size = (standards.min_cell_size if min_cell_size is None
                     else check_min_cell_size(min_cell_size))
    base_year, target_year = standards.years
    year = target_year if year is None else int(year)
    if year not in standards.years:
        raise ParameterError(f"parameter 'year' is {year}; the standards cover {base_year} and "
                             f"{target_year}")
    omegas = [float(o) for o in omegas]
    if any(not 0 <= o <= 1 for o in omegas):
        raise ParameterError("parameter 'omegas' must hold weights between 0 and 1")
    atoms = standards.atoms[standards.atoms["year"] == year]
    rows = []
    for scheme in standards.schemes:
        part = atoms[atoms["scheme"] == scheme].copy()
        structure = standards.structures[scheme]
        labels = {0: "none", **structure.ocsd_labels}
        for omega in omegas:
            per_person, los = _blend(standards, part, scheme, omega)
            part["predicted"] = per_person * part["persons"] + los * part["sum_los"]
            part["actual"] = part["sum_y"]
            part["standard"] = per_person
            cells = part.groupby(["gender", "age_group", "ocsd_group", "inpatient"],
                                 as_index=False)[["persons", "standard"]].agg(
                {"persons": "sum", "standard": "first"})
            cells["tenth"] = predicted_tenths(cells["standard"].to_numpy(),
                                              cells["persons"].to_numpy())
            tenth = part.merge(cells[["gender", "age_group", "ocsd_group", "inpatient", "tenth"]],
                               on=["gender", "age_group", "ocsd_group", "inpatient"])["tenth"]
            single = (part["n_diseases"] == 1).to_numpy()
            levels = {
                "scheme": np.full(len(part), scheme, dtype=object),
                "age_band": part["age_band"].to_numpy(),
                "gender_age_group": (part["gender"].astype(str) + "-"
                                     + part["age_group"].astype(str)).to_numpy(),
                "ocsd_group": part["ocsd_group"].map(
                    {o: f"{o} {name}" for o, name in labels.items()}).to_numpy(),
                "disease": part["disease"].to_numpy(),
                "predicted_tenth": tenth.to_numpy(),
            }
            label = _label(omega, base_year, target_year)
            for dimension, level in levels.items():
                keep = single if dimension == "disease" else slice(None)
                summary = _sum_by_level(level[keep], part["persons"].to_numpy()[keep],
                                        part["actual"].to_numpy()[keep],
                                        part["predicted"].to_numpy()[keep],
                                        per_person[keep], AGE_BANDS if dimension == "age_band" else None)
                summary.insert(0, "dimension", dimension)
                if dimension != "predicted_tenth":
                    summary[["standard_low", "standard_high"]] = np.nan
                rows.append(summary.assign(scheme=scheme, year=year, standards=label, omega=omega))
    columns = ["scheme", "year", "standards", "omega", "dimension", "level", "persons", "actual",
               "predicted", "ratio", "standard_low", "standard_high"]
    ratios = (pd.concat(rows, ignore_index=True)[columns] if rows
              else pd.DataFrame(columns=columns))
    return PredictiveRatios(ratios, min_cell_size)


def _sum_by_level(level: np.ndarray, persons: np.ndarray, actual: np.ndarray,
                  predicted: np.ndarray, standard: np.ndarray,
                  order: Sequence[str] | None = None) -> pd.DataFrame:
    """Persons, actual and predicted sums and the lowest and highest standard per level.

    Levels are sorted (or put in ``order``); missing levels are left out, as a groupby would.
    """
    codes, uniques = pd.factorize(level, sort=True)
    found = codes >= 0
    codes, n = codes[found], len(uniques)
    sums = [np.bincount(codes, weights=w[found], minlength=n) for w in (persons, actual, predicted)]
    low, high = np.full(n, np.inf), np.full(n, -np.inf)
    np.minimum.at(low, codes, standard[found])
    np.maximum.at(high, codes, standard[found])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(sums[2] > 0, sums[1] / sums[2], np.nan)
    summary = pd.DataFrame({"level": [str(u) for u in uniques], "persons": sums[0],
                            "actual": sums[1], "predicted": sums[2], "ratio": ratio,
                            "standard_low": low, "standard_high": high})
    if order is not None:
        rank = {name: i for i, name in enumerate(order)}
        summary = summary.iloc[np.argsort([rank[str(u)] for u in uniques], kind="stable")]
    return summary.reset_index(drop=True)




@dataclass(frozen=True, eq=False)
class FitStatistics:
    """R² and predictive ratio of standards fitted on one year and judged on another."""

    rows: pd.DataFrame = field(repr=False)

    def table(self) -> pd.DataFrame:
        """One row per scheme (and ``total``), standards and evaluation year."""
        return self.rows.copy()

    def __repr__(self) -> str:
        return f"FitStatistics({len(self.rows)} rows)"


def fit_statistics(standards: PaymentStandards, *,
                   omegas: Sequence[float] = (1.0, 0.5, 0.0)) -> FitStatistics:
    """In-sample and out-of-sample fit of the standards.

    For each scheme and in total: the standards of each year judged on each year's persons
    (``kind`` in-sample when the years agree, out-of-sample otherwise), and the blends ``omegas``
    judged on the target year. R² = 1 - sum (y - standard)² / sum (y - mean y)² over the
    evaluation year's persons, from cell statistics (floored standards as paid).

    Examples
    --------
    >>> from payreform.capitation import cell_statistics, paper_groupings, payment_standards
    >>> from payreform.synth import gz
    >>> standards = payment_standards(cell_statistics(gz.generate(seed=1, scale=0.002)),
    ...                               *paper_groupings())
    >>> fit = fit_statistics(standards).table()
    >>> sorted(set(fit["kind"]))
    ['blend', 'in-sample', 'out-of-sample']
    """
    base_year, target_year = standards.years
    cases = []
    for evaluated in standards.years:
        cases += [(1.0 if fitted == target_year else 0.0, evaluated) for fitted in standards.years]
        if evaluated == target_year:
            cases += [(float(o), evaluated) for o in omegas if 0 < o < 1]
    rows = []
    for omega, evaluated in cases:
        label = _label(omega, base_year, target_year)
        fitted_on = target_year if omega == 1 else base_year if omega == 0 else None
        kind = ("blend" if fitted_on is None else "in-sample" if fitted_on == evaluated
                else "out-of-sample")
        totals = {"rss": 0.0, "actual": 0.0, "predicted": 0.0, "n": 0, "yty": 0.0}
        for scheme in standards.schemes:
            part = standards.atoms[(standards.atoms["scheme"] == scheme)
                                   & (standards.atoms["year"] == evaluated)]
            a, los = _blend(standards, part, scheme, omega)
            n = part["persons"].to_numpy(float)
            rss = (part["sum_y2"].to_numpy() - 2 * a * part["sum_y"].to_numpy() + a * a * n)
            if los:
                rss = (rss - 2 * los * part["sum_y_los"].to_numpy()
                       + 2 * a * los * part["sum_los"].to_numpy()
                       + los * los * part["sum_los2"].to_numpy())
            fit = standards.fits[(scheme, evaluated)]
            predicted = float(np.sum(a * n) + los * part["sum_los"].sum())
            rows.append({"scheme": scheme, "standards": label, "omega": omega,
                         "evaluated_on": evaluated, "kind": kind, "persons": fit.n_obs,
                         "r_squared": 1 - float(rss.sum()) / fit.tss, "actual": fit.sum_y,
                         "predicted": predicted, "predictive_ratio": fit.sum_y / predicted})
            totals = {"rss": totals["rss"] + float(rss.sum()),
                      "actual": totals["actual"] + fit.sum_y,
                      "predicted": totals["predicted"] + predicted, "n": totals["n"] + fit.n_obs,
                      "yty": totals["yty"] + fit.yty}
        if len(standards.schemes) > 1:
            tss = totals["yty"] - totals["actual"] ** 2 / totals["n"]
            rows.append({"scheme": "total", "standards": label, "omega": omega,
                         "evaluated_on": evaluated, "kind": kind, "persons": totals["n"],
                         "r_squared": 1 - totals["rss"] / tss, "actual": totals["actual"],
                         "predicted": totals["predicted"],
                         "predictive_ratio": totals["actual"] / totals["predicted"]})
    return FitStatistics(pd.DataFrame(rows))


def adjusted_rand_index(labels_a: Sequence[Any], labels_b: Sequence[Any]) -> float:
    """Adjusted Rand index of two partitions of the same items (1 = identical, ~0 = chance).

    Examples
    --------
    >>> adjusted_rand_index([1, 1, 2, 2], [5, 5, 7, 7])
    1.0
    """
    a, b = list(labels_a), list(labels_b)
    if len(a) != len(b) or len(a) < 2:
        raise ParameterError("adjusted_rand_index needs two labelings of the same >= 2 items")
    table = pd.crosstab(pd.Series(a, dtype=str), pd.Series(b, dtype=str)).to_numpy()

    def pairs(counts: np.ndarray) -> float:
        return float(np.sum(counts * (counts - 1) / 2))

    index = pairs(table)
    rows, columns = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    total = len(a) * (len(a) - 1) / 2
    expected = rows * columns / total
    maximum = (rows + columns) / 2
    if maximum == expected:
        return 1.0 if index == expected else 0.0
    return float((index - expected) / (maximum - expected))


def paper_grouping_table() -> pd.DataFrame:
    """The GZ paper's Tables 3-6 in one table: scheme, dimension, item, persons, per_capita,
    group (read from ``data/published``; the input of :func:`compare_groupings`).

    Examples
    --------
    >>> paper_grouping_table().groupby("dimension").size().to_dict()
    {'age_band': 31, 'disease': 42}
    """
    from payreform import published

    bands = published.load("gz_table3_4_age_bands")
    diseases = published.load("gz_table5_6_diseases")
    return pd.concat([
        pd.DataFrame({"scheme": bands["scheme"], "dimension": "age_band", "item": bands["band"],
                      "persons": bands["persons"], "per_capita": bands["per_capita"],
                      "group": bands["category"]}),
        pd.DataFrame({"scheme": diseases["scheme"], "dimension": "disease",
                      "item": diseases["disease"], "persons": diseases["patients"],
                      "per_capita": diseases["per_capita"], "group": diseases["group"]}),
    ], ignore_index=True)


@dataclass(frozen=True, eq=False)
class GroupingComparison:
    """Exact clustering of published means beside the published groupings."""

    items: pd.DataFrame = field(repr=False)
    summary: pd.DataFrame = field(repr=False)
    curve: pd.DataFrame = field(repr=False)
    groups: pd.DataFrame = field(repr=False)

    def table(self) -> pd.DataFrame:
        """One row per scheme and dimension: k, agreement, items placed differently."""
        return self.summary.copy()

    def group_table(self) -> pd.DataFrame:
        """Per scheme, dimension, grouping (``published`` or ``found``) and group: items and
        within-group CV of the per-capita values (sample SD / mean, as the paper's tables)."""
        return self.groups.copy()

    def __repr__(self) -> str:
        return f"GroupingComparison({len(self.summary)} scheme-dimensions)"


def compare_groupings(published: pd.DataFrame, *, weighting: str = "unweighted",
                      k_max: int = 10) -> GroupingComparison:
    """Cluster published per-capita means exactly and compare with the published groups.

    Parameters
    ----------
    published
        Columns ``scheme``, ``dimension`` (``age_band`` or ``disease``), ``item``, ``persons``,
        ``per_capita``, ``group`` (for example :func:`paper_grouping_table`).
    weighting
        ``"unweighted"`` or ``"persons"``.
    k_max
        Largest k of the Calinski-Harabasz curve.

    Returns
    -------
    GroupingComparison
        ``summary``: per scheme and dimension, the published k, whether the CH index has a first
        peak on the published means, the adjusted Rand index between the published groups and
        the exact k-means partition with the published k, the items placed differently (groups
        numbered in the same order of expenditure), and the within sum of squares (of z) of both.

    Examples
    --------
    >>> compare_groupings(paper_grouping_table()).table()["k_published"].tolist()
    [3, 3, 4, 5]
    """
    check_choice("weighting", weighting, WEIGHTINGS)
    needed = ["scheme", "dimension", "item", "persons", "per_capita", "group"]
    missing = [c for c in needed if c not in published.columns]
    if missing:
        raise ContractError(f"the published table lacks column '{missing[0]}'; it needs "
                            f"{', '.join(needed)}")
    item_rows, summary_rows, curves, group_rows = [], [], [], []
    for (scheme, dimension), part in published.groupby(["scheme", "dimension"], sort=False):
        part = part.reset_index(drop=True)
        x = part["per_capita"].to_numpy(float)
        w = part["persons"].to_numpy(float) if weighting == "persons" else np.ones(len(part))
        z = standardise(x, w)
        k_paper = int(part["group"].nunique())
        descending = dimension == "disease"
        ks = list(range(2, min(k_max, len(part) - 1) + 1))
        path = kmeans_path(z, w, ks)
        index = [path[k].calinski_harabasz for k in ks]
        k_peak, found = first_peak(ks, index)
        curves.append(pd.DataFrame({"scheme": scheme, "dimension": dimension, "k": ks,
                                    "calinski_harabasz": index}))
        ours = kmeans_1d(z, k_paper, w)
        found_group = (k_paper - ours.labels if descending else ours.labels + 1)
        paper_group = part["group"].to_numpy(int)
        paper_labels = paper_group - 1
        centers = [np.sum(w[paper_labels == g] * z[paper_labels == g])
                   / np.sum(w[paper_labels == g]) for g in range(k_paper)]
        paper_within = float(sum(np.sum(w[paper_labels == g]
                                        * (z[paper_labels == g] - centers[g]) ** 2)
                                 for g in range(k_paper)))
        agrees = found_group == paper_group
        item_rows.append(part.assign(found_group=found_group, agrees=agrees))
        for grouping, labels in (("published", paper_group), ("found", found_group)):
            for g in range(1, k_paper + 1):
                values = x[labels == g]
                group_rows.append({
                    "scheme": scheme, "dimension": dimension, "grouping": grouping, "group": g,
                    "items": ", ".join(part.loc[labels == g, "item"].astype(str)),
                    "cv": (float(np.std(values, ddof=1) / np.mean(values)) if len(values) > 1
                           else float("nan"))})
        summary_rows.append({
            "scheme": scheme, "dimension": dimension, "n_items": len(part),
            "k_published": k_paper, "k_first_peak": k_peak, "first_peak_found": found,
            "adjusted_rand_index": adjusted_rand_index(paper_group, found_group),
            "items_moved": int((~agrees).sum()),
            "moved": ", ".join(f"{i} ({p}->{f})" for i, p, f, a in zip(
                part["item"], paper_group, found_group, agrees, strict=True) if not a),
            "within_ss_published": paper_within, "within_ss_optimal": ours.within_ss,
            "published_is_optimal": bool(paper_within <= ours.within_ss * (1 + 1e-12)),
            "ch_published": calinski_harabasz(z, paper_labels, w),
            "ch_optimal": ours.calinski_harabasz})
    return GroupingComparison(pd.concat(item_rows, ignore_index=True),
                              pd.DataFrame(summary_rows), pd.concat(curves, ignore_index=True),
                              pd.DataFrame(group_rows))
