"""Global-budget accounting rules for a county healthcare coalition, and their simulation.

Two rules from Zhong et al. (2023, Table 1 and "Payment policies for IHC"):

**Sanming's integrated payment (IMPM).** The budget is the county's population times a fixed
per-capita premium, after the insurer withholds the fund for private hospitals and a
risk-adjustment reserve. Spending above the budget is borne entirely by the coalition. A
balance is kept by the coalition if it passes the annual assessment; a share of it (16% in
2018) may be paid to staff as performance pay, the rest goes to cooperation between
institutions and to health promotion.

**Other regions.** The budget is set "according to population and the coalition's medical
insurance expenditure in previous years": here a weighted mix of the population budget and
last year's spending grown by a rate (the weight is not published). Over-spending is shared
with the insurer. A balance may be used only for institutional development (no staff pay), and
because next year's budget follows this year's spending, a coalition that saves is given less:
the ratchet. Zhong et al. add that the insurer may recover the balance; that is not modelled
here (a recovered balance would make saving still less attractive).

Every simulated year satisfies ``budget = spending + balance - overspending`` and
``insurer_pays + coalition_bears = spending``; :meth:`BudgetSimulation.check` verifies both.
All amounts are in the same currency unit as the inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from payreform.errors import ParameterError, check_choice

BUDGET_BASES = ("population", "last_year_spending")

ACCOUNT_COLUMNS = ("budget", "spending", "balance", "overspending", "insurer_pays", "coalition_bears",
                   "retained_balance", "returned_to_fund", "staff_pay", "other_uses")
"""The amounts of each simulated year (see :func:`simulate_budget`)."""


@dataclass(frozen=True)
class BudgetRule:
    """How the budget is set and how balances and over-spending are shared.

    Attributes
    ----------
    name
        Label used in tables and figures.
    basis
        ``"population"`` (population x per-capita premium, after withholdings) or
        ``"last_year_spending"`` (last year's spending x (1 + budget_growth), mixed with the
        population budget by ``population_weight``).
    withheld_share
        Share of the population budget the insurer keeps back (private hospitals, risk reserve).
    budget_growth
        Growth applied to last year's spending under ``last_year_spending``.
    overspending_borne_by_coalition
        Share of any over-spending the coalition pays itself (1 = all; the insurer pays the rest).
    staff_share_of_balance
        Share of a retained balance that may go to staff performance pay.
    balance_use
        What the rest of a retained balance is for (a label).
    population_weight
        Under ``last_year_spending``: weight of the population budget in the budget (0 = last
        year's spending alone).
    """

    name: str
    basis: str
    withheld_share: float = 0.0
    budget_growth: float = 0.0
    overspending_borne_by_coalition: float = 1.0
    staff_share_of_balance: float = 0.0
    balance_use: str = "institutional development"
    population_weight: float = 0.0

    def __post_init__(self) -> None:
        check_choice("basis", self.basis, BUDGET_BASES)
        for field_name in ("withheld_share", "overspending_borne_by_coalition", "staff_share_of_balance",
                           "population_weight"):
            value = getattr(self, field_name)
            if not 0.0 <= value <= 1.0:
                raise ParameterError(f"parameter '{field_name}' is {value}; use a share between 0 and 1")
        if not self.budget_growth > -1.0:
            raise ParameterError(f"parameter 'budget_growth' is {self.budget_growth}; it must exceed -1")

    @property
    def needs_population(self) -> bool:
        """True if the budget uses population and premium."""
        return self.basis == "population" or self.population_weight > 0


IMPM_STAFF_SHARE = 0.16
"""Share of the balance Youxi's coalition could pay to staff in 2018 (Zhong et al. 2023)."""


def impm_rule(withheld_share: float = 0.05, staff_share_of_balance: float = IMPM_STAFF_SHARE) -> BudgetRule:
    """Sanming's IMPM rule. The withheld share is not published: 5% is our assumption.

    Examples
    --------
    >>> impm_rule().overspending_borne_by_coalition
    1.0
    """
    return BudgetRule("Sanming IMPM", "population", withheld_share=withheld_share,
                      overspending_borne_by_coalition=1.0, staff_share_of_balance=staff_share_of_balance,
                      balance_use="cooperation and health promotion")


def last_year_rule(budget_growth: float = 0.08, overspending_borne_by_coalition: float = 0.5,
                   population_weight: float = 0.0, withheld_share: float = 0.0) -> BudgetRule:
    """The rule the paper describes for other regions. Growth, sharing and the weight are assumptions.

    ``population_weight`` mixes in the population budget (population x premium, after
    ``withheld_share``), the other half of "according to population and expenditure in
    previous years"; 0 gives the pure last-year rule.

    Examples
    --------
    >>> last_year_rule().basis, last_year_rule(population_weight=0.5).needs_population
    ('last_year_spending', True)
    """
    return BudgetRule("Other regions", "last_year_spending", budget_growth=budget_growth,
                      overspending_borne_by_coalition=overspending_borne_by_coalition,
                      staff_share_of_balance=0.0, balance_use="institutional development",
                      population_weight=population_weight, withheld_share=withheld_share)


@dataclass(frozen=True, eq=False)
class BudgetSimulation:
    """Year-by-year accounts of one rule (see :func:`simulate_budget`)."""

    rule: BudgetRule
    accounts: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """One row per year: budget, spending, balance, overspending, who pays, how the balance is used."""
        return self.accounts.assign(rule=self.rule.name)

    def check(self, tolerance: float = 1e-6) -> None:
        """Raise ``AssertionError`` if an accounting identity fails in any year."""
        a = self.accounts
        scale = max(1.0, float(a["budget"].abs().max()))
        identities = {
            "budget = spending + balance - overspending":
                a["budget"] - (a["spending"] + a["balance"] - a["overspending"]),
            "insurer pays + coalition bears = spending":
                a["insurer_pays"] + a["coalition_bears"] - a["spending"],
            "retained + returned = balance": a["retained_balance"] + a["returned_to_fund"] - a["balance"],
            "staff pay + other uses = retained": a["staff_pay"] + a["other_uses"] - a["retained_balance"],
        }
        for name, gap in identities.items():
            worst = float(np.max(np.abs(gap.to_numpy())))
            if worst > tolerance * scale:
                raise AssertionError(f"identity '{name}' fails by {worst:g}")


def _as_path(values: float | Sequence[float], years: int, name: str) -> np.ndarray:
    array = np.full(years, float(values)) if np.isscalar(values) else np.asarray(values, dtype=float)
    if array.shape != (years,):
        raise ParameterError(f"parameter '{name}' needs one value per year ({years})")
    if not np.isfinite(array).all() or (array < 0).any():
        raise ParameterError(f"parameter '{name}' must be finite and >= 0 in every year")
    return array


def population_budget(population: float | Sequence[float], premium: float | Sequence[float], years: int,
                      withheld_share: float = 0.0) -> np.ndarray:
    """Population x per-capita premium x (1 - withheld share), per year.

    Examples
    --------
    >>> population_budget(1000.0, [90.0, 100.0], 2, withheld_share=0.1).tolist()
    [81000.0, 90000.0]
    """
    people = _as_path(population, years, "population")
    price = _as_path(premium, years, "premium")
    if (people * price == 0).any():
        raise ParameterError("the population basis needs population > 0 and premium > 0 in every year")
    return people * price * (1.0 - withheld_share)


def simulate_budget(
    spending: Sequence[float],
    rule: BudgetRule,
    *,
    years: Sequence[int] | None = None,
    population: float | Sequence[float] = 0.0,
    premium: float | Sequence[float] = 0.0,
    first_budget: float | None = None,
    assessment_passed: bool | Sequence[bool] = True,
    population_budgets: Sequence[float] | None = None,
) -> BudgetSimulation:
    """Apply a budget rule year by year to a path of coalition spending.

    Parameters
    ----------
    spending
        The coalition's insured spending in each year.
    rule
        :func:`impm_rule`, :func:`last_year_rule` or any :class:`BudgetRule`.
    years
        Year labels (default 1, 2, ...).
    population, premium
        Per year (or constant): used by the ``population`` basis and the population part of
        the other rule (``population x premium``, in the unit of ``spending``).
    first_budget
        First year's budget under ``last_year_spending`` (default: the first year's spending,
        mixed with the population budget by the rule's weight).
    assessment_passed
        Per year (or constant): a balance is retained only if the coalition passes the
        assessment; otherwise it returns to the fund.
    population_budgets
        The population budget of each year, after withholding, if known directly (then
        ``population`` and ``premium`` are not used).

    Returns
    -------
    BudgetSimulation

    Examples
    --------
    >>> sim = simulate_budget([90.0, 95.0], impm_rule(withheld_share=0.0), population=1.0, premium=100.0)
    >>> sim.table()[["budget", "balance", "staff_pay"]].round(2).values.tolist()
    [[100.0, 10.0, 1.6], [100.0, 5.0, 0.8]]
    """
    spend = np.asarray(spending, dtype=float)
    n = len(spend)
    if n == 0 or not np.isfinite(spend).all() or (spend < 0).any():
        raise ParameterError("parameter 'spending' needs one finite value >= 0 per year")
    labels = list(range(1, n + 1)) if years is None else list(years)
    if len(labels) != n:
        raise ParameterError("parameter 'years' needs one label per spending value")
    passed = np.full(n, bool(assessment_passed)) if isinstance(assessment_passed, (bool, np.bool_)) else \
        np.asarray(assessment_passed, dtype=bool)
    if passed.shape != (n,):
        raise ParameterError("parameter 'assessment_passed' needs one value per year")
    by_population = None
    if rule.needs_population:
        if population_budgets is not None:
            by_population = _as_path(population_budgets, n, "population_budgets")
        else:
            by_population = population_budget(population, premium, n, rule.withheld_share)
    if rule.basis == "population":
        budgets = by_population
    else:
        weight = rule.population_weight
        history = np.empty(n)
        history[0] = spend[0] if first_budget is None else float(first_budget)
        if history[0] < 0:
            raise ParameterError("parameter 'first_budget' must be >= 0")
        history[1:] = spend[:-1] * (1.0 + rule.budget_growth)
        budgets = history if by_population is None else weight * by_population + (1 - weight) * history
    balance = np.maximum(budgets - spend, 0.0)
    overspending = np.maximum(spend - budgets, 0.0)
    coalition_bears = overspending * rule.overspending_borne_by_coalition
    insurer_pays = spend - coalition_bears
    retained = np.where(passed, balance, 0.0)
    staff = retained * rule.staff_share_of_balance
    accounts = pd.DataFrame({
        "year": labels, "budget": budgets, "spending": spend, "balance": balance, "overspending": overspending,
        "insurer_pays": insurer_pays, "coalition_bears": coalition_bears, "retained_balance": retained,
        "returned_to_fund": balance - retained, "staff_pay": staff, "other_uses": retained - staff,
        "balance_use": rule.balance_use,
    })
    return BudgetSimulation(rule, accounts)


def compare_rules(spending: Sequence[float], rules: Sequence[BudgetRule], **kwargs) -> pd.DataFrame:
    """:func:`simulate_budget` for several rules on the same spending path, stacked.

    Examples
    --------
    >>> table = compare_rules([100.0, 110.0], [impm_rule(withheld_share=0.0), last_year_rule()],
    ...                       population=1.0, premium=105.0)
    >>> table.groupby("rule", sort=False)["budget"].sum().round(1).tolist()
    [210.0, 208.0]
    """
    return pd.concat([simulate_budget(spending, rule, **kwargs).table() for rule in rules], ignore_index=True)
