"""What every fitted segmented regression shares: terms, combinations, codings and effects.

:class:`SegmentedFit` is the base of :class:`~payreform.itsa.ols.ITSAResult` (OLS on ``y`` or on
``ln(y + 1)``) and :class:`~payreform.itsa.poisson.PoissonITSAResult` (quasi-Poisson, log link).
The linear predictor is ``eta = X beta`` in every case; ``scale`` says how it maps back to the
outcome:

============  ==============================  =============================================
``scale``     outcome                         relative effect of a change ``d`` in ``eta``
============  ==============================  =============================================
``linear``    ``y = eta``                     ``d / counterfactual`` (delta method)
``log1p``     ``y = exp(eta) - 1``            ``exp(d) - 1`` (interval: exp of the ends)
``log``       ``E[y] = exp(eta + offset)``    ``exp(d) - 1``, the rate ratio minus one
============  ==============================  =============================================

On the two log scales the relative effect and its interval are the exponentiated log-scale
difference and interval, minus one; the absolute effect is fitted minus counterfactual on the
outcome's own scale, with a delta-method interval; level and slope changes are also reported as
percentages ``100 (exp(beta) - 1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from payreform.errors import ParameterError, check_choice
from payreform.inference import TABLE_COLUMNS, LinearCombination, linear_combination
from payreform.itsa.design import (
    CODINGS,
    _season_row,
    coding_origin,
    design_matrix,
    interruption_terms,
    is_model_term,
)
from payreform.periods import frequency_of, parse_period

SCALES = ("linear", "log1p", "log")
"""How the linear predictor maps to the outcome (see the module docstring)."""

PERCENT_COLUMNS = ["percent_change", "percent_ci_low", "percent_ci_high"]
"""Columns added to tables of log-scale models: ``100 (exp(b) - 1)`` and its interval."""


@dataclass(frozen=True)
class Estimate:
    """An estimate with a possibly asymmetric interval (a transformed linear combination).

    ``p_value`` is the p-value of the test on the linear-predictor scale (for a ratio, of
    log ratio = 0), so transforming never changes a conclusion.
    """

    name: str
    estimate: float
    std_error: float
    p_value: float
    ci_low: float
    ci_high: float

    @property
    def statistic(self) -> float:
        """Estimate / standard error (for display; the p-value comes from the linear scale)."""
        return self.estimate / self.std_error if self.std_error > 0 else float("nan")

    def row(self) -> dict:
        """One row of a results table (the columns of :data:`~payreform.inference.TABLE_COLUMNS`)."""
        return {"term": self.name, "estimate": self.estimate, "std_error": self.std_error,
                "statistic": self.statistic, "p_value": self.p_value, "ci_low": self.ci_low,
                "ci_high": self.ci_high}


def _from_combination(combo: LinearCombination, alpha: float, name: str | None = None) -> Estimate:
    low, high = combo.interval(alpha)
    return Estimate(name or combo.name, combo.estimate, combo.std_error, combo.p_value, low, high)


@dataclass(frozen=True)
class Effect:
    """The intervention's effect at one period: fitted minus counterfactual, and relative to it.

    ``fitted`` and ``counterfactual`` are on the outcome's scale (for ``ln(y + 1)`` models,
    ``exp(eta) - 1``; for quasi-Poisson, expected counts). ``absolute`` is their difference,
    ``relative`` the difference as a share of the counterfactual (on log scales ``exp(d) - 1``).
    """

    period: pd.Period
    horizon: int
    fitted: float
    counterfactual: float
    absolute: Estimate
    relative: Estimate
    scale: str = "linear"

    def table(self) -> pd.DataFrame:
        """Absolute and relative effect, one row each, with the period."""
        frame = pd.DataFrame([self.absolute.row(), self.relative.row()], columns=TABLE_COLUMNS)
        frame.insert(1, "period", str(self.period))
        return frame


@dataclass(frozen=True, eq=False)
class SegmentedFit:
    """Fields and methods shared by the fitted segmented regressions.

    Subclasses add their fit statistics. ``params``/``cov`` are on the linear-predictor scale.
    ``intervention``/``intervention_index`` are the first interruption; ``interventions`` and
    ``intervention_indices`` list them all (several interruptions number their terms ``beta2_1``,
    ``beta3_1``, ``beta2_2`` ...). ``periods``, ``observed`` and ``fitted`` cover every period;
    ``fit_mask`` marks the periods used in the fit (False for excluded windows), None if all.
    """

    outcome: str
    coding: str
    impact: str
    params: pd.Series
    cov: pd.DataFrame
    df_resid: int
    periods: pd.PeriodIndex
    observed: np.ndarray
    fitted: np.ndarray
    intervention: pd.Period
    intervention_index: int
    interventions: tuple = field(default=(), kw_only=True)
    intervention_indices: tuple = field(default=(), kw_only=True)
    fit_mask: np.ndarray | None = field(default=None, kw_only=True, repr=False)

    scale_name = "linear"

    @property
    def starts(self) -> tuple[pd.Period, ...]:
        """Every interruption's first period, in date order."""
        return tuple(self.interventions) or (self.intervention,)

    @property
    def start_indices(self) -> tuple[int, ...]:
        """Every interruption's ``T0``."""
        return tuple(self.intervention_indices) or (self.intervention_index,)

    @property
    def n_interruptions(self) -> int:
        """Number of interruptions."""
        return len(self.starts)

    def terms_of(self, k: int = 1) -> tuple[str, str]:
        """Level and slope term names of interruption ``k`` (``beta2``/``beta3`` with one interruption)."""
        if not 1 <= k <= self.n_interruptions:
            raise ParameterError(f"interruption {k} does not exist; this model has {self.n_interruptions}")
        return interruption_terms(k, self.n_interruptions)

    @property
    def n_fitted(self) -> int:
        """Number of periods used in the fit."""
        return int(self.fit_mask.sum()) if self.fit_mask is not None else len(self.observed)

    @property
    def scale(self) -> str:
        """``linear``, ``log1p`` or ``log`` (see :data:`SCALES`)."""
        return self.scale_name

    @property
    def n_obs(self) -> int:
        """Number of periods."""
        return len(self.observed)

    @property
    def model_terms(self) -> list[str]:
        """The level/slope terms present (``beta0``, ``beta1``, then each interruption's)."""
        return [t for t in self.params.index if is_model_term(t)]

    @property
    def season_terms(self) -> list[str]:
        """Names of the season terms (indicators or Fourier pairs), in the fit's order."""
        return [t for t in self.params.index if not is_model_term(t)]

    def combination(self, weights: dict[str, float], name: str) -> LinearCombination:
        """Estimate and standard error of ``sum(weights[t] * beta_t)`` (linear-predictor scale)."""
        return linear_combination(self.params, self.cov, weights, name, self.df_resid)

    def term(self, name: str) -> LinearCombination:
        """One coefficient as a :class:`~payreform.inference.LinearCombination`."""
        return self.combination({name: 1.0}, name)

    def post_slope(self, k: int | None = None) -> LinearCombination:
        """Slope after interruption ``k`` (default the last): ``beta1`` plus the slope changes so far.

        Named ``post_slope`` with one interruption, ``post_slope_k`` with several.
        """
        k = self.n_interruptions if k is None else k
        weights = {"beta1": 1.0}
        for j in range(1, k + 1):
            slope = self.terms_of(j)[1]
            if slope in self.params.index:
                weights[slope] = 1.0
        return self.combination(weights, "post_slope" if self.n_interruptions == 1 else f"post_slope_{k}")

    def beta2_in(self, coding: str, k: int = 1) -> LinearCombination:
        """Interruption ``k``'s level term as it would be estimated under another coding.

        ``beta2[c'] = beta2[c] + beta3 * (origin(c') - origin(c))``, where ``XT = (T - origin) * X``.
        """
        check_choice("coding", coding, CODINGS)
        level, slope = self.terms_of(k)
        if level not in self.params.index:
            raise ParameterError("this model has no level change (impact='slope'); beta2 is not estimated")
        t0 = self.start_indices[k - 1]
        shift = coding_origin(coding, t0) - coding_origin(self.coding, t0)
        weights = {level: 1.0}
        if slope in self.params.index and shift != 0:
            weights[slope] = float(shift)
        return self.combination(weights, f"{level}[{coding}]")

    def level_change_at_intervention(self, k: int = 1) -> LinearCombination:
        """The jump at interruption ``k``'s first period: its level term under ``zero_at_intervention``."""
        combo = self.beta2_in("zero_at_intervention", k)
        name = "level_change_at_intervention" + ("" if self.n_interruptions == 1 else f"_{k}")
        return replace(combo, name=name)  # keeps the method's own distribution (df or bootstrap-t draws)

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Tidy table: ``beta0``..``beta3``, ``post_slope``, then any season terms.

        Columns: term, estimate, std_error, statistic, p_value, ci_low, ci_high; on log scales
        also ``percent_change`` with its interval, ``100 (exp(b) - 1)`` (not for ``beta0`` and
        season terms, which are levels and seasonal shapes rather than changes).
        """
        combos = [self.term(t) for t in self.model_terms]
        for k in range(1, self.n_interruptions + 1):
            if self.terms_of(k)[1] in self.params.index:
                combos.append(self.post_slope(k))
        combos += [self.term(t) for t in self.season_terms]
        frame = pd.DataFrame([c.row(alpha) for c in combos], columns=TABLE_COLUMNS)
        if self.scale != "linear":
            changes = ~frame["term"].isin(["beta0", *self.season_terms])
            for column, source in zip(PERCENT_COLUMNS, ("estimate", "ci_low", "ci_high"), strict=True):
                frame[column] = np.where(changes, 100 * np.expm1(frame[source]), np.nan)
        return frame

    # ------------------------------------------------------------------ effects

    def _x(self, time: int, target: pd.Period) -> np.ndarray:
        """Regressors of the period at ``time`` (T), in the order of ``params``."""
        row = design_matrix(max(time, self.n_obs), self.start_indices, self.coding, self.impact).loc[time]
        seasons = self.season_terms
        return np.r_[row.reindex(self.model_terms).to_numpy(dtype=float),
                     self._season_values(target, seasons) if seasons else []]

    def _season_values(self, target: pd.Period, seasons: list[str]) -> np.ndarray:
        return _season_row(target, seasons)

    def _offset_at(self, position: int) -> float:
        return 0.0

    def effect_at(self, horizon: int | None = None, period: object = None, alpha: float = 0.05,
                  interruption: int = 1) -> Effect:
        """Effect of one interruption at ``horizon`` periods after its first period (0 = that period).

        Give either ``horizon`` or ``period`` (a label such as ``"2019-11"``); by default the last
        period. The counterfactual removes only this interruption's terms: with a reform and a
        later shock modelled, the reform's effect is measured against "the same series with the
        shock but without the reform". On the linear scale the relative effect is ``(fitted -
        counterfactual) / counterfactual`` with a delta-method interval; on the log scales it is
        ``exp(d) - 1`` where ``d`` is the difference of the linear predictors, with the interval
        of ``d`` transformed the same way.
        """
        start, t0 = self.starts[interruption - 1], self.start_indices[interruption - 1]
        if period is not None:
            target = parse_period(period, frequency_of(self.periods), "period")
            horizon = int(target.ordinal - start.ordinal)
        if horizon is None:
            horizon = self.n_obs - t0
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 0:
            raise ParameterError(f"parameter 'horizon' is {horizon!r}; use an integer >= 0")
        time = t0 + int(horizon)
        target_period = start + int(horizon)
        x_full = self._x(time, target_period)
        x_cf = x_full.copy()
        names = list(self.params.index)
        for name in self.terms_of(interruption):
            if name in names:
                x_cf[names.index(name)] = 0.0
        beta, cov = self.params.to_numpy(), self.cov.to_numpy()
        eta_full, eta_cf = float(x_full @ beta), float(x_cf @ beta)
        diff = x_full - x_cf
        d = float(diff @ beta)
        d_se = math.sqrt(max(float(diff @ cov @ diff), 0.0))
        d_combo = self.combination(dict(zip(names, diff, strict=True)), "d")  # the method's own interval
        if self.scale == "linear":
            fitted, counterfactual = eta_full, eta_cf
            absolute = _from_combination(d_combo, alpha, "absolute_effect")
            # delta method: the relative effect is linearised in beta by its gradient; the linearised
            # combination carries the method's distribution (t, Satterthwaite df or bootstrap-t draws)
            gradient = diff / counterfactual - d * x_cf / counterfactual**2
            linearised = self.combination(dict(zip(names, gradient, strict=True)), "relative_effect")
            relative = _from_combination(replace(linearised, estimate=d / counterfactual), alpha)
        else:
            offset = self._offset_at(time - 1)
            shift = -1.0 if self.scale == "log1p" else 0.0
            fitted = math.exp(eta_full + offset) + shift
            counterfactual = math.exp(eta_cf + offset) + shift
            gradient = math.exp(eta_full + offset) * x_full - math.exp(eta_cf + offset) * x_cf
            linearised = self.combination(dict(zip(names, gradient, strict=True)), "absolute_effect")
            value = fitted - counterfactual
            low, high = replace(linearised, estimate=value).interval(alpha)
            absolute = Estimate("absolute_effect", value, linearised.std_error, d_combo.p_value, low, high)
            ratio = math.exp(d)
            low, high = d_combo.interval(alpha)
            relative = Estimate("relative_effect", ratio - 1.0, ratio * d_se, d_combo.p_value,
                                math.expm1(low), math.expm1(high))
        return Effect(period=target_period, horizon=int(horizon), fitted=fitted, counterfactual=counterfactual,
                      absolute=absolute, relative=relative, scale=self.scale)

    def predictions(self, interruption: int = 1) -> pd.DataFrame:
        """Observed, fitted and counterfactual per period, on the outcome's scale.

        The counterfactual is the fit without interruption ``interruption``'s terms (with one
        interruption: the pre-intervention line carried forward, with the season), shown from
        that interruption on. ``included`` is False for periods left out of the fit.
        """
        time = np.arange(1, self.n_obs + 1)
        rows = [self._x(int(t), p) for t, p in zip(time, self.periods, strict=True)]
        x = np.vstack(rows)
        names = list(self.params.index)
        cf = x.copy()
        for name in self.terms_of(interruption):
            if name in names:
                cf[:, names.index(name)] = 0.0
        beta = self.params.to_numpy()
        eta_fit, eta_cf = x @ beta, cf @ beta
        offsets = np.array([self._offset_at(i) for i in range(self.n_obs)])
        if self.scale == "linear":
            fitted, counterfactual, observed = eta_fit, eta_cf, self.observed
        else:
            shift = -1.0 if self.scale == "log1p" else 0.0
            fitted = np.exp(eta_fit + offsets) + shift
            counterfactual = np.exp(eta_cf + offsets) + shift
            observed = np.expm1(self.observed) if self.scale == "log1p" else self.observed
        post = time >= self.start_indices[interruption - 1]
        included = self.fit_mask if self.fit_mask is not None else np.ones(self.n_obs, dtype=bool)
        return pd.DataFrame({"T": time, "post": post, "observed": observed, "fitted": fitted,
                             "counterfactual": np.where(post, counterfactual, np.nan), "included": included},
                            index=pd.PeriodIndex(self.periods, name="period"))

    def diagnostics(self) -> dict:
        """Fit summary shared by every model (subclasses add their own statistics)."""
        return {"outcome": self.outcome, "scale": self.scale, "coding": self.coding, "impact": self.impact,
                "n_obs": self.n_obs, "n_fitted": self.n_fitted, "df_resid": self.df_resid,
                "intervention": str(self.intervention), "interventions": [str(p) for p in self.starts]}

    def summary(self) -> str:
        """A plain-text table of the coefficients with the model's description."""
        table = self.table().set_index("term")
        shown = table[["estimate", "std_error", "p_value", "ci_low", "ci_high"]].to_string(float_format="%.4g")
        return f"{type(self).__name__}: {self.outcome}, {self.n_obs} periods, scale {self.scale}, " \
               f"coding {self.coding}, intervention {self.intervention}\n{shown}"

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(outcome={self.outcome!r}, n_obs={self.n_obs}, scale={self.scale!r}, "
                f"intervention={str(self.intervention)!r})")


__all__ = ["PERCENT_COLUMNS", "SCALES", "Effect", "Estimate", "SegmentedFit"]
