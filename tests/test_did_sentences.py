"""Sentences chosen by the numbers: each condition flipped, the words follow."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from payreform import did
from payreform.chapters.ccmc_did import paper_significance
from payreform.did import BalanceTable, PretrendTest
from payreform.inference import LinearCombination


def combo(estimate: float, se: float = 1.0) -> LinearCombination:
    return LinearCombination("did2021", estimate, se, 100)


@pytest.mark.parametrize("estimate, words", [
    (3.0, "significantly above zero"),
    (-3.0, "significantly below zero"),
    (1.0, "not significantly different from zero"),
    (-1.0, "not significantly different from zero"),
])
def test_effect_sentence_follows_sign_and_significance(estimate, words):
    text = did.effect_sentence("treated × 2021", combo(estimate))
    assert words in text
    assert ("−" in text.split("=")[1].split("(")[0]) == (estimate < 0)  # the sign shown is the estimate's
    flipped = did.effect_sentence("treated × 2021", combo(estimate, se=100.0))
    assert "not significantly different from zero" in flipped


def pretrend(p_value: float, terms=("did2018", "did2019")) -> PretrendTest:
    return PretrendTest(tuple(terms), 3.0, 6.0, len(terms), 527, p_value, ())


def test_pretrend_sentence_flips_with_the_p_value():
    rejects = did.pretrend_sentence(pretrend(0.001), "the reference year 2011")
    passes = did.pretrend_sentence(pretrend(0.2), "the reference year 2011")
    assert "rejects parallel pre-trends" in rejects and "already moving apart" in rejects
    assert "does not reject" in passes and "does not prove" in passes
    assert "2011" in rejects and "F(2, 527) = 3.00" in passes
    assert did.pretrend_sentence(pretrend(0.04), "x", alpha=0.01).count("does not reject") == 1


def test_pretrend_overview_branches():
    labels = {"a": "A", "b": "B"}
    assert "rejects for no outcome" in did.pretrend_overview({"a": pretrend(0.5), "b": pretrend(0.3)}, labels)
    assert "rejects for every outcome" in did.pretrend_overview({"a": pretrend(0.01), "b": pretrend(0.0)}, labels)
    mixed = did.pretrend_overview({"a": pretrend(0.01), "b": pretrend(0.3)}, labels)
    assert mixed.startswith("The joint pre-trend test rejects for A") and "not for B" in mixed
    assert "no pre-trend test" in did.pretrend_overview({}, labels)


@pytest.mark.parametrize("value, words", [
    (0.0, "not significant even under exact parallel trends"),
    (0.4, "stays significant only if"),
    (0.999, "breakdown M̄ < 1"),
    (1.0, "breakdown M̄ ≥ 1"),
    (3.2, "stays significant unless"),
    (math.inf, "every bound tried"),
])
def test_breakdown_sentence_branches(value, words):
    assert words in did.breakdown_sentence("treated × 2021", value)


def test_reference_sentence_branches():
    assert "neither reference year supports an effect" in did.reference_sentence("t", 2011, 0.0, 0.0)
    lost = did.reference_sentence("t", 2011, 0.8, 0.0, combo(0.3))
    assert "is not significant even under exact parallel trends" in lost and "between 2010 and 2011" in lost
    assert "(0.30, 95% CI" in lost
    assert "hardly matters" in did.reference_sentence("t", 2011, 0.8, 0.82)
    assert "more robust" in did.reference_sentence("t", 2011, 0.8, 2.0)
    assert "less robust" in did.reference_sentence("t", 2011, 2.0, 0.8)


def balance(p_values: list[float], differences: list[float]) -> BalanceTable:
    rows = pd.DataFrame({"variable": [f"v{i}" for i in range(len(p_values))], "year": 2001,
                         "comparison": "treated vs control", "difference": differences, "p_value": p_values})
    return BalanceTable(rows=rows, welch=True, years=(2001,), variables=tuple(rows["variable"]))


def test_balance_sentence_branches():
    assert "no variable differs" in did.balance_sentence(balance([0.5, 0.2], [1.0, -1.0]), 2001)
    some = did.balance_sentence(balance([0.01, 0.2], [-1.0, 1.0]), 2001)
    assert "only in v0 (lower, p = 0.010)" in some and "v1" not in some
    higher = did.balance_sentence(balance([0.01, 0.2], [1.0, 1.0]), 2001, {"v0": "Income"})
    assert "Income (higher" in higher
    every = did.balance_sentence(balance([0.01, 0.0001], [1.0, -2.0]), 2001)
    assert "in every variable" in every and "v1 (lower, p < 0.001)" in every


def side(pre_twfe: float, pre_cs: float, noise_free_bias: float | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"term": ["event-2", "event0", "event1"], "event_time": [-2, 0, 1],
                          "twfe_estimate": [pre_twfe, 1.0, 2.0], "twfe_std_error": [1.0, 1.0, 1.0],
                          "cs_estimate": [pre_cs, 1.5, 4.5], "cs_std_error": [1.0, 1.0, 1.0]})
    if noise_free_bias is not None:
        frame["truth"] = [0.0, 1.0, 2.0]
        frame["twfe_noise_free"] = [3.0, 1.0, 2.0]
        frame["cs_noise_free"] = frame["truth"] + np.array([0.0, 0.0, noise_free_bias])
    return frame


def test_staggered_sentence_branches():
    assert "a spurious pre-trend" in did.staggered_sentence(side(3.0, 0.5))
    assert "pre-trends in both estimators" in did.staggered_sentence(side(3.0, 2.5))
    assert "no clear pre-trend in either" in did.staggered_sentence(side(1.0, 0.5))
    text = did.staggered_sentence(side(3.0, 0.5))
    assert "differ by up to 2.5 standard errors (event time +1" in text
    assert "recovers it exactly" in did.staggered_sentence(side(3.0, 0.5, noise_free_bias=0.0))
    assert "misses it by up to 2.0" in did.staggered_sentence(side(3.0, 0.5, noise_free_bias=2.0))
    assert "miss the planted effect by up to 3.0 standard errors" in did.staggered_sentence(side(3.0, 0.5, 0.0))


def test_claims_sentence_follows_the_design():
    assert "from the year before adoption" in did.claims_sentence(True)
    assert "relative to the reference year" in did.claims_sentence(False)
    assert "cannot separate the reform" in did.claims_sentence(False)


@pytest.mark.parametrize("mark, words", [
    ("**", "p < 0.01"), ("*", "p < 0.05"), ("p<0.1", "p < 0.1"), ("n.s.", "not significant"),
    ("n/r", "not reported"), ("n.s. (negative)", "negative, not significant"),
])
def test_paper_significance_in_words(mark, words):
    assert paper_significance(mark) == words


def test_pretrend_reference_sentence_branches():
    rejects, passes = pretrend(0.001), pretrend(0.4, terms=("did2018",))
    assert "the rejection comes from the change between 2019 and 2020" in \
        did.pretrend_reference_sentence(rejects, passes, 2020)
    assert "rejects as well" in did.pretrend_reference_sentence(rejects, pretrend(0.01), 2020)
    assert "which the reference 2020 hides" in did.pretrend_reference_sentence(passes, pretrend(0.01), 2020)
    assert "does not reject either" in did.pretrend_reference_sentence(passes, pretrend(0.3), 2020)
