"""The GZ capitation statistics on DuckDB and on Apache Spark, at 1.8 and 18 million rows.

Run:  python bench/gz_spark.py [--small FILE] [--large FILE] [--master local[2]] [--repeat 2]
                               [--json FILE]

1. Uses the synthetic city at scale 0.1 (about 1.8 million person-years) and 1 (about 18
   million) as Parquet files, writing them first if they are missing (``payreform synth gz
   --scale 0.1 --out FILE`` writes the same files).
2. Starts one Spark session on ``--master`` (default ``local[2]``: Spark in this process on two
   cores, as the chapter's default) and times its start.
3. In one process, for each size, alternately, best of ``--repeat``: the statistics pass with
   the contract checked (``cell_statistics``: the pass over the file, the duplicate
   person-year check, the codes) by DuckDB (default threads: every core) and by Spark, then the
   rest of the method on the statistics (the same code for both). The first Spark run of the
   process is reported apart (the JVM compiles its code then).
4. Prints seconds, rows per second and the Spark/DuckDB ratio per size; how the cost grows with
   rows (exponent of time against rows between the two sizes, and the cost of one more million
   rows); and checks that both engines give the same statistics and the same estimates (the
   largest relative difference).
5. From these: how many cores a Spark cluster would need to match this machine's DuckDB pass,
   if Spark's per-core throughput held on a cluster (an optimistic bound: a cluster adds
   network and scheduling).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from payreform import capitation as cap
from payreform.io.spark_source import spark_session
from payreform.synth import gz


def ensure_city(path: Path, scale: float) -> float:
    """Write the synthetic city to ``path`` unless it exists; return the seconds spent writing."""
    if path.exists():
        return 0.0
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    gz.write(path, seed=gz.DEFAULT_SEED, scale=scale)
    return time.perf_counter() - start


def timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def largest_relative_difference(left: pd.DataFrame, right: pd.DataFrame) -> float:
    """Largest |a - b| / |a| over the numeric columns (0 where both are 0)."""
    worst = 0.0
    for column in left.columns:
        if not pd.api.types.is_numeric_dtype(left[column]):
            assert left[column].equals(right[column]), column
            continue
        a = left[column].to_numpy(float)
        b = right[column].to_numpy(float)
        both = np.isnan(a) & np.isnan(b)
        assert not (np.isnan(a) ^ np.isnan(b)).any(), column
        scale = np.where(a == 0, 1.0, np.abs(a))
        difference = np.where(both, 0.0, np.abs(a - b) / scale)
        worst = max(worst, float(np.max(difference, initial=0.0)))
    return worst


def measure_size(path: Path, spark, repeat: int) -> dict:
    """Both engines on one file: best seconds, rows per second, and their agreement."""
    duck_times, spark_times, method_times = [], [], []
    duck = sparked = None
    for _ in range(repeat):  # alternate, so that load from other processes hits both alike
        seconds, duck = timed(lambda: cap.cell_statistics(path))
        duck_times.append(seconds)
        seconds, sparked = timed(lambda: cap.cell_statistics(path, engine="spark",
                                                             spark_session=spark))
        spark_times.append(seconds)
    method_seconds, analysis = timed(lambda: cap.analyse_capitation(duck, groups="paper"))
    method_times.append(method_seconds)
    spark_analysis = cap.analyse_capitation(sparked, groups="paper")
    rows = duck.rows
    assert sparked.rows == rows
    return {
        "rows": rows, "duckdb_s": min(duck_times), "spark_s": min(spark_times),
        "duckdb_all_s": duck_times, "spark_all_s": spark_times,
        "method_after_statistics_s": min(method_times),
        "duckdb_rows_per_s": rows / min(duck_times), "spark_rows_per_s": rows / min(spark_times),
        "ratio_spark_duckdb": min(spark_times) / min(duck_times),
        "atoms_max_rel_diff": largest_relative_difference(duck.atoms, sparked.atoms),
        "estimates_max_rel_diff": largest_relative_difference(
            analysis.estimates(), spark_analysis.estimates()),
    }


def growth(small: dict, large: dict, engine: str) -> dict:
    """How the cost of ``engine`` grows between the two sizes."""
    t1, t2 = small[f"{engine}_s"], large[f"{engine}_s"]
    n1, n2 = small["rows"], large["rows"]
    per_million = (t2 - t1) / (n2 - n1) * 1e6
    return {f"{engine}_exponent": math.log(t2 / t1) / math.log(n2 / n1),
            f"{engine}_s_per_million_rows": per_million,
            f"{engine}_fixed_s": t1 - per_million * n1 / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    folder = Path(tempfile.gettempdir()) / "payreform_bench"
    parser.add_argument("--small", type=Path, default=folder / "gz_city_01.parquet")
    parser.add_argument("--large", type=Path, default=folder / "gz_city.parquet")
    parser.add_argument("--master", type=str, default="local[2]")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", type=str, default=None, help="also store the figures in this file")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)  # PySpark on pandas 3

    for path, scale in ((args.small, 0.1), (args.large, 1.0)):
        written = ensure_city(path, scale)
        if written:
            print(f"wrote {path} in {written:.1f} s ({path.stat().st_size / 1e6:.0f} MB)")
    figures: dict = {"master": args.master, "repeat": args.repeat}
    start = time.perf_counter()
    with spark_session(args.master) as spark:
        figures["spark_start_s"] = time.perf_counter() - start
        figures["spark_version"] = spark.version
        figures["spark_first_run_s"], _ = timed(lambda: cap.cell_statistics(
            args.small, engine="spark", spark_session=spark))
        sizes = {"small": measure_size(args.small, spark, args.repeat),
                 "large": measure_size(args.large, spark, args.repeat)}
    for name, result in sizes.items():
        figures |= {f"{name}_{key}": value for key, value in result.items()}
    figures |= growth(sizes["small"], sizes["large"], "duckdb")
    figures |= growth(sizes["small"], sizes["large"], "spark")
    cores = int(args.master[6:-1]) if args.master[6:-1].isdigit() else None
    if cores:
        per_core = sizes["large"]["spark_rows_per_s"] / cores
        figures["spark_rows_per_s_per_core"] = per_core
        figures["cores_to_match_duckdb"] = sizes["large"]["duckdb_rows_per_s"] / per_core

    table = pd.DataFrame([{
        "rows": r["rows"], "duckdb_s": r["duckdb_s"], "spark_s": r["spark_s"],
        "duckdb_rows_per_s": r["duckdb_rows_per_s"], "spark_rows_per_s": r["spark_rows_per_s"],
        "ratio_spark_duckdb": r["ratio_spark_duckdb"],
        "method_after_statistics_s": r["method_after_statistics_s"],
        "estimates_max_rel_diff": r["estimates_max_rel_diff"]} for r in sizes.values()])

    print(f"Spark {figures['spark_version']} on {args.master}: session started in "
          f"{figures['spark_start_s']:.1f} s; first statistics pass of the process "
          f"{figures['spark_first_run_s']:.1f} s ({sizes['small']['rows']:,} rows)")
    print("statistics pass with the contract checked (best of "
          f"{args.repeat}), then the rest of the method on the statistics:")
    for r in sizes.values():
        print(f"  {r['rows']:>12,} rows  DuckDB {r['duckdb_s']:6.2f} s "
              f"({r['duckdb_rows_per_s'] / 1e6:5.2f} M rows/s)   Spark {r['spark_s']:6.2f} s "
              f"({r['spark_rows_per_s'] / 1e6:5.2f} M rows/s)   Spark/DuckDB "
              f"{r['ratio_spark_duckdb']:5.1f}x   rest of the method "
              f"{r['method_after_statistics_s']:.2f} s")
    for engine, label in (("duckdb", "DuckDB"), ("spark", "Spark")):
        print(f"  {label}: time grows as rows^{figures[f'{engine}_exponent']:.2f}; "
              f"{figures[f'{engine}_s_per_million_rows']:.2f} s per million rows more, "
              f"{figures[f'{engine}_fixed_s']:.2f} s fixed")
    print(f"  agreement: statistics to {max(r['atoms_max_rel_diff'] for r in sizes.values()):.1e}"
          f", estimates to {max(r['estimates_max_rel_diff'] for r in sizes.values()):.1e} "
          "(largest relative difference)")
    if "cores_to_match_duckdb" in figures:
        print(f"  Spark does {figures['spark_rows_per_s_per_core'] / 1e6:.2f} M rows/s per core: "
              f"a cluster needs at least {figures['cores_to_match_duckdb']:.0f} such cores to "
              "match DuckDB on this machine")
    if args.json:
        import _record

        _record.write(args.json, __file__, figures, {"sizes": table})


if __name__ == "__main__":
    main()
