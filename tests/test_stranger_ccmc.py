"""ccmc-did on strangers' panels, with only column names set (and did_base where the run asks).

Three real-shaped panels that ship inside installed test dependencies (nothing is downloaded):

* the HonestDiD README's Medicaid-expansion state panel (moderndid's ``ehec``: 43 states,
  2008-2015, adoption in 2014; adoption years after 2015 count as never treated), as an Excel
  workbook with Chinese headers;
* ``mpdta`` (moderndid; 500 counties, 2003-2007, adoption in 2004, 2006 or 2007: staggered),
  as a semicolon-separated CSV with its own column names;
* linearmodels' ``wage_panel`` (545 men, 1980-1987, a 0/1 group column: did_base must be
  asked for), unbalanced, as a GBK CSV with Chinese headers and two controls.

Each is checked against an independent computation (pyfixest, moderndid, the R HonestDiD
README, scipy). The slow tests run the whole chapter as ``payreform run`` does
(:func:`payreform.execute.run_chapter`: the notebook through papermill, report.html) and check
that the report states none of the book's study facts and that its sentences carry the numbers
of results.json.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from payreform import report
from payreform.chapters import ccmc_did
from payreform.errors import ParameterError

HONEST = json.loads((Path(__file__).parent / "fixtures" / "honestdid_example.json").read_text())
BOOK_YEARS = {"2018", "2020", "2021", "2022"}
CITATIONS = re.compile(r"(Roth|Abraham|Sant['’]Anna|Pakes)[\s,(]*(et al\.)?\s*\(?(19|20)\d\d")


def close(a, b, tol):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) <= tol


def sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


# ============================================================================ the three panels

EHEC_COLUMNS = {"stfips": "州", "year": "年份", "dins": "医保覆盖率", "yexp2": "扩面年份", "W": "人口权重"}
EHEC = {"unit_column": "州", "time_column": "年份", "first_treated_column": "扩面年份"}


@pytest.fixture(scope="module")
def ehec_file(tmp_path_factory) -> Path:
    import moderndid

    frame = moderndid.load_ehec().to_pandas()
    frame = frame[(frame["year"] < 2016) & (frame["yexp2"] != 2015)].rename(columns=EHEC_COLUMNS)
    path = tmp_path_factory.mktemp("ehec") / "medicaid_states.xlsx"
    frame.to_excel(path, index=False, engine="openpyxl")
    return path


MPDTA = {"unit_column": "countyreal", "first_treated_column": "first.treat"}


@pytest.fixture(scope="module")
def mpdta_file(tmp_path_factory) -> Path:
    import moderndid

    path = tmp_path_factory.mktemp("mpdta") / "mpdta.csv"
    moderndid.load_mpdta().to_pandas().to_csv(path, index=False, sep=";")
    return path


WAGE_COLUMNS = {"nr": "个人编号", "year": "年份", "black": "黑人", "lwage": "对数工资", "married": "已婚",
                "union": "工会会员", "hours": "工作小时"}
WAGE = {"unit_column": "个人编号", "time_column": "年份", "treated_column": "黑人"}


@pytest.fixture(scope="module")
def wage_file(tmp_path_factory) -> Path:
    from linearmodels.datasets import wage_panel

    frame = wage_panel.load().sample(frac=0.95, random_state=8).sort_values(["nr", "year"])
    path = tmp_path_factory.mktemp("wage") / "工资面板.csv"
    frame.rename(columns=WAGE_COLUMNS).to_csv(path, index=False, encoding="gbk")
    return path


def direct(path: Path, settings: dict) -> ccmc_did.CCMCResult:
    return ccmc_did.run(ccmc_did.prepare(str(path), settings))


def dummies(frame: pd.DataFrame, fit, unit: str, time: str, treated: pd.Series | None) -> tuple[pd.DataFrame, list]:
    """The fit's year and interaction columns written out for pyfixest (formula-safe names)."""
    out = frame.copy()
    names = []
    for term in fit.year_terms:
        out[term] = (out[time] == int(term[4:])).astype(float)
        names.append(term)
    for term, period in fit.interaction_periods.items():
        name = term.replace("-", "m")
        if fit.design == "event_time":
            out[name] = ((treated > 0) & (out[time] - treated == period)).astype(float)
        else:
            out[name] = treated * (out[time] == period)
        names.append(name)
    return out, names


