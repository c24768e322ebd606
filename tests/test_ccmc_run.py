"""The CCMC chapter runner: settings derived from the data, numbers against independent
implementations (pyfixest, scipy, moderndid, algebra), every glued value present, bad input
refused in one line by `prepare`, and the notebook through papermill once (slow)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from payreform import did, report
from payreform.chapters import ccmc_did
from payreform.errors import ContractError, ParameterError
from payreform.synth import ccmc

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def book() -> ccmc_did.CCMCResult:
    return ccmc_did.run(ccmc_did.prepare())


def close(a, b, tol):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) <= tol


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


# ============================================================================ settings


def test_settings_come_from_the_data_and_are_marked(book):
    s = book.settings
    assert s["year_base"] == ccmc.YEAR_BASE and s["did_base"] == ccmc.DID_BASE
    assert s["honest_term"] == f"did{ccmc.DID_BASE + 1}"
    assert s["outcomes"] == list(ccmc.OUTCOMES) and s["controls"] == list(ccmc.CONTROLS)
    for name in ("year_base", "did_base", "honest_term", "outcomes", "controls"):
        assert s.source(name) == "from the data", name
    assert s.source("mbar") == "default"
    assert book.design.balance_years == (ccmc.YEARS[0], ccmc.DID_BASE, ccmc.YEARS[-1])
    table = book.settings_table().set_index("parameter")
    assert table.loc["did_base", "source"] == "from the data"
    set_by_hand = ccmc_did.prepare(parameters={"outcomes": ["patient_satisfaction"], "did_base": ccmc.DID_BASE})
    assert set_by_hand.settings.source("did_base") == "set"
    assert set_by_hand.settings.source("outcomes") == "set"


def test_registry_matches_the_notebook(tmp_path):
    import jupytext
    import papermill

    source = tmp_path / "inspect.ipynb"
    jupytext.write(jupytext.read(ROOT / "notebooks" / "ccmc_did.py"), source)
    inspected = papermill.inspect_notebook(str(source))
    defaults = ccmc_did.CHAPTER.defaults()
    assert list(inspected) == list(defaults)
    for name, info in inspected.items():
        assert eval(info["default"]) == defaults[name], name  # noqa: S307 - literal defaults from our notebook
    names = [p.name for p in ccmc_did.PARAMETERS]
    assert names[:5] == ["data", "sheet", "language", "seed", "output_dir"] and names[-1] == "prepared_input"
    derived = {p.name for p in ccmc_did.PARAMETERS if p.derived}
    assert {"year_base", "did_base", "honest_term", "outcomes", "controls"} <= derived
    assert all(p.default is None for p in ccmc_did.PARAMETERS if p.derived)


def test_no_study_year_in_the_runner_and_notebook_code():
    """Years come from the data or from the synthetic generator's constants, never as literals."""
    import ast

    for path in (ROOT / "src/payreform/chapters/ccmc_did.py", ROOT / "notebooks/ccmc_did.py"):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
                assert not 1900 <= node.value <= 2100, f"{path.name}:{node.lineno}: {node.value}"
    code = "\n".join(line for line in (ROOT / "notebooks/ccmc_did.py").read_text().splitlines()
                     if not line.startswith("#"))
    assert not re.search(r"\b(19|20)\d\d\b", code.replace("20200101", "")), "a year in the notebook's code"
    assert "SPEC" not in (ROOT / "notebooks/ccmc_did.py").read_text()
    assert all(len(line) <= 100 for line in (ROOT / "notebooks/ccmc_did.py").read_text().splitlines())


# ============================================================================ numbers


