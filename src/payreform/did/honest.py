"""Event-study difference-in-differences on a unit-by-year panel, with the checks around it.

The model (SPEC §12; the CCMC bundled-payment study, book/references.bib ``ccmc_bundled``) is

    Y_it = a + sum_{t != year_base} year_t + sum_{t != did_base} did_t * (treat_i x year_t)
           + X_it' theta + mu_i + e_it,

with unit fixed effects ``mu_i`` removed by the within transformation (so ``treat_i`` and ``a``
are absorbed). ``year_t`` are the control group's changes since ``year_base``; ``did_t`` is the
treated-control gap in year ``t`` minus the gap in ``did_base``. With ``did_base`` the adoption
year, the ``did_t`` before it are the parallel-trend checks and those after it the effects.

Term names follow the paper: ``year2019``..., ``did2018``..., then the control names.

Inference
---------
Standard errors are clustered by unit (or by a coarser grouping that nests the units) with the
convention of Stata's ``xtreg, fe vce(cluster)``, R's ``fixest`` (CRV1) and ``pyfixest``::

    V = G/(G-1) * (N-1)/(N-K-1) * (X'X)^-1 [sum_g (X_g'u_g)(u_g'X_g)] (X'X)^-1,

where X are the within-transformed regressors, N the observations, G the clusters and K the
number of estimated slopes; the ``- 1`` counts the intercept (Stata's ``_cons``; fixest and
pyfixest count it the same way), and the unit effects, nested in the clusters, are not
counted. Tests and intervals use Student's t with G - 1 degrees of freedom. ``se="iid"`` gives
conventional errors ``s^2 (X'X)^-1`` with ``s^2 = RSS / (N - K - n_units)``, the residual
degrees of freedom of the dummy-variable regression (Stata's ``xtreg, fe`` default).

Joint pre-trend test
--------------------
:func:`pretrend_test` reports ``F = W / q`` with ``W = (Rb)' (R V R')^-1 (Rb)`` the Wald
statistic of the ``q`` pre-period terms, referred to F(q, G - 1). ``W`` alone is asymptotically
chi-square(q); dividing by ``q`` and using G - 1 denominator degrees of freedom is the
small-sample version that matches the t-tests (F(1, G-1) = t(G-1)^2), because the
cluster-robust covariance is estimated from only G cluster sums. This is what Stata's ``test``
prints after ``xtreg, fe vce(cluster)``. A common mistake is to refer W (not W/q) to an F
table, or to use N - K denominator degrees of freedom with clustered errors.

Staggered adoption
------------------
Give ``first_treated`` (adoption year; empty, NaN or 0 = never treated) instead of ``treated``.
If all adopters share one year, the model above is fitted with ``treat_i = 1`` for them. If
adoption years differ, :func:`event_study` fits the dynamic two-way fixed-effects regression
in *event time*: indicators ``event<k>`` for ``k = year - adoption year`` (``event-3`` ...
``event0``, ``event1`` ...), ``k = event_base`` (default -1) omitted, never-treated units all
zero, plus the year dummies. With heterogeneous effects across adoption cohorts this regression
is biased (already-treated units act as controls; Sun and Abraham 2021); it is shown beside the
Callaway and Sant'Anna (2021) estimator, :func:`callaway_santanna`, which is not.

Sensitivity to parallel trends
------------------------------
:func:`honest_did` and :func:`breakdown_value` implement Rambachan and Roth (2023): confidence
sets for a post-period effect when the post-period violation of parallel trends may be up to
``Mbar`` times the largest pre-period one (relative magnitudes, conditional-least-favourable
hybrid test of Andrews, Roth and Pakes 2023) or may depart from a linear extrapolation by ``M``
per period (smoothness, fixed-length confidence interval). See their docstrings and
``tests/test_did.py`` for the validation against the R package ``HonestDiD``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from payreform.contracts import PanelData, validate_panel
from payreform.errors import ContractError, ParameterError, check_choice
from payreform.inference import TABLE_COLUMNS, LinearCombination, linear_combination

__all__ = [
    "BalanceTable",
    "CallawaySantAnnaResult",
    "EventStudyResult",
    "HonestDiDResult",
    "PanelData",
    "PretrendTest",
    "balance_table",
    "breakdown_value",
    "callaway_santanna",
    "event_study",
    "honest_did",
    "honest_did_from_estimates",
    "pretrend_test",
    "twfe_vs_callaway_santanna",
    "validate_panel",
]

SE_TYPES = ("cluster", "iid")
"""Standard-error conventions of :func:`event_study`."""

CONTROL_GROUPS = ("never_treated", "not_yet_treated")
BASE_PERIODS = ("varying", "universal")
RESTRICTIONS = ("relative_magnitude", "smoothness")


# ============================================================================ event study


@dataclass(frozen=True, eq=False)
class EventStudyResult:
    """A fitted event-study DID (see :func:`event_study`).

    Attributes
    ----------
    outcome
        The outcome column.
    design
        ``"common_adoption"`` (terms ``did<year>``) or ``"event_time"`` (terms ``event<k>``).
    params, cov
        Coefficients and their covariance, in the order year terms, interaction terms, controls.
    df_resid
        Degrees of freedom of the t-tests: G - 1 (clustered) or N - K - n_units (iid).
    se_type
        The standard-error convention, in words.
    n_obs, n_units, n_clusters, n_treated_units, n_control_units
        Sample sizes of the fit (after dropping rows with a missing outcome or control).
    n_regressors
        K, the estimated slopes (unit effects not counted).
    balanced
        True if every unit of the fit is observed in every year of the fit.
    years, year_base, did_base, event_base
        The years of the fit and the base choices (``did_base`` for common adoption,
        ``event_base`` for event time; the other is None).
    interaction_periods
        Interaction term -> its year (common adoption) or event time.
    controls
        Control terms.
    r_squared_within
        R-squared of the within-transformed regression.
    """

    outcome: str
    design: str
    params: pd.Series
    cov: pd.DataFrame
    df_resid: int
    se_type: str
    n_obs: int
    n_units: int
    n_clusters: int
    n_treated_units: int
    n_control_units: int
    n_regressors: int
    balanced: bool
    years: tuple[int, ...]
    year_base: int
    did_base: int | None
    event_base: int | None
    interaction_periods: dict[str, int]
    controls: tuple[str, ...]
    r_squared_within: float
    n_dropped_missing: int = 0

    @property
    def year_terms(self) -> list[str]:
        """``year<YYYY>`` terms, in year order."""
        return [t for t in self.params.index if t.startswith("year") and t not in self.controls]

    @property
    def interaction_terms(self) -> list[str]:
        """``did<YYYY>`` or ``event<k>`` terms, in time order."""
        return list(self.interaction_periods)

    @property
    def reference(self) -> int:
        """The omitted interaction period: ``did_base`` or ``event_base``."""
        return self.did_base if self.design == "common_adoption" else self.event_base

    @property
    def pre_terms(self) -> list[str]:
        """Interaction terms before the reference period (the parallel-trend checks)."""
        return [t for t, p in self.interaction_periods.items() if p < self.reference]

    @property
    def post_terms(self) -> list[str]:
        """Interaction terms after the reference period."""
        return [t for t, p in self.interaction_periods.items() if p > self.reference]

    def combination(self, weights: dict[str, float], name: str) -> LinearCombination:
        """Estimate, standard error and t-based interval of ``sum(weights[t] * b_t)``.

        Examples
        --------
        >>> result.combination({"did2021": 0.5, "did2022": 0.5}, "average_post")  # doctest: +SKIP
        """
        return linear_combination(self.params, self.cov, weights, name, self.df_resid)

    def term(self, name: str) -> LinearCombination:
        """One coefficient as a :class:`~payreform.inference.LinearCombination`."""
        return self.combination({name: 1.0}, name)

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Tidy table, one row per term: term, estimate, std_error, statistic, p_value, ci_low, ci_high.

        Intervals and p-values use Student's t with :attr:`df_resid` degrees of freedom.
        """
        rows = [self.term(t).row(alpha) for t in self.params.index]
        return pd.DataFrame(rows, columns=TABLE_COLUMNS)

    def diagnostics(self) -> dict:
        """Sample sizes and conventions, for ``results.json``."""
        return {"design": self.design, "se_type": self.se_type, "df_resid": self.df_resid,
                "n_obs": self.n_obs, "n_units": self.n_units, "n_clusters": self.n_clusters,
                "n_treated_units": self.n_treated_units, "n_control_units": self.n_control_units,
                "n_regressors": self.n_regressors, "balanced": self.balanced,
                "years": list(self.years), "year_base": self.year_base, "did_base": self.did_base,
                "event_base": self.event_base, "n_dropped_missing": self.n_dropped_missing,
                "r_squared_within": self.r_squared_within}


