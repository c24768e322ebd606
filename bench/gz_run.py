"""`payreform run gz-capitation` on the full synthetic city, end to end: seconds and peak memory.

Run:  python bench/gz_run.py [--path /tmp/payreform_bench/gz_city.parquet]

Runs the command as a user would (contract check, notebook, figures, report.html) on the
city file written by bench/gz_scale.py (written here if absent), and reports the wall-clock
time and the peak resident memory of the largest process involved (the notebook's kernel, as
counted by getrusage for reaped descendants). Targets: under 30 s and under 2 GB.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gz_scale import ensure_city


def run_city(path: Path) -> dict:
    """Seconds and peak memory (MB) of one `payreform run gz-capitation` on ``path``."""
    command = Path(sys.executable).with_name("payreform")
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        done = subprocess.run([str(command), "run", "gz-capitation", "--data", str(path), "--out",
                               str(Path(scratch) / "report"), "--quiet"], capture_output=True, text=True)
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
    args = parser.parse_args()
    ensure_city(args.path)
    result = run_city(args.path)
    print(f"payreform run gz-capitation on {args.path}: {result['seconds']:.1f} s, "
          f"peak memory {result['peak_mb']:.0f} MB, {result['figures']} figures")


if __name__ == "__main__":
    main()
