"""The GZ capitation method at city scale: timings against the floor and against statsmodels.

Run:  python bench/gz_scale.py [--path /tmp/payreform_bench/gz_city.parquet] [--scale 1.0]
                               [--repeat 3] [--threads N] [--no-person-level]

1. Writes the synthetic city (``payreform.synth.gz.write``, scale 1: about 18 million
   person-years, two schemes x two years) to a Parquet file in a temporary folder, unless the
   file is already there.
2. In one process, alternately, best of ``--repeat``:
   (a) the whole method as the chapter runs it: one pass over the file that checks the
       person-year contract and computes the cell statistics, the duplicate check on person and
       year, then screening, age and disease grouping, payment standards, blending, predictive
       ratios and fit statistics (``analyse_capitation``);
   (a0) the same without the contract checks (``validate=False``); the duplicate person-year
       search alone is timed too (a hash table of every person and year: its own pass);
   (r) the chapter runner, ``prepare`` (hash, check, statistics, derived settings) then ``run``;
   (b) one DuckDB GROUP BY pass computing cell counts, sums and sums of squares of fund
       expenditure over the same file (the floor: the data must be read once).
   Prints seconds and the ratios (a)/(b), (a0)/(b), (r)/(b) side by side (target: (a) within
   3x of (b)).
3. (c) the payment model with HC1 standard errors for one scheme (URRBHI, both years, about 5
   million rows, held in a DataFrame) by cell statistics against statsmodels formula OLS on the
   person rows; prints the speed ratio and the largest differences of the coefficients.
4. Peak memory of (a) run alone in a fresh process (its ``VmHWM``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from payreform import capitation as cap
from payreform.chapters import gz_capitation
from payreform.synth import gz

PAPER_GROUPS = "paper"


def whole_method(path: Path, threads: int | None, validate: bool = True):
    """The statistics pass (with or without the contract) and every step of the method."""
    cells = cap.cell_statistics(path, validate=validate, threads=threads)
    return cap.analyse_capitation(cells, groups=PAPER_GROUPS)


def runner(path: Path) -> gz_capitation.GZResult:
    """The chapter runner as `payreform run` calls it (without the notebook)."""
    return gz_capitation.run(gz_capitation.prepare(str(path), {"groups": PAPER_GROUPS}))


def duplicate_search(path: Path, threads: int | None) -> None:
    """The contract's duplicate person-year search alone (its own pass over two columns)."""
    from payreform.contracts.person_years import check_duplicates, resolve_columns
    from payreform.io.duckdb_source import ColumnSQL, DuckDBSource

    with DuckDBSource(path, threads) as source:
        types = source.describe()
        check_duplicates(source, ColumnSQL(resolve_columns(list(types)), types))


def group_by_pass(path: Path, threads: int | None) -> int:
    config = {} if threads is None else {"threads": threads}
    with duckdb.connect(config=config) as con:
        rows = con.execute(
            "SELECT scheme, year, gender, age, ocsd, inpatient_prev_year, count(*), "
            "sum(fund_exp), sum(fund_exp * fund_exp) FROM read_parquet(?) GROUP BY ALL",
            [str(path)]).fetchall()
    return len(rows)


