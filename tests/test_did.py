"""Event-study DID, pre-trend F test, balance table, HonestDiD and Callaway-Sant'Anna.

Cross-checks: pyfixest (CRV1) and linearmodels' PanelOLS on the synthetic CCMC panel and on the
public wage panel; a clustered covariance written out here in numpy; the conventional errors
of a dummy-variable regression (statsmodels); fixest's printed output (Mixtape Advanced-DID);
the R HonestDiD README example (tests/fixtures/honestdid_example.json); the R did package
README and the Mixtape solutions (tests/fixtures/did_documented_results.json); moderndid's
analytic Callaway-Sant'Anna standard errors and its HonestDiD port.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, stats

from payreform import did, plots
from payreform.did import honest as honest_module
from payreform.did.event_study import _within_ols
from payreform.errors import ContractError, ParameterError
from payreform.synth import ccmc

FIXTURES = Path(__file__).parent / "fixtures"
HONEST = json.loads((FIXTURES / "honestdid_example.json").read_text())
DOCUMENTED = json.loads((FIXTURES / "did_documented_results.json").read_text())
KEY = dict(unit="county_id", time="year")


def close(a, b, tol):
    """Largest difference relative to max(1, |b|) is at most ``tol``."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) <= tol


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return ccmc.generate()


@pytest.fixture(scope="module")
def wage() -> pd.DataFrame:
    from linearmodels.datasets import wage_panel

    return wage_panel.load()


@pytest.fixture(scope="module")
def ehec() -> pd.DataFrame:
    import moderndid

    return moderndid.load_ehec().to_pandas()


def with_dummies(frame: pd.DataFrame, result: did.EventStudyResult, treated: str, time: str) -> pd.DataFrame:
    """The design's year and interaction columns written out, for the other packages."""
    out = frame.copy()
    for term, year in ((t, int(t[4:])) for t in result.year_terms):
        out[term] = (out[time] == year).astype(float)
    for term, year in result.interaction_periods.items():
        out[term] = out[treated] * (out[time] == year)
    return out


def pyfixest_fit(frame, result, outcome, unit, vcov):
    import pyfixest as pf

    formula = f"{outcome} ~ " + " + ".join(result.params.index) + f" | {unit}"
    return pf.feols(formula, data=frame, vcov=vcov)


def panelols_fit(frame, result, outcome, unit, time, **options):
    from linearmodels import PanelOLS

    data = frame.set_index([unit, time]).assign(const=1.0)
    # A constant makes K count the intercept as Stata's xtreg does; debiased (default) and
    # group_debias give the CRV1 factor G/(G-1) (N-1)/(N-K-1).
    return PanelOLS(data[outcome], data[["const", *result.params.index]], entity_effects=True).fit(**options)


# ============================================================================ estimator vs others


@pytest.mark.parametrize("outcome", ["outpatient_cost_per_visit", "income_county_hospital_staff",
                                     "inpatient_reimbursement_rate"])
def test_synthetic_panel_matches_pyfixest_and_linearmodels(panel, outcome):
    result = did.event_study(panel, outcome=outcome, **KEY, treated="treated", did_base=2020, controls=ccmc.CONTROLS)
    frame = with_dummies(panel, result, "treated", "year")
    fixest = pyfixest_fit(frame, result, outcome, "county_id", {"CRV1": "county_id"})
    ours_se = np.sqrt(np.diag(result.cov))
    assert close(result.params, fixest.coef()[result.params.index], 1e-8)
    assert close(ours_se, fixest.se()[result.params.index], 1e-6)
    assert close(result.table()["p_value"], fixest.pvalue()[result.params.index], 1e-6)
    assert result.df_resid == 527 == result.n_clusters - 1
    panel_ols = panelols_fit(frame, result, outcome, "county_id", "year", cov_type="clustered",
                             cluster_entity=True, group_debias=True)
    assert close(result.params, panel_ols.params[result.params.index], 1e-8)
    assert close(ours_se, panel_ols.std_errors[result.params.index], 1e-6)
    # linearmodels' default clustered errors omit G/(G-1) (N-1)/N: they differ, as they should
    default = panelols_fit(frame, result, outcome, "county_id", "year", cov_type="clustered", cluster_entity=True)
    assert not close(ours_se, default.std_errors[result.params.index], 1e-4)


def test_unbalanced_panel_matches_pyfixest_and_is_reported(panel):
    rows = panel.sample(frac=0.93, random_state=5).reset_index(drop=True)
    rows.loc[rows.index[:7], "patient_satisfaction"] = np.nan
    result = did.event_study(rows, outcome="patient_satisfaction", **KEY, treated="treated", did_base=2020, controls=ccmc.CONTROLS)
    assert not result.balanced and result.n_dropped_missing == 7
    assert result.n_obs == len(rows) - 7
    frame = with_dummies(rows.dropna(subset=["patient_satisfaction"]), result, "treated", "year")
    fixest = pyfixest_fit(frame, result, "patient_satisfaction", "county_id", {"CRV1": "county_id"})
    assert close(result.params, fixest.coef()[result.params.index], 1e-8)
    assert close(np.sqrt(np.diag(result.cov)), fixest.se()[result.params.index], 1e-6)


