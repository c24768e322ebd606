"""`payreform run gz-capitation` on the full synthetic city, end to end: seconds and peak memory.

Run:  python bench/gz_run.py [--path /tmp/payreform_bench/gz_city.parquet] [--repeat 1]

Runs the command as a user would (one pass that checks the contract and computes the cell
statistics, the notebook on the prepared statistics, figures, report.html) on the city file
written by bench/gz_scale.py (written here if absent), and reports the wall-clock time and the
peak resident memory of the largest process involved (the command or the notebook's kernel, as
counted by getrusage for reaped descendants). In the same process it times one DuckDB GROUP BY
pass over the file (the floor) and the chapter runner without the notebook, and prints the
ratios side by side. Targets: under 12 s and under 1.5 GB end to end.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gz_scale import ensure_city, group_by_pass, runner


def run_city(path: Path) -> dict:
    """Seconds and peak memory (MB) of one `payreform run gz-capitation` on ``path``."""
    command = Path(sys.executable).with_name("payreform")
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        done = subprocess.run([str(command), "run", "gz-capitation", "--data", str(path), "--out",
                               str(Path(scratch) / "report"), "--quiet"], capture_output=True,
                              text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip().splitlines()[-1])
        figures = len(list((Path(scratch) / "report" / "figures").glob("*.png")))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak, "figures": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path,
                        default=Path(tempfile.gettempdir()) / "payreform_bench" / "gz_city.parquet")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=str, default=None, help="also store the figures in this file")
    args = parser.parse_args()
    ensure_city(args.path)
    group_by_pass(args.path, None)  # warm the file cache
    runs, floors, runners = [], [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        group_by_pass(args.path, None)
        floors.append(time.perf_counter() - start)
        start = time.perf_counter()
        runner(args.path)
        runners.append(time.perf_counter() - start)
        runs.append(run_city(args.path))
    best = min(runs, key=lambda r: r["seconds"])
    floor, chapter = min(floors), min(runners)
    print(f"payreform run gz-capitation on {args.path}: {best['seconds']:.1f} s, peak memory "
          f"{best['peak_mb']:.0f} MB, {best['figures']} figures (targets: 12 s, 1,500 MB)")
    print(f"one DuckDB GROUP BY pass: {floor:.2f} s; chapter runner without the notebook: "
          f"{chapter:.2f} s; ratios to the pass: command {best['seconds'] / floor:.1f}, "
          f"runner {chapter / floor:.1f}")
    if args.json:
        import _record

        _record.write(args.json, __file__, {
            "seconds": best["seconds"], "peak_mb": best["peak_mb"], "figures": best["figures"],
            "group_by_s": floor, "runner_s": chapter, "ratio_command": best["seconds"] / floor,
            "ratio_runner": chapter / floor, "all_seconds": [r["seconds"] for r in runs],
            "repeat": args.repeat})


if __name__ == "__main__":
    main()
