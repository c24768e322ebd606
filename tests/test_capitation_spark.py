"""The capitation statistics on Apache Spark (``engine=spark``) against DuckDB, number by number.

Spark runs in local mode in this process (one session for the module, with small file splits so
that a file is read in several partitions). Every published number of the chapter (estimates,
diagnostics, tables, glued values) must equal the DuckDB path to 1e-9 (relative), on the book's
small city read from a DataFrame, Parquet and CSV, and on a stranger's city (Chinese headers,
GBK CSV, numeric scheme codes, a diseases file); a broken input gets the same one-line error
from both engines, and the input file is untouched. The Spark tests are skipped, with the
reason shown, where PySpark or Java is missing (``make spark`` installs both).
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from helpers import assert_refused, sha

from payreform import capitation as cap
from payreform.chapters import gz_capitation as chapter
from payreform.errors import ContractError, ParameterError
from payreform.io.spark_source import check_master
from payreform.synth import gz

RTOL = 1e-9


@pytest.fixture(scope="module")
def spark():
    """One local Spark session for the module (files split every 64 KB), stopped at the end."""
    pytest.importorskip("pyspark", reason="PySpark is not installed (make spark installs it)")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed (make spark installs openjdk-17-jre-headless as root)")
    with warnings.catch_warnings():  # PySpark warns about pandas 3, which its Arrow path avoids
        warnings.simplefilter("ignore", FutureWarning)
        from pyspark.sql import SparkSession

        session = (SparkSession.builder.master("local[2]").appName("payreform-tests")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.files.maxPartitionBytes", "64k")
                   .config("spark.sql.shuffle.partitions", "4")
                   .config("spark.sql.files.openCostInBytes", "0").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """The book's city at 0.2% (about 36,000 person-years) as a frame, Parquet and CSV files."""
    folder = tmp_path_factory.mktemp("city")
    frame = gz.generate(scale=0.002)
    frame.to_parquet(folder / "city.parquet", index=False, row_group_size=4000)
    frame.to_csv(folder / "city.csv", index=False, encoding="utf-8-sig")
    return frame, folder


# ----------------------------------------------------------------------------- comparisons


def assert_same(left, right, where: str = "") -> None:
    """Equal structure; numbers equal to RTOL (relative), NaN where NaN; the rest identical."""
    if isinstance(left, pd.DataFrame):
        assert isinstance(right, pd.DataFrame), where
        assert list(left.columns) == list(right.columns), where
        assert len(left) == len(right), where
        for column in left.columns:
            assert_same(left[column].tolist(), right[column].tolist(), f"{where}.{column}")
        return
    if isinstance(left, dict):
        assert isinstance(right, dict) and list(left) == list(right), where
        for key in left:
            assert_same(left[key], right[key], f"{where}.{key}")
        return
    if isinstance(left, (list, tuple)):
        assert isinstance(right, (list, tuple)) and len(left) == len(right), where
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
        return
    if isinstance(left, (bool, np.bool_)) or left is None or isinstance(left, str):
        assert left == right, f"{where}: {left!r} != {right!r}"
        return
    if isinstance(left, (int, float, np.integer, np.floating)):
        a, b = float(left), float(right)
        if math.isnan(a):
            assert math.isnan(b), f"{where}: NaN != {b}"
        else:
            assert b == pytest.approx(a, rel=RTOL, abs=0), f"{where}: {a!r} != {b!r}"
        return
    assert left == right, f"{where}: {left!r} != {right!r}"


def published(result) -> dict:
    """Every number the chapter publishes: results.json's blocks, the tables, the glued values."""
    diagnostics = result.diagnostics()
    diagnostics["settings"].pop("engine")
    diagnostics["settings"].pop("spark_master")
    tables = result.tables()
    settings = tables["settings"]
    tables["settings"] = settings[~settings.isin(["engine", "spark_master"]).any(axis=1)]
    return {"estimates": result.estimates(), "diagnostics": diagnostics, "tables": tables,
            "glue": result.glue_values(), "summary": result.summary()}


def run_both(data, settings: dict) -> tuple[dict, dict]:
    duck = chapter.run(chapter.prepare(data, dict(settings)))
    spark = chapter.run(chapter.prepare(data, dict(settings) | {"engine": "spark"}))
    return published(duck), published(spark)


# ----------------------------------------------------------------------------- the book's city