def _demean(values: np.ndarray, codes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Subtract unit means (the within transformation) from each column of ``values``."""
    values = np.asarray(values, dtype=float)
    matrix = values.reshape(len(codes), -1)
    means = np.empty((len(counts), matrix.shape[1]))
    for j in range(matrix.shape[1]):
        means[:, j] = np.bincount(codes, weights=matrix[:, j], minlength=len(counts)) / counts
    out = matrix - means[codes]
    return out.reshape(values.shape)


def _check_rank(design: np.ndarray, names: list[str], controls: Sequence[str], outcome: str) -> None:
    """Raise ParameterError naming the first regressor that adds nothing after the unit effects."""
    norms = np.sqrt((design**2).sum(axis=0))
    scale = max(float(norms.max()), 1.0)
    tol = 1e-9 * math.sqrt(design.shape[0])
    kept: list[int] = []
    for j, name in enumerate(names):
        if norms[j] <= 1e-10 * scale:
            what = (f"control '{name}' does not change within any unit in the rows used for '{outcome}'"
                    if name in controls else f"term {name} has no variation once unit effects are removed")
            raise ParameterError(f"{what}; it cannot be estimated (drop it, or check which years and units are present)")
        candidate = design[:, kept + [j]] / norms[kept + [j]]
        if np.linalg.matrix_rank(candidate, tol=tol) < len(kept) + 1:
            if name in controls:
                raise ParameterError(
                    f"control '{name}' is a linear combination of the year effects, the other controls "
                    "and the unit effects; drop it from controls"
                )
            raise ParameterError(
                f"term {name} is collinear with the other year and event terms and the unit effects "
                "(with staggered adoption and no never-treated units, drop or bin the most distant "
                "event times, or use callaway_santanna)"
            )
        kept.append(j)


def _within_ols(y: np.ndarray, x: np.ndarray, units: np.ndarray, clusters: np.ndarray, se: str,
                names: list[str], controls: Sequence[str] = (), outcome: str = "y") -> dict:
    """OLS of ``y`` on ``x`` with unit fixed effects (within transformation) and its covariance.

    Clustered (CRV1): ``G/(G-1) * (N-1)/(N-K-1) * B M B`` with ``B = (X'X)^-1`` and ``M`` the sum
    of the clusters' outer score products; iid: ``RSS/(N-K-units) * B``.
    """
    unit_codes, unit_levels = pd.factorize(units)
    counts = np.bincount(unit_codes).astype(float)
    xd = _demean(x, unit_codes, counts)
    yd = _demean(y, unit_codes, counts)
    # Normal equations on equilibrated columns (unit length), solved by Cholesky: as accurate as
    # a QR here (the scaled Gram matrix is well conditioned once collinearity is ruled out).
    norms = np.sqrt((xd**2).sum(axis=0))
    scaled = xd / np.where(norms > 0, norms, 1.0)
    gram = scaled.T @ scaled
    eigen = np.linalg.eigvalsh(gram)
    if norms.min() <= 1e-10 * max(1.0, norms.max()) or eigen[0] <= 1e-12 * eigen[-1]:
        _check_rank(xd, names, controls, outcome)
        raise ParameterError(f"the regressors for '{outcome}' are collinear once unit effects are removed; "
                             "drop a control or check the years and units present")
    factor_l = linalg.cho_factor(gram)
    beta = linalg.cho_solve(factor_l, scaled.T @ yd) / norms
    bread = linalg.cho_solve(factor_l, np.eye(len(norms))) / np.outer(norms, norms)
    resid = yd - xd @ beta
    n_obs, k = xd.shape
    n_units = len(unit_levels)
    cluster_codes, cluster_levels = pd.factorize(clusters)
    n_clusters = len(cluster_levels)
    if se == "cluster":
        if n_clusters < 2:
            raise ParameterError("clustered standard errors need at least 2 clusters")
        scores = xd * resid[:, None]
        sums = np.column_stack([np.bincount(cluster_codes, weights=scores[:, j], minlength=n_clusters)
                                for j in range(k)])
        # K in the small-sample factor: the k slopes plus one for the intercept (Stata's _cons,
        # fixest/pyfixest); the unit effects are nested in the clusters and not counted.
        factor = n_clusters / (n_clusters - 1) * (n_obs - 1) / (n_obs - k - 1)
        cov = factor * bread @ (sums.T @ sums) @ bread
        df_resid = n_clusters - 1
    else:
        df_resid = n_obs - k - n_units
        if df_resid < 1:
            raise ParameterError("too few observations for conventional standard errors (N - K - units < 1)")
        cov = float(resid @ resid) / df_resid * bread
    total = float(yd @ yd)
    return {"beta": beta, "cov": (cov + cov.T) / 2, "df_resid": int(df_resid), "n_clusters": int(n_clusters),
            "n_units": int(n_units), "residuals": resid,
            "r_squared_within": float(1 - (resid @ resid) / total) if total > 0 else float("nan")}


def event_study(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated: str | None = None,
    first_treated: str | None = None,
    controls: Sequence[str] = (),
    year_base: int = 2018,
    did_base: int = 2020,
    cluster: str | None = None,
    se: str = "cluster",
    event_base: int = -1,
) -> EventStudyResult:
    """Fit the event-study DID with unit fixed effects and clustered standard errors.

    Parameters
    ----------
    data
        Unit-by-year panel (long format); validated with :func:`validate_panel`; not modified.
        Rows with a missing outcome or control are left out of this fit (and counted).
    outcome, unit, time
        Outcome, unit identifier and year columns.
    treated
        0/1 column: the unit belongs to the treatment group (constant within unit).
    first_treated
        Alternative to ``treated``: adoption year (empty, NaN or 0 = never treated; a year after
        the last year of the data counts as never treated). One common adoption year gives the
        ``did<year>`` model; several give the ``event<k>`` model (see the module docstring).
    controls
        Time-varying control columns (``X_it``).
    year_base
        Year whose dummy is omitted (the paper: 2018).
    did_base
        Year whose interaction is omitted (the paper: 2020, the adoption year). Not used by the
        event-time model.
    cluster
        Cluster column (default: the unit). It must group whole units.
    se
        ``"cluster"`` (CRV1, Stata/fixest small-sample factor, t with G - 1 df) or ``"iid"``.
    event_base
        Omitted event time in the event-time model (default -1, the year before adoption).

    Returns
    -------
    EventStudyResult

    Examples
    --------
    >>> from payreform.synth import ccmc
    >>> panel = ccmc.generate(seed=1)
    >>> fit = event_study(panel, outcome="outpatient_cost_per_visit", unit="county_id",
    ...                   time="year", treated="treated", controls=ccmc.CONTROLS)
    >>> fit.table()["term"].tolist()[:5]
    ['year2019', 'year2020', 'year2021', 'year2022', 'did2018']
    """
    check_choice("se", se, SE_TYPES)
    for name, value in (("year_base", year_base), ("did_base", did_base), ("event_base", event_base)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ParameterError(f"parameter '{name}' is {value!r}; use a whole number such as 2018")
    panel = validate_panel(data, unit=unit, time=time, outcomes=[outcome], treated=treated,
                           first_treated=first_treated, controls=controls, year_base=year_base,
                           cluster=cluster)
    controls = list(panel.controls)
    frame = panel.frame
    complete = frame[[outcome] + controls].notna().all(axis=1).to_numpy()
    n_dropped = int((~complete).sum())
    frame = frame.loc[complete].reset_index(drop=True)
    if frame.empty:
        raise ContractError(f"no row has both '{outcome}' and every control filled in")
    years = tuple(sorted(int(y) for y in frame["year"].unique()))
    if year_base not in years:
        raise ContractError(
            f"year_base {year_base} has no rows with '{outcome}' filled in; set year_base to one of "
            f"{', '.join(map(str, years))}"
        )
    year = frame["year"].to_numpy()
    if "cohort" in frame:
        # adoption after the last year of the fit: never treated within the window
        late = (frame["cohort"] > years[-1]).to_numpy()
        if late.any():
            frame = frame.assign(cohort=frame["cohort"].where(~late), treated=np.where(late, 0, frame["treated"]))
    cohorts = sorted({int(c) for c in frame["cohort"].dropna()}) if "cohort" in frame else []
    if first_treated is not None and len(cohorts) > 1:
        design = "event_time"
        relative = year - frame["cohort"].to_numpy()
        present = sorted({int(r) for r in relative[np.isfinite(relative)]})
        if event_base not in present:
            raise ParameterError(
                f"event_base {event_base} does not occur (event times in the data: "
                f"{', '.join(map(str, present))}); choose one of them"
            )
        periods = {f"event{k}": k for k in present if k != event_base}
        interactions = {name: np.where(relative == k, 1.0, 0.0) for name, k in periods.items()}
    else:
        design = "common_adoption"
        if did_base not in years:
            raise ContractError(
                f"did_base {did_base} is not a year with '{outcome}' filled in; set did_base to one "
                f"of {', '.join(map(str, years))}"
            )
        treat = frame["treated"].to_numpy()
        periods = {f"did{y}": y for y in years if y != did_base}
        interactions = {name: treat * (year == y) for name, y in periods.items()}
    columns = {f"year{y}": (year == y).astype(float) for y in years if y != year_base}
    columns.update(interactions)
    clash = set(columns) & set(controls)
    if clash:
        raise ParameterError(f"control '{sorted(clash)[0]}' has the name of a model term; rename the column")
    for name in controls:
        columns[name] = frame[name].to_numpy(dtype=float)
    names = list(columns)
    raw = np.column_stack([columns[n] for n in names])
    y = frame[outcome].to_numpy(dtype=float)

    fit = _within_ols(y, raw, frame["unit"].to_numpy(), frame["cluster"].to_numpy(), se, names, controls, outcome)
    beta, cov, df_resid, n_clusters = fit["beta"], fit["cov"], fit["df_resid"], fit["n_clusters"]
    n_obs, k, n_units = len(y), raw.shape[1], fit["n_units"]
    if se == "cluster":
        label = "unit" if panel.cluster == unit else f"'{panel.cluster}'"
        se_type = (f"cluster-robust by {label} (CRV1: G/(G-1) x (N-1)/(N-K-1), K slopes plus the "
                   f"intercept, unit effects nested in clusters not counted; t with G-1 = {df_resid} "
                   "df), as Stata xtreg, fe vce(cluster) and fixest/pyfixest")
    else:
        se_type = f"conventional (iid; s^2 = RSS/(N-K-units), t with {df_resid} df), as Stata xtreg, fe"
    treated_by_unit = frame.groupby("unit", sort=False)["treated"].first()
    per_unit = frame.groupby("unit", sort=False).size()
    return EventStudyResult(
        outcome=outcome, design=design,
        params=pd.Series(beta, index=names, name="estimate"),
        cov=pd.DataFrame(cov, index=names, columns=names),
        df_resid=int(df_resid), se_type=se_type, n_obs=int(n_obs), n_units=int(n_units),
        n_clusters=int(n_clusters), n_treated_units=int(treated_by_unit.sum()),
        n_control_units=int((treated_by_unit == 0).sum()), n_regressors=int(k),
        balanced=bool((per_unit == len(years)).all()), years=years, year_base=int(year_base),
        did_base=int(did_base) if design == "common_adoption" else None,
        event_base=int(event_base) if design == "event_time" else None,
        interaction_periods=dict(periods), controls=tuple(controls),
        r_squared_within=fit["r_squared_within"],
        n_dropped_missing=n_dropped,
    )


# ============================================================================ pre-trend test


@dataclass(frozen=True, eq=False)
class PretrendTest:
    """Joint Wald F test of the pre-period interaction terms, beside their individual t tests.

    Attributes
    ----------
    terms
        The terms tested (jointly zero under parallel trends).
    statistic
        ``F = W / q`` with ``W = (Rb)'(RVR')^-1(Rb)``.
    wald
        ``W`` (asymptotically chi-square with q df).
    df1, df2
        Numerator ``q`` and denominator degrees of freedom (G - 1 for clustered errors).
    p_value
        Upper tail of F(df1, df2) at :attr:`statistic`.
    individual
        One :class:`~payreform.inference.LinearCombination` per term (t tests with df2 df).
    """

    terms: tuple[str, ...]
    statistic: float
    wald: float
    df1: int
    df2: int
    p_value: float
    individual: tuple[LinearCombination, ...]

    def table(self) -> pd.DataFrame:
        """Individual t tests, then the joint F test: term, estimate, std_error, test, statistic, df, p_value."""
        rows = []
        for combo in self.individual:
            rows.append({"term": combo.name, "estimate": combo.estimate, "std_error": combo.std_error,
                         "test": f"t({self.df2})", "statistic": combo.statistic,
                         "df": str(self.df2), "p_value": combo.p_value})
        rows.append({"term": "joint: " + ", ".join(self.terms), "estimate": np.nan, "std_error": np.nan,
                     "test": f"F({self.df1}, {self.df2})", "statistic": self.statistic,
                     "df": f"{self.df1}, {self.df2}", "p_value": self.p_value})
        return pd.DataFrame(rows, columns=["term", "estimate", "std_error", "test", "statistic", "df", "p_value"])


def pretrend_test(result: EventStudyResult, terms: Sequence[str] | None = None) -> PretrendTest:
    """Joint test that the pre-period interaction terms are all zero.

    ``F = (Rb)' (R V R')^-1 (Rb) / q`` on ``(q, df_resid)`` degrees of freedom, where ``V`` is
    the fit's covariance (clustered or iid) and ``df_resid`` is G - 1 for clustered errors (why:
    see the module docstring).

    Parameters
    ----------
    result
        A fitted :func:`event_study`.
    terms
        Terms to test; default: the interaction terms before the reference period
        (``did2018``, ``did2019`` in the paper).

    Examples
    --------
    >>> from payreform.synth import ccmc
    >>> fit = event_study(ccmc.generate(seed=1), outcome="income_primary_care_staff",
    ...                   unit="county_id", time="year", treated="treated")
    >>> test = pretrend_test(fit)
    >>> test.terms, test.df1, test.df2, bool(test.p_value < 0.001)
    (('did2018', 'did2019'), 2, 527, True)
    """
    if terms is None:
        terms = result.pre_terms
        if not terms:
            raise ParameterError(
                "the model has no pre-period interaction terms (the reference period is the first year); "
                "choose a later did_base or event_base"
            )
    terms = [str(t) for t in ([terms] if isinstance(terms, str) else terms)]
    unknown = [t for t in terms if t not in result.params.index]
    if unknown:
        raise ParameterError(f"term '{unknown[0]}' is not in the model; its terms are {', '.join(result.params.index)}")
    if len(set(terms)) != len(terms):
        raise ParameterError("parameter 'terms' names a term twice; list each term once")
    b = result.params[terms].to_numpy()
    v = result.cov.loc[terms, terms].to_numpy()
    try:
        wald = float(b @ np.linalg.solve(v, b))
    except np.linalg.LinAlgError as error:
        raise ParameterError("the covariance of the tested terms is singular; test fewer terms") from error
    q = len(terms)
    if q > result.df_resid:
        raise ParameterError(f"cannot test {q} terms jointly with {result.df_resid + 1} clusters; test fewer terms")
    statistic = wald / q
    return PretrendTest(
        terms=tuple(terms), statistic=statistic, wald=wald, df1=q, df2=result.df_resid,
        p_value=float(stats.f.sf(statistic, q, result.df_resid)),
        individual=tuple(result.term(t) for t in terms),
    )


# ============================================================================ balance table


@dataclass(frozen=True, eq=False)
class BalanceTable:
    """Group means and t tests by year (the paper's Table 1), see :func:`balance_table`."""

    rows: pd.DataFrame = field(repr=False)
    welch: bool

    def table(self) -> pd.DataFrame:
        """One row per variable, year and comparison.

        Columns: variable, year, comparison, label_1, mean_1, n_1, label_2, mean_2, n_2,
        difference (1 minus 2), statistic, df, p_value, test.
        """
        return self.rows.copy()


def _two_sample(a: np.ndarray, b: np.ndarray, welch: bool) -> tuple[float, float, float]:
    """t statistic, degrees of freedom and two-sided p-value of mean(a) - mean(b)."""
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan"), float("nan")
    va, vb = a.var(ddof=1), b.var(ddof=1)
    na, nb = len(a), len(b)
    if welch:
        se2 = va / na + vb / nb
        df = se2**2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1)) if se2 > 0 else float("nan")
    else:
        pooled = ((na - 1) * va + (nb - 1) * vb) / (na + nb - 2)
        se2 = pooled * (1 / na + 1 / nb)
        df = na + nb - 2
    if se2 <= 0:
        return float("nan"), float(df), float("nan")
    t = (a.mean() - b.mean()) / math.sqrt(se2)
    return float(t), float(df), float(2 * stats.t.sf(abs(t), df))


