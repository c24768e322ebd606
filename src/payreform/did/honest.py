"""Sensitivity to parallel trends: HonestDiD (Rambachan and Roth 2023) and breakdown values.

:func:`honest_did` and :func:`breakdown_value` give confidence sets for a post-period effect
when the post-period violation of parallel trends may be up to ``Mbar`` times the largest
pre-period one (relative magnitudes, conditional-least-favourable hybrid test of Andrews, Roth
and Pakes 2023) or may depart from a linear extrapolation by ``M`` per period (smoothness,
fixed-length confidence interval). They work on both designs of
:func:`payreform.did.event_study`: ``did<year>`` terms around the reference year, or
``event<k>`` terms around the reference event time (pre terms = event times before it, post
terms = event times after it). See the docstrings and ``tests/test_did.py`` for the validation
against the R package ``HonestDiD`` and moderndid's port.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special, stats

from payreform.did.event_study import EventStudyResult
from payreform.errors import ParameterError, check_choice

__all__ = ["RESTRICTIONS", "HonestDiDResult", "breakdown_value", "honest_did", "honest_did_from_estimates"]

RESTRICTIONS = ("relative_magnitude", "smoothness")
"""Restrictions on the post-period violation of parallel trends."""

# ============================================================================ HonestDiD
#
# Notation (Rambachan and Roth 2023): beta = (beta_pre, beta_post) are the event-study
# coefficients of the n_pre periods before the reference period and the n_post periods after
# it (the reference period itself is normalised to 0); beta = tau + delta with tau_pre = 0, and
# the target is theta = l' tau_post. The restrictions bound delta, the difference in trends.


def _rm_constraints(n_pre: int, n_post: int, mbar: float, s: int, positive: bool) -> np.ndarray:
    """Rows ``A`` of ``A delta <= 0`` for Delta^RM_{s,sign}(Mbar).

    With periods -n_pre..n_post (0 = reference, delta_0 = 0) and first differences
    ``D_r = delta_r - delta_{r-1}`` (r = -n_pre+1..n_post): every pre-period |D_r| is at most
    the one at ``s`` (which is the largest, with the given sign), every post-period |D_r| at most
    ``mbar`` times it. Zero rows are dropped and the column of period 0 is removed.
    """
    n_all = n_pre + n_post + 1
    diffs = np.zeros((n_pre + n_post, n_all))
    for r in range(n_pre + n_post):
        diffs[r, r], diffs[r, r + 1] = -1.0, 1.0
    largest = np.zeros(n_all)
    largest[n_pre + s - 1], largest[n_pre + s] = -1.0, 1.0
    if not positive:
        largest = -largest
    bound = np.vstack([np.tile(largest, (n_pre, 1)), np.tile(mbar * largest, (n_post, 1))])
    rows = np.vstack([diffs - bound, -diffs - bound])
    rows = rows[(rows**2).sum(axis=1) > 1e-10]
    return np.delete(rows, n_pre, axis=1)


def _dual_vertices(sd: np.ndarray, nuisance: np.ndarray, limit: int = 50_000) -> np.ndarray:
    """Vertices of ``{g >= 0 : sd'g = 1, X'g = 0}`` (rows of the returned array).

    The test statistic of Andrews, Roth and Pakes, ``eta(y) = min_{eta, d} eta`` subject to
    ``y - X d <= eta * sd``, equals ``max_g g'y`` over this polytope (LP duality), so its
    vertices give ``eta`` for any ``y`` and, for the optimal vertex, the conditioning interval.
    """
    m = len(sd)
    if nuisance.size:
        u, singular, _ = np.linalg.svd(nuisance, full_matrices=False)
        basis = u[:, singular > 1e-10 * max(1.0, singular.max(initial=0.0))]
    else:
        basis = np.zeros((m, 0))
    equations = np.vstack([sd[None, :], basis.T])
    rank = equations.shape[0]
    if np.linalg.matrix_rank(equations) < rank:
        return np.zeros((0, m))
    if math.comb(m, rank) > limit:
        raise ParameterError(
            f"the sensitivity analysis has too many post periods ({m} moments); use fewer post "
            "periods (a shorter window)"
        )
    target = np.zeros(rank)
    target[0] = 1.0
    found: dict[tuple, np.ndarray] = {}
    for subset in itertools.combinations(range(m), rank):
        block = equations[:, subset]
        if abs(np.linalg.det(block)) < 1e-12 * max(1.0, np.abs(block).max() ** rank):
            continue
        solution = np.linalg.solve(block, target)
        if solution.min() < -1e-10:
            continue
        vertex = np.zeros(m)
        vertex[list(subset)] = np.clip(solution, 0.0, None)
        found.setdefault(tuple(np.round(vertex, 10)), vertex)
    return np.array(list(found.values())).reshape(-1, m)


def _normal_draws(cov: np.ndarray, sims: int, seed: int) -> np.ndarray:
    """``sims`` draws from N(0, cov) (cov may be singular)."""
    values, vectors = np.linalg.eigh((cov + cov.T) / 2)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    return np.random.default_rng(seed).standard_normal((sims, len(cov))) @ root.T


def _truncnorm_ppf(p: float, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Quantile ``p`` of the standard normal truncated to ``[low, high]`` (vectorised).

    ``Phi(x) = (1 - p) Phi(low) + p Phi(high)``, solved in log space on the side of zero where
    the bounds lie (``1 - Phi(x)`` when ``low >= 0``), so that far tails keep their precision;
    the same values as ``scipy.stats.truncnorm.ppf`` (tests/test_did.py) without its overhead.
    """
    low, high = np.broadcast_arrays(np.asarray(low, dtype=float), np.asarray(high, dtype=float))
    log_p, log_q = math.log(p), math.log1p(-p)
    out = np.empty(low.shape)
    upper = low >= 0
    with np.errstate(divide="ignore"):
        # upper tail: 1 - Phi(x) = (1 - p)(1 - Phi(low)) + p (1 - Phi(high))
        tail = np.logaddexp(log_q + special.log_ndtr(-low[upper]), log_p + special.log_ndtr(-high[upper]))
        out[upper] = -special.ndtri_exp(tail)
        body = np.logaddexp(log_q + special.log_ndtr(low[~upper]), log_p + special.log_ndtr(high[~upper]))
        out[~upper] = special.ndtri_exp(body)
    return np.clip(out, low, high)


