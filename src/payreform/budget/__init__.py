"""Global-budget (IMPM) accounting rules, their simulation, and the data contract of the budget chapter.

- :mod:`payreform.budget.rules`: the two rules (Sanming's IMPM and the last-year rule of other
  regions) and the year-by-year accounts;
- :mod:`payreform.budget.scenarios`: spending paths, the ratchet and the whole account of a saving;
- :mod:`payreform.budget.data`: the yearly data a coalition or bureau supplies, checked.
"""

from payreform.budget.data import (
    BudgetData,
    persons_from_name,
    unit_from_name,
    unit_name,
    validate_budget_data,
)
from payreform.budget.rules import (
    ACCOUNT_COLUMNS,
    BUDGET_BASES,
    IMPM_STAFF_SHARE,
    BudgetRule,
    BudgetSimulation,
    compare_rules,
    impm_rule,
    last_year_rule,
    population_budget,
    simulate_budget,
)
from payreform.budget.scenarios import RATCHET_COLUMNS, ratchet, saving_account, spending_path

__all__ = [
    "ACCOUNT_COLUMNS", "BUDGET_BASES", "IMPM_STAFF_SHARE", "RATCHET_COLUMNS", "BudgetData", "BudgetRule",
    "BudgetSimulation", "compare_rules", "impm_rule", "last_year_rule", "persons_from_name", "population_budget",
    "ratchet", "saving_account", "simulate_budget", "spending_path", "unit_from_name", "unit_name",
    "validate_budget_data",
]
