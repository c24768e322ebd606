"""Speed of one segmented-regression fit against the obvious alternative.

Run:  python bench/itsa_speed.py [--repeat 300]

Both sides fit the same model to the same 46-month series with Newey-West (lag 3) errors and a
Breusch-Godfrey test, in one process, alternating: `payreform.itsa.segmented_regression`
against a hand-written statsmodels formula fit (`smf.ols` on a frame with T, X and XT columns).
The figure printed is the ratio of median times (above 1 = payreform slower).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.stats.diagnostic import acorr_breusch_godfrey

from payreform.contracts import validate_time_series
from payreform.itsa import segmented_regression
from payreform.synth import youxi


def formula_fit(series: pd.Series, t0: int):
    time_index = np.arange(1, len(series) + 1)
    frame = pd.DataFrame({"y": series.to_numpy(), "T": time_index, "X": (time_index >= t0).astype(float)})
    frame["XT"] = (frame["T"] - t0 + 1) * frame["X"]
    fit = smf.ols("y ~ T + X + XT", data=frame).fit(cov_type="HAC", cov_kwds={"maxlags": 3, "use_correction": True},
                                                    use_t=True)
    return fit, acorr_breusch_godfrey(fit, nlags=1, result_object=True)


def measure(repeat: int = 300) -> dict[str, float]:
    """Median seconds per fit for each side, and their ratio."""
    ts = validate_time_series(youxi.generate(), outcomes=["hospitalizations"], intervention=youxi.INTERVENTION)
    series = ts.frame["hospitalizations"]
    ours, theirs = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        segmented_regression(series, intervention=ts.intervention, coding=youxi.CODING, hac_lags=3)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        formula_fit(series, 21)
        theirs.append(time.perf_counter() - start)
    return {"payreform_ms": 1e3 * float(np.median(ours)), "statsmodels_formula_ms": 1e3 * float(np.median(theirs)),
            "ratio": float(np.median(ours) / np.median(theirs))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--json", type=str, default=None, help="also store the figures in this file")
    args = parser.parse_args()
    result = measure(args.repeat)
    print(f"payreform.itsa.segmented_regression: {result['payreform_ms']:.2f} ms per fit")
    print(f"statsmodels formula OLS + HAC + BG:  {result['statsmodels_formula_ms']:.2f} ms per fit")
    print(f"ratio (payreform / formula): {result['ratio']:.2f}")
    if args.json:
        import _record

        _record.write(args.json, __file__, result | {"repeat": args.repeat})


if __name__ == "__main__":
    main()