def feols(formula: str, data: pd.DataFrame, cluster: str):
    import pyfixest as pf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(formula, data=data, vcov={"CRV1": cluster})


# ============================================================================ numbers (fast)


def test_medicaid_states_from_excel_with_chinese_headers(ehec_file):
    before = sha(ehec_file)
    result = direct(ehec_file, EHEC)
    s = result.settings
    # derived from the data: the first year, the single adoption year in the window, the term after it
    assert (s["year_base"], s["did_base"], s["honest_term"]) == (2008, 2014, "did2015")
    assert s["outcomes"] == ["医保覆盖率"]  # the weight column is constant within a state
    assert all(s.source(k) == "from the data" for k in ("year_base", "did_base", "honest_term", "outcomes"))
    fit = result.fits["医保覆盖率"]
    assert fit.n_units == 43 and fit.n_treated_units == 22  # 2016+ adopters are comparison states here
    frame = pd.read_excel(ehec_file, engine="openpyxl")
    treated = (frame["扩面年份"] == 2014).astype(float)
    data, names = dummies(frame.rename(columns={"医保覆盖率": "y"}), fit, "州", "年份", treated)
    fixest = feols("y ~ " + " + ".join(names) + " | 州", data, "州")
    rows = result.estimates().query("model == 'event_study_twfe'").set_index("term")
    assert close(rows.loc[fit.params.index, "estimate"], fixest.coef()[names], 1e-8)
    assert close(rows.loc[fit.params.index, "std_error"], fixest.se()[names], 1e-6)
    assert result.balance.years == (2008, 2014, 2015)
    # with 2014 as reference the 2013-2014 change (the expansion's first year) is a "pre" term;
    # measured from 2013 the earlier years tell whether trends diverged before
    main, previous = result.pretrends["医保覆盖率"], result.previous_pretrends["医保覆盖率"]
    assert previous.terms == ("did2008", "did2009", "did2010", "did2011", "did2012")
    disagree = main.rejects() != previous.rejects()
    assert ("Measured from 2013 instead" in result.summary()) == disagree
    assert "Measured from 2013 instead" in result.pretrend_text()
    assert sha(ehec_file) == before


def test_medicaid_states_reproduce_the_honestdid_readme(ehec_file):
    """With 2013 as reference (the README's choice) the run's HonestDiD intervals for did2014 are
    the R package's, printed in its README."""
    expected = HONEST["relative_magnitude_first_post"]
    result = direct(ehec_file, EHEC | {"did_base": 2013, "mbar": [str(m) for m in expected["Mbar"]]})
    assert result.settings["honest_term"] == "did2014"
    fit = result.fits["医保覆盖率"]
    assert close(fit.params[HONEST["terms"]], HONEST["betahat"], 1e-10)
    relative = result.sensitivity["医保覆盖率"].relative
    assert np.max(np.abs(np.array(relative.ci_low) - expected["lb"])) < 1e-3
    assert np.max(np.abs(np.array(relative.ci_high) - expected["ub"])) < 1e-3
    assert 1.5 < result.sensitivity["医保覆盖率"].breakdown_mbar <= 2.0  # README: significant up to 1.5


