"""What a saving is worth to the coalition under each rule: the ratchet and the whole account."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from payreform.budget.rules import BudgetRule, _as_path, simulate_budget
from payreform.errors import ParameterError


def spending_path(first_year_spending: float, years: int, growth: float, savings: Sequence[float] | float = 0.0
                  ) -> np.ndarray:
    """Spending that grows at ``growth`` a year, reduced by a coalition's savings effort.

    ``savings`` (per year or constant) is the share of spending avoided that year, for example by
    fewer unnecessary admissions: spending_t = first * (1 + growth)^t * (1 - savings_t).

    Examples
    --------
    >>> spending_path(100.0, 3, 0.1, savings=0.05).round(2).tolist()
    [95.0, 104.5, 114.95]
    """
    if years < 1 or not first_year_spending >= 0 or not growth > -1:
        raise ParameterError("spending_path needs years >= 1, first_year_spending >= 0 and growth > -1")
    effort = _as_path(savings, years, "savings")
    if (effort > 1).any():
        raise ParameterError("parameter 'savings' is a share and must lie between 0 and 1")
    return first_year_spending * (1 + growth) ** np.arange(years) * (1 - effort)


RATCHET_COLUMNS = ("budget", "spending", "balance", "retained_balance", "overspending", "coalition_bears",
                   "insurer_pays", "staff_pay")


def ratchet(rule: BudgetRule, *, spending: Sequence[float] | None = None, saving_year: int, saving: float,
            years: Sequence[int] | None = None, first_year_spending: float | None = None,
            n_years: int | None = None, growth: float | None = None, **kwargs) -> pd.DataFrame:
    """The whole account of a one-year saving: every amount with and without it, year by year.

    The coalition avoids the share ``saving`` of its spending in ``saving_year`` (a label of
    ``years``, or a 1-based position when ``years`` is not given); other years are unchanged.
    Give the spending path (``spending``) or build one with ``first_year_spending``,
    ``n_years`` and ``growth`` (:func:`spending_path`). Other keyword arguments go to
    :func:`simulate_budget` (population, premium, ...).

    Returns one row per year with, for each amount of :data:`RATCHET_COLUMNS`, its change
    (with minus without the saving), and ``net_change`` = change in the retained balance minus
    change in the over-spending the coalition bears: what the saving is worth to the coalition
    that year. Under the last-year rule the saving lowers next year's budget (the ratchet), but
    it also leaves a balance in the saving year; under a population basis later budgets do not
    move.

    Examples
    --------
    >>> from payreform.budget.rules import last_year_rule
    >>> table = ratchet(last_year_rule(budget_growth=0.0, overspending_borne_by_coalition=0.5),
    ...                 spending=[100.0, 100.0, 100.0], saving_year=2, saving=0.1)
    >>> table[["budget_change", "retained_balance_change", "coalition_bears_change", "net_change"]].values.tolist()
    [[0.0, 0.0, 0.0, 0.0], [0.0, 10.0, 0.0, 10.0], [-10.0, 0.0, 5.0, -5.0]]
    """
    if spending is None:
        if first_year_spending is None or n_years is None or growth is None:
            raise ParameterError("give the spending path, or first_year_spending, n_years and growth")
        spending = spending_path(first_year_spending, n_years, growth)
    base_spending = np.asarray(spending, dtype=float)
    labels = list(range(1, len(base_spending) + 1)) if years is None else list(years)
    if saving_year not in labels:
        raise ParameterError(f"parameter 'saving_year' is {saving_year}; use a year of the data "
                             f"({labels[0]} to {labels[-1]})")
    if not 0.0 <= saving <= 1.0:
        raise ParameterError(f"parameter 'saving' is {saving}; use a share between 0 and 1")
    saved_spending = base_spending.copy()
    saved_spending[labels.index(saving_year)] *= 1.0 - saving
    base = simulate_budget(base_spending, rule, years=labels, **kwargs).accounts
    saved = simulate_budget(saved_spending, rule, years=labels, **kwargs).accounts
    table = pd.DataFrame({"rule": rule.name, "year": labels})
    for column in RATCHET_COLUMNS:
        table[f"{column}_without_saving"] = base[column].to_numpy()
        table[f"{column}_change"] = saved[column].to_numpy() - base[column].to_numpy()
    table["net_change"] = table["retained_balance_change"] - table["coalition_bears_change"]
    return table


def saving_account(ratchets: pd.DataFrame, saving_year: int) -> pd.DataFrame:
    """One row per rule: the whole account of the saving, summed over the years.

    Columns: rule, saving (the spending avoided), budget_change_later (change in the budgets of
    the years after the saving), retained_balance_change, coalition_bears_change,
    staff_pay_change, insurer_pays_change and net_change (retained balance minus over-spending
    borne: what the coalition gains or loses by saving).

    Examples
    --------
    >>> from payreform.budget.rules import last_year_rule
    >>> table = ratchet(last_year_rule(budget_growth=0.0, overspending_borne_by_coalition=0.5),
    ...                 spending=[100.0, 100.0, 100.0], saving_year=2, saving=0.1)
    >>> saving_account(table, 2)[["saving", "budget_change_later", "net_change"]].values.tolist()
    [[10.0, -10.0, 5.0]]
    """
    rows = []
    for rule, part in ratchets.groupby("rule", sort=False):
        later = part["year"] > saving_year
        rows.append({"rule": rule, "saving": float(-part["spending_change"].sum()),
                     "budget_change_later": float(part.loc[later, "budget_change"].sum()),
                     "retained_balance_change": float(part["retained_balance_change"].sum()),
                     "coalition_bears_change": float(part["coalition_bears_change"].sum()),
                     "staff_pay_change": float(part["staff_pay_change"].sum()),
                     "insurer_pays_change": float(part["insurer_pays_change"].sum()),
                     "net_change": float(part["net_change"].sum())})
    return pd.DataFrame(rows)
