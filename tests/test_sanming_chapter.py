"""The sanming-itsa chapter runner (prepare + run, no notebook): the book's data with its derived
settings, its numbers against statsmodels, the paper checks it glues, user data without the book's
study facts, one-line refusals, and every sentence flipped by the number it describes."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from helpers import assert_refused
from statsmodels.tsa.seasonal import seasonal_decompose

from payreform import published, report
from payreform.chapters import sanming_itsa as chapter
from payreform.chapters import sanming_paper
from payreform.errors import ContractError, ParameterError
from payreform.synth import sanming


@pytest.fixture(scope="module")
def book():
    return chapter.run(chapter.prepare())


def test_book_settings_are_derived_and_marked(book):
    s = book.settings
    assert s["group_column"] == "institution" and s["intervention"] == "2017-10"
    assert s["coding"] == "time_times_post" and s["compare"] == ["hospital", "community"]
    assert s["seasonal"] == "ratio_to_moving_average" and s["hac_lags"] == 3 and s["horizon"] == 25
    assert s["placebos"] == ["2016-07", "2016-12", "2017-04"]
    assert s["inference"] == "newey_west"  # the papers' method on the book's data
    assert set(s.derived()) == {"group_column", "outcomes", "intervention", "coding", "compare", "seasonal",
                                "hac_lags", "horizon", "placebos", "inference"}
    assert book.grouped.groups == ("hospital", "community", "overall")


def test_results_json_on_the_book_data(book, tmp_path):
    results = report.read_results(book.write(tmp_path, figures=False))
    assert results["chapter"] == "sanming-itsa" and results["data"]["source"] == "synthetic"
    frame = pd.DataFrame(results["estimates"])
    assert set(frame["group"]) == {"hospital", "community", "overall", "hospital-vs-community"}
    single = frame[frame["model"] == "ols_newey_west"]
    assert {"beta0", "beta1", "beta2", "beta3", "post_slope", "level_change_at_intervention", "absolute_effect",
            "relative_effect"} == set(single["term"])
    compared = frame[frame["model"] == "comparative_ols_newey_west"]
    assert set(compared["term"]) >= {"beta6", "beta7", "difference_in_level_change_at_intervention"}
    diagnostics = results["diagnostics"]
    assert diagnostics["n_pre"] == 21 and diagnostics["n_post"] == 26
    assert len(diagnostics["series"]) == 9 and len(diagnostics["placebos"]) == 27
    assert sum(r["flagged"] for r in diagnostics["paper"]["table4_consistency"]) == 2
    assert diagnostics["summary"] == book.summary()
    for name in ("estimates", "effects", "sensitivity", "codings", "comparison", "placebos", "table4_consistency"):
        assert (tmp_path / "tables" / f"{name}.csv").exists(), name


def test_book_estimates_equal_statsmodels(book):
    """hospital outpatient volume: statsmodels' multiplicative decomposition, ln(y + 1), OLS with Newey-West lag 3."""
    frame = sanming.generate()
    y = frame.loc[frame.institution == "hospital", "outpatient_volume"].to_numpy(dtype=float)
    z = np.log(y / seasonal_decompose(y, model="multiplicative", period=12).seasonal + 1)
    t = np.arange(1, 48.0)
    post = (t >= 22).astype(float)
    fit = sm.OLS(z, np.column_stack([np.ones(47), t, post, t * post])).fit(
        cov_type="HAC", cov_kwds={"maxlags": 3, "use_correction": True}, use_t=True)
    model = book.analyses[("hospital", "outpatient_volume")].model
    assert np.allclose(model.params.to_numpy(), fit.params, rtol=1e-9)
    assert np.allclose(np.sqrt(np.diag(model.cov)), fit.bse, rtol=1e-8)
    jump = fit.params[2] + 22 * fit.params[3]
    assert model.level_change_at_intervention().estimate == pytest.approx(jump)
    effect = book.effects.query("group == 'hospital' and outcome == 'outpatient_volume' and term == 'relative_effect'")
    assert effect["estimate"].item() == pytest.approx(np.expm1(fit.params[2] + fit.params[3] * 47))
    assert effect["period"].item() == "2019-11"


