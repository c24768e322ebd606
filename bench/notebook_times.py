"""Wall-clock time of each chapter notebook, executed with papermill at its default parameters.

Run:  python bench/notebook_times.py [CHAPTER ...]

The target is under 30 s per notebook on a 2-core machine. The time includes starting the
kernel and importing the libraries.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jupytext

from payreform import chapters


def time_notebook(name: str) -> float:
    """Seconds to execute chapter ``name``'s notebook with default parameters (outputs discarded).

    papermill runs in a child process (as `payreform run` and CI run it), so the time includes
    starting Python and the kernel.
    """
    chapter = chapters.get(name)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "in.ipynb"
        jupytext.write(jupytext.read(chapter.notebook_path()), source)
        command = [sys.executable, "-m", "papermill", str(source), str(Path(scratch) / "out.ipynb"),
                   "-k", "python3", "-p", "output_dir", str(Path(scratch) / "out"), "--cwd", scratch,
                   "--no-progress-bar"]
        start = time.perf_counter()
        finished = subprocess.run(command, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if finished.returncode != 0:
            raise RuntimeError(f"{name} failed: {finished.stderr.strip().splitlines()[-1]}")
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", default=list(chapters.CHAPTERS))
    parser.add_argument("--json", type=str, default=None, help="also store the figures in this file")
    args = parser.parse_args()
    times = {}
    for name in args.chapters:
        times[name] = time_notebook(name)
        print(f"{name}: {times[name]:.1f} s")
    if args.json:
        import _record
        import pandas as pd

        table = pd.DataFrame({"chapter": list(times), "seconds": list(times.values())})
        _record.write(args.json, __file__, {f"{k}_seconds": v for k, v in times.items()}, {"times": table})


if __name__ == "__main__":
    main()
