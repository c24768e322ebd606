"""The reading rules of :mod:`payreform.io.rules` as SQL, written once for every engine.

A column is read as a number, as text or tested for a missing value by the same rules whether
DuckDB or Spark runs the query; only the spelling differs (how identifiers and strings are
quoted, type names, how text is parsed as a number, how a pattern is matched). A
:class:`Dialect` holds those spellings: :data:`DUCKDB` and :data:`SPARK`. :func:`number_sql`,
:func:`missing_sql` and :func:`text_sql` write the rules in either, and :class:`ColumnSQL`
applies them to a data set's columns by the names a chapter uses for them.

Spark SQL is written so that it gives DuckDB's results: Java reads ``1d`` and ``1f`` as numbers
and DuckDB does not, DuckDB reads ``1_000`` and ``+nan`` and Java does not, and Java's ``$``
also matches before a final line break.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from payreform.io.rules import MISSING_MARKERS, THOUSANDS_PATTERN

__all__ = ["DUCKDB", "SPARK", "ColumnSQL", "Dialect", "ident", "missing_sql", "number_sql",
           "spark_ident", "spark_text", "sql_text", "text_sql"]


def sql_text(value: Any) -> str:
    """A SQL string literal (DuckDB).

    Examples
    --------
    >>> sql_text("O'Neil")
    "'O''Neil'"
    """
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: Any) -> str:
    """A quoted SQL identifier (DuckDB; column names may hold spaces, quotes or Chinese characters).

    Examples
    --------
    >>> ident('参保人编号')
    '"参保人编号"'
    """
    return '"' + str(name).replace('"', '""') + '"'


def spark_text(value: Any) -> str:
    """A Spark SQL string literal.

    Examples
    --------
    >>> print(spark_text("O'Neil \\\\ 1"))
    'O\\'Neil \\\\ 1'
    """
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def spark_ident(name: Any) -> str:
    """A quoted Spark SQL identifier.

    Examples
    --------
    >>> spark_ident("参保人 编号")
    '`参保人 编号`'
    """
    return "`" + str(name).replace("`", "``") + "`"


@dataclass(frozen=True)
class Dialect:
    """How one engine spells what the reading rules need.

    ``quote`` and ``literal`` quote an identifier and a string; ``string``, ``integer`` and
    ``boolean`` are type names (``boolean`` and ``floats`` as the engine describes a column's
    type), ``numeric`` the prefixes of numeric types; ``to_double(text)`` is SQL of a text as
    DOUBLE (NULL if it is not a number); ``full_match(text, pattern)`` a condition that the
    whole text matches a regular expression; ``whole_text(column)`` a whole-number floating
    column as text without ``.0``.
    """

    name: str
    quote: Callable[[Any], str]
    literal: Callable[[Any], str]
    string: str
    integer: str
    boolean: str
    floats: tuple[str, ...]
    numeric: tuple[str, ...]
    to_double: Callable[[str], str]
    full_match: Callable[[str, str], str]
    whole_text: Callable[[str], str]

    def markers(self) -> str:
        """The missing-value markers as a SQL list."""
        return "(" + ", ".join(self.literal(m) for m in MISSING_MARKERS) + ")"

    def is_numeric(self, sql_type: str) -> bool:
        return sql_type.startswith(self.numeric)


DUCKDB = Dialect(
    name="duckdb", quote=ident, literal=sql_text, string="VARCHAR", integer="INTEGER",
    boolean="BOOLEAN", floats=("FLOAT", "DOUBLE", "REAL"),
    numeric=("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
             "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL"),
    to_double=lambda text: f"TRY_CAST({text} AS DOUBLE)",
    full_match=lambda text, pattern: f"regexp_full_match({text}, {sql_text(pattern)})",
    whole_text=lambda column: f"CAST(CAST({column} AS BIGINT) AS VARCHAR)",
)
"""DuckDB's SQL."""

_SUFFIXED = spark_text(r"[0-9.][dDfF]\s*$")  # Java reads 1d and 1f as numbers, DuckDB does not
_UNDERSCORE = spark_text("(?<=[0-9])_(?=[0-9])")  # DuckDB reads 1_000 as 1000


def _spark_double(text: str) -> str:
    """Text as DOUBLE where DuckDB reads it as one: Java's ``1d``/``1f`` suffixes refused,
    ``1_000`` and ``+nan`` accepted."""
    return (f"CASE WHEN {text} RLIKE {_SUFFIXED} THEN NULL "
            f"WHEN lower({text}) IN ('+nan', '-nan') THEN CAST('NaN' AS DOUBLE) "
            f"ELSE try_cast(regexp_replace({text}, {_UNDERSCORE}, '') AS DOUBLE) END")


