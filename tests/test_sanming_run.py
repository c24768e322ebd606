"""The two Sanming notebooks executed end to end through papermill on the book's data (defaults, another
seed and other settings), and each chapter's registry entry against its notebook's parameters cell.
Runs on a stranger's data through `payreform run` are in tests/test_stranger_sanming.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import assert_registry_matches_notebook, execute_notebook

pytestmark = pytest.mark.slow


def test_itsa_notebook_on_the_book_data(tmp_path):
    results = execute_notebook(tmp_path, "sanming_itsa")
    assert results["data"]["source"] == "synthetic" and results["parameters"]["intervention"] == "2017-10"
    frame = pd.DataFrame(results["estimates"])
    assert set(frame["group"]) == {"hospital", "community", "overall", "hospital-vs-community"}
    figures = {p.stem for p in (tmp_path / "out" / "figures").glob("*.png")}
    assert {"series", "itsa_counterfactual", "residuals_9", "comparison", "coefficients", "published_shares",
            "totals_consistency"} <= figures
    assert results["diagnostics"]["paper"]["table4_consistency"]


def test_itsa_notebook_with_another_seed_and_settings(tmp_path):
    results = execute_notebook(tmp_path, "sanming_itsa", seed=11, add_overall=False, placebos=["off"],
                               seasonal="season_dummies")
    assert {e["group"] for e in results["estimates"]} == {"hospital", "community", "hospital-vs-community"}
    assert results["diagnostics"]["placebos"] is None
    assert results["parameters"]["seasonal"] == "season_dummies"


def test_budget_notebook_with_other_parameters(tmp_path):
    results = execute_notebook(tmp_path, "sanming_budget", spending_growth=0.15, staff_share=0.0, years=4)
    accounts = pd.DataFrame(results["diagnostics"]["accounts"])
    assert len(accounts) == 8 and accounts["staff_pay"].sum() == 0.0
    assert (accounts["overspending"] > 0).any()
    assert np.allclose(accounts["budget"], accounts["spending"] + accounts["balance"] - accounts["overspending"])
    assert {p.stem for p in (tmp_path / "out" / "figures").glob("*.png")} == {"budget_rules", "ratchet",
                                                                              "saving_account"}


@pytest.mark.parametrize("chapter", ["sanming-itsa", "sanming-budget"])
def test_registry_matches_the_notebook(tmp_path, chapter):
    assert_registry_matches_notebook(tmp_path, chapter)