def test_staggered_county_panel_mpdta(mpdta_file):
    import moderndid
    import polars as pl
    from moderndid.didhonest import create_sensitivity_results_sm

    result = direct(mpdta_file, MPDTA)
    s = result.settings
    assert s["outcomes"] == ["lemp"]  # lpop and treat do not change within a county
    assert s["year_base"] == 2003 and s["did_base"] is None and s["honest_term"] == "event0"
    assert result.design.staggered and result.design.balance_years == (2003, 2007)
    fit = result.fits["lemp"]
    frame = pd.read_csv(mpdta_file, sep=";")
    data, names = dummies(frame, fit, "countyreal", "year", frame["first.treat"])
    fixest = feols("lemp ~ " + " + ".join(names) + " | countyreal", data, "countyreal")
    assert close(fit.params.to_numpy(), fixest.coef()[names].to_numpy(), 1e-8)
    # Callaway-Sant'Anna against moderndid (universal base, never treated, analytic errors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = moderndid.att_gt(data=pl.from_pandas(frame), yname="lemp", tname="year", idname="countyreal",
                                  gname="first.treat", est_method="reg", boot=False, base_period="universal")
        dynamic = moderndid.aggte(theirs, type="dynamic", boot=False)
    reference = pd.Series(np.asarray(dynamic.att_by_event), index=np.asarray(dynamic.event_times))
    side = result.staggered.side("lemp")
    assert result.staggered.source == "data"
    assert close(side["cs_estimate"].to_numpy(), reference[side["event_time"]].to_numpy(), 1e-10)
    # HonestDiD on event-time terms: smoothness intervals against moderndid
    smooth = result.sensitivity["lemp"].smooth
    assert smooth.pre_terms == ("event-4", "event-3", "event-2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm = create_sensitivity_results_sm(betahat=smooth.betahat, sigma=smooth.sigma, num_pre_periods=3,
                                           num_post_periods=4, m_vec=list(smooth.bounds[1:]),
                                           l_vec=smooth.l_vec).to_pandas()
    assert np.max(np.abs(np.array(smooth.ci_low[1:]) - sm["lb"])) < 1e-5
    assert np.isfinite(result.sensitivity["lemp"].breakdown_mbar)


def test_unbalanced_gbk_wage_panel_asks_for_did_base_then_matches_pyfixest(wage_file):
    with pytest.raises(ParameterError) as error:
        ccmc_did.prepare(str(wage_file), WAGE)
    message = str(error.value)
    assert "\n" not in message and "did_base" in message and "1980, 1981" in message and "1987" in message
    result = direct(wage_file, WAGE | {"did_base": 1983, "outcomes": ["对数工资"], "controls": ["已婚", "工会会员"]})
    fit = result.fits["对数工资"]
    assert not result.prepared.panel.balanced and fit.year_base == 1980
    frame = pd.read_csv(wage_file, encoding="gbk")
    data, names = dummies(frame, fit, "个人编号", "年份", frame["黑人"].astype(float))
    data = data.rename(columns={"对数工资": "y", "已婚": "married", "工会会员": "union"})
    fixest = feols("y ~ " + " + ".join(names + ["married", "union"]) + " | 个人编号", data, "个人编号")
    ours = fit.params.rename({"已婚": "married", "工会会员": "union"})
    assert close(ours.to_numpy(), fixest.coef()[ours.index].to_numpy(), 1e-8)
    assert close(np.sqrt(np.diag(fit.cov)), fixest.se()[ours.index].to_numpy(), 1e-6)
    # balance: Welch's test in the first year, by scipy
    first = frame[frame["年份"] == 1980]
    row = result.balance.between().query("variable == '对数工资' and year == 1980").iloc[0]
    welch = stats.ttest_ind(first.loc[first["黑人"] == 1, "对数工资"], first.loc[first["黑人"] == 0, "对数工资"],
                            equal_var=False)
    assert row["p_value"] == pytest.approx(welch.pvalue, rel=1e-9)
    assert any("unbalanced" in w for w in result.warnings())
    # the default outcomes leave out experience, which the year and person effects fit exactly
    everything = ccmc_did.prepare(str(wage_file), WAGE | {"did_base": 1983})
    assert "exper" not in everything.settings["outcomes"] and "exper" in everything.dropped_outcomes


# ============================================================================ whole runs (slow)


def visible_text(report_html: str) -> str:
    """The report's text without markup, embedded images, styles and scripts."""
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", report_html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    import html

    return html.unescape(text)


