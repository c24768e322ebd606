"""The gz-capitation runner without papermill: prepare (one pass, derived settings and their
source, one-line errors), run (results, tables, figures, glue values, summary, warnings), the
prepared input handed to the notebook, and the registry against the notebook's parameters."""

from __future__ import annotations

import json

import jupytext
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import papermill
import pytest
from matplotlib.figure import Figure

from payreform.chapters import gz_capitation as chapter
from payreform.chapters.base import SOURCE_DATA, SOURCE_DEFAULT, SOURCE_SET
from payreform.errors import ContractError, ParameterError
from payreform.synth import gz

SMALL = {"scale": 0.002}


@pytest.fixture(scope="module")
def prepared():
    return chapter.prepare(parameters=SMALL)


@pytest.fixture(scope="module")
def result(prepared):
    return chapter.run(prepared)


def test_prepare_derives_settings_and_says_so(prepared):
    s = prepared.settings
    assert prepared.book_data and prepared.data["source"] == "synthetic"
    assert prepared.data["rows"] == prepared.cells.rows > 30_000
    for name, value in (("base_year", gz.YEARS[0]), ("target_year", gz.YEARS[1]),
                        ("groups", "paper"), ("los", "drop")):
        assert s[name] == value and s.source(name) == SOURCE_DATA, name
    assert s["schemes"] == list(gz.SCHEMES) and s.source("schemes") == SOURCE_DATA
    assert [k.split(":")[0] for k in s["k_age"]] == list(gz.SCHEMES)
    assert s.source("k_age") == SOURCE_DATA and s.source("k_disease") == SOURCE_DATA
    assert s.source("scale") == SOURCE_SET and s.source("weighting") == SOURCE_DEFAULT
    table = prepared.settings.table()
    assert (table.loc[table["parameter"] == "target_year", "source"] == SOURCE_DATA).all()


def test_prepared_input_round_trip(prepared, tmp_path):
    path = prepared.save(tmp_path / "prepared.pickle")
    again = chapter.prepare(parameters={"prepared_input": str(path)})
    pd.testing.assert_frame_equal(again.cells.atoms, prepared.cells.atoms)
    assert again.settings.values() == prepared.settings.values()
    with pytest.raises(ParameterError, match="not written for chapter 'gz-capitation'"):
        from payreform.chapters.base import PreparedInput
        other = PreparedInput(chapter="youxi-itsa", settings=prepared.settings, data={})
        chapter.prepare(parameters={"prepared_input": str(other.save(tmp_path / "o.pickle"))})


def test_run_results_tables_and_write(result, tmp_path):
    estimates = result.estimates()
    assert set(estimates["model"]) == {"screening", "payment model", "standard"}
    assert list(estimates.columns[:9]) == ["model", "outcome", "term", "estimate", "std_error",
                                           "p_value", "ci_low", "ci_high", "n_obs"]
    given = estimates[estimates["estimate"].notna()]
    assert (given["persons"] >= 10).all()
    tables = result.tables()
    for name in ("estimates", "persons", "screening", "age_groups", "disease_groups",
                 "standards", "simulation", "predictive_ratios", "fit_statistics", "settings",
                 "paper_groupings"):
        assert name in tables, name
    path = result.write(tmp_path, figures=True)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["chapter"] == "gz-capitation"
    assert document["diagnostics"]["years"] == list(gz.YEARS)
    assert "target_year" in document["diagnostics"]["derived_settings"]
    assert document["diagnostics"]["summary"] == result.summary()
    assert sorted(p.stem for p in (tmp_path / "figures").glob("*.png")) == sorted(
        result.figure_names())
    assert sorted(p.stem for p in (tmp_path / "tables").glob("*.csv")) == sorted(tables)


@pytest.mark.parametrize("name", ["calinski_harabasz", "standards_heatmap", "savings_by_omega",
                                  "predictive_ratios"])
def test_figures_draw(result, name):
    fig = result.figure(name)
    assert isinstance(fig, Figure) and fig.axes
    plt.close(fig)
    with pytest.raises(KeyError, match="available"):
        result.figure("nothing")


def test_glue_values_are_the_results(result):
    values = result.glue_values()
    simulation = result.analysis.simulation.at(0.5).set_index("scheme")
    assert values["gz_savings_pct_half"] == simulation.loc["total", "savings_pct"]
    assert values["gz_target_year"] == gz.YEARS[1]
    assert values["gz_paper_savings_pct_printed"] == 5.47
    assert values["gz_se_ratio_full_city"] == pytest.approx(
        result.book.se_ratio["ratio"].median())
    # at a fifth of the 1% city the standard errors still scale to the full city's
    assert 0.35 < values["gz_se_ratio_full_city"] < 0.7
    assert values["gz_n_intervals"] == len(result.book.coefficients)
    assert all(np.isfinite(v) for v in values.values() if isinstance(v, float))