def balance_table(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    treated: str | None = None,
    variables: Sequence[str],
    years: Sequence[int] = (2018, 2020, 2022),
    welch: bool = True,
    first_treated: str | None = None,
) -> BalanceTable:
    """Means of treated and control units by year with independent-samples t tests.

    For each variable and year: treated mean, control mean and the t test of their difference
    (Welch's unequal-variance test by default; ``welch=False`` gives the pooled-variance Student
    test). Then the treated group's last year against its first year: a paired t test on the
    treated units observed in both years when every treated unit is (balanced), otherwise a
    two-sample test of the two years' treated values (the ``test`` column says which).

    Parameters
    ----------
    data
        Unit-by-year panel; not modified.
    unit, time, treated
        Unit, year and 0/1 treatment-group columns (or ``first_treated``: adoption year).
    variables
        Columns to describe (outcomes and controls).
    years
        Years to tabulate; the first and last are compared within the treated group.
    welch
        Welch (True) or pooled-variance (False) two-sample tests.

    Examples
    --------
    >>> from payreform.synth import ccmc
    >>> table = balance_table(ccmc.generate(seed=1), unit="county_id", time="year",
    ...                       treated="treated", variables=["population_density"]).table()
    >>> table[["year", "comparison"]].values.tolist()[0]
    [2018, 'treated vs control']
    """
    if isinstance(variables, str):
        variables = [variables]
    years = [int(y) for y in years]
    if not years:
        raise ParameterError("parameter 'years' is empty; give the years to tabulate, e.g. 2018,2020,2022")
    panel = validate_panel(data, unit=unit, time=time, outcomes=list(variables), treated=treated,
                           first_treated=first_treated)
    for y in years:
        if y not in panel.years:
            raise ContractError(
                f"year {y} in parameter 'years' is not in column '{time}' ({panel.years[0]}-{panel.years[-1]})"
            )
    frame = panel.frame
    test_name = "Welch t" if welch else "pooled t"
    rows = []
    for variable in variables:
        for y in years:
            sub = frame.loc[frame["year"] == y]
            a = sub.loc[sub["treated"] == 1, variable].dropna().to_numpy()
            b = sub.loc[sub["treated"] == 0, variable].dropna().to_numpy()
            t, df, p = _two_sample(a, b, welch)
            rows.append({"variable": variable, "year": y, "comparison": "treated vs control",
                         "label_1": "treated", "mean_1": a.mean() if len(a) else np.nan, "n_1": len(a),
                         "label_2": "control", "mean_2": b.mean() if len(b) else np.nan, "n_2": len(b),
                         "difference": (a.mean() - b.mean()) if len(a) and len(b) else np.nan,
                         "statistic": t, "df": df, "p_value": p, "test": test_name})
        if len(years) >= 2:
            first, last = years[0], years[-1]
            tr = frame.loc[frame["treated"] == 1, ["unit", "year", variable]]
            wide = tr.pivot(index="unit", columns="year", values=variable)
            a = wide[last].dropna() if last in wide else pd.Series(dtype=float)
            b = wide[first].dropna() if first in wide else pd.Series(dtype=float)
            both = wide[[first, last]].dropna() if {first, last} <= set(wide.columns) else wide.iloc[:0]
            if len(both) == len(wide) and len(both) >= 2:
                diff = both[last] - both[first]
                sd = diff.std(ddof=1)
                t = diff.mean() / (sd / math.sqrt(len(diff))) if sd > 0 else float("nan")
                df = len(diff) - 1
                p = float(2 * stats.t.sf(abs(t), df)) if np.isfinite(t) else float("nan")
                test = "paired t"
            else:
                t, df, p = _two_sample(a.to_numpy(), b.to_numpy(), welch)
                test = f"{test_name} (unpaired: some treated units miss a year)"
            rows.append({"variable": variable, "year": last, "comparison": f"treated {last} vs {first}",
                         "label_1": f"treated {last}", "mean_1": a.mean() if len(a) else np.nan, "n_1": len(a),
                         "label_2": f"treated {first}", "mean_2": b.mean() if len(b) else np.nan, "n_2": len(b),
                         "difference": (a.mean() - b.mean()) if len(a) and len(b) else np.nan,
                         "statistic": float(t), "df": float(df), "p_value": p, "test": test})
    return BalanceTable(rows=pd.DataFrame(rows), welch=welch)


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
            quantile = stats.truncnorm.ppf(1 - self.size, lo, hi)
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
        grid = np.linspace(center - width, center + width, 2001)
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