@pytest.mark.parametrize("outcome", ["income_county_hospital_staff", "patient_satisfaction"])
def test_event_study_estimates_match_pyfixest(book, outcome):
    import pyfixest as pf

    panel = ccmc.generate()
    fit = book.fits[outcome]
    frame = panel.copy()
    for term in fit.year_terms:
        frame[term] = (frame["year"] == int(term[4:])).astype(float)
    for term, year in fit.interaction_periods.items():
        frame[term] = frame["treated"] * (frame["year"] == year)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixest = pf.feols(f"{outcome} ~ " + " + ".join(fit.params.index) + " | county_id", data=frame,
                          vcov={"CRV1": "county_id"})
    rows = book.estimates().query("model == 'event_study_twfe' and outcome == @outcome").set_index("term")
    assert close(rows["estimate"], fixest.coef()[rows.index], 1e-8)
    assert close(rows["std_error"], fixest.se()[rows.index], 1e-6)
    assert close(rows["p_value"], fixest.pvalue()[rows.index], 1e-6)
    assert rows.loc[f"did{ccmc.DID_BASE + 1}", "label"] == f"treated × {ccmc.DID_BASE + 1}"


def test_balance_table_matches_scipy(book):
    panel = ccmc.generate()
    rows = book.balance.table()
    for variable in ("population_density", "income_county_hospital_staff"):
        for year in book.design.balance_years:
            sub = panel[panel["year"] == year]
            a = sub.loc[sub["treated"] == 1, variable]
            b = sub.loc[sub["treated"] == 0, variable]
            row = rows.query("variable == @variable and year == @year and comparison == 'treated vs control'")
            row = row.iloc[0]
            assert row["p_value"] == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-9)
            assert row["sd_1"] == pytest.approx(a.std()) and row["mean_2"] == pytest.approx(b.mean())
    shown = book.balance_shown()
    assert shown.shape[0] == len(ccmc.OUTCOMES) + len(ccmc.CONTROLS)
    assert any(c.endswith("treated mean (SD)") for c in shown.columns)


def test_pretrend_tests_by_hand(book):
    for outcome, test in book.pretrends.items():
        fit = book.fits[outcome]
        terms = list(test.terms)
        b = fit.params[terms].to_numpy()
        w = b @ np.linalg.solve(fit.cov.loc[terms, terms].to_numpy(), b)
        assert test.statistic == pytest.approx(w / len(terms), rel=1e-10)
        assert test.p_value == pytest.approx(stats.f.sf(w / len(terms), len(terms), 527), rel=1e-8)
    # the paper's finding is planted: incomes fail, the others pass
    assert {o for o, t in book.pretrends.items() if t.rejects()} == set(ccmc.INCOME_OUTCOMES)


def test_honest_did_for_every_outcome_against_moderndid(book):
    from moderndid.didhonest import create_sensitivity_results_sm

    assert set(book.sensitivity) == set(ccmc.OUTCOMES)  # not only those failing the pre-test
    for analysis in book.sensitivity.values():
        assert analysis.relative is not None and analysis.smooth is not None and not analysis.note
        assert list(analysis.relative.bounds) == [0.0, 0.5, 1.0, 1.5, 2.0]
    smooth = book.sensitivity["income_primary_care_staff"].smooth
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = create_sensitivity_results_sm(betahat=smooth.betahat, sigma=smooth.sigma, num_pre_periods=2,
                                               num_post_periods=2, m_vec=list(smooth.bounds[1:]),
                                               l_vec=smooth.l_vec).to_pandas()
    assert np.max(np.abs(np.array(smooth.ci_low[1:]) - theirs["lb"])) < 1e-5
    assert np.max(np.abs(np.array(smooth.ci_high[1:]) - theirs["ub"])) < 1e-5
    # breakdown value by brute force: the set excludes zero just below it and contains it at it
    analysis = book.sensitivity["income_county_hospital_staff"]
    value = analysis.breakdown_mbar
    fit = book.fits["income_county_hospital_staff"]
    around = did.honest_did(fit, post_term=analysis.target, mbar=[value - 0.002, value])
    assert not around.ci_low[0] <= 0 <= around.ci_high[0] and around.ci_low[1] <= 0 <= around.ci_high[1]
    table = book.breakdown_table()
    assert len(table) == len(ccmc.OUTCOMES) and f"breakdown M̄, reference {ccmc.DID_BASE - 1}" in table


