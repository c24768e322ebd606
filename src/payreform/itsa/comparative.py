"""Two-group (comparative) interrupted time series (Linden 2015)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from payreform.errors import ContractError, ParameterError, check_choice
from payreform.inference import TABLE_COLUMNS, LinearCombination, linear_combination
from payreform.itsa.analysis import prepare_series
from payreform.itsa.design import (
    CODINGS,
    _hac_lags,
    _intervention_index,
    _series_from,
    coding_origin,
    design_matrix,
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


@dataclass(frozen=True, eq=False)
class ComparativeITSAResult:
    """A two-group interrupted time series fitted to the stacked series (Linden 2015).

    ``Y = b0 + b1 T + b2 X + b3 XT + b4 Z + b5 Z T + b6 Z X + b7 Z XT``, with ``Z = 1`` for
    ``group`` and 0 for ``reference``. ``beta6`` and ``beta7`` test whether the level change and
    the slope change differ between the two series. Newey-West errors are computed within each
    series (no cross-series lags), with the ``n / (n - k)`` factor and t tests on ``n - 8`` df.
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
        """beta0..beta7 and the difference in the jump at the intervention, one row each."""
        rows = [self.term(t).row(alpha) for t in self.params.index]
        rows.append(self.difference_in_jump().row(alpha))
        return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def comparative_itsa(
    group_series: pd.Series,
    reference_series: pd.Series,
    *,
    intervention: object,
    coding: str = "zero_at_intervention",
    hac_lags: int | str | None = "auto",
    group: str = "group",
    reference: str = "reference",
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

    Examples
    --------
    >>> result = comparative_itsa(hospital, community, intervention="2017-10",
    ...                           group="hospital", reference="community")  # doctest: +SKIP
    >>> result.term("beta7")  # doctest: +SKIP
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
    zeros = np.zeros_like(base)
    design = np.vstack([np.hstack([base, zeros]), np.hstack([base, base])])
    # rows: reference series first (Z = 0), then the group series (Z = 1)
    y = np.r_[second.to_numpy(), first.to_numpy()]
    names = [f"beta{i}" for i in range(8)]
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
    )


def compare_series(group_data: pd.DataFrame, reference_data: pd.DataFrame, outcome: str, *, intervention: object,
                   seasonal: str = "none", log: bool = False, coding: str = "zero_at_intervention",
                   hac_lags: int | str | None = "auto", group: str = "group", reference: str = "reference",
                   **_ignored) -> ComparativeITSAResult:
    """Prepare two series the same way (:func:`prepare_series`) and fit :func:`comparative_itsa`.

    Extra keyword arguments (those of :func:`analyse_series` that do not apply) are ignored, so
    the same settings dictionary can be passed to both functions.
    """
    if seasonal == "season_dummies":
        raise ParameterError(
            "the two-group comparison supports seasonal=none or ratio_to_moving_average, not season_dummies"
        )
    first, _ = prepare_series(group_data[outcome].astype(float).rename(outcome), seasonal=seasonal, log=log)
    second, _ = prepare_series(reference_data[outcome].astype(float).rename(outcome), seasonal=seasonal, log=log)
    return comparative_itsa(first, second, intervention=intervention, coding=coding, hac_lags=hac_lags,
                            group=group, reference=reference)
