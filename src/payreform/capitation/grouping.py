"""Steps 2 and 3 of the method: group age bands and single diseases by exact 1-D k-means.

Each item's per-capita fund expenditure in the clustering year (the target year) is
standardised and the items are partitioned by :func:`kmeans_1d` for k = 1 .. ``k_max``; the
number of groups is the first peak of the Calinski-Harabasz index, or, when the index has no
first peak, the elbow of the within-group sum of squares (:func:`choose_k`), unless ``k`` is
given. Age groups are numbered 1, 2, ... from the cheapest, disease groups from the dearest, as
in the GZ paper.

Rare items are pooled before clustering, so that no item's mean (which its group membership
reveals) rests on fewer than ``min_cell_size`` persons:

- an age band with fewer persons joins the next older band (the oldest band joins the one
  below), repeatedly, so pooled bands stay contiguous ages (``91-95`` + ``96-100`` + ``101+``
  becomes ``91+``); a band without persons in the clustering year takes the group of the
  nearest band in age;
- diseases with fewer single-disease patients (including diseases without any in the clustering
  year) are pooled into one item, *other diseases*; if that item reaches ``min_cell_size`` it is
  clustered like any disease, otherwise its diseases join the group with the most patients, a
  rule that does not use their spending.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from payreform.capitation.cells import CellStatistics
from payreform.capitation.kmeans1d import choose_k, kmeans_path
from payreform.capitation.schema import (
    AGE_BANDS,
    MIN_CELL_SIZE,
    WEIGHTINGS,
    band_label,
    check_min_cell_size,
    standardise,
    suppress,
)
from payreform.errors import ContractError, ParameterError, check_choice

__all__ = ["OTHER_DISEASES", "RULE_FEW_ITEMS", "RULE_GIVEN", "Grouping", "group_age_bands",
           "group_diseases"]

OTHER_DISEASES = "other diseases"
RULE_GIVEN = "given"
RULE_FEW_ITEMS = "fewer than three items: each its own group"


@dataclass(frozen=True, eq=False)
class Grouping:
    """Age bands or single diseases grouped by exact 1-D k-means (see :func:`group_age_bands`).

    Attributes
    ----------
    dimension
        ``"age_band"`` or ``"disease"``.
    year, weighting
        Year whose per-capita expenditure was clustered; ``"unweighted"`` or ``"persons"``.
    items
        One row per scheme and clustered item: ``item`` (a band, pooled bands, a disease or
        *other diseases*), ``members``, persons, fund_exp, per_capita, z (standardised
        per-capita), group.
    curve
        One row per scheme and k: Calinski-Harabasz index, within sum of squares (of z), chosen.
    groups
        One row per scheme and group: items, persons, per-capita (persons-weighted), centre
        (RMB), ``cv`` (sample CV of the items' per-capita values, as the paper) and
        ``cv_weighted`` (persons-weighted).
    rule
        Per scheme, how k was chosen.
    assignment
        Per scheme, every band or disease code -> group (pooled and unclustered ones included).
    pooled
        Per scheme, what was pooled, in words.
    """

    dimension: str
    year: int
    weighting: str
    items: pd.DataFrame = field(repr=False)
    curve: pd.DataFrame = field(repr=False)
    groups: pd.DataFrame = field(repr=False)
    rule: dict[str, str]
    assignment: dict[str, dict[str, int]] = field(repr=False)
    pooled: dict[str, tuple[str, ...]] = field(repr=False)
    min_cell_size: int = MIN_CELL_SIZE

    @property
    def schemes(self) -> tuple[str, ...]:
        """Schemes grouped."""
        return tuple(self.assignment)

    def k(self, scheme: str) -> int:
        """Number of groups chosen for ``scheme``."""
        values = self.assignment[scheme].values()
        return max(values) if values else 0

    def mapping(self, scheme: str) -> dict[str, int]:
        """Band or disease code -> group for ``scheme`` (every item, pooled ones included)."""
        return dict(self.assignment[scheme])

    def table(self) -> pd.DataFrame:
        """Clustered items with their group; an item under ``min_cell_size`` persons suppressed."""
        return suppress(self.items, "persons", ["fund_exp", "per_capita", "z"],
                        self.min_cell_size)

    def curve_table(self) -> pd.DataFrame:
        """Calinski-Harabasz index and within sum of squares by scheme and k."""
        return self.curve.copy()

    def group_table(self) -> pd.DataFrame:
        """One row per scheme and group (a group under ``min_cell_size`` persons suppressed)."""
        return suppress(self.groups, "persons", ["per_capita", "center", "cv", "cv_weighted"],
                        self.min_cell_size)

    def diagnostics(self) -> dict[str, Any]:
        """k and the rule that chose it, per scheme, and what was pooled."""
        return {scheme: {"k": self.k(scheme), "rule": self.rule[scheme],
                         "pooled": list(self.pooled[scheme])} for scheme in self.schemes}

    def summary(self) -> str:
        """One line per scheme: number of groups and the rule."""
        what = "age groups" if self.dimension == "age_band" else "disease groups"
        return "\n".join(f"{s}: {self.k(s)} {what} ({self.rule[s]})" for s in self.schemes)

    def __repr__(self) -> str:
        ks = ", ".join(f"{s}: {self.k(s)}" for s in self.schemes)
        return f"Grouping({self.dimension}, {self.year}, {self.weighting}; k {ks})"


def _check_k(k: Any, name: str) -> None:
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
        raise ParameterError(f"parameter '{name}' is {k!r}; use a whole number >= 1 or none "
                             "(chosen from the data)")


def _age_items(atoms: pd.DataFrame, min_cell_size: int) -> tuple[pd.DataFrame, list[str]]:
    """Bands with persons, rare ones pooled with the next older band (the oldest downwards)."""
    by_band = atoms.groupby("age_band")[["persons", "sum_y"]].sum()
    runs = [[b] for b in AGE_BANDS if b in by_band.index and by_band.loc[b, "persons"] > 0]
    notes = []

    persons = by_band["persons"].to_dict()

    def size(run: list[str]) -> float:
        return float(sum(persons[band] for band in run))  # whole numbers: exact in any order

    while len(runs) > 1:
        small = next((i for i, run in enumerate(runs) if size(run) < min_cell_size), None)
        if small is None:
            break
        other = small + 1 if small + 1 < len(runs) else small - 1
        merged = sorted(runs[small] + runs[other], key=AGE_BANDS.index)
        first, second = sorted((runs[small], runs[other]), key=lambda r: AGE_BANDS.index(r[0]))
        notes.append(f"age bands {band_label(first)} and {band_label(second)} pooled into "
                     f"{band_label(merged)} ({band_label(runs[small])} has fewer than "
                     f"{min_cell_size} persons)")
        runs[min(small, other)] = merged
        del runs[max(small, other)]
    items = pd.DataFrame({
        "item": [band_label(run) for run in runs], "members": [", ".join(run) for run in runs],
        "persons": [size(run) for run in runs],
        "fund_exp": [float(by_band.loc[run, "sum_y"].sum()) for run in runs]})
    return items, notes


def _disease_items(atoms: pd.DataFrame, codes: tuple[str, ...], min_cell_size: int
                   ) -> tuple[pd.DataFrame, list[str]]:
    """Single diseases; rare ones (and ones without patients) pooled into *other diseases*."""
    single = atoms[atoms["n_diseases"] == 1]
    by_disease = single.groupby("disease")[["persons", "sum_y"]].sum()
    rows, rare = [], []
    for code in codes:
        persons = float(by_disease.loc[code, "persons"]) if code in by_disease.index else 0.0
        if persons >= min_cell_size:
            rows.append({"item": code, "members": code, "persons": persons,
                         "fund_exp": float(by_disease.loc[code, "sum_y"])})
        else:
            rare.append(code)
    notes = []
    if rare:
        present = [c for c in rare if c in by_disease.index]
        rows.append({"item": OTHER_DISEASES, "members": ", ".join(rare),
                     "persons": float(by_disease.loc[present, "persons"].sum()) if present else 0.0,
                     "fund_exp": float(by_disease.loc[present, "sum_y"].sum()) if present else 0.0})
        notes.append(f"{len(rare)} disease{'s' if len(rare) > 1 else ''} with fewer than "
                     f"{min_cell_size} single-disease patients pooled into '{OTHER_DISEASES}': "
                     f"{', '.join(rare)}")
    return pd.DataFrame(rows, columns=["item", "members", "persons", "fund_exp"]), notes


def _cluster(items: pd.DataFrame, scheme: str, weighting: str, k: int | None, k_max: int,
             descending: bool, k_name: str, what: str
             ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """Cluster one scheme's items (columns item, members, persons, fund_exp; persons > 0)."""
    items = items.reset_index(drop=True).copy()
    n = len(items)
    x = (items["fund_exp"] / items["persons"]).to_numpy(float)
    w = items["persons"].to_numpy(float) if weighting == "persons" else np.ones(n)
    z = standardise(x, w)
    k_top = min(int(k_max), n - 1)
    path = kmeans_path(z, w, list(range(1, k_top + 1))) if k_top >= 1 else {}
    curve = [{"scheme": scheme, "k": kk, "calinski_harabasz": path[kk].calinski_harabasz,
              "within_ss": path[kk].within_ss} for kk in sorted(path)]
    if k is not None:
        if k > n:
            raise ParameterError(f"parameter '{k_name}' is {k} but {scheme} has only {n} {what} "
                                 f"to group; use at most {n}")
        chosen, rule = int(k), RULE_GIVEN
    elif n < 3:
        chosen, rule = n, RULE_FEW_ITEMS
    else:
        chosen, rule = choose_k(path)
    labels = kmeans_path(z, w, [chosen])[chosen].labels
    rank = chosen - 1 - labels if descending else labels
    items["per_capita"] = x
    items["z"] = z
    items["group"] = rank + 1
    items.insert(0, "scheme", scheme)
    groups = []
    for g in range(1, chosen + 1):
        member = (items["group"] == g).to_numpy()
        values, persons = x[member], items.loc[member, "persons"].to_numpy(float)
        mean = float(np.sum(persons * values) / persons.sum())
        groups.append({
            "scheme": scheme, "group": g, "items": ", ".join(items.loc[member, "item"]),
            "n_items": int(member.sum()), "persons": float(persons.sum()), "per_capita": mean,
            "center": float(np.sum(w[member] * values) / w[member].sum()),
            "cv": (float(np.std(values, ddof=1) / np.mean(values))
                   if len(values) > 1 and np.mean(values) > 0 else float("nan")),
            "cv_weighted": (float(math.sqrt(np.sum(persons * (values - mean) ** 2)
                                            / persons.sum()) / mean)
                            if mean > 0 else float("nan"))})
    curve_frame = pd.DataFrame(curve, columns=["scheme", "k", "calinski_harabasz", "within_ss"])
    curve_frame["chosen"] = curve_frame["k"] == chosen
    return items, curve_frame, pd.DataFrame(groups), rule


def _assign_ages(items: pd.DataFrame) -> dict[str, int]:
    """Every band -> group: members of clustered items, other bands by the nearest band in age."""
    mapping = {}
    for row in items.itertuples():
        for band in str(row.members).split(", "):
            mapping[band] = int(row.group)
    known = sorted(mapping, key=AGE_BANDS.index)
    for band in AGE_BANDS:
        if band not in mapping and known:
            position = AGE_BANDS.index(band)
            nearest = min(known, key=lambda b: (abs(AGE_BANDS.index(b) - position),
                                                -AGE_BANDS.index(b)))
            mapping[band] = mapping[nearest]
    return mapping


def _assign_diseases(items: pd.DataFrame, groups: pd.DataFrame, codes: tuple[str, ...],
                     min_cell_size: int) -> tuple[dict[str, int], list[str]]:
    """Every disease code -> group; an unclustered *other diseases* item joins the largest group."""
    mapping, notes = {}, []
    for row in items.itertuples():
        for code in str(row.members).split(", ") if row.members else []:
            mapping[code] = int(row.group)
    largest = int(groups.sort_values(["persons", "group"], ascending=[False, True])
                  ["group"].iloc[0]) if len(groups) else 1
    for code in codes:
        if code not in mapping:
            mapping[code] = largest
    return mapping, notes


def _grouping(cells: CellStatistics, dimension: str, year: int | None, weighting: str,
              k: int | Mapping[str, int] | None, k_max: int, min_cell_size: int,
              schemes: tuple[str, ...] | None) -> Grouping:
    check_choice("weighting", weighting, WEIGHTINGS)
    min_cell_size = check_min_cell_size(min_cell_size)
    if isinstance(k_max, bool) or not isinstance(k_max, (int, np.integer)) or k_max < 2:
        raise ParameterError(f"parameter 'k_max' is {k_max!r}; use a whole number >= 2")
    year = max(cells.years) if year is None else int(year)
    if year not in cells.years:
        raise ParameterError(
            f"parameter 'year' is {year}; the data have {', '.join(map(str, cells.years))}")
    k_name = "k_age" if dimension == "age_band" else "k_disease"
    what = "age bands" if dimension == "age_band" else "diseases"
    all_items, curves, groups, rules, assignment, pooled = [], [], [], {}, {}, {}
    for scheme in cells.schemes if schemes is None else schemes:
        atoms = cells.subset(scheme, year)
        if atoms.empty:
            continue
        if dimension == "age_band":
            items, notes = _age_items(atoms, min_cell_size)
        else:
            items, notes = _disease_items(atoms, cells.diseases.codes, min_cell_size)
        scheme_k = k.get(scheme) if isinstance(k, Mapping) else k
        _check_k(scheme_k, k_name)
        clusterable = items[items["persons"] >= min_cell_size]
        left = items[items["persons"] < min_cell_size]
        if clusterable.empty and dimension == "disease":
            if len(items):
                notes.append(f"no disease has {min_cell_size} single-disease patients: all form "
                             "one group")
            clusterable, left = items[items["persons"] > 0], items.iloc[:0]
            if clusterable.empty:
                assignment[scheme] = dict.fromkeys(cells.diseases.codes, 1)
                rules[scheme] = "no single-disease patients"
                pooled[scheme] = tuple(notes)
                continue
        if clusterable.empty:
            raise ContractError(f"{scheme} has fewer than {min_cell_size} persons in {year}; "
                                "there is nothing to group")
        result = _cluster(clusterable, scheme, weighting, scheme_k, k_max,
                          descending=dimension == "disease", k_name=k_name, what=what)
        items_done, curve, group_rows, rule = result
        if dimension == "age_band":
            assignment[scheme] = _assign_ages(items_done)
        else:
            mapping, more = _assign_diseases(items_done, group_rows, cells.diseases.codes,
                                             min_cell_size)
            if len(left):
                largest = mapping[left["members"].iloc[0].split(", ")[0]]
                notes.append(f"'{OTHER_DISEASES}' has fewer than {min_cell_size} patients: its "
                             f"diseases join group {largest}, the group with most patients")
            notes += more
            assignment[scheme] = mapping
        if len(left):
            shown = left.assign(scheme=scheme, per_capita=np.nan, z=np.nan, group=np.nan)
            items_done = pd.concat([items_done, shown[items_done.columns]], ignore_index=True)
        all_items.append(items_done)
        curves.append(curve)
        groups.append(group_rows)
        rules[scheme] = rule
        pooled[scheme] = tuple(notes)
    if not assignment:
        raise ContractError(f"the data have no persons in {year}")
    empty_items = pd.DataFrame(columns=["scheme", "item", "members", "persons", "fund_exp",
                                        "per_capita", "z", "group"])
    return Grouping(
        dimension, year, weighting,
        pd.concat(all_items, ignore_index=True) if all_items else empty_items,
        pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(
            columns=["scheme", "k", "calinski_harabasz", "within_ss", "chosen"]),
        pd.concat(groups, ignore_index=True) if groups else pd.DataFrame(
            columns=["scheme", "group", "items", "n_items", "persons", "per_capita", "center",
                     "cv", "cv_weighted"]),
        rules, assignment, pooled, min_cell_size)


def group_age_bands(
    cells: CellStatistics,
    *,
    year: int | None = None,
    weighting: str = "unweighted",
    k: int | Mapping[str, int] | None = None,
    k_max: int = 10,
    min_cell_size: int = MIN_CELL_SIZE,
    schemes: tuple[str, ...] | None = None,
) -> Grouping:
    """Group the age bands of each scheme by exact 1-D k-means of their per-capita expenditure.

    Parameters
    ----------
    cells
        From :func:`cell_statistics`.
    year
        Year to cluster (default: the latest); the groups apply to every year.
    weighting
        ``"unweighted"`` (each band counts once) or ``"persons"`` (each person counts once).
    k
        Number of groups (one for all schemes, or per scheme); None chooses it from the data.
    k_max
        Largest k evaluated.
    min_cell_size
        Bands with fewer persons are pooled with a neighbour first.
    schemes
        Schemes to group (default: all).

    Examples
    --------
    >>> from payreform.capitation.cells import cell_statistics
    >>> rng = np.random.default_rng(3)
    >>> ages = rng.integers(0, 90, 3000)
    >>> frame = pd.DataFrame({"person_id": range(3000), "year": 2010, "scheme": "A",
    ...     "gender": 1, "age": ages, "ocsd": "", "inpatient_prev_year": 0, "los": 0,
    ...     "fund_exp": (100 + 20 * (ages // 30) + rng.normal(0, 5, 3000)).round(2)})
    >>> grouping = group_age_bands(cell_statistics(frame))
    >>> grouping.k("A"), grouping.mapping("A")["0-5"], grouping.mapping("A")["86-90"]
    (3, 1, 3)
    """
    return _grouping(cells, "age_band", year, weighting, k, k_max, min_cell_size, schemes)


def group_diseases(
    cells: CellStatistics,
    *,
    year: int | None = None,
    weighting: str = "unweighted",
    k: int | Mapping[str, int] | None = None,
    k_max: int = 10,
    min_cell_size: int = MIN_CELL_SIZE,
    schemes: tuple[str, ...] | None = None,
) -> Grouping:
    """Group the single diseases of each scheme by exact 1-D k-means of their per-capita
    expenditure among single-disease patients (groups numbered from the dearest).

    Patients with two diseases and with three or more form two further OCSD groups in the
    payment model (:func:`payment_standards`). Parameters as :func:`group_age_bands`.

    Examples
    --------
    >>> from payreform.capitation.cells import cell_statistics
    >>> codes = ["D1", "D2", "D3", "D4"] * 30
    >>> cost = {"D1": 900.0, "D2": 880.0, "D3": 200.0, "D4": 210.0}
    >>> frame = pd.DataFrame({"person_id": range(120), "year": 2010, "scheme": "A",
    ...     "gender": 1, "age": 50, "ocsd": codes, "inpatient_prev_year": 0, "los": 0,
    ...     "fund_exp": [cost[c] for c in codes]})
    >>> group_diseases(cell_statistics(frame), k=2).mapping("A")
    {'D1': 1, 'D2': 1, 'D3': 2, 'D4': 2}
    """
    return _grouping(cells, "disease", year, weighting, k, k_max, min_cell_size, schemes)