def _rm_interval(betahat, sigma, n_pre, n_post, l_vec, mbar, alpha, sims=10_000, seed=0, locations=None):
    tests = _rm_tests(betahat, sigma, n_pre, n_post, l_vec, mbar, alpha, sims, seed, locations)

    def accept(theta):
        ok = np.zeros(np.shape(theta), dtype=bool)
        for test in tests:
            ok |= test.accept(theta)
        return ok

    post_cov = sigma[n_pre:, n_pre:]
    scale = math.sqrt(float(l_vec @ post_cov @ l_vec))
    return _interval_from_test(accept, float(l_vec @ betahat[n_pre:]), scale)


def _folded_normal_quantile(mean: float, p: float) -> float:
    """``q`` with P(|N(mean, 1)| <= q) = p."""
    mean = abs(mean)
    target = lambda q: stats.norm.cdf(q - mean) - stats.norm.cdf(-q - mean) - p  # noqa: E731
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
        dens_minus, dens_plus = stats.norm.pdf(q - ratio), stats.norm.pdf(q + ratio)
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
    post_term: str,
    mbar: Sequence[float] = (0, 0.5, 1, 1.5, 2),
    m: Sequence[float] | None = None,
    method: str = "relative_magnitude",
    alpha: float = 0.05,
) -> HonestDiDResult:
    """Robust confidence sets for a post-period effect when parallel trends may fail.

    The interaction terms before the reference period measure how the trend difference moved
    before the reform; the restriction says how far it may move after it:

    * ``method="relative_magnitude"``: from one year to the next, the post-period change is
      at most ``Mbar`` times the largest pre-period change (Mbar = 1: no worse than the worst
      year before the reform). Robust intervals for each value in ``mbar``.
    * ``method="smoothness"``: the trend difference is linear up to a change of slope of at
      most ``M`` (outcome units per year per year). Intervals for each value in ``m``
      (default: six values from 0 to the largest pre-period change of slope plus 1.96
      standard errors, or to one standard error of the pre-period term with one pre period).

    Parameters
    ----------
    result
        A fitted :func:`event_study` with consecutive years around the reference period.
    post_term
        The effect of interest, e.g. ``"did2021"``, or ``"average"`` (mean of the post terms).
        In the paper's coding the reference year is 2020, the adoption year, so ``did2021`` is
        the 2021 effect relative to the 2020 one.
    mbar, m
        Bounds for the two restrictions.
    method
        ``"relative_magnitude"`` or ``"smoothness"``.
    alpha
        1 - coverage (intervals are normal-based, as in the R package).

    Returns
    -------
    HonestDiDResult

    Examples
    --------
    >>> from payreform.synth import ccmc
    >>> fit = event_study(ccmc.generate(seed=1), outcome="income_primary_care_staff",
    ...                   unit="county_id", time="year", treated="treated")
    >>> sens = honest_did(fit, post_term="did2021", mbar=(0, 0.5, 1))
    >>> sens.table(include_original=True)["method"].tolist()
    ['original', 'C-LF', 'C-LF', 'C-LF']
    """
    check_choice("method", method, RESTRICTIONS)
    betahat, sigma, n_pre, n_post, l_vec, pre, post = _honest_inputs_from_result(result, post_term)
    if method == "relative_magnitude":
        bounds = mbar
    elif m is not None:
        bounds = m
    else:
        bounds = _default_m(betahat, sigma, n_pre)
    out = honest_did_from_estimates(betahat, sigma, n_pre=n_pre, n_post=n_post, l_vec=l_vec,
                                    restriction=method, bounds=bounds, alpha=alpha, target=post_term)
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
    method: str | None = None,
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
        A fitted :func:`event_study` (then give ``post_term`` and ``method``) or a
        :class:`HonestDiDResult` (its inputs and restriction are reused).
    post_term, method, alpha
        As in :func:`honest_did` (default method ``"relative_magnitude"``, alpha 0.05).
    tol
        Precision of the answer (default 0.001 for Mbar, 0.001 standard errors for M).
    upper
        Largest bound searched.

    Examples
    --------
    >>> from payreform.synth import ccmc
    >>> fit = event_study(ccmc.generate(seed=1), outcome="income_primary_care_staff",
    ...                   unit="county_id", time="year", treated="treated")
    >>> bool(breakdown_value(fit, post_term="did2021") > 1)
    True
    """
    if isinstance(result, HonestDiDResult):
        betahat, sigma, n_pre, n_post, l_vec = (result.betahat, result.sigma, result.n_pre,
                                                result.n_post, result.l_vec)
        method = method or result.restriction
        alpha = result.alpha if alpha is None else alpha
    else:
        if post_term is None:
            raise ParameterError("parameter 'post_term' is required, e.g. post_term='did2021'")
        betahat, sigma, n_pre, n_post, l_vec, _, _ = _honest_inputs_from_result(result, post_term)
        method = method or "relative_magnitude"
        alpha = 0.05 if alpha is None else alpha
    check_choice("method", method, RESTRICTIONS)
    se = math.sqrt(float(l_vec @ sigma[n_pre:, n_pre:] @ l_vec))
    if method == "relative_magnitude":
        tol = 1e-3 if tol is None else tol
        upper = 100.0 if upper is None else upper
    else:
        tol = 1e-3 * se if tol is None else tol
        upper = 100.0 * se if upper is None else upper

    def covers_zero(bound: float) -> bool:
        lows, highs = _honest_intervals(betahat, sigma, n_pre, n_post, l_vec, method, [bound], alpha)
        return bool(lows[0] <= 0 <= highs[0])

    if covers_zero(0.0):
        return 0.0
    low, high = 0.0, min(1.0 if method == "relative_magnitude" else 2 * se, upper)
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


# ============================================================================ Callaway-Sant'Anna


@dataclass(frozen=True, eq=False)
class CallawaySantAnnaResult:
    """Group-time average treatment effects ATT(g, t) (see :func:`callaway_santanna`).

    Attributes
    ----------
    outcome, control_group, base_period
        What was estimated and how.
    group_time
        One row per (group, time): group (adoption year), time, event_time, att, std_error,
        n_treated, n_control.
    n_units
        Units in the balanced panel used.
    n_dropped
        Units left out: observed in some years only, or treated in the first year.
    alpha
        1 - coverage of the pointwise normal intervals.
    """

    outcome: str
    control_group: str
    base_period: str
    group_time: pd.DataFrame = field(repr=False)
    n_units: int = 0
    n_dropped: int = 0
    alpha: float = 0.05
    influence: np.ndarray = field(default=None, repr=False)
    cohort: np.ndarray = field(default=None, repr=False)

    def table(self) -> pd.DataFrame:
        """Group-time table with pointwise normal intervals and p-values."""
        out = self.group_time.copy()
        z = stats.norm.ppf(1 - self.alpha / 2)
        out["statistic"] = out["att"] / out["std_error"]
        out["p_value"] = 2 * stats.norm.sf(out["statistic"].abs())
        out["ci_low"] = out["att"] - z * out["std_error"]
        out["ci_high"] = out["att"] + z * out["std_error"]
        return out

    def _weights_influence(self, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Aggregation weights (group shares) over the cells ``keep`` and their influence terms."""
        groups = self.group_time["group"].to_numpy()[keep]
        share = np.array([np.mean(self.cohort == g) for g in groups])
        weights = share / share.sum()
        indicator = np.column_stack([(self.cohort == g).astype(float) - p for g, p in zip(groups, share, strict=True)])
        total = share.sum()
        first = indicator / total
        second = indicator.sum(axis=1, keepdims=True) * (share / total**2)[None, :]
        return weights, first - second

    def _aggregate(self, keep: np.ndarray) -> tuple[float, np.ndarray]:
        att = self.group_time["att"].to_numpy()[keep]
        weights, weight_influence = self._weights_influence(keep)
        influence = self.influence[:, keep] @ weights + weight_influence @ att
        return float(weights @ att), influence

    def aggregate(self, kind: str = "dynamic", *, min_e: int | None = None,
                  max_e: int | None = None) -> pd.DataFrame:
        """Aggregate the ATT(g, t) (weights proportional to group size, as R's ``did::aggte``).

        ``kind="dynamic"``: one row per event time ``e = t - g`` (term ``event<e>``), averaging
        ATT(g, g+e) over the groups observed at ``e``, plus a row ``average_post`` (mean of the
        ``e >= 0`` effects). ``kind="simple"``: one row ``simple`` averaging all post-adoption
        cells. Standard errors include the estimation of the weights (influence functions).

        Returns
        -------
        DataFrame
            term, event_time, estimate, std_error, statistic, p_value, ci_low, ci_high.
        """
        check_choice("kind", kind, ("dynamic", "simple"))
        gt = self.group_time
        event = gt["event_time"].to_numpy()
        n = self.influence.shape[0]
        z = stats.norm.ppf(1 - self.alpha / 2)
        rows = []

        def add(term, e, estimate, influence):
            se = math.sqrt(float(np.sum(influence**2))) / n
            rows.append({"term": term, "event_time": e, "estimate": estimate, "std_error": se,
                         "statistic": estimate / se if se > 0 else np.nan,
                         "p_value": float(2 * stats.norm.sf(abs(estimate / se))) if se > 0 else np.nan,
                         "ci_low": estimate - z * se, "ci_high": estimate + z * se})

        if kind == "simple":
            keep = np.flatnonzero(event >= 0)
            estimate, influence = self._aggregate(keep)
            add("simple", np.nan, estimate, influence)
        else:
            lo = event.min() if min_e is None else min_e
            hi = event.max() if max_e is None else max_e
            post_influence, post_estimates = [], []
            for e in sorted(set(int(v) for v in event)):
                if not lo <= e <= hi:
                    continue
                keep = np.flatnonzero(event == e)
                estimate, influence = self._aggregate(keep)
                add(f"event{e}", e, estimate, influence)
                if e >= 0:
                    post_estimates.append(estimate)
                    post_influence.append(influence)
            if post_estimates:
                add("average_post", np.nan, float(np.mean(post_estimates)), np.mean(post_influence, axis=0))
        return pd.DataFrame(rows, columns=["term", "event_time", "estimate", "std_error", "statistic",
                                           "p_value", "ci_low", "ci_high"])


