"""Staggered adoption: Callaway and Sant'Anna (2021) group-time effects beside two-way fixed effects.

With adoption in different years, the two-way fixed-effects event study
(:func:`payreform.did.event_study` with several adoption years) uses already-treated units as
controls, and with effects that differ by cohort or grow with time its coefficients are
weighted mixtures of effects, with weights that can be negative (Sun and Abraham 2021). The
estimator of Callaway and Sant'Anna compares each adoption cohort only with never-treated (or
not-yet-treated) units. :func:`twfe_vs_callaway_santanna` puts the two side by side with the
same reference (the year before adoption), so that pre-period rows compare like with like.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from payreform.contracts import validate_panel
from payreform.did.event_study import EventStudyResult, event_study, term_label
from payreform.errors import ContractError, ParameterError, check_choice

__all__ = ["BASE_PERIODS", "CONTROL_GROUPS", "CallawaySantAnnaResult", "StaggeredComparison", "callaway_santanna",
           "staggered_comparison", "twfe_vs_callaway_santanna"]

CONTROL_GROUPS = ("never_treated", "not_yet_treated")
"""Comparison units of :func:`callaway_santanna`."""
BASE_PERIODS = ("varying", "universal")
"""Base periods of :func:`callaway_santanna` before adoption."""


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

    def diagnostics(self) -> dict:
        """Choices and sample sizes (for ``results.json``)."""
        return {"outcome": self.outcome, "control_group": self.control_group, "base_period": self.base_period,
                "n_units": self.n_units, "n_dropped": self.n_dropped, "n_group_time": len(self.group_time),
                "groups": sorted(int(g) for g in self.group_time["group"].unique())}

    def summary(self) -> str:
        """One line: what was estimated, then the event-time aggregation with 95% intervals."""
        dynamic = self.aggregate("dynamic")
        terms = "; ".join(f"{r.term} {r.estimate:.4g} [{r.ci_low:.4g}, {r.ci_high:.4g}]"
                          for r in dynamic.itertuples())
        groups = ", ".join(str(g) for g in self.diagnostics()["groups"])
        return (f"{self.outcome}: Callaway-Sant'Anna, adoption cohorts {groups}, {self.control_group.replace('_', ' ')}"
                f" comparisons, {self.base_period} base, {self.n_units} units\n{terms}")

    def __repr__(self) -> str:
        return (f"CallawaySantAnnaResult(outcome={self.outcome!r}, control_group={self.control_group!r}, "
                f"base_period={self.base_period!r}, cells={len(self.group_time)})")

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

    Both must measure every event time against the same reference, the year before adoption:
    the TWFE fit with ``event_base=-1`` and the Callaway-Sant'Anna estimates with
    ``base_period="universal"``. (With R's default varying base, CS pre-period terms are
    year-on-year changes, not gaps relative to the year before adoption, and pairing them with
    TWFE terms compares unlike things; a ParameterError says so.)

    Returns one row per event time: term, event_time, twfe_estimate, twfe_std_error,
    cs_estimate, cs_std_error; the reference event time -1 is left out (0 in both).

    Examples
    --------
    >>> from payreform.did import event_study
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
        raise ParameterError(
            "the TWFE fit is not an event-time model; fit it with first_treated and several adoption years"
        )
    if twfe.event_base != -1:
        raise ParameterError(
            f"the TWFE fit uses event_base {twfe.event_base}; refit it with event_base=-1 (the year before "
            "adoption, the reference of Callaway-Sant'Anna's universal base)"
        )
    if cs.base_period != "universal":
        raise ParameterError(
            "the Callaway-Sant'Anna estimates use base_period='varying'; refit with base_period='universal' "
            "so that both estimators measure each event time against the year before adoption"
        )
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


@dataclass(frozen=True, eq=False)
class StaggeredComparison:
    """Two-way fixed effects beside Callaway-Sant'Anna for several outcomes (see
    :func:`staggered_comparison`).

    ``sides`` maps each outcome to its side-by-side table; ``notes`` the outcomes for which
    Callaway-Sant'Anna could not be estimated to the reason; ``shown`` is the outcome a report
    shows; ``source`` says where the panel came from.
    """

    source: str
    shown: str
    sides: dict = field(default_factory=dict, repr=False)
    cs: dict = field(default_factory=dict, repr=False)
    twfe: dict = field(default_factory=dict, repr=False)
    cohorts: tuple[int, ...] = ()
    n_units: int = 0
    notes: dict = field(default_factory=dict)

    def side(self, outcome: str | None = None) -> pd.DataFrame:
        """The side-by-side table of one outcome (default: the one shown)."""
        return self.sides[outcome or self.shown]

    def diagnostics(self) -> dict:
        """Source, outcome shown, adoption years, units and what could not be estimated."""
        return {"source": self.source, "outcome": self.shown, "cohorts": list(self.cohorts),
                "units": self.n_units, "not_run": dict(self.notes)}

    def summary(self) -> str:
        """One line per outcome: the largest TWFE - CS gap after adoption in TWFE standard errors."""
        lines = []
        for outcome, side in self.sides.items():
            post = side[side["event_time"] >= 0]
            gap = ((post["twfe_estimate"] - post["cs_estimate"]).abs() / post["twfe_std_error"]).max()
            lines.append(f"{outcome}: TWFE and CS differ by up to {gap:.2f} standard errors after adoption")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"StaggeredComparison(source={self.source!r}, outcomes={list(self.sides)}, cohorts={list(self.cohorts)})"


def _side_by_side(data, keys, twfe, noise_free, truth):
    twfe = twfe if twfe is not None else event_study(data, **keys)
    cs = callaway_santanna(data, **keys, base_period="universal", control_group="never_treated")
    side = twfe_vs_callaway_santanna(twfe, cs)
    side.insert(1, "label", [term_label(t) for t in side["term"]])
    if noise_free is not None:
        side["twfe_noise_free"] = side["term"].map(event_study(noise_free, **keys).params)
        clean = callaway_santanna(noise_free, **keys, base_period="universal").aggregate("dynamic")
        side["cs_noise_free"] = side["term"].map(clean.set_index("term")["estimate"])
    if truth is not None:
        side["truth"] = side["term"].map(dict(truth))
    return side, cs, twfe


def staggered_comparison(
    data: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    unit: str,
    time: str,
    first_treated: str,
    twfe: Mapping[str, EventStudyResult] | None = None,
    noise_free: pd.DataFrame | None = None,
    truth: pd.DataFrame | None = None,
    shown: str | None = None,
    source: str = "data",
) -> StaggeredComparison:
    """Two-way fixed effects and Callaway-Sant'Anna (never treated, universal base) side by side.

    For each outcome: the :func:`twfe_vs_callaway_santanna` table with a readable ``label``
    column. ``twfe`` reuses event studies already fitted on ``data``. For synthetic data,
    ``noise_free`` (the same design generated without noise) adds the columns ``twfe_noise_free``
    and ``cs_noise_free`` (what each estimator converges to: their distance from the truth is
    bias, not chance), and ``truth`` (columns outcome, term, value) a ``truth`` column. An
    outcome for which Callaway-Sant'Anna cannot be estimated is noted, not raised.

    Examples
    --------
    >>> from payreform.synth import ccmc
    >>> keys = dict(unit="county_id", time="year", first_treated="first_treated")
    >>> comparison = staggered_comparison(ccmc.generate(seed=1, staggered=True), outcomes=["patient_satisfaction"],
    ...                                   noise_free=ccmc.generate(seed=1, staggered=True, noise_scale=0.0),
    ...                                   **keys)
    >>> side = comparison.side()
    >>> list(side.columns)[:3], "cs_noise_free" in side
    (['term', 'label', 'event_time'], True)
    """
    sides, cs_fits, fits, notes = {}, {}, {}, {}
    for outcome in outcomes:
        planted = None if truth is None else truth[truth["outcome"] == outcome].set_index("term")["value"]
        keys = {"outcome": outcome, "unit": unit, "time": time, "first_treated": first_treated}
        try:
            sides[outcome], cs_fits[outcome], fits[outcome] = _side_by_side(
                data, keys, (twfe or {}).get(outcome), noise_free, planted)
        except (ContractError, ParameterError) as error:
            notes[outcome] = str(error)
    panel = validate_panel(data, unit=unit, time=time, outcomes=list(outcomes), first_treated=first_treated,
                           require_never_treated=False)
    cohorts = tuple(c for c in panel.adoption_years if c <= panel.years[-1])
    shown = shown if shown in sides else next(iter(sides), list(outcomes)[0])
    return StaggeredComparison(source=source, shown=shown, sides=sides, cs=cs_fits, twfe=fits, cohorts=cohorts,
                               n_units=panel.n_units, notes=notes)
