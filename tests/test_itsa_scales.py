"""Effects of log-scale models on the original scale: ln(y + 1) OLS and quasi-Poisson.

A series with a known multiplicative effect (a level drop of exp(-0.25) - 1 = -22.1%) must give
a relative effect of -22.1% whatever the scale of the model, and every transformed number must
equal an independent computation from statsmodels' own fit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from payreform import itsa
from payreform.errors import ParameterError

STEP = -0.25  # ln-scale level change planted in the series


def multiplicative_series(noise: float = 0.002, n: int = 48, start: int = 25, seed: int = 3) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1)
    post = (t >= start).astype(float)
    log_level = 7.0 + 0.004 * t + STEP * post + rng.normal(0, noise, n)
    index = pd.period_range("1969-01", periods=n, freq="M")
    return pd.Series(np.expm1(log_level), index=index, name="casualties")


def test_log_model_relative_effect_is_the_planted_percentage():
    series = multiplicative_series()
    analysis = itsa.analyse_series(series.to_frame(), "casualties", intervention="1971-01", log=True,
                                   coding="zero_at_intervention", impact="level", hac_lags=2)
    effect = analysis.effect_at()
    assert effect.scale == "log1p"
    assert effect.relative.estimate == pytest.approx(math.expm1(STEP), abs=2e-3)  # -22.1%, not -3%
    assert effect.relative.ci_low < math.expm1(STEP) < effect.relative.ci_high
    # on the original scale: fitted and counterfactual are counts, not logs
    assert effect.counterfactual > 1000
    assert effect.absolute.estimate == pytest.approx(effect.fitted - effect.counterfactual)
    assert effect.absolute.estimate / effect.counterfactual == pytest.approx(effect.relative.estimate, rel=1e-3)


def test_log_effect_equals_an_independent_computation():
    series = multiplicative_series(noise=0.05, seed=11)
    analysis = itsa.analyse_series(series.to_frame(), "casualties", intervention="1971-01", log=True,
                                   coding="one_at_intervention", hac_lags=3)
    model = analysis.model
    effect = analysis.effect_at(horizon=10)
    # independent: statsmodels fit of ln(y + 1) on the design, by hand
    t = np.arange(1, 49)
    post = (t >= 25).astype(float)
    x = np.column_stack([np.ones(48), t, post, (t - 24) * post])
    fit = sm.OLS(np.log1p(series.to_numpy()), x).fit(cov_type="HAC", cov_kwds={"maxlags": 3, "use_correction": True},
                                                     use_t=True)
    row_full = np.array([1.0, 35, 1.0, 11.0])
    row_cf = np.array([1.0, 35, 0.0, 0.0])
    d = (row_full - row_cf) @ fit.params
    d_se = math.sqrt((row_full - row_cf) @ fit.cov_params() @ (row_full - row_cf))
    q = stats.t.ppf(0.975, fit.df_resid)
    assert effect.relative.estimate == pytest.approx(math.expm1(d), rel=1e-10)
    assert effect.relative.ci_low == pytest.approx(math.expm1(d - q * d_se), rel=1e-10)
    assert effect.relative.ci_high == pytest.approx(math.expm1(d + q * d_se), rel=1e-10)
    assert effect.relative.p_value == pytest.approx(2 * stats.t.sf(abs(d / d_se), fit.df_resid), rel=1e-10)
    fitted, cf = math.exp(row_full @ fit.params), math.exp(row_cf @ fit.params)
    assert effect.fitted == pytest.approx(fitted - 1, rel=1e-10)
    assert effect.counterfactual == pytest.approx(cf - 1, rel=1e-10)
    # delta method for the absolute effect, checked with a numerical gradient
    def absolute(beta):
        return math.exp(row_full @ beta) - math.exp(row_cf @ beta)
    eps = 1e-6
    grad = np.array([(absolute(fit.params + eps * e) - absolute(fit.params - eps * e)) / (2 * eps)
                     for e in np.eye(4)])
    assert effect.absolute.std_error == pytest.approx(math.sqrt(grad @ fit.cov_params() @ grad), rel=1e-5)
    assert model.scale == "log1p"


def test_log_model_table_gives_percent_changes():
    series = multiplicative_series(noise=0.03)
    table = itsa.analyse_series(series.to_frame(), "casualties", intervention="1971-01", log=True,
                                hac_lags=2).table().set_index("term")
    for term in ("beta1", "beta2", "beta3", "post_slope"):
        assert table.loc[term, "percent_change"] == pytest.approx(100 * math.expm1(table.loc[term, "estimate"]))
        assert table.loc[term, "percent_ci_low"] == pytest.approx(100 * math.expm1(table.loc[term, "ci_low"]))
    assert np.isnan(table.loc["beta0", "percent_change"])
    linear = itsa.analyse_series(series.to_frame(), "casualties", intervention="1971-01", hac_lags=2).table()
    assert "percent_change" not in linear.columns


def test_log_predictions_are_on_the_original_scale():
    series = multiplicative_series(noise=0.001)
    analysis = itsa.analyse_series(series.to_frame(), "casualties", intervention="1971-01", log=True,
                                   impact="level", hac_lags=0)
    predictions = analysis.model.predictions()
    np.testing.assert_allclose(predictions["observed"], series.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(predictions["fitted"], series.to_numpy(), rtol=5e-3)
    last = predictions.iloc[-1]
    assert last["fitted"] / last["counterfactual"] == pytest.approx(math.exp(STEP), rel=3e-3)


def poisson_counts(seed: int = 5, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1)
    post = (t >= 31).astype(float)
    population = 50_000 + 40 * t
    rate = np.exp(-6.0 + 0.003 * t - 0.3 * post + 0.1 * np.sin(2 * np.pi * t / 12))
    counts = rng.poisson(rate * population)
    index = pd.period_range("2003-01", periods=n, freq="M")
    return pd.DataFrame({"admissions": counts.astype(float), "population": population.astype(float)}, index=index)


def test_poisson_effect_is_rate_ratio_minus_one_and_matches_statsmodels():
    frame = poisson_counts()
    analysis = itsa.analyse_series(frame, "admissions", intervention="2005-07", model="quasipoisson",
                                   coding="zero_at_intervention", impact="level", fourier=1, offset="population")
    model = analysis.model
    effect = analysis.effect_at(period="2007-12")
    assert effect.scale == "log"
    table = model.table().set_index("term")
    assert effect.relative.estimate == pytest.approx(table.loc["beta2", "rate_ratio"] - 1, rel=1e-12)
    assert effect.relative.ci_low == pytest.approx(table.loc["beta2", "rr_ci_low"] - 1, rel=1e-12)
    assert effect.relative.ci_low < math.expm1(-0.3) < effect.relative.ci_high
    # independent: statsmodels' own predictions of the expected counts in the last month
    t = np.arange(1, 61)
    exog = np.column_stack([np.ones(60), t, (t >= 31).astype(float),
                            np.sin(2 * np.pi * frame.index.month / 12), np.cos(2 * np.pi * frame.index.month / 12)])
    fit = sm.GLM(frame["admissions"].to_numpy(), exog, family=sm.families.Poisson(),
                 offset=np.log(frame["population"].to_numpy())).fit(scale="X2")
    last = exog[-1:].copy()
    fitted = fit.predict(last, offset=np.log(frame["population"].to_numpy()[-1:]))[0]
    last[0, 2] = 0.0
    cf = fit.predict(last, offset=np.log(frame["population"].to_numpy()[-1:]))[0]
    assert effect.fitted == pytest.approx(fitted, rel=1e-8)
    assert effect.counterfactual == pytest.approx(cf, rel=1e-8)
    assert effect.absolute.estimate == pytest.approx(fitted - cf, rel=1e-8)
    assert table.loc["beta2", "percent_change"] == pytest.approx(100 * effect.relative.estimate, rel=1e-12)


def test_poisson_offset_effect_outside_the_data_is_refused():
    frame = poisson_counts()
    analysis = itsa.analyse_series(frame, "admissions", intervention="2005-07", model="quasipoisson",
                                   offset="population")
    with pytest.raises(ParameterError, match="offset is unknown"):
        analysis.effect_at(horizon=40)
