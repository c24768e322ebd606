"""Two-group (comparative) ITSA against a hand-built stacked regression, grouped contracts,
placebo and sensitivity helpers, percentages on the log scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from payreform import itsa
from payreform.contracts import validate_grouped_time_series
from payreform.errors import ContractError, ParameterError
from payreform.synth import sanming


@pytest.fixture(scope="module")
def grouped():
    return validate_grouped_time_series(sanming.generate(), group_column="institution",
                                        intervention=sanming.INTERVENTION)


def stacked_by_hand(group: np.ndarray, reference: np.ndarray, t0: int, lag: int, origin: int):
    """Linden's stacked regression and within-series Newey-West, written out with loops."""
    n = len(group)
    time = np.arange(1, n + 1, dtype=float)
    post = (time >= t0).astype(float)
    since = (time - origin) * post
    rows, y = [], []
    for z, values in ((0.0, reference), (1.0, group)):
        for t in range(n):
            rows.append([1, time[t], post[t], since[t], z, z * time[t], z * post[t], z * since[t]])
            y.append(values[t])
    X, y = np.array(rows), np.array(y)
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    u = y - X @ beta
    meat = np.zeros((8, 8))
    for start in (0, n):
        for t in range(start, start + n):
            meat += u[t] ** 2 * np.outer(X[t], X[t])
            for ell in range(1, lag + 1):
                if t - ell >= start:
                    w = 1 - ell / (lag + 1)
                    meat += w * u[t] * u[t - ell] * (np.outer(X[t], X[t - ell]) + np.outer(X[t - ell], X[t]))
    bread = np.linalg.inv(X.T @ X)
    cov = bread @ meat @ bread * (2 * n) / (2 * n - 8)
    return beta, cov


@pytest.mark.parametrize("coding, origin", [("zero_at_intervention", 22), ("time_times_post", 0),
                                            ("one_at_intervention", 21)])
@pytest.mark.parametrize("lag", [0, 3])
def test_comparative_itsa_equals_hand_built_stacked_regression(grouped, coding, origin, lag):
    hospital, _ = itsa.prepare_series(grouped.series["hospital"].frame["outpatient_volume"], log=True,
                                      seasonal="ratio_to_moving_average")
    community, _ = itsa.prepare_series(grouped.series["community"].frame["outpatient_volume"], log=True,
                                       seasonal="ratio_to_moving_average")
    result = itsa.comparative_itsa(hospital, community, intervention="2017-10", coding=coding, hac_lags=lag,
                                   group="hospital", reference="community")
    beta, cov = stacked_by_hand(hospital.to_numpy(), community.to_numpy(), 22, lag, origin)
    assert np.allclose(result.params.to_numpy(), beta, rtol=1e-10, atol=1e-12)
    assert np.allclose(result.cov.to_numpy(), cov, rtol=1e-8, atol=1e-15)
    table = result.table().set_index("term")
    se = np.sqrt(np.diag(cov))
    p = 2 * stats.t.sf(np.abs(beta / se), 2 * 47 - 8)
    assert np.allclose(table.loc[[f"beta{i}" for i in range(8)], "p_value"], p, rtol=1e-6, atol=1e-12)


def test_reference_coefficients_equal_the_single_series_fit(grouped):
    hospital = np.log(grouped.series["hospital"].frame["inpatient_volume"] + 1)
    community = np.log(grouped.series["community"].frame["inpatient_volume"] + 1)
    result = itsa.comparative_itsa(hospital, community, intervention="2017-10", hac_lags=None)
    alone = itsa.segmented_regression(community, intervention="2017-10", hac_lags=None)
    other = itsa.segmented_regression(hospital, intervention="2017-10", hac_lags=None)
    assert np.allclose(result.params[:4].to_numpy(), alone.params.to_numpy())
    assert np.allclose(result.params[:4].to_numpy() + result.params[4:].to_numpy(), other.params.to_numpy())
    jump = result.difference_in_jump()
    assert jump.estimate == pytest.approx(other.level_change_at_intervention().estimate
                                          - alone.level_change_at_intervention().estimate)


def test_panel_newey_west_equals_statsmodels_cov_nw_panel(grouped):
    hospital = np.log(grouped.series["hospital"].frame["medical_expenditure"] + 1)
    community = np.log(grouped.series["community"].frame["medical_expenditure"] + 1)
    result = itsa.comparative_itsa(hospital, community, intervention="2017-10", hac_lags=2)
    design = np.vstack([np.hstack([itsa.design_matrix(47, 22).to_numpy(), np.zeros((47, 4))]),
                        np.hstack([itsa.design_matrix(47, 22).to_numpy()] * 2)])
    fit = sm.OLS(np.r_[community, hospital], design).fit()
    from statsmodels.stats.sandwich_covariance import cov_nw_panel

    assert np.allclose(result.cov.to_numpy(), cov_nw_panel(fit, 2, [(0, 47), (47, 94)]), rtol=1e-12)


