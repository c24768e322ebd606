"""Sentences of the Youxi chapter are chosen by the numbers they describe: each branch is hit by a
series built to flip its condition, and the words always agree with the computed value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from payreform import narrative
from payreform.chapters import youxi_itsa as chapter


def series(effect: float = -30.0, noise: float = 1.0, rho: float = 0.0, n: int = 60, seed: int = 1,
           counts: bool = False, columns: tuple[str, ...] = ("y",)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1)
    frame = {"period": [str(p) for p in pd.period_range("2003-01", periods=n, freq="M")]}
    for i, column in enumerate(columns):
        e = np.zeros(n)
        shocks = rng.normal(0, noise, n)
        for k in range(n):
            e[k] = (rho * e[k - 1] if k else 0) + shocks[k]
        values = 500 + 0.5 * t + effect * (t > n // 2) * (1 + i) + e
        frame[column] = np.round(values) if counts else values + 0.25
    return pd.DataFrame(frame)


def result_for(frame: pd.DataFrame, **settings):
    return chapter.run(chapter.prepare(frame, {"time_column": "period", "intervention": "2005-07",
                                               "seasonal": "none", **settings}))


@pytest.mark.parametrize("effect, noise", [(-40.0, 1.0), (0.0, 30.0)])
def test_significance_and_direction_follow_the_numbers(effect, noise):
    result = result_for(series(effect=effect, noise=noise))
    analysis = result.analyses[0]
    sentence = result.outcome_sentence(analysis)
    jump = analysis.model.level_change_at_intervention()
    expected = narrative.significance(jump.p_value)
    assert expected in sentence
    relative = result.effects.query("term == 'relative_effect'").iloc[0]
    side = "below" if relative["estimate"] < 0 else "above"
    assert f"{narrative.fmt_percent(abs(relative['estimate']))[1:]} {side} the counterfactual" in sentence
    if effect:
        assert "statistically significant at the 5% level" in sentence and "below" in sentence
    else:
        assert "not statistically significant" in sentence


def test_autocorrelation_sentence_has_three_branches():
    seen = set()
    for frame in (series(rho=0.0, noise=5.0, columns=("a", "b"), seed=3),
                  series(rho=0.95, noise=5.0, columns=("a", "b"), seed=4),
                  series(rho=0.0, noise=5.0, columns=("a",), seed=3).assign(
                      b=series(rho=0.95, noise=5.0, columns=("b",), seed=4)["b"])):
        result = result_for(frame)
        p = result.diagnostics_table().set_index("outcome")["bg_p_value"]
        text = chapter.autocorrelation_text(result)
        if (p < 0.05).all():
            branch = "all"
            assert "for every outcome" in text
        elif (p >= 0.05).all():
            branch = "none"
            assert "does not find residual autocorrelation for any" in text
        else:
            branch = "some"
            assert "but not for" in text
        seen.add(branch)
    assert seen == {"all", "none", "some"}


def test_count_model_sentence_branches():
    counts = result_for(series(counts=True))
    assert counts.count_models and "The largest dispersion is" in chapter.count_model_text(counts)
    disagree = int((~counts.agreement["same_conclusion"]).sum())
    assert ("agree on the sign" in chapter.count_model_text(counts)) == (disagree == 0)
    continuous = result_for(series(counts=False))
    assert not continuous.count_models
    assert "No outcome holds whole numbers" in chapter.count_model_text(continuous)
    quasi = result_for(series(counts=True), model="quasipoisson")
    assert "already quasi-Poisson" in chapter.count_model_text(quasi)


def test_lag_sentence_says_where_the_lag_came_from():
    derived = result_for(series())
    assert "this run uses it" in chapter.lag_rule_text(derived)
    chosen = result_for(series(), hac_lags=1)
    assert "set by hand" in chapter.lag_rule_text(chosen)


def test_warnings_follow_the_numbers():
    short = chapter.run(chapter.prepare(series(n=12), {"time_column": "period", "intervention": "2003-07",
                                                       "seasonal": "none"}))
    assert any("Short segments: 6 and 6 fitted periods" in w for w in short.warnings())
    long = result_for(series(rho=0.0, noise=5.0, seed=3))
    bg = long.analyses[0].model.breusch_godfrey.p_value
    assert any("Residual autocorrelation remains" in w for w in long.warnings()) == (bg < 0.05)
    assert not any("Short segments" in w for w in long.warnings())
