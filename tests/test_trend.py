"""Chi-square test for trend: against R's prop.trend.test, against statsmodels' linear-by-linear
test (which differs by (N-1)/N), and the implied-denominator algebra by brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import Table

from payreform import trend
from payreform.errors import ParameterError
from payreform.synth import youxi


def test_equals_r_prop_trend_test(fixtures):
    reference = pd.read_csv(fixtures / "r_trend.csv")
    for row in reference.itertuples():
        successes = [float(v) for v in row.successes.split(";")]
        totals = [float(v) for v in row.totals.split(";")]
        scores = [float(v) for v in row.scores.split(";")]
        result = trend.cochran_armitage(successes, totals, scores)
        assert result.statistic == pytest.approx(row.statistic, rel=1e-9)
        assert result.p_value == pytest.approx(row.p_value, rel=1e-6)


def test_relation_to_linear_by_linear_association():
    successes, totals = np.array([83, 90, 129, 70]), np.array([86, 93, 136, 82])
    scores = np.array([1.0, 2.0, 3.0, 4.0])
    table = Table(np.column_stack([successes, totals - successes]))
    mantel = table.test_ordinal_association(row_scores=scores, col_scores=np.array([1.0, 0.0]))
    n = totals.sum()
    ours = trend.cochran_armitage(successes, totals, scores)
    assert ours.statistic == pytest.approx(mantel.zscore**2 * n / (n - 1), rel=1e-10)


def test_sign_and_hand_value():
    result = trend.cochran_armitage([15, 10, 5], [50, 50, 50])
    # p = 0.2, s_bar = 2, numerator = -10, variance = 0.16 * 100 = 16 -> chi2 = 6.25
    assert result.statistic == pytest.approx(6.25)
    assert result.z == pytest.approx(-2.5)
    assert result.table()["df"].item() == 1


def test_implied_denominator_reproduces_the_statistic():
    percentages = [69.9, 78.4, 81.5]
    implied = trend.implied_denominator(percentages, 1063.1)
    n = implied.n
    successes = np.array(percentages) / 100 * n
    assert trend.cochran_armitage(successes, [n] * 3).statistic == pytest.approx(1063.1, rel=1e-9)
    assert implied.n_low <= n <= implied.n_high


def test_implied_denominator_bounds_by_brute_force():
    percentages = np.array([50.8, 63.0, 60.8, 69.2])
    implied = trend.implied_denominator(percentages, 13.1, rounding=0.05)
    grid = np.linspace(-0.05, 0.05, 5)
    values = []
    for shift in np.array(np.meshgrid(*[grid] * 4)).reshape(4, -1).T:
        p = (percentages + shift) / 100
        values.append(13.1 / trend.cochran_armitage(p * 1e6, [1e6] * 4).statistic * 1e6)
    assert implied.n_low <= min(values) + 1e-6
    assert implied.n_high >= max(values) - 1e-6


def test_youxi_table_of_implied_denominators():
    table = trend.implied_denominator_table(youxi.annual_trend_tests())
    assert list(table.columns[:3]) == ["indicator", "years", "percentages"]
    primary = table.set_index("indicator").loc["primary_care_share_of_healthcare_outpatient_visits"]
    assert 200 < primary["implied_n_per_group"] < 250


def test_errors():
    with pytest.raises(ParameterError, match="same length"):
        trend.cochran_armitage([1, 2], [10, 10, 10])
    with pytest.raises(ParameterError, match="successes <= totals"):
        trend.cochran_armitage([11, 2], [10, 10])
    with pytest.raises(ParameterError, match="between 0 and 100"):
        trend.implied_denominator([50, 120], 3.0)
    with pytest.raises(ParameterError, match="no variation"):
        trend.cochran_armitage([0, 0, 0], [5, 5, 5])