def test_overall_is_the_sum_of_the_groups(book):
    frame = sanming.generate()
    total = frame.groupby("month")["inpatient_volume"].sum().to_numpy()
    assert np.allclose(book.grouped.series["overall"].frame["inpatient_volume"].to_numpy(), total)


def test_glued_paper_numbers_are_computed(book):
    values = book.glue_values()
    totals = sanming.totals_consistency()
    beta3 = totals[(totals["term"] == "beta3") & (totals["group"] != "overall")]
    strongest = beta3.loc[beta3["gap_in_se"].abs().idxmax()]
    assert values["sanming_misfit_gap_se"] == pytest.approx(strongest["gap_in_se"])
    assert values["sanming_misfit_series"] == "community medical expenditure"  # the strong case, not hospital exp.
    assert values["sanming_n_table4_flagged"] == 2
    assert values["sanming_paper_jump_community_inpatient"] == pytest.approx(-0.154 - 0.004 * 22)
    fund = published.load("sanming_table2_fund")
    assert values["sanming_balance_rate_first"] == fund["balance_rate_pct"].iloc[0]
    comparison = book.book.comparison.query("term in ['beta1', 'beta2', 'beta3']")
    covered = ((comparison["ci_low"] <= comparison["truth"]) & (comparison["truth"] <= comparison["ci_high"])).sum()
    assert values["sanming_n_covered"] == covered and values["sanming_n_intervals"] == 27
    for key, value in values.items():
        assert isinstance(value, (int, float, str)), key


def test_table4_consistency_flags_only_the_impossible_p_values():
    table = sanming_paper.table4_consistency().set_index(["group", "outcome", "term"])
    flagged = table[table["flagged"]]
    assert list(flagged.index) == [("overall", "medical_expenditure", "beta2"), ("community", "inpatient_volume", "beta1")]
    row = table.loc[("overall", "medical_expenditure", "beta2")]
    # -0.029 / 0.019: |t| at least 0.0285 / 0.0195 = 1.46, so P at most about 0.15, printed 0.575
    assert row["p_high"] == pytest.approx(max(2 * (1 - __import__("scipy").stats.norm.cdf(0.0285 / 0.0195)),
                                              2 * __import__("scipy").stats.t.sf(0.0285 / 0.0195, 43)))
    text = sanming_paper.text_against_table()
    assert text["text_estimate"].tolist() == [0.005, -0.114] and text["table_estimate"].tolist() == [-0.005, -0.004]


def test_summary_quotes_the_numbers(book):
    text = book.summary()
    for analysis in book.analyses.values():
        beta3 = analysis.model.params["beta3"]
        assert f"{abs(100 * np.expm1(beta3)):.2f}% a month" in text
    for row in book.effects.query("term == 'relative_effect'").itertuples():
        side = "above" if row.estimate > 0 else "below"
        assert f"{abs(100 * row.estimate):.1f}% {side} the counterfactual" in text


# ----------------------------------------------------------------------------- user data


def user_frame(groups=("a", "b"), periods=("2015-01", "2019-06"), seed=0, **extra) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.period_range(*periods, freq="M")
    t = np.arange(len(index))
    rows = []
    for k, group in enumerate(groups):
        y = np.exp(6 + 0.3 * k + 0.01 * t + rng.normal(0, 0.03, len(t)))
        rows.append(pd.DataFrame({"month": index.astype(str), "unit": group, "visits": np.round(y)} | extra))
    return pd.concat(rows, ignore_index=True)


def test_user_data_needs_the_intervention():
    with pytest.raises(ParameterError, match=r"parameter 'intervention' is needed.*from 2015-01 to 2019-06"):
        chapter.prepare(user_frame())


