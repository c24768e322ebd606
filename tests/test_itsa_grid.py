"""The coverage study of bench/itsa_grid.py on a small grid: the records it writes, and what they must
show even with few series (the method that ignores the correlation's uncertainty under-covers, the
oracle does not)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
import itsa_grid  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_grid():
    draws = itsa_grid.run([24], [0.0, 0.6], reps=30, seed=5, workers=1)
    return itsa_grid.summarise(draws), itsa_grid.goal(itsa_grid.summarise(draws))


def test_one_record_per_method_cell_and_term(small_grid):
    summary, checked = small_grid
    methods = set(itsa_grid.INFERENCE_METHODS) | {"oracle"}
    assert set(summary["method"]) == methods
    assert len(summary) == len(methods) * 2 * 2  # two correlations, two terms
    assert (summary["reps"] == 30).all() and summary["coverage"].between(0, 1).all()
    assert set(checked.columns) >= {"coverage_goal", "width_vs_oracle", "width_goal", "closest_to_nominal"}
    oracle = summary[summary["method"] == "oracle"]
    assert (oracle["width_vs_oracle"] == 1.0).all()


def test_the_grid_separates_the_methods(small_grid):
    summary, _ = small_grid
    by = summary.set_index(["rho", "term", "method"])["coverage"]
    for term in ("beta2", "beta3"):
        assert by[(0.6, term, "newey_west")] < by[(0.6, term, "calibrated")]
        assert by[(0.6, term, "oracle")] >= 0.85
    # REML underestimates the correlation of a short series, as Turner et al. found
    reml = summary[(summary["method"] == "reml") & (summary["rho"] == 0.6)]["rho_bias"]
    assert (reml < 0).all()


def test_itsa_coverage_grid_command(tmp_path):
    """`python bench/itsa_coverage.py --grid` (the issue's command) runs the grid and stores its record."""
    out = tmp_path / "grid.json"
    done = subprocess.run([sys.executable, str(BENCH / "itsa_coverage.py"), "--grid", "--reps", "4", "--seed", "2",
                           "--lengths", "12", "--rhos", "0.4", "--workers", "1", "--json", str(out)],
                          capture_output=True, text=True, cwd=BENCH.parent)
    assert done.returncode == 0, done.stderr[-500:]
    import json

    record = json.loads(out.read_text())
    assert record["script"] == "bench/itsa_grid.py" and record["figures"]["reps"] == 4
    assert len(record["tables"]["summary"]) == (len(itsa_grid.INFERENCE_METHODS) + 1) * 2
