"""`payreform run youxi-itsa` on strangers' series, with only column names (and the
intervention, which no data can tell) set: public series shipped with R (Seatbelts, Nile, UKgas),
written as an analyst would export them (GBK with Chinese headers, Excel with real dates, Excel
with Chinese headers, semicolons and Chinese quarter labels). Every number is checked against R
(tests/fixtures/stranger/make_itsa_stranger.R) and every report against the book's study facts."""

from __future__ import annotations

import html as html_module
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import sha

from payreform import report
from payreform.cli import main

pytestmark = pytest.mark.slow

STRANGER = Path(__file__).parent / "fixtures" / "stranger"
REFERENCE = pd.read_csv(STRANGER / "r_itsa_stranger.csv")
BOOK_FACTS = ("Youxi", "Zhong", "Sanming", "2017-10", "October 2017", "2016-02", "2019-11", "46 months",
              "paper", "synthetic", "planted", "SPEC", "Spring Festival", "county hospital", "{glue", "{doc}",
              "{cite", "Exercises")


def seatbelts_gbk(folder: Path) -> Path:
    frame = pd.read_csv(STRANGER / "itsa_seatbelts.csv")
    frame = frame.rename(columns={"month": "月份", "drivers_killed": "驾驶员死亡人数", "front_seat": "前排伤亡",
                                  "rear_seat": "后排伤亡", "van_drivers_killed": "货车司机死亡"})
    frame["月份"] = [f"{m[:4]}年{int(m[5:])}月" for m in frame["月份"]]
    path = folder / "交通伤亡.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    return path


def seatbelts_excel_dates(folder: Path) -> Path:
    frame = pd.read_csv(STRANGER / "itsa_seatbelts.csv")
    frame["month"] = pd.to_datetime(frame["month"] + "-01")  # real Excel date cells
    path = folder / "seatbelts.xlsx"
    frame.rename(columns={"month": "Month"}).to_excel(path, index=False, sheet_name="monthly")
    return path


def nile_excel(folder: Path) -> Path:
    path = folder / "尼罗河.xlsx"
    pd.read_csv(STRANGER / "itsa_nile.csv").rename(columns={"year": "年份", "flow": "流量"}).to_excel(
        path, index=False)
    return path


def ukgas_semicolons(folder: Path) -> Path:
    frame = pd.read_csv(STRANGER / "itsa_ukgas.csv")
    frame["quarter"] = [f"{q[:4]}年{q[-1]}季度" for q in frame["quarter"]]
    path = folder / "gas.csv"
    frame.rename(columns={"quarter": "季度", "gas": "用气量"}).to_csv(path, index=False, sep=";")
    return path


CASES = [
    # (data set in the R reference, writer, --set values, outcome column, model)
    ("seatbelts", seatbelts_gbk, ["time_column=月份", "outcomes=驾驶员死亡人数", "intervention=1983-02",
                                  "inference=newey_west"],
     "驾驶员死亡人数", "ols_newey_west"),
    ("seatbelts_log", seatbelts_excel_dates, ["time_column=Month", "outcomes=drivers_killed",
                                              "intervention=1983-02", "log=true", "inference=newey_west"],
     "drivers_killed", "ols_newey_west"),
    ("seatbelts_vans", seatbelts_excel_dates, ["time_column=Month", "outcomes=van_drivers_killed",
                                               "intervention=1983-02", "model=quasipoisson"],
     "van_drivers_killed", "quasipoisson"),
    ("nile", nile_excel, ["time_column=年份", "intervention=1899", "inference=newey_west"], "流量", "ols_newey_west"),
    ("ukgas_log", ukgas_semicolons, ["time_column=季度", "intervention=1975Q1", "log=true", "inference=newey_west"],
     "用气量", "ols_newey_west"),
]


def visible_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<script.*?</script>|<style.*?</style>", " ", raw, flags=re.S)
    return html_module.unescape(re.sub(r"<[^>]+>", " ", raw))


@pytest.mark.parametrize("dataset, writer, settings, outcome, model", CASES, ids=[c[0] for c in CASES])
def test_stranger_series_match_r_and_the_report_speaks_about_them(tmp_path, dataset, writer, settings,
                                                                  outcome, model):
    folder = tmp_path / "input"
    folder.mkdir()
    data = writer(folder)
    before = sha(data)
    out = tmp_path / "report"
    args = ["run", "youxi-itsa", "--data", str(data), "--out", str(out), "--quiet"]
    for item in settings:
        args += ["--set", item]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    assert sha(data) == before and [p.name for p in folder.iterdir()] == [data.name]

    results = report.read_results(out / "results.json")
    assert results["parameters"]["coding"] == "zero_at_intervention"  # derived for a user's data
    ours = pd.DataFrame(results["estimates"])
    ours = ours[(ours["model"] == model) & (ours["outcome"] == outcome)].set_index("term")
    reference = REFERENCE[REFERENCE["dataset"] == dataset].set_index("term")
    assert len(reference) >= 5
    for term, ref in reference.iterrows():
        for column in ("estimate", "std_error", "p_value", "ci_low", "ci_high"):
            assert ours.loc[term, column] == pytest.approx(ref[column], rel=1e-6, abs=1e-9), (term, column)

    text = visible_text(out / "report.html")
    for fact in BOOK_FACTS:
        assert fact not in text, fact
    relative = ours.loc["relative_effect"]
    side = "below" if relative["estimate"] < 0 else "above"
    assert f"{100 * abs(relative['estimate']):.1f}% {side} the counterfactual" in text
    assert results["data"]["rows"] == len(pd.read_csv(STRANGER / f"itsa_{dataset.split('_')[0]}.csv"))
