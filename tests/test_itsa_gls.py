"""The model-based inference methods against R (tests/fixtures/make_r_gls.R): nlme::gls with AR(1)
and AR(2) errors by REML and ML, stats::arima, and Stata's iterated Prais-Winsten written out in R."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from payreform.itsa import gls
from payreform.itsa.design import design_matrix

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = pd.read_csv(FIXTURES / "r_gls.csv")


def dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "nile":
        frame = pd.read_csv(FIXTURES / "stranger" / "itsa_nile.csv")
        y, t0 = frame["flow"].to_numpy(float), int(np.flatnonzero(frame["year"] == 1899)[0]) + 1
    else:
        frame = pd.read_csv(FIXTURES / "youxi_series.csv")
        y = frame[name.removeprefix("youxi_")].to_numpy(float)
        t0 = int(np.flatnonzero(frame["month"] == "2017-10")[0]) + 1
    return y, design_matrix(len(y), t0).to_numpy()


DATASETS = ["youxi_cost_per_hospitalization", "youxi_hospitalizations", "nile"]


def reference(name: str, method: str, p: int = 1) -> pd.DataFrame:
    rows = REFERENCE[(REFERENCE["dataset"] == name) & (REFERENCE["method"] == method) & (REFERENCE["p"] == p)]
    return rows.set_index("term")


@pytest.mark.parametrize("name", DATASETS)
def test_reml_ar1_matches_nlme(name):
    """nlme stops within about 1e-6 of the flat optimum of rho; at nlme's own rho everything agrees to
    1e-9, and our rho's restricted likelihood is at least as high as nlme's."""
    y, x = dataset(name)
    fit = gls.ar1_gls(y, x)
    ref = reference(name, "reml")
    rho_r = ref["ar1"].iloc[0]
    assert fit.ar[0] == pytest.approx(rho_r, abs=5e-6)
    assert gls.ar1_profile(y[:, None], x, [fit.ar[0]])[0, 0] >= gls.ar1_profile(y[:, None], x, [rho_r])[0, 0] - 1e-9
    np.testing.assert_allclose(fit.params, ref["estimate"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), ref["std_error"], rtol=5e-6)
    beta, cov, _ = gls._gls_at(y, x, rho_r)
    np.testing.assert_allclose(beta, ref["estimate"], rtol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), ref["std_error"], rtol=1e-9)


@pytest.mark.parametrize("name", DATASETS)
def test_ml_ar1_matches_nlme_and_arima(name):
    y, x = dataset(name)
    fit = gls.ar1_gls(y, x, reml=False)
    ref = reference(name, "ml")
    np.testing.assert_allclose(fit.params, ref["estimate"], rtol=1e-6, atol=1e-8)
    assert fit.ar[0] == pytest.approx(ref["ar1"].iloc[0], abs=1e-6)
    arima = gls.arima_fit(y, x)
    ref = reference(name, "arima")
    np.testing.assert_allclose(arima.params, ref["estimate"], rtol=1e-6, atol=1e-6)
    # R takes the standard errors from optim's numerical Hessian (steps of 1e-3): agreement to 0.5%
    np.testing.assert_allclose(np.sqrt(np.diag(arima.cov)), ref["std_error"], rtol=5e-3)
    assert arima.ar[0] == pytest.approx(ref["ar1"].iloc[0], abs=1e-6)
    assert arima.loglik == pytest.approx(ref["loglik"].iloc[0], rel=1e-9)


@pytest.mark.parametrize("name", DATASETS)
def test_reml_ar2_matches_nlme(name):
    """Where the restricted likelihood is flat in the second AR parameter (the Nile), both optimisers
    stop at slightly different points: ours is at least as high, and the estimates agree to 1e-4."""
    y, x = dataset(name)
    fit = gls.arp_gls(y, x, 2)
    ref = reference(name, "reml", 2)
    np.testing.assert_allclose(fit.ar, [ref["ar1"].iloc[0], ref["ar2"].iloc[0]], atol=5e-5)
    np.testing.assert_allclose(fit.params, ref["estimate"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), ref["std_error"], rtol=1e-4)
    gain_ours = fit.loglik - gls.ar1_gls(y, x).loglik
    gain_r = ref["loglik"].iloc[0] - reference(name, "reml")["loglik"].iloc[0]
    assert gain_ours >= gain_r - 1e-8


@pytest.mark.parametrize("name", DATASETS)
def test_prais_winsten_matches_the_stata_algorithm(name):
    y, x = dataset(name)
    fit = gls.prais_winsten(y, x)
    ref = reference(name, "prais_winsten")
    np.testing.assert_allclose(fit.params, ref["estimate"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), ref["std_error"], rtol=1e-6)
    assert fit.ar[0] == pytest.approx(ref["ar1"].iloc[0], abs=1e-8)


def test_reml_profile_equals_a_brute_force_likelihood():
    """The profile REML log-likelihood against the REML formula with the full correlation matrix."""
    y, x = dataset("nile")
    n, k = x.shape
    for rho in (-0.3, 0.2, 0.7):
        corr = rho ** np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
        inv = np.linalg.inv(corr)
        xrx = x.T @ inv @ x
        beta = np.linalg.solve(xrx, x.T @ inv @ y)
        r = y - x @ beta
        sigma2 = r @ inv @ r / (n - k)
        brute = -0.5 * ((n - k) * np.log(sigma2) + np.linalg.slogdet(corr)[1] + np.linalg.slogdet(xrx)[1])
        assert gls.ar1_profile(y[:, None], x, [rho])[0, 0] == pytest.approx(brute, rel=1e-10)


def test_batch_estimates_agree_with_single_fits():
    rng = np.random.default_rng(2)
    _, x = dataset("youxi_hospitalizations")
    y = gls._simulate_ar1(rng, x.shape[0], 20, 0.5)
    batch = gls.ar1_rho_batch(y, x)
    single = np.array([gls.ar1_gls(y[:, b], x).ar[0] for b in range(20)])
    np.testing.assert_allclose(batch, single, atol=2e-3)


def _bootstrap_t(estimate: float, se: float, draws: np.ndarray) -> tuple[float, float]:
    """The bootstrap-t interval written out: estimate - q(0.975) se to estimate - q(0.025) se."""
    return estimate - np.quantile(draws, 0.975) * se, estimate - np.quantile(draws, 0.025) * se


@pytest.mark.parametrize("coding", ["zero_at_intervention", "time_times_post"])
def test_every_calibrated_number_uses_the_bootstrap_draws(coding):
    """Level change, effects and the relative effect of a calibrated fit: the same draws, never a t
    distribution (a summary quoting the jump must agree with the table's beta2)."""
    from payreform.itsa import segmented_regression

    frame = pd.read_csv(FIXTURES / "youxi_series.csv")
    frame.index = pd.PeriodIndex(frame.pop("month"), freq="M")
    fit = segmented_regression(frame, "hospitalizations", intervention="2017-10", coding=coding,
                               inference="calibrated")
    cal = fit.gls_fit.extra["calibration"]
    names = list(fit.params.index)
    beta, cov = fit.params.to_numpy(), fit.cov.to_numpy()

    def draws_of(weights: np.ndarray) -> np.ndarray:
        return (cal.beta @ weights) / np.sqrt(np.einsum("i,bij,j->b", weights, cal.cov, weights))

    jump = fit.level_change_at_intervention()
    w = np.zeros(len(names))
    w[names.index("beta2")] = 1.0
    if coding == "time_times_post":
        w[names.index("beta3")] = fit.start_indices[0]  # XT = T X is T0 at the first post period
    se = float(np.sqrt(w @ cov @ w))
    assert jump.estimate == pytest.approx(w @ beta, rel=1e-12) and jump.std_error == pytest.approx(se, rel=1e-12)
    np.testing.assert_allclose(jump.interval(), _bootstrap_t(w @ beta, se, draws_of(w)), rtol=1e-10)
    if coding == "zero_at_intervention":
        assert jump.p_value == fit.term("beta2").p_value and jump.interval() == fit.term("beta2").interval()

    effect = fit.effect_at()
    time = fit.n_obs  # the last period, T = n
    t0 = fit.start_indices[0]
    x_full = fit._x(time, fit.periods[-1])
    x_cf = x_full.copy()
    for term in fit.terms_of(1):
        x_cf[names.index(term)] = 0.0
    diff = x_full - x_cf
    d, cf = float(diff @ beta), float(x_cf @ beta)
    assert time - t0 == effect.horizon
    d_se = float(np.sqrt(diff @ cov @ diff))
    np.testing.assert_allclose((effect.absolute.ci_low, effect.absolute.ci_high),
                               _bootstrap_t(d, d_se, draws_of(diff)), rtol=1e-10)
    gradient = diff / cf - d * x_cf / cf**2
    g_se = float(np.sqrt(gradient @ cov @ gradient))
    np.testing.assert_allclose((effect.relative.ci_low, effect.relative.ci_high),
                               _bootstrap_t(d / cf, g_se, draws_of(gradient)), rtol=1e-10)
    t = (d / cf) / g_se
    g_draws = draws_of(gradient)
    p = 2 * min((np.sum(g_draws >= t) + 1) / (len(g_draws) + 1), (np.sum(g_draws <= t) + 1) / (len(g_draws) + 1))
    assert effect.relative.p_value == pytest.approx(min(1.0, p), rel=1e-12)