@pytest.mark.slow
@pytest.mark.parametrize("source", ["frame", "parquet", "csv", "spark frame"])
def test_cell_statistics_equal_duckdb(spark, city, source):
    frame, folder = city
    data = frame if "frame" in source else folder / f"city.{source}"
    before = None if "frame" in source else sha(data)
    duck = cap.cell_statistics(data)
    if source == "spark frame":  # records a cluster holds, as a Spark DataFrame
        data = spark.read.parquet(str(folder / "city.parquet"))
    sparked = cap.cell_statistics(data, engine="spark", spark_session=spark)
    assert sparked.rows == duck.rows == len(frame)
    assert sparked.schemes == duck.schemes and sparked.diseases == duck.diseases
    assert sparked.years == duck.years
    pd.testing.assert_frame_equal(sparked.atoms, duck.atoms, check_exact=False, rtol=RTOL)
    assert_same(duck.table(), sparked.table(), "cells.table")
    assert_same(duck.counts(), sparked.counts(), "cells.counts")
    assert sparked.reading["spark_master"] == "local[2]"
    if before is not None:
        assert sha(data) == before


@pytest.mark.slow
def test_chapter_publishes_the_same_numbers(spark, city):
    """The whole chapter on the book's city (Parquet): estimates, diagnostics, tables, glue."""
    _, folder = city
    duck, sparked = run_both(str(folder / "city.parquet"), {"scale": 0.002})
    assert len(duck["estimates"]) > 50
    assert_same(duck, sparked, "chapter")


@pytest.mark.slow
def test_analysis_with_the_engine_parameter(spark, city):
    frame, _ = city
    duck = cap.analyse_capitation(frame, groups="paper")
    sparked = cap.analyse_capitation(frame, groups="paper", engine="spark")
    assert_same(duck.estimates(), sparked.estimates(), "estimates")
    assert_same(duck.diagnostics(), sparked.diagnostics(), "diagnostics")


# ----------------------------------------------------------------------------- a stranger's city


def stranger_city(folder):
    """Chinese headers, GBK CSV, numeric scheme codes, gender 男/女, thousands separators,
    ICD-like disease codes with a mapping file, three years; cells of every size."""
    rng = np.random.default_rng(11)
    n = 6000
    codes = np.array(["I10", "E11.9", "J44", "N18", "I25.1"])
    held = np.where(rng.random(n) < 0.75, "", rng.choice(codes, n))
    two = rng.random(n) < 0.05
    held = np.where(two, np.char.add(np.char.add(rng.choice(codes[:2], n), ";"),
                                     rng.choice(codes[2:], n)), held)
    inpatient = (rng.random(n) < 0.06).astype(int)
    age = rng.integers(0, 104, n)
    expenditure = rng.lognormal(6.5, 1.1, n) * (1 + age / 60) + 900 * inpatient
    expenditure[rng.random(n) < 0.05] = 0
    frame = pd.DataFrame({
        "参保人编号": [f"P{i:07d}" for i in range(n)], "年度": rng.choice([2016, 2017, 2018], n),
        "险种": rng.choice(["310", "390"], n, p=[0.7, 0.3]), "性别": rng.choice(["男", "女"], n),
        "年龄": age, "慢特病": held, "上年住院": inpatient,
        "住院天数": np.where(inpatient == 1, rng.integers(1, 30, n), 0),
        "统筹基金支出": [f"{v:,.2f}" for v in expenditure]})
    data = folder / "结算数据.csv"
    frame.to_csv(data, index=False, encoding="gbk")
    mapping = folder / "病种.csv"
    pd.DataFrame({"编码": list(codes), "名称": ["高血压", "糖尿病", "慢阻肺", "慢性肾病",
                                             "冠心病"]}).to_csv(mapping, index=False,
                                                                encoding="utf-8-sig")
    names = {"person_id": "参保人编号", "year": "年度", "scheme": "险种", "gender": "性别",
             "age": "年龄", "ocsd": "慢特病", "inpatient_prev_year": "上年住院",
             "los": "住院天数", "fund_exp": "统筹基金支出"}
    settings = {f"{k}_column": v for k, v in names.items()} | {
        "diseases": str(mapping), "schemes": ["310:employees", "390:residents"]}
    return data, settings


@pytest.mark.slow
def test_stranger_city_publishes_the_same_numbers(spark, tmp_path):
    data, settings = stranger_city(tmp_path)
    before = sha(data)
    duck, sparked = run_both(str(data), settings)
    assert duck["diagnostics"]["years"] == [2017, 2018]
    assert_same(duck, sparked, "stranger")
    assert sha(data) == before
    cells = cap.cell_statistics(data, engine="spark", spark_session=spark,
                                columns={k.removesuffix("_column"): v for k, v in
                                         settings.items() if k.endswith("_column")})
    assert cells.reading["encoding"] == "gbk" and cells.reading["delimiter"] == ","