def test_previous_year_reference_is_the_same_model_measured_from_one_year_earlier(book):
    """did_t measured from the year before is did_t - did_(year before) measured from the adoption
    year: an identity of the two fits, checked for every term and outcome."""
    before = ccmc.DID_BASE - 1
    for outcome, analysis in book.sensitivity.items():
        main, previous = book.fits[outcome], analysis.previous_fit
        assert previous.did_base == before
        shift = main.params[f"did{before}"]
        for term, year in previous.interaction_periods.items():
            expected = -shift if year == ccmc.DID_BASE else main.params[term] - shift
            assert previous.params[term] == pytest.approx(expected, abs=1e-8)
    assert "ccmc_text_income_county_hospital_staff_reference" in book.glue_values()


def test_staggered_comparison_on_the_synthetic_panel(book):
    staggered = book.staggered
    assert staggered.source == "synthetic staggered panel" and staggered.shown == ccmc.STAGGERED_OUTCOME
    panel = ccmc.generate(staggered=True)
    keys = dict(unit="county_id", time="year", first_treated="first_treated", outcome=ccmc.STAGGERED_OUTCOME)
    side = staggered.side().set_index("term")
    twfe = did.event_study(panel, **keys)
    assert close(side["twfe_estimate"].dropna(), twfe.params[side["twfe_estimate"].dropna().index], 1e-10)
    # the noise-free lines: CS equals the truth, TWFE misses it by several standard errors (bias)
    assert np.max(np.abs(side["cs_noise_free"] - side["truth"])) < 1e-8
    bias = (side["twfe_noise_free"] - side["truth"]).abs() / side["twfe_std_error"]
    assert bias.max() > 3
    assert (side.loc[side["event_time"] >= 0, "twfe_noise_free"] - side.loc[side["event_time"] >= 0, "truth"]
            ).abs().max() / side["twfe_std_error"].max() > 1
    values = book.glue_values()
    assert values["ccmc_stag_twfe_bias_max_se"] == pytest.approx(bias.max())


def test_results_json_tables_and_figures(book, tmp_path):
    path = book.write(tmp_path, figures=True)
    results = report.read_results(path)
    assert results["chapter"] == "ccmc-did"
    estimates = pd.DataFrame(results["estimates"])
    assert set(estimates["model"]) == {"event_study_twfe", "event_study_twfe_previous_year_reference",
                                       "callaway_santanna_never_treated", "staggered_twfe"}
    assert "label" in estimates
    diagnostics = results["diagnostics"]
    assert set(diagnostics["honest_did"]["breakdown"]) == set(ccmc.OUTCOMES)
    assert diagnostics["design"]["did_base"] == ccmc.DID_BASE and diagnostics["staggered"]["source"]
    assert diagnostics["summary"] == book.summary() and diagnostics["warnings"] == book.warnings()
    assert set(diagnostics["derived_settings"]) >= {"year_base", "did_base", "honest_term"}
    assert sorted(p.stem for p in (tmp_path / "figures").glob("*.png")) == sorted(book.figure_names())
    assert (tmp_path / "tables" / "balance_table1.csv").exists()


def test_every_glued_value_of_the_pages_exists(book):
    values = book.glue_values()
    page = (ROOT / "book" / "ccmc_did.md").read_text()
    notebook = (ROOT / "notebooks" / "ccmc_did.py").read_text()
    keys = set(re.findall(r"ccmc_did\.py::(ccmc_[A-Za-z0-9_]+)", page))
    keys |= set(re.findall(r"\{glue:(?:text|md)?\}`(ccmc_[A-Za-z0-9_]+)", notebook))
    assert keys and not keys - set(values), sorted(keys - set(values))
    text_keys = [k for k in keys if k.startswith("ccmc_text_")]
    assert all(isinstance(values[k], str) for k in text_keys)
    assert all(isinstance(v, (int, float, str)) for v in values.values())