def test_public_wage_panel_matches_pyfixest_and_linearmodels(wage):
    controls = ["hours", "married", "union", "expersq"]
    result = did.event_study(wage, outcome="lwage", unit="nr", time="year", treated="black", controls=controls,
                             year_base=1980, did_base=1983)
    assert result.n_units == 545 and result.n_obs == 4360 and result.balanced
    assert result.interaction_terms == ["did1980", "did1981", "did1982", "did1984", "did1985", "did1986", "did1987"]
    frame = with_dummies(wage, result, "black", "year")
    fixest = pyfixest_fit(frame, result, "lwage", "nr", {"CRV1": "nr"})
    assert close(result.params, fixest.coef()[result.params.index], 1e-8)
    assert close(np.sqrt(np.diag(result.cov)), fixest.se()[result.params.index], 1e-6)
    panel_ols = panelols_fit(frame, result, "lwage", "nr", "year", cov_type="clustered", cluster_entity=True,
                             group_debias=True)
    assert close(result.params, panel_ols.params[result.params.index], 1e-8)
    assert close(np.sqrt(np.diag(result.cov)), panel_ols.std_errors[result.params.index], 1e-6)
    iid = did.event_study(wage, outcome="lwage", unit="nr", time="year", treated="black", controls=controls,
                          year_base=1980, did_base=1983, se="iid")
    fixest_iid = pyfixest_fit(frame, result, "lwage", "nr", "iid")
    assert close(np.sqrt(np.diag(iid.cov)), fixest_iid.se()[result.params.index], 1e-6)
    assert iid.df_resid == 4360 - len(result.params) - 545


def test_conventional_errors_equal_the_dummy_variable_regression(panel):
    sub = panel[panel["county_id"] <= 60]
    result = did.event_study(sub, outcome="cost_per_discharge", **KEY, treated="treated", did_base=2020,
                             controls=["population_density"], se="iid")
    frame = with_dummies(sub, result, "treated", "year")
    dummies = pd.get_dummies(frame["county_id"], prefix="c", dtype=float)
    lsdv = sm.OLS(frame["cost_per_discharge"], pd.concat([frame[list(result.params.index)], dummies], axis=1)).fit()
    assert close(result.params, lsdv.params[result.params.index], 1e-8)
    assert close(np.sqrt(np.diag(result.cov)), lsdv.bse[result.params.index], 1e-8)
    assert result.df_resid == int(lsdv.df_resid)
    assert close(result.table()["p_value"], lsdv.pvalues[result.params.index], 1e-8)


def test_clustered_covariance_written_out_term_by_term(panel):
    sub = panel[panel["county_id"] <= 80].copy()
    sub["province"] = (sub["county_id"] - 1) // 7  # 12 clusters of whole counties
    controls = ["log_gdp_per_capita", "share_aged_65_plus"]
    for cluster in (None, "province"):
        result = did.event_study(sub, outcome="outpatient_cost_per_visit", **KEY, treated="treated", did_base=2020,
                                 controls=controls, cluster=cluster)
        frame = with_dummies(sub, result, "treated", "year")
        names = list(result.params.index)
        x = frame[names].to_numpy(float)
        y = frame["outpatient_cost_per_visit"].to_numpy(float)
        xd, yd = x.copy(), y.copy()
        for county in frame["county_id"].unique():
            rows = (frame["county_id"] == county).to_numpy()
            xd[rows] -= x[rows].mean(axis=0)
            yd[rows] -= y[rows].mean()
        beta = np.linalg.inv(xd.T @ xd) @ (xd.T @ yd)
        u = yd - xd @ beta
        groups = frame[cluster or "county_id"].to_numpy()
        meat = np.zeros((len(names), len(names)))
        for g in np.unique(groups):
            s = xd[groups == g].T @ u[groups == g]
            meat += np.outer(s, s)
        n, k, g_count = len(y), len(names), len(np.unique(groups))
        bread = np.linalg.inv(xd.T @ xd)
        brute = g_count / (g_count - 1) * (n - 1) / (n - k - 1) * bread @ meat @ bread
        assert close(result.params, beta, 1e-9)
        assert close(result.cov.to_numpy(), brute, 1e-9)
        assert result.df_resid == g_count - 1
    fixest = pyfixest_fit(frame, result, "outpatient_cost_per_visit", "county_id", {"CRV1": "province"})
    assert close(np.sqrt(np.diag(result.cov)), fixest.se()[result.params.index], 1e-6)


def test_static_twfe_reproduces_fixest_printed_in_the_mixtape_solutions(ehec):
    documented = DOCUMENTED["ehec_static_twfe"]
    frame = ehec.assign(post=(ehec["yexp2"].notna() & (ehec["year"] >= ehec["yexp2"])).astype(float))
    for key, rows in (("all_states", frame), ("ever_treated_states", frame[frame["yexp2"].notna()])):
        years = sorted(rows["year"].unique())
        x = np.column_stack([rows["post"]] + [(rows["year"] == y).astype(float) for y in years[1:]])
        fit = _within_ols(rows["dins"].to_numpy(), x, rows["stfips"].to_numpy(), rows["stfips"].to_numpy(),
                              "cluster", ["post"] + [f"year{y}" for y in years[1:]])
        assert len(rows) == documented[key]["n_obs"] and fit["n_clusters"] == documented[key]["n_clusters"]
        assert abs(fit["beta"][0] - documented[key]["estimate"]) < 5e-7
        assert abs(math.sqrt(fit["cov"][0, 0]) - documented[key]["std_error"]) < 5e-7


def test_event_time_design_matches_pyfixest():
    panel = ccmc.generate(seed=3, staggered=True)
    result = did.event_study(panel, outcome="outpatient_cost_per_visit", **KEY, first_treated="first_treated")
    assert result.design == "event_time" and result.event_base == -1
    assert result.interaction_terms == ["event-3", "event-2", "event0", "event1", "event2", "event3"]
    frame = panel.copy()
    relative = frame["year"] - frame["first_treated"]
    for term, k in result.interaction_periods.items():
        frame[term] = ((frame["first_treated"] > 0) & (relative == k)).astype(float)
    for term in result.year_terms:
        frame[term] = (frame["year"] == int(term[4:])).astype(float)
    import pyfixest as pf

    names = [t.replace("-", "m") for t in result.params.index]
    fixest = pf.feols("outpatient_cost_per_visit ~ " + " + ".join(names) + " | county_id",
                      data=frame.rename(columns=dict(zip(result.params.index, names, strict=True))),
                      vcov={"CRV1": "county_id"})
    assert close(result.params, fixest.coef()[names], 1e-8)
    assert close(np.sqrt(np.diag(result.cov)), fixest.se()[names], 1e-6)
    assert result.pre_terms == ["event-3", "event-2"] and result.post_terms[0] == "event0"


