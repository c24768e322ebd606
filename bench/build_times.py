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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=str, default=None, help="also store the figures in this file")
    args = parser.parse_args()
    figures = {}
    shutil.rmtree(ROOT / "_build", ignore_errors=True)  # from clean, as a fresh clone builds it
    figures["book_seconds"] = timed(["make", "-s", "book"])
    figures["fast_lane_seconds"] = timed([str(BIN / "python"), "-m", "pytest", "-m", "not slow", "--doctest-modules",
                                          "src/payreform", "tests", "-n", "2", "-q", "-p", "no:cacheprovider"])
    figures["slow_lane_seconds"] = timed([str(BIN / "python"), "-m", "pytest", "-m", "slow", "-n", "2", "--dist",
                                          "loadfile", "-q", "-p", "no:cacheprovider"])
    figures["suite_seconds"] = figures["fast_lane_seconds"] + figures["slow_lane_seconds"]
    steps = pd.DataFrame([
        {"step": "book from clean (make book, both editions)", "seconds": figures["book_seconds"],
         "target_seconds": 180},
        {"step": "fast lane (unit tests and doctests)", "seconds": figures["fast_lane_seconds"],
         "target_seconds": 60},
        {"step": "slow lane (notebooks, strangers' data, books with -W, browser)",
         "seconds": figures["slow_lane_seconds"], "target_seconds": None},
        {"step": "whole suite (fast + slow lane)", "seconds": figures["suite_seconds"],
         "target_seconds": 480},
    ])
    steps["met"] = [None if t is None or t != t else bool(s < t)
                    for s, t in zip(steps["seconds"], steps["target_seconds"], strict=True)]
    for row in steps.itertuples():
        target = "" if row.met is None else f"  (target: under {row.target_seconds:.0f} s: {'met' if row.met else 'NOT met'})"
        print(f"{row.step}: {row.seconds:.0f} s{target}")
    if args.json:
        import _record

        _record.write(args.json, __file__, figures, {"steps": steps})


if __name__ == "__main__":
    main()