def test_compare_series_with_season_indicators_equals_statsmodels(grouped):
    """Season indicators, one set per series: the stacked regression by hand with statsmodels."""
    result = itsa.compare_series(grouped.series["hospital"].frame, grouped.series["community"].frame,
                                 "inpatient_volume", intervention="2017-10", seasonal="season_dummies", log=True,
                                 hac_lags=2, group="hospital", reference="community")
    hospital = np.log(grouped.series["hospital"].frame["inpatient_volume"].to_numpy() + 1)
    community = np.log(grouped.series["community"].frame["inpatient_volume"].to_numpy() + 1)
    base = itsa.design_matrix(47, 22).to_numpy()
    months = np.asarray(grouped.series["hospital"].frame.index.month)
    seasons = np.column_stack([(months == m).astype(float) for m in range(2, 13)])
    design = np.vstack([np.hstack([base, np.zeros_like(base), seasons, np.zeros_like(seasons)]),
                        np.hstack([base, base, seasons, seasons])])
    fit = sm.OLS(np.r_[community, hospital], design).fit()
    from statsmodels.stats.sandwich_covariance import cov_nw_panel

    assert np.allclose(result.params.to_numpy(), fit.params, rtol=1e-10, atol=1e-12)
    assert np.allclose(result.cov.to_numpy(), cov_nw_panel(fit, 2, [(0, 47), (47, 94)]), rtol=1e-10)
    assert len(result.season_terms) == 22
    table = result.table().set_index("term")
    assert "month_2" not in table.index  # season shapes are not effects
    assert table.loc["beta7", "percent_change"] == pytest.approx(100 * np.expm1(fit.params[7]))
    assert np.isnan(table.loc["beta4", "percent_change"])


def test_compare_series_refuses_a_count_model(grouped):
    with pytest.raises(ParameterError, match="model=ols"):
        itsa.compare_series(grouped.series["hospital"].frame, grouped.series["community"].frame, "inpatient_volume",
                            intervention="2017-10", model="quasipoisson")


def test_comparative_itsa_needs_the_same_periods(grouped):
    hospital = grouped.series["hospital"].frame["inpatient_volume"]
    with pytest.raises(ContractError, match="same periods"):
        itsa.comparative_itsa(hospital, hospital.iloc[1:], intervention="2017-10")


# ----------------------------------------------------------------------------- grouped contract


def long_frame():
    return sanming.generate(seed=3)


@pytest.mark.parametrize("change, kwargs, message", [
    (lambda f: f.drop(index=[80]), {}, r"group 'community': the monthly series has a gap: 2018-10 missing after 2018-09"),
    (lambda f: f[~((f.institution == "community") & (f.month == "2019-11"))], {},
     r"group 'community' has no row for 2019-11 \(group 'hospital' has one\)"),
    (lambda f: f.assign(month=f["month"].where(f.index != 50, "2016-02")), {},
     r"group 'community': period 2016-02 appears twice in column 'month' \(row 50 and row 52\)"),
    (lambda f: f, {"compare": ["hospital", "comunity"]}, r"'comunity'.*did you mean 'community'"),
    (lambda f: f, {"compare": ["hospital"]}, r"give two different groups"),
    (lambda f: f.assign(institution=f["institution"].where(f.index != 10)), {}, r"column 'institution' is empty in row 12"),
    (lambda f: f.rename(columns={"institution": "type"}), {}, r"column 'institution' not found"),
])
def test_grouped_contract_rules(change, kwargs, message):
    with pytest.raises((ContractError, ParameterError), match=message):
        validate_grouped_time_series(change(long_frame()), group_column="institution", intervention="2017-10",
                                     **kwargs)


def test_with_total_adds_the_sum(grouped):
    total = grouped.with_total()
    assert total.groups == ("hospital", "community", "overall")
    expected = grouped.series["hospital"].frame + grouped.series["community"].frame
    pd.testing.assert_frame_equal(total.series["overall"].frame, expected)
    with pytest.raises(ParameterError, match="already called"):
        total.with_total()


# ----------------------------------------------------------------------------- robustness helpers


def test_as_percent_change():
    table = itsa.as_percent_change(pd.DataFrame({"estimate": [-0.154, 0.0], "ci_low": [-0.2, -0.1],
                                                 "ci_high": [-0.1, 0.1]}))
    assert table["percent"].round(2).tolist() == [-14.27, 0.0]
    assert table["percent_low"].iloc[1] == pytest.approx(100 * (np.exp(-0.1) - 1))


