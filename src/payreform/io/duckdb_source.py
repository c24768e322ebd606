"""Scan a data file of any size with DuckDB, under the same reading rules as :func:`read_table`.

Person-level files (settlement records of a whole city) are too large to load into pandas.
:class:`DuckDBSource` opens a DataFrame, a CSV/TSV file, a Parquet file or an Excel workbook as
the DuckDB view ``raw`` (and ``raw_numbered``, with each row's 0-based position in ``__row``),
so that a chapter can aggregate it in one pass and look up an offending row only when there is
one. The reading rules are those of :mod:`payreform.io.rules`:

- CSV text is UTF-8 (with or without byte-order mark) or GBK/GB18030; a GBK file is transcoded
  once into a temporary UTF-8 copy (the input file is never modified); the delimiter is sniffed
  with :func:`~payreform.io.rules.sniff_delimiter`; every cell is read as text, so a bad value
  can be reported with its row;
- a cell holding one of :data:`~payreform.io.rules.MISSING_MARKERS` is missing;
- numbers may be written with thousands separators (:data:`~payreform.io.rules.THOUSANDS_PATTERN`);
- Excel workbooks (person-level workbooks are small by nature) are read once with
  :func:`~payreform.io.read_table` and registered in DuckDB.

:class:`~payreform.io.sql_dialects.ColumnSQL` (re-exported here) writes the SQL that reads a
column as a number, as text or tests it for a missing value under these rules, whatever type the
file gives the column.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from payreform.errors import ContractError
from payreform.io.rules import (
    ENCODINGS,
    data_file,
    encoding_name,
    sniff_text_file,
    transcode_gbk,
)
from payreform.io.sql_dialects import ColumnSQL, ident, missing_sql, number_sql, sql_text, text_sql

__all__ = ["ColumnSQL", "DuckDBSource", "ident", "missing_sql", "number_sql", "sql_text",
           "text_sql"]


class DuckDBSource:
    """A DuckDB connection holding the data as views ``raw`` and ``raw_numbered``.

    Parameters
    ----------
    data
        A DataFrame, or the path of a CSV/TSV/TXT, Parquet or Excel (.xlsx/.xls) file.
    threads
        DuckDB threads (default: all cores).
    sheet
        Excel only: the sheet to read (default the first).
    memory_limit
        DuckDB's memory limit, such as ``"1GB"`` (default: DuckDB's).

    Attributes
    ----------
    kind
        ``frame``, ``csv``, ``parquet`` or ``excel``.
    label
        ``DataFrame`` or the file's path.
    encoding, delimiter
        How a text file was read.
    sha256
        SHA-256 of an Excel file (hashed when it was read); None otherwise.

    Examples
    --------
    >>> with DuckDBSource(pd.DataFrame({"x": [1, 2, 3]})) as source:
    ...     source.query("SELECT sum(x) FROM raw").fetchone()[0]
    6
    """

    def __init__(self, data: Any, threads: int | None = None, sheet: str | None = None,
                 memory_limit: str | None = None):
        config: dict[str, Any] = {}
        if threads is not None:
            config["threads"] = int(threads)
        if memory_limit is not None:
            config["memory_limit"] = str(memory_limit)
        self.con = duckdb.connect(config=config)
        try:  # a library does not print (in Jupyter DuckDB shows no bar without ipywidgets)
            self.con.execute("SET enable_progress_bar = false")
        except duckdb.Error:
            pass
        self._tmpdir: str | None = None
        self._frame: pd.DataFrame | None = None
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self.sheet: str | None = None
        self.sha256: str | None = None
        self.path: Path | None = None
        try:
            self._open(data, sheet)
            self._create_views()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ opening

    def _open(self, data: Any, sheet: str | None) -> None:
        if isinstance(data, pd.DataFrame):
            self.kind, self.label = "frame", "DataFrame"
            self._frame = _text_for_mixed(data)
            return
        if not isinstance(data, (str, os.PathLike)):
            raise ContractError(
                "data must be a pandas DataFrame or the path of a CSV, Excel or Parquet file")
        path, self.kind = data_file(data, sheet)
        self.path, self.label = path, str(path)
        if self.kind == "csv":
            if path.stat().st_size == 0:
                raise ContractError(f"file '{path.name}' is empty; export the records again")
            self._sniff()
        elif self.kind == "excel":
            from payreform.io.tables import read_table

            table = read_table(path, sheet=sheet)
            self.sheet, self.sha256 = table.sheet, table.sha256
            self._frame = _text_for_mixed(table.frame)

    def _sniff(self) -> None:
        """Encoding and delimiter from the start of the file (the rules of io.rules)."""
        self.encoding, self.delimiter = sniff_text_file(self.path)
        if self.encoding != "utf-8":
            self._transcode()

    def _transcode(self) -> None:
        """Write a UTF-8 copy of a GBK file into a private temporary folder."""
        if self._tmpdir is not None:
            raise ContractError(f"file '{self.path.name}' is neither UTF-8 nor GBK text; save it "
                                "again as 'CSV UTF-8'")
        self._tmpdir = tempfile.mkdtemp(prefix="payreform_csv_")
        transcode_gbk(self.path, self._csv_path())
        self.encoding = encoding_name(ENCODINGS[-1])

    def _csv_path(self) -> Path:
        return self.path if self._tmpdir is None else Path(self._tmpdir) / "utf8.csv"

    def _csv_reader(self) -> str:
        return (f"read_csv({sql_text(self._csv_path())}, all_varchar = true, header = true, "
                f"delim = {sql_text(self.delimiter)}, quote = '\"', escape = '\"')")

    def _create_views(self) -> None:
        con = self.con
        if self.kind in ("frame", "excel"):
            con.register("raw_input", self._frame)
            con.execute("CREATE OR REPLACE VIEW raw AS SELECT * FROM raw_input")
            con.execute("CREATE OR REPLACE VIEW raw_numbered AS "
                        "SELECT *, row_number() OVER () - 1 AS __row FROM raw_input")
            return
        if self.kind == "parquet":
            path = sql_text(self.path)
            try:
                con.execute(f"CREATE OR REPLACE VIEW raw AS SELECT * FROM read_parquet({path})")
            except duckdb.Error as error:
                raise ContractError(
                    f"file '{self.path.name}' could not be read as Parquet "
                    f"({_first_line(error)}); export it again") from None
            con.execute(
                "CREATE OR REPLACE VIEW raw_numbered AS SELECT * EXCLUDE (file_row_number), "
                f"file_row_number AS __row FROM read_parquet({path}, file_row_number = true)")
            return
        reader = self._csv_reader()
        try:
            con.execute(f"CREATE OR REPLACE VIEW raw AS SELECT * FROM {reader}")
        except duckdb.Error as error:
            if _not_utf8(error) and self._tmpdir is None:
                self._transcode()
                return self._create_views()
            raise ContractError(f"file '{self.path.name}' could not be read as CSV "
                                f"({_first_line(error)}); save it again as 'CSV UTF-8'") from None
        con.execute("CREATE OR REPLACE VIEW raw_numbered AS "
                    f"SELECT *, row_number() OVER () - 1 AS __row FROM {reader}")
        return None

    # ------------------------------------------------------------------ queries

    def query(self, sql: str) -> duckdb.DuckDBPyConnection:
        """Run ``sql`` on the connection; read the result with ``fetchone``, ``fetchall`` or ``df``.

        A UTF-8 file that turns out to hold GBK text further down is transcoded and the query
        run again; errors of reading become one-line :class:`ContractError`.
        """
        try:
            return self.con.execute(sql)
        except duckdb.InvalidInputException as error:
            if self.kind == "csv" and _not_utf8(error) and self._tmpdir is None:
                self._transcode()
                self._create_views()
                return self.con.execute(sql)
            raise ContractError(f"the data could not be read ({_first_line(error)}); check the "
                                "file") from None
        except (duckdb.ConversionException, duckdb.OutOfRangeException) as error:
            raise ContractError(f"a value could not be converted ({_first_line(error)}); check "
                                "the file") from None

    def frame(self, sql: str) -> pd.DataFrame:
        """Run ``sql`` and return the (aggregated) result as a DataFrame."""
        return self.query(sql).df()

    def describe(self) -> dict[str, str]:
        """Column name -> DuckDB type of the data."""
        rows = self.query("DESCRIBE SELECT * FROM raw").fetchall()
        return {str(r[0]): str(r[1]).upper() for r in rows}

    def first_row(self, condition: str, value: str = "NULL") -> tuple[int, Any]:
        """The 0-based position of the first row meeting ``condition``, and ``value`` there."""
        row = self.query(f"SELECT __row, {value} FROM raw_numbered WHERE {condition} "
                         "ORDER BY __row LIMIT 1").fetchone()
        if row is None:
            raise LookupError(f"no row meets {condition}")
        return int(row[0]), row[1]

    def close(self) -> None:
        """Close the connection and remove any temporary copy."""
        self.con.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> DuckDBSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _text_for_mixed(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns (numbers mixed with text) as text, so that a stray value is reported
    with its row instead of failing DuckDB's type guess; the caller's frame is not changed."""
    mixed = [c for c in frame.columns if frame[c].dtype == object]
    if not mixed:
        return frame
    return frame.assign(**{str(c): frame[c].where(frame[c].isna(), frame[c].astype(str))
                           for c in mixed})


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _not_utf8(error: Exception) -> bool:
    text = str(error).lower()
    return "utf-8" in text or "unicode" in text