def test_one_adoption_year_gives_the_common_design(panel):
    frame = panel.assign(adopted=np.where(panel["treated"] == 1, 2020, 0))
    by_year = did.event_study(frame, outcome="patient_satisfaction", **KEY, first_treated="adopted",
                              controls=ccmc.CONTROLS)
    by_flag = did.event_study(panel, outcome="patient_satisfaction", **KEY, treated="treated", did_base=2020, controls=ccmc.CONTROLS)
    assert by_year.design == "common_adoption"
    pd.testing.assert_series_equal(by_year.params, by_flag.params)
    # adoption after the last year counts as never treated: still the common design
    late = frame.assign(adopted=np.where(frame["county_id"] % 50 == 0, 2030, frame["adopted"]))
    result = did.event_study(late, outcome="patient_satisfaction", **KEY, first_treated="adopted")
    assert result.design == "common_adoption"
    assert result.n_control_units == by_flag.n_control_units + int((panel.groupby("county_id")["treated"].first()
                                                                    .pipe(lambda t: t[t.index % 50 == 0]) == 1).sum())


def test_exact_data_are_fitted_exactly_and_table_is_tidy():
    panel = ccmc.generate(seed=2, noise_scale=0.0)
    result = did.event_study(panel, outcome="income_primary_care_staff", **KEY, treated="treated", did_base=2020,
                             controls=ccmc.CONTROLS)
    truth = ccmc.truth().query("outcome == 'income_primary_care_staff'").set_index("term")["value"]
    table = result.table()
    assert list(table.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]
    assert close(table.set_index("term")["estimate"], truth[table["term"]], 1e-6)
    row = table.set_index("term").loc["did2021"]
    q = stats.t.ppf(0.975, 527)
    assert row["ci_high"] - row["estimate"] == pytest.approx(q * row["std_error"])
    combo = result.combination({"did2021": 0.5, "did2022": 0.5}, "average")
    assert combo.estimate == pytest.approx((truth["did2021"] + truth["did2022"]) / 2, abs=1e-6)
    assert "CRV1" in result.se_type and result.diagnostics()["n_clusters"] == 528


# ============================================================================ pre-trend F test


def test_pretrend_f_test_by_hand_and_against_pyfixest(panel):
    outcome = "patient_satisfaction"
    result = did.event_study(panel, outcome=outcome, **KEY, treated="treated", did_base=2020, controls=ccmc.CONTROLS)
    test = did.pretrend_test(result)
    assert test.terms == ("did2018", "did2019") and (test.df1, test.df2) == (2, 527)
    b = result.params[["did2018", "did2019"]].to_numpy()
    v = result.cov.loc[["did2018", "did2019"], ["did2018", "did2019"]].to_numpy()
    w = b @ np.linalg.inv(v) @ b
    assert test.wald == pytest.approx(w, rel=1e-12)
    assert test.statistic == pytest.approx(w / 2, rel=1e-12)
    assert test.p_value == pytest.approx(stats.f.sf(w / 2, 2, 527), rel=1e-10)
    assert test.p_value != pytest.approx(stats.f.sf(w, 2, 527))  # F is W/q, not W
    assert [c.name for c in test.individual] == ["did2018", "did2019"]
    frame = with_dummies(panel, result, "treated", "year")
    fixest = pyfixest_fit(frame, result, outcome, "county_id", {"CRV1": "county_id"})
    r = np.zeros((2, len(result.params)))
    r[0, 4], r[1, 5] = 1.0, 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pf_wald = fixest.wald_test(R=r)
    assert pf_wald["statistic"] == pytest.approx(test.wald, rel=1e-6)  # pyfixest reports W here
    # joint test of all coefficients: pyfixest's F(k, G-1) statistic and p-value
    everything = did.pretrend_test(result, terms=list(result.params.index))
    pf_all = fixest.wald_test()
    assert pf_all["statistic"] == pytest.approx(everything.statistic, rel=1e-6)
    assert pf_all["pvalue"] == pytest.approx(everything.p_value, rel=1e-6, abs=1e-12)
    table = test.table()
    assert table["test"].tolist() == ["t(527)", "t(527)", "F(2, 527)"]


# ============================================================================ balance table