def test_user_data_derive_group_column_compare_and_coding():
    prepared = chapter.prepare(user_frame(), {"intervention": "2017-03"})
    s = prepared.settings
    assert s["group_column"] == "unit" and s.source("group_column") == "from the data"
    assert s["compare"] == ["a", "b"] and s["coding"] == "zero_at_intervention"
    assert not prepared.book_data


def test_single_series_without_group_column():
    frame = user_frame(groups=("a",)).drop(columns="unit")
    result = chapter.run(chapter.prepare(frame, {"intervention": "2017-03"}))
    s = result.settings
    assert s["group_column"] is None and s["compare"] is None and s["add_overall"] is False
    assert list(result.analyses) == [("all", "visits")]
    assert "groups" not in result.summary().split("\n")[0]
    assert "No two-group comparison" in chapter.comparison_text(result)


@pytest.mark.parametrize("frame, parameters, error, message", [
    (user_frame(groups=("a", "b", "c")), {"intervention": "2017-03"}, ParameterError,
     r"parameter 'compare' is needed: the data have 3 groups \(a, b, c\); set compare=a,b"),
    (user_frame(), {"intervention": "2017-03", "compare": ["a", "z"]}, ParameterError,
     r"parameter 'compare' names group 'z'"),
    (user_frame(note="x"), {"intervention": "2017-03"}, ParameterError,
     r"parameter 'group_column' is needed: columns 'unit', 'note' hold text"),
    (user_frame(groups=("a",)).drop(columns="unit"), {"intervention": "2017-03", "compare": ["a", "b"]},
     ParameterError, r"'compare' needs groups, but the data hold a single series"),
    (user_frame(), {"intervention": "2017-03", "placebos": ["2015-03"]}, ParameterError,
     r"parameter 'placebos' has 2015-03, which leaves 2 periods before it"),
    (user_frame(), {"intervention": "2017-03", "add_overall": True, "outcomes": ["visit_rate"]}, ParameterError,
     r"'visit_rate' is a percentage"),
    (pd.concat([user_frame(groups=("a",)), user_frame(groups=("a",))]).drop(columns="unit"),
     {"intervention": "2017-03"}, ContractError, r"appears twice.*set group_column"),
    (user_frame(), {"intervention": "2017-03", "time_column": "period"}, ContractError,
     r"column 'period' not found"),
    (user_frame(), {"intervention": "2017-03", "hac_lags": 60}, ParameterError, r"parameter 'hac_lags' is 60"),
])
def test_bad_user_input_is_refused_in_one_line(frame, parameters, error, message):
    if "visit_rate" in str(parameters.get("outcomes")):
        frame = frame.assign(visit_rate=50.0 + np.arange(len(frame)) % 7)
    with pytest.raises(error, match=message) as caught:
        chapter.prepare(frame, parameters)
    assert "\n" not in str(caught.value)


def test_percentages_are_not_summed_unless_asked():
    frame = user_frame().assign(visit_rate=lambda f: 40 + (np.arange(len(f)) % 9))
    prepared = chapter.prepare(frame, {"intervention": "2017-03"})
    assert prepared.settings["add_overall"] is False and prepared.settings.source("add_overall") == "from the data"


def test_switching_comparison_and_placebos_off():
    result = chapter.run(chapter.prepare(user_frame(), {"intervention": "2017-03", "compare": ["off"],
                                                        "placebos": ["off"]}))
    assert not result.comparisons and result.placebo.empty
    assert chapter.placebo_text(result) == "No placebo interventions were fitted (placebos=off)."


def test_short_pre_period_gets_no_placebos_and_says_why():
    result = chapter.run(chapter.prepare(user_frame(), {"intervention": "2015-11", "seasonal": "none"}))
    assert result.settings["placebos"] is None and result.settings.source("placebos") == "from the data"
    assert "the 10 periods before the intervention leave no date with 6 periods on each side" in \
        chapter.placebo_text(result)
    assert any("Short segments" not in w for w in result.warnings()) or result.warnings() == []


