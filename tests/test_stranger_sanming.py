"""The two Sanming chapters on a stranger's data: real-shaped data sets that are not the book's (other
column and group names, Chinese headers, GBK, Excel, quarterly series, three groups, other years and
units), each run with only its column names (and the intervention, which cannot be derived) set.

Numbers are checked against independent computations (statsmodels OLS with `cov_hac` after
statsmodels' own multiplicative decomposition, a hand-built stacked regression with `cov_nw_panel`,
plain arithmetic for the budget rules). The slow tests run `payreform run` through click's
CliRunner and check that the report speaks only about the data it was given and that its summary
quotes the numbers of results.json. Nothing is downloaded."""

from __future__ import annotations

import html as html_module
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from helpers import sha
from statsmodels.stats.sandwich_covariance import cov_nw_panel
from statsmodels.tsa.seasonal import seasonal_decompose

from payreform import chapters, report
from payreform.chapters import sanming_budget, sanming_itsa

# ----------------------------------------------------------------------------- the data sets


@dataclass(frozen=True)
class Stranger:
    """A data set written to disk, the settings a user would give, and what an independent check needs."""

    name: str
    chapter: str
    write: object  # callable(folder) -> Path
    settings: dict
    truth: dict  # what the data were built with, for the independent computation
    absent: tuple[str, ...]  # book facts that must not appear in a report on these data