def callaway_santanna(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    control_group: str = "never_treated",
    base_period: str = "varying",
    alpha: float = 0.05,
) -> CallawaySantAnnaResult:
    """Callaway and Sant'Anna (2021) group-time ATTs, without covariates.

    ``ATT(g, t)`` compares the change in the outcome of the units first treated in year ``g``
    from a base year to year ``t`` with the same change among comparison units: the
    never-treated (``control_group="never_treated"``), or the never-treated plus those not yet
    treated by ``max(t, base year)`` (``"not_yet_treated"``). The base year is ``g - 1`` for
    ``t >= g``; before adoption it is ``t - 1`` (``base_period="varying"``, R's default) or
    ``g - 1`` (``"universal"``; the cell ``t = g - 1`` is then the reference and is left out).
    Without covariates this is the outcome-regression, IPW and doubly-robust estimator of R's
    ``did`` package alike. Standard errors come from the influence functions (R's
    ``bstrap = FALSE``); intervals are pointwise.

    As R's ``did``: the panel is made balanced (units missing a year are dropped), units
    treated in the first year are dropped, and adoption years after the last year count as
    never treated. The counts are in the result.

    Parameters
    ----------
    data
        Unit-by-year panel; not modified.
    outcome, unit, time
        Columns.
    first_treated
        Adoption year (empty, NaN or 0 for never treated).
    control_group
        ``"never_treated"`` or ``"not_yet_treated"``.
    base_period
        ``"varying"`` or ``"universal"``.
    alpha
        1 - coverage.

    Examples
    --------
    >>> from payreform.synth import ccmc
    >>> panel = ccmc.generate(seed=1, staggered=True)
    >>> cs = callaway_santanna(panel, outcome="outpatient_cost_per_visit", unit="county_id",
    ...                        time="year", first_treated="first_treated")
    >>> cs.aggregate("dynamic")["term"].tolist()[:2]
    ['event-2', 'event-1']
    """
    check_choice("control_group", control_group, CONTROL_GROUPS)
    check_choice("base_period", base_period, BASE_PERIODS)
    panel = validate_panel(data, unit=unit, time=time, outcomes=[outcome], first_treated=first_treated,
                           require_never_treated=False)
    frame = panel.frame.dropna(subset=[outcome])
    years = panel.years
    counts = frame.groupby("unit", sort=False)["year"].transform("size")
    complete = frame.loc[counts == len(years)]
    wide = complete.pivot(index="unit", columns="year", values=outcome)
    cohort = complete.groupby("unit", sort=True)["cohort"].first().reindex(wide.index).to_numpy()
    cohort = np.where(np.isfinite(cohort) & (cohort > years[-1]), np.nan, cohort)
    early = np.isfinite(cohort) & (cohort <= years[0])
    wide, cohort = wide.loc[~early], cohort[~early]
    n_dropped = panel.n_units - len(wide)
    never = ~np.isfinite(cohort)
    if control_group == "never_treated" and not never.any():
        raise ContractError(
            f"no never-treated unit in column '{first_treated}'; use control_group='not_yet_treated'"
        )
    groups = sorted({int(g) for g in cohort[np.isfinite(cohort)]})
    if not groups:
        raise ContractError(f"no unit is treated within {years[0] + 1}-{years[-1]} in column '{first_treated}'")
    values = wide.to_numpy(dtype=float)
    position = {y: i for i, y in enumerate(years)}
    n = len(wide)
    rows, influence = [], []
    for g in groups:
        treated = cohort == g
        for t in (years if base_period == "universal" else years[1:]):
            if base_period == "universal":
                base = g - 1
                if t == base:
                    continue
            else:
                base = g - 1 if t >= g else t - 1
            if base not in position:
                continue
            if control_group == "never_treated":
                control = never
            else:
                latest = max(t, base)
                control = never | (np.isfinite(cohort) & (cohort > latest) & (cohort != g))
            n_t, n_c = int(treated.sum()), int(control.sum())
            if n_t == 0 or n_c == 0:
                continue
            change = values[:, position[t]] - values[:, position[base]]
            mean_t, mean_c = change[treated].mean(), change[control].mean()
            psi = np.zeros(n)
            psi[treated] = (change[treated] - mean_t) * n / n_t
            psi[control] = -(change[control] - mean_c) * n / n_c
            rows.append({"group": g, "time": t, "event_time": t - g, "att": mean_t - mean_c,
                         "std_error": math.sqrt(float(psi @ psi)) / n, "n_treated": n_t, "n_control": n_c})
            influence.append(psi)
    if not rows:
        raise ContractError("no group-time effect can be estimated: every group lacks comparison units")
    return CallawaySantAnnaResult(
        outcome=outcome, control_group=control_group, base_period=base_period,
        group_time=pd.DataFrame(rows), n_units=n, n_dropped=int(n_dropped), alpha=alpha,
        influence=np.column_stack(influence), cohort=np.where(np.isfinite(cohort), cohort, 0.0),
    )


