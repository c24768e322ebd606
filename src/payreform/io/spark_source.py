"""Scan a data file with Apache Spark, under the same reading rules as :class:`DuckDBSource`.

The capitation method can compute its cell statistics on Spark (``engine="spark"``), for
records that live on a cluster or outgrow one machine. :class:`SparkSource` opens a pandas or
Spark DataFrame, a CSV/TSV file, a Parquet file or an Excel workbook in a Spark session, by the
rules of :mod:`payreform.io.rules` that :class:`~payreform.io.duckdb_source.DuckDBSource`
follows:

- CSV text is UTF-8 (with or without byte-order mark) or GBK/GB18030, checked over the whole
  file; a GBK file is transcoded once into a private temporary UTF-8 copy (the input file is
  never modified); the delimiter is sniffed with :func:`~payreform.io.rules.sniff_delimiter`;
  every cell is read as text, so a bad value can be reported with its row. Spark reads a CSV
  file line by line: a quoted field holding a line break is not supported (DuckDB reads it);
- a cell holding one of :data:`~payreform.io.rules.MISSING_MARKERS` is missing; numbers may be
  written with thousands separators; text is read as a number exactly when DuckDB reads it as
  one (:data:`payreform.io.sql_dialects.SPARK`);
- Excel workbooks are read once with :func:`~payreform.io.read_table` and handed to Spark.

Rows are numbered in file order (``__row``, 0-based) only when an offending row has to be
found: from Parquet's row index, from the position of a pandas row, and for CSV files from the
position within Spark's partitions of the file, which Spark reads in file order.

:class:`SparkColumnSQL` writes the Spark SQL that reads a column as a number, as text or tests
it for a missing value, with the same results as :class:`~payreform.io.duckdb_source.ColumnSQL`.
:func:`spark_session` starts (and stops) a session or reuses one. PySpark is imported only by
the functions that need it, so the package works without it.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from payreform.errors import ContractError, ParameterError
from payreform.io.rules import (
    ENCODINGS,
    data_file,
    encoding_name,
    sniff_text_file,
    transcode_gbk,
)
from payreform.io.sql_dialects import SPARK, ColumnSQL, Dialect, spark_ident, spark_text

__all__ = ["SPARK_MASTER", "SparkColumnSQL", "SparkSource", "check_master", "read_failure",
           "spark_ident", "spark_session", "spark_text"]

SPARK_MASTER = "local[2]"
"""Default master: Spark inside this process on two cores."""

_MASTER = re.compile(r"^(local(\[(\d+|\*)(,\s*\d+)?\])?|local-cluster\[\d+,\s*\d+,\s*\d+\]|"
                     r"(spark|k8s|mesos)://\S+|yarn)$")
_PANDAS_WARNING = "PySpark does not yet fully support pandas"
_QUIET_LOG = """status = off
appender.quiet.type = Console
appender.quiet.name = quiet
appender.quiet.target = SYSTEM_ERR
appender.quiet.layout.type = PatternLayout
appender.quiet.layout.pattern = %m%n
rootLogger.level = off
rootLogger.appenderRef.quiet.ref = quiet
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = off
"""  # log4j2 settings of a local session's JVM: nothing logged (errors reach the caller)
_PARTITION_BITS = 33  # monotonically_increasing_id(): partition index << 33 + row in partition


@dataclass(frozen=True)
class SparkColumnSQL(ColumnSQL):
    """:class:`~payreform.io.sql_dialects.ColumnSQL` in Spark SQL (``types`` are Spark's
    simple type names, from :meth:`SparkSource.describe`).

    Examples
    --------
    >>> SparkColumnSQL({"age": "年龄"}, {"年龄": "string"}).raw("age")
    '`年龄`'
    """

    dialect: Dialect = field(default=SPARK, repr=False)


# ----------------------------------------------------------------------------- sessions


def check_master(master: Any) -> str:
    """``master`` if it is a Spark master URL, else a one-line :class:`ParameterError`.

    Examples
    --------
    >>> check_master("spark://head:7077"), check_master("local[*]"), check_master("yarn")
    ('spark://head:7077', 'local[*]', 'yarn')
    """
    if not isinstance(master, str) or not _MASTER.match(master.strip()):
        raise ParameterError(
            f"parameter 'spark_master' is {master!r}; use local[2] (this machine, 2 cores), "
            "local[*], spark://HOST:7077 or yarn")
    return master.strip()


def _import_pyspark() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)
            import pyspark.sql
    except ImportError:
        raise ParameterError(
            "parameter 'engine' is 'spark' but PySpark is not installed; run `make spark` or "
            "pip install 'pyspark>=4.0,<5' (or use engine=duckdb)") from None
    return pyspark.sql


def _local_cores(master: str) -> int:
    """Cores of a local master: ``local`` 1, ``local[4]`` 4, ``local[*]`` all."""
    found = re.match(r"local\[(\d+|\*)", master)
    if found is None:
        return 1
    return (os.cpu_count() or 1) if found.group(1) == "*" else int(found.group(1))


def _java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


@contextlib.contextmanager
def spark_session(master: str = SPARK_MASTER, session: Any = None) -> Iterator[Any]:
    """A Spark session for the duration of a ``with`` block.

    A ``session`` given is used and left running. Otherwise the session already active in this
    process (one your program or ``spark-submit`` started) is used and left running; its
    master wins, and a different non-default ``master`` is refused. Otherwise a session is
    started on ``master`` (console progress off; Spark's log off for a local master, whose
    errors reach the caller as exceptions, else at level ERROR; for a local master the web UI
    off and two shuffle partitions per core) and **stopped** when the block ends, so that
    nothing outlives the call.

    Raises
    ------
    ParameterError
        If PySpark or Java is missing, the master is not a master URL, or Spark cannot start.

    Examples
    --------
    >>> with spark_session("local[1]") as spark:  # doctest: +SKIP
    ...     spark.range(3).count()
    3
    """
    master = check_master(master)
    sql = _import_pyspark()
    if session is not None:
        yield session
        return
    active = sql.SparkSession.getActiveSession()
    if active is not None:
        running = active.sparkContext.master
        if master != SPARK_MASTER and master != running:
            raise ParameterError(
                f"parameter 'spark_master' is {master!r} but a Spark session on {running!r} is "
                "already running in this process; leave spark_master unset to use it")
        yield active
        return
    if not _java_found():
        raise ParameterError(
            "engine=spark needs Java 17 or later and `java` was not found; install Debian's "
            "openjdk-17-jre-headless (make spark does so as root) or set JAVA_HOME")
    local = master.startswith("local")
    level = "OFF" if local else "ERROR"
    builder = (sql.SparkSession.builder.master(master).appName("payreform")
               .config("spark.ui.showConsoleProgress", "false"))
    if not local:
        builder = builder.config("spark.log.level", level)
    quiet = tempfile.mkdtemp(prefix="payreform_spark_") if local else None
    if quiet is not None:  # small shuffles (a few partitions per core, not 200); a silent JVM
        settings = Path(quiet) / "log4j2.properties"
        settings.write_text(_QUIET_LOG, encoding="utf-8")
        builder = (builder.config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", str(2 * _local_cores(master)))
                   .config("spark.driver.extraJavaOptions",
                           f"-Dlog4j2.configurationFile={settings.as_uri()}"))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)
            spark = builder.getOrCreate()
    except Exception as error:  # Py4J/PySpark raise several kinds when the JVM cannot start
        raise ParameterError(f"Spark could not start on {master!r} ({_first_line(error)}); "
                             "check `java -version` (17 or later) and spark_master") from None
    finally:
        if quiet is not None:  # read when the JVM started
            shutil.rmtree(quiet, ignore_errors=True)
    if not local:
        spark.sparkContext.setLogLevel(level)
    try:
        yield spark
    finally:
        spark.stop()


# ----------------------------------------------------------------------------- the source


class SparkSource:
    """The data in a Spark session: a DataFrame :attr:`raw` and, on demand, :meth:`numbered`.

    Parameters
    ----------
    data
        A pandas DataFrame, a Spark DataFrame (rows numbered in the order of its partitions),
        or the path of a CSV/TSV/TXT, Parquet or Excel (.xlsx/.xls) file.
    spark
        The Spark session (see :func:`spark_session`).
    sheet
        Excel only: the sheet to read (default the first).

    Attributes
    ----------
    kind
        ``frame``, ``spark``, ``csv``, ``parquet`` or ``excel``.
    label
        ``DataFrame``, ``Spark DataFrame`` or the file's path.
    encoding, delimiter
        How a text file was read.
    sha256
        SHA-256 of an Excel file (hashed when it was read); None otherwise.
    view
        Name of the temporary view holding :attr:`raw` (unique to this source).

    Examples
    --------
    >>> with spark_session() as spark, SparkSource(pd.DataFrame({"x": [1, 2]}), spark) as s:
    ...     s.query(f"SELECT sum(x) FROM {s.view}").collect()[0][0]  # doctest: +SKIP
    3
    """

    def __init__(self, data: Any, spark: Any, sheet: str | None = None):
        self.spark = spark
        self.view = f"payreform_raw_{uuid.uuid4().hex}"
        self._tmpdir: str | None = None
        self._numbered: Any = None
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self.sheet: str | None = None
        self.sha256: str | None = None
        self.path: Path | None = None
        try:
            self._open(data, sheet)
            self.raw.createOrReplaceTempView(self.view)
        except BaseException:
            self.close()
            raise

    def _open(self, data: Any, sheet: str | None) -> None:
        if isinstance(data, pd.DataFrame):
            self.kind, self.label = "frame", "DataFrame"
            self._from_pandas(data)
            return
        if _is_spark_frame(data):
            self.kind, self.label = "spark", "Spark DataFrame"
            self.raw = data
            return
        if not isinstance(data, (str, os.PathLike)):
            raise ContractError("data must be a pandas or Spark DataFrame or the path of a CSV, "
                                "Excel or Parquet file")
        path, self.kind = data_file(data, sheet)
        self.path, self.label = path, str(path)
        if self.kind == "parquet":
            try:
                self.raw = self.spark.read.parquet(str(path.resolve()))
                self.raw.schema  # noqa: B018 - reads the footer now, to report a bad file here
            except Exception as error:
                raise ContractError(f"file '{path.name}' could not be read as Parquet "
                                    f"({_first_line(error)}); export it again") from None
        elif self.kind == "csv":
            self._open_csv()
        else:
            from payreform.io.tables import read_table

            table = read_table(path, sheet=sheet)
            self.sheet, self.sha256 = table.sheet, table.sha256
            self._from_pandas(table.frame)

    def _from_pandas(self, frame: pd.DataFrame) -> None:
        """Hand a pandas frame to Spark through Arrow, with each row's position in ``__row``;
        object columns (numbers mixed with text) as text, as DuckDBSource reads them."""
        import pyarrow as pa

        columns = {}
        for name in frame.columns:
            values = frame[name]
            if values.dtype == object or isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype(object).where(values.notna(), None)
                values = values.map(lambda v: v if v is None else str(v))
            columns[str(name)] = pa.array(values.to_numpy(dtype=object) if values.dtype == object
                                          else values, from_pandas=True)
        columns["__row"] = pa.array(np.arange(len(frame), dtype=np.int64))
        table = pa.table(columns)
        table = table.cast(pa.schema([pa.field(f.name, pa.string()) if pa.types.is_large_string(
            f.type) else f for f in table.schema]))
        numbered = self.spark.createDataFrame(table)
        self._numbered = numbered
        self.raw = numbered.drop("__row")

    def _open_csv(self) -> None:
        if self.path.stat().st_size == 0:
            raise ContractError(f"file '{self.path.name}' is empty; export the records again")
        self.encoding, self.delimiter = sniff_text_file(self.path)
        csv_path = self.path
        if self.encoding != "utf-8" or not _is_utf8(self.path):
            csv_path = self._transcode()
        self.raw = (self.spark.read.option("header", True).option("sep", self.delimiter)
                    .option("quote", '"').option("escape", '"').option("inferSchema", False)
                    .option("encoding", "UTF-8").option("multiLine", False)
                    .csv(str(csv_path.resolve())))

    def _transcode(self) -> Path:
        """A UTF-8 copy of a GBK file in a private temporary folder."""
        self._tmpdir = tempfile.mkdtemp(prefix="payreform_csv_")
        target_path = Path(self._tmpdir) / "utf8.csv"
        transcode_gbk(self.path, target_path)
        self.encoding = encoding_name(ENCODINGS[-1])
        return target_path

    # ------------------------------------------------------------------ queries

    def query(self, sql: str) -> Any:
        """A Spark DataFrame of ``sql`` (which reads the data as :attr:`view`)."""
        return self.spark.sql(sql)

    def describe(self) -> dict[str, str]:
        """Column name -> Spark type (simple name such as ``bigint`` or ``string``)."""
        return {f.name: f.dataType.simpleString() for f in self.raw.schema.fields}

    def numbered(self) -> Any:
        """:attr:`raw` with each row's 0-based position in file order in ``__row``."""
        if self._numbered is None:
            self._numbered = self._number_rows()
        return self._numbered

    def _number_rows(self) -> Any:
        from pyspark.sql import functions as F

        if self.kind == "parquet":
            return self.raw.select("*", F.col("_metadata.row_index").alias("__row"))
        # CSV: Spark reads the file's splits in order; a row's position is the number of rows
        # in earlier partitions plus its place in its own (a Spark DataFrame: in the order of
        # its partitions).
        marked = self.raw.withColumn("__mid", F.monotonically_increasing_id())
        part = F.shiftright(F.col("__mid"), _PARTITION_BITS)
        counts = sorted((int(r[0]), int(r[1])) for r in marked.groupBy(part.alias("p"))
                        .count().collect())
        offsets, total = [], 0
        for partition, rows in counts:
            offsets += [F.lit(partition), F.lit(total)]
            total += rows
        start = F.element_at(F.create_map(*offsets), part) if offsets else F.lit(0)
        local = F.col("__mid").bitwiseAND(F.lit((1 << _PARTITION_BITS) - 1))
        return marked.withColumn("__row", start + local).drop("__mid")

    def first_row(self, condition: str, value: str = "NULL") -> tuple[int, Any]:
        """The 0-based position of the first row meeting ``condition`` (Spark SQL), and
        ``value`` there."""
        from pyspark.sql import functions as F

        rows = (self.numbered().where(F.expr(condition))
                .select(F.col("__row"), F.expr(value).alias("__value"))
                .orderBy("__row").limit(1).collect())
        if not rows:
            raise LookupError(f"no row meets {condition}")
        return int(rows[0][0]), rows[0][1]

    def first_row_in(self, expression: str, values: Sequence[Any]) -> tuple[int, Any]:
        """The first row whose ``expression`` (Spark SQL) is one of ``values``, and that value."""
        from pyspark.sql import functions as F

        rows = (self.numbered().select(F.col("__row"), F.expr(expression).alias("__value"))
                .where(F.col("__value").isin(list(values))).orderBy("__row").limit(1).collect())
        if not rows:
            raise LookupError(f"no row has {expression} in {list(values)[:3]}")
        return int(rows[0][0]), rows[0][1]

    def close(self) -> None:
        """Drop the view and remove any temporary copy (the session is not stopped)."""
        with contextlib.suppress(Exception):
            self.spark.catalog.dropTempView(self.view)
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> SparkSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_spark_frame(data: Any) -> bool:
    return type(data).__module__.startswith("pyspark.") and hasattr(data, "schema") \
        and hasattr(data, "createOrReplaceTempView")


def _is_utf8(path: Path) -> bool:
    """Whether the whole file decodes as UTF-8 (Spark would silently replace bad bytes)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 24), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


_PROGRAMMING_ERRORS = ("AnalysisException", "ParseException", "IllegalArgumentException",
                       "PySparkTypeError", "PySparkValueError", "PySparkAttributeError")


def read_failure(error: BaseException) -> ContractError | None:
    """A one-line :class:`ContractError` for an error Spark met while reading the data (a
    corrupt file, a value it cannot convert), or None for other errors.

    Examples
    --------
    >>> read_failure(ValueError("x")) is None
    True
    """
    module, name = type(error).__module__, type(error).__name__
    if not (module.startswith("py4j") or module.startswith("pyspark.errors")) \
            or name in _PROGRAMMING_ERRORS:
        return None
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    causes = [line.removeprefix("Caused by: ") for line in lines if line.startswith("Caused by:")]
    reason = (causes[-1] if causes else lines[0] if lines else name)[:300]
    return ContractError(f"the data could not be read ({reason}); check the file")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
