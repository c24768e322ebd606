"""Step 4 of the method: payment standards from a categorical regression, with disclosure control.

``fund_exp ~ gender x age group + OCSD group + inpatient`` per scheme and year; the reference
cell is men of age group 1 without a disease, not hospitalised. OCSD group 0 = none, 1..k =
single-disease groups, then two diseases, then three or more. A cell's standard is the intercept
plus its coefficients. Because every regressor is categorical, per-cell counts, sums and sums of
squares give the person-level OLS coefficients and HC1 standard errors exactly.

Pooling, so that every coefficient (and so every standard) rests on at least ``min_cell_size``
persons in *both* years, and every person still gets a standard:

1. *Gender*: if either gender has fewer persons in a year, the model has age terms only.
2. *Age groups*: while a gender x age-group cell has fewer persons in a year, that age group
   joins the adjacent age group (in the order of per-capita cost) whose per-capita cost is
   closer.
3. *Single-disease groups*: a group with fewer persons in a year joins the adjacent group
   (order of per-capita cost) whose per-capita cost is closer.
4. *Two diseases, three or more*: if either has fewer persons, they become *two or more
   diseases*; if that is still too small, it joins single-disease group 1 (the dearest, the
   neighbour of multi-morbidity in cost); if the single-disease groups together are too small,
   they join the multi-disease group (*any disease*); if even that is too small, persons with a
   disease are priced as persons without.
5. *Previous-year hospitalisation*: dropped from the model if either status has fewer persons.

No standard is negative: a cell whose intercept-plus-coefficients sum is below 0 (possible for a
rare combination of negative coefficients) is paid 0 and flagged ``floored``; the payment
simulation uses the floored standards.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from payreform.capitation.cells import CellStatistics, Fit, ols_from_moments
from payreform.capitation.grouping import Grouping
from payreform.capitation.schema import (
    AGE_BANDS,
    MIN_CELL_SIZE,
    MOMENTS,
    check_min_cell_size,
    suppress,
)
from payreform.errors import ContractError, ParameterError

__all__ = ["ModelStructure", "PaymentStandards", "payment_standards", "two_latest_years"]

_MULTI_LABELS = {frozenset({"two"}): "two diseases", frozenset({"three"}): "three or more",
                 frozenset({"two", "three"}): "two or more diseases"}


@dataclass(frozen=True)
class ModelStructure:
    """The cells of one scheme's payment model after pooling.

    ``age_groups``: band -> age group; ``disease_groups``: disease code -> OCSD group of its
    single-disease patients; ``states``: disease state (``none``, ``single:<g>`` for the
    clustered group g, ``two``, ``three``) -> OCSD group (0 = none or pooled with none);
    ``ocsd_labels``: OCSD group -> label; ``by_gender``: gender x age terms (else age terms);
    ``inpatient``: whether previous-year hospitalisation has a term; ``single_groups``: disease
    code -> single-disease group before pooling.
    """

    age_groups: dict[str, int]
    n_age: int
    by_gender: bool
    states: dict[str, int]
    ocsd_labels: dict[int, str]
    disease_groups: dict[str, int]
    inpatient: bool
    single_groups: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def n_ocsd(self) -> int:
        """Number of OCSD groups with a term."""
        return max(self.ocsd_labels, default=0)

    def terms(self, include_los: bool = False) -> list[str]:
        """The model's terms, intercept first."""
        terms = ["intercept"]
        if self.by_gender:
            terms += [f"gender_age_{g}_{a}" for g in (1, 2) for a in range(1, self.n_age + 1)
                      if (g, a) != (1, 1)]
        else:
            terms += [f"age_{a}" for a in range(2, self.n_age + 1)]
        terms += [f"ocsd_{o}" for o in range(1, self.n_ocsd + 1)]
        if self.inpatient:
            terms.append("inpatient_1")
        if include_los:
            terms.append("los")
        return terms

    def design(self, gender: np.ndarray, age_group: np.ndarray, ocsd_group: np.ndarray,
               inpatient: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """0/1 design rows of cells (without length of stay) and their term names."""
        terms = self.terms()
        columns = [np.ones(len(gender))]
        for term in terms[1:]:
            parts = term.split("_")
            if term.startswith("gender_age_"):
                columns.append((gender == int(parts[2])) & (age_group == int(parts[3])))
            elif term.startswith("age_"):
                columns.append(age_group == int(parts[1]))
            elif term.startswith("ocsd_"):
                columns.append(ocsd_group == int(parts[1]))
            else:
                columns.append(inpatient == 1)
        return np.column_stack(columns).astype(float), terms


def two_latest_years(cells: CellStatistics, base_year: int | None = None,
                     target_year: int | None = None) -> tuple[int, int]:
    """Base and target year: as given, or the two latest years in the data.

    Raises
    ------
    ParameterError
        For a year the data lack, or equal years.
    ContractError
        When the data hold a single year and the years are not both given.
    """
    years = cells.years
    target = years[-1] if target_year is None else int(target_year)
    earlier = [y for y in years if y < target]
    if base_year is None:
        if not earlier:
            raise ContractError(f"the data hold only the year {target} before or at the target "
                                "year; the multi-year weighting needs an earlier year's records "
                                "(or set base_year and target_year)")
        base = earlier[-1]
    else:
        base = int(base_year)
    for name, year in (("base_year", base), ("target_year", target)):
        if year not in years:
            raise ParameterError(f"parameter '{name}' is {year}; the data have "
                                 f"{', '.join(map(str, years))}")
    if base == target:
        raise ParameterError(f"base_year and target_year are both {base}; give two different "
                             "years")
    return base, target


def _mapping(groups: Grouping | Mapping[str, Mapping[str, int]], scheme: str,
             what: str) -> dict[str, int]:
    if isinstance(groups, Grouping):
        if scheme not in groups.schemes:
            raise ParameterError(f"the {what} grouping has no scheme {scheme}; group that scheme "
                                 "too")
        return groups.mapping(scheme)
    if scheme not in groups:
        raise ParameterError(f"parameter '{what}' has no mapping for scheme {scheme} (it has "
                             f"{', '.join(map(str, groups))}); give one for every scheme")
    mapping = {str(k): int(v) for k, v in groups[scheme].items()}
    values = sorted(set(mapping.values()))
    if values != list(range(1, len(values) + 1)):
        raise ParameterError(f"parameter '{what}' for {scheme} must number its groups 1, 2, ... "
                             "without gaps")
    return mapping


def _state_of(atoms: pd.DataFrame, diseases: dict[str, int], scheme: str) -> np.ndarray:
    n = atoms["n_diseases"].to_numpy()
    single = atoms["disease"].to_numpy()
    missing = sorted({d for d, k in zip(single, n, strict=True) if k == 1 and d not in diseases})
    if missing:
        raise ParameterError(f"disease '{missing[0]}' occurs in {scheme} but has no group in the "
                             "disease grouping; add it (or use groups=clustered)")
    return np.array(["none" if k == 0 else f"single:{diseases[d]}" if k == 1 else
                     "two" if k == 2 else "three" for d, k in zip(single, n, strict=True)],
                    dtype=object)


def _per_capita(atoms: pd.DataFrame, mask: np.ndarray, target: int, base: int) -> float:
    for year in (target, base):
        part = atoms[mask & (atoms["year"] == year).to_numpy()]
        if part["persons"].sum() > 0:
            return float(part["sum_y"].sum() / part["persons"].sum())
    return float("nan")


def _closer(candidates: list[int], own: float, cost: dict[int, float]) -> int:
    """The candidate whose per-capita cost is closer to ``own`` (ties and NaN: the first)."""
    if len(candidates) == 1 or not np.isfinite(own):
        return candidates[0]
    gaps = [abs(cost[c] - own) if np.isfinite(cost[c]) else np.inf for c in candidates]
    return candidates[int(np.argmin(gaps))]


def _structure(atoms: pd.DataFrame, age_map: dict[str, int], disease_map: dict[str, int],
               years: tuple[int, int], min_cell_size: int, scheme: str) -> ModelStructure:
    """Pool genders, age groups, disease groups and hospitalisation (see the module's rules)."""
    base, target = years
    notes = []
    missing = sorted(set(atoms["age_band"]) - set(age_map), key=AGE_BANDS.index)
    if missing:
        raise ParameterError(f"age band '{missing[0]}' occurs in {scheme} but has no group in "
                             "the age grouping; add it (or use groups=clustered)")
    persons = atoms["persons"].to_numpy(float)
    year = atoms["year"].to_numpy()

    def small(mask: np.ndarray) -> bool:
        return any(persons[mask & (year == y)].sum() < min_cell_size for y in years)

    gender = atoms["gender"].to_numpy()
    by_gender = not any(small(gender == g) for g in (1, 2))
    if not by_gender:
        notes.append(f"one gender has fewer than {min_cell_size} persons in a year: men and "
                     "women share their standards")
    # age groups
    band_group = dict(age_map)
    while True:
        groups = sorted(set(band_group[b] for b in atoms["age_band"].unique()))
        group_of = atoms["age_band"].map(band_group).to_numpy()
        genders = (1, 2) if by_gender else (None,)
        offending = []
        for a in groups:
            for g in genders:
                mask = (group_of == a) & (True if g is None else gender == g)
                if small(mask):
                    counts = [persons[mask & (year == y)].sum() for y in years]
                    offending.append((min(counts), a))
        if not offending or len(groups) == 1:
            if offending and by_gender:
                by_gender = False
                notes.append("too few persons of one gender in the only age group: men and "
                             "women share their standards")
                continue
            break
        _, worst = min(offending)
        position = groups.index(worst)
        neighbours = [groups[i] for i in (position - 1, position + 1) if 0 <= i < len(groups)]
        cost = {a: _per_capita(atoms, group_of == a, target, base) for a in groups}
        into = _closer(neighbours, cost[worst], cost)
        notes.append(f"age group {worst} has fewer than {min_cell_size} persons in a cell: "
                     f"pooled with age group {into}")
        band_group = {b: into if g == worst else g for b, g in band_group.items()}
    order = sorted(set(band_group.values()))
    band_group = {b: order.index(g) + 1 for b, g in band_group.items()}
    # disease groups
    states = _state_of(atoms, disease_map, scheme)
    singles = sorted(set(disease_map.values()))
    categories: list[set[str]] = [{f"single:{g}"} for g in singles] + [{"two"}, {"three"}]

    def members(category: set[str]) -> np.ndarray:
        return np.isin(states, list(category))

    categories = [c for c in categories if persons[members(c)].sum() > 0]

    def is_single(category: set[str]) -> bool:
        return all(s.startswith("single:") for s in category)

    while True:
        single_cats = [c for c in categories if is_single(c)]
        offending = [(min(persons[members(c) & (year == y)].sum() for y in years), i)
                     for i, c in enumerate(categories) if is_single(c) and small(members(c))]
        if not offending or len(single_cats) < 2:
            break
        _, worst = min(offending)
        positions = [i for i, c in enumerate(categories) if is_single(c)]
        at = positions.index(worst)
        neighbours = [positions[j] for j in (at - 1, at + 1) if 0 <= j < len(positions)]
        cost = {i: _per_capita(atoms, members(categories[i]), target, base) for i in positions}
        into = _closer(neighbours, cost[worst], cost)
        notes.append(f"single-disease group {_groups_text(categories[worst])} has fewer than "
                     f"{min_cell_size} persons in a year: pooled with group "
                     f"{_groups_text(categories[into])}, its neighbour closer in cost")
        categories[into] = categories[into] | categories[worst]
        del categories[worst]
    multi = [c for c in categories if not is_single(c)]
    if len(multi) == 2 and any(small(members(c)) for c in multi):
        categories = [c for c in categories if is_single(c)] + [{"two", "three"}]
        notes.append(f"two diseases or three or more has fewer than {min_cell_size} persons in "
                     "a year: pooled as two or more diseases")
    multi = [c for c in categories if not is_single(c)]
    single_cats = [c for c in categories if is_single(c)]
    if multi and small(members(multi[0])) and single_cats:
        categories = [single_cats[0] | multi[0], *single_cats[1:]]
        notes.append(f"persons with two or more diseases are fewer than {min_cell_size} in a "
                     "year: pooled with single-disease group 1, the dearest")
    single_cats = [c for c in categories if is_single(c)]
    multi = [c for c in categories if not is_single(c)]
    if len(single_cats) == 1 and small(members(single_cats[0])) and multi:
        categories = [single_cats[0] | multi[0]]
        notes.append(f"single-disease patients are fewer than {min_cell_size} in a year: pooled "
                     "with the multi-disease patients (any disease)")
    if len(categories) == 1 and small(members(categories[0])):
        categories = []
        notes.append(f"persons with a disease are fewer than {min_cell_size} in a year: priced "
                     "as persons without")
    state_group = {"none": 0}
    labels = {}
    for number, category in enumerate(categories, start=1):
        for state in category:
            state_group[state] = number
        labels[number] = _label(category, number, singles)
    for state in [f"single:{g}" for g in singles] + ["two", "three"]:
        state_group.setdefault(state, 0)
    disease_groups = {d: state_group[f"single:{g}"] for d, g in disease_map.items()}
    # hospitalisation in the previous year
    inpatient = atoms["inpatient"].to_numpy()
    has_inpatient = not (small(inpatient == 1) or small(inpatient == 0))
    if not has_inpatient:
        notes.append(f"persons hospitalised (or not) in the previous year are fewer than "
                     f"{min_cell_size} in a year: no hospitalisation term")
    return ModelStructure(band_group, len(order), by_gender, state_group, labels, disease_groups,
                          has_inpatient, dict(disease_map), tuple(f"{scheme}: {n}" for n in notes))


def _groups_text(category: set[str]) -> str:
    """The clustered single-disease groups of a category, as ``2`` or ``2+3``."""
    return "+".join(str(g) for g in sorted(int(s.split(":")[1]) for s in category
                                           if s.startswith("single:")))


def _label(category: set[str], number: int, singles: list[int]) -> str:
    single = {s for s in category if s.startswith("single:")}
    multi = frozenset(category - single)
    parts = []
    if single:
        parts.append("any single disease" if len(single) == len(singles) and multi
                     else f"group {number}")
    if multi:
        parts.append(_MULTI_LABELS[multi])
    if single and len(single) == len(singles) and multi == frozenset({"two", "three"}):
        return "any disease"
    return " and ".join(parts)


@dataclass(frozen=True, eq=False)
class PaymentStandards:
    """The payment-standard regressions and standards (see :func:`payment_standards`).

    Attributes
    ----------
    coefficients
        One row per scheme, year and term: estimate, HC1 standard error, t statistic, p-value,
        interval, conventional standard error, ``persons`` behind the term, ``n_obs``.
    cells
        One row per scheme, year and occupied cell: persons, fund expenditure, its square sum
        and length of stay (aggregates; not published as such).
    fit
        One row per scheme and year: persons, R², actual expenditure.
    structures
        Per scheme, the model's cells after pooling (:class:`ModelStructure`).
    years
        Base and target year.
    include_los
        Whether length of stay entered the model.
    notes
        What was pooled.
    """

    coefficients: pd.DataFrame = field(repr=False)
    cells: pd.DataFrame = field(repr=False)
    fit: pd.DataFrame = field(repr=False)
    structures: dict[str, ModelStructure] = field(repr=False)
    years: tuple[int, int]
    include_los: bool
    notes: tuple[str, ...]
    min_cell_size: int
    atoms: pd.DataFrame = field(repr=False)
    fits: dict[tuple[str, int], Fit] = field(repr=False)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def schemes(self) -> tuple[str, ...]:
        """Schemes with standards."""
        return tuple(self.structures)

    @property
    def age_groups(self) -> dict[str, dict[str, int]]:
        """Per scheme, band -> age group (after pooling)."""
        return {s: dict(m.age_groups) for s, m in self.structures.items()}

    @property
    def disease_groups(self) -> dict[str, dict[str, int]]:
        """Per scheme, disease code -> OCSD group of its single-disease patients."""
        return {s: dict(m.disease_groups) for s, m in self.structures.items()}

    def n_groups(self, scheme: str) -> tuple[int, int]:
        """(age groups, OCSD groups with a term) of ``scheme``."""
        structure = self.structures[scheme]
        return structure.n_age, structure.n_ocsd

    def terms(self, scheme: str) -> list[str]:
        """All terms of the scheme's model."""
        return self.structures[scheme].terms(self.include_los)

    def params(self, scheme: str, year: int) -> pd.Series:
        """Coefficients of one scheme-year by term."""
        rows = self.coefficients[(self.coefficients["scheme"] == scheme)
                                 & (self.coefficients["year"] == int(year))]
        return rows.set_index("term")["estimate"].reindex(self.terms(scheme))

    def table(self) -> pd.DataFrame:
        """Tidy coefficients (one row per scheme, year and term); a term resting on fewer than
        ``min_cell_size`` persons would be withheld (pooling prevents it)."""
        frame = self.coefficients.copy()
        small = frame["persons"].to_numpy(float) < self.min_cell_size
        for column in ("estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high",
                       "std_error_conventional"):
            frame[column] = frame[column].where(~small)
        frame["suppressed"] = small
        frame.attrs["min_cell_size"] = self.min_cell_size
        frame.attrs["suppressed_cells"] = int(small.sum())
        return frame

    def standards_table(self, scheme: str | None = None, year: int | None = None) -> pd.DataFrame:
        """Standards for every gender x age group x OCSD group x inpatient cell.

        ``standard`` = intercept + the cell's coefficients (RMB per person-year), floored at 0
        (``floored``); ``std_error`` its HC1 standard error (empty when floored); ``persons``
        and ``observed_mean`` of cells under ``min_cell_size`` persons are suppressed. With
        ``include_los`` the standard is for a stay of 0 days (add the ``los`` coefficient per day).
        """
        key = (scheme, None if year is None else int(year))
        if key not in self._cache:
            self._cache[key] = self._standards_table(scheme, year)
        return self._cache[key].copy()

    def _standards_table(self, scheme: str | None, year: int | None) -> pd.DataFrame:
        rows = []
        for s in self.schemes if scheme is None else [scheme]:
            structure = self.structures[s]
            for y in self.years if year is None else [int(year)]:
                if (s, y) not in self.fits:
                    continue
                grid = pd.DataFrame(list(itertools.product(
                    (1, 2), range(1, structure.n_age + 1), range(0, structure.n_ocsd + 1),
                    (0, 1))), columns=["gender", "age_group", "ocsd_group", "inpatient"])
                grid.insert(0, "year", y)
                grid.insert(0, "scheme", s)
                standard, se, floored = self._standards(s, y, grid)
                grid["standard"] = standard
                grid["std_error"] = np.where(floored, np.nan, se)
                grid["floored"] = floored
                observed = self.cells[(self.cells["scheme"] == s) & (self.cells["year"] == y)]
                keys = ["gender", "age_group", "ocsd_group", "inpatient"]
                grid = grid.merge(observed[[*keys, "persons", "sum_y"]], on=keys, how="left")
                grid["persons"] = grid["persons"].fillna(0)
                grid["observed_mean"] = grid["sum_y"] / grid["persons"].where(grid["persons"] > 0)
                grid.insert(5, "ocsd_label", grid["ocsd_group"].map(
                    lambda o, st=structure: "none" if o == 0 else st.ocsd_labels[o]))
                rows.append(grid.drop(columns="sum_y"))
        if not rows:
            raise ParameterError(f"no standards for scheme {scheme!r} and year {year!r}")
        table = pd.concat(rows, ignore_index=True)
        return suppress(table, "persons", ["observed_mean"], self.min_cell_size)

    def _standards(self, scheme: str, year: int, cells: pd.DataFrame
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        structure = self.structures[scheme]
        design, terms = structure.design(*(cells[c].to_numpy() for c in (
            "gender", "age_group", "ocsd_group", "inpatient")))
        beta = self.params(scheme, year)[terms].to_numpy(float)
        value = design @ beta
        fit = self.fits[(scheme, year)]
        index = [fit.terms.index(t) for t in terms]
        cov = fit.cov_hc1[np.ix_(index, index)]
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", design, cov, design), 0.0))
        floored = value < 0
        return np.where(floored, 0.0, value), se, floored

    def predict(self, atoms: pd.DataFrame, scheme: str, year: int) -> tuple[np.ndarray, float]:
        """Per-person standard of ``year`` (floored, without length of stay) for each atom with
        columns gender, age_group, ocsd_group, inpatient, and the length-of-stay coefficient."""
        keys = ["gender", "age_group", "ocsd_group", "inpatient"]
        codes = atoms[keys].to_numpy(np.int64)
        combined = ((codes[:, 0] * 1000 + codes[:, 1]) * 1000 + codes[:, 2]) * 10 + codes[:, 3]
        _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        standard, _, _ = self._standards(scheme, year, pd.DataFrame(codes[first], columns=keys))
        los = float(self.params(scheme, year)["los"]) if self.include_los else 0.0
        return standard[np.ravel(inverse)], los

    def diagnostics(self) -> dict[str, Any]:
        """R² per scheme-year, the groups after pooling, floored cells and the pooling notes."""
        grid = self.standards_table()
        return {
            "r_squared": {f"{r.scheme} {r.year}": r.r_squared for r in self.fit.itertuples()},
            "groups": {s: {"age_groups": m.n_age, "ocsd_groups": m.n_ocsd,
                           "by_gender": m.by_gender, "inpatient_term": m.inpatient,
                           "ocsd_labels": {str(k): v for k, v in m.ocsd_labels.items()},
                           "age_group_of_band": dict(m.age_groups),
                           "ocsd_group_of_disease": dict(m.disease_groups),
                           "ocsd_group_of_two": m.states.get("two", 0),
                           "ocsd_group_of_three": m.states.get("three", 0)}
                       for s, m in self.structures.items()},
            "floored_cells": int(grid["floored"].sum()),
            "suppressed_cells": int(grid["suppressed"].sum()),
            "notes": list(self.notes)}

    def summary(self) -> str:
        """One line per scheme-year: persons, R² and the size of the model."""
        lines = []
        for r in self.fit.itertuples():
            n_age, n_ocsd = self.n_groups(r.scheme)
            lines.append(f"{r.scheme} {r.year}: {r.n_obs:,} persons, {n_age} age groups, "
                         f"{n_ocsd} disease groups, R² {r.r_squared:.3f}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"PaymentStandards({', '.join(self.schemes)}; {self.years[0]} and "
                f"{self.years[1]}; {len(self.notes)} pooling notes)")


def payment_standards(
    cells: CellStatistics,
    age_groups: Grouping | Mapping[str, Mapping[str, int]],
    disease_groups: Grouping | Mapping[str, Mapping[str, int]],
    *,
    years: tuple[int, int] | None = None,
    include_los: bool = False,
    alpha: float = 0.05,
    min_cell_size: int = MIN_CELL_SIZE,
) -> PaymentStandards:
    """Fit the payment-standard regression per scheme for the base and the target year.

    Parameters
    ----------
    cells
        From :func:`cell_statistics`.
    age_groups, disease_groups
        :class:`Grouping` results, or mappings ``{scheme: {item: group}}`` (for example the GZ
        paper's, :func:`paper_groupings`). Groups are then pooled (see the module's rules) so
        that every coefficient rests on at least ``min_cell_size`` persons in both years.
    years
        Base and target year (default: the two latest years).
    include_los
        Add length of stay as a linear term (the GZ paper drops it; see :func:`screen_factors`).
    alpha
        Level of the intervals.
    min_cell_size
        Smallest number of persons behind any coefficient.

    Examples
    --------
    >>> from payreform.capitation.cells import cell_statistics
    >>> rng = np.random.default_rng(2)
    >>> n = 2000
    >>> frame = pd.DataFrame({"person_id": range(n), "year": rng.choice([2010, 2011], n),
    ...     "scheme": "A", "gender": rng.integers(1, 3, n), "age": rng.integers(20, 80, n),
    ...     "ocsd": rng.choice(["", "", "", "D1", "D2", "D1;D2"], n),
    ...     "inpatient_prev_year": rng.integers(0, 2, n), "los": 0,
    ...     "fund_exp": rng.gamma(2.0, 100.0, n).round(2)})
    >>> frame["los"] = frame["inpatient_prev_year"] * 5
    >>> cells = cell_statistics(frame)
    >>> ages = {"A": {b: 1 if b < "5" else 2 for b in ("16-25", "26-35", "36-45", "46-55",
    ...         "56-60", "61-65", "66-70", "71-75", "76-80")}}
    >>> standards = payment_standards(cells, ages, {"A": {"D1": 1, "D2": 2}})
    >>> standards.terms("A")[:3], standards.years
    (['intercept', 'gender_age_1_2', 'gender_age_2_1'], (2010, 2011))
    """
    min_cell_size = check_min_cell_size(min_cell_size)
    if years is None:
        years = two_latest_years(cells)
    years = (int(years[0]), int(years[1]))
    coefficient_rows, cell_rows, fit_rows, atom_parts, notes = [], [], [], [], []
    fits: dict[tuple[str, int], Fit] = {}
    structures: dict[str, ModelStructure] = {}
    for scheme in cells.schemes:
        atoms = cells.subset(scheme)
        atoms = atoms[atoms["year"].isin(years)].copy()
        if any(atoms.loc[atoms["year"] == y, "persons"].sum() < min_cell_size for y in years):
            notes.append(f"{scheme}: fewer than {min_cell_size} persons in {years[0]} or "
                         f"{years[1]}; no standards")
            continue
        structure = _structure(atoms, _mapping(age_groups, scheme, "age_groups"),
                               _mapping(disease_groups, scheme, "disease_groups"), years,
                               min_cell_size, scheme)
        structures[scheme] = structure
        notes += structure.notes
        atoms["age_group"] = atoms["age_band"].map(structure.age_groups).astype(int)
        atoms["ocsd_group"] = pd.Series(_state_of(atoms, structure.single_groups, scheme),
                                        index=atoms.index).map(structure.states).astype(int)
        atom_parts.append(atoms)
        keys = ["year", "gender", "age_group", "ocsd_group", "inpatient"]
        grouped = atoms.groupby(keys, as_index=False, sort=True)[list(MOMENTS)].sum()
        for year in years:
            part = grouped[grouped["year"] == year].reset_index(drop=True)
            design, terms = structure.design(*(part[c].to_numpy() for c in (
                "gender", "age_group", "ocsd_group", "inpatient")))
            support = part["persons"].to_numpy(float) @ design
            moments = {m: part[m].to_numpy(float) for m in MOMENTS}
            try:
                fit = ols_from_moments(design, moments, terms + (["los"] if include_los else []),
                                       include_los)
            except np.linalg.LinAlgError:
                raise ContractError(f"{scheme} {year}: the payment model's groups overlap "
                                    "exactly (a singular design); set fewer groups with k_age "
                                    "or k_disease") from None
            fits[(scheme, year)] = fit
            rows = fit.rows("HC1", alpha)
            rows["std_error_conventional"] = np.sqrt(np.maximum(np.diag(fit.cov_conventional),
                                                                0.0))
            los_support = float(part.loc[part["sum_los"] > 0, "persons"].sum())
            rows["persons"] = [*support, los_support][: len(rows)]
            rows["n_obs"] = fit.n_obs
            rows.insert(0, "year", year)
            rows.insert(0, "scheme", scheme)
            coefficient_rows.append(rows)
            observed = part[[*keys, "persons", "sum_y", "sum_y2", "sum_los"]].copy()
            observed.insert(0, "scheme", scheme)
            cell_rows.append(observed)
            fit_rows.append({"scheme": scheme, "year": year, "n_obs": fit.n_obs,
                             "r_squared": fit.r_squared, "actual": fit.sum_y})
    if not structures:
        raise ContractError(f"no scheme has {min_cell_size} persons or more in both {years[0]} "
                            f"and {years[1]}; there are no standards to estimate")
    return PaymentStandards(
        pd.concat(coefficient_rows, ignore_index=True), pd.concat(cell_rows, ignore_index=True),
        pd.DataFrame(fit_rows), structures, years, bool(include_los), tuple(notes),
        min_cell_size, pd.concat(atom_parts, ignore_index=True), fits)