@pytest.mark.slow
def test_excel_and_late_gbk_text(spark, tmp_path):
    """An Excel workbook, and a CSV file that is ASCII for its first 64 KB and GBK further down
    (Spark would silently replace the bytes: the whole file is checked and transcoded)."""
    frame = gz.generate(scale=0.002).head(4000).copy()
    frame["ocsd"] = frame["ocsd"].astype(object)
    frame.loc[3990:, "ocsd"] = "高血压"
    workbook = tmp_path / "records.xlsx"
    frame.to_excel(workbook, index=False)
    text = tmp_path / "records.csv"
    text.write_bytes(frame.to_csv(index=False).encode("gbk"))
    assert text.read_bytes()[: 1 << 16].isascii()
    for data in (workbook, text):
        before = sha(data)
        duck = cap.cell_statistics(data)
        sparked = cap.cell_statistics(data, engine="spark", spark_session=spark)
        pd.testing.assert_frame_equal(sparked.atoms, duck.atoms, check_exact=False, rtol=RTOL)
        assert "高血压" in sparked.diseases.codes
        assert sparked.reading == duck.reading | {"spark_master": "local[2]"}
        assert sha(data) == before


# ----------------------------------------------------------------------------- bad input


def _base(n: int = 3000) -> pd.DataFrame:
    frame = gz.generate(scale=0.002).head(n).copy()
    return frame.astype({"fund_exp": object, "ocsd": object})


def _break(frame: pd.DataFrame, row: int, **values) -> pd.DataFrame:
    frame = frame.copy()
    for column, value in values.items():
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
    return frame


BROKEN = {
    "missing person_id": (lambda f: _break(f, 2500, person_id=None), {}),
    "text fund_exp": (lambda f: _break(f, 2700, fund_exp="12d"), {}),
    "thousands": (lambda f: _break(f, 17, fund_exp="1,234.5", los="1_0"), {}),
    "negative": (lambda f: _break(f, 2999, fund_exp=-5.0), {}),
    "age": (lambda f: _break(f, 1800, age=130), {}),
    "year": (lambda f: _break(f, 2100, year=2024.5), {}),
    "inpatient": (lambda f: _break(f, 2200, inpatient_prev_year=2), {}),
    "los missing": (lambda f: _break(f, 2300, inpatient_prev_year=1, los=""), {}),
    "gender": (lambda f: _break(f, 2400, gender="X"), {}),
    "scheme": (lambda f: f, {"scheme_codes": {"UEBHI": "employees"}}),
    "ocsd separator": (lambda f: _break(f, 2600, ocsd="DM,hypertension"), {}),
    "ocsd unknown": (lambda f: f, {"diseases": ["DM", "hypertension"]}),
    "ocsd twice": (lambda f: _break(f, 2650, ocsd="DM;dm"), {}),
    "quote in code": (lambda f: _break(f, 2660, ocsd="O'Neil\\1"),
                      {"diseases": list(cap.paper_disease_codes().codes)}),
    "duplicate": (lambda f: _break(f, 2800, person_id=f.loc[40, "person_id"],
                                   year=f.loc[40, "year"]), {}),
    "column": (lambda f: f.rename(columns={"fund_exp": "fund_exps"}), {}),
    "no rows": (lambda f: f.head(0), {}),
}


def _outcome(data, options: dict, **engine) -> str:
    try:
        cells = cap.cell_statistics(data, **options, **engine)
    except (ContractError, ParameterError) as error:
        return f"{type(error).__name__}: {error}"
    return f"ok {cells.rows} {cells.atoms['sum_y'].sum():.6f}"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["csv", "parquet", "frame"])
def test_bad_input_same_message(spark, tmp_path, kind):
    """Each broken input gets the same outcome from both engines (a CSV file is read in several
    partitions, so the row numbers are checked across partition boundaries)."""
    base = _base()
    outcomes = []
    for name, (make, options) in BROKEN.items():
        frame = make(base)
        if kind == "frame":
            data = frame
        else:
            data = tmp_path / f"{name.replace(' ', '_')}.{kind}"
            if kind == "csv":
                frame.to_csv(data, index=False)
            else:
                frame.astype({c: str for c in frame.columns if frame[c].dtype == object}
                             ).to_parquet(data, index=False, row_group_size=500)
        before = None if kind == "frame" else sha(data)
        duck = _outcome(data, options)
        sparked = _outcome(data, options, engine="spark", spark_session=spark)
        assert sparked == duck, name
        assert "\n" not in duck
        if before is not None:
            assert sha(data) == before
        outcomes.append(duck)
    assert sum(o.startswith("ContractError") for o in outcomes) >= len(BROKEN) - 2