def test_balance_table_against_scipy(panel):
    variables = ["population_density", "cost_per_discharge"]
    years = (2018, 2020, 2022)
    welch = did.balance_table(panel, **KEY, treated="treated", variables=variables, years=years).table()
    pooled = did.balance_table(panel, **KEY, treated="treated", variables=variables, welch=False,
                               years=years).table()
    for variable in variables:
        for year in (2018, 2020, 2022):
            sub = panel[panel["year"] == year]
            a = sub.loc[sub["treated"] == 1, variable]
            b = sub.loc[sub["treated"] == 0, variable]
            row = welch[(welch["variable"] == variable) & (welch["year"] == year)
                        & (welch["comparison"] == "treated vs control")].iloc[0]
            ref = stats.ttest_ind(a, b, equal_var=False)
            assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-10)
            assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
            assert row["mean_1"] == pytest.approx(a.mean()) and row["n_2"] == len(b)
            assert row["sd_1"] == pytest.approx(a.std(ddof=1)) and row["sd_2"] == pytest.approx(b.std(ddof=1))
            assert row["difference"] == pytest.approx(a.mean() - b.mean())
            row = pooled[(pooled["variable"] == variable) & (pooled["year"] == year)
                         & (pooled["comparison"] == "treated vs control")].iloc[0]
            assert row["p_value"] == pytest.approx(stats.ttest_ind(a, b).pvalue, rel=1e-8)
            assert row["test"] == "pooled t"
        within = welch[(welch["variable"] == variable) & (welch["comparison"] == "treated 2022 vs 2018")].iloc[0]
        treated = panel[panel["treated"] == 1].pivot(index="county_id", columns="year", values=variable)
        ref = stats.ttest_rel(treated[2022], treated[2018])
        assert within["test"] == "paired t"
        assert within["statistic"] == pytest.approx(ref.statistic, rel=1e-10)
        assert within["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
    unbalanced = panel.drop(panel.index[(panel["treated"] == 1) & (panel["year"] == 2022)][:3])
    within = did.balance_table(unbalanced, **KEY, treated="treated", variables=["population_density"]).table()
    within = within[within["comparison"] == "treated 2022 vs 2018"].iloc[0]
    assert within["test"].startswith("Welch t (unpaired")


# ============================================================================ HonestDiD vs R


def honest_inputs():
    return np.array(HONEST["betahat"]), np.array(HONEST["sigma"])


def test_event_study_reproduces_the_honestdid_example_inputs(ehec):
    frame = ehec[(ehec["year"] < 2016) & (ehec["yexp2"].isna() | (ehec["yexp2"] != 2015))]
    frame = frame.assign(D=(frame["yexp2"] == 2014).astype(int))
    result = did.event_study(frame, outcome="dins", unit="stfips", time="year", treated="D",
                             year_base=2008, did_base=HONEST["reference_year"])
    assert result.interaction_terms == HONEST["terms"]
    betahat, sigma = honest_inputs()
    assert close(result.params[HONEST["terms"]], betahat, 1e-10)
    assert close(result.cov.loc[HONEST["terms"], HONEST["terms"]], sigma, 1e-10)
    via_result = did.honest_did(result, post_term="did2014", mbar=[1.0])
    via_estimates = did.honest_did_from_estimates(betahat, sigma, n_pre=5, n_post=2, bounds=[1.0])
    assert via_result.ci_low == pytest.approx(via_estimates.ci_low, abs=1e-9)
    assert via_result.pre_terms == tuple(HONEST["terms"][:5])


def test_relative_magnitudes_match_the_r_readme():
    betahat, sigma = honest_inputs()
    expected = HONEST["relative_magnitude_first_post"]
    result = did.honest_did_from_estimates(betahat, sigma, n_pre=5, n_post=2, bounds=expected["Mbar"])
    table = result.table()
    assert table["method"].eq("C-LF").all()
    assert np.max(np.abs(table["ci_low"] - expected["lb"])) < 1e-3
    assert np.max(np.abs(table["ci_high"] - expected["ub"])) < 1e-3
    assert result.original[2] == pytest.approx(HONEST["original_first_post"]["lb"], abs=1e-3)
    assert result.original[3] == pytest.approx(HONEST["original_first_post"]["ub"], abs=1e-3)


def test_smoothness_matches_the_r_readme():
    betahat, sigma = honest_inputs()
    expected = HONEST["smoothness_first_post"]
    table = did.honest_did_from_estimates(betahat, sigma, n_pre=5, n_post=2, restriction="smoothness",
                                          bounds=expected["M"]).table()
    assert table["method"].eq("FLCI").all()
    assert np.max(np.abs(table["ci_low"] - expected["lb"])) < 1e-3
    assert np.max(np.abs(table["ci_high"] - expected["ub"])) < 1e-3


def test_average_effect_matches_the_stata_readme():
    betahat, sigma = honest_inputs()
    expected = HONEST["relative_magnitude_average_post"]
    result = did.honest_did_from_estimates(betahat, sigma, n_pre=5, n_post=2, l_vec=[0.5, 0.5],
                                           bounds=expected["Mbar"])
    assert np.max(np.abs(np.array(result.ci_low) - expected["lb"])) < 1e-3
    assert np.max(np.abs(np.array(result.ci_high) - expected["ub"])) < 1e-3
    assert result.original[2] == pytest.approx(HONEST["original_average_post"]["lb"], abs=1e-3)


def test_breakdown_values_agree_with_the_readme_text():
    betahat, sigma = honest_inputs()
    rm = did.honest_did_from_estimates(betahat, sigma, n_pre=5, n_post=2, bounds=[1.0])
    mbar = did.breakdown_value(rm)
    assert 1.5 < mbar <= 2.0  # README: significant up to Mbar = 1.5, not at 2
    just_below = did.honest_did_from_estimates(betahat, sigma, n_pre=5, n_post=2, bounds=[mbar - 0.002, mbar])
    assert just_below.ci_low[0] > 0 >= just_below.ci_low[1]
    sd = did.honest_did_from_estimates(betahat, sigma, n_pre=5, n_post=2, restriction="smoothness", bounds=[0.0])
    m = did.breakdown_value(sd)
    assert 0.02 < m <= 0.03  # README: M ~ 0.03 (significant at 0.02, not at 0.03)


def test_restrictions_by_hand_with_almost_no_noise():
    """With (almost) no sampling noise the robust sets are the identified sets, worked out here.

    Relative magnitudes: pre-period coefficients (-1, 0), reference 0, so the pre-period changes
    are +1 (earliest) and 0; with Mbar the first post-period change is at most Mbar in absolute
    value, so theta = beta_1 - delta_1 lies in beta_1 -+ Mbar. (Leaving the earliest change out,
    as moderndid 0.2.0 does, would give the single point beta_1.)
    Smoothness: pre-period coefficients (-2, -1) lie on a line of slope 1, so delta_1 = 1 +- M and
    theta lies in beta_1 - 1 -+ M.
    """
    sigma = 1e-12 * (np.eye(4) + 0.3)
    rm = did.honest_did_from_estimates([-1.0, 0.0, 2.0, 2.5], sigma, n_pre=2, n_post=2, bounds=[0.5, 1.0])
    assert rm.ci_low == pytest.approx((1.5, 1.0), abs=1e-4)
    assert rm.ci_high == pytest.approx((2.5, 3.0), abs=1e-4)
    sd = did.honest_did_from_estimates([-2.0, -1.0, 1.5, 3.0], sigma, n_pre=2, n_post=2,
                                       restriction="smoothness", bounds=[0.0, 0.2])
    assert sd.ci_low == pytest.approx((0.5, 0.3), abs=1e-4)
    assert sd.ci_high == pytest.approx((0.5, 0.7), abs=1e-4)


def test_fixed_length_interval_at_m_zero_is_the_best_linear_extrapolation():
    """With M = 0 the difference in trends is exactly linear: the FLCI is the minimum-variance
    estimator that removes any linear trend, +- 1.96 sd. Solved here as a constrained GLS."""
    betahat, sigma = honest_inputs()
    t = np.array([-5, -4, -3, -2, -1, 1, 2], float)
    low, high = honest_module._flci(betahat, sigma, 5, 2, np.array([1.0, 0.0]), 0.0, 0.05)
    # minimise v' S v subject to v_post = (1, 0) and v't = 0
    fixed = np.array([1.0, 0.0])

    def variance(v_pre):
        v = np.r_[v_pre, fixed]
        return v @ sigma @ v

    cons = {"type": "eq", "fun": lambda v_pre: np.r_[v_pre, fixed] @ t}
    best = optimize.minimize(variance, np.zeros(5), constraints=[cons], method="SLSQP",
                             options={"ftol": 1e-16, "maxiter": 1000})
    v = np.r_[best.x, fixed]
    centre, half = v @ betahat, 1.959963984540054 * math.sqrt(v @ sigma @ v)
    assert low == pytest.approx(centre - half, abs=1e-7) and high == pytest.approx(centre + half, abs=1e-7)


def test_dual_vertices_give_the_linear_programme_value():
    rng = np.random.default_rng(11)
    sd = rng.uniform(0.5, 2.0, 6)
    nuisance = rng.normal(size=(6, 2))
    vertices = honest_module._dual_vertices(sd, nuisance)
    for _ in range(20):
        y = rng.normal(size=6)
        # min eta s.t. y - X d <= eta sd, variables (eta, d)
        lp = optimize.linprog(np.r_[1.0, 0.0, 0.0], A_ub=-np.column_stack([sd, nuisance]), b_ub=-y,
                              bounds=[(None, None)] * 3, method="highs")
        assert lp.status == 0
        assert (vertices @ y).max() == pytest.approx(lp.fun, abs=1e-9)


def test_relative_magnitudes_sets_widen_and_start_near_the_original_interval():
    betahat, sigma = honest_inputs()
    result = did.honest_did_from_estimates(betahat, sigma, n_pre=5, n_post=2, bounds=[0, 0.5, 1, 2])
    low, high = np.array(result.ci_low), np.array(result.ci_high)
    assert np.all(np.diff(low) < 0) and np.all(np.diff(high) > 0)
    assert low[0] == pytest.approx(result.original[2], abs=0.15 * result.original[1])
    assert high[0] == pytest.approx(result.original[3], abs=0.15 * result.original[1])


def test_single_post_period_and_single_pre_period_run():
    betahat, sigma = honest_inputs()
    one_post = did.honest_did_from_estimates(betahat[:6], sigma[:6, :6], n_pre=5, n_post=1, bounds=[0.5, 1.0])
    assert one_post.ci_low[0] < betahat[5] < one_post.ci_high[0]
    assert one_post.ci_high[1] - one_post.ci_low[1] > one_post.ci_high[0] - one_post.ci_low[0]
    one_pre = did.honest_did_from_estimates(betahat[4:], sigma[4:, 4:], n_pre=1, n_post=2, bounds=[1.0])
    assert one_pre.ci_low[0] < betahat[5] < one_pre.ci_high[0]


def test_flci_matches_moderndid():
    from moderndid.didhonest import create_sensitivity_results_sm

    rng = np.random.default_rng(7)
    for n_pre, n_post, l_vec in ((2, 2, [1.0, 0.0]), (3, 2, [0.5, 0.5]), (3, 3, [0.0, 1.0, 0.0])):
        k = n_pre + n_post
        a = rng.normal(size=(k, k))
        sigma = (a @ a.T / k + np.eye(k)) * 0.04
        betahat = np.r_[rng.normal(0, 0.3, n_pre), rng.normal(1.0, 0.3, n_post)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = create_sensitivity_results_sm(betahat=betahat, sigma=sigma, num_pre_periods=n_pre,
                                                   num_post_periods=n_post, m_vec=[0.1, 0.3],
                                                   l_vec=np.array(l_vec)).to_pandas()
        ours = did.honest_did_from_estimates(betahat, sigma, n_pre=n_pre, n_post=n_post, l_vec=l_vec,
                                             restriction="smoothness", bounds=[0.1, 0.3])
        assert np.max(np.abs(np.array(ours.ci_low) - theirs["lb"])) < 1e-5
        assert np.max(np.abs(np.array(ours.ci_high) - theirs["ub"])) < 1e-5


@pytest.mark.slow
def test_relative_magnitudes_match_moderndid_with_its_locations():
    """moderndid 0.2.0 leaves the earliest pre-period difference out of the maximum (it shifts
    R's 1-based index without the -1 and drops s = 0), so its sets are narrower when that
    difference is the largest. Restricted to the same locations our sets agree with its sets to
    within its grid step (4000 points here)."""
    from moderndid.didhonest import create_sensitivity_results_rm

    rng = np.random.default_rng(7)
    for n_pre, n_post, l_vec in ((2, 2, [1.0, 0.0]), (3, 2, [0.5, 0.5])):
        k = n_pre + n_post
        a = rng.normal(size=(k, k))
        sigma = (a @ a.T / k + np.eye(k)) * 0.04
        betahat = np.r_[rng.normal(0, 0.3, n_pre), rng.normal(1.0, 0.3, n_post)]
        l_vec = np.array(l_vec)
        sd = math.sqrt(l_vec @ sigma[n_pre:, n_pre:] @ l_vec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = create_sensitivity_results_rm(betahat=betahat, sigma=sigma, num_pre_periods=n_pre,
                                                   num_post_periods=n_post, m_bar_vec=[1.0], l_vec=l_vec,
                                                   grid_points=4000).to_pandas()
        low, high = honest_module._rm_interval(betahat, sigma, n_pre, n_post, l_vec, 1.0, 0.05,
                                     locations=range(-(n_pre - 2), 1))
        step = 2 * (20 * sd + 1.0 * np.arange(1, n_post + 1) @ np.abs(l_vec)
                    * np.max(np.abs(np.diff(np.r_[betahat[:n_pre], 0.0])))) / 3999
        assert abs(low - theirs["lb"][0]) < 3 * step + 0.01 * sd
        assert abs(high - theirs["ub"][0]) < 3 * step + 0.01 * sd
        full_low, full_high = honest_module._rm_interval(betahat, sigma, n_pre, n_post, l_vec, 1.0, 0.05)
        assert full_low <= low + 1e-12 and full_high >= high - 1e-12


def test_honest_did_on_the_synthetic_income_outcome(panel):
    result = did.event_study(panel, outcome="income_county_hospital_staff", **KEY, treated="treated", did_base=2020,
                             controls=ccmc.CONTROLS)
    sens = did.honest_did(result, post_term="did2021")
    table = sens.table(include_original=True)
    assert table["method"].tolist() == ["original"] + ["C-LF"] * 5
    assert sens.pre_terms == ("did2018", "did2019") and sens.post_terms == ("did2021", "did2022")
    breakdown = did.breakdown_value(result, post_term="did2021")
    assert 0 < breakdown < 2  # the pre-period jump (did2019 -> 2020) is as large as the effect
    smooth = did.honest_did(result, post_term="average", restriction="smoothness")
    assert len(smooth.bounds) == 6 and smooth.bounds[0] == 0.0 and smooth.restriction == "smoothness"
    with pytest.raises(ParameterError, match="post_term"):
        did.honest_did(result, post_term="did2020")


# ============================================================================ Callaway-Sant'Anna


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    import moderndid

    return moderndid.load_mpdta().to_pandas()


def test_callaway_santanna_matches_the_did_readme(mpdta):
    cs = did.callaway_santanna(mpdta, outcome="lemp", unit="countyreal", time="year", first_treated="first.treat")
    expected = pd.DataFrame(DOCUMENTED["mpdta_group_time"]).set_index(["group", "time"])
    ours = cs.table().set_index(["group", "time"])
    assert len(ours) == 12
    assert np.max(np.abs(ours["att"].reindex(expected.index) - expected["att"])) <= 5e-5 + 1e-12
    # bootstrap standard errors in the README: analytic ones within 10%
    assert np.max(np.abs(ours["std_error"].reindex(expected.index) / expected["bootstrap_se"] - 1)) < 0.10
    dynamic = cs.aggregate("dynamic").set_index("term")
    documented = DOCUMENTED["mpdta_dynamic"]
    terms = [f"event{e}" for e in documented["event_time"]]
    assert np.max(np.abs(dynamic.loc[terms, "estimate"] - documented["estimate"])) <= 5e-5 + 1e-12
    assert dynamic.loc["average_post", "estimate"] == pytest.approx(documented["overall"], abs=5e-5)
    assert np.max(np.abs(dynamic.loc[terms, "std_error"] / documented["bootstrap_se"] - 1)) < 0.10


def test_callaway_santanna_matches_the_mixtape_not_yet_treated_results(ehec):
    cs = did.callaway_santanna(ehec, outcome="dins", unit="stfips", time="year", first_treated="yexp2",
                               control_group="not_yet_treated")
    expected = pd.DataFrame(DOCUMENTED["ehec_not_yet_treated_group_time"]).set_index(["group", "time"])
    ours = cs.table().set_index(["group", "time"])
    assert len(ours) == 55
    assert np.max(np.abs(ours["att"].reindex(expected.index) - expected["att"])) <= 5e-5 + 1e-12
    assert ours.loc[(2014, 2014), "att"] == pytest.approx(DOCUMENTED["ehec_att_2014_2014_by_hand"], abs=5e-9)
    simple = cs.aggregate("simple").iloc[0]
    assert simple["estimate"] == pytest.approx(DOCUMENTED["ehec_not_yet_treated_simple"]["estimate"], abs=5e-4)


@pytest.mark.parametrize("control_group,base_period", [("never_treated", "varying"), ("not_yet_treated", "universal")])
def test_callaway_santanna_standard_errors_match_moderndid(mpdta, control_group, base_period):
    import moderndid
    import polars as pl

    theirs = moderndid.att_gt(data=pl.from_pandas(mpdta), yname="lemp", tname="year", idname="countyreal",
                              gname="first.treat", est_method="reg", boot=False, base_period=base_period,
                              control_group=control_group.replace("_", ""))
    ours = did.callaway_santanna(mpdta, outcome="lemp", unit="countyreal", time="year",
                                 first_treated="first.treat", control_group=control_group,
                                 base_period=base_period)
    reference = pd.DataFrame({"group": np.asarray(theirs.groups), "time": np.asarray(theirs.times),
                              "att": np.asarray(theirs.att_gt), "se": np.asarray(theirs.se_gt)})
    merged = ours.table().merge(reference, on=["group", "time"])
    assert len(merged) == len(ours.group_time)
    assert np.max(np.abs(merged["att_x"] - merged["att_y"])) < 1e-10
    assert np.max(np.abs(merged["std_error"] - merged["se"])) < 1e-10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aggregated = moderndid.aggte(theirs, type="dynamic", boot=False)
    dynamic = ours.aggregate("dynamic").dropna(subset=["event_time"]).set_index("event_time")
    times = np.asarray(aggregated.event_times)
    ses = np.asarray(aggregated.se_by_event)
    keep = np.isfinite(ses)
    assert np.max(np.abs(dynamic.loc[times[keep], "estimate"] - np.asarray(aggregated.att_by_event)[keep])) < 1e-10
    assert np.max(np.abs(dynamic.loc[times[keep], "std_error"] - ses[keep])) < 1e-10
    assert ours.aggregate("dynamic").set_index("term").loc["average_post", "std_error"] == pytest.approx(
        aggregated.overall_se, abs=1e-10)


def test_callaway_santanna_checks_and_drops():
    panel = ccmc.generate(seed=4, staggered=True)
    with pytest.raises(ContractError, match="no never-treated unit"):
        did.callaway_santanna(panel[panel["first_treated"] > 0], outcome="patient_satisfaction", **KEY,
                              first_treated="first_treated")
    gap = panel.drop(panel.index[5])
    cs = did.callaway_santanna(gap, outcome="patient_satisfaction", **KEY, first_treated="first_treated")
    assert cs.n_dropped == 1 and cs.n_units == 527
    twfe = did.event_study(panel, outcome="patient_satisfaction", **KEY, first_treated="first_treated")
    cs = did.callaway_santanna(panel, outcome="patient_satisfaction", **KEY, first_treated="first_treated",
                               base_period="universal")
    side = did.twfe_vs_callaway_santanna(twfe, cs)
    assert side["term"].tolist() == ["event-3", "event-2", "event0", "event1", "event2", "event3"]
    assert np.isfinite(side[["twfe_estimate", "cs_estimate", "cs_std_error"]].to_numpy()).all()
    # like with like: the varying base (year-on-year pre-period changes) is refused, and so is a
    # TWFE reference other than the year before adoption
    varying = did.callaway_santanna(panel, outcome="patient_satisfaction", **KEY, first_treated="first_treated")
    with pytest.raises(ParameterError, match="base_period='universal'"):
        did.twfe_vs_callaway_santanna(twfe, varying)
    shifted = did.event_study(panel, outcome="patient_satisfaction", **KEY, first_treated="first_treated",
                              event_base=-2)
    with pytest.raises(ParameterError, match="event_base=-1"):
        did.twfe_vs_callaway_santanna(shifted, cs)
    # the universal-base CS pre-period terms are gaps relative to event time -1, as TWFE's: the
    # CS event-2 term by hand (cohorts observed at -2 and -1, never-treated as comparison)
    frame = panel.pivot(index="county_id", columns="year", values="patient_satisfaction")
    cohort = panel.groupby("county_id")["first_treated"].first()
    never = frame[cohort == 0]
    cells, sizes = [], []
    for g in (2020, 2021):
        treated = frame[cohort == g]
        cells.append((treated[g - 2] - treated[g - 1]).mean() - (never[g - 2] - never[g - 1]).mean())
        sizes.append(len(treated))
    side = side.set_index("term")
    assert side.loc["event-2", "cs_estimate"] == pytest.approx(np.average(cells, weights=sizes), rel=1e-10)


# ============================================================================ figure


def test_event_study_figure(panel):
    import matplotlib.pyplot as plt

    result = did.event_study(panel, outcome="income_primary_care_staff", **KEY, treated="treated", did_base=2020)
    truth = ccmc.truth().query("outcome == 'income_primary_care_staff'").set_index("term")["value"].to_dict()
    fig = plots.event_study_figure(result, truth=truth)
    ax = fig.axes[0]
    assert len(ax.containers) == 2  # pre and post error bars
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("reference (year 2020)" in label for label in labels) and "planted truth" in labels
    assert [float(t) for t in ax.get_xticks()] == [2018.0, 2019.0, 2020.0, 2021.0, 2022.0]
    plt.close(fig)
    staggered = did.event_study(ccmc.generate(seed=2, staggered=True), outcome="income_primary_care_staff", **KEY,
                                first_treated="first_treated")
    fig = plots.event_study_figure(staggered)
    assert fig.axes[0].get_xlabel() == "years since adoption"
    assert [float(t) for t in fig.axes[0].get_xticks()] == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
    plt.close(fig)


# ============================================================================ bad input


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def small_panel() -> pd.DataFrame:
    return ccmc.generate(seed=9)[lambda d: d["county_id"] <= 40].reset_index(drop=True)


def fit(frame, **overrides):
    options = dict(outcome="cost_per_discharge", **KEY, treated="treated", did_base=2020,
                   controls=["population_density"])
    options.update(overrides)
    return did.event_study(frame, **options)


def test_duplicate_unit_year_is_reported_with_rows():
    frame = small_panel()
    frame = pd.concat([frame, frame.iloc[[7]]], ignore_index=True)
    before = frame.copy()
    with pytest.raises(ContractError) as error:
        fit(frame)
    message = _one_line(error)
    assert "unit 2 has two rows for year 2020" in message and "row 9" in message and f"row {len(frame) + 1}" in message
    pd.testing.assert_frame_equal(frame, before)


def test_treatment_varying_within_a_unit():
    frame = small_panel()
    frame.loc[3, "treated"] = 1 - frame.loc[3, "treated"]
    with pytest.raises(ContractError) as error:
        fit(frame)
    assert "column 'treated' changes within unit 1" in _one_line(error)
    frame = ccmc.generate(seed=9, staggered=True)[lambda d: d["county_id"] <= 40].reset_index(drop=True)
    frame.loc[2, "first_treated"] = 2021 if frame.loc[2, "first_treated"] != 2021 else 2019
    with pytest.raises(ContractError, match="adoption year must be the same in every row"):
        fit(frame, treated=None, first_treated="first_treated")


def test_no_treated_or_no_control_units():
    frame = small_panel()
    with pytest.raises(ContractError) as error:
        fit(frame.assign(treated=0))
    assert _one_line(error).startswith("no treated unit")
    with pytest.raises(ContractError) as error:
        fit(frame.assign(treated=1))
    assert _one_line(error).startswith("no control unit")
    with pytest.raises(ContractError, match="use 1 for treated units and 0 for control units"):
        fit(frame.assign(treated=frame["treated"] * 2))


def test_base_years_not_in_the_data():
    frame = small_panel()
    with pytest.raises(ContractError) as error:
        fit(frame, year_base=2017)
    assert "year_base 2017 is not a year in column 'year' (2018-2022)" in _one_line(error)
    with pytest.raises(ContractError, match="did_base 2023 is not a year"):
        fit(frame, did_base=2023)
    with pytest.raises(ParameterError, match="year_base"):
        fit(frame, year_base="2018")


def test_control_constant_within_every_unit():
    frame = small_panel()
    frame["area_km2"] = frame["county_id"] * 100.0
    with pytest.raises(ContractError) as error:
        fit(frame, controls=["population_density", "area_km2"])
    assert "control 'area_km2' does not change within any unit" in _one_line(error)


def test_collinear_control_is_named():
    frame = small_panel()
    frame["density_twice"] = frame["population_density"] * 2
    with pytest.raises(ParameterError, match="control 'density_twice' is a linear combination"):
        fit(frame, controls=["population_density", "density_twice"])


def test_non_numeric_outcome_and_misspelled_column():
    frame = small_panel()
    frame["cost_per_discharge"] = frame["cost_per_discharge"].astype(object)
    frame.loc[4, "cost_per_discharge"] = "n/a"
    with pytest.raises(ContractError) as error:
        fit(frame)
    assert "column 'cost_per_discharge' has the non-numeric value 'n/a' in row 6" in _one_line(error)
    with pytest.raises(ContractError) as error:
        fit(small_panel(), outcome="cost_per_dischage")
    assert "did you mean 'cost_per_discharge'" in _one_line(error)


def test_parameter_errors():
    frame = small_panel()
    with pytest.raises(ParameterError, match="parameter 'se' is 'robust'"):
        fit(frame, se="robust")
    with pytest.raises(ParameterError, match="exactly one of treated_column"):
        fit(frame, first_treated="year")
    frame["province"] = np.arange(len(frame)) % 3
    with pytest.raises(ContractError, match="clusters must group whole units"):
        fit(frame, cluster="province")
    result = fit(frame)
    with pytest.raises(ParameterError, match="term 'did2017' is not in the model"):
        did.pretrend_test(result, terms=["did2017"])
    with pytest.raises(ParameterError, match="consecutive periods"):
        did.honest_did(fit(frame[frame["year"] != 2019]), post_term="did2021")
    with pytest.raises(ParameterError, match="parameter 'mbar'"):
        did.honest_did(result, post_term="did2021", mbar=[-1])


def test_truncated_normal_quantile_equals_scipy():
    """The conditional test's critical values: our log-space quantile against scipy's truncnorm,
    far tails and one-sided truncation included."""
    rng = np.random.default_rng(3)
    low = np.r_[rng.normal(0, 3, 500), -np.inf, 5.0, 30.0, -40.0, 0.0, 8.0]
    high = low + np.r_[rng.exponential(2, 500), 0.0, np.inf, 1.0, 1.0, 1e-3, np.inf]
    high[500] = 2.0
    for p in (0.95, 0.9444, 0.5):
        ours = honest_module._truncnorm_ppf(p, low, high)
        theirs = stats.truncnorm.ppf(p, low, high)
        assert np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))) < 1e-12


