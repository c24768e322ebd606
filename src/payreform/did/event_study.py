"""The event-study difference-in-differences: within-unit OLS with clustered standard errors.

The model (the CCMC bundled-payment study, book/references.bib ``ccmc_bundled``) is

    Y_it = a + sum_{t != year_base} year_t + sum_{t != did_base} did_t * (treat_i x year_t)
           + X_it' theta + mu_i + e_it,

with unit fixed effects ``mu_i`` removed by the within transformation (so ``treat_i`` and ``a``
are absorbed). ``year_t`` are the control group's changes since ``year_base``; ``did_t`` is the
treated-control gap in year ``t`` minus the gap in ``did_base``. With ``did_base`` the adoption
year, the ``did_t`` before it are the parallel-trend checks and those after it the effects.
Term names follow the paper: ``year2019``..., ``did2018``..., then the control names;
:func:`term_label` gives their readable names ("treated x 2018").

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

Staggered adoption
------------------
Give ``first_treated`` (adoption year; empty, NaN or 0 = never treated) instead of ``treated``.
If all adopters share one year, the model above is fitted with ``treat_i = 1`` for them and
that year as the default ``did_base``. If adoption years differ, :func:`event_study` fits the
dynamic two-way fixed-effects regression in *event time*: indicators ``event<k>`` for
``k = year - adoption year`` (``event-3`` ... ``event0``, ``event1`` ...), ``k = event_base``
(default -1) omitted, never-treated units all zero, plus the year dummies. With heterogeneous
effects across adoption cohorts this regression is biased (already-treated units act as
controls; Sun and Abraham 2021); :func:`payreform.did.callaway_santanna` is not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg

from payreform.contracts import validate_panel
from payreform.errors import ContractError, ParameterError, check_choice
from payreform.inference import TABLE_COLUMNS, LinearCombination, linear_combination

__all__ = ["SE_TYPES", "EventStudyResult", "event_study", "term_label"]

SE_TYPES = ("cluster", "iid")
"""Standard-error conventions of :func:`event_study`."""

_TERM = re.compile(r"^(year|did|event)(-?\d+)$")


def term_label(term: str) -> str:
    """A readable name for a model term, for tables and reports.

    ``did2014`` -> "treated × 2014", ``year2014`` -> "year 2014", ``event1`` -> "event time +1",
    ``event-2`` -> "event time -2", ``average`` -> "average of the post-period terms"; any
    other name (a control) is returned unchanged.

    Examples
    --------
    >>> [term_label(t) for t in ("did2014", "year2014", "event1", "event-2", "event0", "share_65")]
    ['treated × 2014', 'year 2014', 'event time +1', 'event time -2', 'event time 0', 'share_65']
    """
    if term in ("average", "average_post"):
        return "average of the post-period terms"
    match = _TERM.match(str(term))
    if not match:
        return str(term)
    kind, number = match.group(1), int(match.group(2))
    if kind == "did":
        return f"treated × {number}"
    if kind == "year":
        return f"year {number}"
    return f"event time {number:+d}" if number else "event time 0"


def _whole_number(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"parameter '{name}' is {value!r}; use a whole number (a year such as 2015)")
    return int(value)


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
        >>> from payreform.synth import ccmc
        >>> fit = event_study(ccmc.generate(seed=2, noise_scale=0.0), outcome="patient_satisfaction",
        ...                   unit="county_id", time="year", treated="treated", did_base=2020)
        >>> round(fit.combination({"did2021": 0.5, "did2022": 0.5}, "average_post").estimate, 2)
        -0.65
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

    def summary(self) -> str:
        """Two lines: what was fitted, then the interaction terms with their 95% intervals.

        Examples
        --------
        >>> from payreform.synth import ccmc
        >>> fit = event_study(ccmc.generate(seed=2), outcome="patient_satisfaction",
        ...                   unit="county_id", time="year", treated="treated", did_base=2020)
        >>> print(fit.summary().splitlines()[0])
        patient_satisfaction: event study on 528 units (211 treated), 2018-2022, 2640 rows; year base 2018, reference year 2020; clustered SEs, t(527)
        """
        reference = (f"reference year {self.did_base}" if self.design == "common_adoption"
                     else f"reference event time {self.event_base}")
        kind = "clustered SEs" if self.se_type.startswith("cluster") else "conventional SEs"
        head = (f"{self.outcome}: event study on {self.n_units} units ({self.n_treated_units} treated), "
                f"{self.years[0]}-{self.years[-1]}, {self.n_obs} rows; year base {self.year_base}, "
                f"{reference}; {kind}, t({self.df_resid})")
        table = self.table().set_index("term")
        terms = [f"{t} {table.loc[t, 'estimate']:.4g} [{table.loc[t, 'ci_low']:.4g}, "
                 f"{table.loc[t, 'ci_high']:.4g}]" for t in self.interaction_terms]
        return head + "\n" + "; ".join(terms)

    def __repr__(self) -> str:
        return (f"EventStudyResult(outcome={self.outcome!r}, design={self.design!r}, "
                f"terms={len(self.params)}, n_obs={self.n_obs}, n_units={self.n_units})")


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
    year_base: int | None = None,
    did_base: int | None = None,
    cluster: str | None = None,
    se: str = "cluster",
    event_base: int = -1,
) -> EventStudyResult:
    """Fit the event-study DID with unit fixed effects and clustered standard errors.

    Parameters
    ----------
    data
        Unit-by-year panel (long format); validated with
        :func:`payreform.contracts.validate_panel`; not modified.
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
        Year whose dummy is omitted; default: the first year of the fit (the paper's choice).
    did_base
        Year whose interaction is omitted; default: the adoption year when the data carry it
        (``first_treated`` with one adoption year); a 0/1 ``treated`` column needs it set.
        Not used by the event-time model.
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
    ...                   time="year", treated="treated", controls=ccmc.CONTROLS, did_base=2020)
    >>> fit.table()["term"].tolist()[:5]
    ['year2019', 'year2020', 'year2021', 'year2022', 'did2018']
    >>> fit.year_base, fit.pre_terms, fit.post_terms
    (2018, ['did2018', 'did2019'], ['did2021', 'did2022'])
    """
    check_choice("se", se, SE_TYPES)
    year_base = _whole_number("year_base", year_base)
    did_base = _whole_number("did_base", did_base)
    if _whole_number("event_base", event_base) is None:
        raise ParameterError("parameter 'event_base' is None; use a whole number such as -1")
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
    if year_base is None:
        year_base = years[0]
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
        if did_base is None:
            if len(cohorts) != 1:
                raise ParameterError(
                    f"parameter 'did_base' is needed: column '{treated}' marks the treated units but "
                    "not the year they adopted; set did_base to the adoption year, one of "
                    f"{', '.join(map(str, years))}"
                )
            did_base = cohorts[0]
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

