"""The synthetic Sanming series: yearly totals of Tables 1 and 3, the planted line of Table 4, the
noise that keeps its autocorrelation, the truth the data carry, and the calibration."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize

from payreform import published
from payreform.chapters.sanming_paper import coverage, implied_truth
from payreform.contracts import validate_grouped_time_series
from payreform.itsa import analyse_series, design_matrix
from payreform.synth import sanming

TERMS = ("beta1", "beta2", "beta3")


def test_the_generator_imports_no_estimator():
    source = Path(sanming.__file__).read_text(encoding="utf-8")
    imported = {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import)
                 for alias in node.names}
    assert not any(name and name.startswith(("payreform.itsa", "statsmodels")) for name in imported), imported


def test_constants_are_the_published_tables():
    table4 = published.load("sanming_table4_itsa")
    assert len(table4) == 27
    row = table4.query("group == 'community' and outcome == 'inpatient_volume' and term == 'beta2'").iloc[0]
    assert sanming.PUBLISHED[("community", "inpatient_volume")]["beta2"] == (row.estimate, row.std_error, row.p_value)
    table3 = published.load("sanming_table3_services")
    assert sanming.ANNUAL_TOTALS[("hospital", "outpatient_volume")] == tuple(table3["hospital_outpatient"].astype(float))
    overall = sanming.published_totals(include_overall=True).query("institution == 'overall'")
    expected = table3.set_index("year")["overall_outpatient"]
    got = overall.query("outcome == 'outpatient_volume'").set_index("year")["published"]
    assert np.allclose(got, expected.loc[got.index])  # Table 3's overall row is the sum of the two types


def test_noise_free_series_add_up_to_the_published_totals():
    sums = sanming.annual_sums(sanming.generate(noise_scale=0.0, include_december_2019=True))
    merged = sums.merge(sanming.published_totals(), on=["institution", "year", "outcome"])
    assert len(merged) == 24
    # rounding to whole persons / 0.01 (10k CNY) is the only gap
    assert ((merged["sum"] / merged["published"] - 1).abs() < 1e-4).all()


def test_noisy_series_add_up_to_the_totals_on_average_only():
    """The noise is added after the totals are matched: a single draw misses them, the mean does not."""
    seeds = range(60)
    sums = pd.concat([sanming.annual_sums(sanming.generate(seed=s, include_december_2019=True)).assign(seed=s)
                      for s in seeds])
    merged = sums.merge(sanming.published_totals(), on=["institution", "year", "outcome"])
    merged["ratio"] = merged["sum"] / merged["published"]
    assert (merged.groupby("seed")["ratio"].apply(lambda r: (r - 1).abs().max()) > 0.005).all()
    means = merged.groupby(["institution", "outcome", "year"])["ratio"].agg(["mean", "std"])
    # the multiplicative noise has mean one: the average sum is the published total within 4 standard errors
    assert ((means["mean"] - 1).abs() < 4 * means["std"] / np.sqrt(len(seeds))).all(), means


def test_noise_keeps_its_autocorrelation():
    """Residuals of the noise-free path are AR(1) with the planted coefficient (lag-1 correlation about 0.5)."""
    free = sanming.generate(noise_scale=0.0)
    correlations = []
    for seed in range(40):
        noisy = sanming.generate(seed=seed)
        for group in sanming.GROUPS:
            a = np.log(noisy.loc[noisy.institution == group, "outpatient_volume"].to_numpy() + 1)
            b = np.log(free.loc[free.institution == group, "outpatient_volume"].to_numpy() + 1)
            e = a - b
            correlations.append(np.corrcoef(e[1:], e[:-1])[0, 1])
    # the old generator pinned each year to its total, which removed the slow part of the noise
    assert 0.35 < np.mean(correlations) < 0.6


def test_shape_layout_and_determinism():
    frame = sanming.generate(seed=4)
    assert frame.shape == (94, 5)
    assert list(frame.columns) == ["month", "institution", *sanming.OUTCOMES]
    assert frame["month"].max() == "2019-11"
    pd.testing.assert_frame_equal(frame, sanming.generate(seed=4))
    assert not frame.equals(sanming.generate(seed=5))
    overall = sanming.overall(frame)
    hospital = frame[frame.institution == "hospital"].reset_index(drop=True)
    community = frame[frame.institution == "community"].reset_index(drop=True)
    assert np.allclose(overall["outpatient_volume"], hospital["outpatient_volume"] + community["outpatient_volume"])


def test_the_correction_is_smooth_and_the_planted_line_is_table_4():
    levels = np.array([0.1, -0.05, 0.02, 0.08])
    path = sanming.correction_path(levels)
    assert np.allclose(path[:6], 0.1) and np.allclose(path[42:], 0.08)  # flat before mid-2016, after mid-2019
    assert np.allclose(path[12] - path[11], (-0.05 - 0.1) / 12)  # linear between mid-2016 and mid-2017
    kinks = np.flatnonzero(np.abs(np.diff(path, 2)) > 1e-12)
    assert set(kinks) <= {4, 5, 16, 17, 28, 29, 40, 41}  # bends only around the mid-year anchors
    time = np.arange(1, 48, dtype=float)
    post = (time >= 22).astype(float)
    b = sanming.PUBLISHED[("community", "inpatient_volume")]
    line = 3.0 + b["beta1"][0] * time + b["beta2"][0] * post + b["beta3"][0] * time * post
    fitted = np.linalg.lstsq(design_matrix(47, 22, "time_times_post").to_numpy(), line, rcond=None)[0]
    assert np.allclose(fitted[1:], [b["beta1"][0], b["beta2"][0], b["beta3"][0]])


def test_truth_tables():
    planted = sanming.truth().set_index(["group", "outcome", "term"])["value"]
    assert planted["community", "inpatient_volume", "beta2"] == -0.154
    assert planted["community", "inpatient_volume", "level_change_at_intervention"] == pytest.approx(-0.154 - 0.004 * 22)
    zero = sanming.truth("zero_at_intervention").set_index(["group", "outcome", "term"])["value"]
    assert zero["community", "inpatient_volume", "beta2"] == pytest.approx(-0.242)
    implied = implied_truth().set_index(["group", "outcome", "term"])["value"]
    assert {"hospital", "community", "overall"} == set(implied.index.get_level_values(0))
    # the yearly totals pull the trends away from Table 4 (documented, not hidden)
    assert abs(implied["community", "medical_expenditure", "beta3"] - (-0.009)) > 0.005


def test_implied_truth_equals_statsmodels_on_the_noise_free_series():
    frame = sanming.generate(noise_scale=0.0)
    part = frame[frame.institution == "hospital"]
    periods = pd.PeriodIndex(part["month"], freq="M")
    y = np.log((part["outpatient_volume"].to_numpy() + 1) / sanming.seasonal_factors(periods, "outpatient_volume"))
    time = np.arange(1, 48.0)
    post = (time >= 22).astype(float)
    fit = sm.OLS(y, np.column_stack([np.ones(47), time, post, time * post])).fit()
    implied = implied_truth().set_index(["group", "outcome", "term"])["value"]
    for i, term in enumerate(TERMS, start=1):
        assert implied["hospital", "outpatient_volume", term] == pytest.approx(fit.params[i], abs=1e-10)


def test_totals_line_passes_through_the_totals():
    line = sanming.totals_line("hospital", "inpatient_volume")
    time = np.arange(1, 49.0)
    post = (time >= 22).astype(float)
    season = sanming.seasonal_factors(pd.period_range("2016-01", "2019-12", freq="M"), "inpatient_volume")
    monthly = np.exp(line["beta0"] + line["beta1"] * time + line["beta2"] * post + line["beta3"] * time * post) * season
    assert np.allclose(monthly.reshape(4, 12).sum(axis=1) - 12, sanming.ANNUAL_TOTALS[("hospital", "inpatient_volume")])


def test_totals_consistency_against_an_independent_least_squares_solve():
    """Solve the same four equations with scipy.optimize.least_squares from another start."""
    table = sanming.totals_consistency().set_index(["group", "outcome", "term"])
    time = np.arange(1, 49.0)
    post = (time >= 22).astype(float)
    season = sanming.seasonal_factors(pd.period_range("2016-01", "2019-12", freq="M"), "medical_expenditure")
    target = np.log(np.array(sanming.ANNUAL_TOTALS[("community", "medical_expenditure")]) + 12)

    def residual(beta):
        path = beta[0] + beta[1] * time + beta[2] * post + beta[3] * time * post
        return np.log((np.exp(path) * season).reshape(4, 12).sum(axis=1)) - target

    beta = optimize.least_squares(residual, [7.0, 0.01, 0.1, -0.001], xtol=1e-15, ftol=1e-15, gtol=1e-15).x
    row = table.loc[("community", "medical_expenditure", "beta3")]
    assert row["from_totals"] == pytest.approx(beta[3], abs=1e-8)
    assert row["gap_in_se"] == pytest.approx((beta[3] - (-0.009)) / 0.004)
    assert row["gap_in_se"] > 2.5  # the strong case: about 3.2 standard errors


@pytest.fixture(scope="module")
def many_fits():
    rows = []
    for seed in range(60):
        data = validate_grouped_time_series(sanming.generate(seed=seed), group_column="institution",
                                            intervention=sanming.INTERVENTION)
        for group, ts in data.series.items():
            for outcome in sanming.OUTCOMES:
                model = analyse_series(ts.frame, outcome, intervention=ts.intervention, log=True,
                                       seasonal="season_dummies", coding=sanming.CODING, hac_lags=3).model
                rows += [{"seed": seed, "group": group, "outcome": outcome, "term": t,
                          "estimate": model.params[t], "std_error": model.term(t).std_error} for t in TERMS]
    return pd.DataFrame(rows)


def test_estimates_are_centred_on_the_truth_the_data_carry(many_fits):
    implied = implied_truth().set_index(["group", "outcome", "term"])["value"]
    for (group, outcome, term), part in many_fits.groupby(["group", "outcome", "term"]):
        error = part["estimate"].mean() - implied[group, outcome, term]
        assert abs(error) < 4 * part["estimate"].std() / np.sqrt(len(part)), (group, outcome, term)


@pytest.mark.slow
def test_standard_errors_are_calibrated_to_table_4_and_understate_the_spread():
    """The paper's method (ratio to moving average, lag 3) over 60 seeds: median SEs near Table 4's, and,
    because the noise keeps its autocorrelation, below the real spread of the estimates."""
    table = coverage(seeds=60)
    assert (table["se_over_spread"] < 0.9).all(), table
    assert (table["coverage"] < 0.9).all(), table  # the old generator covered 99%
    published_se = sanming.published().set_index(["group", "outcome", "term"])["std_error"]
    rows = []
    for seed in range(60):
        data = validate_grouped_time_series(sanming.generate(seed=seed), group_column="institution",
                                            intervention=sanming.INTERVENTION)
        for group, ts in data.series.items():
            for outcome in sanming.OUTCOMES:
                model = analyse_series(ts.frame, outcome, intervention=ts.intervention, log=True,
                                       seasonal="ratio_to_moving_average", coding=sanming.CODING, hac_lags=3).model
                rows += [{"group": group, "outcome": outcome, "term": t, "se": model.term(t).std_error} for t in TERMS]
    medians = pd.DataFrame(rows).groupby(["group", "outcome", "term"])["se"].median()
    ratios = medians / published_se.loc[medians.index].to_numpy()
    assert ratios.between(1 / 2, 2).all(), ratios.round(2).to_dict()
    assert ((ratios >= 1 / 1.5) & (ratios <= 1.5)).sum() >= 12, ratios.round(2).to_dict()