@pytest.mark.slow
def test_empty_and_unreadable_files(spark, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.csv"
    blank.write_text("  \n")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not a parquet file")
    corrupt = tmp_path / "corrupt.parquet"  # a sound footer, damaged data pages
    gz.generate(scale=0.002).to_parquet(corrupt, index=False, compression="snappy")
    damaged = bytearray(corrupt.read_bytes())
    start = len(damaged) // 4
    damaged[start:start + 2000] = bytes((b * 7 + 13) % 256 for b in damaged[start:start + 2000])
    corrupt.write_bytes(bytes(damaged))
    for data in (empty, blank, broken, corrupt, tmp_path / "absent.csv", tmp_path):
        duck = _outcome(data, {})
        assert duck.startswith("ContractError")
        sparked = _outcome(data, {}, engine="spark", spark_session=spark)
        assert "\n" not in sparked
        if data in (broken, corrupt):  # the reason in brackets is the engine's own
            assert sparked.split("(")[0] == duck.split("(")[0]
            assert sparked.endswith(duck.split(")")[-1])
        else:
            assert sparked == duck


@pytest.mark.slow
def test_command_line_refuses_with_spark(spark, tmp_path):
    data = tmp_path / "records.csv"
    _break(_base(), 1234, age=-1).to_csv(data, index=False)
    assert_refused("gz-capitation", data, tmp_path / "out", ["--set", "engine=spark"],
                   r"column 'age' has -1 in row 1236, outside 0-120")


@pytest.mark.slow
def test_command_line_run_with_spark(spark, city, tmp_path):
    """`payreform run gz-capitation --set engine=spark` end to end (statistics on Spark, the
    notebook on them): results.json equals the DuckDB computation of the same file."""
    from click.testing import CliRunner

    from payreform import report
    from payreform.cli import main

    _, folder = city
    data = folder / "city.csv"
    before = sha(data)
    outcome = CliRunner().invoke(main, [
        "run", "gz-capitation", "--data", str(data), "--out", str(tmp_path / "out"), "--quiet",
        "--set", "engine=spark", "--set", "omega_step=0.25"])
    assert outcome.exit_code == 0, outcome.output
    assert sha(data) == before
    results = report.read_results(tmp_path / "out" / "results.json")
    assert results["parameters"]["engine"] == "spark"
    duck = chapter.run(chapter.prepare(str(data), {"omega_step": 0.25}))
    expected = report.jsonable(duck.estimates().to_dict(orient="records"))
    assert_same(expected, results["estimates"], "results.json estimates")
    diagnostics = report.jsonable(duck.diagnostics())
    for block in ("persons", "screening_fit", "standards_fit", "simulation",
                  "predictive_ratios", "pooled", "model_groups"):
        assert_same(diagnostics[block], results["diagnostics"][block], block)


# ----------------------------------------------------------------------------- parameters


def test_engine_and_master_parameters():
    frame = _base(50)
    with pytest.raises(ParameterError, match=r"parameter 'engine' is 'sparks'; use one of "
                                             r"duckdb, spark \(did you mean 'spark'\?\)"):
        cap.cell_statistics(frame, engine="sparks")
    with pytest.raises(ParameterError, match=r"parameter 'spark_master' is 'local2'; use local"):
        cap.cell_statistics(frame, engine="spark", spark_master="local2")
    assert check_master("spark://a:7077,b:7077") == "spark://a:7077,b:7077"
    names = [p.name for p in chapter.PARAMETERS]
    assert names.index("spark_master") == names.index("engine") + 1
    defaults = chapter.CHAPTER.defaults()
    assert defaults["engine"] == "duckdb" and defaults["spark_master"] == "local[2]"


def test_spark_needs_pyspark(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(ParameterError, match=r"PySpark is not installed; run `make spark`"):
        cap.cell_statistics(_base(50), engine="spark")


def test_package_imports_without_pyspark():
    code = ("import sys; sys.modules['pyspark'] = None; import payreform.capitation as c; "
            "import payreform.chapters.gz_capitation; import payreform.capitation.spark; "
            "from payreform.synth import gz; print(c.cell_statistics(gz.generate(scale=0.002))"
            ".rows)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 30000


def test_registry_matches_notebook(tmp_path):
    from helpers import assert_registry_matches_notebook

    assert_registry_matches_notebook(tmp_path, "gz-capitation")