def test_grids_and_the_noise_free_line():
    import matplotlib.pyplot as plt

    from payreform.plots import did as did_plots

    panel = ccmc.generate(seed=4)
    fits = [did.event_study(panel, outcome=o, **KEY, treated="treated", did_base=2020) for o in ccmc.OUTCOMES[:3]]
    fig = did_plots.event_study_grid(fits, labels={fits[0].outcome: "first"})
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3 and visible[0].get_title() == "first" and len(fig.axes) == 4
    plt.close(fig)
    intervals = {f.outcome: did.honest_did(f, mbar=[0, 1]).table() for f in fits[:2]}
    fig = did_plots.honest_did_grid(intervals, {fits[0].outcome: 0.5, fits[1].outcome: 7.0}, target="x")
    labels = [t.get_text() for ax in fig.axes if ax.get_visible() for t in ax.get_legend().get_texts()]
    assert "breakdown value 0.50" in labels and "breakdown value 7.00 (beyond the bounds shown)" in labels
    plt.close(fig)
    side = pd.DataFrame({"event_time": [-2, 0, 1], "twfe_estimate": [1.0, 1.0, 2.0], "twfe_std_error": [0.1] * 3,
                         "cs_estimate": [0.0, 1.1, 2.2], "cs_std_error": [0.1] * 3, "truth": [0.0, 1.0, 2.0],
                         "twfe_noise_free": [0.9, 0.8, 1.7]})
    ax = plots.staggered_figure(side).axes[0]
    line = next(line for line in ax.get_lines() if line.get_label() == "two-way fixed effects, noise-free panel")
    assert list(line.get_ydata()) == [0.9, 0.8, 1.7]
    plt.close(ax.figure)
