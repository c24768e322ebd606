"""The Youxi chapter runner (prepare + run, no notebook): the book's data with its defaults and
another seed, and user-style files (GBK with Chinese column names, another intervention month,
quarterly and annual data), with results checked against R. The notebook and `payreform run`
are exercised in tests/test_youxi_run.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import sha

from payreform import narrative, report
from payreform.chapters import youxi_itsa
from payreform.contracts import validate_time_series
from payreform.errors import ContractError, ParameterError
from payreform.itsa import analyse_series
from payreform.synth import youxi


def run_chapter(tmp_path: Path, data=None, **parameters) -> dict:
    """prepare + run + write (no figures); return results.json."""
    result = youxi_itsa.run(youxi_itsa.prepare(data, parameters))
    return report.read_results(result.write(tmp_path / "out", figures=False))


@pytest.fixture(scope="module")
def default_results(tmp_path_factory):
    return run_chapter(tmp_path_factory.mktemp("default"))


def test_default_run_writes_the_documented_results(default_results):
    results = default_results
    assert results["chapter"] == "youxi-itsa" and results["schema"] == 1
    assert results["data"]["source"] == "synthetic" and results["data"]["rows"] == 46
    frame = pd.DataFrame(results["estimates"])
    ols = frame[frame["model"] == "ols_newey_west"]
    assert set(ols["outcome"]) == set(youxi.OUTCOMES)
    assert set(ols["term"]) == {"beta0", "beta1", "beta2", "beta3", "post_slope", "absolute_effect",
                                "relative_effect"}
    effects = ols[ols["term"] == "relative_effect"]
    assert (effects["period"] == "2019-11").all() and len(effects) == 4
    assert set(frame[frame["model"] == "quasipoisson"]["outcome"]) == set(youxi.COUNT_OUTCOMES)
    for column in ("model", "outcome", "term", "estimate", "std_error", "p_value", "ci_low", "ci_high"):
        assert frame[column].notna().all(), column
    diagnostics = results["diagnostics"]
    assert diagnostics["settings"]["hac_lags"] == 3
    record = diagnostics["outcomes"]["hospitalizations"]
    assert record["breusch_godfrey"]["p_value"] < 0.05
    assert len(record["seasonal_indices"]) == 12
    assert record["level_change_at_intervention"]["term"] == "level_change_at_intervention"
    assert len(diagnostics["implied_denominators"]) == 5


def test_default_run_estimates_are_near_the_planted_truth(default_results):
    """Each beta within 3 sampling standard deviations of the truth. The yardstick is the spread
    of the estimates over 80 other synthetic draws, because Newey-West standard errors understate
    it in a 46-month series (see bench/itsa_coverage.py)."""
    frame = pd.DataFrame(default_results["estimates"]).query("model == 'ols_newey_west'")
    truth = youxi.truth().set_index(["outcome", "term"])["value"]
    draws = []
    for seed in range(1, 81):
        ts = validate_time_series(youxi.generate(seed=seed), outcomes=list(youxi.OUTCOMES),
                                  intervention=youxi.INTERVENTION)
        for outcome in youxi.OUTCOMES:
            model = analyse_series(ts.frame, outcome, intervention=ts.intervention, coding=youxi.CODING,
                                   seasonal="ratio_to_moving_average", hac_lags=3).model
            draws += [{"outcome": outcome, "term": t, "estimate": model.params[t]} for t in ("beta1", "beta2", "beta3")]
    spread = pd.DataFrame(draws).groupby(["outcome", "term"])["estimate"].std()
    for row in frame[frame["term"].isin(["beta1", "beta2", "beta3"])].itertuples():
        assert abs(row.estimate - truth[row.outcome, row.term]) < 3 * spread[row.outcome, row.term], row


def test_another_seed_gives_other_data_and_estimates(tmp_path, default_results):
    results = run_chapter(tmp_path, seed=7)
    assert results["data"]["sha256"] != default_results["data"]["sha256"]
    a = pd.DataFrame(results["estimates"]).set_index(["model", "outcome", "term"])["estimate"]
    b = pd.DataFrame(default_results["estimates"]).set_index(["model", "outcome", "term"])["estimate"]
    assert not np.allclose(a.loc[b.index], b)


def test_user_data_needs_the_intervention(tmp_path):
    data = tmp_path / "series.csv"
    youxi.generate(seed=2).rename(columns={"month": "period"}).to_csv(data, index=False)
    with pytest.raises(ParameterError, match=r"parameter 'intervention' is needed.*from 2016-02 to 2019-11"):
        youxi_itsa.prepare(data, {"time_column": "period"})


def test_user_data_get_the_jump_coding_and_derived_settings_are_marked(tmp_path):
    data = tmp_path / "series.csv"
    youxi.generate(seed=2).to_csv(data, index=False)
    prepared = youxi_itsa.prepare(data, {"intervention": "2017-10"})
    assert prepared.settings["coding"] == "zero_at_intervention"
    assert prepared.settings.source("coding") == "from the data"
    assert prepared.settings.source("intervention") == "set"
    assert set(prepared.settings.derived()) == {"outcomes", "coding", "seasonal", "hac_lags", "horizon", "placebos",
                                                "inference"}
    assert prepared.settings["inference"] == "calibrated"
    assert not prepared.book_data
    book = youxi_itsa.prepare()
    assert book.settings["coding"] == "one_at_intervention" and book.settings["intervention"] == "2017-10"


def test_calibrated_runs_speak_of_their_own_intervals(tmp_path):
    """The summary's level change is the table's beta2 (same bootstrap-t interval and p-value), and no
    warning or limitation blames Newey-West, which the run did not use."""
    data = tmp_path / "series.csv"
    youxi.generate(seed=3).to_csv(data, index=False)
    result = youxi_itsa.run(youxi_itsa.prepare(data, {"intervention": "2017-10"}))
    assert result.settings["inference"] == "calibrated"
    table = result.estimates()
    for analysis in result.analyses:
        row = table[(table["outcome"] == analysis.outcome) & (table["term"] == "beta2")
                    & (table["model"] == analysis.model_name)].iloc[0]
        sentence = result.outcome_sentence(analysis)
        assert narrative.fmt_interval(row.ci_low, row.ci_high) in sentence
        assert narrative.significance(row.p_value) in sentence
    texts = result.warnings() + result.limitations() + result.limitations("zh")
    assert texts and not any("Newey-West" in t for t in texts)
    assert any("calibrated intervals model it" in t for t in result.warnings())
    newey = youxi_itsa.run(youxi_itsa.prepare(data, {"intervention": "2017-10", "inference": "newey_west"}))
    assert any("Newey-West intervals from short series are too narrow" in t for t in newey.limitations())


def test_user_style_gbk_csv_with_chinese_columns(tmp_path):
    frame = youxi.generate(seed=11).rename(columns={
        "month": "月份", "outpatient_emergency_visits": "门急诊人次", "hospitalizations": "住院人次",
        "cost_per_outpatient_visit": "次均门诊费用", "cost_per_hospitalization": "次均住院费用"})
    frame["月份"] = [f"{m[:4]}年{int(m[5:])}月" for m in frame["月份"]]
    data = tmp_path / "data" / "县医院月度数据.csv"
    data.parent.mkdir()
    frame.to_csv(data, index=False, encoding="gbk")
    before = sha(data)
    results = run_chapter(tmp_path, data, time_column="月份", outcomes=["门急诊人次", "住院人次"],
                          intervention="2018-01", coding="zero_at_intervention")
    assert sha(data) == before
    assert sorted(p.name for p in data.parent.iterdir()) == ["县医院月度数据.csv"]
    assert results["data"]["encoding"] == "gbk"
    assert results["parameters"]["intervention"] == "2018-01"
    assert results["diagnostics"]["n_pre"] == 23
    assert {e["outcome"] for e in results["estimates"]} == {"门急诊人次", "住院人次"}


def test_quarterly_series(tmp_path):
    monthly = youxi.generate(seed=3)
    quarters = pd.PeriodIndex(monthly["month"], freq="M").asfreq("Q")
    frame = monthly.drop(columns="month").groupby(quarters).sum()[["outpatient_emergency_visits", "hospitalizations"]]
    frame = frame.iloc[1:]  # the first quarter is incomplete (February-March 2016)
    frame.index = frame.index.astype(str)
    data = tmp_path / "input" / "quarterly.csv"
    data.parent.mkdir()
    frame.rename_axis("quarter").reset_index().to_csv(data, index=False)
    results = run_chapter(tmp_path, data, time_column="quarter", intervention="2017Q4")
    assert results["diagnostics"]["frequency"] == "Q"
    assert results["diagnostics"]["settings"]["seasonal"] == "ratio_to_moving_average"
    assert len(results["diagnostics"]["outcomes"]["hospitalizations"]["seasonal_indices"]) == 4


def test_annual_series(tmp_path):
    years = np.arange(2006, 2020)
    rng = np.random.default_rng(2)
    admissions = 5000 + 120 * (years - 2005) - 400 * (years >= 2014) - 60 * np.clip(years - 2014, 0, None)
    frame = pd.DataFrame({"year": years, "admissions": np.round(admissions + rng.normal(0, 40, len(years)))})
    data = tmp_path / "input" / "annual.csv"
    data.parent.mkdir()
    frame.to_csv(data, index=False, sep=";")
    results = run_chapter(tmp_path, data, time_column="year", intervention="2014", hac_lags=1,
                          inference="newey_west")
    assert results["diagnostics"]["settings"]["seasonal"] == "none"
    beta2 = next(e for e in results["estimates"] if e["model"] == "ols_newey_west" and e["term"] == "beta2")
    assert beta2["ci_low"] < -400 < beta2["ci_high"]


@pytest.mark.parametrize("seasonal, r_series, outcome", [
    ("none", "cost_per_hospitalization", "cost_per_hospitalization"),
    ("ratio_to_moving_average", "hospitalizations_adjusted", "hospitalizations"),
])
def test_results_agree_with_r(tmp_path, fixtures, seasonal, r_series, outcome):
    data = tmp_path / "input" / "series.csv"
    data.parent.mkdir()
    shutil.copy(fixtures / "youxi_series.csv", data)
    results = run_chapter(tmp_path, data, outcomes=[outcome], hac_lags=3, coding="one_at_intervention",
                          seasonal=seasonal, intervention="2017-10", inference="newey_west")
    reference = pd.read_csv(fixtures / "r_itsa_coefficients.csv")
    ref = reference[(reference.series == r_series) & (reference.coding == "one_at_intervention")
                    & (reference.se_type == "newey_west_3")].set_index("term")
    ours = pd.DataFrame(results["estimates"])
    ours = ours[(ours.model == "ols_newey_west") & ours.term.isin(ref.index)].set_index("term").loc[ref.index]
    for column in ("estimate", "std_error", "p_value", "ci_low", "ci_high"):
        assert np.allclose(ours[column], ref[column], rtol=1e-6, atol=1e-9), column


@pytest.mark.parametrize("settings, message", [
    ({"intervention": "2017-10,2021-02"}, r"intervention 2021-02 is outside the data \(2016-02 to 2019-11\)"),
    ({"intervention": "2019-02,2017-10"}, r"lists 2019-02 before 2017-10"),
    ({"intervention": "2017-10,2017-12"}, r"the segment from 2017-10 to 2017-11 keeps 2 fitted periods"),
    ({"intervention": "2017-10", "exclude": ["2018-01..2018-03", "2018-03..2018-05"]}, r"overlapping windows"),
    ({"intervention": "2017-10", "exclude": ["2018-05..2018-01"]}, r"ends before it starts"),
    ({"intervention": "2017-10", "phase_in": 25}, r"the segment from 2017-10 on keeps 1 fitted periods"),
    ({"intervention": "2017-10", "lag": -1}, r"parameter 'lag' is -1"),
    ({"intervention": "2017-10", "exclude": ["2018-01..2018-03"], "seasonal": "ratio_to_moving_average"},
     r"moving average would run through the periods left out"),
    ({"intervention": "2017-10", "placebos": ["2016-04"]}, r"placebos' has 2016-04, which leaves 2 periods before"),
])
def test_interruption_settings_are_checked_before_anything_runs(tmp_path, settings, message):
    data = tmp_path / "series.csv"
    youxi.generate(seed=5).to_csv(data, index=False)
    with pytest.raises((ParameterError, ContractError), match=message):
        youxi_itsa.prepare(data, settings)


def test_a_pandemic_series_with_the_shock_modelled_recovers_both_interruptions(tmp_path):
    data = tmp_path / "series.csv"
    youxi.generate(seed=5, pandemic=True, noise_scale=0).to_csv(data, index=False)
    result = youxi_itsa.run(youxi_itsa.prepare(data, {"intervention": f"{youxi.INTERVENTION},{youxi.PANDEMIC}",
                                                      "coding": youxi.CODING, "outcomes": ["hospitalizations"]}))
    assert result.settings["seasonal"] == "season_dummies"  # auto, but no moving average across the shock
    params = result.analyses[0].model.params
    truth = youxi.pandemic_truth().query("outcome == 'hospitalizations'").set_index("term")["value"]
    for term in ("beta2_1", "beta3_1", "beta2_2", "beta3_2"):
        assert params[term] == pytest.approx(truth[term], rel=0.05, abs=2.0), term
    terms = set(result.estimates()["term"])
    assert {"relative_effect_1", "relative_effect_2", "post_slope_2"} <= terms