@pytest.mark.parametrize("settings, message", [
    (["--set", "compare=hospital,clinic"], r"compare' names group 'clinic'"),
    (["--set", "group_column=type"], r"column 'type' not found"),
    (["--set", "placebos=2015-01"], r"placebos"),
    (["--set", "seasonal=weekly"], r"parameter 'seasonal' is 'weekly'"),
])
def test_payreform_run_refuses_in_one_line(tmp_path, settings, message):
    path = tmp_path / "input" / "long.csv"
    path.parent.mkdir()
    sanming.generate().to_csv(path, index=False)
    assert_refused("sanming-itsa", path, tmp_path / "out", ["--set", "intervention=2017-10", *settings], message)


def test_long_format_rules_through_the_command(tmp_path):
    frame = sanming.generate()
    frame = frame[~((frame.institution == "community") & (frame.month == "2019-11"))]
    path = tmp_path / "input" / "long.csv"
    path.parent.mkdir()
    frame.to_csv(path, index=False)
    assert_refused("sanming-itsa", path, tmp_path / "out", ["--set", "intervention=2017-10"],
                   r"group 'community' has no row for 2019-11 \(group 'hospital' has one\)")


# ----------------------------------------------------------------------------- sentences flipped by their numbers


def test_placebo_sentence_follows_the_rejections(book):
    calm = dataclasses.replace(book, placebo=book.placebo.assign(beta2_p=0.5, beta3_p=0.5))
    busy = dataclasses.replace(book, placebo=book.placebo.assign(beta2_p=0.001, beta3_p=0.001))
    assert "no more than chance would give" in chapter.placebo_text(calm)
    assert not any("Placebo" in w for w in calm.warnings())
    assert "more than chance would give, so the model finds breaks" in chapter.placebo_text(busy)
    assert any(w.startswith("Placebo interventions: 54 of 54") for w in busy.warnings())


