"""The appendix shows stored benchmark figures: every bench script has a record and every record a
script, and each record says where, when and how it was measured."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"


def scripts() -> set[str]:
    return {p.stem for p in BENCH.glob("*.py") if not p.name.startswith("_")}


def records() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (BENCH / "results").glob("*.json")}


def test_every_script_has_a_stored_record_and_every_record_a_script():
    stored = records()
    assert set(stored) == scripts(), (
        f"missing records: {sorted(scripts() - set(stored))}; records without a script: "
        f"{sorted(set(stored) - scripts())}: run `make bench`"
    )
    for name, record in stored.items():
        assert record["script"] == f"bench/{name}.py" and (ROOT / record["script"]).exists()


def test_records_say_where_when_and_how():
    for name, record in records().items():
        assert record["command"].startswith(f"python bench/{name}.py"), name
        assert record["machine"]["cores"] >= 1 and record["date"] and record["commit"], name
        assert record["figures"], name


def test_every_script_stores_its_figures_and_make_bench_runs_it():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for name in scripts():
        assert "--json" in (BENCH / f"{name}.py").read_text(encoding="utf-8"), name
        assert f"bench/{name}.py" in makefile and f"bench/results/{name}.json" in makefile, name
