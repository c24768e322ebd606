"""Two-group (comparative) interrupted time series (Linden 2015)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from payreform.errors import ContractError, ParameterError, check_choice
from payreform.inference import TABLE_COLUMNS, LinearCombination, linear_combination
from payreform.itsa.analysis import SEASONAL_METHODS, prepare_series
from payreform.itsa.design import (
    CODINGS,
    _hac_lags,
    _intervention_index,
    _series_from,
    coding_origin,
    design_matrix,
    season_indicators,
)

COMPARATIVE_TERMS = {
    "beta0": "reference group: level at T = 0",
    "beta1": "reference group: pre-intervention slope",
    "beta2": "reference group: level change",
    "beta3": "reference group: slope change",
    "beta4": "difference in level at T = 0 (group - reference)",
    "beta5": "difference in pre-intervention slope",
    "beta6": "difference in level change",
    "beta7": "difference in slope change",
}

MODEL_NAME = "comparative_ols_newey_west"
"""The ``model`` field of the comparative fits in ``results.json``."""


@dataclass(frozen=True, eq=False)
class ComparativeITSAResult:
    """A two-group interrupted time series fitted to the stacked series (Linden 2015).

    ``Y = b0 + b1 T + b2 X + b3 XT + b4 Z + b5 Z T + b6 Z X + b7 Z XT``, with ``Z = 1`` for
    ``group`` and 0 for ``reference``. ``beta6`` and ``beta7`` test whether the level change and
    the slope change differ between the two series. Newey-West errors are computed within each
    series (no cross-series lags, no covariance between the two series' errors), with the
    ``n / (n - k)`` factor and t tests on ``n - k`` df. With season indicators each series has
    its own calendar pattern (``month_m`` for the reference, ``z_month_m`` for the difference).

    ``log`` records that both series are ``ln(y + 1)``: the tables then add percentages
    ``100 (exp(b) - 1)`` (for beta7, the ratio of the two series' monthly growth factors
    after the intervention relative to before, minus one).
    """

    outcome: str
    group: str
    reference: str
    coding: str
    params: pd.Series
    cov: pd.DataFrame
    df_resid: int
    hac_lags: int | None
    n_obs: int
    intervention: pd.Period
    intervention_index: int
    log: bool = False

    @property
    def model_name(self) -> str:
        """``comparative_ols_newey_west`` (or ``comparative_ols`` without Newey-West errors)."""
        return MODEL_NAME if self.hac_lags is not None else "comparative_ols"

    @property
    def season_terms(self) -> list[str]:
        """Names of the season indicators in the model (empty without ``seasonal_dummies``)."""
        return [t for t in self.params.index if t not in COMPARATIVE_TERMS]

    def term(self, name: str) -> LinearCombination:
        """One coefficient with its standard error."""
        return self.combination({name: 1.0}, name)

    def combination(self, weights: dict[str, float], name: str) -> LinearCombination:
        """Estimate and standard error of a linear combination of the coefficients."""
        return linear_combination(self.params, self.cov, weights, name, self.df_resid)

    def difference_in_jump(self) -> LinearCombination:
        """Difference between the two series' jumps at the intervention period (beta6 under zero coding)."""
        shift = self.intervention_index - coding_origin(self.coding, self.intervention_index)
        weights = {"beta6": 1.0} | ({"beta7": float(shift)} if shift else {})
        return self.combination(weights, "difference_in_level_change_at_intervention")

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        """beta0..beta7 and the difference in the jump at the intervention, one row each.

        Season indicators are left out (they are shapes, not effects). For ``ln(y + 1)``
        series the columns ``percent_change``, ``percent_ci_low`` and ``percent_ci_high`` give
        ``100 (exp(b) - 1)`` for every term but beta0 and beta4 (levels).
        """
        rows = [self.term(t).row(alpha) for t in COMPARATIVE_TERMS]
        rows.append(self.difference_in_jump().row(alpha))
        frame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
        if self.log:
            changes = ~frame["term"].isin(["beta0", "beta4"])
            for column, source in (("percent_change", "estimate"), ("percent_ci_low", "ci_low"),
                                   ("percent_ci_high", "ci_high")):
                frame[column] = np.where(changes, 100 * np.expm1(frame[source]), np.nan)
        return frame

    def diagnostics(self) -> dict:
        """Fit summary: groups, coding, periods, degrees of freedom, Newey-West lag."""
        return {"outcome": self.outcome, "group": self.group, "reference": self.reference, "coding": self.coding,
                "n_obs": self.n_obs, "df_resid": self.df_resid, "hac_lags": self.hac_lags,
                "intervention": str(self.intervention), "season_terms": len(self.season_terms), "log": self.log}

    def __repr__(self) -> str:
        return (f"ComparativeITSAResult(outcome={self.outcome!r}, group={self.group!r}, "
                f"reference={self.reference!r}, n_obs={self.n_obs})")


def comparative_itsa(
    group_series: pd.Series,
    reference_series: pd.Series,
    *,
    intervention: object,
    coding: str = "zero_at_intervention",
    hac_lags: int | str | None = "auto",
    group: str = "group",
    reference: str = "reference",
    seasonal_dummies: bool = False,
    log: bool = False,
) -> ComparativeITSAResult:
    """Two-group segmented regression on two series with the same periods (Linden 2015).

    Parameters
    ----------
    group_series, reference_series
        The two series (already seasonally adjusted and/or logged, see :func:`prepare_series`),
        indexed by the same gap-free PeriodIndex.
    intervention, coding
        As in :func:`segmented_regression`.
    hac_lags
        Newey-West lag within each series; ``"auto"`` uses the rule on one series' length.
    group, reference
        Names used in the result.
    seasonal_dummies
        Add calendar-month (or quarter) indicators, one set per series.
    log
        Record that the series are ``ln(y + 1)`` (tables then add percentages).

    Examples
    --------
    >>> idx = pd.period_range("2016-01", periods=24, freq="M")
    >>> t = np.arange(24.0)
    >>> ref = pd.Series(10 + 0.1 * t + np.sin(t), index=idx)
    >>> grp = ref + 2 + 0.5 * (t >= 12) * (t - 11)
    >>> result = comparative_itsa(grp, ref, intervention="2017-01", hac_lags=None)
    >>> round(float(result.params["beta7"]), 6), round(float(result.params["beta6"]), 6)
    (0.5, 0.5)
    """
    from statsmodels.stats.sandwich_covariance import cov_nw_panel

    check_choice("coding", coding, CODINGS)
    first = _series_from(group_series, None, None)
    second = _series_from(reference_series, None, None)
    if not first.index.equals(second.index):
        raise ContractError("the two series must cover the same periods; validate them together first")
    start, t0 = _intervention_index(first.index, intervention)
    n = len(first)
    base = design_matrix(n, t0, coding).to_numpy()
    names = list(COMPARATIVE_TERMS)
    blocks_ref, blocks_grp = [base, np.zeros_like(base)], [base, base]
    if seasonal_dummies:
        seasons = season_indicators(first.index)
        blocks_ref += [seasons.to_numpy(), np.zeros_like(seasons.to_numpy())]
        blocks_grp += [seasons.to_numpy(), seasons.to_numpy()]
        names += list(seasons.columns) + [f"z_{c}" for c in seasons.columns]
    # rows: reference series first (Z = 0), then the group series (Z = 1)
    design = np.vstack([np.hstack(blocks_ref), np.hstack(blocks_grp)])
    y = np.r_[second.to_numpy(), first.to_numpy()]
    lags = _hac_lags(hac_lags, n)
    fit = sm.OLS(y, design).fit()
    if lags is None:
        cov = np.asarray(fit.cov_params())
    else:
        cov = cov_nw_panel(fit, lags, [(0, n), (n, 2 * n)], use_correction="hac")
    return ComparativeITSAResult(
        outcome=str(first.name), group=group, reference=reference, coding=coding,
        params=pd.Series(fit.params, index=names), cov=pd.DataFrame(cov, index=names, columns=names),
        df_resid=int(fit.df_resid), hac_lags=lags, n_obs=2 * n, intervention=start, intervention_index=t0,
        log=bool(log),
    )


def compare_series(group_data: pd.DataFrame, reference_data: pd.DataFrame, outcome: str, *, intervention: object,
                   seasonal: str = "none", log: bool = False, coding: str = "zero_at_intervention",
                   hac_lags: int | str | None = "auto", group: str = "group", reference: str = "reference",
                   **_ignored) -> ComparativeITSAResult:
    """Prepare two series the same way (:func:`prepare_series`) and fit :func:`comparative_itsa`.

    ``seasonal`` is ``none``, ``ratio_to_moving_average`` (each series divided by its own
    indices) or ``season_dummies`` (indicators in the stacked regression, one set per series).
    Extra keyword arguments (those of :func:`analyse_series` that do not apply) are ignored, so
    the same settings dictionary can be passed to both functions.

    Examples
    --------
    >>> result = compare_series(hospital, community, "visits", intervention="2017-10")  # doctest: +SKIP
    """
    check_choice("seasonal", seasonal, SEASONAL_METHODS)
    if _ignored.get("model", "ols") != "ols":
        raise ParameterError("the two-group comparison is a linear model; set model=ols")
    first, _ = prepare_series(group_data[outcome].astype(float).rename(outcome), seasonal=seasonal, log=log)
    second, _ = prepare_series(reference_data[outcome].astype(float).rename(outcome), seasonal=seasonal, log=log)
    return comparative_itsa(first, second, intervention=intervention, coding=coding, hac_lags=hac_lags,
                            group=group, reference=reference, seasonal_dummies=seasonal == "season_dummies",
                            log=log)