class _ConditionalTest:
    """ARP conditional test with the least-favourable (LF) hybrid for one set of moments.

    Moments ``y(theta) = y0 - a * theta`` with covariance ``cov`` and nuisance loadings ``X``;
    the null is ``E[y(theta)] - X d <= 0`` for some ``d``. As in the R package: first stage
    rejects if ``eta > c_LF`` (the 1 - kappa quantile of ``eta`` at ``E[y] = 0``, simulated);
    otherwise the conditional test at size ``(alpha - kappa)/(1 - kappa)`` with the conditioning
    interval truncated above at ``c_LF``, and the critical value is at least 0. Without nuisance
    parameters (one post period) the R package's second stage uses size ``alpha``, no truncation
    at ``c_LF`` and no floor at 0; ``no_nuisance_rule`` reproduces that.
    """

    def __init__(self, y0, a, nuisance, cov, alpha, kappa, sims, seed, no_nuisance_rule=False):
        self.y0, self.a, self.cov = y0, a, cov
        sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        if (sd <= 1e-14).any():
            keep = sd > 1e-14
            self.y0, self.a, self.cov, sd = y0[keep], a[keep], cov[np.ix_(keep, keep)], sd[keep]
            nuisance = nuisance[keep]
        self.vertices = _dual_vertices(sd, nuisance)
        self.alpha = alpha
        self.kappa = kappa
        self.no_nuisance_rule = no_nuisance_rule
        self.size = alpha if no_nuisance_rule else (alpha - kappa) / (1 - kappa)
        if len(self.vertices):
            g_cov = self.vertices @ self.cov
            self.gsg = g_cov @ self.vertices.T
            draws = _normal_draws(self.cov, sims, seed)
            self.lf_cv = float(np.quantile((draws @ self.vertices.T).max(axis=1), 1 - kappa))
            self.gy0 = self.vertices @ self.y0
            self.ga = self.vertices @ self.a

    def accept(self, theta: np.ndarray) -> np.ndarray:
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        if not len(self.vertices):
            return np.ones(theta.shape, dtype=bool)
        values = self.gy0[None, :] - theta[:, None] * self.ga[None, :]
        best = values.argmax(axis=1)
        rows = np.arange(len(theta))
        eta = values[rows, best]
        var_b = self.gsg[best, best]
        sigma_b = np.sqrt(np.clip(var_b, 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.gsg[:, best].T / var_b[:, None]
            denominator = 1.0 - ratio
            numerator = values - ratio * eta[:, None]
            bound = numerator / denominator
        lower = np.where(denominator > 1e-10, bound, -np.inf).max(axis=1)
        upper = np.where(denominator < -1e-10, bound, np.inf).min(axis=1)
        if not self.no_nuisance_rule:
            upper = np.minimum(upper, self.lf_cv)
        degenerate = sigma_b < 1e-10
        safe = np.where(degenerate, 1.0, sigma_b)
        z_low, z_up, statistic = lower / safe, upper / safe, eta / safe
        inside = (z_low <= statistic) & (statistic <= z_up)
        critical = np.full(len(theta), np.inf)
        if inside.any():
            lo, hi = z_low[inside], z_up[inside]
            quantile = _truncnorm_ppf(1 - self.size, lo, hi)
            critical[inside] = quantile if self.no_nuisance_rule else np.maximum(0.0, quantile)
        reject = inside & (statistic > critical)
        reject = np.where(degenerate, eta > 0, reject)
        reject |= eta > self.lf_cv
        return ~reject


def _rm_tests(betahat, sigma, n_pre, n_post, l_vec, mbar, alpha, sims, seed,
              locations=None) -> list[_ConditionalTest]:
    """One conditional test per location ``s`` and sign of the largest pre-period difference.

    ``locations`` (default: all, ``-(n_pre-1)..0``, as R) restricts the locations; the tests use
    it to reproduce ``moderndid``, which leaves out the earliest difference.
    """
    kappa = alpha / 10
    tests = []
    for s in (range(-(n_pre - 1), 1) if locations is None else locations):
        for positive in (True, False):
            A = _rm_constraints(n_pre, n_post, mbar, s, positive)
            if n_post > 1:
                rows = np.flatnonzero(np.abs(A[:, n_pre:]).sum(axis=1) > 0)
            else:
                A = A[np.abs(A[:, -1]) > 0]
                rows = np.arange(A.shape[0])
            A_post = A[:, n_pre:]
            direction = l_vec / (l_vec @ l_vec)
            null_l = linalg.null_space(l_vec[None, :])
            y0 = (A @ betahat)[rows]
            a = (A_post @ direction)[rows]
            nuisance = (A_post @ null_l)[rows] if n_post > 1 else np.zeros((len(rows), 0))
            cov = (A @ sigma @ A.T)[np.ix_(rows, rows)]
            tests.append(_ConditionalTest(y0, a, nuisance, cov, alpha, kappa, sims, seed,
                                          no_nuisance_rule=(n_post == 1)))
    return tests


def _interval_from_test(accept, center: float, scale: float) -> tuple[float, float]:
    """Smallest and largest accepted value of ``theta``.

    A grid of 2,001 points around ``center`` (widened until both ends reject), then bisection at
    both ends to 1e-10 relative precision. ``(nan, nan)`` if no value is accepted (an empty
    robust set).
    """
    width = 20.0 * scale
    for _ in range(12):
        grid = np.linspace(center - width, center + width, 2001)  # grid points, not a year
        ok = accept(grid)
        if not ok.any():
            grid = np.linspace(center - width, center + width, 40_001)
            ok = accept(grid)
            if not ok.any():
                return float("nan"), float("nan")
        if ok[0] or ok[-1]:
            width *= 4
            continue
        first, last = int(np.flatnonzero(ok)[0]), int(np.flatnonzero(ok)[-1])
        ends = []
        for outside, inside in ((grid[first - 1], grid[first]), (grid[last + 1], grid[last])):
            while abs(outside - inside) > 1e-10 * max(scale, abs(inside)):
                middle = (outside + inside) / 2
                if accept(np.array([middle]))[0]:
                    inside = middle
                else:
                    outside = middle
            ends.append(inside)
        return float(ends[0]), float(ends[1])
    return float("-inf"), float("inf")


def _rm_acceptance(betahat, sigma, n_pre, n_post, l_vec, mbar, alpha, sims=10_000, seed=0, locations=None):
    """The robust test of Delta^RM(mbar) as a function: theta values -> accepted (bool array)."""
    tests = _rm_tests(betahat, sigma, n_pre, n_post, l_vec, mbar, alpha, sims, seed, locations)

    def accept(theta):
        ok = np.zeros(np.shape(theta), dtype=bool)
        for test in tests:
            ok |= test.accept(theta)
        return ok

    return accept


def _rm_interval(betahat, sigma, n_pre, n_post, l_vec, mbar, alpha, sims=10_000, seed=0, locations=None,
                 accept=None):
    if accept is None:
        accept = _rm_acceptance(betahat, sigma, n_pre, n_post, l_vec, mbar, alpha, sims, seed, locations)
    post_cov = sigma[n_pre:, n_pre:]
    scale = math.sqrt(float(l_vec @ post_cov @ l_vec))
    return _interval_from_test(accept, float(l_vec @ betahat[n_pre:]), scale)


def _normal_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _folded_normal_quantile(mean: float, p: float) -> float:
    """``q`` with P(|N(mean, 1)| <= q) = p."""
    mean = abs(mean)
    # scipy.special.ndtr is the normal cdf without the overhead of scipy.stats (called thousands
    # of times by the FLCI optimisation)
    target = lambda q: special.ndtr(q - mean) - special.ndtr(-q - mean) - p  # noqa: E731
    return float(optimize.brentq(target, 0.0, mean + 10.0, xtol=1e-14, rtol=1e-14))


def _sd_bias_matrix(n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
    """Matrices mapping (slope, second differences) to delta at the non-reference periods.

    Returns ``(trend, curvature)``: delta = trend * slope + curvature @ d, where d are the
    second differences ``(delta_{r+1} - delta_r) - (delta_r - delta_{r-1})``; Delta^SD(M) is
    ``|d| <= M`` with any slope.
    """
    periods = [t for t in range(-n_pre, n_post + 1) if t != 0]
    first_diffs = list(range(-n_pre + 1, n_post + 1))  # D_r = delta_r - delta_{r-1}
    seconds = list(range(-n_pre + 1, n_post))  # d_u = D_{u+1} - D_u
    # D_r as a function of (D_1, d): D_r = D_1 + sum_{u=1}^{r-1} d_u (r >= 1), D_1 - sum_{u=r}^{0} d_u (r <= 0)
    d_of = np.zeros((len(first_diffs), 1 + len(seconds)))
    for i, r in enumerate(first_diffs):
        d_of[i, 0] = 1.0
        for j, u in enumerate(seconds):
            if r >= 1 and 1 <= u <= r - 1:
                d_of[i, 1 + j] = 1.0
            if r <= 0 and r <= u <= 0:
                d_of[i, 1 + j] = -1.0
    delta_of = np.zeros((len(periods), 1 + len(seconds)))
    for i, t in enumerate(periods):
        for k, r in enumerate(first_diffs):
            if t >= 1 and 1 <= r <= t:
                delta_of[i] += d_of[k]
            if t <= -1 and t + 1 <= r <= 0:
                delta_of[i] -= d_of[k]
    return delta_of[:, 0], delta_of[:, 1:]


def _flci(betahat, sigma, n_pre, n_post, l_vec, m, alpha) -> tuple[float, float]:
    """Optimal fixed-length confidence interval for theta under Delta^SD(M).

    Affine estimators ``theta_hat = v'beta`` with ``v_post = l`` and free pre-period weights;
    a linear difference in trends must not bias it (``v't = 0``), so its worst-case bias over
    Delta^SD(M) is ``M * ||C'v||_1`` with ``C`` the curvature loadings. The half-length
    ``q(bias/sd) * sd`` (``q(b)`` the 1 - alpha quantile of |N(b, 1)|) is a convex function of
    the weights (the perspective of the convex ``q``); it is minimised by SLSQP with the
    absolute values as auxiliary variables. Armstrong and Kolesar (2018); Rambachan and Roth
    (2023), section 4.
    """
    trend, curvature = _sd_bias_matrix(n_pre, n_post)
    t_pre, t_post = trend[:n_pre], trend[n_pre:]
    fixed_trend = float(l_vec @ t_post)
    # v_pre = v0 + N z satisfies t_pre'v_pre + l't_post = 0
    v0 = -fixed_trend * t_pre / (t_pre @ t_pre)
    basis = linalg.null_space(t_pre[None, :])
    curv_pre, curv_post = curvature[:n_pre], curvature[n_pre:]
    s_pp, s_pq, s_qq = sigma[:n_pre, :n_pre], sigma[:n_pre, n_pre:], sigma[n_pre:, n_pre:]

    def pieces(z):
        v_pre = v0 + basis @ z
        load = curv_pre.T @ v_pre + curv_post.T @ l_vec
        var = float(v_pre @ s_pp @ v_pre + 2 * v_pre @ s_pq @ l_vec + l_vec @ s_qq @ l_vec)
        return v_pre, load, var

    k = basis.shape[1]
    n_abs = curvature.shape[1]
    q_alpha = 1 - alpha

    def objective(x):
        z, u = x[:k], x[k:]
        _, _, var = pieces(z)
        sd = math.sqrt(max(var, 1e-300))
        bias = m * u.sum()
        ratio = bias / sd
        q = _folded_normal_quantile(ratio, q_alpha)
        dens_minus, dens_plus = _normal_pdf(q - ratio), _normal_pdf(q + ratio)
        dq = (dens_minus - dens_plus) / (dens_minus + dens_plus)
        value = q * sd
        d_sd = q - ratio * dq  # derivative of q(b/s)*s with respect to s
        grad_z = d_sd * (basis.T @ (s_pp @ (v0 + basis @ z) + s_pq @ l_vec)) / sd
        grad_u = np.full(n_abs, dq * m)
        return value, np.concatenate([grad_z, grad_u])

    def constraint(x):
        z, u = x[:k], x[k:]
        _, load, _ = pieces(z)
        return np.concatenate([u - load, u + load])

    jac_load = np.vstack([-(curv_pre.T @ basis), curv_pre.T @ basis])
    constraint_jac = np.hstack([jac_load, np.vstack([np.eye(n_abs), np.eye(n_abs)])])

    starts = [np.zeros(0)]
    if k:
        # minimum-variance weights (the best estimator when M = 0) ...
        hess = basis.T @ s_pp @ basis
        z_var = -np.linalg.lstsq(hess, basis.T @ (s_pp @ v0 + s_pq @ l_vec), rcond=None)[0]
        # ... and the weights with the smallest worst-case bias (all on the last pre period)
        v_last = np.zeros(n_pre)
        v_last[-1] = fixed_trend
        z_bias = np.linalg.lstsq(basis, v_last - v0, rcond=None)[0]
        starts = [z_var, z_bias]
    best = None
    for z0 in starts:
        _, load0, _ = pieces(z0)
        candidate = np.concatenate([z0, np.abs(load0)])
        if m > 0 and k:
            fit = optimize.minimize(objective, candidate, jac=True, method="SLSQP",
                                    constraints=[{"type": "ineq", "fun": constraint,
                                                  "jac": lambda x: constraint_jac}],
                                    options={"maxiter": 500, "ftol": 1e-15})
            candidate = fit.x
        v_pre, load, var = pieces(candidate[:k])
        sd = math.sqrt(var)
        half = _folded_normal_quantile(m * np.abs(load).sum() / sd, q_alpha) * sd
        if best is None or half < best[0]:
            best = (half, v_pre)
    half, v_pre = best
    estimate = float(v_pre @ betahat[:n_pre] + l_vec @ betahat[n_pre:])
    return estimate - half, estimate + half


@dataclass(frozen=True, eq=False)
class HonestDiDResult:
    """Robust confidence sets for ``theta = l' tau_post`` (see :func:`honest_did`).

    Attributes
    ----------
    restriction
        ``"relative_magnitude"`` (bounds ``Mbar``) or ``"smoothness"`` (bounds ``M``).
    method
        ``"C-LF"`` (conditional test with least-favourable hybrid) or ``"FLCI"``.
    target
        What theta is (a post term, or ``"average"``).
    bounds, ci_low, ci_high
        The bounds tried and the robust interval at each.
    original
        ``(estimate, std_error, ci_low, ci_high)`` of theta under exact parallel trends
        (normal-based, as the R package's ``constructOriginalCS``).
    betahat, sigma, n_pre, n_post, l_vec, pre_terms, post_terms, alpha
        The inputs, kept so that :func:`breakdown_value` can reuse them.
    """

    restriction: str
    method: str
    target: str
    bounds: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    original: tuple[float, float, float, float]
    betahat: np.ndarray = field(repr=False)
    sigma: np.ndarray = field(repr=False)
    n_pre: int = 0
    n_post: int = 0
    l_vec: np.ndarray = field(default=None, repr=False)
    pre_terms: tuple[str, ...] = ()
    post_terms: tuple[str, ...] = ()
    alpha: float = 0.05

    @property
    def bound_name(self) -> str:
        """``"Mbar"`` or ``"M"``."""
        return "Mbar" if self.restriction == "relative_magnitude" else "M"

    def table(self, include_original: bool = False) -> pd.DataFrame:
        """One row per bound: restriction, bound, ci_low, ci_high, method (and the original CI first)."""
        rows = []
        if include_original:
            rows.append({"restriction": "parallel trends", "bound": np.nan, "ci_low": self.original[2],
                         "ci_high": self.original[3], "method": "original"})
        rows += [{"restriction": self.restriction, "bound": b, "ci_low": lo, "ci_high": hi, "method": self.method}
                 for b, lo, hi in zip(self.bounds, self.ci_low, self.ci_high, strict=True)]
        return pd.DataFrame(rows, columns=["restriction", "bound", "ci_low", "ci_high", "method"])

    def diagnostics(self) -> dict:
        """Target, restriction, inputs' terms and the intervals (for ``results.json``)."""
        return {"target": self.target, "restriction": self.restriction, "method": self.method,
                "pre_terms": list(self.pre_terms), "post_terms": list(self.post_terms), "alpha": self.alpha,
                "original": {"estimate": self.original[0], "std_error": self.original[1],
                             "ci_low": self.original[2], "ci_high": self.original[3]},
                "intervals": [{"bound": b, "ci_low": lo, "ci_high": hi}
                              for b, lo, hi in zip(self.bounds, self.ci_low, self.ci_high, strict=True)]}

    def summary(self) -> str:
        """One line per bound: the robust interval of the target.

        Examples
        --------
        >>> res = honest_did_from_estimates([0.0, 0.01, 0.05, 0.06], np.eye(4) * 1e-4, n_pre=2,
        ...                                 n_post=2, bounds=[0, 1])
        >>> print(res.summary().splitlines()[0])
        theta: relative_magnitude (C-LF), 95% intervals; parallel trends [0.0304, 0.0696]
        """
        level = f"{100 * (1 - self.alpha):g}%"
        lines = [f"{self.target}: {self.restriction} ({self.method}), {level} intervals; parallel trends "
                 f"[{self.original[2]:.4g}, {self.original[3]:.4g}]"]
        lines += [f"  {self.bound_name} = {b:g}: [{lo:.4g}, {hi:.4g}]"
                  for b, lo, hi in zip(self.bounds, self.ci_low, self.ci_high, strict=True)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"HonestDiDResult(target={self.target!r}, restriction={self.restriction!r}, "
                f"bounds={list(self.bounds)})")


def _check_honest_inputs(betahat, sigma, n_pre, n_post, l_vec):
    betahat = np.asarray(betahat, dtype=float).ravel()
    sigma = np.asarray(sigma, dtype=float)
    for name, value in (("n_pre", n_pre), ("n_post", n_post)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ParameterError(f"parameter '{name}' is {value!r}; it must be a whole number >= 1")
    if len(betahat) != n_pre + n_post:
        raise ParameterError(f"betahat has {len(betahat)} values but n_pre + n_post = {n_pre + n_post}")
    if sigma.shape != (len(betahat), len(betahat)):
        raise ParameterError(f"sigma must be {len(betahat)} x {len(betahat)}; it is {sigma.shape}")
    if not (np.isfinite(betahat).all() and np.isfinite(sigma).all()):
        raise ParameterError("betahat and sigma must be finite numbers")
    sigma = (sigma + sigma.T) / 2
    if np.linalg.eigvalsh(sigma).min() < -1e-10 * max(1.0, np.abs(sigma).max()):
        raise ParameterError("sigma is not a covariance matrix (it has a negative eigenvalue)")
    if l_vec is None:
        l_vec = np.eye(n_post)[0]
    l_vec = np.asarray(l_vec, dtype=float).ravel()
    if len(l_vec) != n_post or not np.isfinite(l_vec).all() or not np.any(l_vec):
        raise ParameterError(f"l_vec must hold {n_post} finite weights, not all zero")
    return betahat, sigma, l_vec


def _honest_intervals(betahat, sigma, n_pre, n_post, l_vec, restriction, bounds, alpha):
    lows, highs = [], []
    for bound in bounds:
        if restriction == "relative_magnitude":
            lo, hi = _rm_interval(betahat, sigma, n_pre, n_post, l_vec, bound, alpha)
        else:
            lo, hi = _flci(betahat, sigma, n_pre, n_post, l_vec, bound, alpha)
        lows.append(lo)
        highs.append(hi)
    return lows, highs


def _check_bounds(name: str, values) -> tuple[float, ...]:
    values = np.atleast_1d(np.asarray(values, dtype=float))
    if values.size == 0 or not np.isfinite(values).all() or (values < 0).any():
        raise ParameterError(f"parameter '{name}' must list numbers >= 0, e.g. {name}=0,0.5,1")
    return tuple(float(v) for v in values)


def honest_did_from_estimates(
    betahat: Sequence[float],
    sigma: np.ndarray,
    *,
    n_pre: int,
    n_post: int,
    l_vec: Sequence[float] | None = None,
    restriction: str = "relative_magnitude",
    bounds: Sequence[float] = (0, 0.5, 1, 1.5, 2),
    alpha: float = 0.05,
    target: str = "theta",
) -> HonestDiDResult:
    """Rambachan-Roth robust intervals from event-study coefficients and their covariance.

    Parameters
    ----------
    betahat, sigma
        Coefficients ordered pre-periods (earliest first) then post-periods, without the
        reference period, and their covariance.
    n_pre, n_post
        How many of them are before and after the reference period. Periods must be
        consecutive (one year apart).
    l_vec
        Weights of theta on the post-period effects (default: the first post period).
    restriction
        ``"relative_magnitude"``: each post-period change in the trend difference is at most
        ``Mbar`` times the largest pre-period change (Delta^RM), inference by the conditional
        test with least-favourable hybrid ("C-LF"), inverted over theta. ``"smoothness"``: the
        slope of the trend difference changes by at most ``M`` per period (Delta^SD), inference
        by the optimal fixed-length confidence interval ("FLCI").
    bounds
        The values of ``Mbar`` or ``M``.
    alpha
        1 - coverage.

    Notes
    -----
    Our implementation, checked against the R package ``HonestDiD`` (README Medicaid example,
    to 1e-3) and against ``moderndid``'s port (tests/test_did.py). Differences from R: the
    least-favourable critical value is simulated with 10,000 draws (R: 1,000) from numpy's
    generator with seed 0; the test is inverted exactly (grid, then bisection) where R reports
    the extreme accepted points of a 1,000-point grid; the conditioning interval is computed
    from the vertices of the dual polytope, which gives the same interval R finds by bisection.

    Examples
    --------
    >>> b = np.array([0.0, 0.01, 0.05, 0.06])
    >>> res = honest_did_from_estimates(b, np.eye(4) * 1e-4, n_pre=2, n_post=2, bounds=[0, 1])
    >>> res.table()["bound"].tolist()
    [0.0, 1.0]
    """
    check_choice("restriction", restriction, RESTRICTIONS)
    if not 0 < alpha < 0.5:
        raise ParameterError(f"parameter 'alpha' is {alpha!r}; use a number between 0 and 0.5, e.g. 0.05")
    betahat, sigma, l_vec = _check_honest_inputs(betahat, sigma, n_pre, n_post, l_vec)
    eigen = np.linalg.eigvalsh(sigma)
    if float(l_vec @ sigma[n_pre:, n_pre:] @ l_vec) <= 0 or eigen[0] <= 1e-10 * eigen[-1]:
        raise ParameterError("the event-study estimates have a singular covariance (as for an outcome that is an "
                             "exact function of the year and the unit); the sensitivity analysis needs noise")
    bounds = _check_bounds("mbar" if restriction == "relative_magnitude" else "m", bounds)
    lows, highs = _honest_intervals(betahat, sigma, n_pre, n_post, l_vec, restriction, bounds, alpha)
    estimate = float(l_vec @ betahat[n_pre:])
    se = math.sqrt(float(l_vec @ sigma[n_pre:, n_pre:] @ l_vec))
    z = stats.norm.ppf(1 - alpha / 2)
    return HonestDiDResult(
        restriction=restriction, method="C-LF" if restriction == "relative_magnitude" else "FLCI",
        target=target, bounds=bounds, ci_low=tuple(lows), ci_high=tuple(highs),
        original=(estimate, se, estimate - z * se, estimate + z * se), betahat=betahat, sigma=sigma,
        n_pre=int(n_pre), n_post=int(n_post), l_vec=l_vec, alpha=alpha,
    )


def _honest_inputs_from_result(result: EventStudyResult, post_term: str):
    pre, post = result.pre_terms, result.post_terms
    if not pre or not post:
        raise ParameterError(
            "the sensitivity analysis needs interaction terms before and after the reference period; "
            f"this model has {len(pre)} before and {len(post)} after"
        )
    periods = [result.interaction_periods[t] for t in pre] + [result.reference] + \
              [result.interaction_periods[t] for t in post]
    if np.any(np.diff(periods) != 1):
        raise ParameterError(
            "the sensitivity analysis needs consecutive periods (one year apart) around the reference "
            f"period; the model has {', '.join(map(str, periods))}"
        )
    terms = pre + post
    betahat = result.params[terms].to_numpy()
    sigma = result.cov.loc[terms, terms].to_numpy()
    if post_term == "average":
        l_vec = np.full(len(post), 1.0 / len(post))
    elif post_term in post:
        l_vec = np.eye(len(post))[post.index(post_term)]
    else:
        raise ParameterError(
            f"parameter 'post_term' is {post_term!r}; use one of {', '.join(post)} or 'average'"
        )
    return betahat, sigma, len(pre), len(post), l_vec, tuple(pre), tuple(post)


def honest_did(
    result: EventStudyResult,
    *,
    post_term: str | None = None,
    restriction: str = "relative_magnitude",
    mbar: Sequence[float] = (0, 0.5, 1, 1.5, 2),
    m: Sequence[float] | None = None,
    alpha: float = 0.05,
) -> HonestDiDResult:
    """Robust confidence sets for a post-period effect when parallel trends may fail.

    The interaction terms before the reference period measure how the trend difference moved
    before the reform; the restriction says how far it may move after it:

    * ``restriction="relative_magnitude"``: from one period to the next, the post-period change
      is at most ``Mbar`` times the largest pre-period change (Mbar = 1: no worse than the worst
      period before the reform). Robust intervals for each value in ``mbar``.
    * ``restriction="smoothness"``: the trend difference is linear up to a change of slope of
      at most ``M`` (outcome units per period per period). Intervals for each value in ``m``
      (default: six values from 0 to the largest pre-period change of slope plus 1.96
      standard errors, or to one standard error of the pre-period term with one pre period).

    Parameters
    ----------
    result
        A fitted :func:`payreform.did.event_study` with consecutive periods around the
        reference: ``did<year>`` terms, or ``event<k>`` terms in event time.
    post_term
        The effect of interest, e.g. ``"did2021"`` or ``"event1"``, or ``"average"`` (mean of
        the post terms); default: the first post-period term. With the reference in the
        adoption year (the CCMC study's coding), the first post term is the effect one year
        after adoption relative to the adoption year's.
    restriction
        ``"relative_magnitude"`` or ``"smoothness"``.
    mbar, m
        Bounds for the two restrictions.
    alpha
        1 - coverage (intervals are normal-based, as in the R package).

    Returns
    -------
    HonestDiDResult

    Examples
    --------
    >>> from payreform.did import event_study
    >>> from payreform.synth import ccmc
    >>> fit = event_study(ccmc.generate(seed=1), outcome="income_primary_care_staff",
    ...                   unit="county_id", time="year", treated="treated", did_base=2020)
    >>> sens = honest_did(fit, mbar=(0, 0.5, 1))
    >>> sens.target, sens.table(include_original=True)["method"].tolist()
    ('did2021', ['original', 'C-LF', 'C-LF', 'C-LF'])
    """
    check_choice("restriction", restriction, RESTRICTIONS)
    if post_term is None:
        if not result.post_terms:
            raise ParameterError("the model has no post-period term; choose an earlier reference period")
        post_term = result.post_terms[0]
    betahat, sigma, n_pre, n_post, l_vec, pre, post = _honest_inputs_from_result(result, post_term)
    if restriction == "relative_magnitude":
        bounds = mbar
    elif m is not None:
        bounds = m
    else:
        bounds = _default_m(betahat, sigma, n_pre)
    out = honest_did_from_estimates(betahat, sigma, n_pre=n_pre, n_post=n_post, l_vec=l_vec,
                                    restriction=restriction, bounds=bounds, alpha=alpha, target=post_term)
    return dataclasses.replace(out, pre_terms=pre, post_terms=post)


def _default_m(betahat, sigma, n_pre) -> tuple[float, ...]:
    """Six values of M from 0 to the largest pre-period second difference + 1.96 SE."""
    if n_pre < 2:
        upper = math.sqrt(sigma[0, 0])
    else:
        pre = np.r_[betahat[:n_pre], 0.0]
        cov = np.zeros((n_pre + 1, n_pre + 1))
        cov[:n_pre, :n_pre] = sigma[:n_pre, :n_pre]
        rows = np.array([[1.0 if j == i else -2.0 if j == i + 1 else 1.0 if j == i + 2 else 0.0
                          for j in range(n_pre + 1)] for i in range(n_pre - 1)])
        second = rows @ pre
        se = np.sqrt(np.clip(np.diag(rows @ cov @ rows.T), 0.0, None))
        upper = float(np.max(np.abs(second) + 1.96 * se))
    return tuple(float(v) for v in np.linspace(0.0, upper, 6))


def breakdown_value(
    result: EventStudyResult | HonestDiDResult,
    *,
    post_term: str | None = None,
    restriction: str | None = None,
    alpha: float | None = None,
    tol: float | None = None,
    upper: float | None = None,
) -> float:
    """Smallest bound (Mbar or M) at which the robust interval contains zero.

    Below it the effect stays significant; at it the conclusion breaks down. Found by bisection
    on the bound (assuming, as in practice, that the robust interval widens as the bound grows).
    Returns 0.0 if the interval contains zero already at bound 0, and ``inf`` if it still
    excludes zero at ``upper`` (default: Mbar = 100, or M = 100 standard errors).

    Parameters
    ----------
    result
        A fitted :func:`payreform.did.event_study` (then ``post_term`` and ``restriction``,
        default the first post term and ``"relative_magnitude"``) or a
        :class:`HonestDiDResult` (its inputs and restriction are reused).
    post_term, restriction, alpha
        As in :func:`honest_did` (alpha 0.05 by default).
    tol
        Precision of the answer (default 0.001 for Mbar, 0.001 standard errors for M).
    upper
        Largest bound searched.

    Examples
    --------
    >>> from payreform.did import event_study
    >>> from payreform.synth import ccmc
    >>> fit = event_study(ccmc.generate(seed=1), outcome="income_primary_care_staff",
    ...                   unit="county_id", time="year", treated="treated", did_base=2020)
    >>> bool(breakdown_value(fit, post_term="did2021") > 1)
    True
    """
    if isinstance(result, HonestDiDResult):
        betahat, sigma, n_pre, n_post, l_vec = (result.betahat, result.sigma, result.n_pre,
                                                result.n_post, result.l_vec)
        restriction = restriction or result.restriction
        alpha = result.alpha if alpha is None else alpha
    else:
        if post_term is None:
            if not result.post_terms:
                raise ParameterError("the model has no post-period term; choose an earlier reference period")
            post_term = result.post_terms[0]
        betahat, sigma, n_pre, n_post, l_vec, _, _ = _honest_inputs_from_result(result, post_term)
        restriction = restriction or "relative_magnitude"
        alpha = 0.05 if alpha is None else alpha
    check_choice("restriction", restriction, RESTRICTIONS)
    se = math.sqrt(float(l_vec @ sigma[n_pre:, n_pre:] @ l_vec))
    if restriction == "relative_magnitude":
        tol = 1e-3 if tol is None else tol
        upper = 100.0 if upper is None else upper
    else:
        tol = 1e-3 * se if tol is None else tol
        upper = 100.0 * se if upper is None else upper

    def covers_zero(bound: float) -> bool:
        if restriction == "relative_magnitude":
            # the robust set's hull contains zero if zero itself is accepted; only otherwise is
            # the whole interval needed (the set can have gaps)
            accept = _rm_acceptance(betahat, sigma, n_pre, n_post, l_vec, bound, alpha)
            if accept(np.array([0.0]))[0]:
                return True
            low, high = _rm_interval(betahat, sigma, n_pre, n_post, l_vec, bound, alpha, accept=accept)
            return bool(low <= 0 <= high)
        lows, highs = _honest_intervals(betahat, sigma, n_pre, n_post, l_vec, restriction, [bound], alpha)
        return bool(lows[0] <= 0 <= highs[0])

    if covers_zero(0.0):
        return 0.0
    low, high = 0.0, min(1.0 if restriction == "relative_magnitude" else 2 * se, upper)
    while not covers_zero(high):
        if high >= upper:
            return float("inf")
        low, high = high, min(high * 2, upper)
    while high - low > tol:
        mid = (low + high) / 2
        if covers_zero(mid):
            high = mid
        else:
            low = mid
    return float(high)
