"""The GZ chapter end to end: the notebook through papermill (defaults, and another seed with
clustered groups), and `payreform run gz-capitation` on a user-style file, including bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from helpers import assert_refused, execute_notebook, sha

from payreform import report
from payreform.synth import gz

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def default_results(tmp_path_factory):
    return execute_notebook(tmp_path_factory.mktemp("gz"), "gz_capitation")


def test_default_run_results(default_results):
    frame = pd.DataFrame(default_results["estimates"])
    assert set(frame["model"]) == {"screening", "payment model", "standard"}
    model = frame[frame["model"] == "payment model"]
    assert {"intercept", "gender_age_2_3", "ocsd_1", "inpatient_1"} <= set(model["term"])
    assert set(model["scheme"]) == set(gz.SCHEMES) and set(model["year"]) == set(gz.YEARS)
    truth = gz.truth("coefficients").set_index(["scheme", "year", "term"])["value"]
    big = model[model["term"].isin(["intercept", "gender_age_2_3", "inpatient_1"])]
    inside = [r.ci_low <= truth[r.scheme, r.year, r.term] <= r.ci_high for r in big.itertuples()]
    assert sum(inside) >= len(inside) - 1
    diagnostics = default_results["diagnostics"]
    assert diagnostics["drop_los"] is True
    half = pd.DataFrame(diagnostics["simulation"]).query("scheme == 'total' and omega == 0.5")
    assert 4.0 < half["savings_pct"].item() < 7.0
    assert diagnostics["min_cell_size"] == 10
    assert diagnostics["paper"]["savings"]["printed_pct"] == 5.47
    assert default_results["parameters"]["groups"] == "paper"
    given = frame[frame["estimate"].notna()]
    assert (given["persons"] >= 10).all()


def test_other_seed_and_clustered_groups(tmp_path, default_results):
    results = execute_notebook(tmp_path, "gz_capitation", seed=3, groups="clustered",
                               weighting="persons", min_cell_size=20)
    assert results["data"]["sha256"] != default_results["data"]["sha256"]
    assert results["parameters"]["groups"] == "clustered"
    assert results["diagnostics"]["min_cell_size"] == 20
    assert "paper" not in results["diagnostics"]  # the paper's checks need the paper's groups
    frame = pd.DataFrame(results["estimates"])
    assert (frame.loc[frame["estimate"].notna(), "persons"] >= 20).all()


def user_file(tmp_path: Path) -> Path:
    frame = gz.generate(seed=4, scale=0.002).rename(columns={"scheme": "险种",
                                                             "fund_exp": "统筹支付"})
    frame["险种"] = frame["险种"].map({"UEBHI": "职工", "URRBHI": "居民"})
    path = tmp_path / "input" / "settlements.csv"
    path.parent.mkdir()
    frame.to_csv(path, index=False, encoding="gbk")
    return path


def test_user_style_file_through_the_command(tmp_path):
    from click.testing import CliRunner

    from payreform.cli import main

    data = user_file(tmp_path)
    before = sha(data)
    outcome = CliRunner().invoke(main, [
        "run", "gz-capitation", "--data", str(data), "--out", str(tmp_path / "out"), "--quiet",
        "--set", "scheme_column=险种", "--set", "fund_exp_column=统筹支付",
        "--set", "omega_step=0.25"])
    assert outcome.exit_code == 0, outcome.output
    assert sha(data) == before
    results = report.read_results(tmp_path / "out" / "results.json")
    omegas = sorted({row["omega"] for row in results["diagnostics"]["simulation"]})
    assert omegas == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert results["parameters"]["groups"] == "clustered"
    assert results["data"]["encoding"] == "gbk" and results["data"]["sha256"] == before
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    # no person-level table in the shareable report
    assert not re.search(r"<th[^>]*>\s*(person_id|统筹支付)\s*</th>", html)
    assert "职工" in html and "UEBHI" not in html


@pytest.mark.parametrize("edit, settings, message", [
    ("age", [], r"column 'age'.*130.*row 7"),
    ("scheme", ["--set", "schemes=UEBHI:employees,URRBHI:residents"],
     r"column 'scheme' has the unknown code 'UEBHIX' in row 10"),
    ("separator", [], r"column 'ocsd' has 'DM,CHD' in row 11; separate disease codes with ';'"),
    ("duplicate", [], r"person '11' appears more than once in year \d+ \(row 12 and row 13\)"),
    ("negative", [], r"column 'fund_exp'.*-5"),
    (None, ["--set", "base_year=1999"], r"parameter 'base_year' is 1999"),
    (None, ["--set", "groups=ours"], r"parameter 'groups'"),
    (None, ["--set", "omega_step=0"], r"omega_step"),
    (None, ["--set", "k_age=A:2"], r"parameter 'k_age' names the scheme 'A'"),
])
def test_person_year_bad_input(tmp_path, edit, settings, message):
    frame = gz.generate(seed=2, scale=0.001)
    if edit == "age":
        frame.loc[5, "age"] = 130
    elif edit == "scheme":
        frame["scheme"] = frame["scheme"].astype(object)
        frame.loc[8, "scheme"] = "UEBHIX"
    elif edit == "separator":
        frame["ocsd"] = frame["ocsd"].astype(object)
        frame.loc[9, "ocsd"] = "DM,CHD"
    elif edit == "duplicate":
        frame.loc[11, ["person_id", "year"]] = frame.loc[10, ["person_id", "year"]].to_numpy()
    elif edit == "negative":
        frame.loc[12, "fund_exp"] = -5.0
    path = tmp_path / "input" / "records.csv"
    path.parent.mkdir()
    frame.to_csv(path, index=False)
    assert_refused("gz-capitation", path, tmp_path / "out", settings, message)