def test_placebo_analysis_uses_only_the_pre_period(grouped):
    series = np.log(grouped.series["hospital"].frame["outpatient_volume"] + 1)
    placebo = itsa.placebo_analysis(series, intervention="2017-10", placebos=["2016-10", "2017-01"], hac_lags=2)
    assert placebo["n_obs"].tolist() == [21, 21]
    direct = itsa.segmented_regression(series.loc[:"2017-09"], intervention="2017-01", hac_lags=2)
    assert placebo.loc[1, "beta3"] == pytest.approx(direct.params["beta3"])
    assert placebo.loc[1, "beta3_p"] == pytest.approx(direct.term("beta3").p_value)
    with pytest.raises(ParameterError, match="placebo date 2017-06"):
        itsa.placebo_analysis(series, intervention="2017-10", placebos=["2017-06"])


def test_placebo_false_positive_rate_on_straight_lines():
    """On series with no break the placebo tests reject about 5% of the time (here: at most 15%)."""
    rng = np.random.default_rng(0)
    index = pd.period_range("2015-01", periods=48, freq="M")
    rejections = 0
    for _ in range(40):
        series = pd.Series(5 + 0.01 * np.arange(48) + rng.normal(0, 0.05, 48), index=index)
        result = itsa.placebo_analysis(series, intervention="2018-12", placebos=["2016-10"], hac_lags=None)
        rejections += int(result["beta3_p"].item() < 0.05)
    assert rejections <= 6


@pytest.mark.parametrize("periods, freq, intervention, expected", [
    (("2016-01", "2019-11"), "M", "2017-10", ["2016-07", "2016-12", "2017-04"]),  # 21 months before
    (("2016-01", "2019-11"), "M", "2017-02", ["2016-07", "2016-08"]),  # 13 months: two admissible dates
    (("2016-01", "2019-11"), "M", "2017-01", ["2016-07"]),  # 12 months: exactly 6 on each side
    (("2016-01", "2019-11"), "M", "2016-12", []),  # 11 months: too short
    (("2012Q1", "2019Q4"), "Q", "2016Q1", ["2013Q3", "2014Q1", "2014Q3"]),
    (("2016Q1", "2019Q4"), "Q", "2018Q1", []),
])
def test_placebo_dates_leave_six_periods_on_each_side(periods, freq, intervention, expected):
    index = pd.period_range(*periods, freq=freq)
    dates = itsa.robustness.placebo_dates(index, intervention)
    assert [str(d) for d in dates] == expected
    start = pd.Period(intervention, freq)
    for date in dates:
        assert ((index < date).sum() >= 6) and (((index >= date) & (index < start)).sum() >= 6)


def test_placebo_rejections_against_a_binomial_tail():
    from scipy import stats as st

    table = pd.DataFrame({"beta2_p": [0.01, 0.2, 0.3, 0.04], "beta3_p": [0.5, 0.6, 0.049, 0.9]})
    summary = itsa.robustness.placebo_rejections(table)
    assert summary["tests"] == 8 and summary["rejections"] == 3
    assert summary["expected"] == pytest.approx(0.4)
    assert summary["tail_p"] == pytest.approx(1 - st.binom.cdf(2, 8, 0.05))


def test_sensitivity_table_skips_what_the_series_cannot_take():
    index = pd.period_range("2016-01", periods=20, freq="M")
    series = pd.Series(np.r_[0.0, np.linspace(10, 30, 19)], index=index, name="visits")
    table = itsa.sensitivity_table(series, intervention="2016-10", lags=(0, 3))
    assert set(table["seasonal"]) == {"none"}  # under two years: no season method
    longer = pd.Series(np.r_[0.0, np.linspace(10, 30, 29)], index=pd.period_range("2016-01", periods=30, freq="M"),
                       name="visits")
    table = itsa.sensitivity_table(longer, intervention="2017-01", lags=(0, 3))
    assert set(table["seasonal"]) == {"none", "season_dummies"}  # a zero: no ratio to a moving average


def test_sensitivity_table_grid(grouped):
    table = itsa.sensitivity_table(grouped.series["hospital"].frame["inpatient_volume"], intervention="2017-10",
                                   log=True, lags=(0, 3))
    assert len(table) == 6
    one = table[(table["seasonal"] == "none") & (table["hac_lags"] == 3)].iloc[0]
    direct = itsa.segmented_regression(np.log(grouped.series["hospital"].frame["inpatient_volume"] + 1),
                                       intervention="2017-10", hac_lags=3)
    assert one["estimate"] == pytest.approx(direct.params["beta3"])