def grouped_frame(periods: pd.PeriodIndex, groups: dict[str, dict], start: pd.Period, seed: int,
                  outcomes: dict[str, float], period_label) -> pd.DataFrame:
    """Long frame: per group and outcome, exp(level + slope t + jump X + change XT + AR(1)) x season."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, len(periods) + 1, dtype=float)
    post = (periods >= start).astype(float)
    since = np.where(post > 0, t - t[post.argmax()], 0.0)
    per_year = {"M": 12, "Q": 4}[periods.freqstr[0]]
    season_of = np.asarray(periods.month if per_year == 12 else periods.quarter) - 1
    frames = []
    for group, shape in groups.items():
        columns = {"period": [period_label(p) for p in periods], "group": group}
        for outcome, level in outcomes.items():
            pattern = 1 + 0.06 * np.cos(2 * np.pi * np.arange(per_year) / per_year + shape["phase"])
            noise = np.zeros(len(t))
            for i in range(len(t)):
                noise[i] = (0.4 * noise[i - 1] if i else 0.0) + rng.normal(0, shape["sd"])
            log_y = (np.log(level * shape["size"]) + shape["slope"] * t + shape["jump"] * post
                     + shape["change"] * since + noise)
            columns[outcome] = np.round(np.exp(log_y) * pattern[season_of], 1)
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True)


def write_gbk_monthly(folder: Path) -> Path:
    periods = pd.period_range("2014-01", "2018-12", freq="M")
    groups = {"县级医院": {"size": 3.0, "slope": 0.006, "jump": -0.05, "change": -0.004, "sd": 0.02, "phase": 0.0},
              "乡镇卫生院": {"size": 1.0, "slope": 0.010, "jump": 0.03, "change": 0.002, "sd": 0.03, "phase": 0.5}}
    frame = grouped_frame(periods, groups, pd.Period("2016-07", "M"), 11,
                          {"医疗费用(万元)": 2000.0, "门诊人次": 80000.0, "住院人次": 5000.0},
                          lambda p: f"{p.year}年{p.month}月")
    frame = frame.rename(columns={"period": "月份", "group": "机构类型"}).sample(frac=1.0, random_state=3)
    path = folder / "县域月度数据.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    return path


def write_xlsx_quarterly(folder: Path) -> Path:
    periods = pd.period_range("2012Q1", "2019Q4", freq="Q")
    groups = {"tertiary": {"size": 4.0, "slope": 0.015, "jump": -0.08, "change": -0.010, "sd": 0.015, "phase": 0.3},
              "primary": {"size": 1.0, "slope": 0.020, "jump": 0.05, "change": 0.005, "sd": 0.02, "phase": 1.0}}
    frame = grouped_frame(periods, groups, pd.Period("2016Q1", "Q"), 12, {"visits": 250000.0, "spending_rmb": 4.0e7},
                          lambda p: f"{p.year}Q{p.quarter}")
    frame = frame.rename(columns={"period": "quarter", "group": "provider"})
    path = folder / "provider_quarters.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="export", index=False)
    return path


def write_three_districts(folder: Path) -> Path:
    periods = pd.period_range("2008-01", "2012-12", freq="M")
    groups = {"north": {"size": 1.0, "slope": 0.004, "jump": 0.0, "change": 0.0, "sd": 0.025, "phase": 0.0},
              "south": {"size": 1.5, "slope": 0.004, "jump": -0.10, "change": -0.006, "sd": 0.025, "phase": 0.2},
              "east": {"size": 0.7, "slope": 0.002, "jump": 0.0, "change": 0.0, "sd": 0.03, "phase": 0.4}}
    frame = grouped_frame(periods, groups, pd.Period("2010-09", "M"), 13, {"admissions": 1200.0},
                          lambda p: f"{p.year}-{p.month:02d}-01")
    frame = frame.rename(columns={"period": "date", "group": "district"})
    path = folder / "districts.csv"
    frame.to_csv(path, index=False, sep=";")
    return path


def write_budget_gbk(folder: Path) -> Path:
    frame = pd.DataFrame({"年份": [f"{y}年" for y in range(2015, 2022)],
                          "医保支出(万元)": [31000.0, 33400, 36100, 33000, 35200, 38900, 41000],
                          "常住人口(万人)": [52.1, 52.3, 52.4, 52.6, 52.5, 52.7, 52.8],
                          "人均筹资(元)": [560.0, 610, 660, 700, 730, 760, 800]})
    path = folder / "医共体预算.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    return path


def write_budget_xlsx(folder: Path) -> Path:
    frame = pd.DataFrame({"fiscal_year": [2009, 2010, 2011, 2012, 2013],
                          "outlay_million": [88.0, 92.5, 101.0, 97.0, 104.0],
                          "budget_million": [90.0, 95.0, 99.0, 103.0, 107.0],
                          "passed": [1, 1, 0, 1, 1]})
    path = folder / "coalition.xlsx"
    frame.to_excel(path, index=False, engine="openpyxl")
    return path


def write_budget_yuan(folder: Path) -> Path:
    frame = pd.DataFrame({"yr": [2030, 2031, 2032, 2033], "spend_yuan": [4.1e8, 4.4e8, 4.2e8, 4.9e8],
                          "pop": [510_000, 512_000, 515_000, 517_000], "per_capita_premium": [820.0, 860, 900, 930]})
    path = folder / "county_2030s.csv"
    frame.to_csv(path, index=False)
    return path


ITSA_ABSENT = ("Sanming", "Lin et al", "Lin, Liu", "2017-10", "October 2017", "2019-11", "Table 4",
               "paper", "synthetic", "planted", "SPEC", "T_0 = 22", "47 periods", "Hospitals", "hospital",
               "community", "Community", "{glue", "{doc}", "{cite", "Exercises", "Youxi")
BUDGET_ABSENT = ("Youxi", "362,000", "362000", "illustrative", "synthetic", "SPEC", "Lin et al", "{glue", "{doc}",
                 "{cite", "Exercises", "300.0", "Table 2")

STRANGERS = [
    Stranger("gbk-monthly", "sanming-itsa", write_gbk_monthly,
             {"time_column": "月份", "group_column": "机构类型", "intervention": "2016-07",
              "inference": "newey_west"},
             {"groups": ("县级医院", "乡镇卫生院"), "outcomes": ("医疗费用(万元)", "门诊人次", "住院人次"), "freq": 12,
              "time": "月份", "group": "机构类型", "start": "2016-07"}, ITSA_ABSENT),
    Stranger("xlsx-quarterly", "sanming-itsa", write_xlsx_quarterly,
             {"time_column": "quarter", "group_column": "provider", "intervention": "2016Q1",
              "inference": "newey_west"},
             {"groups": ("tertiary", "primary"), "outcomes": ("visits", "spending_rmb"), "freq": 4, "time": "quarter",
              "group": "provider", "start": "2016Q1"}, ITSA_ABSENT + ("2016-01", "a month", "busy month")),
    Stranger("three-districts", "sanming-itsa", write_three_districts,
             {"time_column": "date", "group_column": "district", "intervention": "2010-09", "compare": "south,north",
              "inference": "newey_west"},
             {"groups": ("north", "south", "east"), "outcomes": ("admissions",), "freq": 12, "time": "date",
              "group": "district", "start": "2010-09", "compare": ("south", "north")}, ITSA_ABSENT + ("2016-01",)),
    Stranger("budget-gbk", "sanming-budget", write_budget_gbk,
             {"year_column": "年份", "spending_column": "医保支出(万元)", "population_column": "常住人口(万人)",
              "premium_column": "人均筹资(元)"},
             {"year": "年份", "spending": "医保支出(万元)", "unit": 1e4, "population": "常住人口(万人)",
              "persons": 1e4, "premium": "人均筹资(元)"}, BUDGET_ABSENT + ("million RMB",)),
    Stranger("budget-xlsx", "sanming-budget", write_budget_xlsx,
             {"year_column": "fiscal_year", "spending_column": "outlay_million", "budget_column": "budget_million",
              "assessment_column": "passed"},
             {"year": "fiscal_year", "spending": "outlay_million", "budget": "budget_million", "passed": "passed"},
             BUDGET_ABSENT + ("2018", "2019")),
    Stranger("budget-yuan", "sanming-budget", write_budget_yuan,
             {"year_column": "yr", "spending_column": "spend_yuan", "population_column": "pop",
              "premium_column": "per_capita_premium"},
             {"year": "yr", "spending": "spend_yuan", "unit": 1.0, "population": "pop", "persons": 1.0,
              "premium": "per_capita_premium"}, BUDGET_ABSENT + ("million RMB", "2018", "2019")),
]
ITSA = [s for s in STRANGERS if s.chapter == "sanming-itsa"]
BUDGET = [s for s in STRANGERS if s.chapter == "sanming-budget"]
RUNNERS = {"sanming-itsa": sanming_itsa, "sanming-budget": sanming_budget}


def typed(stranger: Stranger) -> dict:
    """The settings as ``payreform run`` would parse them."""
    chapter = RUNNERS[stranger.chapter].CHAPTER
    return chapter.parse_settings([f"{k}={v}" for k, v in stranger.settings.items()])


def run_runner(stranger: Stranger, folder: Path):
    data_folder = folder / "input"
    data_folder.mkdir()
    path = stranger.write(data_folder)
    runner = RUNNERS[stranger.chapter]
    return path, runner.run(runner.prepare(path, typed(stranger)))


# ----------------------------------------------------------------------------- independent computations


def independent_itsa(frame: pd.DataFrame, truth: dict, group: str, outcome: str, coding_origin_zero: bool = True):
    """statsmodels: multiplicative decomposition, ln(y + 1), OLS with Newey-West (lag from the rule)."""
    part = frame[frame[truth["group"]].astype(str) == group].copy()
    from payreform.periods import parse_periods

    part.index = parse_periods(part[truth["time"]], truth["time"])
    part = part.sort_index()
    y = part[outcome].astype(float)
    seasonal = seasonal_decompose(y.to_numpy(), model="multiplicative", period=truth["freq"]).seasonal
    z = np.log(y.to_numpy() / seasonal + 1)
    n = len(z)
    t = np.arange(1, n + 1, dtype=float)
    start = pd.Period(truth["start"], part.index.freq)
    t0 = int(np.flatnonzero(part.index == start)[0]) + 1
    post = (t >= t0).astype(float)
    design = np.column_stack([np.ones(n), t, post, np.where(post > 0, t - t0, 0.0)])
    lag = int(np.floor(4 * (n / 100) ** (2 / 9)))
    fit = sm.OLS(z, design).fit(cov_type="HAC", cov_kwds={"maxlags": lag, "use_correction": True}, use_t=True)
    return fit, z, design, lag


def read_frame(path: Path) -> pd.DataFrame:
    if path.suffix == ".xlsx":
        return pd.read_excel(path, engine="openpyxl")
    for encoding in ("utf-8", "gbk"):
        try:
            text = path.read_bytes().decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    sep = ";" if text.splitlines()[0].count(";") else ","
    return pd.read_csv(path, sep=sep, encoding=encoding)


@pytest.mark.parametrize("stranger", ITSA, ids=lambda s: s.name)
def test_itsa_numbers_match_statsmodels(tmp_path, stranger):
    path, result = run_runner(stranger, tmp_path)
    truth = stranger.truth
    frame = read_frame(path)
    estimates = result.estimates()
    for group in truth["groups"]:
        for outcome in truth["outcomes"]:
            fit, _, _, lag = independent_itsa(frame, truth, group, outcome)
            ours = estimates[(estimates["model"] == "ols_newey_west") & (estimates["group"] == group)
                             & (estimates["outcome"] == outcome)].set_index("term")
            for i, term in enumerate(("beta0", "beta1", "beta2", "beta3")):
                assert ours.loc[term, "estimate"] == pytest.approx(fit.params[i], rel=1e-9, abs=1e-12)
                assert ours.loc[term, "std_error"] == pytest.approx(fit.bse[i], rel=1e-8)
                assert ours.loc[term, "p_value"] == pytest.approx(fit.pvalues[i], rel=1e-6, abs=1e-12)
            assert result.settings["hac_lags"] == lag
            # the relative effect at the last period: exp(beta2 + beta3 (T_last - T0)) - 1 under the jump coding
            horizon = int(result.settings["horizon"])
            effect = ours.loc["relative_effect", "estimate"]
            assert effect == pytest.approx(np.expm1(fit.params[2] + fit.params[3] * horizon), rel=1e-9)
    # derived settings are marked, the user's are "set"
    assert result.settings.source("intervention") == "set"
    assert result.settings["coding"] == "zero_at_intervention" and result.settings.source("coding") == "from the data"
    assert result.settings.source("placebos") == "from the data"


@pytest.mark.parametrize("stranger", ITSA, ids=lambda s: s.name)
def test_two_group_model_matches_a_stacked_regression(tmp_path, stranger):
    path, result = run_runner(stranger, tmp_path)
    truth = stranger.truth
    frame = read_frame(path)
    in_file_order = list(dict.fromkeys(frame[truth["group"]].astype(str)))  # two groups: the first against the second
    group, reference = truth.get("compare", in_file_order[:2])
    assert result.settings["compare"] == [group, reference]
    for outcome in truth["outcomes"]:
        first, z1, design, lag = independent_itsa(frame, truth, group, outcome)
        _, z0, _, _ = independent_itsa(frame, truth, reference, outcome)
        n = len(z1)
        stacked = np.vstack([np.hstack([design, np.zeros_like(design)]), np.hstack([design, design])])
        fit = sm.OLS(np.r_[z0, z1], stacked).fit()
        cov = cov_nw_panel(fit, lag, [(0, n), (n, 2 * n)])
        ours = result.comparisons[outcome]
        assert np.allclose(ours.params.to_numpy(), fit.params, rtol=1e-9, atol=1e-12)
        assert np.allclose(ours.cov.to_numpy(), cov, rtol=1e-8, atol=1e-15)


def test_three_groups_and_the_sum(tmp_path):
    stranger = next(s for s in ITSA if s.name == "three-districts")
    path, result = run_runner(stranger, tmp_path)
    assert result.grouped.groups == ("north", "south", "east", "overall")
    frame = read_frame(path)
    total = frame.groupby("date")["admissions"].sum().to_numpy()
    assert np.allclose(result.grouped.series["overall"].frame["admissions"].to_numpy(), total)
    # placebo dates from the pre-period (2008-01 to 2010-08: 32 months): three, six months from each end
    assert result.settings["placebos"] == ["2008-07", "2009-05", "2010-03"]
    direct = result.placebo[(result.placebo["group"] == "south") & (result.placebo["placebo"] == "2009-05")].iloc[0]
    from payreform.itsa import segmented_regression

    analysed = result.analyses[("south", "admissions")].analysed
    pre = segmented_regression(analysed[analysed.index < pd.Period("2010-09", "M")], intervention="2009-05",
                               hac_lags=result.settings["hac_lags"])
    assert direct["beta3"] == pytest.approx(pre.params["beta3"])
    assert direct["beta3_p"] == pytest.approx(pre.term("beta3").p_value)


def budget_by_hand(stranger: Stranger, path: Path, settings) -> dict[str, list[float]]:
    """The accounts of both rules and the one-year saving, with plain Python arithmetic."""
    t = stranger.truth
    frame = read_frame(path)
    years = [int(re.match(r"\d{4}", str(y)).group()) for y in frame[t["year"]]]
    spending = [float(v) for v in frame[t["spending"]]]
    withheld = settings["withheld_share"]
    if "budget" in t:
        population_budget = [float(v) for v in frame[t["budget"]]]
    else:
        population_budget = [float(p) * t["persons"] * float(q) / t["unit"] * (1 - withheld)
                             for p, q in zip(frame[t["population"]], frame[t["premium"]], strict=True)]
    passed = [bool(v) for v in frame[t["passed"]]] if "passed" in t else [True] * len(years)
    w, g, share = settings["other_population_weight"], settings["other_budget_growth"], settings["other_overspending_borne"]

    def accounts(spend, rule):
        rows = []
        for i, s in enumerate(spend):
            if rule == "impm":
                b = population_budget[i]
            else:
                last = spend[0] if i == 0 else spend[i - 1] * (1 + g)
                b = w * population_budget[i] + (1 - w) * last
            balance, over = max(b - s, 0.0), max(s - b, 0.0)
            bears = over * (1.0 if rule == "impm" else share)
            retained = balance if passed[i] else 0.0
            rows.append({"budget": b, "balance": balance, "overspending": over, "coalition_bears": bears,
                         "retained_balance": retained,
                         "staff_pay": retained * (settings["staff_share"] if rule == "impm" else 0.0)})
        return rows

    out = {}
    k = years.index(settings["saving_year"])
    saved = list(spending)
    saved[k] *= 1 - settings["saving"]
    for rule in ("impm", "other"):
        base, with_saving = accounts(spending, rule), accounts(saved, rule)
        out[rule] = base
        out[f"{rule}_net"] = sum((b2["retained_balance"] - b2["coalition_bears"]) - (b1["retained_balance"]
                                 - b1["coalition_bears"]) for b1, b2 in zip(base, with_saving, strict=True))
        out[f"{rule}_later"] = sum(b2["budget"] - b1["budget"]
                                   for b1, b2 in list(zip(base, with_saving, strict=True))[k + 1:])
    out["years"] = years
    return out


@pytest.mark.parametrize("stranger", BUDGET, ids=lambda s: s.name)
def test_budget_numbers_match_arithmetic(tmp_path, stranger):
    path, result = run_runner(stranger, tmp_path)
    s = result.settings
    expected = budget_by_hand(stranger, path, s)
    assert list(result.inputs.years) == expected["years"]
    assert s["saving_year"] == expected["years"][1] and s.source("saving_year") == "from the data"
    for key, name in (("impm", "Sanming IMPM"), ("other", "Other regions")):
        part = result.accounts[result.accounts["rule"] == name].reset_index(drop=True)
        for column in ("budget", "balance", "overspending", "coalition_bears", "retained_balance", "staff_pay"):
            assert np.allclose(part[column], [row[column] for row in expected[key]], rtol=1e-12, atol=1e-9), (key, column)
        account = result.rule_account(key)
        assert account["net_change"] == pytest.approx(expected[f"{key}_net"], rel=1e-12, abs=1e-9)
        assert account["budget_change_later"] == pytest.approx(expected[f"{key}_later"], rel=1e-12, abs=1e-9)
    if "unit" in stranger.truth:
        assert s["spending_unit"] == stranger.truth["unit"] and s.source("spending_unit") == "from the data"


# ----------------------------------------------------------------------------- through `payreform run`


def test_chapters_are_registered():
    assert chapters.get("sanming-itsa") is sanming_itsa.CHAPTER
    assert chapters.get("sanming-budget") is sanming_budget.CHAPTER


def report_text(path: Path) -> str:
    """The visible text of report.html (scripts and styles removed)."""
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<script.*?</script>|<style.*?</style>", " ", raw, flags=re.S)
    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", raw)))


def itsa_summary_numbers(results: dict) -> list[str]:
    """Phrases the summary must quote from results.json: every β3 in percent and every effect at the horizon."""
    phrases = []
    for e in results["estimates"]:
        if e["model"] != "ols_newey_west":
            continue
        if e["term"] == "beta3":
            phrases.append(f"{abs(100 * np.expm1(e['estimate'])):.2f}% a ")
        if e["term"] == "relative_effect":
            side = "above" if e["estimate"] > 0 else "below"
            phrases.append(f"{abs(100 * e['estimate']):.1f}% {side} the counterfactual")
    return phrases


def budget_summary_numbers(results: dict) -> list[str]:
    net = [e for e in results["estimates"] if e["outcome"] == "saving_account" and e["term"] == "net_change"]
    return [f"{v:,.{1 if abs(v) >= 10 else 2}f}".replace("-", "−") for v in (e["estimate"] for e in net)]


@pytest.mark.slow
@pytest.mark.parametrize("stranger", STRANGERS, ids=lambda s: s.name)
def test_payreform_run_on_a_stranger(tmp_path, stranger):
    from click.testing import CliRunner

    from payreform.cli import main

    folder = tmp_path / "input"
    folder.mkdir()
    data = stranger.write(folder)
    before = sha(data)
    out = tmp_path / "report"
    arguments = ["run", stranger.chapter, "--data", str(data), "--out", str(out), "--quiet"]
    for key, value in stranger.settings.items():
        arguments += ["--set", f"{key}={value}"]
    done = CliRunner().invoke(main, arguments)
    assert done.exit_code == 0, done.output
    assert sha(data) == before and sorted(p.name for p in folder.iterdir()) == [data.name]
    results = report.read_results(out / "results.json")
    assert results["chapter"] == stranger.chapter
    text = report_text(out / "report.html")
    for fact in stranger.absent:
        assert fact not in text, fact
    assert "from the data" in text and "Traceback" not in text
    assert results["diagnostics"]["summary"].split("\n")[0][:60] in text
    if stranger.chapter == "sanming-itsa":
        for group in stranger.truth["groups"]:
            assert group in text
        assert stranger.truth["start"] in text
        for phrase in itsa_summary_numbers(results):
            assert phrase in text, phrase
        assert len(list((out / "figures").glob("residuals_*.png"))) == len(results["diagnostics"]["series"])
    else:
        for phrase in budget_summary_numbers(results):
            assert phrase in text, phrase
        assert str(results["diagnostics"]["years"][0]) in text
