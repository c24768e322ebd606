"""The synthetic Youxi series: deterministic, calibrated to Table 3, and recoverable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from payreform.contracts import validate_time_series
from payreform.itsa import analyse_series
from payreform.synth import generate, youxi

TERMS = ("beta1", "beta2", "beta3")


def fit_all(frame, **kwargs):
    ts = validate_time_series(frame, outcomes=list(youxi.OUTCOMES), intervention=youxi.INTERVENTION)
    settings = {"seasonal": "ratio_to_moving_average", "coding": youxi.CODING, "hac_lags": 3} | kwargs
    return {o: analyse_series(ts.frame, o, intervention=ts.intervention, **settings) for o in youxi.OUTCOMES}


def test_shape_and_determinism():
    a, b = youxi.generate(seed=5), youxi.generate(seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(youxi.generate(seed=6))
    assert a.shape == (46, 5)
    assert a["month"].iloc[0] == "2016-02" and a["month"].iloc[-1] == "2019-11"
    assert (a[list(youxi.COUNT_OUTCOMES)] % 1 == 0).all().all()
    pd.testing.assert_frame_equal(generate("youxi", seed=5), a)


def test_truth_is_table_3_in_the_papers_coding():
    truth = youxi.truth().set_index(["outcome", "term"])["value"]
    assert truth["outpatient_emergency_visits", "beta3"] == -459.9
    assert truth["hospitalizations", "beta2"] == -286.0
    assert truth["cost_per_outpatient_visit", "post_slope"] == pytest.approx(1.1)
    zero = youxi.truth("zero_at_intervention").set_index(["outcome", "term"])["value"]
    assert zero["hospitalizations", "beta2"] == pytest.approx(-286.0 - 18.1)
    ttp = youxi.truth("time_times_post").set_index(["outcome", "term"])["value"]
    assert ttp["hospitalizations", "beta2"] == pytest.approx(-286.0 - 18.1 - 21 * -18.1)
    published = youxi.published("zero_at_intervention").set_index(["outcome", "term"])
    assert np.isnan(published.loc[("hospitalizations", "beta2"), "ci_low"])


def test_without_noise_month_indicators_recover_the_truth():
    results = fit_all(youxi.generate(noise_scale=0.0), seasonal="season_dummies")
    truth = youxi.truth().set_index(["outcome", "term"])["value"]
    for outcome, analysis in results.items():
        for term in TERMS:
            # additive month indicators approximate the multiplicative season: within 3%
            assert analysis.model.params[term] == pytest.approx(truth[outcome, term], rel=0.03), (outcome, term)


def test_without_noise_ratio_to_moving_average_attenuates_the_level_change():
    """The two-step seasonal adjustment smooths the break: beta2 shrinks towards zero (documented)."""
    results = fit_all(youxi.generate(noise_scale=0.0))
    truth = youxi.truth().set_index(["outcome", "term"])["value"]
    for outcome, analysis in results.items():
        shrink = analysis.model.params["beta2"] / truth[outcome, "beta2"]
        assert 0.75 < shrink < 0.92, (outcome, shrink)
        assert analysis.model.params["beta3"] == pytest.approx(truth[outcome, "beta3"], rel=0.05)


@pytest.fixture(scope="module")
def many_fits():
    rows = []
    for seed in range(120):
        for outcome, analysis in fit_all(youxi.generate(seed=seed), seasonal="season_dummies").items():
            table = analysis.table().set_index("term")
            for term in TERMS:
                rows.append({"seed": seed, "outcome": outcome, "term": term,
                             "estimate": table.loc[term, "estimate"],
                             "width": table.loc[term, "ci_high"] - table.loc[term, "ci_low"],
                             "bg_p": analysis.model.breusch_godfrey.p_value})
    return pd.DataFrame(rows)


def test_estimates_are_centred_on_the_truth(many_fits):
    truth = youxi.truth().set_index(["outcome", "term"])["value"]
    for (outcome, term), group in many_fits.groupby(["outcome", "term"]):
        standard_error_of_mean = group["estimate"].std() / np.sqrt(len(group))
        assert abs(group["estimate"].mean() - truth[outcome, term]) < 3.5 * standard_error_of_mean, (outcome, term)


def test_interval_widths_match_table_3_within_a_factor_of_1_5():
    """The calibration target: the paper's own method (ratio-to-moving-average, Newey-West lag 3)."""
    rows = []
    for seed in range(120):
        for outcome, analysis in fit_all(youxi.generate(seed=seed)).items():
            table = analysis.table().set_index("term")
            rows += [{"outcome": outcome, "term": t, "width": table.loc[t, "ci_high"] - table.loc[t, "ci_low"]}
                     for t in TERMS]
    published = youxi.published()
    published["width"] = published["ci_high"] - published["ci_low"]
    median = pd.DataFrame(rows).groupby(["outcome", "term"])["width"].median()
    for row in published.itertuples():
        ratio = median[row.outcome, row.term] / row.width
        assert 1 / 1.5 <= ratio <= 1.5, (row.outcome, row.term, ratio)


def test_breusch_godfrey_detects_the_planted_autocorrelation(many_fits):
    per_series = many_fits.drop_duplicates(["seed", "outcome"])
    assert (per_series["bg_p"] < 0.05).mean() > 0.8
    default = fit_all(youxi.generate())
    assert all(a.model.breusch_godfrey.p_value < 0.05 for a in default.values())


def test_moving_spring_festival_option():
    fixed = youxi.seasonal_factors(pd.period_range("2017-01", periods=2, freq="M"))
    moving = youxi.seasonal_factors(pd.period_range("2017-01", periods=2, freq="M"), "moving")
    assert fixed["hospitalizations"].iloc[0] > moving["hospitalizations"].iloc[0]
    assert fixed["hospitalizations"].iloc[1] < moving["hospitalizations"].iloc[1]


def test_monthly_population_and_published_trend_inputs():
    population = youxi.monthly_population()
    assert len(population) == 46
    assert 358_000 <= population["population"].min() and population["population"].max() <= 363_000
    tests = youxi.annual_trend_tests()
    assert len(tests) == 5 and tests["published_chi2"].iloc[0] == 13.1
