"""Monte Carlo: bias and coverage of two-way fixed effects and Callaway-Sant'Anna under staggered adoption.

Run:  python bench/did_staggered_bias.py [--reps 100]

Each replication draws the synthetic staggered CCMC panel (528 counties, 2018-2022, adoption in
2019, 2020 or 2021 or never, effects that grow with time since adoption and differ strongly by
cohort, parallel trends true), fits the event-time TWFE event study and Callaway-Sant'Anna
(never treated, universal base: both measured from the year before adoption), and records each
event-time estimate's error against the planted effect. Printed per outcome and event time: the
mean error of each estimator in units of its mean standard error (bias beyond noise when far
from 0; Monte Carlo error about 1/sqrt(reps)), and the coverage of the 95% intervals.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from payreform.did import callaway_santanna, event_study
from payreform.synth import ccmc

KEYS = {"unit": ccmc.UNIT, "time": ccmc.TIME, "first_treated": ccmc.FIRST_TREATED}


def draws(reps: int = 100, first_seed: int = 300_000) -> pd.DataFrame:
    """One row per replication, outcome, estimator and event time: estimate, std_error, truth."""
    truth = ccmc.truth(staggered=True).set_index(["outcome", "term"])["value"]
    rows = []
    for seed in range(first_seed, first_seed + reps):
        panel = ccmc.generate(seed=seed, staggered=True)
        for outcome in ccmc.OUTCOMES:
            twfe = event_study(panel, outcome=outcome, **KEYS).table().set_index("term")
            cs = callaway_santanna(panel, outcome=outcome, **KEYS, base_period="universal").aggregate("dynamic")
            cs = cs.dropna(subset=["event_time"]).set_index("term")
            for name, table in (("twfe", twfe), ("callaway_santanna", cs)):
                for term in table.index:
                    if not term.startswith("event"):
                        continue
                    row = table.loc[term]
                    rows.append({"seed": seed, "outcome": outcome, "estimator": name, "term": term,
                                 "event_time": int(term.removeprefix("event")), "estimate": row["estimate"],
                                 "std_error": row["std_error"], "truth": truth[(outcome, term)],
                                 "covered": row["ci_low"] <= truth[(outcome, term)] <= row["ci_high"]})
    return pd.DataFrame(rows)


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Bias in standard errors and coverage per outcome, estimator and event time."""
    frame = frame.assign(error=frame["estimate"] - frame["truth"])
    out = frame.groupby(["outcome", "estimator", "event_time"], sort=False).agg(
        mean_error=("error", "mean"), mean_std_error=("std_error", "mean"), coverage=("covered", "mean"))
    out["bias_in_se"] = out["mean_error"] / out["mean_std_error"]
    return out.reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--json", type=str, default=None, help="also store the figures in this file")
    args = parser.parse_args()
    start = time.perf_counter()
    frame = draws(args.reps)
    elapsed = time.perf_counter() - start
    summary = summarise(frame)
    shown = summary[summary["outcome"] == ccmc.STAGGERED_OUTCOME]
    print(f"Staggered adoption, {args.reps} synthetic panels ({elapsed:.0f} s): {ccmc.STAGGERED_OUTCOME}")
    print(shown.pivot(index="event_time", columns="estimator", values=["bias_in_se", "coverage"]).round(2)
          .to_string())
    worst = summary.groupby("estimator")["bias_in_se"].apply(lambda s: float(s.abs().max()))
    coverage = frame.groupby("estimator")["covered"].mean()
    print("\nLargest |bias| in standard errors over the seven outcomes and all event times:")
    for name in worst.index:
        print(f"  {name:18s} {worst[name]:5.2f}   coverage of the 95% intervals {100 * coverage[name]:5.1f}%")
    if args.json:
        import _record

        figures = {"reps": args.reps, "seconds": elapsed, "outcome_shown": ccmc.STAGGERED_OUTCOME,
                   "twfe_max_abs_bias_se": worst["twfe"], "cs_max_abs_bias_se": worst["callaway_santanna"],
                   "twfe_coverage_pct": 100 * coverage["twfe"],
                   "cs_coverage_pct": 100 * coverage["callaway_santanna"]}
        _record.write(args.json, __file__, figures, {"summary": summary})


if __name__ == "__main__":
    main()
