"""The did package's surface: one module per step with names re-exported, defaults derived from
the data, readable term labels, Table-1 balance layout, summaries, and no study year in the code."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from payreform import did
from payreform.contracts import validate_panel
from payreform.errors import ParameterError
from payreform.synth import ccmc

PACKAGE = Path(did.__file__).parent
KEY = dict(unit="county_id", time="year")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return ccmc.generate(seed=11)


def shifted(frame: pd.DataFrame, years: int) -> pd.DataFrame:
    """The same panel moved ``years`` years in calendar time (a stranger's calendar)."""
    out = frame.copy()
    out["year"] = out["year"] + years
    if "first_treated" in out:
        out["first_treated"] = np.where(out["first_treated"] > 0, out["first_treated"] + years, 0)
    return out


def test_one_module_per_step_and_names_re_exported():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert {"event_study", "checks", "honest", "staggered", "defaults"} <= modules
    for path in PACKAGE.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 800, path.name
    for name in did.__all__:
        assert getattr(did, name) is not None
    from payreform.did import breakdown_value, callaway_santanna, event_study, honest_did  # noqa: F401

    for module in ("event_study", "checks", "honest", "staggered", "defaults"):
        loaded = importlib.import_module(f"payreform.did.{module}")
        for name in loaded.__all__:
            assert getattr(did, name) is getattr(loaded, name), (module, name)


def test_no_year_literal_in_the_method_code():
    """Study years (1900-2100) appear only in docstrings' examples, never as numbers in the code."""
    found = []
    for path in PACKAGE.glob("*.py"):
        source = path.read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool) \
                    and 1900 <= node.value <= 2100 and "not a year" not in lines[node.lineno - 1]:
                found.append(f"{path.name}:{node.lineno} {node.value}")
    assert not found
    # the check itself finds a year
    tree = ast.parse("year_base = 2018")
    assert any(isinstance(n, ast.Constant) and n.value == 2018 for n in ast.walk(tree))


def test_public_functions_have_type_hints_and_examples():
    import inspect

    for name in did.__all__:
        obj = getattr(did, name)
        if inspect.isfunction(obj):
            signature = inspect.signature(obj)
            assert signature.return_annotation is not inspect.Signature.empty, name
            assert all(p.annotation is not inspect.Parameter.empty for p in signature.parameters.values()), name
            assert obj.__doc__ and ">>>" in obj.__doc__, name


@pytest.mark.parametrize("term, label", [
    ("did2014", "treated × 2014"), ("did1983", "treated × 1983"), ("year2014", "year 2014"),
    ("event1", "event time +1"), ("event-3", "event time -3"), ("event0", "event time 0"),
    ("average", "average of the post-period terms"), ("share_aged_65_plus", "share_aged_65_plus"),
    ("year_of_birth", "year_of_birth"), ("didactic", "didactic"),
])
def test_term_labels(term, label):
    assert did.term_label(term) == label


def test_defaults_of_a_common_adoption_panel(panel):
    checked = validate_panel(panel, **KEY, outcomes=["cost_per_discharge"], treated="treated")
    plain = did.design_defaults(checked)
    # a 0/1 column does not say when the treated units adopted
    assert plain.did_base is None and plain.first_post_term is None and plain.adoption_year is None
    assert plain.year_base == 2018 and plain.balance_years == (2018, 2022) and not plain.staggered
    told = did.design_defaults(checked, did_base=2020)
    assert told.did_base == 2020 and told.first_post_term == "did2021" and told.balance_years == (2018, 2020, 2022)
    assert "first post-period term did2021" in told.summary() and told.diagnostics()["did_base"] == 2020
    # an adoption-year column with one adoption year carries it, whatever the calendar
    moved = shifted(panel.assign(first_treated=np.where(panel["treated"] == 1, 2020, 0)), -11)
    checked = validate_panel(moved, **KEY, outcomes=["cost_per_discharge"], first_treated="first_treated")
    derived = did.design_defaults(checked)
    assert (derived.year_base, derived.adoption_year, derived.did_base) == (2007, 2009, 2009)
    assert derived.first_post_term == "did2010" and derived.balance_years == (2007, 2009, 2011)


