"""results.json writing, the comparison tables, and parsing of --set values."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from helpers import assert_registry_matches_notebook

from payreform import chapters, report
from payreform.errors import ParameterError
from payreform.execute import plain_markdown


def estimates_table():
    return pd.DataFrame({"model": ["ols"], "outcome": ["y"], "term": ["beta3"], "estimate": [np.float64(-1.5)],
                         "std_error": [0.5], "p_value": [np.nan], "ci_low": [-2.5], "ci_high": [-0.5],
                         "n_obs": [np.int64(46)], "statistic": [-3.0]})


def test_results_json_round_trip(tmp_path):
    path = report.write_results(tmp_path / "out", chapter="youxi-itsa", parameters={"x": np.int64(3), "p": pd.Period("2017-10", "M")},
                                data={"source": "synthetic", "rows": 46}, estimates=estimates_table(),
                                diagnostics={"bg": {"p": np.float64(0.01)}, "inf": math.inf})
    document = report.read_results(path)
    assert document["parameters"] == {"x": 3, "p": "2017-10"}
    record = document["estimates"][0]
    assert list(record)[:9] == list(report.ESTIMATE_FIELDS)
    assert record["p_value"] is None and record["n_obs"] == 46 and record["statistic"] == -3.0
    assert document["diagnostics"]["inf"] is None
    assert json.loads(path.read_text(encoding="utf-8"))["schema"] == report.SCHEMA_VERSION


def test_estimate_records_need_the_schema_columns():
    with pytest.raises(ValueError, match="lacks columns"):
        report.estimate_records(estimates_table().drop(columns="n_obs"))


def test_side_by_side_and_compact_table():
    estimates = estimates_table().assign(outcome="y")
    truth = pd.DataFrame({"outcome": ["y"], "term": ["beta3"], "value": [-1.0]})
    paper = pd.DataFrame({"outcome": ["y"], "term": ["beta3"], "estimate": [-1.2], "ci_low": [-2.0], "ci_high": [-0.4]})
    table = report.side_by_side(estimates, truth, paper)
    assert list(table.columns[:3]) == ["outcome", "term", "truth"]
    assert bool(table["covers_truth"].item()) is True
    shown = report.compact_comparison(table, {"beta3": "slope change"}, {"y": "Visits"})
    assert shown.iloc[0].to_dict() == {"outcome": "Visits", "term": "slope change", "truth": "-1.00",
                                       "estimate": "-1.50", "95% CI": "(-2.50, -0.50)", "paper": "-1.20",
                                       "paper 95% CI": "(-2, -0.4)", "covers truth": "yes"}


def test_parameter_parsing():
    chapter = chapters.get("youxi-itsa")
    values = chapter.parse_settings(["outcomes=a, b", "log=yes", "hac_lags=auto", "horizon=none", "seed=5",
                                     "coding=time_times_post"])
    assert values == {"outcomes": ["a", "b"], "log": True, "hac_lags": "auto", "horizon": None, "seed": 5,
                      "coding": "time_times_post"}
    with pytest.raises(ParameterError, match="KEY=VALUE"):
        chapter.parse_settings(["seed"])
    with pytest.raises(ParameterError, match="use --data/--out"):
        chapter.parse_settings(["data=x.csv"])
    with pytest.raises(ParameterError, match="true or false"):
        chapter.parse_settings(["log=maybe"])
    with pytest.raises(ParameterError, match="whole number >= 0 or auto"):
        chapter.parse_settings(["hac_lags=-2"])


def test_resolve_auto_settings():
    from payreform.chapters.itsa_common import resolve_fourier, resolve_seasonal

    assert resolve_seasonal("auto", "M", 46) == "ratio_to_moving_average"
    assert resolve_seasonal("auto", "M", 20) == "none"
    assert resolve_seasonal("season_dummies", "M", 20) == "season_dummies"
    assert resolve_fourier(3, "Q") == 1 and resolve_fourier(2, "M") == 2


def test_plain_markdown_for_reports():
    text = ("(label)=\n# Title\nsee {doc}`../book/x_y` or {ref}`the page <lbl>`, {cite:t}`key`, "
            "{cite:p}`newey1987,bernal2017its` and {term}`医共体`")
    assert plain_markdown(text) == ("\n# Title\nsee the handbook page 'x_y' or the page, key, (Newey and West 1987; "
                                    "Lopez Bernal et al. 2017) and 医共体")


def test_load_frame_synthetic_and_file(tmp_path):
    from payreform.chapters.base import load_frame
    from payreform.synth import youxi

    frame, info = load_frame(None, None, lambda: youxi.generate(seed=2), {"seed": 2})
    assert info["source"] == "synthetic" and info["sha256"] == report.frame_sha256(frame)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    again, info = load_frame(path, None, lambda: None, {})
    assert info["rows"] == 46 and info["encoding"] == "utf-8" and again.shape == frame.shape
    assert info["file"] == "d.csv"


@pytest.mark.parametrize("chapter", sorted(chapters.CHAPTERS))
def test_registry_matches_the_notebook_parameters(tmp_path, chapter):
    """`payreform run` parses exactly the parameters of the notebook's tagged cell, same order and defaults."""
    assert_registry_matches_notebook(tmp_path, chapter)


def test_published_catalog_cites_every_table():
    from payreform import published

    catalog = published.catalog()
    assert set(catalog["table"]) == set(published.available())
    assert catalog["source"].str.len().gt(40).all()  # every file starts with its "# source:" line
    assert published.load("sanming_table2_fund").attrs["source"].startswith("Lin K")


def test_registry_names_each_runner_by_its_chapter_name():
    """Every runner module is listed under the name its CHAPTER carries, and get() finds it."""
    import importlib

    for name, module in chapters.RUNNERS.items():
        runner = importlib.import_module(f"payreform.chapters.{module}")
        assert runner.CHAPTER.name == name and chapters.get(name) is runner.CHAPTER
    assert list(chapters.CHAPTERS) == list(chapters.RUNNERS) and len(chapters.CHAPTERS) == 5