def test_summary_sentences_agree_with_the_estimates(book):
    """Each 'significantly above/below' or 'not significantly' claim of the summary matches the
    p-value and sign of the term it names, and the numbers are those of results.json."""
    estimates = book.estimates().query("model == 'event_study_twfe'")
    summary = book.summary()
    checked = 0
    for outcome in ccmc.OUTCOMES:
        block = next(p for p in summary.split("\n\n") if p.startswith(f"**{book.label(outcome)}**"))
        for row in estimates[(estimates["outcome"] == outcome) & estimates["term"].str.startswith("did")
                             & (estimates["term"] > f"did{ccmc.DID_BASE}")].itertuples():
            sentence = next(s for s in block.split("; ") if s.split("**: ")[-1].startswith(row.label))
            shown = float(re.search(r"= (−?[\d,]+\.\d+)", sentence).group(1).replace("−", "-").replace(",", ""))
            assert shown == pytest.approx(row.estimate, abs=0.006)
            if row.p_value < 0.05:
                assert ("significantly above" if row.estimate > 0 else "significantly below") in sentence
            else:
                assert "not significantly different from zero" in sentence
            checked += 1
        rejects = book.pretrends[outcome].rejects()
        assert ("rejects parallel pre-trends" in block) == rejects
        assert ("does not reject" in block) == (not rejects)
    assert checked == 2 * len(ccmc.OUTCOMES)


# ============================================================================ bad input, one line each


def user_panel(years_shift: int = -9) -> pd.DataFrame:
    """The synthetic panel as a stranger might hold it: other years, no study conventions."""
    frame = ccmc.generate(seed=3).drop(columns=list(ccmc.CONTROLS)[1:])
    frame["year"] = frame["year"] + years_shift
    return frame


def test_user_0_1_panel_asks_for_did_base_with_its_years():
    frame = user_panel()
    before = frame.copy()
    with pytest.raises(ParameterError) as error:
        ccmc_did.prepare(frame)
    message = one_line(error)
    assert "did_base" in message and "2009, 2010, 2011, 2012, 2013" in message
    pd.testing.assert_frame_equal(frame, before)
    prepared = ccmc_did.prepare(frame, {"did_base": 2011})
    assert prepared.settings["year_base"] == 2009 and prepared.settings["honest_term"] == "did2012"
    assert prepared.settings["controls"] is None  # the book's controls are never a silent default
    assert "log_population" in prepared.settings["outcomes"]  # a column like any other on user data


@pytest.mark.parametrize("change, expected", [
    ({"did_base": 2009}, r"did_base 2009 leaves no year before or after it"),
    ({"did_base": 2030}, r"did_base 2030 is not a year in column 'year'"),
    ({"year_base": 2000}, r"year_base 2000 is not a year"),
    ({"honest_term": "did2011"}, r"parameter 'honest_term' is 'did2011', not a post-period term"),
    ({"mbar": ["0", "x"]}, r"parameter 'mbar'"),
    ({"mbar": ["-1"]}, r"parameter 'mbar'"),
    ({"controls": ["density"]}, r"column 'density' not found.*controls="),
    ({"controls": ["trend"]}, r"control 'trend' is a linear combination of the year effects"),
    ({"outcomes": ["constant"]}, r"outcome 'constant' does not change within any unit"),
    ({"unit_column": "county"}, r"column 'county' not found.*did you mean 'county_id'"),
    ({"treated_column": None}, r"set treated_column"),
    ({"first_treated_column": "staggered", "did_base": 2011}, r"parameter 'did_base' does not apply"),
    ({"no_such": 1}, r"has no parameter 'no_such'"),
])
def test_bad_settings_are_refused_in_prepare(change, expected):
    frame = user_panel().assign(trend=lambda d: d["year"] * 2.0, constant=lambda d: d["county_id"] * 1.0)
    staggered = ccmc.generate(seed=3, staggered=True)["first_treated"]
    frame["staggered"] = np.where(staggered > 0, staggered - 9, 0)
    parameters = {"did_base": 2011, "outcomes": ["patient_satisfaction"]} | change
    with pytest.raises((ParameterError, ContractError)) as error:
        ccmc_did.prepare(frame, parameters)
    assert re.search(expected, one_line(error)), str(error.value)