SPARK = Dialect(
    name="spark", quote=spark_ident, literal=spark_text, string="STRING", integer="INT",
    boolean="boolean", floats=("float", "double"),
    numeric=("tinyint", "smallint", "int", "bigint", "float", "double", "decimal"),
    to_double=_spark_double,
    # RLIKE finds the pattern anywhere; the patterns are anchored, and Java's `$` also matches
    # before a final line break where DuckDB's full match does not, so `$` becomes `\z`
    full_match=lambda text, pattern: f"{text} RLIKE {spark_text(pattern.removesuffix('$') + chr(92) + 'z')}",
    whole_text=lambda column: f"CAST(try_cast({column} AS BIGINT) AS STRING)",
)
"""Spark SQL, written to give DuckDB's results."""


def number_sql(column: str, sql_type: str, dialect: Dialect = DUCKDB) -> str:
    """SQL of a column as DOUBLE: NULL when missing or not a number; ``1,234`` reads as 1234.

    Examples
    --------
    >>> number_sql("age", "BIGINT")
    'CAST("age" AS DOUBLE)'
    >>> number_sql("age", "bigint", SPARK)
    'CAST(`age` AS DOUBLE)'
    """
    name = dialect.quote(column)
    if dialect.is_numeric(sql_type):
        return f"CAST({name} AS DOUBLE)"
    if sql_type == dialect.boolean:
        return f"CAST(CAST({name} AS {dialect.integer}) AS DOUBLE)"
    text = f"trim(CAST({name} AS {dialect.string}))"
    plain = f"replace({text}, ',', '')"
    return (f"coalesce({dialect.to_double(text)}, CASE WHEN "
            f"{dialect.full_match(text, THOUSANDS_PATTERN)} THEN {dialect.to_double(plain)} END)")


def missing_sql(column: str, sql_type: str, dialect: Dialect = DUCKDB) -> str:
    """SQL condition: the cell is missing (NULL, NaN, empty or a missing-value marker).

    Examples
    --------
    >>> missing_sql("year", "INTEGER")
    '("year" IS NULL)'
    >>> missing_sql("year", "int", SPARK)
    '(`year` IS NULL)'
    """
    name = dialect.quote(column)
    if sql_type in dialect.floats:
        return f"({name} IS NULL OR isnan({name}))"
    if dialect.is_numeric(sql_type) or sql_type == dialect.boolean:
        return f"({name} IS NULL)"
    return f"({name} IS NULL OR trim(CAST({name} AS {dialect.string})) IN {dialect.markers()})"


def text_sql(column: str, sql_type: str, dialect: Dialect = DUCKDB) -> str:
    """SQL of a column as trimmed text (whole-number doubles without ``.0``; NULL if missing).

    Examples
    --------
    >>> text_sql("gender", "BIGINT")
    'CAST("gender" AS VARCHAR)'
    >>> text_sql("gender", "tinyint", SPARK)
    'CAST(`gender` AS STRING)'
    """
    name = dialect.quote(column)
    if sql_type in dialect.floats:
        return (f"CASE WHEN isnan({name}) THEN NULL WHEN {name} = round({name}) "
                f"THEN {dialect.whole_text(name)} ELSE CAST({name} AS {dialect.string}) END")
    if dialect.is_numeric(sql_type) or sql_type == dialect.boolean:
        return f"CAST({name} AS {dialect.string})"
    text = f"trim(CAST({name} AS {dialect.string}))"
    return f"CASE WHEN {text} IN {dialect.markers()} THEN NULL ELSE {text} END"


@dataclass(frozen=True)
class ColumnSQL:
    """SQL expressions for the columns of a source, by the names a chapter uses for them.

    ``mapping`` is chapter name -> column name in the data; ``types`` is column name -> type as
    the engine describes it (:meth:`DuckDBSource.describe
    <payreform.io.duckdb_source.DuckDBSource.describe>` or ``SparkSource.describe``);
    ``dialect`` the engine's SQL.

    Examples
    --------
    >>> cols = ColumnSQL({"age": "年龄"}, {"年龄": "VARCHAR"})
    >>> cols.raw("age")
    '"年龄"'
    >>> ColumnSQL({"age": "年龄"}, {"年龄": "string"}, SPARK).raw("age")
    '`年龄`'
    """

    mapping: Mapping[str, str]
    types: Mapping[str, str]
    dialect: Dialect = field(default=DUCKDB, repr=False)

    def name(self, key: str) -> str:
        """The column's name in the data."""
        return self.mapping[key]

    def raw(self, key: str) -> str:
        """The column as stored."""
        return self.dialect.quote(self.mapping[key])

    def type(self, key: str) -> str:
        """The column's type."""
        return self.types[self.mapping[key]]

    def number(self, key: str) -> str:
        """The column as DOUBLE (see :func:`number_sql`)."""
        return number_sql(self.mapping[key], self.type(key), self.dialect)

    def missing(self, key: str) -> str:
        """Condition: the column's cell is missing (see :func:`missing_sql`)."""
        return missing_sql(self.mapping[key], self.type(key), self.dialect)

    def text(self, key: str) -> str:
        """The column as trimmed text (see :func:`text_sql`)."""
        return text_sql(self.mapping[key], self.type(key), self.dialect)
