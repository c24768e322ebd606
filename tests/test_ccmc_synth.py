"""The synthetic CCMC panel: structure, calibration to the paper, recovery of the planted truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from payreform import did
from payreform.errors import ParameterError
from payreform.synth import ccmc

KEY = dict(unit="county_id", time="year")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return ccmc.generate()


@pytest.fixture(scope="module")
def fits(panel) -> dict[str, did.EventStudyResult]:
    return {o: did.event_study(panel, outcome=o, **KEY, treated="treated", did_base=2020, controls=ccmc.CONTROLS)
            for o in ccmc.OUTCOMES}


def test_shape_columns_and_determinism(panel):
    assert panel.shape == (528 * 5, 2 + 1 + 5 + 7)
    assert list(panel.columns) == ["county_id", "year", "treated", *ccmc.CONTROLS, *ccmc.OUTCOMES]
    assert all(tuple(years) == ccmc.YEARS for years in panel.groupby("county_id")["year"].apply(list))
    assert panel.groupby("county_id")["treated"].nunique().eq(1).all()
    assert panel.groupby("county_id")["treated"].first().sum() == 211  # 40% of 528
    pd.testing.assert_frame_equal(panel, ccmc.generate())
    assert not panel.equals(ccmc.generate(seed=1))
    staggered = ccmc.generate(staggered=True)
    assert "first_treated" in staggered and "treated" not in staggered
    cohorts = staggered.groupby("county_id")["first_treated"].first().value_counts().to_dict()
    assert cohorts == {0: 210, 2019: 106, 2020: 106, 2021: 106}


def test_values_stay_in_their_natural_ranges():
    for staggered in (False, True):
        frame = ccmc.generate(seed=5, staggered=staggered)
        assert frame["inpatient_reimbursement_rate"].between(0, 100).all()
        assert frame[["patient_satisfaction", "provider_satisfaction"]].le(100).all().all()
        assert (frame[["cost_per_discharge", "outpatient_cost_per_visit", "income_county_hospital_staff",
                       "income_primary_care_staff"]] > 0).all().all()
        clipped = sum(((frame[o] <= ccmc.VALUE_RANGE[o][0]) | (frame[o] >= ccmc.VALUE_RANGE[o][1])).sum()
                      for o in ccmc.OUTCOMES)
        assert clipped / (len(frame) * len(ccmc.OUTCOMES)) < 0.005
    controls = ccmc.generate(seed=5)
    assert controls["log_population"].between(10, 16).all()
    assert controls["share_aged_65_plus"].between(3, 30).all()
    assert np.exp(controls["log_gdp_per_capita"]).median() == pytest.approx(48_000, rel=0.25)


def test_truth_and_published_follow_the_paper():
    truth = ccmc.truth().set_index(["outcome", "term"])["value"]
    assert truth[("outpatient_cost_per_visit", "did2022")] == 17.576
    assert truth[("inpatient_reimbursement_rate", "did2021")] == 2.184
    assert truth[("income_county_hospital_staff", "did2018")] == 2.294
    assert truth[("income_primary_care_staff", "year2021")] == -1.195
    assert truth[("patient_satisfaction", "year2022")] == 16.762
    assert truth[("cost_per_discharge", "population_density")] < 0
    assert truth[("inpatient_reimbursement_rate", "share_aged_65_plus")] < 0
    assert len(truth) == 7 * (8 + 5)
    published = ccmc.published()
    printed = published.dropna(subset=["estimate"]).set_index(["outcome", "term"])["estimate"]
    assert printed.equals(truth[printed.index].rename("estimate"))  # printed values are planted as they are
    assert published.query("outcome == 'income_county_hospital_staff' and term == 'did2019'")["significance"].item() == "**"
    staggered = ccmc.truth(staggered=True).set_index(["outcome", "term"])["value"]
    # event 3 is observed for the 2019 cohort only: effect * scale(2019) * 4
    assert staggered[("outpatient_cost_per_visit", "event3")] == pytest.approx(15.0 * ccmc.COHORT_SCALE[2019] * 4)
    assert staggered[("outpatient_cost_per_visit", "event-2")] == 0.0
    event0 = np.average([15.0 * s for s in ccmc.COHORT_SCALE.values()], weights=[106, 106, 106])
    assert staggered[("outpatient_cost_per_visit", "event0")] == pytest.approx(event0)


def test_baseline_table_density_lower_in_treated_counties(panel):
    table = did.balance_table(panel, **KEY, treated="treated", variables=list(ccmc.CONTROLS)).table()
    baseline = table[(table["year"] == 2018) & (table["comparison"] == "treated vs control")].set_index("variable")
    assert baseline.loc["population_density", "difference"] < 0
    assert baseline.loc["population_density", "p_value"] < 0.05
    others = baseline.drop(index="population_density")
    assert (others["p_value"] > 0.05).all()  # as in Table 1: only density differs in 2018
    significant = 0
    for seed in range(20):
        frame = ccmc.generate(seed=seed)
        base = frame[frame["year"] == 2018]
        test = stats.ttest_ind(base.loc[base["treated"] == 1, "population_density"],
                               base.loc[base["treated"] == 0, "population_density"], equal_var=False)
        significant += test.pvalue < 0.05 and test.statistic < 0
    assert significant >= 17


def test_exact_recovery_without_noise():
    """Without errors the fit returns the planted coefficients, up to the rounding of the data
    (outcomes to 0.001, controls to 0.0001)."""
    frame = ccmc.generate(seed=7, noise_scale=0.0)
    truth = ccmc.truth().set_index(["outcome", "term"])["value"]
    for outcome in ccmc.OUTCOMES:
        result = did.event_study(frame, outcome=outcome, **KEY, treated="treated", did_base=2020, controls=ccmc.CONTROLS)
        expected = truth[outcome][result.params.index]
        assert np.max(np.abs(result.params - expected) / np.maximum(1.0, expected.abs())) < 1e-3


def test_estimates_recover_the_truth_within_a_few_standard_errors(fits):
    truth = ccmc.truth().set_index(["outcome", "term"])["value"]
    for outcome, result in fits.items():
        table = result.table().set_index("term")
        z = (table["estimate"] - truth[outcome][table.index]) / table["std_error"]
        assert z.abs().max() < 4, (outcome, z.abs().idxmax())


def test_pre_trends_reject_for_income_only(fits):
    for outcome, result in fits.items():
        test = did.pretrend_test(result)
        if outcome in ccmc.INCOME_OUTCOMES:
            assert test.p_value < 1e-6
            assert all(c.p_value < 0.01 for c in test.individual)  # did2018, did2019 ** as in Table 3
        else:
            assert test.p_value > 0.01, outcome


def test_significance_of_the_paper_s_headline_effects(fits):
    p = {o: r.table().set_index("term")["p_value"] for o, r in fits.items()}
    assert p["outpatient_cost_per_visit"]["did2022"] < 0.05
    assert p["inpatient_reimbursement_rate"]["did2021"] < 0.05
    assert p["income_county_hospital_staff"]["did2021"] < 0.01
    assert p["income_primary_care_staff"]["did2021"] < 0.01
    assert all(p["cost_per_discharge"][t] > 0.05 for t in ("did2018", "did2019", "did2022"))
    assert all(p["provider_satisfaction"][t] > 0.05 for t in ("did2018", "did2019", "did2021", "did2022"))
    assert p["cost_per_discharge"]["population_density"] < 0.01
    assert p["inpatient_reimbursement_rate"]["share_aged_65_plus"] < 0.01


def test_staggered_design_twfe_is_biased_and_callaway_santanna_is_not():
    frame = ccmc.generate(seed=3, staggered=True, noise_scale=0.0)
    truth = ccmc.truth(staggered=True).set_index(["outcome", "term"])["value"]
    noisy = ccmc.generate(seed=3, staggered=True)
    for outcome in ("outpatient_cost_per_visit", "income_county_hospital_staff"):
        cs = did.callaway_santanna(frame, outcome=outcome, **KEY, first_treated="first_treated",
                                   base_period="universal").aggregate("dynamic").set_index("term")
        assert np.max(np.abs(cs["estimate"] - truth[outcome][cs.index])) < 1e-9
        twfe = did.event_study(frame, outcome=outcome, **KEY, first_treated="first_treated")
        se = np.sqrt(np.diag(did.event_study(noisy, outcome=outcome, **KEY,
                                             first_treated="first_treated").cov))
        bias = (twfe.params[twfe.interaction_terms] - truth[outcome][twfe.interaction_terms])
        ratio = bias / pd.Series(se, index=twfe.params.index)[twfe.interaction_terms]
        assert abs(ratio["event-2"]) > 3  # a spurious pre-trend of several standard errors
        assert ratio["event3"] < -1.5  # the long-run effect is understated
        cs_noisy = did.callaway_santanna(noisy, outcome=outcome, **KEY, first_treated="first_treated",
                                         base_period="universal").aggregate("dynamic").set_index("term")
        z = (cs_noisy["estimate"] - truth[outcome][cs_noisy.index]) / cs_noisy["std_error"]
        assert z.abs().max() < 4


@pytest.mark.slow
def test_estimates_are_unbiased_over_many_seeds():
    truth = ccmc.truth().set_index(["outcome", "term"])["value"]
    estimates: dict[str, list[pd.Series]] = {o: [] for o in ccmc.OUTCOMES}
    ses: dict[str, list[pd.Series]] = {o: [] for o in ccmc.OUTCOMES}
    seeds = 40
    for seed in range(seeds):
        frame = ccmc.generate(seed=1000 + seed)
        for outcome in ccmc.OUTCOMES:
            table = did.event_study(frame, outcome=outcome, **KEY, treated="treated", did_base=2020,
                                    controls=ccmc.CONTROLS).table().set_index("term")
            estimates[outcome].append(table["estimate"])
            ses[outcome].append(table["std_error"])
    for outcome in ccmc.OUTCOMES:
        mean = pd.concat(estimates[outcome], axis=1).mean(axis=1)
        spread = pd.concat(estimates[outcome], axis=1).std(axis=1)
        z = (mean - truth[outcome][mean.index]) / (spread / np.sqrt(seeds))
        assert z.abs().max() < 4.5, (outcome, z.abs().idxmax(), z.abs().max())
        # the clustered standard errors estimate the spread over seeds (the spread itself is
        # estimated from 40 draws, about +-11%)
        ratio = pd.concat(ses[outcome], axis=1).mean(axis=1) / spread
        assert 0.85 < ratio.median() < 1.15 and ratio.between(0.6, 1.6).all(), (outcome, ratio.round(2).to_dict())


@pytest.mark.slow
def test_clustered_intervals_cover_at_the_nominal_rate():
    """Coverage of the 95% intervals of did2021 and did2022 over 200 panels (2,800 intervals, Monte
    Carlo error 0.4 points); bench/did_coverage.py runs 500."""
    truth = ccmc.truth().set_index(["outcome", "term"])["value"]
    covered = []
    for seed in range(200):
        frame = ccmc.generate(seed=50_000 + seed)
        for outcome in ccmc.OUTCOMES:
            table = did.event_study(frame, outcome=outcome, **KEY, treated="treated", did_base=2020,
                                    controls=ccmc.CONTROLS).table().set_index("term")
            for term in ("did2021", "did2022"):
                covered.append(table.loc[term, "ci_low"] <= truth[(outcome, term)] <= table.loc[term, "ci_high"])
    assert 0.93 <= np.mean(covered) <= 0.97


def test_parameter_errors():
    with pytest.raises(ParameterError, match="parameter 'seed'"):
        ccmc.generate(seed=-1)
    with pytest.raises(ParameterError, match="parameter 'noise_scale'"):
        ccmc.generate(noise_scale=-1.0)
    with pytest.raises(ParameterError, match="parameter 'staggered'"):
        ccmc.generate(staggered="yes")
