"""How long the book build and the test lanes take on this machine.

Run:  python bench/build_times.py [--json FILE]   (or `make timings`; after `make test` has installed
                                                  everything once; takes about 12 minutes)

Times, one after the other: the book built from clean (``make book`` into ``_build/html``, both
editions), the fast test lane (unit tests and doctests) and the slow lane (notebooks, strangers'
data, the books with -W and the browser check), exactly as
`make test` runs them. Targets: the book in under 3 minutes, the fast lane in under 1 minute, the
whole suite in under 8 minutes, on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if finished.returncode != 0:
        tail = (finished.stdout + finished.stderr).strip().splitlines()[-5:]
        raise SystemExit(f"{' '.join(command)} failed:\n" + "\n".join(tail))
    return seconds


STEPS = [  # figure, step, target in seconds (None: no target of its own)
    ("book_seconds", "book from clean (make book, both editions)", 180),
    ("fast_lane_seconds", "fast lane (unit tests and doctests)", 60),
    ("slow_lane_seconds", "slow lane (notebooks, strangers' data, books with -W, browser)", None),
    ("suite_seconds", "whole suite (fast + slow lane)", 480),
]


def steps_table(figures: dict[str, float]) -> pd.DataFrame:
    """The steps measured so far, their seconds, targets and whether each target is met."""
    rows = [{"step": step, "seconds": figures[key], "target_seconds": target,
             "met": None if target is None else bool(figures[key] < target)}
            for key, step, target in STEPS if key in figures]
    return pd.DataFrame(rows, columns=["step", "seconds", "target_seconds", "met"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=str, default=None, help="also store the figures in this file")
    args = parser.parse_args()
    figures: dict[str, float] = {}

    def store() -> None:
        # stored after each step, so that the test lanes (which check that every bench script
        # has a record) and the book find a record even the first time this script runs
        if args.json:
            import _record

            _record.write(args.json, __file__, figures, {"steps": steps_table(figures)})

    shutil.rmtree(ROOT / "_build", ignore_errors=True)  # from clean, as a fresh clone builds it
    figures["book_seconds"] = timed(["make", "-s", "book"])
    store()
    figures["fast_lane_seconds"] = timed([str(BIN / "python"), "-m", "pytest", "-m", "not slow", "--doctest-modules",
                                          "src/payreform", "tests", "-n", "2", "-q", "-p", "no:cacheprovider"])
    store()
    figures["slow_lane_seconds"] = timed([str(BIN / "python"), "-m", "pytest", "-m", "slow", "-n", "2", "--dist",
                                          "loadfile", "-q", "-p", "no:cacheprovider"])
    figures["suite_seconds"] = figures["fast_lane_seconds"] + figures["slow_lane_seconds"]
    store()
    for row in steps_table(figures).itertuples():
        target = ("" if row.met is None else
                  f"  (target: under {row.target_seconds:.0f} s: {'met' if row.met else 'NOT met'})")
        print(f"{row.step}: {row.seconds:.0f} s{target}")


if __name__ == "__main__":
    main()
