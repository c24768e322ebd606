"""The Sanming chapter end to end: notebooks through papermill (defaults, another seed, the budget
page with other parameters) and `payreform run sanming-itsa` on user-style long-format files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import assert_refused, execute_notebook, sha

from payreform import report
from payreform.synth import sanming

pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def default_results(root, tmp_path_factory):
    return execute_notebook(tmp_path_factory.mktemp("sanming"), "sanming_itsa")


def test_default_run_results(default_results):
    frame = pd.DataFrame(default_results["estimates"])
    single = frame[frame["model"] == "ols_newey_west"]
    assert set(single["group"]) == {"hospital", "community", "overall"}
    assert {"beta0", "beta1", "beta2", "beta3", "post_slope", "level_change_at_intervention"} <= set(single["term"])
    compared = frame[frame["model"] == "comparative_ols_newey_west"]
    assert set(compared["term"]) >= {"beta6", "beta7", "difference_in_level_change_at_intervention"}
    assert set(compared["group"]) == {"hospital-vs-community"}
    assert default_results["diagnostics"]["n_pre"] == 21
    # the estimates recover the truth the synthetic data carry (all inside their intervals on this seed)
    implied = sanming.implied_truth().set_index(["group", "outcome", "term"])["value"]
    inside = [row.ci_low <= implied[row.group, row.outcome, row.term] <= row.ci_high
              for row in single.itertuples() if row.term in ("beta1", "beta2", "beta3")]
    assert sum(inside) >= 0.85 * len(inside)


def test_another_seed(root, tmp_path, default_results):
    results = execute_notebook(tmp_path, "sanming_itsa", seed=11, add_overall=False, placebos=None)
    assert results["data"]["sha256"] != default_results["data"]["sha256"]
    assert "overall" not in {e["group"] for e in results["estimates"]}


def test_budget_page_with_other_parameters(root, tmp_path):
    results = execute_notebook(tmp_path, "sanming_budget", spending_growth=0.15, staff_share=0.0, years=4)
    accounts = pd.DataFrame(results["diagnostics"]["accounts"])
    assert len(accounts) == 8 and accounts["staff_pay"].sum() == 0.0
    assert (accounts["overspending"] > 0).any()
    assert np.allclose(accounts["budget"], accounts["spending"] + accounts["balance"] - accounts["overspending"])


def user_style_file(tmp_path: Path) -> Path:
    frame = sanming.generate(seed=5).rename(columns={
        "month": "月份", "institution": "机构类型", "medical_expenditure": "医疗费用",
        "outpatient_volume": "门诊人次", "inpatient_volume": "住院人次"})
    frame["机构类型"] = frame["机构类型"].map({"hospital": "医院", "community": "社区"})
    frame = frame.sample(frac=1.0, random_state=1)  # rows in any order
    path = tmp_path / "input" / "三明月度.csv"
    path.parent.mkdir()
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_user_style_long_csv_through_the_command(tmp_path):
    data = user_style_file(tmp_path)
    before = sha(data)
    out = tmp_path / "report"
    command = [str(Path(sys.executable).with_name("payreform")), "run", "sanming-itsa", "--data", str(data),
               "--out", str(out), "--quiet", "--set", "time_column=月份", "--set", "group_column=机构类型",
               "--set", "compare=社区,医院", "--set", "intervention=2018-01", "--set", "coding=zero_at_intervention",
               "--set", "placebos=2016-09,2017-03"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sha(data) == before
    results = report.read_results(out / "results.json")
    groups = {e["group"] for e in results["estimates"]}
    assert groups == {"医院", "社区", "overall", "社区-vs-医院"}
    assert results["diagnostics"]["n_pre"] == 24
    assert (out / "report.html").exists() and len(list((out / "figures").glob("*.png"))) >= 3


@pytest.mark.parametrize("edit, settings, message", [
    ("drop_community_month", [], r"group 'community' has no row for 2019-11 \(group 'hospital' has one\)"),
    ("duplicate_within_group", [], r"group 'hospital': period 2016-03 appears twice"),
    (None, ["--set", "compare=hospital,clinic"], r"compare' names group 'clinic'"),
    (None, ["--set", "group_column=type"], r"column 'type' not found"),
    (None, ["--set", "seasonal=season_dummies"], r"two-group comparison supports seasonal=none"),
])
def test_long_format_bad_input(tmp_path, edit, settings, message):
    frame = sanming.generate()
    if edit == "drop_community_month":
        frame = frame[~((frame.institution == "community") & (frame.month == "2019-11"))]
    elif edit == "duplicate_within_group":
        frame = frame.copy()
        frame.loc[3, "month"] = "2016-03"
    path = tmp_path / "input" / "long.csv"
    path.parent.mkdir()
    frame.to_csv(path, index=False)
    assert_refused("sanming-itsa", path, tmp_path / "out", settings, message)