def test_derived_numbers_of_groups_are_the_rules(prepared, result):
    ages = result.analysis.age_groups
    assert prepared.settings["k_age"] == [f"{s}:{ages.k(s)}" for s in gz.SCHEMES]
    assert set(ages.rule.values()) <= {"first peak of the Calinski-Harabasz index",
                                       "elbow of the within-group sum of squares (the "
                                       "Calinski-Harabasz index has no first peak)"}


def test_summary_and_warnings_follow_the_run(result):
    text = result.summary()
    base, target = gz.YEARS
    assert f"estimated for {base} and {target}" in text
    assert "the GZ paper's published groups" in text
    assert "Length of stay is left out" in text
    warnings = result.warnings()
    assert any("pooling" in w for w in warnings)
    assert any("suppressed" in w for w in warnings)


def test_clustered_groups_and_settings_set(result):
    other = chapter.run(chapter.prepare(parameters={**SMALL, "groups": "clustered",
                                                    "k_age": ["2"], "k_disease": ["URRBHI:2"],
                                                    "omega_step": 0.25, "los": "keep"}))
    s = other.settings
    assert s.source("groups") == SOURCE_SET and s["k_age"] == ["2"]
    assert other.analysis.age_groups.k("UEBHI") == other.analysis.age_groups.k("URRBHI") == 2
    assert other.analysis.disease_groups.rule["URRBHI"] == "given"
    assert other.analysis.disease_groups.rule["UEBHI"] != "given"
    assert sorted(other.analysis.simulation.table()["omega"].unique()) == [0, 0.25, 0.5, 0.75, 1]
    assert other.analysis.standards.include_los
    assert other.book is None  # the paper comparison needs the paper's groups
    assert "groups clustered from these data" in other.summary()


@pytest.mark.parametrize("settings, error, message", [
    ({"k_age": ["x"]}, ParameterError, r"parameter 'k_age' has 'x'; write one number or "
                                       r"SCHEME:NUMBER"),
    ({"k_age": ["C:3"]}, ParameterError, r"parameter 'k_age' names the scheme 'C'; the data "
                                         r"have UEBHI, URRBHI"),
    ({"k_disease": ["30"]}, ParameterError, r"parameter 'k_disease' is 30 but UEBHI has only"),
    ({"base_year": 2000}, ParameterError, r"parameter 'base_year' is 2000; the data have"),
    ({"base_year": gz.YEARS[1]}, ParameterError, r"base_year and target_year are both"),
    ({"omega_step": 0.3}, ParameterError, r"omega_step"),
    ({"min_cell_size": 0}, ParameterError, r"min_cell_size"),
    ({"groups": "ours"}, ParameterError, r"parameter 'groups' is 'ours'"),
    ({"groups": "file"}, ParameterError, r"groups=file needs a diseases file with a 'group'"),
    ({"diseases": "/nonexistent/diseases.csv"}, ParameterError, r"diseases file: data file"),
    ({"schemes": ["UEBHI:employees"]}, ContractError,
     r"column 'scheme' has the unknown code 'URRBHI'"),
    ({"fund_exp_column": "fund"}, ContractError, r"column 'fund' not found \(did you mean "
                                                 r"'fund_exp'\?\)"),
    ({"sted": 1}, ParameterError, r"no parameter 'sted' \(did you mean 'seed'\?\)"),
])
def test_bad_settings_are_refused_in_one_line(settings, error, message):
    with pytest.raises(error, match=message) as raised:
        chapter.prepare(parameters={**SMALL, **settings})
    assert "\n" not in str(raised.value)


def test_groups_paper_refused_on_other_schemes():
    frame = gz.generate(seed=2, scale=0.001).assign(scheme=lambda f: f["scheme"].map(
        {"UEBHI": "310", "URRBHI": "390"}))
    with pytest.raises(ParameterError, match="scheme '310' is not one of them"):
        chapter.prepare(frame, {"groups": "paper"})
    prepared = chapter.prepare(frame, {"groups": "paper", "schemes": ["310:UEBHI",
                                                                      "390:URRBHI"]})
    assert prepared.settings["groups"] == "paper" and not prepared.book_data


def test_registry_matches_the_notebook(tmp_path):
    source = tmp_path / "inspect.ipynb"
    jupytext.write(jupytext.read(chapter.CHAPTER.notebook_path()), source)
    inspected = papermill.inspect_notebook(str(source))
    defaults = chapter.CHAPTER.defaults()
    assert list(inspected) == list(defaults)
    for name, info in inspected.items():
        assert eval(info["default"]) == defaults[name], name  # noqa: S307 - our notebook's literals
    names = [p.name for p in chapter.PARAMETERS]
    assert names[:2] == ["data", "sheet"] and names[-1] == "prepared_input"


def test_report_texts_in_both_languages(result):
    labels = result.term_labels()
    assert labels["gender_age_2_3"] == "women × age group 3"
    assert labels["ocsd_1"].startswith("OCSD 1 (")
    assert "年龄组" in result.term_labels("zh")["gender_age_2_3"]
    base, target = gz.YEARS
    text = result.method_text()
    assert f"{base} and {target}" in text and "first peak" in text
    assert f"{target}" in result.method_text("zh")
    assert len(result.limitations()) == len(result.limitations("zh")) == 3
