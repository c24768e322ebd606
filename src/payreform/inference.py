"""Inference shared by the methods: linear combinations of coefficients and tidy result rows.

Every result object of the package reports its coefficients through :class:`LinearCombination`,
so that estimates, standard errors, t-based p-values and intervals are computed in one place
and every ``.table()`` has the columns :data:`TABLE_COLUMNS`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from payreform.errors import ParameterError

TABLE_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]
"""Columns of every ``.table()``: one row per term."""


@dataclass(frozen=True)
class LinearCombination:
    """A linear combination of coefficients with its standard error and t-based interval."""

    name: str
    estimate: float
    std_error: float
    df: float

    @property
    def statistic(self) -> float:
        """t statistic (estimate / standard error)."""
        return self.estimate / self.std_error if self.std_error > 0 else float("nan")

    @property
    def p_value(self) -> float:
        """Two-sided p-value from the t distribution with ``df`` degrees of freedom."""
        return float(2 * stats.t.sf(abs(self.statistic), self.df))

    def interval(self, alpha: float = 0.05) -> tuple[float, float]:
        """``(low, high)`` 1 - alpha confidence interval."""
        q = stats.t.ppf(1 - alpha / 2, self.df)
        return self.estimate - q * self.std_error, self.estimate + q * self.std_error

    def row(self, alpha: float = 0.05) -> dict:
        """One row of a results table."""
        low, high = self.interval(alpha)
        return {"term": self.name, "estimate": self.estimate, "std_error": self.std_error,
                "statistic": self.statistic, "p_value": self.p_value, "ci_low": low, "ci_high": high}


def linear_combination(params: pd.Series, cov: pd.DataFrame, weights: Mapping[str, float], name: str,
                       df: float) -> LinearCombination:
    """``sum(weights[t] * params[t])`` with its standard error from ``cov`` and ``df`` for t tests.

    Terms not named in ``weights`` get weight 0; a name that is not a term raises
    :class:`~payreform.errors.ParameterError`.

    Examples
    --------
    >>> params = pd.Series([1.0, 2.0], index=["a", "b"])
    >>> cov = pd.DataFrame([[1.0, 0.5], [0.5, 4.0]], index=params.index, columns=params.index)
    >>> linear_combination(params, cov, {"a": 1, "b": 1}, "a+b", 10).std_error
    2.449489742783178
    """
    unknown = set(weights) - set(params.index)
    if unknown:
        raise ParameterError(
            f"term(s) {sorted(unknown)} are not in this model; its terms are {', '.join(map(str, params.index))}"
        )
    w = np.array([weights.get(t, 0.0) for t in params.index], dtype=float)
    variance = float(w @ cov.to_numpy() @ w)
    return LinearCombination(name, float(w @ params.to_numpy()), math.sqrt(max(variance, 0.0)), df)


@dataclass(frozen=True)
class EmpiricalCombination(LinearCombination):
    """A linear combination whose interval and p-value come from simulated t statistics (a
    bootstrap-t) instead of the t distribution.

    ``t_draws`` are (estimate* - truth*) / se* over the simulated data sets; the interval is
    ``estimate - q(1 - alpha/2) se`` to ``estimate - q(alpha/2) se`` and the two-sided p-value
    ``2 min(P(t* >= t), P(t* <= t))`` with the usual +1 correction.

    Examples
    --------
    >>> draws = np.random.default_rng(0).standard_t(5, 4000)
    >>> combo = EmpiricalCombination("b", 2.0, 1.0, 5.0, draws)
    >>> low, high = combo.interval()
    >>> round(float(low), 1), round(float(high), 1)
    (-0.5, 4.5)
    """

    t_draws: np.ndarray = None

    @property
    def p_value(self) -> float:
        """Two-sided bootstrap-t p-value."""
        t = self.statistic
        draws = np.asarray(self.t_draws)
        upper = (np.sum(draws >= t) + 1) / (len(draws) + 1)
        lower = (np.sum(draws <= t) + 1) / (len(draws) + 1)
        return float(min(1.0, 2 * min(upper, lower))) if math.isfinite(t) else float("nan")

    def interval(self, alpha: float = 0.05) -> tuple[float, float]:
        """Bootstrap-t interval."""
        low_q, high_q = np.quantile(np.asarray(self.t_draws), [alpha / 2, 1 - alpha / 2])
        return self.estimate - high_q * self.std_error, self.estimate - low_q * self.std_error
