"""Segmented regression, Newey-West inference, codings, counterfactuals, seasonal adjustment,
quasi-Poisson: checked against R (fixtures made by tests/fixtures/make_r_fixtures.R), against
brute-force computations written out here, and on hand-checkable cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from payreform import itsa
from payreform.errors import ContractError, ParameterError

TOL = 1e-6


def relclose(a, b, tol=TOL):
    return np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=tol, atol=tol * 1e-3)


# ----------------------------------------------------------------------------- helpers


def brute_force_newey_west(X: np.ndarray, y: np.ndarray, lag: int) -> np.ndarray:
    """Newey-West covariance written out term by term (Bartlett weights, n/(n-k) factor)."""
    n, k = X.shape
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    u = y - X @ beta
    S = np.zeros((k, k))
    for t in range(n):
        S += u[t] ** 2 * np.outer(X[t], X[t])
    for ell in range(1, lag + 1):
        w = 1 - ell / (lag + 1)
        for t in range(ell, n):
            S += w * u[t] * u[t - ell] * (np.outer(X[t], X[t - ell]) + np.outer(X[t - ell], X[t]))
    bread = np.linalg.inv(X.T @ X)
    return bread @ S @ bread * n / (n - k)


def line(n=30, t0=16, b=(10.0, 2.0, 5.0, -1.0), coding="zero_at_intervention", noise=0.0, seed=0):
    X = itsa.design_matrix(n, t0, coding).to_numpy()
    y = X @ np.array(b) + np.random.default_rng(seed).normal(0, noise, n)
    index = pd.period_range("2015-01", periods=n, freq="M")
    return pd.Series(y, index=index, name="y")


# ----------------------------------------------------------------------------- design and codings


def test_design_matrix_codings_by_hand():
    d = {c: itsa.design_matrix(6, 4, c) for c in itsa.CODINGS}
    assert d["zero_at_intervention"]["beta3"].tolist() == [0, 0, 0, 0, 1, 2]
    assert d["one_at_intervention"]["beta3"].tolist() == [0, 0, 0, 1, 2, 3]
    assert d["time_times_post"]["beta3"].tolist() == [0, 0, 0, 4, 5, 6]
    assert d["zero_at_intervention"]["beta2"].tolist() == [0, 0, 0, 1, 1, 1]
    assert list(itsa.design_matrix(6, 4, impact="level").columns) == ["beta0", "beta1", "beta2"]
    assert list(itsa.design_matrix(6, 4, impact="slope").columns) == ["beta0", "beta1", "beta3"]


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.SingularMatrixWarning")
def test_exact_line_is_recovered_in_its_own_coding():
    for coding in itsa.CODINGS:
        y = line(coding=coding)
        result = itsa.segmented_regression(y, intervention="2016-04", coding=coding, hac_lags=None)
        assert np.allclose(result.params.to_numpy(), [10, 2, 5, -1], atol=1e-9)


def test_beta2_conversion_by_hand():
    # the jump at T0 = 16 is 5 under zero_at_intervention; with slope change -1:
    y = line(coding="zero_at_intervention", noise=1.0)
    zero = itsa.segmented_regression(y, intervention="2016-04", coding="zero_at_intervention", hac_lags=2)
    one = itsa.segmented_regression(y, intervention="2016-04", coding="one_at_intervention", hac_lags=2)
    ttp = itsa.segmented_regression(y, intervention="2016-04", coding="time_times_post", hac_lags=2)
    b2, b3 = zero.params["beta2"], zero.params["beta3"]
    assert one.params["beta2"] == pytest.approx(b2 - b3, abs=1e-9)
    assert ttp.params["beta2"] == pytest.approx(b2 - 16 * b3, abs=1e-9)
    for source in (zero, one, ttp):
        for target, refit in (("zero_at_intervention", zero), ("one_at_intervention", one),
                              ("time_times_post", ttp)):
            converted = source.beta2_in(target)
            assert converted.estimate == pytest.approx(refit.params["beta2"], abs=1e-8)
            assert converted.std_error == pytest.approx(refit.term("beta2").std_error, rel=1e-9)
        assert source.level_change_at_intervention().estimate == pytest.approx(b2, abs=1e-8)
        for term in ("beta1", "beta3"):
            assert source.params[term] == pytest.approx(zero.params[term], abs=1e-9)
            assert source.term(term).std_error == pytest.approx(zero.term(term).std_error, rel=1e-9)


def test_impact_models_drop_terms():
    y = line(noise=1.0)
    level = itsa.segmented_regression(y, intervention="2016-04", impact="level")
    slope = itsa.segmented_regression(y, intervention="2016-04", impact="slope")
    assert list(level.table()["term"]) == ["beta0", "beta1", "beta2"]
    assert list(slope.table()["term"]) == ["beta0", "beta1", "beta3", "post_slope"]
    with pytest.raises(ParameterError, match="impact='slope'"):
        slope.beta2_in("zero_at_intervention")


# ----------------------------------------------------------------------------- inference


@pytest.mark.parametrize("lag", [0, 1, 3, 6])
def test_newey_west_equals_brute_force(youxi_frame, lag):
    y = youxi_frame["cost_per_hospitalization"]
    result = itsa.segmented_regression(y, intervention="2017-10", coding="one_at_intervention", hac_lags=lag)
    expected = brute_force_newey_west(result.design.to_numpy(), y.to_numpy(), lag)
    assert np.allclose(result.cov.to_numpy(), expected, rtol=1e-10, atol=0)


def test_conventional_standard_errors_equal_statsmodels(youxi_frame):
    y = youxi_frame["hospitalizations"]
    result = itsa.segmented_regression(y, intervention="2017-10", hac_lags=None)
    fit = sm.OLS(y.to_numpy(), result.design.to_numpy()).fit()
    assert np.allclose(result.table()["std_error"][:4], fit.bse, rtol=1e-12)


def test_post_slope_standard_error_by_hand(youxi_frame):
    result = itsa.segmented_regression(youxi_frame["hospitalizations"], intervention="2017-10", hac_lags=3)
    v = result.cov
    se = math.sqrt(v.loc["beta1", "beta1"] + v.loc["beta3", "beta3"] + 2 * v.loc["beta1", "beta3"])
    post = result.post_slope()
    assert post.estimate == pytest.approx(result.params["beta1"] + result.params["beta3"])
    assert post.std_error == pytest.approx(se, rel=1e-12)
    assert post.p_value == pytest.approx(2 * (1 - __import__("scipy").stats.t.cdf(abs(post.statistic), 42)), rel=1e-9)


def test_default_lag_rule():
    assert [itsa.newey_west_lags(n) for n in (20, 46, 47, 100, 300)] == [2, 3, 3, 4, 5]
    result = itsa.segmented_regression(line(n=46, t0=21, noise=1.0), intervention="2016-09")
    assert result.hac_lags == 3


@pytest.mark.parametrize("coding", ["zero_at_intervention", "one_at_intervention", "time_times_post"])
@pytest.mark.parametrize("se_type", ["newey_west_0", "newey_west_1", "newey_west_3", "newey_west_6", "ols"])
@pytest.mark.parametrize("series", ["hospitalizations_adjusted", "cost_per_hospitalization"])
def test_coefficients_and_errors_equal_r(youxi_frame, fixtures, coding, se_type, series):
    reference = pd.read_csv(fixtures / "r_itsa_coefficients.csv")
    ref = reference[(reference.series == series) & (reference.coding == coding) & (reference.se_type == se_type)]
    if series == "hospitalizations_adjusted":
        y = itsa.ratio_to_moving_average(youxi_frame["hospitalizations"]).adjusted
    else:
        y = youxi_frame[series]
    lags = None if se_type == "ols" else int(se_type.rsplit("_", 1)[1])
    result = itsa.segmented_regression(y, intervention="2017-10", coding=coding, hac_lags=lags)
    table = result.table().set_index("term").loc[ref["term"]]
    for column in ("estimate", "std_error", "p_value", "ci_low", "ci_high"):
        assert relclose(table[column].to_numpy(), ref[column].to_numpy()), column
    assert result.cov.loc["beta2", "beta3"] == pytest.approx(ref["cov_beta2_beta3"].iloc[0], rel=TOL)


@pytest.mark.parametrize("coding", ["zero_at_intervention", "one_at_intervention", "time_times_post"])
def test_month_indicators_equal_r(youxi_frame, fixtures, coding):
    reference = pd.read_csv(fixtures / "r_itsa_coefficients.csv")
    ref = reference[(reference.series == "hospitalizations_month_dummies") & (reference.coding == coding)]
    result = itsa.segmented_regression(youxi_frame["hospitalizations"], intervention="2017-10", coding=coding,
                                       hac_lags=3, seasonal_dummies=True)
    table = result.table().set_index("term").loc[ref["term"]]
    for column in ("estimate", "std_error", "p_value", "ci_low", "ci_high"):
        assert relclose(table[column].to_numpy(), ref[column].to_numpy()), column


def test_counterfactual_keeps_the_season_with_month_indicators(youxi_frame):
    result = itsa.segmented_regression(youxi_frame["hospitalizations"], intervention="2017-10",
                                       seasonal_dummies=True, hac_lags=3)
    b = result.params
    effect = result.effect_at(period="2019-02")
    t = 37
    assert effect.counterfactual == pytest.approx(b["beta0"] + b["beta1"] * t + b["month_2"])
    assert effect.absolute.estimate == pytest.approx(b["beta2"] + b["beta3"] * (t - 21))
    frame = result.predictions()
    assert frame.loc[pd.Period("2019-02", "M"), "counterfactual"] == pytest.approx(effect.counterfactual)


@pytest.mark.parametrize("series", ["hospitalizations_adjusted", "cost_per_hospitalization"])
def test_breusch_godfrey_and_durbin_watson_equal_r(youxi_frame, fixtures, series):
    reference = pd.read_csv(fixtures / "r_itsa_tests.csv")
    ref = reference[reference.series == series]
    if series == "hospitalizations_adjusted":
        y = itsa.ratio_to_moving_average(youxi_frame["hospitalizations"]).adjusted
    else:
        y = youxi_frame[series]
    for row in ref[ref.test == "breusch_godfrey"].itertuples():
        result = itsa.segmented_regression(y, intervention="2017-10", coding="one_at_intervention",
                                           bg_order=int(row.order))
        bg = result.breusch_godfrey
        assert relclose([bg.statistic, bg.p_value, bg.f_statistic, bg.f_p_value],
                        [row.statistic, row.p_value, row.f_statistic, row.f_p_value])
    dw = ref[ref.test == "durbin_watson"]["statistic"].item()
    assert result.durbin_watson == pytest.approx(dw, rel=TOL)


def test_breusch_godfrey_detects_ar1_and_not_white_noise():
    rng = np.random.default_rng(3)
    n = 200
    ar = np.zeros(n)
    for t in range(1, n):
        ar[t] = 0.8 * ar[t - 1] + rng.normal()
    index = pd.period_range("2000-01", periods=n, freq="M")
    correlated = itsa.segmented_regression(pd.Series(ar, index=index), intervention="2008-01")
    white = itsa.segmented_regression(pd.Series(rng.normal(size=n), index=index), intervention="2008-01")
    assert correlated.breusch_godfrey.p_value < 1e-6
    assert white.breusch_godfrey.p_value > 0.01


# ----------------------------------------------------------------------------- counterfactual


def test_effect_at_horizon_by_hand():
    y = line(noise=0.5, seed=4)
    result = itsa.segmented_regression(y, intervention="2016-04", hac_lags=2)
    b = result.params
    effect = result.effect_at(5)
    t = 16 + 5
    assert effect.period == pd.Period("2016-09", "M")
    assert effect.counterfactual == pytest.approx(b["beta0"] + b["beta1"] * t)
    assert effect.absolute.estimate == pytest.approx(b["beta2"] + 5 * b["beta3"])
    # delta-method standard error of the relative effect against a numerical gradient
    beta, cov = b.to_numpy(), result.cov.to_numpy()

    def relative(v):
        return (v[2] + 5 * v[3]) / (v[0] + v[1] * t)

    gradient = np.array([(relative(beta + h) - relative(beta - h)) / (2 * 1e-6)
                         for h in np.eye(4) * 1e-6])
    assert effect.relative.estimate == pytest.approx(relative(beta))
    assert effect.relative.std_error == pytest.approx(math.sqrt(gradient @ cov @ gradient), rel=1e-5)
    assert result.effect_at(period="2016-09").absolute.estimate == pytest.approx(effect.absolute.estimate)
    assert result.effect_at().period == y.index[-1]


def test_predictions_counterfactual_only_after_intervention():
    result = itsa.segmented_regression(line(noise=1.0), intervention="2016-04")
    frame = result.predictions()
    assert frame["counterfactual"].isna().sum() == 15
    assert np.allclose(frame["fitted"], result.fitted)


# ----------------------------------------------------------------------------- seasonal adjustment


def test_seasonal_indices_equal_r_decompose(youxi_frame, fixtures):
    reference = pd.read_csv(fixtures / "r_decompose.csv")
    for outcome, ref in reference.groupby("outcome"):
        adjustment = itsa.ratio_to_moving_average(youxi_frame[outcome])
        months = pd.PeriodIndex(ref["month"], freq="M").month
        ours = adjustment.indices.reindex(months).to_numpy()
        assert relclose(ours, ref["seasonal"].to_numpy(), 1e-9)
        trend = adjustment.trend.to_numpy()
        assert np.allclose(trend, ref["trend"].to_numpy(), rtol=1e-9, equal_nan=True)


def test_seasonal_indices_exact_on_a_pure_pattern():
    index = pd.period_range("2016-01", periods=48, freq="M")
    pattern = np.array([1.1, 0.8, 1.0, 1.0, 1.0, 1.0, 1.05, 1.05, 1.0, 1.0, 0.95, 1.05])
    pattern = pattern / pattern.mean()
    series = pd.Series(500.0 * pattern[index.month - 1], index=index)
    adjustment = itsa.ratio_to_moving_average(series)
    assert np.allclose(adjustment.indices.to_numpy(), pattern, atol=1e-12)
    assert np.allclose(adjustment.adjusted.to_numpy(), 500.0)
    assert adjustment.indices.mean() == pytest.approx(1.0)


def test_quarterly_seasonal_adjustment():
    index = pd.period_range("2015Q1", periods=16, freq="Q")
    pattern = np.array([0.9, 1.0, 1.1, 1.0])
    series = pd.Series((100 + np.arange(16)) * pattern[index.quarter - 1], index=index)
    adjustment = itsa.ratio_to_moving_average(series)
    assert list(adjustment.indices.index) == [1, 2, 3, 4]
    assert adjustment.indices[1] < adjustment.indices[3]


def test_seasonal_adjustment_refuses_annual_and_short_series():
    annual = pd.Series(np.arange(1.0, 11.0), index=pd.period_range("2010", periods=10, freq="Y"))
    with pytest.raises(ParameterError, match="annual"):
        itsa.ratio_to_moving_average(annual)
    short = pd.Series(np.arange(1.0, 21.0), index=pd.period_range("2016-01", periods=20, freq="M"))
    with pytest.raises(ParameterError, match="two years"):
        itsa.ratio_to_moving_average(short)


# ----------------------------------------------------------------------------- quasi-Poisson


@pytest.mark.parametrize("with_offset", [False, True])
def test_quasipoisson_equals_r(youxi_frame, fixtures, with_offset):
    reference = pd.read_csv(fixtures / "r_quasipoisson.csv")
    ref = reference[reference["offset"] == with_offset].set_index("term")
    result = itsa.segmented_poisson(youxi_frame, "hospitalizations", intervention="2017-10",
                                    coding="one_at_intervention", fourier=2,
                                    offset="population" if with_offset else None)
    table = result.table().set_index("term").loc[ref.index]
    assert relclose(table["estimate"], ref["estimate"])
    assert relclose(table["std_error"], ref["std_error"])
    assert relclose(table["p_value"], ref["p_value"], 1e-5)
    assert result.dispersion == pytest.approx(ref["dispersion"].iloc[0], rel=TOL)
    assert np.allclose(table["rate_ratio"], np.exp(table["estimate"]))


def test_quasipoisson_recovers_a_rate_ratio():
    rng = np.random.default_rng(11)
    index = pd.period_range("2010-01", periods=120, freq="M")
    t = np.arange(1, 121)
    mu = np.exp(5 + 0.002 * t + np.log(0.8) * (t >= 61) + 0.1 * np.sin(2 * np.pi * index.month / 12))
    frame = pd.DataFrame({"y": rng.poisson(mu)}, index=index)
    result = itsa.segmented_poisson(frame, "y", intervention="2015-01", impact="level", fourier=1)
    rr = result.table().set_index("term").loc["beta2", ["rate_ratio", "rr_ci_low", "rr_ci_high"]]
    assert rr["rr_ci_low"] < 0.8 < rr["rr_ci_high"]
    assert abs(rr["rate_ratio"] - 0.8) < 0.03


def test_fourier_terms_limits():
    index = pd.period_range("2016-01", periods=24, freq="M")
    terms = itsa.fourier_terms(index, 2)
    assert terms["sin1"].iloc[2] == pytest.approx(math.sin(2 * math.pi * 3 / 12))
    with pytest.raises(ParameterError, match="at most 5"):
        itsa.fourier_terms(index, 6)
    with pytest.raises(ParameterError, match="annual"):
        itsa.fourier_terms(pd.period_range("2000", periods=5, freq="Y"), 1)


# ----------------------------------------------------------------------------- whole analysis and errors


def test_analyse_series_log_and_seasonal(youxi_frame):
    analysis = itsa.analyse_series(youxi_frame, "hospitalizations", intervention="2017-10",
                                   seasonal="ratio_to_moving_average", log=True)
    adjusted = itsa.ratio_to_moving_average(youxi_frame["hospitalizations"]).adjusted
    assert np.allclose(analysis.analysed, np.log(adjusted + 1))
    assert analysis.model_name == "ols_newey_west"
    table = analysis.table()
    assert {"model", "outcome", "n_obs"} <= set(table.columns)


def test_parameter_errors_name_the_parameter(youxi_frame):
    with pytest.raises(ParameterError, match="parameter 'coding'.*did you mean 'one_at_intervention'"):
        itsa.segmented_regression(youxi_frame["hospitalizations"], intervention="2017-10", coding="one_at_interventon")
    with pytest.raises(ParameterError, match="hac_lags"):
        itsa.segmented_regression(youxi_frame["hospitalizations"], intervention="2017-10", hac_lags=-1)
    with pytest.raises(ParameterError, match="log"):
        itsa.analyse_series(youxi_frame, "hospitalizations", intervention="2017-10", model="quasipoisson", log=True)
    with pytest.raises(ContractError, match="inside the data"):
        itsa.segmented_regression(youxi_frame["hospitalizations"], intervention="2016-02")
    with pytest.raises(ParameterError, match="quarter"):
        itsa.segmented_regression(youxi_frame["hospitalizations"], intervention="2017Q4")


def test_inputs_are_not_modified(youxi_frame):
    before = youxi_frame.copy()
    itsa.analyse_series(youxi_frame, "hospitalizations", intervention="2017-10", seasonal="ratio_to_moving_average")
    pd.testing.assert_frame_equal(youxi_frame, before)


def test_helper_tables(youxi_frame):
    analysis = itsa.analyse_series(youxi_frame, "hospitalizations", intervention="2017-10",
                                   coding="one_at_intervention", hac_lags=3)
    codings = itsa.coding_comparison(analysis)
    assert np.allclose(codings["beta2"], codings["beta2_converted"], atol=1e-8)
    assert np.allclose(codings["se_beta2"], codings["se_beta2_converted"], rtol=1e-9)
    lags = itsa.lag_sensitivity(analysis)
    assert lags["NW lag 3"].item() == pytest.approx(analysis.model.term("beta3").std_error)
    quasi = itsa.analyse_series(youxi_frame, "hospitalizations", intervention="2017-10", model="quasipoisson",
                                coding="one_at_intervention", fourier=2)
    agreement = itsa.compare_conclusions(analysis, quasi)
    assert list(agreement["term"]) == ["beta2", "beta3"]
    record = itsa.diagnostics_record(analysis)
    assert record["hac_lags"] == 3 and record["level_change_at_intervention"]["term"] == "level_change_at_intervention"
    assert itsa.diagnostics_table([analysis, quasi])["dispersion"].notna().sum() == 1