def twfe_vs_callaway_santanna(twfe: EventStudyResult, cs: CallawaySantAnnaResult,
                              alpha: float = 0.05) -> pd.DataFrame:
    """Event-time estimates of the TWFE event study beside the Callaway-Sant'Anna aggregation.

    Returns one row per event time: term, event_time, twfe_estimate, twfe_std_error,
    cs_estimate, cs_std_error. Pre-period rows are comparable only when both use the same
    reference (``event_base=-1`` with ``base_period="universal"``).

    Examples
    --------
    >>> from payreform.synth import ccmc
    >>> panel = ccmc.generate(seed=1, staggered=True)
    >>> keys = dict(outcome="patient_satisfaction", unit="county_id", time="year",
    ...             first_treated="first_treated")
    >>> side = twfe_vs_callaway_santanna(event_study(panel, **keys),
    ...                                  callaway_santanna(panel, **keys, base_period="universal"))
    >>> side["term"].tolist()
    ['event-3', 'event-2', 'event0', 'event1', 'event2', 'event3']
    """
    if twfe.design != "event_time":
        raise ParameterError("the TWFE fit is not an event-time model; fit it with first_treated and several adoption years")
    table = twfe.table(alpha).set_index("term")
    agg = cs.aggregate("dynamic").dropna(subset=["event_time"]).set_index("term")
    terms = sorted(set(twfe.interaction_terms) | set(agg.index),
                   key=lambda t: int(t.removeprefix("event")))
    return pd.DataFrame({
        "term": terms,
        "event_time": [int(t.removeprefix("event")) for t in terms],
        "twfe_estimate": [table.loc[t, "estimate"] if t in table.index else np.nan for t in terms],
        "twfe_std_error": [table.loc[t, "std_error"] if t in table.index else np.nan for t in terms],
        "cs_estimate": [agg.loc[t, "estimate"] if t in agg.index else np.nan for t in terms],
        "cs_std_error": [agg.loc[t, "std_error"] if t in agg.index else np.nan for t in terms],
    })
