"""The capitation chapter's sentences are chosen by the numbers: each branch flipped, and the
checks of the GZ paper's printed figures recomputed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from payreform import capitation as cap
from payreform import published
from payreform.chapters import gz_text


def test_persons_sentence_hides_small_counts():
    counts = pd.DataFrame({"scheme": ["A", "A", "B", "B"], "year": [2010, 2011, 2010, 2011],
                           "persons": [1200, 1300, 9, 0]})
    text = gz_text.persons_sentence(counts, (2010, 2011), 10)
    assert text == ("A: 1,200 persons in 2010 and 1,300 in 2011; B: fewer than 10 persons in "
                    "2010 and none in 2011.")


def test_los_sentence_branches():
    dropped = gz_text.los_sentence(True, {"A 2011": 0.6, "B 2011": 0.01})
    assert "left out" in dropped and "A 2011" in dropped and "p = 0.60" in dropped
    kept = gz_text.los_sentence(False, {"A 2011": 0.001, "B 2011": 0.03})
    assert "stays in the model" in kept and "p = 0.030" in kept
    assert "too few persons" in gz_text.los_sentence(True, {"A 2011": float("nan")})
    assert "as set" in gz_text.los_sentence(True, {"A 2011": 0.01})


def test_pooling_suppression_and_floor_sentences():
    assert gz_text.pooling_sentence([], 10).startswith("No age band")
    one = gz_text.pooling_sentence(["x"], 10)
    two = gz_text.pooling_sentence(["x", "y"], 20)
    assert one.startswith("1 pooling step keeps") and two.startswith("2 pooling steps keep")
    assert "at least 20 persons: x; y." in two
    assert gz_text.suppression_sentence(0, 12, 10).startswith("Every one of the 12 cells")
    assert gz_text.suppression_sentence(3, 12, 10).startswith("3 of the 12 cells")
    assert gz_text.floor_sentence(0) == "No standard is negative."
    assert gz_text.floor_sentence(1).startswith("1 cell adds up to a negative standard and is")
    assert gz_text.floor_sentence(3).startswith("3 cells add up to a negative standard and are")


@pytest.mark.parametrize("pcts, words", [
    ((8.0, 4.0, 0.0), ["8.00% less", "a saving", "4.00% less", "pays actual expenditure."]),
    ((-6.0, -3.0, 0.0), ["6.00% more", "a deficit", "3.00% more"]),
    ((0.001, 0.0, -2.0), ["2010 standards pays actual expenditure", "2.00% more"]),
])
def test_savings_sentence_follows_the_sign(pcts, words):
    table = pd.DataFrame({"scheme": "total", "omega": [0.0, 0.5, 1.0], "savings_pct": pcts})
    text = gz_text.savings_sentence(table, 2010, 2011)
    for word in words:
        assert word in text, text


def test_selection_sentence_branches():
    def tenths(ratios, suppressed=None):
        return pd.DataFrame({"scheme": "A", "level": [str(i + 1) for i in range(len(ratios))],
                             "ratio": ratios,
                             "suppressed": suppressed or [False] * len(ratios)})

    assert "within 5%" in gz_text.selection_sentence(tenths([0.98, 1.0, 1.03]))
    assert "the dearest tenth of predicted cost is under-paid most (ratio 1.30" in \
        gz_text.selection_sentence(tenths([0.9, 1.0, 1.3]))
    assert "the cheapest tenth of predicted cost is over-paid most (ratio 0.60" in \
        gz_text.selection_sentence(tenths([0.6, 1.0, 1.1]))
    assert "tenth 2 of predicted cost is under-paid most" in \
        gz_text.selection_sentence(tenths([1.0, 1.4, 1.1]))
    # a suppressed tenth is not described
    assert "within 5%" in gz_text.selection_sentence(tenths([1.0, 3.0, 1.01],
                                                            [False, True, False]))
    assert gz_text.selection_sentence(tenths([1.0], [True])).startswith("No tenth")


def test_grouping_sentence_names_the_rule():
    frame = pd.DataFrame({"person_id": range(120), "year": 2010, "scheme": "A", "gender": 1,
                          "age": 50, "ocsd": ["D1", "D2", "D3", "D4"] * 30,
                          "inpatient_prev_year": 0, "los": 0,
                          "fund_exp": [900.0, 880.0, 200.0, 210.0] * 30})
    cells = cap.cell_statistics(frame)
    given = gz_text.grouping_sentence(cap.group_diseases(cells, k=2))
    assert given == "Single diseases: 2 groups for A, by the number set for this run."
    chosen = cap.group_diseases(cells)
    text = gz_text.grouping_sentence(chosen)
    assert gz_text.RULE_WORDS[chosen.rule["A"]] in text


def test_paper_savings_recomputed_by_hand():
    figures = gz_text.paper_savings()
    assert figures["printed_pct"] == 5.47
    assert figures["recomputed_pct"] == pytest.approx(100 * 0.641 / (11.121 + 0.69))
    assert figures["largest_by_rounding_pct"] == pytest.approx(
        100 * (0.6135 + 0.0285) / (11.1205 + 0.685))
    assert figures["largest_by_rounding_pct"] < figures["printed_pct"]


def test_paper_se_ratio_reads_half_widths():
    printed = published.load("gz_table7_8_coefficients")
    estimates = printed.assign(std_error=printed["plus_minus"] / 1.96 / np.sqrt(0.25))
    ratio = gz_text.paper_se_ratio(estimates[["scheme", "year", "term", "std_error"]], 0.25)
    np.testing.assert_allclose(ratio["ratio"], 1 / 1.96)


def test_paper_gender_check_by_hand():
    check = gz_text.paper_gender_check().set_index(["scheme", "year", "age_category"])
    # Table 7, 2023, age category 2: women 874.22 against men 182.22
    assert check.loc[("UEBHI", 2023, 2), "women_higher"]
    assert check.loc[("UEBHI", 2023, 2), "men"] == 182.22
    # Table 8, 2023, age category 1: women -2.09 against the reference 0
    assert not check.loc[("URRBHI", 2023, 1), "women_higher"]
    assert gz_text.paper_los_p_values() == {"text": 0.917, "table": 0.0917}
    assert gz_text.paper_screening_r2() == (0.1799, 0.2369)
