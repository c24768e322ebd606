"""Speed of one CCMC event-study fit against pyfixest's fit of the same model.

Run:  python bench/did_speed.py [--repeat 50]

Both sides fit the same model to the same synthetic panel (528 counties x 5 years: year
dummies, treated x year interactions, five controls, county fixed effects, standard errors
clustered by county), in one process, alternating. payreform's time includes validating the
data contract and building the design from the long table; pyfixest's time is its feols call on
a frame with the dummy columns already built (building them is not counted against it). The
figure printed is the ratio of median times (below 1 = payreform faster).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf

from payreform.did import event_study
from payreform.synth import ccmc

OUTCOME = "income_county_hospital_staff"


def measure(repeat: int = 50) -> dict[str, float]:
    """Median seconds per fit for each side, their ratio and the largest coefficient difference."""
    panel = ccmc.generate()
    frame = panel.copy()
    terms = []
    for year in ccmc.YEARS:
        if year != ccmc.YEAR_BASE:
            frame[f"year{year}"] = (frame["year"] == year).astype(float)
            terms.append(f"year{year}")
    for year in ccmc.YEARS:
        if year != ccmc.DID_BASE:
            frame[f"did{year}"] = frame["treated"] * (frame["year"] == year)
            terms.append(f"did{year}")
    formula = f"{OUTCOME} ~ " + " + ".join(terms + list(ccmc.CONTROLS)) + " | county_id"
    ours, theirs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(repeat):
            start = time.perf_counter()
            result = event_study(panel, outcome=OUTCOME, unit="county_id", time="year", treated="treated",
                                 did_base=ccmc.DID_BASE, controls=ccmc.CONTROLS)
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            fixest = pf.feols(formula, data=frame, vcov={"CRV1": "county_id"})
            fixest.se()
            theirs.append(time.perf_counter() - start)
    difference = float(np.max(np.abs(fixest.coef()[result.params.index].to_numpy() - result.params.to_numpy())))
    return {"payreform_ms": 1e3 * float(np.median(ours)), "pyfixest_ms": 1e3 * float(np.median(theirs)),
            "ratio": float(np.median(ours) / np.median(theirs)), "max_coef_difference": difference}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--json", type=str, default=None, help="also store the figures in this file")
    args = parser.parse_args()
    result = measure(args.repeat)
    print(f"payreform.did.event_study (528 x 5, 13 terms, CRV1): {result['payreform_ms']:.1f} ms per fit")
    print(f"pyfixest.feols, same model:                       {result['pyfixest_ms']:.1f} ms per fit")
    print(f"ratio (payreform / pyfixest): {result['ratio']:.2f}   "
          f"(largest coefficient difference {result['max_coef_difference']:.1e})")
    if args.json:
        import _record

        _record.write(args.json, __file__, result | {"repeat": args.repeat})


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    main()