def test_outcome_missing_in_the_base_year_is_refused_by_prepare_not_run():
    frame = user_panel()
    frame.loc[frame["year"] == 2009, "patient_satisfaction"] = np.nan
    with pytest.raises(ContractError, match="year_base 2009 has no rows with 'patient_satisfaction'"):
        ccmc_did.prepare(frame, {"did_base": 2011, "outcomes": ["patient_satisfaction"]})


def _bad_panel(edit: str) -> pd.DataFrame:
    frame = ccmc.generate(seed=2)
    if edit == "duplicate":
        frame.loc[6, "year"] = frame.loc[5, "year"]
    elif edit == "treatment_varies":
        frame.loc[7, "treated"] = 1 - frame.loc[7, "treated"]
    elif edit == "no_control":
        frame["treated"] = 1
    elif edit == "constant_control":
        frame["population_density"] = 100.0
    elif edit == "text_outcome":
        frame["cost_per_discharge"] = frame["cost_per_discharge"].astype(object)
        frame.loc[12, "cost_per_discharge"] = "missing"
    elif edit == "year_text":
        frame["year"] = frame["year"].astype(str) + "年度x"
    return frame


@pytest.mark.parametrize("edit, settings, message", [
    ("duplicate", ["--set", "did_base=2020"], r"unit '2' has two rows for year"),
    ("treatment_varies", ["--set", "did_base=2020"], r"column 'treated' changes within unit '2'"),
    ("no_control", ["--set", "did_base=2020"], r"no control unit"),
    ("constant_control", ["--set", "did_base=2020", "--set", "controls=population_density"],
     r"control 'population_density' does not change within any unit"),
    ("text_outcome", ["--set", "did_base=2020"], r"column 'cost_per_discharge' has the non-numeric value 'missing'"),
    (None, [], r"parameter 'did_base' is needed: .*2018, 2019, 2020, 2021, 2022"),
    (None, ["--set", "did_base=2023"], r"did_base 2023 is not a year"),
    (None, ["--set", "did_base=2020", "--set", "year_base=2017"], r"year_base 2017 is not a year"),
    (None, ["--set", "did_base=2020", "--set", "honest_term=did2020"], r"parameter 'honest_term' is 'did2020'"),
    (None, ["--set", "did_base=2020", "--set", "mbar=0,abc"], r"parameter 'mbar'"),
    (None, ["--set", "did_base=2020", "--set", "controls=log_gdp"], r"column 'log_gdp' not found"),
])
def test_payreform_run_refuses_bad_panels_in_one_line(tmp_path, edit, settings, message):
    """`payreform run ccmc-did` on a user's CSV: exit status 2, one line, input untouched, nothing written."""
    from helpers import assert_refused

    frame = _bad_panel(edit) if edit else ccmc.generate(seed=2)
    path = tmp_path / "input" / "panel.csv"
    path.parent.mkdir()
    frame.to_csv(path, index=False)
    assert_refused("ccmc-did", path, tmp_path / "out", settings, message)


# ============================================================================ the notebook


@pytest.mark.slow
def test_notebook_through_papermill(tmp_path, book):
    import jupytext
    import papermill

    source = tmp_path / "ccmc.ipynb"
    jupytext.write(jupytext.read(ROOT / "notebooks" / "ccmc_did.py"), source)
    papermill.execute_notebook(str(source), str(tmp_path / "executed.ipynb"), kernel_name="python3",
                               parameters={"output_dir": str(tmp_path / "out"), "mbar": ["0", "1"]},
                               progress_bar=False, cwd=str(tmp_path))
    results = report.read_results(tmp_path / "out" / "results.json")
    assert results["parameters"]["mbar"] == ["0", "1"]
    ours = pd.DataFrame(results["estimates"]).query("model == 'event_study_twfe'")
    expected = book.estimates().query("model == 'event_study_twfe'")
    assert np.allclose(ours["estimate"].to_numpy(), expected["estimate"].to_numpy(), rtol=1e-12)
    assert sorted(p.stem for p in (tmp_path / "out" / "figures").glob("*.png")) == sorted(book.figure_names())
    executed = (tmp_path / "executed.ipynb").read_text()
    assert "Traceback" not in executed and "book-voice" in executed