def assert_speaks_about_the_data(out: Path, years_in_data: set[str], place_words: tuple[str, ...] = ()) -> None:
    text = visible_text((out / "report.html").read_text(encoding="utf-8"))
    results = report.read_results(out / "results.json")
    assert "SPEC" not in text and "528" not in text
    for word in ("Youxi", "Sanming", "CCMC", "bundled payment", "the paper", *place_words):
        assert word not in text, word
    without_citations = CITATIONS.sub(" ", text)
    for year in BOOK_YEARS - years_in_data:
        assert not re.search(rf"\b{year}\b", without_citations), year
    # the summary's numbers are those of results.json
    summary = results["diagnostics"]["summary"]
    assert summary.split("\n\n")[0][:60] in text
    estimates = pd.DataFrame(results["estimates"]).query("model == 'event_study_twfe'")
    found = re.findall(r"((?:treated × \d{4})|(?:event time [+-]?\d+)) = (−?[\d,]+\.\d+)", summary)
    assert found
    for label, shown in found:
        value = float(shown.replace("−", "-").replace(",", ""))
        matches = estimates[estimates["label"] == label]["estimate"]
        decimals = len(shown.split(".")[1])
        assert any(abs(value - m) <= 0.51 * 10 ** -decimals for m in matches), (label, shown)


@pytest.mark.slow
def test_run_medicaid_states(ehec_file, tmp_path):
    from payreform.execute import run_chapter

    before = sha(ehec_file)
    settings = ccmc_did.CHAPTER.parse_settings([f"{k}={v}" for k, v in EHEC.items()])
    output = run_chapter(ccmc_did.CHAPTER, ehec_file, settings, tmp_path / "out", progress=False)
    assert sha(ehec_file) == before
    results = report.read_results(output.results)
    estimates = pd.DataFrame(results["estimates"]).query("model == 'event_study_twfe'").set_index("term")
    direct_fit = direct(ehec_file, EHEC).fits["医保覆盖率"]
    assert close(estimates.loc[direct_fit.params.index, "estimate"], direct_fit.params, 1e-12)
    assert results["parameters"]["did_base"] == 2014
    assert_speaks_about_the_data(output.directory, {"2008", "2015", "2016", "2017", "2019"},
                                 ("county", "counties"))


@pytest.mark.slow
def test_run_staggered_mpdta(mpdta_file, tmp_path):
    from payreform.execute import run_chapter

    settings = ccmc_did.CHAPTER.parse_settings([f"{k}={v}" for k, v in MPDTA.items()])
    output = run_chapter(ccmc_did.CHAPTER, mpdta_file, settings, tmp_path / "out", progress=False)
    results = report.read_results(output.results)
    assert results["diagnostics"]["staggered"]["source"] == "data"
    models = set(pd.DataFrame(results["estimates"])["model"])
    assert models == {"event_study_twfe", "callaway_santanna_never_treated"}
    assert_speaks_about_the_data(output.directory, {"2003", "2004", "2005", "2006", "2007"})


@pytest.mark.slow
def test_run_wage_panel(wage_file, tmp_path):
    from payreform.execute import run_chapter

    settings = ccmc_did.CHAPTER.parse_settings([f"{k}={v}" for k, v in WAGE.items()]
                                               + ["did_base=1983", "outcomes=对数工资,工作小时"])
    output = run_chapter(ccmc_did.CHAPTER, wage_file, settings, tmp_path / "out", progress=False)
    results = report.read_results(output.results)
    assert results["diagnostics"]["panel"]["balanced"] is False
    assert results["diagnostics"]["staggered"]["source"] is None
    assert_speaks_about_the_data(output.directory, {str(y) for y in range(1980, 1988)}, ("county", "counties"))


@pytest.mark.slow
def test_payreform_run_command_on_a_stranger_panel(mpdta_file, tmp_path):
    from click.testing import CliRunner

    from payreform.cli import main

    sets = [item for k, v in MPDTA.items() for item in ("--set", f"{k}={v}")]
    done = CliRunner().invoke(main, ["run", "ccmc-did", "--data", str(mpdta_file), "--out", str(tmp_path / "out"),
                                     "--quiet", *sets])
    assert done.exit_code == 0, done.output
    results = report.read_results(tmp_path / "out" / "results.json")
    assert results["parameters"]["honest_term"] == "event0"
    refused = CliRunner().invoke(main, ["run", "ccmc-did", "--data", str(mpdta_file), "--out",
                                        str(tmp_path / "refused"), *sets, "--set", "did_base=2004"])
    assert refused.exit_code == 2 and "did_base" in refused.output and "Traceback" not in refused.output
