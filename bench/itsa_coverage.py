"""Monte Carlo: how often do 95% intervals from the Youxi analysis cover the planted truth?

Run:  python bench/itsa_coverage.py [--reps 500] [--outcome hospitalizations]
      python bench/itsa_coverage.py --grid [--reps N] [--seed S] [--json FILE]   (the grid of Turner et al.:
      every inference method of payreform.itsa over series lengths and correlations; see bench/itsa_grid.py)

Each replication draws a synthetic Youxi series (46 months, AR(1) errors with rho = 0.7,
seasonality), seasonally adjusts it, fits the segmented regression in the paper's coding and
records whether the 95% interval for the slope change beta3 (and beta1, beta2) contains the
planted value. Inference is compared across: conventional OLS, Newey-West at lags 0 (White),
3 (the default rule) and 6, and as an alternative that models the autocorrelation instead of
correcting for it, feasible GLS with AR(1) errors (statsmodels GLSAR, iterated Cochrane-Orcutt).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from payreform.contracts import validate_time_series
from payreform.itsa import ratio_to_moving_average, segmented_regression
from payreform.synth import youxi

METHODS = ("OLS", "NW lag 0", "NW lag 3", "NW lag 6", "GLS AR(1)")
TERMS = ("beta1", "beta2", "beta3")


def coverage(reps: int = 500, outcome: str = "hospitalizations", first_seed: int = 1) -> pd.DataFrame:
    """One row per replication, method and term: estimate, standard error, covered."""
    truth = youxi.truth().query("outcome == @outcome").set_index("term")["value"]
    rows = []
    for seed in range(first_seed, first_seed + reps):
        ts = validate_time_series(youxi.generate(seed=seed), outcomes=[outcome],
                                  intervention=youxi.INTERVENTION)
        adjusted = ratio_to_moving_average(ts.frame[outcome]).adjusted
        for method, lags in (("OLS", None), ("NW lag 0", 0), ("NW lag 3", 3), ("NW lag 6", 6)):
            result = segmented_regression(adjusted, intervention=ts.intervention, coding=youxi.CODING,
                                          hac_lags=lags)
            for term in TERMS:
                combo = result.term(term)
                low, high = combo.interval()
                rows.append({"seed": seed, "method": method, "term": term, "estimate": combo.estimate,
                             "std_error": combo.std_error, "covered": low <= truth[term] <= high})
        design = result.design.to_numpy()
        gls = sm.GLSAR(adjusted.to_numpy(), design, rho=1).iterative_fit(maxiter=50)
        q = stats.t.ppf(0.975, gls.df_resid)
        for i, term in enumerate(result.params.index):
            if term in TERMS:
                est, se = float(gls.params[i]), float(gls.bse[i])
                rows.append({"seed": seed, "method": "GLS AR(1)", "term": term, "estimate": est,
                             "std_error": se, "covered": abs(est - truth[term]) <= q * se})
    return pd.DataFrame(rows)


def summarise(draws: pd.DataFrame) -> pd.DataFrame:
    """Coverage, mean standard error and the estimates' actual spread per method and term."""
    summary = draws.groupby(["term", "method"], sort=False).agg(
        coverage=("covered", "mean"), mean_std_error=("std_error", "mean"), sd_estimate=("estimate", "std"))
    summary["se_ratio"] = summary["mean_std_error"] / summary["sd_estimate"]
    n = draws.groupby(["term", "method"], sort=False).size()
    summary["mc_error"] = np.sqrt(summary["coverage"] * (1 - summary["coverage"]) / n)
    return summary.reset_index()


def main() -> None:
    if "--grid" in sys.argv[1:]:  # the coverage study over the Turner et al. grid lives in itsa_grid.py
        import itsa_grid

        sys.argv.remove("--grid")
        itsa_grid.main()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--outcome", default="hospitalizations", choices=youxi.OUTCOMES)
    parser.add_argument("--json", type=str, default=None, help="also store the figures in this file")
    args = parser.parse_args()
    start = time.perf_counter()
    summary = summarise(coverage(args.reps, args.outcome))
    seconds = time.perf_counter() - start
    print(f"95% interval coverage over {args.reps} synthetic Youxi series ({args.outcome}), {seconds:.1f} s")
    print(summary.round(3).to_string(index=False))
    if args.json:
        import _record

        nw3 = summary.query("term == 'beta3' and method == 'NW lag 3'").iloc[0]
        gls = summary.query("term == 'beta3' and method == 'GLS AR(1)'").iloc[0]
        _record.write(args.json, __file__, {
            "reps": args.reps, "outcome": args.outcome, "seconds": seconds,
            "nw_coverage_beta3": nw3["coverage"], "nw_se_ratio_beta3": nw3["se_ratio"],
            "gls_coverage_beta3": gls["coverage"]}, {"summary": summary})


if __name__ == "__main__":
    main()
