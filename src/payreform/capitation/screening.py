"""Step 1 of the method: which risk factors matter? Factor screening regressions.

Per scheme and year, OLS of annual outpatient fund expenditure on gender, age, any chronic and
special disease (OCSD), inpatient status in the previous year and length of stay, exactly from
the cell statistics, with HC1 and conventional standard errors and each factor's contribution
to R² (drop-one and Shapley/LMG). Length of stay is dropped from the payment model when it is not
significant in some scheme-year (a region uses one set of factors).

Disclosure: a coefficient of a 0/1 factor one of whose levels holds fewer than ``min_cell_size``
persons would reveal that small group's spending; it is withheld (with its R² contributions).
A scheme-year with fewer than ``min_cell_size`` persons is not screened.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from payreform.capitation.cells import CellStatistics, ols_from_moments, subset_r_squared
from payreform.capitation.schema import (
    MIN_CELL_SIZE,
    MOMENTS,
    SCREENING_FACTORS,
    check_min_cell_size,
)
from payreform.errors import ContractError, ParameterError, check_choice

__all__ = ["ScreeningResult", "screen_factors"]

_VALUE_COLUMNS = ("estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high")


@dataclass(frozen=True, eq=False)
class ScreeningResult:
    """Factor screening regressions, one per scheme and year (see :func:`screen_factors`).

    Attributes
    ----------
    coefficients
        One row per scheme, year and term: estimate, HC1 standard error, t statistic, p-value
        and interval (``cov_type``), the conventional standard error and p-value, ``persons``
        (the smaller level of a 0/1 factor, persons with a stay for length of stay, all persons
        otherwise) and ``suppressed`` (withheld: fewer than ``min_cell_size`` persons, or the
        factor does not vary).
    contributions
        One row per scheme, year and factor: ``r2_drop_one`` (R² lost when the factor alone is
        left out) and ``r2_shapley`` (its Shapley value of R², the LMG measure: its R² gain
        averaged over all orders of entry; the values add up to the model's R²).
    fit
        One row per scheme and year: persons, R², adjusted R², p-value of length of stay.
    drop_los
        True if length of stay is left out of the payment model.
    los_reason
        Why, in words.
    """

    coefficients: pd.DataFrame
    contributions: pd.DataFrame
    fit: pd.DataFrame
    drop_los: bool
    los_reason: str
    alpha: float
    cov_type: str
    min_cell_size: int = MIN_CELL_SIZE
    notes: tuple[str, ...] = field(default=())

    @property
    def kept_factors(self) -> tuple[str, ...]:
        """The factors kept for the payment model."""
        return tuple(f for f in SCREENING_FACTORS if not (f == "los" and self.drop_los))

    def table(self) -> pd.DataFrame:
        """Tidy: one row per scheme, year and term, with the R² contributions of each factor."""
        table = self.coefficients.merge(
            self.contributions.rename(columns={"factor": "term"}),
            on=["scheme", "year", "term"], how="left")
        return table.reset_index(drop=True)

    def diagnostics(self) -> dict[str, Any]:
        """The length-of-stay rule and the R² of each scheme-year."""
        return {"drop_los": self.drop_los, "los_rule": self.los_reason,
                "r_squared": {f"{r.scheme} {r.year}": r.r_squared for r in self.fit.itertuples()},
                "notes": list(self.notes)}

    def summary(self) -> str:
        """One sentence per scheme-year: persons and R², then the length-of-stay rule."""
        lines = [f"{r.scheme} {r.year}: {r.n_obs:,} persons, R² {r.r_squared:.3f}"
                 for r in self.fit.itertuples()]
        return "\n".join([*lines, self.los_reason])

    def __repr__(self) -> str:
        return f"ScreeningResult({len(self.fit)} regressions; {self.los_reason})"


def _factor_columns(atoms: pd.DataFrame) -> dict[str, np.ndarray]:
    return {"gender": (atoms["gender"] == 2).to_numpy(float), "age": atoms["age"].to_numpy(float),
            "ocsd": (atoms["n_diseases"] > 0).to_numpy(float),
            "inpatient": atoms["inpatient"].to_numpy(float)}


def _support(atoms: pd.DataFrame, columns: dict[str, np.ndarray]) -> dict[str, tuple[float, bool]]:
    """Persons behind each factor's coefficient, and whether the factor varies."""
    n = atoms["persons"].to_numpy(float)
    total = n.sum()
    support = {}
    for factor in ("gender", "ocsd", "inpatient"):
        ones = float(n @ columns[factor])
        support[factor] = (min(ones, total - ones), 0 < ones < total)
    ages = columns["age"]
    support["age"] = (total, bool(np.ptp(ages[n > 0]) > 0) if total else False)
    stay = float(atoms.loc[atoms["sum_los"] > 0, "persons"].sum())
    los_variance = (atoms["sum_los2"].sum() / total - (atoms["sum_los"].sum() / total) ** 2
                    if total else 0.0)
    support["los"] = (stay, stay > 0 and los_variance > 1e-12)
    return support


def _independent(factors: list[str], columns: dict[str, np.ndarray],
                 atoms: pd.DataFrame) -> list[str]:
    """The factors, in order, that are not linear combinations of the intercept and earlier
    ones (checked on the persons-weighted Gram matrix, with length of stay from its moments)."""
    n = atoms["persons"].to_numpy(float)
    kept: list[str] = []
    for factor in factors:
        trial = [*kept, factor]
        z = np.column_stack([np.ones(len(atoms))] + [columns[f] for f in trial if f != "los"])
        gram = z.T @ (z * n[:, None])
        if "los" in trial:
            cross = z.T @ atoms["sum_los"].to_numpy(float)
            gram = np.block([[gram, cross[:, None]],
                             [cross[None, :], np.array([[atoms["sum_los2"].sum()]])]])
        scale = np.sqrt(np.diag(gram))
        scale[scale == 0] = 1.0
        if np.linalg.matrix_rank(gram / np.outer(scale, scale), tol=1e-10) == len(gram):
            kept.append(factor)
    return kept


def screen_factors(
    cells: CellStatistics,
    *,
    years: tuple[int, ...] | None = None,
    alpha: float = 0.05,
    cov_type: str = "HC1",
    min_cell_size: int = MIN_CELL_SIZE,
) -> ScreeningResult:
    """Multiple linear regression of fund expenditure on the candidate risk factors.

    Per scheme and year: ``fund_exp ~ gender + age + ocsd + inpatient + los`` with gender = 1 for
    women, age in years, ocsd = 1 with any disease of the ``ocsd`` column, inpatient = 1 if
    hospitalised in the previous year, los in days. Computed exactly from
    :class:`CellStatistics`. Length of stay is dropped everywhere when its p-value exceeds
    ``alpha`` in at least one scheme-year (the GZ paper: a region uses one set of factors), or
    when too few persons had a stay to judge it.

    Parameters
    ----------
    cells
        From :func:`cell_statistics`.
    years
        Years to screen (default: every year).
    alpha
        Significance level of the length-of-stay rule and of the intervals.
    cov_type
        ``"HC1"`` (heteroskedasticity-robust, default) or ``"conventional"`` p-values for the rule.
    min_cell_size
        Coefficients resting on fewer persons are withheld.

    Examples
    --------
    >>> from payreform.capitation.cells import cell_statistics
    >>> rng = np.random.default_rng(1)
    >>> frame = pd.DataFrame({"person_id": range(400), "year": 2010, "scheme": "A",
    ...     "gender": rng.integers(1, 3, 400), "age": rng.integers(20, 80, 400),
    ...     "ocsd": rng.choice(["", "D1"], 400), "inpatient_prev_year": rng.integers(0, 2, 400),
    ...     "los": 0, "fund_exp": rng.gamma(2.0, 100.0, 400).round(2)})
    >>> frame["los"] = frame["inpatient_prev_year"] * rng.integers(1, 10, 400)
    >>> screening = screen_factors(cell_statistics(frame))
    >>> screening.coefficients["term"].tolist()
    ['intercept', 'gender', 'age', 'ocsd', 'inpatient', 'los']
    """
    check_choice("cov_type", cov_type, ["HC1", "conventional"])
    if not 0 < alpha < 1:
        raise ParameterError(f"parameter 'alpha' is {alpha!r}; use a number between 0 and 1")
    min_cell_size = check_min_cell_size(min_cell_size)
    years = cells.years if years is None else tuple(int(y) for y in years)
    coefficient_rows, contribution_rows, fit_rows, notes = [], [], [], []
    los_p: dict[tuple[str, int], float] = {}
    for scheme in cells.schemes:
        for year in years:
            atoms = cells.subset(scheme, year)
            persons = int(atoms["persons"].sum())
            if persons < min_cell_size:
                if persons:
                    notes.append(f"{scheme} {year} has fewer than {min_cell_size} persons: not "
                                 "screened")
                continue
            columns = _factor_columns(atoms)
            support = _support(atoms, columns)
            usable = _independent([f for f in SCREENING_FACTORS if support[f][1]], columns,
                                  atoms)
            for factor in SCREENING_FACTORS:
                if support[factor][1] and factor not in usable:
                    notes.append(f"{scheme} {year}: {factor} is collinear with the other "
                                 "factors and left out")
            design = np.column_stack([np.ones(len(atoms))]
                                     + [columns[f] for f in usable if f != "los"])
            terms = ["intercept", *[f for f in usable if f != "los"]]
            include_los = "los" in usable
            moments = {m: atoms[m].to_numpy(float) for m in MOMENTS}
            fit = ols_from_moments(design, moments, terms + (["los"] if include_los else []),
                                   include_los=include_los)
            rows = fit.rows(cov_type, alpha)
            other = fit.rows("conventional" if cov_type == "HC1" else "HC1", alpha)
            suffix = "conventional" if cov_type == "HC1" else "hc1"
            rows[f"std_error_{suffix}"] = other["std_error"]
            rows[f"p_value_{suffix}"] = other["p_value"]
            rows = rows.set_index("term").reindex(["intercept", *SCREENING_FACTORS]).reset_index()
            rows["persons"] = [float(persons)] + [support[f][0] for f in SCREENING_FACTORS]
            withheld = rows["persons"].to_numpy(float) < min_cell_size
            withheld |= rows["estimate"].isna().to_numpy()
            for column in (*_VALUE_COLUMNS, f"std_error_{suffix}", f"p_value_{suffix}"):
                rows[column] = rows[column].where(~withheld)
            rows["suppressed"] = withheld
            rows["persons"] = rows["persons"].where(rows["persons"] >= min_cell_size)
            rows.insert(0, "year", year)
            rows.insert(0, "scheme", scheme)
            rows["n_obs"] = fit.n_obs
            coefficient_rows.append(rows)
            hidden = set(rows.loc[withheld, "term"])
            for factor in SCREENING_FACTORS:
                if factor in hidden and support[factor][1]:
                    notes.append(f"{scheme} {year}: the {factor} coefficient rests on fewer than "
                                 f"{min_cell_size} persons and is withheld")
            p_los = rows.loc[rows["term"] == "los", "p_value"].iloc[0]
            if np.isfinite(p_los):
                los_p[(scheme, year)] = float(p_los)
            contribution_rows += _contributions(fit, scheme, year, hidden)
            r2 = fit.r_squared
            fit_rows.append({"scheme": scheme, "year": year, "n_obs": fit.n_obs, "r_squared": r2,
                             "adj_r_squared": 1 - (1 - r2) * (fit.n_obs - 1)
                             / max(fit.df_resid, 1),
                             "los_p_value": los_p.get((scheme, year), float("nan"))})
    if not fit_rows:
        raise ContractError(f"no scheme has {min_cell_size} persons or more in any year; there "
                            "is nothing to screen")
    drop, reason = _los_rule(los_p, alpha)
    contributions = pd.DataFrame(contribution_rows, columns=[
        "scheme", "year", "factor", "r2_drop_one", "r2_shapley", "r2_shapley_share"])
    return ScreeningResult(pd.concat(coefficient_rows, ignore_index=True), contributions,
                           pd.DataFrame(fit_rows), drop, reason, float(alpha), cov_type,
                           min_cell_size, tuple(notes))


def _los_rule(los_p: dict[tuple[str, int], float], alpha: float) -> tuple[bool, str]:
    """Drop length of stay if it is not significant somewhere (or could not be judged)."""
    if not los_p:
        return True, ("length of stay left out: too few persons with a stay (or no length of "
                      "stay in the data) to judge it")
    worst = max(los_p, key=los_p.get)
    if los_p[worst] > alpha:
        return True, (f"length of stay dropped: p = {los_p[worst]:.3g} > {alpha:g} in "
                      f"{worst[0]} {worst[1]}")
    return False, f"length of stay kept: p <= {alpha:g} in every scheme and year"


def _contributions(fit: Any, scheme: str, year: int, hidden: set[str]) -> list[dict[str, Any]]:
    """Drop-one and Shapley (LMG) R² contributions of each factor, from the fit's Gram matrix."""
    terms = list(fit.terms)
    r2 = fit.r_squared
    factors = list(range(1, len(terms)))
    subset_r2 = {(): 0.0}
    for size in range(1, len(factors) + 1):
        for subset in itertools.combinations(factors, size):
            subset_r2[subset] = r2 if size == len(factors) else subset_r_squared(fit, subset)
    p = len(factors)
    rows = []
    for j in factors:
        others = [f for f in factors if f != j]
        shapley = 0.0
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for subset in itertools.combinations(others, size):
                with_j = tuple(sorted((*subset, j)))
                shapley += weight * (subset_r2[with_j] - subset_r2[subset])
        withheld = terms[j] in hidden
        rows.append({"scheme": scheme, "year": year, "factor": terms[j],
                     "r2_drop_one": np.nan if withheld else r2 - subset_r2[tuple(others)],
                     "r2_shapley": np.nan if withheld else shapley,
                     "r2_shapley_share": (np.nan if withheld or not r2 > 0 else shapley / r2)})
    return rows
