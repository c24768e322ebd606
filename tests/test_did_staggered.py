"""Staggered adoption end to end on a public panel: moderndid's `mpdta` (county teen employment,
2003-2007, adoption in 2004, 2006 or 2007, `first.treat` = 0 for never treated).

Event-time TWFE against pyfixest and linearmodels; HonestDiD on event-time terms against
moderndid's port of the R package (smoothness: exact; relative magnitudes: with moderndid's
choice of locations) and against brute force (breakdown values); defaults derived from the data
(no year typed anywhere in the calls below)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from payreform import did
from payreform.contracts import validate_panel
from payreform.did.honest import _rm_interval

KEYS = dict(outcome="lemp", unit="countyreal", time="year", first_treated="first.treat")


def close(a, b, tol):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) <= tol


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    import moderndid

    return moderndid.load_mpdta().to_pandas()


@pytest.fixture(scope="module")
def twfe(mpdta) -> did.EventStudyResult:
    return did.event_study(mpdta, **KEYS)


def event_dummies(frame: pd.DataFrame, result: did.EventStudyResult) -> tuple[pd.DataFrame, list[str]]:
    """The event-time and year indicators written out, with formula-safe names."""
    out = frame.copy()
    relative = out["year"] - out["first.treat"]
    names = []
    for term, k in result.interaction_periods.items():
        name = term.replace("-", "m")
        out[name] = ((out["first.treat"] > 0) & (relative == k)).astype(float)
        names.append(name)
    for term in result.year_terms:
        out[term] = (out["year"] == int(term[4:])).astype(float)
        names.append(term)
    return out, names


def test_defaults_come_from_the_data(mpdta):
    panel = validate_panel(mpdta, unit="countyreal", time="year", outcomes=["lemp"], first_treated="first.treat")
    defaults = did.design_defaults(panel)
    assert defaults.staggered and defaults.adoption_year is None and defaults.did_base is None
    assert defaults.year_base == min(mpdta["year"])
    assert defaults.first_post_term == "event0" and defaults.event_base == -1
    assert defaults.balance_years == (min(mpdta["year"]), max(mpdta["year"]))
    cohorts = sorted(set(mpdta["first.treat"]) - {0})
    assert did.event_times(panel) == tuple(range(min(mpdta["year"]) - cohorts[-1],
                                                 max(mpdta["year"]) - cohorts[0] + 1))


def test_event_time_twfe_matches_pyfixest_and_linearmodels(mpdta, twfe):
    import pyfixest as pf
    from linearmodels import PanelOLS

    assert twfe.design == "event_time" and twfe.event_base == -1 and twfe.year_base == min(mpdta["year"])
    assert twfe.pre_terms == ["event-4", "event-3", "event-2"]
    assert twfe.post_terms == ["event0", "event1", "event2", "event3"]
    frame, names = event_dummies(mpdta, twfe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixest = pf.feols("lemp ~ " + " + ".join(names) + " | countyreal", data=frame, vcov={"CRV1": "countyreal"})
    ours = twfe.params.rename(lambda t: t.replace("-", "m"))
    assert close(ours, fixest.coef()[ours.index], 1e-8)
    assert close(np.sqrt(np.diag(twfe.cov)), fixest.se()[ours.index], 1e-6)
    data = frame.set_index(["countyreal", "year"]).assign(const=1.0)
    panel_ols = PanelOLS(data["lemp"], data[["const", *names]], entity_effects=True).fit(
        cov_type="clustered", cluster_entity=True, group_debias=True)
    assert close(ours, panel_ols.params[ours.index], 1e-8)
    assert close(np.sqrt(np.diag(twfe.cov)), panel_ols.std_errors[ours.index], 1e-6)


def test_honest_did_runs_on_event_time_terms(twfe):
    sens = did.honest_did(twfe, mbar=(0, 0.5, 1))
    assert sens.target == "event0"  # the first post-period term, by default
    assert sens.pre_terms == ("event-4", "event-3", "event-2")
    assert sens.post_terms == ("event0", "event1", "event2", "event3")
    assert sens.n_pre == 3 and sens.n_post == 4
    betahat = twfe.params[list(sens.pre_terms + sens.post_terms)].to_numpy()
    assert close(sens.betahat, betahat, 1e-12)
    # the Mbar = 0 set contains the estimate, and the sets widen with Mbar
    assert sens.ci_low[0] <= twfe.params["event0"] <= sens.ci_high[0]
    assert np.all(np.diff(sens.ci_low) <= 1e-12) and np.all(np.diff(sens.ci_high) >= -1e-12)


def test_event_time_smoothness_matches_moderndid(twfe):
    from moderndid.didhonest import create_sensitivity_results_sm

    for post_term in ("event0", "event1"):
        sens = did.honest_did(twfe, post_term=post_term, restriction="smoothness", m=[0.0, 0.01, 0.02])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = create_sensitivity_results_sm(
                betahat=sens.betahat, sigma=sens.sigma, num_pre_periods=3, num_post_periods=4,
                m_vec=[0.0, 0.01, 0.02], l_vec=sens.l_vec).to_pandas()
        # M > 0: the same intervals
        assert np.max(np.abs(np.array(sens.ci_low[1:]) - theirs["lb"][1:])) < 1e-6
        assert np.max(np.abs(np.array(sens.ci_high[1:]) - theirs["ub"][1:])) < 1e-6
        # M = 0: the best linear extrapolation, solved exactly here and by a numerical optimiser
        # in moderndid: ours is no longer (and at most 1e-6 shorter), its centre within 1e-4
        ours_length, their_length = sens.ci_high[0] - sens.ci_low[0], theirs["ub"][0] - theirs["lb"][0]
        assert their_length - 1e-6 <= ours_length <= their_length + 1e-12
        assert sens.ci_low[0] == pytest.approx(theirs["lb"][0], abs=1e-4)


@pytest.mark.slow
def test_event_time_relative_magnitudes_match_moderndid_with_its_locations(twfe):
    """moderndid 0.2.0 leaves the earliest pre-period difference out of the maximum (see
    tests/test_did.py); with the same locations the sets agree within its grid step."""
    from moderndid.didhonest import create_sensitivity_results_rm

    sens = did.honest_did(twfe, mbar=[1.0])
    sd = math.sqrt(sens.l_vec @ sens.sigma[3:, 3:] @ sens.l_vec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = create_sensitivity_results_rm(betahat=sens.betahat, sigma=sens.sigma, num_pre_periods=3,
                                               num_post_periods=4, m_bar_vec=[1.0], l_vec=sens.l_vec,
                                               grid_points=4000).to_pandas()
    low, high = _rm_interval(sens.betahat, sens.sigma, 3, 4, sens.l_vec, 1.0, 0.05, locations=range(-1, 1))
    width = float(theirs["ub"][0] - theirs["lb"][0])
    step = 2 * width / 3999
    assert abs(low - theirs["lb"][0]) < 3 * step + 0.01 * sd
    assert abs(high - theirs["ub"][0]) < 3 * step + 0.01 * sd
    assert sens.ci_low[0] <= low + 1e-12 and sens.ci_high[0] >= high - 1e-12


def test_breakdown_values_on_event_time_terms_by_brute_force(twfe):
    """The breakdown value is where the robust set first contains zero: just below it the set
    excludes zero, at it the set contains zero (checked by recomputing the sets)."""
    for post_term in ("event1", "event2"):
        sens = did.honest_did(twfe, post_term=post_term, mbar=[0.0])
        assert not sens.ci_low[0] <= 0 <= sens.ci_high[0]  # significant under parallel trends
        value = did.breakdown_value(sens)
        assert 0 < value < math.inf
        around = did.honest_did(twfe, post_term=post_term, mbar=[max(value - 0.002, 0.0), value])
        assert not around.ci_low[0] <= 0 <= around.ci_high[0]
        assert around.ci_low[1] <= 0 <= around.ci_high[1]
        assert did.breakdown_value(twfe, post_term=post_term) == pytest.approx(value, abs=1e-12)


def test_callaway_santanna_side_by_side_with_a_universal_base(mpdta, twfe):
    cs = did.callaway_santanna(mpdta, **KEYS, base_period="universal")
    side = did.twfe_vs_callaway_santanna(twfe, cs).set_index("term")
    assert list(side.index) == ["event-4", "event-3", "event-2", "event0", "event1", "event2", "event3"]
    import moderndid
    import polars as pl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = moderndid.att_gt(data=pl.from_pandas(mpdta), yname="lemp", tname="year", idname="countyreal",
                                  gname="first.treat", est_method="reg", boot=False, base_period="universal")
        dynamic = moderndid.aggte(theirs, type="dynamic", boot=False)
    reference = pd.Series(np.asarray(dynamic.att_by_event), index=np.asarray(dynamic.event_times))
    for _term, row in side.iterrows():
        assert row["cs_estimate"] == pytest.approx(reference[row["event_time"]], abs=1e-10)