def test_event_study_derives_its_bases_and_asks_for_did_base(panel):
    moved = shifted(panel, -30)  # 1988-1992
    with pytest.raises(ParameterError) as error:
        did.event_study(moved, outcome="patient_satisfaction", **KEY, treated="treated")
    message = str(error.value)
    assert "did_base" in message and "1988, 1989, 1990, 1991, 1992" in message and "\n" not in message
    fit = did.event_study(moved, outcome="patient_satisfaction", **KEY, treated="treated", did_base=1990)
    reference = did.event_study(panel, outcome="patient_satisfaction", **KEY, treated="treated", did_base=2020)
    assert fit.year_base == 1988 and fit.post_terms == ["did1991", "did1992"]
    np.testing.assert_allclose(fit.params.to_numpy(), reference.params.to_numpy(), rtol=1e-10)
    adopted = moved.assign(adopted=np.where(moved["treated"] == 1, 1990, 0))
    by_year = did.event_study(adopted, outcome="patient_satisfaction", **KEY, first_treated="adopted")
    assert by_year.did_base == 1990 and by_year.design == "common_adoption"
    np.testing.assert_allclose(by_year.params.to_numpy(), fit.params.to_numpy(), rtol=1e-10)


def test_honest_did_default_target_and_the_restriction_keyword(panel):
    fit = did.event_study(panel, outcome="income_primary_care_staff", **KEY, treated="treated", did_base=2020)
    sens = did.honest_did(fit, restriction="smoothness", m=[0.0])
    assert sens.target == "did2021" and sens.restriction == "smoothness"
    with pytest.raises(TypeError):
        did.honest_did(fit, method="smoothness")  # the old keyword is gone
    with pytest.raises(ParameterError, match="parameter 'restriction'"):
        did.honest_did(fit, restriction="smooth")
    assert did.breakdown_value(fit, restriction="smoothness") == did.breakdown_value(sens)


def test_balance_table_layout_of_table_1(panel):
    variables = ["population_density", "income_county_hospital_staff"]
    balance = did.balance_table(panel, **KEY, treated="treated", variables=variables, years=[2018, 2020, 2022])
    wide = balance.wide(digits=2)
    assert list(wide.index) == variables
    assert list(wide.columns.get_level_values(0)) == ["2018"] * 4 + ["2020"] * 4 + ["2022"] * 4 + \
        ["treated 2022 vs 2018"] * 2
    base = panel[panel["year"] == 2018]
    a = base.loc[base["treated"] == 1, "population_density"]
    b = base.loc[base["treated"] == 0, "population_density"]
    row = wide.loc["population_density"]
    assert row[("2018", "treated mean (SD)")] == f"{a.mean():,.2f} ({a.std():,.2f})"
    assert row[("2018", "control mean (SD)")] == f"{b.mean():,.2f} ({b.std():,.2f})"
    assert row[("2018", "difference")] == f"{a.mean() - b.mean():,.2f}"
    p = stats.ttest_ind(a, b, equal_var=False).pvalue
    assert row[("2018", "p")] == did.format_p(p)
    assert balance.significant(2018) == [v for v in variables
                                         if balance.between().query("year == 2018 and variable == @v")["p_value"]
                                         .item() < 0.05]
    assert "2018:" in balance.summary() and balance.diagnostics()["years"] == [2018, 2020, 2022]
    labelled = balance.wide(labels={"population_density": "Density"})
    assert list(labelled.index) == ["Density", "income_county_hospital_staff"]


def test_summaries_diagnostics_and_reprs(panel):
    fit = did.event_study(panel, outcome="patient_satisfaction", **KEY, treated="treated", did_base=2020)
    assert repr(fit).startswith("EventStudyResult(outcome='patient_satisfaction'")
    assert "reference year 2020" in fit.summary() and "did2021" in fit.summary()
    test = did.pretrend_test(fit)
    assert test.diagnostics()["df2"] == 527 and "F(2, 527)" in test.summary() and "PretrendTest" in repr(test)
    assert test.rejects(alpha=1.0) and not test.rejects(alpha=0.0)
    sens = did.honest_did(fit, mbar=[0, 1])
    assert sens.diagnostics()["intervals"][1]["bound"] == 1.0 and "Mbar = 1" in sens.summary()
    staggered = ccmc.generate(seed=11, staggered=True)
    cs = did.callaway_santanna(staggered, outcome="patient_satisfaction", **KEY, first_treated="first_treated")
    assert cs.diagnostics()["groups"] == [2019, 2020, 2021] and "event0" in cs.summary()
    assert "CallawaySantAnnaResult" in repr(cs)
