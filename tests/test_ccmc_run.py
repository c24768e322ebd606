"""The CCMC chapter end to end: the notebook through papermill (defaults, another seed) and
`payreform run ccmc-did` on user-style panels, including staggered adoption and bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import assert_refused, execute_notebook, sha

from payreform import report
from payreform.synth import ccmc

pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def default_results(tmp_path_factory):
    return execute_notebook(tmp_path_factory.mktemp("ccmc"), "ccmc_did")


def test_default_run_results(default_results):
    frame = pd.DataFrame(default_results["estimates"])
    twfe = frame[frame["model"] == "event_study_twfe"]
    assert set(twfe["outcome"]) == set(ccmc.OUTCOMES)
    assert {"year2019", "year2022", "did2018", "did2019", "did2021", "did2022", "population_density"} \
        <= set(twfe["term"])
    assert "did2020" not in set(twfe["term"]) and "year2018" not in set(twfe["term"])
    diagnostics = default_results["diagnostics"]
    tests = diagnostics["pretrend_tests"]
    assert tests["income_county_hospital_staff"]["p_value"] < 0.001
    assert tests["patient_satisfaction"]["p_value"] > 0.05
    assert diagnostics["event_study"]["cost_per_discharge"]["n_clusters"] == 528
    assert "CRV1" in diagnostics["event_study"]["cost_per_discharge"]["se_type"]
    breakdown = diagnostics["honest_did"]["breakdown"]
    assert set(breakdown) == set(ccmc.INCOME_OUTCOMES)
    assert frame[frame["model"] == "callaway_santanna_never_treated"]["term"].str.startswith("event").any()
    # recovery: the planted post-period effects lie inside their intervals for most outcomes
    truth = ccmc.truth().set_index(["outcome", "term"])["value"]
    post = twfe[twfe["term"].isin(["did2021", "did2022"])]
    inside = sum(r.ci_low <= truth[r.outcome, r.term] <= r.ci_high for r in post.itertuples())
    assert inside >= 12


def test_another_seed(tmp_path, default_results):
    results = execute_notebook(tmp_path, "ccmc_did", seed=5, mbar=["0", "1"])
    assert results["data"]["sha256"] != default_results["data"]["sha256"]
    intervals = pd.DataFrame(results["diagnostics"]["honest_did"]["intervals"])
    assert set(intervals.loc[intervals["restriction"] == "relative_magnitude", "bound"]) == {0.0, 1.0}


def user_panel(tmp_path: Path, staggered: bool = False) -> Path:
    frame = ccmc.generate(seed=9, staggered=staggered).rename(columns={
        "county_id": "县代码", "year": "年份", "treated": "打包支付", "first_treated": "实施年份",
        "outpatient_cost_per_visit": "次均门诊费用", "inpatient_reimbursement_rate": "住院实际报销比(%)"})
    keep = ["县代码", "年份", "打包支付" if not staggered else "实施年份", "次均门诊费用", "住院实际报销比(%)",
            "population_density"]
    path = tmp_path / "input" / "panel.csv"
    path.parent.mkdir()
    frame[keep].sample(frac=1.0, random_state=3).to_csv(path, index=False, encoding="gbk")
    return path


def run_cli(data: Path, out: Path, *settings: str) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("payreform")), "run", "ccmc-did", "--data", str(data), "--out",
               str(out), "--quiet", *settings]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_user_style_gbk_panel(tmp_path):
    data = user_panel(tmp_path)
    before = sha(data)
    done = run_cli(data, tmp_path / "out", "--set", "unit_column=县代码", "--set", "time_column=年份",
                   "--set", "treated_column=打包支付", "--set", "controls=population_density")
    assert done.returncode == 0, done.stderr
    assert sha(data) == before
    results = report.read_results(tmp_path / "out" / "results.json")
    outcomes = {e["outcome"] for e in results["estimates"] if e["model"] == "event_study_twfe"}
    assert outcomes == {"次均门诊费用", "住院实际报销比(%)"}
    assert results["data"]["encoding"] == "gbk"


def test_user_style_staggered_panel(tmp_path):
    data = user_panel(tmp_path, staggered=True)
    done = run_cli(data, tmp_path / "out", "--set", "unit_column=县代码", "--set", "time_column=年份",
                   "--set", "treated_column=none", "--set", "first_treated_column=实施年份", "--set", "controls=none",
                   "--set", "honest_term=event1", "--set", "outcomes=次均门诊费用")
    assert done.returncode == 0, done.stderr
    results = report.read_results(tmp_path / "out" / "results.json")
    terms = {e["term"] for e in results["estimates"] if e["model"] == "event_study_twfe"}
    assert "event1" in terms and "event-2" in terms
    assert results["diagnostics"]["staggered"]["source"] == "data"


def _bad(frame: pd.DataFrame, how: str) -> pd.DataFrame:
    frame = frame.copy()
    if how == "duplicate":
        frame.loc[6, "year"] = 2018
    elif how == "treatment_varies":
        frame.loc[7, "treated"] = 1 - frame.loc[7, "treated"]
    elif how == "no_control":
        frame["treated"] = 1
    elif how == "constant_control":
        frame["population_density"] = 100.0
    elif how == "text_outcome":
        frame["cost_per_discharge"] = frame["cost_per_discharge"].astype(object)
        frame.loc[12, "cost_per_discharge"] = "missing"
    return frame


@pytest.mark.parametrize("edit, settings, message", [
    ("duplicate", [], r"two rows for year 2018"),
    ("treatment_varies", [], r"column 'treated' changes within unit '2' \(0 in row 7, 1 in row 9\)"),
    ("no_control", [], r"no control"),
    ("constant_control", [], r"population_density"),
    ("text_outcome", [], r"column 'cost_per_discharge' has the non-numeric value 'missing'"),
    (None, ["--set", "did_base=2023"], r"2023"),
    (None, ["--set", "year_base=2017"], r"2017"),
    (None, ["--set", "honest_term=did2020"], r"honest_term"),
    (None, ["--set", "mbar=0,abc"], r"mbar"),
])
def test_panel_bad_input(tmp_path, edit, settings, message):
    frame = ccmc.generate(seed=2)
    if edit:
        frame = _bad(frame, edit)
    path = tmp_path / "input" / "panel.csv"
    path.parent.mkdir()
    frame.to_csv(path, index=False)
    assert_refused("ccmc-did", path, tmp_path / "out", settings, message)
