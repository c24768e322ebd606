"""Shared figures: each draws what it promises (checked on the Matplotlib objects)."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer

from payreform import budget, itsa, plots
from payreform.synth import youxi


def test_itsa_figure_shows_counterfactual_only_after_the_intervention():
    frame = youxi.generate().set_index("month")
    frame.index = pd.PeriodIndex(frame.index, freq="M")
    analysis = itsa.analyse_series(frame, "hospitalizations", intervention="2017-10",
                                   seasonal="ratio_to_moving_average")
    fig = plots.itsa_figure(analysis)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert {"observed", "seasonally adjusted", "fitted, before", "fitted, after",
            "counterfactual (no reform)"} <= set(lines)
    assert len(lines["counterfactual (no reform)"].get_xdata()) == 26
    assert len(lines["fitted, before"].get_xdata()) == 20


def test_honest_did_figure_marks_the_breakdown_value():
    intervals = pd.DataFrame({"bound": [0, 0.5, 1.0], "ci_low": [1.0, 0.5, -0.2], "ci_high": [2.0, 2.5, 3.2]})
    fig = plots.honest_did_figure(intervals, breakdown=0.8)
    ax = fig.axes[0]
    assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == 1
    assert any(list(line.get_xdata()) == [0.8, 0.8] for line in ax.get_lines())


def test_staggered_figure_draws_both_estimators_and_the_truth():
    side = pd.DataFrame({"event_time": [-1, 0, 1], "twfe_estimate": [0.0, 1.0, 2.0], "twfe_std_error": [0.1] * 3,
                         "cs_estimate": [0.0, 1.1, 2.2], "cs_std_error": [0.1] * 3, "truth": [0.0, 1.0, 2.0]})
    ax = plots.staggered_figure(side).axes[0]
    assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == 2
    assert "planted truth" in [line.get_label() for line in ax.get_lines()]


def test_predictive_ratio_figure_one_panel_per_dimension():
    ratios = pd.DataFrame({"dimension": ["age_band"] * 2 + ["disease"] * 2 + ["expenditure_decile"] * 2,
                           "scheme": ["A", "A"] * 3, "level": ["x", "y"] * 3, "ratio": [0.9, 1.1] * 3,
                           "suppressed": [False, True] * 3})
    fig = plots.predictive_ratio_figure(ratios)
    assert len(fig.axes) == 3 and all(ax.get_yscale() == "log" for ax in fig.axes)
    assert len(fig.axes[0].get_lines()[0].get_xdata()) == 1  # the suppressed row is left out


@pytest.mark.parametrize("rules", [1, 2])
def test_budget_figure_one_budget_line_per_rule(rules):
    spending = budget.spending_path(100.0, 4, 0.05)
    chosen = [budget.impm_rule(), budget.last_year_rule()][:rules]
    accounts = budget.compare_rules(spending, chosen, population=1.0, premium=110.0)
    fig = plots.budget_figure(accounts)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels.count("spending") == 1 and sum(label.startswith("budget:") for label in labels) == rules
