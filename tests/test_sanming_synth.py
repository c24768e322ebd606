"""The synthetic Sanming series: yearly totals of Tables 1 and 3, the planted line of Table 4,
the truth the data carry, and the calibration of the noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from payreform.contracts import validate_grouped_time_series
from payreform.itsa import analyse_series, design_matrix
from payreform.synth import sanming

TERMS = ("beta1", "beta2", "beta3")


@pytest.mark.parametrize("seed", [sanming.DEFAULT_SEED, 1, 2])
def test_yearly_sums_match_tables_1_and_3_within_1_percent(seed):
    sums = sanming.annual_sums(sanming.generate(seed=seed, include_december_2019=True))
    merged = sums.merge(sanming.published_totals(), on=["institution", "year", "outcome"])
    assert len(merged) == 24
    assert ((merged["sum"] / merged["published"] - 1).abs() < 0.01).all()
    # rounding to whole persons / 0.01 (10k CNY) is the only gap
    assert ((merged["sum"] / merged["published"] - 1).abs() < 0.001).all()


def test_shape_layout_and_determinism():
    frame = sanming.generate(seed=4)
    assert frame.shape == (94, 5)
    assert list(frame.columns) == ["month", "institution", *sanming.OUTCOMES]
    assert frame["month"].max() == "2019-11"
    pd.testing.assert_frame_equal(frame, sanming.generate(seed=4))
    assert not frame.equals(sanming.generate(seed=5))
    overall = sanming.overall(frame)
    hospital = frame[frame.institution == "hospital"].reset_index(drop=True)
    community = frame[frame.institution == "community"].reset_index(drop=True)
    assert np.allclose(overall["outpatient_volume"], hospital["outpatient_volume"] + community["outpatient_volume"])


def test_the_correction_is_smooth_and_the_planted_line_is_table_4():
    levels = np.array([0.1, -0.05, 0.02, 0.08])
    path = sanming.correction_path(levels)
    assert np.allclose(path[:6], 0.1) and np.allclose(path[42:], 0.08)  # flat before mid-2016, after mid-2019
    assert np.allclose(path[12] - path[11], (-0.05 - 0.1) / 12)  # linear between mid-2016 and mid-2017
    kinks = np.flatnonzero(np.abs(np.diff(path, 2)) > 1e-12)
    assert set(kinks) <= {4, 5, 16, 17, 28, 29, 40, 41}  # bends only around the mid-year anchors
    # before the correction, the log path's OLS coefficients are Table 4's exactly
    time = np.arange(1, 48, dtype=float)
    post = (time >= 22).astype(float)
    b = sanming.PUBLISHED[("community", "inpatient_volume")]
    line = 3.0 + b["beta1"][0] * time + b["beta2"][0] * post + b["beta3"][0] * time * post
    fitted = np.linalg.lstsq(design_matrix(47, 22, "time_times_post").to_numpy(), line, rcond=None)[0]
    assert np.allclose(fitted[1:], [b["beta1"][0], b["beta2"][0], b["beta3"][0]])


def test_truth_tables():
    planted = sanming.truth().set_index(["group", "outcome", "term"])["value"]
    assert planted["community", "inpatient_volume", "beta2"] == -0.154
    assert planted["community", "inpatient_volume", "level_change_at_intervention"] == pytest.approx(-0.154 - 0.004 * 22)
    zero = sanming.truth("zero_at_intervention").set_index(["group", "outcome", "term"])["value"]
    assert zero["community", "inpatient_volume", "beta2"] == pytest.approx(-0.242)
    implied = sanming.implied_truth().set_index(["group", "outcome", "term"])["value"]
    assert {"hospital", "community", "overall"} == set(implied.index.get_level_values(0))
    # the yearly totals pull the trends away from Table 4 (documented, not hidden)
    assert abs(implied["community", "medical_expenditure", "beta3"] - (-0.009)) > 0.005


@pytest.fixture(scope="module")
def many_fits():
    rows = []
    for seed in range(60):
        data = validate_grouped_time_series(sanming.generate(seed=seed), group_column="institution",
                                            intervention=sanming.INTERVENTION)
        for group, ts in data.series.items():
            for outcome in sanming.OUTCOMES:
                for method in ("ratio_to_moving_average", "season_dummies"):
                    model = analyse_series(ts.frame, outcome, intervention=ts.intervention, log=True,
                                           seasonal=method, coding=sanming.CODING, hac_lags=3).model
                    rows += [{"seed": seed, "group": group, "outcome": outcome, "method": method, "term": t,
                              "estimate": model.params[t], "std_error": model.term(t).std_error} for t in TERMS]
    return pd.DataFrame(rows)


def test_estimates_are_centred_on_the_truth_the_data_carry(many_fits):
    implied = sanming.implied_truth().set_index(["group", "outcome", "term"])["value"]
    fits = many_fits[many_fits["method"] == "season_dummies"]
    for (group, outcome, term), part in fits.groupby(["group", "outcome", "term"]):
        error = part["estimate"].mean() - implied[group, outcome, term]
        assert abs(error) < 3.5 * part["estimate"].std() / np.sqrt(len(part)), (group, outcome, term)


def test_standard_errors_are_calibrated_to_table_4(many_fits):
    published = sanming.published().set_index(["group", "outcome", "term"])["std_error"]
    medians = many_fits[many_fits["method"] == "ratio_to_moving_average"].groupby(
        ["group", "outcome", "term"])["std_error"].median()
    ratios = medians / published.loc[medians.index].to_numpy()
    within = ((ratios >= 1 / 1.5) & (ratios <= 1.5)).sum()
    # 14 of 18 in the calibration run; with 60 seeds, three more sit at the 1.5 boundary
    # (hospital expenditure's two ratios are 1.5 apart squared by construction, see NOISE_SD)
    assert within >= 11, ratios.round(2).to_dict()
    assert ratios.between(1 / 2, 2).all(), ratios.round(2).to_dict()
