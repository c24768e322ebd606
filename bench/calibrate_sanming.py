"""Calibrate the noise of the Sanming generator against Table 4's standard errors, and measure coverage.

Run:  python bench/calibrate_sanming.py [--seeds 200] [--iterations 3]

For each seed the chapter's analysis is repeated per institution type (ratio-to-moving-average
seasonal adjustment, ln(Y + 1), segmented regression in the paper's coding T * X, Newey-West
lag 3). The script prints, per series and coefficient, the median standard error relative to
Table 4, the median standard error relative to the spread of the estimates over the seeds
(below 1: the Newey-West errors understate the sampling variation), the share of 95% intervals
that contain the truth the data carry, and the share of Breusch-Godfrey rejections. It then
rescales each series' noise so that the largest and smallest ratio to Table 4 balance (their
geometric mean becomes 1) and repeats. The relative sizes of the three standard errors are
fixed by the design, and Table 4's (rounded to 0.001) are not always consistent with it, so not
every ratio can be brought near 1. Paste the result into payreform.synth.sanming.NOISE_SD.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from payreform.chapters.sanming_paper import implied_truth
from payreform.contracts import validate_time_series
from payreform.itsa import analyse_series
from payreform.synth import sanming


def fits(seeds: int, truth: pd.Series) -> pd.DataFrame:
    rows = []
    for seed in range(seeds):
        frame = sanming.generate(seed=seed)
        for group in sanming.GROUPS:
            ts = validate_time_series(frame[frame[sanming.GROUP_COLUMN] == group], time_column="month",
                                      outcomes=list(sanming.OUTCOMES), intervention=sanming.INTERVENTION)
            for outcome in sanming.OUTCOMES:
                model = analyse_series(ts.frame, outcome, intervention=ts.intervention, log=True,
                                       seasonal="ratio_to_moving_average", coding=sanming.CODING, hac_lags=3).model
                for term in ("beta1", "beta2", "beta3"):
                    combo = model.term(term)
                    low, high = combo.interval()
                    rows.append({"group": group, "outcome": outcome, "term": term, "estimate": combo.estimate,
                                 "std_error": combo.std_error,
                                 "covers": low <= truth[group, outcome, term] <= high,
                                 "bg_reject": model.breusch_godfrey.p_value < 0.05})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--json", type=str, default=None, help="also store the figures in this file")
    args = parser.parse_args()
    published = sanming.published().set_index(["group", "outcome", "term"])["std_error"]
    truth = implied_truth().set_index(["group", "outcome", "term"])["value"]
    for iteration in range(args.iterations):
        table = fits(args.seeds, truth)
        summary = table.groupby(["group", "outcome", "term"]).agg(
            median_se=("std_error", "median"), spread=("estimate", "std"), coverage=("covers", "mean"),
            bg_reject=("bg_reject", "mean"))
        summary["published_se"] = published.loc[summary.index].to_numpy()
        summary["se_vs_table4"] = summary["median_se"] / summary["published_se"]
        summary["se_vs_spread"] = summary["median_se"] / summary["spread"]
        print(f"iteration {iteration} ({args.seeds} seeds):")
        print(summary.round(4).to_string())
        beta3 = table[table["term"] == "beta3"]
        print(f"coverage of the 95% intervals: all terms {table['covers'].mean():.3f}, "
              f"beta3 {beta3['covers'].mean():.3f}; median SE / spread "
              f"{summary['se_vs_spread'].median():.2f}\n")
        if iteration == args.iterations - 1:
            break
        for key in sanming.NOISE_SD:
            ratios = summary.loc[key, "se_vs_table4"]
            sanming.NOISE_SD[key] = sanming.NOISE_SD[key] / float(np.sqrt(ratios.max() * ratios.min()))
    print("NOISE_SD used in the last iteration:")
    for key, value in sanming.NOISE_SD.items():
        print(f"    {key}: {value:.4f},")
    if args.json:
        import _record

        _record.write(args.json, __file__, {
            "seeds": args.seeds, "iterations": args.iterations, "coverage_all": float(table["covers"].mean()),
            "coverage_beta3": float(beta3["covers"].mean()),
            "median_se_vs_spread": float(summary["se_vs_spread"].median()),
            "median_se_vs_table4": float(summary["se_vs_table4"].median())}, {"summary": summary.reset_index()})


if __name__ == "__main__":
    main()
