"""The cell statistics pass on Apache Spark (``engine="spark"``): same statistics, same checks.

:func:`spark_pass` is the Spark twin of the DuckDB pass in :mod:`payreform.capitation.cells`.
It groups the rows by the raw values of the key columns and by the bit mask of the broken
rules that need the whole row, with counts and exact sums of the expenditure in fen and of its
square (``DECIMAL(38, 0)``, the role of DuckDB's ``HUGEINT``); parses numbers and codes once
per distinct combination; and reduces them to the atoms' moments, exact integers converted to
floating point once, so that the atoms equal DuckDB's. Whatever follows (codes mapped to
labels, coefficients, groups, standards, simulations) is the same code for both engines.

The contract is checked as the DuckDB pass checks it, with the same messages: the row rules of
:func:`~payreform.contracts.person_years.row_rules` in Spark SQL (the rows that break one are
counted in the pass; the first is looked up only then), the codes with
:func:`~payreform.contracts.person_years.check_codes` and
:func:`~payreform.contracts.person_years.check_ocsd_texts`, and no person twice in a year
(a second aggregate over the file, as in DuckDB).

PySpark is imported only here and in :mod:`payreform.io.spark_source`, only when
``engine="spark"`` is asked for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from payreform.capitation.schema import MOMENTS, key_columns
from payreform.contracts.person_years import (
    RowRule,
    check_codes,
    check_ocsd_texts,
    code_table,
    raise_first_violation,
    resolve_columns,
    row_rules,
    rule_mask_sql,
)
from payreform.errors import ContractError
from payreform.io.spark_source import (
    SPARK_MASTER,
    SparkColumnSQL,
    SparkSource,
    read_failure,
    spark_session,
    spark_text,
)
from payreform.periods import row_label

__all__ = ["spark_pass", "spark_rules", "spark_typed_sql"]

_ATOM_KEYS = ("scheme_code", "year", "gender_code", "age", "n_diseases", "disease_code",
              "inpatient")

# What each moment sums over the grouped table of the pass: exact integers as in DuckDB's pass
# (schema.MOMENT_SQL). l (length of stay), n (persons) and sy (fen) are BIGINT and syy (fen
# squared) DECIMAL(38, 0), the role of DuckDB's HUGEINT; products are taken in DECIMAL(38, 0).
_D = "CAST(l AS DECIMAL(38, 0))"
SPARK_MOMENTS = {
    "persons": "n",
    "sum_y": "sy",
    "sum_y2": "syy",
    "sum_los": f"{_D} * n",
    "sum_los2": f"{_D} * l * n",
    "sum_los3": f"{_D} * l * l * n",
    "sum_los4": f"{_D} * l * l * l * n",
    "sum_y_los": f"{_D} * sy",
    "sum_y_los2": f"{_D} * l * sy",
    "sum_y_los3": f"{_D} * l * l * sy",
    "sum_y2_los": "l * syy",
    "sum_y2_los2": f"{_D} * l * syy",
}


def spark_rules(cols: SparkColumnSQL) -> list[RowRule]:
    """The contract's row rules with Spark SQL conditions (messages and order unchanged).

    The conditions of :func:`~payreform.contracts.person_years.row_rules` are written with the
    column expressions of ``cols``; the two DuckDB-only constructs (``isinf`` and a cast to
    ``VARCHAR``) are replaced.

    Examples
    --------
    >>> from payreform.contracts.person_years import COLUMNS
    >>> cols = SparkColumnSQL({c: c for c in COLUMNS}, {c: "string" for c in COLUMNS})
    >>> rule = next(r for r in spark_rules(cols) if r.label == "infinite age")
    >>> "isinf" in rule.condition
    False
    """
    rules = []
    for rule in row_rules(cols):
        kind, _, column = rule.label.partition(" ")
        if kind == "infinite":
            rule = dataclasses.replace(
                rule, condition=f"(abs({cols.number(column)}) = CAST('Infinity' AS DOUBLE))")
        elif kind == "text":
            rule = dataclasses.replace(rule, value=f"CAST({cols.raw(column)} AS STRING)")
        rules.append(rule)
    return rules


def spark_typed_sql(cols: SparkColumnSQL, separator: str, mask: str, table: str) -> str:
    """Spark SQL of the model's variables from the grouped table of the pass (the twin of
    :func:`payreform.capitation.schema.typed_sql`: same columns, same values).

    Examples
    --------
    >>> from payreform.contracts.person_years import COLUMNS
    >>> cols = SparkColumnSQL({c: c for c in COLUMNS}, {c: "string" for c in COLUMNS})
    >>> "n_diseases" in spark_typed_sql(cols, ";", "0", "cells")
    True
    """
    los = cols.number("los") if cols.mapping.get("los") is not None else "CAST(0 AS DOUBLE)"
    sep = spark_text(separator)
    whole = ("CASE WHEN isnan({0}) THEN NULL "
             "ELSE try_cast(round({0}) AS BIGINT) END")  # DuckDB rounds DOUBLE -> BIGINT
    inner = (
        f"SELECT __row_bad + {mask} AS bad, {cols.text('scheme')} AS scheme_code, "
        f"{whole.format(cols.number('year'))} AS year, "
        f"{cols.text('gender')} AS gender_code, {cols.number('age')} AS age, "
        f"{cols.text('ocsd')} AS ocsd_text, "
        f"try_cast({whole.format(cols.number('inpatient_prev_year'))} AS INT) AS inpatient, "
        f"{whole.format(f'coalesce({los}, 0)')} AS l, __n AS n, __sy AS sy, __syy AS syy "
        f"FROM {table}")
    return (
        "SELECT *, "
        "CASE WHEN ocsd_text IS NULL THEN 0 ELSE least(3, size(split(ocsd_text, "
        f"{spark_text(_quote_regex(separator))}, -1))) END AS n_diseases, "
        f"CASE WHEN ocsd_text IS NOT NULL AND instr(ocsd_text, {sep}) = 0 THEN lower(ocsd_text) "
        f"ELSE '' END AS disease_code FROM ({inner})")


def _quote_regex(text: str) -> str:
    """A Java regular expression matching ``text`` literally."""
    return r"\Q" + text.replace(r"\E", r"\E\\E\Q") + r"\E"


class _TextLookup:
    """Stands in for the source and the columns in the code checks of
    :mod:`payreform.contracts.person_years`, whose conditions test one column's text: DuckDB
    evaluates a condition on the distinct texts the pass found, and Spark finds the first row
    holding one of the texts that meet it."""

    _NAME = '"__text"'

    def __init__(self, source: SparkSource, cols: SparkColumnSQL, column: str,
                 texts: Iterable[Any]):
        self.source, self.cols, self.column = source, cols, column
        self.texts = [t for t in texts if t is not None]

    def name(self, key: str) -> str:
        return self.cols.name(key)

    def text(self, key: str) -> str:
        if key != self.column:
            raise ValueError(f"the check asks for column {key}, not {self.column}")
        return self._NAME

    def first_row(self, condition: str, value: str = "NULL") -> tuple[int, Any]:
        frame = pd.DataFrame({"__text": pd.Series(self.texts, dtype=object)})
        with duckdb.connect() as con:
            con.register("texts", frame)
            meeting = [r[0] for r in con.execute(
                f"SELECT DISTINCT {self._NAME} FROM texts WHERE {condition}").fetchall()]
        row, text = self.source.first_row_in(self.cols.text(self.column), meeting)
        return row, (text if value == self._NAME else None)


def _collect(frame: Any) -> list[dict[str, Any]]:
    return frame.toArrow().to_pylist()


def _scan(source: SparkSource, cols: SparkColumnSQL, separator: str, validate: bool) -> dict:
    """The pass over the data and the work on its small result (see
    :func:`payreform.capitation.cells` ``_scan``, whose steps these are)."""
    rules = spark_rules(cols) if validate else []
    per_row = [i for i, r in enumerate(rules) if set(r.columns) & {"person_id", "fund_exp"}]
    per_key = [i for i in range(len(rules)) if i not in per_row]
    keys = ", ".join(cols.raw(c) for c in key_columns(cols))
    cells = source.query(
        f"SELECT {keys}, __row_bad, count(*) AS __n, sum(__c) AS __sy, "
        f"sum(CAST(__c AS DECIMAL(38, 0)) * __c) AS __syy FROM (SELECT {keys}, "
        f"{rule_mask_sql(rules, per_row)} AS __row_bad, try_cast(round({cols.number('fund_exp')}"
        f" * 100) AS BIGINT) AS __c FROM {source.view}) GROUP BY {keys}, __row_bad")
    cells_view = f"{source.view}_cells"
    cells.createOrReplaceTempView(cells_view)
    typed = spark_typed_sql(cols, separator, rule_mask_sql(rules, per_key), cells_view)
    # One aggregate with three grouping sets, so that the data are scanned and shuffled once
    # (a cached intermediate would lose adaptive partitioning): rows per mask of broken rules,
    # the distinct disease texts, and the moments of the valid rows' atoms.
    atom_keys = ", ".join(_ATOM_KEYS)
    moments = ", ".join(f"sum(IF(bad = 0, {SPARK_MOMENTS[m]}, NULL)) AS {m}" for m in MOMENTS)
    try:
        table = source.query(
            f"SELECT grouping(ocsd_text) AS __no_text, grouping(scheme_code) AS __no_atom, "
            f"bad, ocsd_text, {atom_keys}, "
            f"CAST(sum(n) AS BIGINT) AS __rows, {moments} FROM ({typed}) GROUP BY "
            f"GROUPING SETS ((bad), (ocsd_text), (bad, {atom_keys}))").toArrow()
    finally:
        source.spark.catalog.dropTempView(cells_view)
    no_text = np.asarray(table.column("__no_text").to_pylist()) == 1
    no_atom = np.asarray(table.column("__no_atom").to_pylist()) == 1
    bad = table.column("bad").to_pylist()
    rows = table.column("__rows").to_pylist()
    violations = {int(bad[i]): int(rows[i]) for i in np.flatnonzero(no_text & no_atom)}
    ocsd = table.column("ocsd_text").to_pylist()
    texts = [ocsd[i] for i in np.flatnonzero(~no_text) if ocsd[i] is not None]
    keep = np.flatnonzero(~no_atom & (np.asarray(bad, dtype=object) == 0))
    return {"rules": rules, "violations": violations, "ocsd_texts": texts,
            "atoms": _atoms_frame(table.take(keep)), "rows": int(sum(violations.values()))}


def _atoms_frame(table: Any) -> pd.DataFrame:
    """The atoms as the DuckDB pass returns them: moments as floats (each exact integer
    rounded once), codes as text, ``age`` as float."""
    frame = pd.DataFrame({
        "scheme_code": pd.Series(table.column("scheme_code").to_pylist(), dtype=object),
        "year": np.asarray(table.column("year").to_pylist(), dtype=np.int64),
        "gender_code": pd.Series(table.column("gender_code").to_pylist(), dtype=object),
        "age": np.asarray(table.column("age").to_pylist(), dtype=float),
        "n_diseases": np.asarray(table.column("n_diseases").to_pylist(), dtype=np.int64),
        "disease_code": pd.Series(table.column("disease_code").to_pylist(), dtype=object),
        "inpatient": np.asarray(table.column("inpatient").to_pylist(), dtype=np.int64),
    })
    for moment in MOMENTS:
        frame[moment] = np.array([np.nan if v is None else float(int(v))
                                  for v in table.column(moment).to_pylist()], dtype=float)
    return frame


def _check_duplicates(source: SparkSource, cols: SparkColumnSQL) -> None:
    """Refuse a person who appears twice in a year (the message of the DuckDB pass)."""
    pid, year = cols.raw("person_id"), cols.number("year")
    found = source.query(f"SELECT count(*) - count(DISTINCT xxhash64({pid}, {year})) AS d "
                         f"FROM {source.view}").collect()[0][0]
    if not found:
        return
    numbered = f"{source.view}_numbered"
    source.numbered().createOrReplaceTempView(numbered)
    try:
        rows = source.query(
            f"SELECT {pid} AS p, {year} AS y, min(__row) AS a, max(__row) AS b, count(*) AS c "
            f"FROM {numbered} GROUP BY {pid}, {year} HAVING count(*) > 1 ORDER BY a LIMIT 1"
        ).collect()
    finally:
        source.spark.catalog.dropTempView(numbered)
    if not rows:  # two keys with the same hash: no duplicate after all
        return
    person, year_found, first, last, times = rows[0]
    where = (f"{row_label(first)} and {row_label(last)}" if times == 2 else
             f"{times} times, first in {row_label(first)}, last in {row_label(last)}")
    raise ContractError(
        f"person {str(person)!r} appears more than once in year {int(year_found)} ({where}); "
        "keep one row per person and year")


def spark_pass(
    data: Any,
    *,
    columns: Mapping[str, str | None] | None,
    separator: str,
    validate: bool,
    diseases: Sequence[str] | None,
    scheme_codes: Mapping[str, str] | None,
    gender_codes: Mapping[str, int],
    sheet: str | None = None,
    master: str = SPARK_MASTER,
    session: Any = None,
) -> tuple[dict, dict[str, str | None], str, dict[str, Any]]:
    """Read and check the records and compute the atoms' statistics with Spark.

    Returns what the DuckDB pass returns: the scan (``rules``, ``violations``, ``ocsd_texts``,
    ``atoms``, ``rows``), the column mapping, the source's label and how it was read. Raises
    the same :class:`~payreform.errors.ContractError` as the DuckDB pass, in the same order.
    Use it through :func:`payreform.capitation.cell_statistics` with ``engine="spark"``.

    Examples
    --------
    >>> from payreform.synth import gz
    >>> scanned, mapping, label, reading = spark_pass(  # doctest: +SKIP
    ...     gz.generate(scale=0.002), columns=None, separator=";", validate=True,
    ...     diseases=None, scheme_codes=None, gender_codes={"1": 1, "2": 2})
    >>> scanned["rows"], label  # doctest: +SKIP
    (35781, 'DataFrame')
    """
    with spark_session(master, session) as spark, SparkSource(data, spark, sheet) as source:
        try:
            scanned, mapping = _checked_scan(source, columns, separator, validate, diseases,
                                             scheme_codes, gender_codes)
        except ContractError:
            raise
        except Exception as error:  # Spark's errors met while reading: one line, as DuckDB's
            failure = read_failure(error)
            if failure is None:
                raise
            raise failure from None
        reading = {"encoding": source.encoding, "delimiter": source.delimiter,
                   "sheet": source.sheet, "sha256": source.sha256,
                   "spark_master": spark.sparkContext.master}
        return scanned, mapping, source.label, reading


def _checked_scan(source: SparkSource, columns: Mapping[str, str | None] | None, separator: str,
                  validate: bool, diseases: Sequence[str] | None,
                  scheme_codes: Mapping[str, str] | None, gender_codes: Mapping[str, int]
                  ) -> tuple[dict, dict[str, str | None]]:
    """The scan and the contract's checks, in the DuckDB pass's order."""
    types = source.describe()
    cols = SparkColumnSQL(resolve_columns(list(types), columns), types)
    scanned = _scan(source, cols, separator, validate)
    if scanned["rows"] == 0:
        raise ContractError("the data have no rows; export the person-year records again")
    if validate:
        raise_first_violation(source, scanned["rules"], scanned["violations"])
        if scheme_codes is not None:
            lookup = _TextLookup(source, cols, "scheme", scanned["atoms"]["scheme_code"].unique())
            check_codes(lookup, lookup, "scheme", lookup.texts, code_table(scheme_codes),
                        scheme_codes, "map every scheme code with schemes=CODE:LABEL,...")
        lookup = _TextLookup(source, cols, "gender", scanned["atoms"]["gender_code"].unique())
        check_codes(lookup, lookup, "gender", lookup.texts, code_table(gender_codes),
                    gender_codes, "use 1 (male) or 2 (female)")
        lookup = _TextLookup(source, cols, "ocsd", scanned["ocsd_texts"])
        check_ocsd_texts(lookup, lookup, scanned["ocsd_texts"], diseases, separator)
        _check_duplicates(source, cols)
    return scanned, dict(cols.mapping)
