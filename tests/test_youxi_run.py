"""The Youxi notebook executed end to end: through papermill on the book's data, and through
`payreform run` on a stranger's series, whose report must speak about that series only."""

from __future__ import annotations

import html as html_module
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import assert_registry_matches_notebook, execute_notebook, sha

from payreform import report
from payreform.cli import main

pytestmark = pytest.mark.slow


def report_text(path: Path) -> str:
    """The visible text of report.html (scripts and styles removed)."""
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<script.*?</script>|<style.*?</style>", " ", raw, flags=re.S)
    return html_module.unescape(re.sub(r"<[^>]+>", " ", raw))


def test_notebook_on_the_book_data(tmp_path):
    results = execute_notebook(tmp_path, "youxi_itsa")
    assert results["data"]["source"] == "synthetic"
    assert results["parameters"]["intervention"] == "2017-10"
    figures = sorted(p.stem for p in (tmp_path / "out" / "figures").glob("*.png"))
    assert "annual_indicators" in figures and "residuals_4" in figures
    assert (tmp_path / "out" / "tables" / "effects.csv").exists()


def test_registry_matches_the_notebook(tmp_path):
    assert_registry_matches_notebook(tmp_path, "youxi-itsa")


def test_log_run_on_a_stranger_series_reports_the_planted_drop(tmp_path):
    """The issue's example: a monthly series whose level drops by 22.1% (ln-scale step -0.25)."""
    rng = np.random.default_rng(4)
    months = pd.period_range("1969-01", "1984-12", freq="M")
    t = np.arange(1, len(months) + 1)
    post = (months >= pd.Period("1983-02", "M")).astype(float)
    season = 1 + 0.08 * np.cos(2 * np.pi * (months.month - 1) / 12)
    values = np.expm1(7.2 - 0.001 * t - 0.25 * post + rng.normal(0, 0.01, len(t))) * season
    data = tmp_path / "input" / "casualties.csv"
    data.parent.mkdir()
    pd.DataFrame({"时间": [f"{p.year}/{p.month}" for p in months], "伤亡人数": np.round(values)}).to_csv(
        data, index=False, encoding="gbk")
    before = sha(data)
    out = tmp_path / "report"
    done = CliRunner().invoke(main, ["run", "youxi-itsa", "--data", str(data), "--out", str(out), "--quiet",
                                     "--set", "time_column=时间", "--set", "intervention=1983-02",
                                     "--set", "log=true"])
    assert done.exit_code == 0, done.output
    assert sha(data) == before and sorted(p.name for p in data.parent.iterdir()) == ["casualties.csv"]
    results = report.read_results(out / "results.json")
    relative = next(e for e in results["estimates"] if e["term"] == "relative_effect")
    assert relative["estimate"] == pytest.approx(math.expm1(-0.25), abs=0.01)  # not -3%
    effect = results["diagnostics"]["effects"][1]
    assert effect["term"] == "relative_effect" and effect["estimate"] == relative["estimate"]
    text = report_text(out / "report.html")
    # the summary quotes the same relative effect as results.json
    assert f"{100 * abs(relative['estimate']):.1f}% below the counterfactual" in text
    # a report on a stranger's series speaks about that series only
    for fact in ("Youxi", "Zhong", "2017-10", "October 2017", "2016-02", "2019-11", "46 months", "T0 = 21",
                 "paper", "synthetic", "planted", "SPEC", "Spring Festival", "county", "{glue", "{doc}",
                 "{cite", "Exercises"):
        assert fact not in text, fact
    assert "1983-02" in text and "伤亡人数" in text
    assert "from the data" in text  # derived settings are marked
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["parameters"]["log"] is True
    assert "Traceback" not in text and "Glyph" not in text
