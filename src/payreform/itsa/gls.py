"""Regression with autocorrelated errors: the inference methods of the segmented regression.

Newey-West errors correct OLS after the fact; in a short series they are far too small (see the
appendix). The methods here model the autocorrelation instead:

``prais_winsten``
    feasible GLS with AR(1) errors, iterated as Stata's ``prais`` does: the correlation is the
    regression of the residuals on their lag, the first period is kept (scaled by
    ``sqrt(1 - rho^2)``), and the standard errors are those of the transformed regression.
``reml``
    GLS with AR(p) errors whose parameters maximise the restricted (REML) likelihood, as R's
    ``nlme::gls(..., correlation = corAR1(), method = "REML")``; t tests on n - k df.
``reml_satterthwaite``
    the same fit, with Satterthwaite degrees of freedom for each linear combination (the
    uncertainty of the estimated correlation widens the interval in short series).
``arima``
    maximum likelihood regression with ARMA(1, 0) errors (statsmodels' state-space ARIMA, as
    R's ``arima(y, order = c(1, 0, 0), xreg = X)``); normal-theory intervals.
``calibrated``
    a parametric bootstrap-t built on the REML fit, with the autocorrelation corrected for its
    downward bias before the bootstrap draws are made (see :func:`calibrated_fit`).

The restricted likelihood of AR(1) errors is profiled over sigma^2 and beta and evaluated on a
grid of correlations for many series at once (:func:`ar1_profile`), which is what makes the
bootstrap of the calibrated method fast enough for a notebook.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

from payreform.errors import ParameterError

INFERENCE_METHODS = ("newey_west", "prais_winsten", "reml", "reml_satterthwaite", "arima", "calibrated")
"""Inference methods of the segmented regression (the papers used ``newey_west``)."""

RHO_BOUNDS = (-0.95, 0.99)
RHO_GRID = np.linspace(RHO_BOUNDS[0], RHO_BOUNDS[1], 195)


# ----------------------------------------------------------------------------- AR(1) algebra


def pw_transform(values: np.ndarray, rho: float, gaps: np.ndarray | None = None) -> np.ndarray:
    """The Prais-Winsten transform of a column (or of each column of a matrix) for AR(1) errors of unit
    marginal variance: row 1 kept, row t becomes (x_t - rho x_{t-1}) / sqrt(1 - rho^2), so that AR(1)
    noise becomes white noise of variance 1.

    ``gaps`` (periods between consecutive rows, default all 1) makes it exact when periods are
    left out of the fit: across a gap of g periods the correlation is rho^g.

    Examples
    --------
    >>> pw_transform(np.array([1.0, 0.5, 0.25]), 0.5).round(6).tolist()
    [1.0, 0.0, 0.0]
    >>> pw_transform(np.array([1.0, 0.25]), 0.5, gaps=np.array([2])).round(6).tolist()
    [1.0, 0.0]
    """
    out = np.empty_like(values, dtype=float)
    out[0] = values[0]
    if gaps is None:
        scale = math.sqrt(1.0 - rho * rho)
        out[1:] = (values[1:] - rho * values[:-1]) / scale
        return out
    power = rho ** np.asarray(gaps, dtype=float)
    scale = np.sqrt(1.0 - power * power)
    shape = (-1,) + (1,) * (values.ndim - 1)
    out[1:] = (values[1:] - power.reshape(shape) * values[:-1]) / scale.reshape(shape)
    return out


def _log_det_r(n: int, rho: float, gaps: np.ndarray | None) -> float:
    if gaps is None:
        return (n - 1) * math.log(1.0 - rho * rho)
    return float(np.sum(np.log(1.0 - rho ** (2 * np.asarray(gaps, dtype=float)))))


def ar1_profile(y: np.ndarray, x: np.ndarray, rhos: Sequence[float], reml: bool = True,
                gaps: np.ndarray | None = None) -> np.ndarray:
    """Profile (restricted) log-likelihood of AR(1)-error regressions, for many series at once.

    ``y`` is n x B (B series sharing the design ``x``, n x k); returns len(rhos) x B log-likelihoods
    (up to a constant): REML ``-(1/2)[(n-k) log(RSS/(n-k)) + log|R| + log|X'R^-1 X|]``, ML
    ``-(1/2)[n log(RSS/n) + log|R|]``, with ``R`` the AR(1) correlation matrix.
    """
    y = np.atleast_2d(np.asarray(y, dtype=float).T).T
    n, k = x.shape
    out = np.empty((len(rhos), y.shape[1]))
    for i, rho in enumerate(rhos):
        px, py = pw_transform(x, rho, gaps), pw_transform(y, rho, gaps)
        q, r = np.linalg.qr(px)
        resid = py - q @ (q.T @ py)
        rss = np.einsum("ij,ij->j", resid, resid)
        log_r = _log_det_r(n, rho, gaps)
        if reml:
            out[i] = -0.5 * ((n - k) * np.log(rss / (n - k)) + log_r + 2 * np.sum(np.log(np.abs(np.diag(r)))))
        else:
            out[i] = -0.5 * (n * np.log(rss / n) + log_r)
    return out


def ar1_rho_batch(y: np.ndarray, x: np.ndarray, reml: bool = True, gaps: np.ndarray | None = None) -> np.ndarray:
    """REML (or ML) AR(1) correlation of each column of ``y``: grid maximum refined by a parabola.

    Accurate to about 1e-4, which is plenty for a bootstrap; single fits use :func:`ar1_gls`.
    """
    profile = ar1_profile(y, x, RHO_GRID, reml=reml, gaps=gaps)
    best = np.clip(np.argmax(profile, axis=0), 1, len(RHO_GRID) - 2)
    cols = np.arange(profile.shape[1])
    f0, f1, f2 = profile[best - 1, cols], profile[best, cols], profile[best + 1, cols]
    step = RHO_GRID[1] - RHO_GRID[0]
    denominator = f0 - 2 * f1 + f2
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(denominator < 0, 0.5 * (f0 - f2) / denominator, 0.0)
    return np.clip(RHO_GRID[best] + np.clip(shift, -1, 1) * step, *RHO_BOUNDS)


@dataclass(frozen=True)
class GLSFit:
    """A regression with autocorrelated errors: coefficients, covariance, residual df, correlation."""

    params: np.ndarray
    cov: np.ndarray
    df: float
    ar: tuple[float, ...]
    sigma2: float
    method: str
    loglik: float = float("nan")
    df_by_term: np.ndarray | None = field(default=None, repr=False)
    extra: dict = field(default_factory=dict, repr=False)


def _gls_at(y: np.ndarray, x: np.ndarray, rho: float, reml: bool = True,
            gaps: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    px, py = pw_transform(x, rho, gaps), pw_transform(y, rho, gaps)
    beta, *_ = np.linalg.lstsq(px, py, rcond=None)
    resid = py - px @ beta
    n, k = x.shape
    sigma2 = float(resid @ resid) / ((n - k) if reml else n)
    xtx_inv = np.linalg.inv(px.T @ px)
    return beta, sigma2 * xtx_inv, sigma2


def ar1_gls(y: np.ndarray, x: np.ndarray, reml: bool = True, gaps: np.ndarray | None = None) -> GLSFit:
    """GLS with AR(1) errors by REML (or ML): the correlation maximises the profile likelihood.

    Equal to ``nlme::gls(y ~ X - 1, correlation = corAR1(), method = "REML")`` (coefficients,
    standard errors, correlation, t tests on n - k df).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.column_stack([np.ones(40), np.arange(40.0)])
    >>> e = np.zeros(40)
    >>> for t in range(1, 40):
    ...     e[t] = 0.6 * e[t - 1] + rng.normal()
    >>> fit = ar1_gls(1 + 0.1 * np.arange(40.0) + e, x)
    >>> 0.2 < fit.ar[0] < 0.9, fit.df
    (True, 38.0)
    """
    y = np.asarray(y, dtype=float)
    grid = ar1_profile(y[:, None], x, RHO_GRID, reml, gaps)[:, 0]
    start = RHO_GRID[int(np.argmax(grid))]
    low = max(RHO_BOUNDS[0] - 0.04, start - 0.03)
    high = min(0.999, start + 0.03)

    def negative(rho: float) -> float:
        return -float(ar1_profile(y[:, None], x, [rho], reml, gaps)[0, 0])

    rho = float(optimize.minimize_scalar(negative, bounds=(low, high), method="bounded",
                                         options={"xatol": 1e-10}).x)
    beta, cov, sigma2 = _gls_at(y, x, rho, reml, gaps)
    n, k = x.shape
    return GLSFit(beta, cov, float(n - k), (rho,), sigma2, "reml" if reml else "ml", -negative(rho),
                  extra={"gaps": gaps})


def prais_winsten(y: np.ndarray, x: np.ndarray, tol: float = 1e-10, max_iter: int = 500,
                  gaps: np.ndarray | None = None) -> GLSFit:
    """Iterated Prais-Winsten (Stata's ``prais``): rho from the regression of the residuals on their
    lag, the transformed regression refitted until rho settles; OLS standard errors of the
    transformed regression, t tests on n - k df.

    Examples
    --------
    >>> x = np.column_stack([np.ones(30), np.arange(30.0)])
    >>> y = 2 + 0.5 * np.arange(30.0) + np.sin(np.arange(30.0))
    >>> fit = prais_winsten(y, x)
    >>> fit.method, round(float(fit.params[1]), 2)
    ('prais_winsten', 0.49)
    """
    y = np.asarray(y, dtype=float)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    rho = 0.0
    adjacent = np.ones(len(y) - 1, dtype=bool) if gaps is None else np.asarray(gaps) == 1
    for _ in range(max_iter):
        resid = y - x @ beta
        lead, lag = resid[1:][adjacent], resid[:-1][adjacent]
        new = float(lead @ lag / (lag @ lag))
        new = min(max(new, -0.999), 0.999)
        beta, *_ = np.linalg.lstsq(pw_transform(x, new, gaps), pw_transform(y, new, gaps), rcond=None)
        if abs(new - rho) < tol:
            rho = new
            break
        rho = new
    beta, cov, sigma2 = _gls_at(y, x, rho, reml=True, gaps=gaps)
    n, k = x.shape
    return GLSFit(beta, cov, float(n - k), (rho,), sigma2, "prais_winsten")


def _gaps(times: np.ndarray | None) -> np.ndarray | None:
    """Periods between consecutive fitted rows, or None when they are consecutive."""
    if times is None:
        return None
    gaps = np.diff(np.asarray(times, dtype=int))
    return None if (gaps == 1).all() else gaps


# ----------------------------------------------------------------------------- AR(p) by REML


def _pacf_to_ar(pacf: np.ndarray) -> np.ndarray:
    """AR coefficients from partial autocorrelations (Durbin-Levinson); stationary for |pacf| < 1."""
    phi = np.zeros(0)
    for k, value in enumerate(pacf, start=1):
        phi = np.r_[phi - value * phi[::-1], value] if k > 1 else np.array([value])
    return phi


def ar_correlation(phi: np.ndarray, n: int) -> np.ndarray:
    """Autocorrelations 0..n-1 of a stationary AR(p) process.

    Examples
    --------
    >>> ar_correlation(np.array([0.5]), 3).round(6).tolist()
    [1.0, 0.5, 0.25]
    """
    from statsmodels.tsa.arima_process import arma_acf

    return arma_acf(np.r_[1.0, -np.asarray(phi)], np.array([1.0]), lags=n)


def _reml_arp(y: np.ndarray, x: np.ndarray, phi: np.ndarray, times: np.ndarray | None = None
              ) -> tuple[float, np.ndarray, np.ndarray, float]:
    from scipy.linalg import cho_factor, cho_solve

    n, k = x.shape
    times = np.arange(n) if times is None else np.asarray(times, dtype=int)
    lags = np.abs(np.subtract.outer(times, times))
    corr = ar_correlation(phi, int(lags.max()) + 1)[lags]
    factor = cho_factor(corr, lower=True)
    ri_x, ri_y = cho_solve(factor, x), cho_solve(factor, y)
    xrx = x.T @ ri_x
    beta = np.linalg.solve(xrx, x.T @ ri_y)
    resid = y - x @ beta
    rss = float(resid @ cho_solve(factor, resid))
    sigma2 = rss / (n - k)
    log_r = 2 * float(np.sum(np.log(np.diag(factor[0]))))
    loglik = -0.5 * ((n - k) * math.log(sigma2) + log_r + float(np.linalg.slogdet(xrx)[1]))
    return loglik, beta, sigma2 * np.linalg.inv(xrx), sigma2


def arp_gls(y: np.ndarray, x: np.ndarray, p: int = 1, times: np.ndarray | None = None) -> GLSFit:
    """GLS with AR(p) errors by REML, as ``nlme::gls(..., correlation = corARMA(p = p), method = "REML")``.

    The AR parameters are estimated through their partial autocorrelations (kept inside (-1, 1),
    so the process stays stationary).
    """
    gaps = _gaps(times)
    if p == 1:
        return ar1_gls(y, x, gaps=gaps)
    y = np.asarray(y, dtype=float)

    def negative(theta: np.ndarray) -> float:
        return -_reml_arp(y, x, _pacf_to_ar(np.tanh(theta)), times)[0]

    start = np.zeros(p)
    start[0] = math.atanh(min(max(ar1_gls(y, x, gaps=gaps).ar[0], -0.9), 0.9))
    best = optimize.minimize(negative, start, method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000, "maxfev": 40_000})
    phi = _pacf_to_ar(np.tanh(best.x))
    loglik, beta, cov, sigma2 = _reml_arp(y, x, phi, times)
    n, k = x.shape
    return GLSFit(beta, cov, float(n - k), tuple(float(v) for v in phi), sigma2, "reml", loglik)


# ----------------------------------------------------------------------------- Satterthwaite


def _reml_full(y: np.ndarray, x: np.ndarray, log_sigma2: float, rho: float, gaps: np.ndarray | None = None
               ) -> float:
    """Full REML log-likelihood at (sigma^2, rho) (not profiled), up to a constant."""
    n, k = x.shape
    px, py = pw_transform(x, rho, gaps), pw_transform(y, rho, gaps)
    xtx = px.T @ px
    beta = np.linalg.solve(xtx, px.T @ py)
    resid = py - px @ beta
    sigma2 = math.exp(log_sigma2)
    return -0.5 * ((n - k) * log_sigma2 + float(resid @ resid) / sigma2 + _log_det_r(n, rho, gaps)
                   + float(np.linalg.slogdet(xtx)[1]))


def satterthwaite_df(y: np.ndarray, x: np.ndarray, fit: GLSFit, weights: np.ndarray, step: float = 1e-4) -> float:
    """Satterthwaite degrees of freedom of ``weights' beta`` for an AR(1) REML fit.

    ``df = 2 v^2 / (g' A g)``, with ``v`` the variance of the combination as a function of
    theta = (log sigma^2, rho), ``g`` its gradient and ``A`` the inverse of the REML information at
    the estimate (numerical derivatives), as lmerTest does for mixed models.
    """
    theta = np.array([math.log(fit.sigma2), fit.ar[0]])
    gaps = fit.extra.get("gaps")

    def variance(t: np.ndarray) -> float:
        rho = float(np.clip(t[1], -0.999, 0.999))
        px = pw_transform(x, rho, gaps)
        return math.exp(t[0]) * float(weights @ np.linalg.inv(px.T @ px) @ weights)

    def loglik(t: np.ndarray) -> float:
        return _reml_full(np.asarray(y, float), x, t[0], float(np.clip(t[1], -0.999, 0.999)), gaps)

    h = np.array([step, step])
    grad = np.array([(variance(theta + h * e) - variance(theta - h * e)) / (2 * h[i]) for i, e in enumerate(np.eye(2))])
    hess = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]
            hess[i, j] = (loglik(theta + ei + ej) - loglik(theta + ei - ej) - loglik(theta - ei + ej)
                          + loglik(theta - ei - ej)) / (4 * h[i] * h[j])
    try:
        a = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        return fit.df
    denominator = float(grad @ a @ grad)
    v = variance(theta)
    if not denominator > 0:
        return fit.df
    return float(min(max(2 * v * v / denominator, 1.0), fit.df))


# ----------------------------------------------------------------------------- ARIMA


def _ml_loglik(y: np.ndarray, x: np.ndarray, theta: np.ndarray, gaps: np.ndarray | None = None) -> float:
    """Exact Gaussian log-likelihood of AR(1)-error regression at theta = (beta, rho, log sigma^2)."""
    n, k = x.shape
    beta, rho, log_sigma2 = theta[:k], float(np.clip(theta[k], -0.999, 0.999)), theta[k + 1]
    z = pw_transform(y - x @ beta, rho, gaps)
    return float(-0.5 * (n * math.log(2 * math.pi) + n * log_sigma2 + _log_det_r(n, rho, gaps)
                         + (z @ z) / math.exp(log_sigma2)))


def arima_fit(y: np.ndarray, x: np.ndarray, gaps: np.ndarray | None = None) -> GLSFit:
    """Maximum-likelihood regression with AR(1) errors, as R's ``arima(y, order = c(1, 0, 0), xreg = X,
    include.mean = FALSE, method = "ML")``: exact likelihood, standard errors from the observed
    information of all parameters (beta, rho, sigma^2), normal-theory intervals (``df`` = inf)."""
    y = np.asarray(y, dtype=float)
    ml = ar1_gls(y, x, reml=False, gaps=gaps)
    k = x.shape[1]
    theta = np.r_[ml.params, ml.ar[0], math.log(ml.sigma2)]
    steps = np.r_[1e-5 * np.maximum(np.abs(ml.params), 1.0), 1e-5, 1e-5]
    size = len(theta)
    hess = np.empty((size, size))
    for i in range(size):
        for j in range(i, size):
            ei, ej = np.eye(size)[i] * steps[i], np.eye(size)[j] * steps[j]
            hess[i, j] = hess[j, i] = (_ml_loglik(y, x, theta + ei + ej, gaps) - _ml_loglik(y, x, theta + ei - ej, gaps)
                                       - _ml_loglik(y, x, theta - ei + ej, gaps)
                                       + _ml_loglik(y, x, theta - ei - ej, gaps)) / (4 * steps[i] * steps[j])
    cov = np.linalg.inv(-hess)
    return GLSFit(ml.params, cov[:k, :k], float("inf"), ml.ar, ml.sigma2, "arima", _ml_loglik(y, x, theta, gaps))


# ----------------------------------------------------------------------------- the calibrated method


@dataclass(frozen=True)
class Calibration:
    """Bootstrap draws of the calibrated method: for each replicate the REML coefficients and
    covariance of a series simulated from the fitted design with the bias-corrected correlation."""

    beta: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)
    rho_corrected: float
    rho_estimate: float
    reps: int

    def t_draws(self, weights: np.ndarray) -> np.ndarray:
        """Bootstrap t statistics of the combination ``weights' beta`` (true value 0 in the draws)."""
        est = self.beta @ weights
        se = np.sqrt(np.einsum("i,bij,j->b", weights, self.cov, weights))
        return est / se


def _simulate_ar1(rng: np.random.Generator, n: int, reps: int, rho: float | np.ndarray,
                  times: np.ndarray | None = None) -> np.ndarray:
    """``reps`` stationary AR(1) series of unit variance (``rho`` one value, or one per series)."""
    if times is not None:  # simulate every period, keep the fitted ones
        times = np.asarray(times, dtype=int)
        full = _simulate_ar1(rng, int(times[-1] - times[0]) + 1, reps, rho)
        return full[times - times[0]]
    shocks = rng.standard_normal((n, reps))
    rho = np.broadcast_to(np.asarray(rho, dtype=float), (reps,))
    e = np.empty((n, reps))
    e[0] = shocks[0]
    scale = np.sqrt(1 - rho * rho)
    for t in range(1, n):
        e[t] = rho * e[t - 1] + scale * shocks[t]
    return e


def _batch_reml(y: np.ndarray, x: np.ndarray, gaps: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """REML AR(1) fits of many series: (rho, beta B x k, cov B x k x k)."""
    rhos = ar1_rho_batch(y, x, gaps=gaps)
    n, k = x.shape
    betas = np.empty((y.shape[1], k))
    covs = np.empty((y.shape[1], k, k))
    for b, rho in enumerate(rhos):
        px, py = pw_transform(x, rho, gaps), pw_transform(y[:, b], rho, gaps)
        xtx_inv = np.linalg.inv(px.T @ px)
        beta = xtx_inv @ (px.T @ py)
        resid = py - px @ beta
        betas[b] = beta
        covs[b] = float(resid @ resid) / (n - k) * xtx_inv
    return rhos, betas, covs


def corrected_rho(rho_hat: float, x: np.ndarray, rng: np.random.Generator, reps: int = 200,
                  rounds: int = 2, times: np.ndarray | None = None, spread: bool = False
                  ) -> float | tuple[float, np.ndarray]:
    """The AR(1) correlation whose REML estimates have median ``rho_hat`` on this design.

    REML, like every estimator of the correlation, is biased towards zero in short series with a
    trend and level changes. The correction searches, by simulation on the same design, the
    correlation whose estimates centre on the one observed (a median-unbiased estimate, in the
    spirit of Andrews 1993), in ``rounds`` steps of ``rho <- rho + (rho_hat - median)``.

    With ``spread`` it also returns the last round's estimates, centred on the corrected value:
    draws of the uncertainty about rho.
    """
    rho = rho_hat
    n = x.shape[0]
    gaps = _gaps(times)
    for _ in range(rounds):
        estimates = ar1_rho_batch(_simulate_ar1(rng, n, reps, rho, times if gaps is not None else None), x,
                                  gaps=gaps)
        centre = float(np.median(estimates))
        rho = float(np.clip(rho + (rho_hat - centre), RHO_BOUNDS[0], 0.97))
    if spread:
        return rho, np.clip(estimates - centre + rho, RHO_BOUNDS[0], 0.97)
    return rho


def calibrated_fit(y: np.ndarray, x: np.ndarray, reps: int = 399, seed: int = 20260101,
                   correction_reps: int = 200, times: np.ndarray | None = None, mix: float = 1.0
                   ) -> tuple[GLSFit, Calibration]:
    """The calibrated method: REML AR(1) fit, bias-corrected correlation, parametric bootstrap-t.

    1. Fit GLS with AR(1) errors by REML (:func:`ar1_gls`): coefficients, standard errors, rho.
    2. Correct rho for its small-sample bias (:func:`corrected_rho`).
    3. Simulate ``reps`` AR(1) error series on the same design and refit each by REML; the
       distribution of (estimate - truth) / standard error over the draws replaces the t
       distribution. The interval is ``beta - q(0.975) se`` to ``beta - q(0.025) se``. Each draw
       takes its own correlation from the uncertainty about rho (the spread of the estimates in
       step 2, centred on the corrected value), so that the intervals also carry the imprecision
       of the estimated correlation, which is what short series lack most.

    The t statistic does not depend on beta or sigma, so the draws are pure noise; they depend on
    the design and on rho only. Deterministic given ``seed``.
    """
    gaps = _gaps(times)
    fit = ar1_gls(y, x, gaps=gaps)
    rng = np.random.default_rng(seed)
    rho, spread = corrected_rho(fit.ar[0], x, rng, reps=correction_reps, times=times, spread=True)
    rhos = rho + mix * (rng.choice(spread, size=reps, replace=True) - rho)
    draws = _simulate_ar1(rng, x.shape[0], reps, rhos, times if gaps is not None else None)
    _, betas, covs = _batch_reml(draws, x, gaps)
    calibration = Calibration(betas, covs, rho, fit.ar[0], reps)
    return GLSFit(fit.params, fit.cov, fit.df, fit.ar, fit.sigma2, "calibrated", fit.loglik,
                  extra={"calibration": calibration, "gaps": gaps}), calibration


def fit_errors(y: np.ndarray, x: np.ndarray, method: str, *, ar_order: int = 1, seed: int = 20260101,
               reps: int = 399, times: np.ndarray | None = None) -> GLSFit:
    """Fit the regression of ``y`` on ``x`` with one of the model-based methods of :data:`INFERENCE_METHODS`.

    ``times`` are the periods (T) of the rows; when some periods are left out of the fit the
    AR(1) correlation across a gap of g periods is rho^g (AR(p): the correlation at the true lags).
    """
    gaps = _gaps(times)
    if method == "prais_winsten":
        return prais_winsten(y, x, gaps=gaps)
    if method in ("reml", "reml_satterthwaite"):
        fit = arp_gls(y, x, ar_order, times=times) if ar_order > 1 else ar1_gls(y, x, gaps=gaps)
        return GLSFit(fit.params, fit.cov, fit.df, fit.ar, fit.sigma2, method, fit.loglik, extra=fit.extra)
    if method == "arima":
        return arima_fit(y, x, gaps=gaps)
    if method == "calibrated":
        return calibrated_fit(y, x, reps=reps, seed=seed, times=times)[0]
    raise ParameterError(f"parameter 'inference' is {method!r}; use one of {', '.join(INFERENCE_METHODS)}")


def t_interval(estimate: float, se: float, df: float, alpha: float = 0.05) -> tuple[float, float]:
    """``estimate -/+ q se`` with q from t(df) (normal for df = inf)."""
    q = stats.norm.ppf(1 - alpha / 2) if not math.isfinite(df) else stats.t.ppf(1 - alpha / 2, df)
    return estimate - q * se, estimate + q * se
