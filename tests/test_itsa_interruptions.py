"""Several interruptions and excluded windows, checked against R (tests/fixtures/make_r_interruptions.R):
UK drivers killed 1969-1984 with the 1974 fuel crisis and the 1983 seat-belt law, a transition
window left out, month indicators, every coding, Newey-West errors and quasi-Poisson."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from payreform import itsa
from payreform.errors import ParameterError
from payreform.itsa.design import exclusion_mask

FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"
REFERENCE = pd.read_csv(FIXTURES / "r_interruptions.csv")
COLUMNS = ("estimate", "std_error", "p_value", "ci_low", "ci_high")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    data = pd.read_csv(FIXTURES / "stranger" / "itsa_seatbelts.csv")
    return data.set_index(pd.PeriodIndex(data.pop("month"), freq="M"))


def fit(frame, coding="zero_at_intervention", model="ols"):
    mask = exclusion_mask(frame.index, "1973-12..1974-02")
    return itsa.analyse_series(frame, "drivers_killed", intervention="1974-01,1983-02", coding=coding,
                               seasonal="season_dummies" if model == "ols" else "none", hac_lags=4,
                               model=model, fourier=2 if model == "quasipoisson" else 0, exclude=mask)


def compare(ours: pd.DataFrame, reference: pd.DataFrame) -> None:
    for term, ref in reference.set_index("term").iterrows():
        for column in COLUMNS:
            assert ours.loc[term, column] == pytest.approx(ref[column], rel=1e-6, abs=1e-10), (term, column)


@pytest.mark.parametrize("coding", ["zero_at_intervention", "one_at_intervention", "time_times_post"])
def test_two_interruptions_with_an_excluded_window_match_r(frame, coding):
    analysis = fit(frame, coding)
    model = analysis.model
    assert model.n_interruptions == 2 and model.n_fitted == len(frame) - 3
    table = analysis.table().set_index("term")
    assert list(table.index[:8]) == ["beta0", "beta1", "beta2_1", "beta3_1", "beta2_2", "beta3_2",
                                     "post_slope_1", "post_slope_2"]
    reference = REFERENCE[(REFERENCE["model"] == "ols") & (REFERENCE["coding"] == coding)]
    compare(table, reference[reference["term"].str.startswith("beta")])
    effects = []
    for k, horizon in ((1, 12), (2, None)):
        effect = model.effect_at(horizon, interruption=k)
        effects += [effect.absolute.row() | {"term": f"absolute_effect_{k}"},
                    effect.relative.row() | {"term": f"relative_effect_{k}"}]
    compare(pd.DataFrame(effects).set_index("term"), reference[reference["term"].str.contains("effect")])


def test_quasipoisson_with_two_interruptions_matches_r(frame):
    analysis = fit(frame, model="quasipoisson")
    reference = REFERENCE[REFERENCE["model"] == "quasipoisson"]
    compare(analysis.table().set_index("term"), reference[reference["term"].str.startswith("beta")])
    effect = analysis.model.effect_at(interruption=2)
    compare(pd.DataFrame([effect.relative.row() | {"term": "relative_effect_2"}]).set_index("term"),
            reference[reference["term"] == "relative_effect_2"])


def test_conversions_and_post_slopes_generalise(frame):
    zero = fit(frame).model
    one = fit(frame, "one_at_intervention").model
    for k in (1, 2):
        level, slope = zero.terms_of(k)
        converted = one.beta2_in("zero_at_intervention", k)
        assert converted.estimate == pytest.approx(zero.params[level], rel=1e-9)
        assert converted.std_error == pytest.approx(zero.term(level).std_error, rel=1e-9)
        assert zero.level_change_at_intervention(k).estimate == pytest.approx(zero.params[level])
    assert zero.post_slope(2).estimate == pytest.approx(
        zero.params["beta1"] + zero.params["beta3_1"] + zero.params["beta3_2"])
    codings = itsa.coding_comparison(fit(frame))
    assert set(codings["interruption"]) == {1, 2}
    np.testing.assert_allclose(codings["beta2"], codings["beta2_converted"], rtol=1e-8)


def test_predictions_keep_the_other_interruption_in_the_counterfactual(frame):
    model = fit(frame).model
    predictions = model.predictions(interruption=2)
    after = predictions[predictions["post"]]
    gap = after["fitted"] - after["counterfactual"]
    t = after["T"].to_numpy()
    expected = model.params["beta2_2"] + model.params["beta3_2"] * (t - model.start_indices[1])
    np.testing.assert_allclose(gap, expected, rtol=1e-10)
    assert (~predictions["included"]).sum() == 3


def test_one_interruption_keeps_the_papers_names(frame):
    model = itsa.segmented_regression(frame, "drivers_killed", intervention="1983-02", hac_lags=4)
    assert list(model.params.index) == ["beta0", "beta1", "beta2", "beta3"]
    assert "post_slope" in set(model.table()["term"])


@pytest.mark.parametrize("interventions, windows, message", [
    ("1983-02,1974-01", None, r"lists 1983-02 before 1974-01"),
    ("1974-01,1974-01", None, r"lists 1974-01 before 1974-01"),
    ("1974-01", "1975-01..1974-12", r"ends before it starts"),
    ("1974-01", "1973-01..1973-06,1973-05..1973-08", r"overlapping windows"),
    ("1974-01", "1990-01..1990-03", r"outside the data"),
])
def test_bad_interruptions_and_windows(frame, interventions, windows, message):
    with pytest.raises(ParameterError, match=message):
        mask = exclusion_mask(frame.index, windows)
        itsa.segmented_regression(frame, "drivers_killed", intervention=interventions, exclude=mask)


def test_ratio_to_moving_average_cannot_skip_excluded_periods(frame):
    with pytest.raises(ParameterError, match="season_dummies"):
        itsa.analyse_series(frame, "drivers_killed", intervention="1983-02", seasonal="ratio_to_moving_average",
                            exclude=exclusion_mask(frame.index, "1974-01..1974-02"))
