"""The sanming-budget chapter runner: the book's illustrative county with its derived settings, the
whole account of a saving against hand arithmetic, a user's yearly table without the book's county,
one-line refusals (in prepare and through `payreform run`), and sentences flipped by their numbers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import assert_refused

from payreform import report
from payreform.chapters import sanming_budget as chapter
from payreform.errors import ContractError, ParameterError
from payreform.synth import sanming


@pytest.fixture(scope="module")
def book():
    return chapter.run(chapter.prepare())


def test_book_county_and_derived_settings(book):
    s = book.settings
    assert s["first_year"] == sanming.BUDGET_FIRST_YEAR and s.source("first_year") == "from the data"
    assert s["saving_year"] == sanming.BUDGET_FIRST_YEAR + 1
    assert s["spending_unit"] == 1e6 and book.unit == "million RMB"
    assert s["population_column"] == "population" and s["premium_column"] == "premium"
    assert list(book.inputs.years) == list(range(sanming.BUDGET_FIRST_YEAR, sanming.BUDGET_FIRST_YEAR + 6))


def test_book_accounts_by_hand(book):
    years = len(book.inputs.years)
    spending = 300.0 * 1.08 ** np.arange(years)
    population_budget = 362_000 * 900.0 * 1.07 ** np.arange(years) / 1e6 * 0.95
    impm = book.accounts[book.accounts["rule"] == "Sanming IMPM"]
    assert np.allclose(impm["budget"], population_budget)
    assert np.allclose(impm["coalition_bears"], np.maximum(spending - population_budget, 0))
    other = book.accounts[book.accounts["rule"] == "Other regions"]
    last = np.r_[spending[0], spending[:-1] * 1.06]
    assert np.allclose(other["budget"], 0.5 * population_budget + 0.5 * last)


def test_the_issue_example_with_the_pure_last_year_rule():
    """With the budget following last year's spending alone: saving 32.4, next budget -34.3 (the ratchet),
    but a retained balance of 26.4 and half the extra over-spending borne: net about +12.2."""
    result = chapter.run(chapter.prepare(None, {"other_population_weight": 0.0}))
    other = result.rule_account("other")
    saving = 0.1 * 300 * 1.08
    assert other["saving"] == pytest.approx(saving)
    assert other["budget_change_later"] == pytest.approx(-saving * 1.06)
    balance = 300 * 1.06 - 300 * 1.08 * 0.9
    assert other["retained_balance_change"] == pytest.approx(balance)
    bears = -0.5 * (300 * 1.08 - 300 * 1.06) + 0.5 * saving * 1.06
    assert other["coalition_bears_change"] == pytest.approx(bears)
    assert other["net_change"] == pytest.approx(balance - bears)
    values = result.glue_values()
    assert values["budget_ratchet_next_year"] == pytest.approx(saving * 1.06)
    assert values["budget_other_net_change"] == pytest.approx(balance - bears)


def test_results_json(book, tmp_path):
    results = report.read_results(book.write(tmp_path, figures=False))
    frame = pd.DataFrame(results["estimates"])
    assert set(frame["model"]) == {"impm", "other"}
    budget_rows = frame[(frame["outcome"] == "budget") & (frame["model"] == "impm")]
    assert budget_rows["term"].tolist() == [str(y) for y in book.inputs.years]
    assert frame["std_error"].isna().all()
    net = frame[(frame["outcome"] == "saving_account") & (frame["term"] == "net_change")]
    assert net["estimate"].tolist() == pytest.approx(book.account["net_change"].tolist())
    assert results["diagnostics"]["unit"] == "million RMB"
    assert "recovery of the balance" in results["diagnostics"]["not_modelled"][0]
    for name in ("accounts", "ratchet", "saving_account", "inputs"):
        assert (tmp_path / "tables" / f"{name}.csv").exists()


def test_summary_quotes_the_numbers(book):
    text = book.summary()
    for value in book.account["net_change"]:
        assert book.money(value) in text
    impm = book.accounts[book.accounts["rule"] == "Sanming IMPM"]
    assert f"kept a balance in {(impm['retained_balance'] > 0).sum()} of {len(impm)} years" in text


# ----------------------------------------------------------------------------- a user's table


def user_table(**columns) -> pd.DataFrame:
    base = {"year": [2011, 2012, 2013, 2014], "spending_10k": [9000.0, 9500, 9900, 10400],
            "population": [100_000, 101_000, 102_000, 103_000], "premium": [900.0, 950, 1000, 1050]}
    return pd.DataFrame(base | columns)


def test_user_table_gets_its_own_years_and_unit():
    prepared = chapter.prepare(user_table(), {"spending_column": "spending_10k"})
    s = prepared.settings
    assert s["spending_unit"] == 1e4 and s.source("spending_unit") == "from the data"
    assert s["saving_year"] == 2012 and s["first_year"] is None and s["population"] is None
    result = chapter.run(prepared)
    assert result.unit == "10,000 RMB"
    impm = result.accounts[result.accounts["rule"] == "Sanming IMPM"]
    assert np.allclose(impm["budget"], np.array([100_000, 101_000, 102_000, 103_000]) * np.array(
        [900.0, 950, 1000, 1050]) / 1e4 * 0.95)


def test_constants_stand_in_for_missing_columns():
    frame = user_table().drop(columns=["population", "premium"])
    result = chapter.run(chapter.prepare(frame, {"spending_column": "spending_10k", "population": 100_000,
                                                 "premium_per_person": 1000.0}))
    assert np.allclose(result.inputs.population_budget, 10_000.0)


@pytest.mark.parametrize("frame, parameters, error, message", [
    (user_table(), {}, ContractError, r"column 'spending' not found \(did you mean 'spending_10k'\?\)"),
    (user_table(), {"spending_column": "spending_10k", "first_year_spending": 5.0}, ParameterError,
     r"parameter 'first_year_spending' describes the book's illustrative county"),
    (user_table().drop(columns=["population", "premium"]), {"spending_column": "spending_10k"}, ParameterError,
     r"the IMPM budget needs the population and per-capita premium"),
    (user_table().rename(columns={"spending_10k": "outlay"}), {"spending_column": "outlay"}, ParameterError,
     r"parameter 'spending_unit' is needed: how many RMB is one unit of column 'outlay'"),
    (user_table(), {"spending_column": "spending_10k", "saving_year": 2014}, ParameterError,
     r"parameter 'saving_year' is 2014; use a year from 2011 to 2013"),
    (user_table(), {"spending_column": "spending_10k", "saving": 1.5}, ParameterError, r"parameter 'saving' is 1.5"),
    (user_table(), {"spending_column": "spending_10k", "staff_share": 2.0}, ParameterError,
     r"parameter 'staff_share' is 2.0; use a share between 0 and 1"),
    (user_table(), {"spending_column": "spending_10k", "spending_unit": -1.0}, ParameterError,
     r"parameter 'spending_unit' is -1.0"),
    (user_table(year=[2011, 2012, 2012, 2014]), {"spending_column": "spending_10k"}, ContractError,
     r"year 2012 appears twice"),
    (user_table(premium=[900.0, 0.0, 1000, 1050]), {"spending_column": "spending_10k"}, ContractError,
     r"column 'premium' is 0 in 2012"),
    (user_table(), {"spending_column": "spending_10k", "assessment_column": "passed"}, ContractError,
     r"column 'passed' not found"),
])
def test_bad_user_input_is_refused_in_one_line(frame, parameters, error, message):
    with pytest.raises(error, match=message) as caught:
        chapter.prepare(frame, parameters)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("edit, settings, message", [
    (lambda f: f.assign(spending_10k=f["spending_10k"].astype(object).where(f.index != 2, "缺失")), [],
     r"column 'spending_10k' has the non-numeric value '缺失' in row 4"),
    (lambda f: f.assign(spending_10k=-f["spending_10k"]), [], r"cannot be negative"),
    (lambda f: f[f["year"] != 2012], [], r"2012 missing after 2011"),
    (lambda f: f.assign(year=[f"{y}-01" for y in f["year"]]), [], r"monthly periods"),
    (lambda f: f.iloc[:1], [], r"at least two consecutive years"),
    (lambda f: f, ["--set", "other_population_weight=1.2"], r"parameter 'other_population_weight' is 1.2"),
    (lambda f: f, ["--set", "years=3"], r"parameter 'years' describes the book's illustrative county"),
])
def test_payreform_run_refuses_in_one_line(tmp_path, edit, settings, message):
    path = tmp_path / "input" / "yearly.csv"
    path.parent.mkdir()
    edit(user_table()).to_csv(path, index=False)
    assert_refused("sanming-budget", path, tmp_path / "out", ["--set", "spending_column=spending_10k", *settings],
                   message)


# ----------------------------------------------------------------------------- sentences flipped by their numbers


def test_saving_sentence_follows_the_net_gain():
    pays = chapter.run(chapter.prepare(None, {"other_population_weight": 0.0}))
    assert "so saving still pays, though the ratchet takes part of it" in pays.saving_sentence()
    costs = chapter.run(chapter.prepare(None, {"other_population_weight": 0.0, "other_overspending_borne": 1.0}))
    assert costs.rule_account("other")["net_change"] < 0
    assert "so saving costs the coalition money" in costs.saving_sentence()
    assert "more to the coalition under IMPM" in costs.saving_sentence()
    assert "later budgets would not change" in costs.saving_sentence()


def test_rule_sentences_follow_the_accounts():
    never = chapter.run(chapter.prepare(None, {"spending_growth": 0.0}))
    assert "never over-spent" in never.rule_sentence("Sanming IMPM")
    frame = user_table(passed=[1, 0, 1, 1], population=[120_000] * 4)
    failed = chapter.run(chapter.prepare(frame, {"spending_column": "spending_10k", "assessment_column": "passed"}))
    row = failed.accounts.query("rule == 'Sanming IMPM' and year == 2012").iloc[0]
    assert row["balance"] == pytest.approx(120_000 * 950 / 1e4 * 0.95 - 9500)  # a balance, returned to the fund
    assert row["retained_balance"] == 0 and row["returned_to_fund"] == pytest.approx(row["balance"])
    sentence = failed.rule_sentence("Sanming IMPM")
    assert f"returned {failed.money(row['balance'])} of balances to the fund after failed assessments" in sentence
    assert any("failed the assessment in 2012" in w for w in failed.warnings())


def test_unit_warning_when_the_budget_is_far_from_spending():
    frame = user_table(population=[10.0, 10.1, 10.2, 10.3])  # population in 10,000s under a plain name
    result = chapter.run(chapter.prepare(frame, {"spending_column": "spending_10k"}))
    assert any(w.startswith("The population budget is 0.00") and "check the units" in w for w in result.warnings())
    fine = chapter.run(chapter.prepare(user_table(), {"spending_column": "spending_10k"}))
    assert not any("check the units" in w for w in fine.warnings())


def test_lasting_saving_by_hand():
    result = chapter.run(chapter.prepare(None, {"other_population_weight": 0.0}))
    lasting = chapter.lasting_saving(result).set_index("rule")
    spending = result.inputs.spending
    start = list(result.inputs.years).index(result.settings["saving_year"])
    assert lasting.loc["Other regions", "saving"] == pytest.approx(0.1 * spending[start:].sum())
    assert lasting.loc["Sanming IMPM", "budget_change_later"] == 0.0
    assert lasting.loc["Other regions", "budget_change_later"] == pytest.approx(-0.1 * 1.06 * spending[start:-1].sum())
    text = chapter.lasting_text(result, lasting.reset_index())
    assert "under Sanming IMPM the coalition keeps 100% of a one-year saving" in text


def test_figures_draw(book):
    import matplotlib.pyplot as plt

    for name in book.figure_names():
        fig = book.figure(name)
        assert fig.axes
        plt.close(fig)


def test_the_book_page_claims_hold(book):
    """book/sanming_itsa.md describes the book county's saving in words around glued numbers."""
    values = book.glue_values()
    assert values["budget_ratchet_loss"] > 0  # "lowers the budgets that follow"
    assert values["budget_other_net_change"] > 0  # "its net gain is"
    assert values["budget_impm_net_change"] > values["budget_other_net_change"]
    page = (Path(__file__).resolve().parents[1] / "book" / "sanming_itsa.md").read_text(encoding="utf-8")
    for key in re.findall(r"sanming_budget\.py::(\w+)", page):
        assert key in values, key