def _child(path: str, threads: int | None, connection) -> None:
    whole_method(Path(path), threads)
    peak_kb = 0
    with open("/proc/self/status") as status:  # peak RSS of this process's own memory
        for line in status:
            if line.startswith("VmHWM:"):
                peak_kb = int(line.split()[1])
    connection.send(peak_kb or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    connection.close()


def child_peak_mb(path: Path, threads: int | None) -> float:
    """Peak resident memory (MB) of the whole method run alone in a fresh process."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(str(path), threads, send))
    process.start()
    peak_kb = receive.recv()
    process.join()
    return peak_kb / 1024


def person_level_comparison(path: Path, threads: int | None) -> dict[str, float]:
    """Payment model of one scheme (both years) by cell statistics and by statsmodels."""
    import statsmodels.formula.api as smf

    frame = pd.read_parquet(path, filters=[("scheme", "==", "URRBHI")])
    frame["scheme"] = frame["scheme"].astype(str)
    frame["ocsd"] = frame["ocsd"].astype(str)
    ages, diseases = cap.paper_groupings()
    band = np.asarray(cap.AGE_BANDS)[cap.age_band_of(frame["age"])]
    age_group = pd.Series(band).map(ages["URRBHI"]).to_numpy()
    count = frame["ocsd"].str.count(";").to_numpy() + (frame["ocsd"] != "").to_numpy()
    single = frame["ocsd"].map(diseases["URRBHI"]).fillna(0).to_numpy(int)
    k = max(diseases["URRBHI"].values())
    ocsd_group = np.select([count == 0, count == 1, count == 2], [0, single, k + 1], k + 2)
    categorical = pd.DataFrame({
        "year": frame["year"].to_numpy(), "fund_exp": frame["fund_exp"].to_numpy(),
        "gender_age": frame["gender"].astype(str).to_numpy() + "_" + age_group.astype(str),
        "ocsd_group": ocsd_group, "inpatient": frame["inpatient_prev_year"].to_numpy()})
    formula = ("fund_exp ~ C(gender_age, Treatment('1_1')) + C(ocsd_group, Treatment(0)) "
               "+ C(inpatient, Treatment(0))")
    start = time.perf_counter()
    references = {year: smf.ols(formula, data=part).fit(cov_type="HC1")
                  for year, part in categorical.groupby("year")}
    formula_seconds = time.perf_counter() - start
    dummies = pd.DataFrame({"year": categorical["year"], "fund_exp": categorical["fund_exp"]})
    terms = [f"gender_age_{g}_{a}" for g in (1, 2) for a in (1, 2, 3) if (g, a) != (1, 1)]
    for term in terms:
        dummies[term] = (categorical["gender_age"] == term[len("gender_age_"):]).astype(float)
    for o in range(1, k + 3):
        dummies[f"ocsd_{o}"] = (ocsd_group == o).astype(float)
        terms.append(f"ocsd_{o}")
    dummies["inpatient_1"] = categorical["inpatient"].astype(float)
    terms.append("inpatient_1")
    start = time.perf_counter()
    for _, part in dummies.groupby("year"):
        smf.ols("fund_exp ~ " + " + ".join(terms), data=part).fit(cov_type="HC1")
    dummies_seconds = time.perf_counter() - start
    cells_seconds = []
    for _ in range(3):
        start = time.perf_counter()
        cells = cap.cell_statistics(frame, validate=False, threads=threads)
        ours = cap.payment_standards(cells, ages, diseases)
        cells_seconds.append(time.perf_counter() - start)
    best = min(cells_seconds)

    def our_name(name: str) -> str:
        if name == "Intercept":
            return "intercept"
        level = name.split("[T.")[1].rstrip("]")
        if name.startswith("C(gender_age"):
            return f"gender_age_{level}"
        if name.startswith("C(ocsd_group"):
            return f"ocsd_{level}"
        return f"inpatient_{level}"

    differences, se_differences = [], []
    for year, reference in references.items():
        table = ours.coefficients[ours.coefficients["year"] == year].set_index("term")
        names = [our_name(t) for t in reference.params.index]
        differences.append(np.max(np.abs(table.loc[names, "estimate"].to_numpy()
                                          - reference.params.to_numpy())))
        se_differences.append(np.max(np.abs(table.loc[names, "std_error"].to_numpy()
                                            - reference.bse.to_numpy())))
    return {"rows": len(frame), "formula_s": formula_seconds, "dummies_s": dummies_seconds,
            "cells_s": best, "speedup": formula_seconds / best,
            "speedup_dummies": dummies_seconds / best,
            "max_coef_diff": float(max(differences)), "max_se_diff": float(max(se_differences))}


def ensure_city(path: Path, seed: int = gz.DEFAULT_SEED, scale: float = 1.0) -> float:
    """Write the synthetic city to ``path`` unless it exists; return the seconds spent writing."""
    if path.exists():
        return 0.0
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    gz.write(path, seed=seed, scale=scale)
    return time.perf_counter() - start


def _best(function, repeat: int) -> tuple[float, list[float], object]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return min(times), times, value


def measure(path: Path, repeat: int = 3, threads: int | None = None,
            person_level: bool = True) -> dict:
    """Every figure of this benchmark as a dict (seconds, ratios, MB, differences)."""
    rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0]
    group_by_pass(path, threads)  # warm the file cache for every side
    floor, method, plain, chapter, duplicates = [], [], [], [], []
    analysis = None
    for _ in range(repeat):  # alternate, so that load from other processes hits all alike
        floor.append(_best(lambda: group_by_pass(path, threads), 1)[0])
        seconds, _, analysis = _best(lambda: whole_method(path, threads), 1)
        method.append(seconds)
        plain.append(_best(lambda: whole_method(path, threads, validate=False), 1)[0])
        chapter.append(_best(lambda: runner(path), 1)[0])
        duplicates.append(_best(lambda: duplicate_search(path, threads), 1)[0])
    at_half = analysis.simulation.at(0.5).set_index("scheme")
    result = {"rows": rows, "method_s": min(method), "method_unchecked_s": min(plain),
              "runner_s": min(chapter), "group_by_s": min(floor), "method_all_s": method,
              "duplicates_s": min(duplicates),
              "group_by_all_s": floor, "ratio": min(method) / min(floor),
              "ratio_unchecked": min(plain) / min(floor), "ratio_runner": min(chapter) / min(floor),
              "savings_half_bn": at_half.loc["total", "savings"] / 1e9,
              "savings_half_pct": at_half.loc["total", "savings_pct"],
              "peak_method_mb": child_peak_mb(path, threads)}
    if person_level:
        comparison = person_level_comparison(path, threads)
        result |= {f"person_level_{k}": v for k, v in comparison.items()}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(tempfile.gettempdir()) / "payreform_bench" / "gz_city.parquet"
    parser.add_argument("--path", type=Path, default=default)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=gz.DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-person-level", action="store_true")
    parser.add_argument("--json", type=str, default=None, help="also store the figures in this file")
    args = parser.parse_args()

    written = ensure_city(args.path, args.seed, args.scale)
    if written:
        print(f"wrote {args.path} in {written:.1f} s ({args.path.stat().st_size / 1e6:.0f} MB)")
    r = measure(args.path, args.repeat, args.threads, not args.no_person_level)
    print(f"data: {args.path} ({r['rows']:,} person-years)")
    print(f"(b)  one DuckDB GROUP BY pass (the floor):          {r['group_by_s']:6.2f} s  "
          f"(all: {', '.join(f'{t:.2f}' for t in r['group_by_all_s'])})")
    print(f"(a)  whole method, contract checked in its pass:   {r['method_s']:6.2f} s  "
          f"ratio (a)/(b)  {r['ratio']:.2f}  (target: under 3)")
    print(f"     of which the duplicate person-year search (own pass): {r['duplicates_s']:.2f} s")
    print(f"(a0) whole method without the contract checks:     {r['method_unchecked_s']:6.2f} s  "
          f"ratio (a0)/(b) {r['ratio_unchecked']:.2f}")
    print(f"(r)  chapter runner prepare + run (hash included):  {r['runner_s']:6.2f} s  "
          f"ratio (r)/(b)  {r['ratio_runner']:.2f}")
    print(f"     check: savings at omega = 0.5: {r['savings_half_bn']:.3f} bn RMB = "
          f"{r['savings_half_pct']:.2f}%")
    print(f"peak memory of (a) alone (fresh process, VmHWM): {r['peak_method_mb']:.0f} MB")
    if "person_level_rows" in r:
        print(f"(c) payment model with HC1, one scheme, both years ({r['person_level_rows']:,} "
              "rows in a DataFrame):")
        print(f"    statsmodels formula OLS with C() terms: {r['person_level_formula_s']:.2f} s; "
              f"cell statistics + payment_standards: {r['person_level_cells_s']:.3f} s; "
              f"speed-up {r['person_level_speedup']:.0f}x "
              f"({r['person_level_speedup_dummies']:.0f}x against ready-made 0/1 columns)")
        print(f"    largest difference: coefficients {r['person_level_max_coef_diff']:.2e}, "
              f"HC1 standard errors {r['person_level_max_se_diff']:.2e}")
    if args.json:
        import _record

        _record.write(args.json, __file__, r | {"repeat": args.repeat, "scale": args.scale})


if __name__ == "__main__":
    main()
