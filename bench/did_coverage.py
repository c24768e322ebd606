"""Monte Carlo: how often do the clustered 95% intervals of the CCMC event study cover the truth?

Run:  python bench/did_coverage.py [--reps 500]

Each replication draws a synthetic CCMC panel (528 counties, 2018-2022, 40% treated, AR(1)
county errors with rho = 0.4), fits the event study of each of the seven outcomes with the five
controls and county-clustered standard errors (CRV1, t with G - 1 df), and records whether the
95% intervals of the post-period terms did2021 and did2022 contain the planted values. Printed:
coverage per outcome and term with its Monte Carlo error, the mean clustered standard error
against the actual spread of the estimates, the median standard errors of the calibration
anchors (see payreform.synth.ccmc.NOISE_SD), and the overall coverage (target 93-97%).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from payreform.did import event_study
from payreform.synth import ccmc

TERMS = ("did2021", "did2022")
ANCHORS = {("outpatient_cost_per_visit", "did2022"), ("outpatient_cost_per_visit", "year2019"),
           ("inpatient_reimbursement_rate", "did2021"), ("inpatient_reimbursement_rate", "year2022"),
           ("income_county_hospital_staff", "year2021"), ("income_primary_care_staff", "year2019"),
           ("patient_satisfaction", "did2022"), ("cost_per_discharge", "did2022")}


def coverage(reps: int = 500, first_seed: int = 100_000) -> pd.DataFrame:
    """One row per replication, outcome and term: estimate, standard error, covered."""
    truth = ccmc.truth().set_index(["outcome", "term"])["value"]
    rows = []
    for seed in range(first_seed, first_seed + reps):
        panel = ccmc.generate(seed=seed)
        for outcome in ccmc.OUTCOMES:
            table = event_study(panel, outcome=outcome, unit=ccmc.UNIT, time=ccmc.TIME, treated=ccmc.TREATED,
                                did_base=ccmc.DID_BASE, controls=ccmc.CONTROLS).table().set_index("term")
            for term in table.index:
                if term in TERMS or (outcome, term) in ANCHORS:
                    row = table.loc[term]
                    rows.append({"seed": seed, "outcome": outcome, "term": term, "estimate": row["estimate"],
                                 "std_error": row["std_error"],
                                 "covered": row["ci_low"] <= truth[(outcome, term)] <= row["ci_high"]})
    return pd.DataFrame(rows)


def summarise(draws: pd.DataFrame) -> pd.DataFrame:
    """Coverage, mean standard error and the estimates' spread per outcome and post-period term."""
    post = draws[draws["term"].isin(TERMS)]
    summary = post.groupby(["outcome", "term"], sort=False).agg(
        coverage=("covered", "mean"), mean_std_error=("std_error", "mean"), sd_estimate=("estimate", "std"))
    summary["se_ratio"] = summary["mean_std_error"] / summary["sd_estimate"]
    n = post.groupby(["outcome", "term"], sort=False).size()
    summary["mc_error"] = np.sqrt(summary["coverage"] * (1 - summary["coverage"]) / n)
    return summary.reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--json", type=str, default=None, help="also store the figures in this file")
    args = parser.parse_args()
    start = time.perf_counter()
    draws = coverage(args.reps)
    elapsed = time.perf_counter() - start
    summary = summarise(draws)
    post = draws[draws["term"].isin(TERMS)]
    overall = post["covered"].mean()
    mc = np.sqrt(overall * (1 - overall) / len(post))
    print(f"Clustered 95% intervals of did2021 and did2022 over {args.reps} synthetic CCMC panels "
          f"({elapsed:.0f} s)")
    print(summary.round(3).to_string(index=False))
    anchors = draws[[(o, t) in ANCHORS for o, t in zip(draws["outcome"], draws["term"], strict=True)]]
    medians = anchors.groupby(["outcome", "term"])["std_error"].median()
    truth = ccmc.truth().set_index(["outcome", "term"])["value"]
    print("\nCalibration anchors: median clustered SE and the implied t of the planted value")
    for (outcome, term), se in medians.items():
        print(f"  {outcome:32s} {term:9s} SE {se:10.4f}   t = {truth[(outcome, term)] / se:6.2f}")
    print(f"\nOverall coverage: {100 * overall:.1f}% (Monte Carlo error {100 * mc:.1f} points; "
          f"{len(post)} intervals; target 93-97%)")
    if args.json:
        import _record

        _record.write(args.json, __file__, {"reps": args.reps, "coverage_pct": 100 * overall, "mc_error_pct": 100 * mc,
                                            "intervals": len(post), "seconds": elapsed}, {"summary": summary})


if __name__ == "__main__":
    main()
