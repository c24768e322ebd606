"""Power planning: the white-noise case against the exact noncentral-t power, the minimum detectable
change against its definition, and `payreform plan itsa` on a pre-period file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from payreform.cli import main
from payreform.errors import ParameterError
from payreform.itsa import power
from payreform.synth import youxi


def white_noise(n: int = 24, seed: int = 3) -> pd.Series:
    index = pd.period_range("2015-01", periods=n, freq="M")
    return pd.Series(50 + np.random.default_rng(seed).normal(0, 1, n), index=index)


@pytest.mark.parametrize("term, change", [("level", 1.2), ("slope", 0.08)])
def test_white_noise_power_equals_the_noncentral_t(term, change):
    series = white_noise()
    kwargs = {"level_change": change} if term == "level" else {"slope_change": change}
    plan = power.plan_itsa(series, 24, inference="ols", reps=3000, seasonal=False, rho=0.0, seed=11, **kwargs)
    row = plan.table.set_index("term").loc[term]
    exact = power.analytic_power(24, 24, change, plan.preperiod.sigma, term)
    assert abs(row["power"] - exact) < 3.5 * row["mc_error"], (row["power"], exact)
    assert abs(row["false_positive_rate"] - 0.05) < 3.5 * np.sqrt(0.05 * 0.95 / 3000)


def test_minimum_detectable_change_is_the_boundary_of_80_percent_power():
    plan = power.plan_itsa(white_noise(), [12, 36], inference="reml", reps=200, seasonal=False, rho=0.4, seed=5)
    level = plan.table[plan.table["term"] == "level"].set_index("post_periods")["mde_increase"]
    for length, (lows, highs) in plan.intervals.items():
        mde = level[length]
        assert power.power_at(mde * 1.0001, lows[:, 0], highs[:, 0]) >= 0.8
        assert power.power_at(mde * 0.999, lows[:, 0], highs[:, 0]) < 0.8
    assert level[36] < level[12]  # a longer post-period detects smaller changes


def test_bad_plans_are_refused():
    with pytest.raises(ParameterError, match="post_periods"):
        power.plan_itsa(white_noise(), 2)
    with pytest.raises(ParameterError, match="reps"):
        power.plan_itsa(white_noise(), 12, reps=5)
    with pytest.raises(ParameterError, match="inference"):
        power.plan_itsa(white_noise(), 12, inference="bayes")


@pytest.mark.slow
def test_plan_command_writes_the_plan(tmp_path):
    frame = youxi.generate()
    data = tmp_path / "input" / "pre.csv"
    data.parent.mkdir()
    frame[["month", "hospitalizations"]].to_csv(data, index=False)
    out = tmp_path / "plan"
    done = CliRunner().invoke(main, ["plan", "itsa", "--data", str(data), "--out", str(out), "--quiet",
                                     "--set", f"intervention={youxi.INTERVENTION}", "--set", "post_periods=12,24",
                                     "--set", "level_change=-10%", "--set", "inference=reml", "--set", "reps=40"])
    assert done.exit_code == 0, done.output
    record = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert record["preperiod"]["last"] == "2017-09" and len(record["power"]) == 4
    level = record["preperiod"]["level at the end of the pre-period"]
    assert record["level_change"] == pytest.approx(-0.1 * level)
    assert (out / "figures" / "power.png").exists() and (out / "power.csv").exists()
    bad = CliRunner().invoke(main, ["plan", "itsa", "--data", str(data), "--out", str(tmp_path / "x"),
                                    "--set", "level_change=ten"])
    assert bad.exit_code == 2 and "parameter 'level_change' is 'ten'" in bad.output
