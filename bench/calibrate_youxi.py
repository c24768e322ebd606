"""Calibrate the noise of the Youxi generator against Table 3's 95% interval widths.

Run:  python bench/calibrate_youxi.py [--seeds 400]

For each seed the chapter's analysis is repeated (ratio-to-moving-average seasonal adjustment,
segmented regression in the paper's coding, Newey-West lag 3). The script prints, per outcome
and coefficient, the median interval width relative to Table 3, the share of seeds where the
Breusch-Godfrey test (order 1) rejects at 5%, and the noise scale that would make the median
widths match on average (geometric mean over beta1..beta3). Paste that scale into
payreform.synth.youxi.NOISE_SD.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from payreform.contracts import validate_time_series
from payreform.itsa import analyse_series
from payreform.synth import youxi


def widths(seeds: int) -> pd.DataFrame:
    rows = []
    for seed in range(seeds):
        ts = validate_time_series(youxi.generate(seed=seed), time_column="month",
                                  outcomes=list(youxi.OUTCOMES), intervention=youxi.INTERVENTION)
        for outcome in youxi.OUTCOMES:
            analysis = analyse_series(ts.frame, outcome, intervention=ts.intervention,
                                      seasonal="ratio_to_moving_average", coding=youxi.CODING,
                                      hac_lags=3)
            table = analysis.table().set_index("term")
            for term in ("beta1", "beta2", "beta3"):
                rows.append({"seed": seed, "outcome": outcome, "term": term,
                             "width": table.loc[term, "ci_high"] - table.loc[term, "ci_low"],
                             "bg_reject": analysis.model.breusch_godfrey.p_value < 0.05})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=400)
    parser.add_argument("--json", type=str, default=None, help="also store the figures in this file")
    args = parser.parse_args()
    frame = widths(args.seeds)
    published = youxi.published().set_index(["outcome", "term"])
    summary = frame.groupby(["outcome", "term"]).agg(median_width=("width", "median"),
                                                     bg_reject=("bg_reject", "mean"))
    summary["published_width"] = published["ci_high"] - published["ci_low"]
    summary["ratio"] = summary["median_width"] / summary["published_width"]
    print(summary.round(3).to_string())
    print("\nsuggested NOISE_SD (median widths matched on average):")
    for outcome in youxi.OUTCOMES:
        ratio = float(np.exp(np.log(summary.loc[outcome, "ratio"]).mean()))
        print(f"  {outcome}: {youxi.NOISE_SD[outcome] / ratio:.4g}   (current ratio {ratio:.3f})")
    if args.json:
        import _record

        ratios = {f"{o}_width_ratio": float(np.exp(np.log(summary.loc[o, "ratio"]).mean())) for o in youxi.OUTCOMES}
        _record.write(args.json, __file__, {"seeds": args.seeds, **ratios}, {"widths": summary.reset_index()})


if __name__ == "__main__":
    main()
