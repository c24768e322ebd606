"""Global-budget rules: accounting identities every year, boundary cases by hand, the ratchet and the
whole account of a saving, and the yearly data contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from payreform import budget
from payreform.errors import ContractError, ParameterError


def accounts(spending, rule, **kwargs):
    simulation = budget.simulate_budget(spending, rule, **kwargs)
    simulation.check()
    return simulation.table().set_index("year")


def test_identities_hold_in_every_year_of_random_paths():
    rng = np.random.default_rng(1)
    for _ in range(50):
        spending = rng.uniform(50, 150, size=8)
        for rule in (budget.impm_rule(), budget.last_year_rule(), budget.impm_rule(staff_share_of_balance=1.0),
                     budget.last_year_rule(overspending_borne_by_coalition=0.0),
                     budget.last_year_rule(population_weight=rng.uniform())):
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


def test_population_budgets_given_directly():
    table = accounts([80.0, 120.0], budget.impm_rule(withheld_share=0.5), population_budgets=[100.0, 100.0])
    assert table["budget"].tolist() == [100.0, 100.0]  # already net: the withheld share is not applied again


def test_last_year_rule_by_hand():
    rule = budget.last_year_rule(budget_growth=0.1, overspending_borne_by_coalition=0.5)
    table = accounts([100.0, 120.0, 100.0], rule, first_budget=105.0)
    assert table["budget"].tolist() == pytest.approx([105.0, 110.0, 132.0])
    assert table["overspending"].tolist() == pytest.approx([0.0, 10.0, 0.0])
    assert table["coalition_bears"].tolist() == pytest.approx([0.0, 5.0, 0.0])
    assert table["staff_pay"].sum() == 0.0
    assert table["retained_balance"].tolist() == pytest.approx([5.0, 0.0, 32.0])


def test_other_rule_mixes_population_and_last_year_by_hand():
    rule = budget.last_year_rule(budget_growth=0.1, population_weight=0.25, withheld_share=0.2)
    table = accounts([100.0, 120.0], rule, population=10.0, premium=15.0)
    population_part = 10.0 * 15.0 * 0.8  # 120
    assert table["budget"].tolist() == pytest.approx([0.25 * population_part + 0.75 * 100.0,
                                                      0.25 * population_part + 0.75 * 110.0])
    with pytest.raises(ParameterError, match="population > 0 and premium > 0"):
        budget.simulate_budget([1.0], rule)
    assert not budget.last_year_rule().needs_population


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_staff_share_boundaries(share):
    table = accounts([50.0], budget.impm_rule(withheld_share=0.0, staff_share_of_balance=share), population=1.0,
                     premium=100.0)
    assert table["staff_pay"].item() == pytest.approx(50.0 * share)
    assert table["other_uses"].item() == pytest.approx(50.0 * (1 - share))


def test_whole_account_of_a_saving_by_hand():
    """The issue's example: a 10% saving in year 2 of a path growing 8% a year, budget 6% above last year's
    spending, over-spending shared 50/50. The ratchet costs next year's budget, but the saving year leaves a
    balance and the coalition bears only half the extra over-spending."""
    spending = [300.0, 324.0, 349.92]
    rule = budget.last_year_rule(budget_growth=0.06, overspending_borne_by_coalition=0.5)
    table = budget.ratchet(rule, spending=spending, years=[2018, 2019, 2020], saving_year=2019, saving=0.1)
    saving = 32.4
    # year 2019: budget 300 x 1.06 = 318; spending 324 -> 291.6: over-spending 6 becomes a balance of 26.4
    assert table.loc[1, "retained_balance_change"] == pytest.approx(318.0 - 291.6)
    assert table.loc[1, "coalition_bears_change"] == pytest.approx(-0.5 * 6.0)
    # year 2020: the budget falls by the saving grown by 6%; the coalition bears half of the extra over-spending
    assert table.loc[2, "budget_change"] == pytest.approx(-saving * 1.06)
    assert table.loc[2, "coalition_bears_change"] == pytest.approx(0.5 * saving * 1.06)
    account = budget.saving_account(table, 2019).iloc[0]
    assert account["saving"] == pytest.approx(saving)
    assert account["budget_change_later"] == pytest.approx(-saving * 1.06)
    assert account["net_change"] == pytest.approx((318.0 - 291.6) - (-3.0 + 0.5 * saving * 1.06))
    assert account["insurer_pays_change"] == pytest.approx(-saving - account["coalition_bears_change"])


def test_ratchet_only_under_the_last_year_rule():
    other = budget.ratchet(budget.last_year_rule(budget_growth=0.05), first_year_spending=100.0, n_years=5,
                           growth=0.05, saving_year=2, saving=0.1)
    assert other["budget_change"].round(6).tolist() == [0.0, 0.0, pytest.approx(-0.1 * 105 * 1.05), 0.0, 0.0]
    impm = budget.ratchet(budget.impm_rule(withheld_share=0.0), first_year_spending=100.0, n_years=5, growth=0.05,
                          saving_year=2, saving=0.1, population=1.0, premium=200.0)
    assert (impm["budget_change"] == 0).all()
    assert impm["staff_pay_change"].iloc[1] == pytest.approx(0.16 * 10.5)
    assert impm["net_change"].sum() == pytest.approx(10.5)  # the whole saving becomes a retained balance


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
    with pytest.raises(ParameterError, match="saving_year"):
        budget.ratchet(budget.last_year_rule(), spending=[1.0, 2.0], saving_year=5, saving=0.1)
    broken = budget.BudgetSimulation(budget.impm_rule(), accounts([1.0], budget.impm_rule(), population=1.0,
                                                                  premium=2.0).reset_index().assign(balance=5.0))
    with pytest.raises(AssertionError, match="budget = spending"):
        broken.check()


# ----------------------------------------------------------------------------- the data contract


@pytest.mark.parametrize("name, unit", [("医保支出(万元)", 1e4), ("spending_10k", 1e4), ("outlay_million", 1e6),
                                        ("支出（亿元）", 1e8), ("spend_yuan", 1.0), ("spending (RMB)", 1.0),
                                        ("spend_k", 1e3), ("spending", None)])
def test_unit_from_the_column_name(name, unit):
    assert budget.unit_from_name(name) == unit


def yearly(**columns):
    base = {"year": [2020, 2021, 2022], "spending": [100.0, 110.0, 120.0], "population": [1000, 1000, 1000],
            "premium": [1000.0, 1100.0, 1200.0]}
    return pd.DataFrame(base | columns)


def test_validate_budget_data_converts_to_the_spending_unit():
    data = budget.validate_budget_data(yearly(), population_column="population", premium_column="premium",
                                       spending_unit=1e4)
    assert data.population_budget.tolist() == pytest.approx([100.0, 110.0, 120.0])
    in_10k = budget.validate_budget_data(yearly(population=[0.1, 0.1, 0.1]), population_column="population",
                                         premium_column="premium", spending_unit=1e4, persons_per_unit=1e4)
    assert in_10k.population_budget.tolist() == pytest.approx([100.0, 110.0, 120.0])
    shuffled = yearly().iloc[[2, 0, 1]]
    data = budget.validate_budget_data(shuffled, population_column="population", premium_column="premium",
                                       spending_unit=1e4)
    assert data.years == (2020, 2021, 2022) and data.spending.tolist() == [100.0, 110.0, 120.0]


@pytest.mark.parametrize("frame, kwargs, error, message", [
    (yearly(year=[2020, 2021, 2021]), {}, ContractError, r"year 2021 appears twice in column 'year' \(row 3 and row 4\)"),
    (yearly(year=[2020, 2021, 2023]), {}, ContractError, r"2022 missing after 2021"),
    (yearly(year=["2020-01", "2020-02", "2020-03"]), {}, ContractError, r"monthly periods.*one row per year"),
    (yearly(spending=[100.0, -5.0, 120.0]), {}, ContractError, r"column 'spending' has -5 in row 3.*cannot be negative"),
    (yearly(spending=[100.0, "n/a", 120.0]), {}, ContractError, r"non-numeric value 'n/a' in row 3"),
    (yearly(population=[1000, 0, 1000]), {}, ContractError, r"column 'population' is 0 in 2021"),
    (yearly(), {"spending_unit": None}, ParameterError, r"parameter 'spending_unit' is needed"),
    (yearly(), {"premium_column": None}, ParameterError, r"needs the per-capita premium"),
    (yearly(passed=[1, 2, 1]), {"assessment_column": "passed"}, ContractError, r"column 'passed' has 2 in row 3"),
    (yearly().iloc[:1], {}, ContractError, r"at least two consecutive years"),
    (yearly(), {"spending_column": "spend"}, ContractError, r"column 'spend' not found \(did you mean 'spending'\?\)"),
])
def test_budget_contract_rules(frame, kwargs, error, message):
    arguments = {"population_column": "population", "premium_column": "premium", "spending_unit": 1e4} | kwargs
    before = frame.copy()
    with pytest.raises(error, match=message):
        budget.validate_budget_data(frame, **arguments)
    pd.testing.assert_frame_equal(frame, before)  # never modified
