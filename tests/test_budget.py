"""Global-budget rules: accounting identities every year, boundary cases, the ratchet."""

from __future__ import annotations

import numpy as np
import pytest

from payreform import budget
from payreform.errors import ParameterError


def accounts(spending, rule, **kwargs):
    simulation = budget.simulate_budget(spending, rule, **kwargs)
    simulation.check()
    return simulation.table().set_index("year")


def test_identities_hold_in_every_year_of_random_paths():
    rng = np.random.default_rng(1)
    for _ in range(50):
        spending = rng.uniform(50, 150, size=8)
        for rule in (budget.impm_rule(), budget.last_year_rule(), budget.impm_rule(staff_share_of_balance=1.0),
                     budget.last_year_rule(overspending_borne_by_coalition=0.0)):
            table = accounts(spending, rule, population=1.0, premium=rng.uniform(80, 130, size=8),
                             assessment_passed=list(rng.random(8) > 0.3))
            assert np.allclose(table["budget"], table["spending"] + table["balance"] - table["overspending"])
            assert np.allclose(table["insurer_pays"] + table["coalition_bears"], table["spending"])


def test_impm_by_hand():
    table = accounts([90.0, 100.0, 120.0], budget.impm_rule(withheld_share=0.0), population=2.0, premium=50.0,
                     assessment_passed=[True, True, False])
    assert table["budget"].tolist() == [100.0, 100.0, 100.0]
    assert table["balance"].tolist() == [10.0, 0.0, 0.0]  # zero balance in year 2
    assert table["staff_pay"].tolist() == pytest.approx([1.6, 0.0, 0.0])
    assert table["other_uses"].tolist() == pytest.approx([8.4, 0.0, 0.0])
    assert table["overspending"].tolist() == [0.0, 0.0, 20.0]
    assert table["coalition_bears"].tolist() == [0.0, 0.0, 20.0]  # the coalition pays all of it
    assert table["insurer_pays"].tolist() == [90.0, 100.0, 100.0]


def test_withholding_and_failed_assessment():
    table = accounts([80.0, 80.0], budget.impm_rule(withheld_share=0.1), population=1.0, premium=100.0,
                     assessment_passed=[True, False])
    assert table["budget"].tolist() == [90.0, 90.0]
    assert table["retained_balance"].tolist() == [10.0, 0.0]
    assert table["returned_to_fund"].tolist() == [0.0, 10.0]


def test_last_year_rule_by_hand():
    rule = budget.last_year_rule(budget_growth=0.1, overspending_borne_by_coalition=0.5)
    table = accounts([100.0, 120.0, 100.0], rule, first_budget=105.0)
    assert table["budget"].tolist() == pytest.approx([105.0, 110.0, 132.0])
    assert table["overspending"].tolist() == pytest.approx([0.0, 10.0, 0.0])
    assert table["coalition_bears"].tolist() == pytest.approx([0.0, 5.0, 0.0])
    assert table["staff_pay"].sum() == 0.0
    assert table["retained_balance"].tolist() == pytest.approx([5.0, 0.0, 32.0])


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_staff_share_boundaries(share):
    table = accounts([50.0], budget.impm_rule(withheld_share=0.0, staff_share_of_balance=share), population=1.0,
                     premium=100.0)
    assert table["staff_pay"].item() == pytest.approx(50.0 * share)
    assert table["other_uses"].item() == pytest.approx(50.0 * (1 - share))


def test_ratchet_only_under_the_last_year_rule():
    other = budget.ratchet(budget.last_year_rule(budget_growth=0.05), first_year_spending=100.0, years=5,
                           growth=0.05, saving_year=2, saving=0.1)
    assert other["budget_change"].round(6).tolist() == [0.0, 0.0, pytest.approx(-0.1 * 105 * 1.05), 0.0, 0.0]
    impm = budget.ratchet(budget.impm_rule(withheld_share=0.0), first_year_spending=100.0, years=5, growth=0.05,
                          saving_year=2, saving=0.1, population=1.0, premium=200.0)
    assert (impm["budget_change"] == 0).all()
    assert impm["staff_pay_change"].iloc[1] == pytest.approx(0.16 * 10.5)


def test_spending_path_and_errors():
    assert budget.spending_path(100.0, 3, 0.0, savings=[0.0, 0.5, 0.0]).tolist() == [100.0, 50.0, 100.0]
    with pytest.raises(ParameterError, match="between 0 and 1"):
        budget.BudgetRule("x", "population", staff_share_of_balance=1.5)
    with pytest.raises(ParameterError, match="parameter 'basis'"):
        budget.BudgetRule("x", "history")
    with pytest.raises(ParameterError, match="population > 0 and premium > 0"):
        budget.simulate_budget([1.0], budget.impm_rule())
    with pytest.raises(ParameterError, match="one value per year"):
        budget.simulate_budget([1.0, 2.0], budget.impm_rule(), population=[1.0], premium=1.0)
    with pytest.raises(ParameterError, match="spending"):
        budget.simulate_budget([-1.0], budget.last_year_rule())
    broken = budget.BudgetSimulation(budget.impm_rule(), accounts([1.0], budget.impm_rule(), population=1.0,
                                                                  premium=2.0).reset_index().assign(balance=5.0))
    with pytest.raises(AssertionError, match="budget = spending"):
        broken.check()
