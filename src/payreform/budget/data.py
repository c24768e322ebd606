"""The data contract of the budget chapter: one row per year of a coalition's spending.

Columns (names are parameters): the year; the coalition's insured spending; for a budget set by
population, the population and the per-capita premium of each year (or the population budget
itself); optionally whether the coalition passed the annual assessment (0/1). Amounts may be in
any unit (RMB, 10,000 RMB, ...): the unit is read from the column's name where it says so
(``支出(万元)``, ``spending_10k``, ``spending_million``) or given as ``spending_unit``, so that
population x premium (in RMB) can be put in the same unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from payreform.contracts import numeric_column, require_column
from payreform.errors import ContractError, ParameterError
from payreform.periods import parse_periods, row_of

_UNITS = (  # (pattern, RMB per unit), most specific first
    (re.compile(r"亿|100\s*m(illion)?\b|_100m\b|hundred\s*million", re.I), 1e8),
    (re.compile(r"百万|million|_m\b|\(m\)|mn\b", re.I), 1e6),
    (re.compile(r"万|10\s*k\b|_10k\b|10,000|ten\s*thousand", re.I), 1e4),
    (re.compile(r"千|thousand|_k\b|\(k\)", re.I), 1e3),
    (re.compile(r"元|rmb|yuan|cny", re.I), 1.0),
)
_PERSON_UNITS = ((re.compile(r"万|10\s*k\b|_10k\b|10,000", re.I), 1e4),
                 (re.compile(r"千|thousand|_k\b", re.I), 1e3))

UNIT_NAMES = {1.0: "RMB", 1e3: "thousand RMB", 1e4: "10,000 RMB", 1e6: "million RMB", 1e8: "100 million RMB"}


def unit_from_name(column: str) -> float | None:
    """RMB per unit of an amount column, read from its name, or None if the name does not say.

    Examples
    --------
    >>> unit_from_name("医保支出(万元)"), unit_from_name("spending_million"), unit_from_name("spending")
    (10000.0, 1000000.0, None)
    """
    for pattern, unit in _UNITS:
        if pattern.search(str(column)):
            return unit
    return None


def persons_from_name(column: str) -> float:
    """Persons per unit of a population column (``人口(万人)`` counts 10,000s); 1 if the name does not say.

    Examples
    --------
    >>> persons_from_name("人口(万人)"), persons_from_name("population")
    (10000.0, 1.0)
    """
    for pattern, unit in _PERSON_UNITS:
        if pattern.search(str(column)):
            return unit
    return 1.0


def unit_name(unit: float | None) -> str:
    """A readable name for RMB per unit (``10,000 RMB``), or ``the data's unit``.

    Examples
    --------
    >>> unit_name(1e4), unit_name(250.0), unit_name(None)
    ('10,000 RMB', '250 RMB', "the data's unit")
    """
    if unit is None:
        return "the data's unit"
    return UNIT_NAMES.get(float(unit), f"{unit:,.10g} RMB")


@dataclass(frozen=True)
class BudgetData:
    """A validated table of yearly spending (see :func:`validate_budget_data`).

    ``population_budget`` is the population x premium budget per year in the spending unit,
    before the insurer's withholding (None if the data have neither population nor a budget
    column); ``budget_given`` says that it came from a budget column (already net of any
    withholding).
    """

    years: tuple[int, ...]
    spending: np.ndarray
    population: np.ndarray | None
    premium: np.ndarray | None
    population_budget: np.ndarray | None
    budget_given: bool
    assessment_passed: np.ndarray

    def table(self) -> pd.DataFrame:
        """The validated inputs, one row per year."""
        frame = pd.DataFrame({"year": self.years, "spending": self.spending})
        if self.population is not None:
            frame["population"] = self.population
            frame["premium"] = self.premium
        if self.population_budget is not None:
            frame["population_budget"] = self.population_budget
        frame["assessment_passed"] = self.assessment_passed
        return frame


def _years(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, tuple[int, ...]]:
    require_column(frame, column, "year_column")
    periods = parse_periods(frame[column], column)
    if periods.freqstr[0] not in ("Y", "A"):
        raise ContractError(f"column '{column}' holds {'monthly' if periods.freqstr[0] == 'M' else 'quarterly'} "
                            f"periods such as {periods[0]}; the budget chapter needs one row per year "
                            "(add up the months first)")
    years = np.asarray(periods.year)
    order = np.argsort(years, kind="stable")
    duplicated = pd.Series(years).duplicated(keep=False).to_numpy()
    if duplicated.any():
        first, second = np.flatnonzero(duplicated)[:2]
        raise ContractError(f"year {years[first]} appears twice in column '{column}' ({row_of(frame.index, first)} "
                            f"and {row_of(frame.index, second)}); keep one row per year")
    ordered = years[order]
    steps = np.diff(ordered)
    if (steps != 1).any():
        where = int(np.flatnonzero(steps != 1)[0])
        raise ContractError(f"the years have a gap: {ordered[where] + 1} missing after {ordered[where]} in column "
                            f"'{column}'; give every year (the budget follows last year's spending)")
    if len(ordered) < 2:
        raise ContractError(f"the data have {len(ordered)} year; the budget rules need at least two consecutive years")
    return order, tuple(int(y) for y in ordered)


def validate_budget_data(frame: pd.DataFrame, *, year_column: str = "year", spending_column: str = "spending",
                         population_column: str | None = None, premium_column: str | None = None,
                         budget_column: str | None = None, assessment_column: str | None = None,
                         spending_unit: float | None = None, persons_per_unit: float = 1.0,
                         population: float | None = None, premium: float | None = None) -> BudgetData:
    """Check a table of yearly spending against the budget chapter's contract.

    Contract: one row per year, consecutive years, at least two; spending numeric and >= 0 in
    every year; population (persons, or ``persons_per_unit`` per unit) and premium (RMB per
    person) > 0 in every year, or a budget column >= 0 (the population budget, in the spending
    unit); an assessment column holds 0 or 1. ``population`` and ``premium`` (numbers) stand in
    for missing columns. The frame is not modified.

    Raises
    ------
    ContractError, ParameterError
        One line naming the column, row or parameter.

    Examples
    --------
    >>> frame = pd.DataFrame({"year": [2020, 2021], "spending_10k": [900.0, 950.0],
    ...                       "population": [1000, 1000], "premium": [10000.0, 10000.0]})
    >>> data = validate_budget_data(frame, spending_column="spending_10k", population_column="population",
    ...                             premium_column="premium", spending_unit=1e4)
    >>> data.years, data.population_budget.tolist()
    ((2020, 2021), [1000.0, 1000.0])
    """
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise ContractError("the data have no rows; export the yearly table again")
    order, years = _years(frame, year_column)
    require_column(frame, spending_column, "spending_column")
    spending = numeric_column(frame, spending_column, minimum=0.0, what="expenditures").to_numpy()[order]
    people = price = budget = None
    if budget_column is not None:
        require_column(frame, budget_column, "budget_column")
        budget = numeric_column(frame, budget_column, minimum=0.0, what="budgets").to_numpy()[order]
    for column, parameter in ((population_column, "population_column"), (premium_column, "premium_column")):
        if column is not None:
            require_column(frame, column, parameter)
    if population_column is not None or population is not None:
        if population_column is not None:
            people = numeric_column(frame, population_column, minimum=0.0, what="populations").to_numpy()[order]
            people = people * persons_per_unit
        else:
            people = np.full(len(years), float(population))
        if premium_column is not None:
            price = numeric_column(frame, premium_column, minimum=0.0, what="premiums").to_numpy()[order]
        elif premium is not None:
            price = np.full(len(years), float(premium))
        else:
            raise ParameterError("the population budget needs the per-capita premium of each year: add a premium "
                                 "column (RMB per person) and set premium_column=<its name>, or set "
                                 "premium_per_person=<RMB>")
        for values, column, what in ((people, population_column, "population"), (price, premium_column, "premium")):
            if (values <= 0).any():
                position = int(np.flatnonzero(values <= 0)[0])
                where = f"column '{column}'" if column else f"parameter '{what}'"
                raise ContractError(f"{where} is 0 in {years[position]}; a {what} must be greater than 0")
        if budget is None:
            if spending_unit is None:
                raise ParameterError(
                    f"parameter 'spending_unit' is needed: how many RMB is one unit of column '{spending_column}'? "
                    "For example --set spending_unit=10000 for 万元 (population x premium is in RMB)")
            budget = people * price / float(spending_unit)
    elif premium_column is not None or premium is not None:
        raise ParameterError("a premium was given without a population: add a population column and set "
                             "population_column=<its name>, or set population=<persons>")
    passed = np.ones(len(years), dtype=bool)
    if assessment_column is not None:
        require_column(frame, assessment_column, "assessment_column")
        values = numeric_column(frame, assessment_column, what="assessment results").to_numpy()[order]
        bad = ~np.isin(values, (0.0, 1.0))
        if bad.any():
            position = int(order[np.flatnonzero(bad)[0]])
            raise ContractError(f"column '{assessment_column}' has {values[np.flatnonzero(bad)[0]]:g} in "
                                f"{row_of(frame.index, position)}; use 1 (assessment passed) or 0 (failed)")
        passed = values == 1.0
    return BudgetData(years=years, spending=spending, population=people, premium=price, population_budget=budget,
                      budget_given=budget_column is not None, assessment_passed=passed)