def two_groups(difference: float, ar: float, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.period_range("2014-01", "2019-12", freq="M")
    t = np.arange(len(index), dtype=float)
    post = np.clip(t - 36, 0, None)
    frames = []
    for group, change in (("x", difference), ("y", 0.0)):
        noise = np.zeros(len(t))
        for i in range(len(t)):
            noise[i] = (ar * noise[i - 1] if i else 0.0) + rng.normal(0, 0.01)
        y = np.exp(7 + 0.005 * t + change * post + noise)
        frames.append(pd.DataFrame({"month": index.astype(str), "g": group, "y": y}))
    return pd.concat(frames, ignore_index=True)


def test_comparison_and_autocorrelation_sentences_follow_the_data():
    settings = {"intervention": "2017-01", "seasonal": "none", "placebos": ["off"]}
    differ = chapter.run(chapter.prepare(two_groups(-0.02, ar=0.0), settings))
    same = chapter.run(chapter.prepare(two_groups(0.0, ar=0.95, seed=2), settings))
    assert "differs from that of y at the 5% level for y" in chapter.comparison_text(differ)
    assert "not statistically significant" in chapter.comparison_text(same)
    assert "bent downwards" in differ.series_sentence("x", "y")
    assert "does not find residual autocorrelation in any" in chapter.autocorrelation_text(differ)
    assert "in every one of the 3 series" in chapter.autocorrelation_text(same)


def test_sensitivity_sentence_follows_the_grid(book):
    steady = dataclasses.replace(book, sensitivity=book.sensitivity.assign(p_value=0.5))
    assert "is the same under every seasonal method" in chapter.sensitivity_text(steady)
    shaky = book.sensitivity.copy()
    shaky["p_value"] = np.where(shaky["hac_lags"].astype(str) == "0", 0.01, 0.5)
    assert "For 9 of the 9 series" in chapter.sensitivity_text(dataclasses.replace(book, sensitivity=shaky))


def test_paper_sentences_follow_the_paper_tables(book):
    assert "3.2 standard errors apart" in chapter.totals_text(book)
    assert "(growth faster after the reform)" in chapter.totals_text(book)
    slower = book.book.totals.assign(from_totals=book.book.totals["table4"] - 0.01)
    flipped = dataclasses.replace(book, book=dataclasses.replace(book.book, totals=slower))
    assert "(growth slower after the reform)" in chapter.totals_text(flipped)
    assert chapter.table4_text(book).startswith("2 printed P-values")
    clean = dataclasses.replace(book.book, table4=book.book.table4.assign(flagged=False))
    assert chapter.table4_text(dataclasses.replace(book, book=clean)).startswith("Every printed P")
    agreement = book.book.sign_agreement()
    assert f"negative β3 in {agreement['truth']} of them" in chapter.findings_text(book)
    all_negative = book.book.comparison.assign(truth=-1.0)
    text = chapter.findings_text(dataclasses.replace(book, book=dataclasses.replace(book.book, comparison=all_negative)))
    assert "has the paper's direction everywhere" in text


def test_coverage_growth_and_moved_sentences():
    low = pd.DataFrame({"term": ["beta3"], "coverage": [0.7], "se_over_spread": [0.6], "seeds": [40]})
    high = low.assign(coverage=0.95, se_over_spread=1.0)
    assert "well short of the nominal 95%" in sanming_paper.coverage_text(low)
    assert "too narrow" in sanming_paper.coverage_text(low)
    assert "close to the nominal 95%" in sanming_paper.coverage_text(high)
    strongest = pd.Series({"group": "community", "outcome": "medical_expenditure", "gap_in_se": 3.2})
    faster = sanming_paper.growth_text(pd.Series([5.8, 10.2, 8.5]), 8.7, 7.5, 1.3, strongest)
    assert faster.startswith("The yearly totals grow faster") and "still within its uncertainty" in faster
    assert "beyond its uncertainty" in sanming_paper.growth_text(pd.Series([9.0, 5.0]), 8.7, 9.5, 2.4, strongest)
    none = pd.DataFrame({"p_value": [0.3, 0.6]})
    assert "none of the 2 slope changes" in sanming_paper.moved_text(none)
    assert "1 of the 2 slope changes are still" in sanming_paper.moved_text(pd.DataFrame({"p_value": [0.01, 0.6]}))


def test_figures_draw(book):
    import matplotlib.pyplot as plt

    assert {"series", "itsa_counterfactual", "residuals_9", "comparison", "coefficients", "published_shares",
            "totals_consistency"} <= set(book.figure_names())
    for name in ("series", "comparison", "totals_consistency", "residuals_1"):
        fig = book.figure(name)
        assert fig.axes
        plt.close(fig)
    with pytest.raises(KeyError, match="no figure"):
        book.figure("nothing")


def test_the_book_page_claims_hold(book):
    """book/sanming_itsa.md states these in words around glued numbers; they must stay true."""
    totals = sanming.totals_consistency().set_index(["group", "outcome", "term"])["gap_in_se"]
    assert abs(totals["hospital", "medical_expenditure", "beta3"]) < 2  # "one of the milder cases"
    assert totals["community", "medical_expenditure", "beta3"] > 0  # "growth faster after the reform"
    assert all(b["beta3"][0] < 0 for b in sanming.PUBLISHED.values())  # "Table 4's is negative in all of them"
    values = book.glue_values()
    assert values["sanming_beta3_sign_truth"] < values["sanming_beta3_series"]  # "cannot reproduce ... series by series"
    page = (sanming_paper.published.data_directory().parents[1] / "book" / "sanming_itsa.md").read_text(encoding="utf-8")
    for key in re.findall(r"sanming_itsa\.py::(\w+)", page):
        assert key in values or key.startswith("sanming_mc_") or key == "sanming_text_beta3_year_pct", key
