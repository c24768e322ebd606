"""Store a benchmark's figures as data, with the machine, date, commit and command that made them.

Every script in ``bench/`` accepts ``--json FILE``; ``make bench`` runs them all and writes
``bench/results/<script>.json``. The book's appendix shows these stored figures rather than
re-running the benchmarks at each build, and a test checks that every script has a record and
every record a script.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from payreform.report import jsonable

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    memory = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            memory = round(int(handle.readline().split()[1]) / 1024**2, 1)
    except OSError:  # pragma: no cover - not Linux
        pass
    return {"python": platform.python_version(), "platform": platform.platform(terse=True),
            "processor": platform.machine(), "cores": os.cpu_count(), "memory_gib": memory}


def commit() -> str:
    """The repository's commit (with ``+dirty`` when the tree has uncommitted changes)."""
    root = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):  # pragma: no cover - not a clone
        return "unknown"
    return sha + ("+dirty" if dirty else "")


def write(path: str | Path, script: str, figures: Mapping[str, Any],
          tables: Mapping[str, pd.DataFrame] | None = None) -> Path:
    """Write one benchmark record (figures and tables) to ``path``; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "script": f"bench/{Path(script).name}",
        "command": " ".join(["python", f"bench/{Path(script).name}", *sys.argv[1:]]),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "machine": machine(),
        "figures": jsonable(dict(figures)),
        "tables": {name: jsonable(table.to_dict(orient="records")) for name, table in (tables or {}).items()},
    }
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    return path


def read(name: str) -> dict[str, Any]:
    """The stored record of ``bench/<name>.py``."""
    return json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))


def table(record: Mapping[str, Any], name: str) -> pd.DataFrame:
    """A stored table of a record as a DataFrame."""
    return pd.DataFrame(record["tables"][name])
