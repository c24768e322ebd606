"""The person-year contract of the capitation chapter: one row per person and year.

Person-level files can hold a whole city (tens of millions of rows), so the checks are written as
SQL conditions that DuckDB evaluates while it scans the file (:class:`RowRule`); the capitation
method folds them into the pass that computes its cell statistics
(:func:`payreform.capitation.cell_statistics`), and :func:`validate_person_years` runs them on
their own. A rule that fails is reported in one line with the column, the first offending row
(spreadsheet numbering: the header is row 1) and the fix; the row is looked up only then.

Codes are read case-insensitively and without surrounding spaces; ``2.0`` reads as ``2``.
Nothing here assumes a study's codes: the insurance schemes are the codes found in the data
unless a mapping is given, and so are the disease codes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from payreform.errors import ContractError, ParameterError, closest
from payreform.io.duckdb_source import ColumnSQL, DuckDBSource, sql_text
from payreform.periods import row_label

__all__ = [
    "COLUMNS",
    "CONTRACT",
    "GENDER_CODES",
    "MAX_AGE",
    "OPTIONAL_COLUMNS",
    "SEPARATOR",
    "PersonYearData",
    "RowRule",
    "check_codes",
    "check_duplicates",
    "check_ocsd_texts",
    "code_table",
    "normal_code",
    "raise_first_violation",
    "resolve_columns",
    "row_rules",
    "validate_person_years",
]

COLUMNS = ("person_id", "year", "scheme", "gender", "age", "ocsd", "inpatient_prev_year", "los",
           "fund_exp")
"""The contract's columns, by the names the method uses (a file may name them differently)."""

OPTIONAL_COLUMNS = ("los",)
"""Columns a file may lack (map them to None): without length of stay, the screening
regression leaves it out."""

GENDER_CODES: dict[str, int] = {"1": 1, "2": 2, "M": 1, "F": 2, "male": 1, "female": 2,
                                "男": 1, "女": 2}
"""Accepted codes of the gender column (case-insensitive): 1 = male, 2 = female."""

MAX_AGE = 120
SEPARATOR = ";"
"""Separator of the disease codes in the ``ocsd`` column (``DM;hypertension``)."""

_OTHER_SEPARATORS = (",", "，", "；", "、", "|")
_LARGEST_EXPENDITURE = 1e12

CONTRACT = """\
Person-year outpatient settlement records, one row per insured person and year (never printed).
- person_id: the person's identifier; no person twice in a year.
- year: whole years; the two latest years present are the base and target years of the
  weighting unless base_year and target_year are set.
- scheme: the insurance scheme's code; each code found is a scheme unless schemes=CODE:LABEL,...
  maps codes to labels.
- gender: 1 or M or 男 (male), 2 or F or 女 (female).
- age: years, 0 to 120.
- ocsd: the person's chronic and special disease codes separated by ';' (empty for none); every
  code found is a disease unless diseases=FILE (a CSV of code,name[,group]) lists them.
- inpatient_prev_year: 1 if hospitalised in the previous year, else 0.
- los: length of stay in days (whole, >= 0; may be empty when inpatient_prev_year is 0;
  los_column=none if the file has no length of stay).
- fund_exp: the insurance fund's outpatient expenditure in the year (>= 0).
Column names are set with --set person_id_column=... etc. CSV (UTF-8 or GBK), Excel (.xlsx,
.xls) or Parquet; large files are scanned with DuckDB, never loaded whole. Nothing the chapter
publishes rests on fewer than min_cell_size persons."""

ProgressCallback = Callable[[str, int, int], None]


def normal_code(value: Any) -> str:
    """Canonical text of a code: trimmed, lower case, ``2.0`` read as ``2``.

    Examples
    --------
    >>> normal_code(" UEBHI "), normal_code(2.0), normal_code("310")
    ('uebhi', '2', '310')
    """
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text.lower()
    if math.isfinite(number) and number.is_integer():
        return str(int(number))
    return text.lower()


def code_table(codes: Mapping[Any, Any]) -> dict[str, Any]:
    """A code mapping keyed by :func:`normal_code`.

    Examples
    --------
    >>> code_table({"M": 1, 2.0: 2})
    {'m': 1, '2': 2}
    """
    return {normal_code(k): v for k, v in codes.items()}


def resolve_columns(names: Sequence[str], columns: Mapping[str, str | None] | None = None
                    ) -> dict[str, str | None]:
    """Contract name -> column name in the data (None for an optional column left out).

    Raises
    ------
    ParameterError
        For a key that is not a contract name.
    ContractError
        For a column the data lack (with the closest name) or a name that appears twice.

    Examples
    --------
    >>> resolve_columns(list(COLUMNS))["fund_exp"]
    'fund_exp'
    """
    mapping: dict[str, str | None] = {c: c for c in COLUMNS}
    if columns:
        unknown = [k for k in columns if k not in COLUMNS]
        if unknown:
            raise ParameterError(
                f"parameter 'columns' has the key '{unknown[0]}'{closest(unknown[0], COLUMNS)}; "
                f"its keys are the contract's names: {', '.join(COLUMNS)}")
        for key, value in columns.items():
            if value is None and key not in OPTIONAL_COLUMNS:
                raise ParameterError(f"parameter '{key}_column' cannot be none; name the column "
                                     f"holding {key}")
            mapping[key] = None if value is None else str(value)
    names = [str(n) for n in names]
    if len(set(names)) != len(names):
        duplicated = next(n for n in names if names.count(n) > 1)
        raise ContractError(
            f"column name '{duplicated}' appears twice; give each column its own name")
    for canonical, actual in mapping.items():
        if actual is not None and actual not in names:
            listed = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise ContractError(
                f"column '{actual}' not found{closest(actual, names)}; the file has: {listed}; "
                f"rename the column or set {canonical}_column=<your column name>")
    return mapping


@dataclass(frozen=True)
class RowRule:
    """One rule every row must satisfy: a SQL ``condition`` true for an offending row, the SQL
    ``value`` shown in the message, and ``message(row, value)`` (``row`` 0-based)."""

    label: str
    condition: str
    value: str
    message: Callable[[int, Any], str] = field(repr=False)
    columns: tuple[str, ...] = ()


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def row_rules(cols: ColumnSQL) -> list[RowRule]:
    """The rules on single rows, in the order they are reported.

    Examples
    --------
    >>> cols = ColumnSQL({c: c for c in COLUMNS}, {c: "VARCHAR" for c in COLUMNS})
    >>> [r.label for r in row_rules(cols)][:3]
    ['missing person_id', 'missing year', 'missing scheme']
    """
    name = cols.mapping
    has_los = name.get("los") is not None
    required = ("person_id", "year", "scheme", "gender", "age", "inpatient_prev_year", "fund_exp")
    numbers = [c for c in ("year", "age", "inpatient_prev_year", "los", "fund_exp")
               if name.get(c) is not None]
    rules = [RowRule(f"missing {c}", cols.missing(c), "NULL", lambda r, v, c=c: (
        f"column '{name[c]}' is empty in {row_label(r)}; every row needs a value (fill it in or "
        "drop the row)"), (c,)) for c in required]
    for c in numbers:
        expr = cols.number(c)
        rules.append(RowRule(f"text {c}", f"(NOT {cols.missing(c)} AND {expr} IS NULL)",
                             f"CAST({cols.raw(c)} AS VARCHAR)", lambda r, v, c=c: (
                                 f"column '{name[c]}' has the non-numeric value {str(v)!r} in "
                                 f"{row_label(r)}; it must hold numbers only"), (c,)))
        rules.append(RowRule(f"infinite {c}", f"isinf({expr})", expr, lambda r, v, c=c: (
            f"column '{name[c]}' has an infinite value in {row_label(r)}; give a finite number"),
            (c,)))
    year, age, inpatient, fund = (cols.number(c) for c in
                                  ("year", "age", "inpatient_prev_year", "fund_exp"))
    rules += [
        RowRule("year whole", f"({year} <> round({year}) OR abs({year}) > 9999)", year,
                lambda r, v: (f"column '{name['year']}' has {_show(v)} in {row_label(r)}; years "
                              "must be whole numbers such as 2010"), ("year",)),
        RowRule("age range", f"({age} < 0 OR {age} > {MAX_AGE})", age, lambda r, v: (
            f"column '{name['age']}' has {_show(v)} in {row_label(r)}, outside 0-{MAX_AGE}; "
            "give the age in years or drop the row"), ("age",)),
        RowRule("inpatient code", f"({inpatient} NOT IN (0, 1))", inpatient, lambda r, v: (
            f"column '{name['inpatient_prev_year']}' has {_show(v)} in {row_label(r)}; use 1 "
            "(hospitalised in the previous year) or 0"), ("inpatient_prev_year",)),
    ]
    if has_los:
        los = cols.number("los")
        rules += [
            RowRule("los missing", f"({cols.missing('los')} AND {inpatient} = 1)", "NULL",
                    lambda r, v: (f"column '{name['los']}' is empty in {row_label(r)} although "
                                  f"'{name['inpatient_prev_year']}' is 1; give the length of stay "
                                  "in days"), ("los", "inpatient_prev_year")),
            RowRule("los value", f"({los} < 0 OR {los} <> round({los}) OR {los} > 36600)", los,
                    lambda r, v: (f"column '{name['los']}' has {_show(v)} in {row_label(r)}; the "
                                  "length of stay must be whole days, 0 or more"), ("los",)),
        ]
    rules += [
        RowRule("negative expenditure", f"({fund} < 0)", fund, lambda r, v: (
            f"column '{name['fund_exp']}' has {_show(v)} in {row_label(r)}, below 0; "
            "expenditures cannot be negative"), ("fund_exp",)),
        RowRule("huge expenditure", f"({fund} > {_LARGEST_EXPENDITURE:.0f})", fund, lambda r, v: (
            f"column '{name['fund_exp']}' has {_show(v)} in {row_label(r)}, more than a person "
            "can spend in a year; check the unit (RMB) and the row"), ("fund_exp",)),
    ]
    return rules


def rule_mask_sql(rules: Sequence[RowRule], only: Iterable[int] | None = None) -> str:
    """SQL of a row's bit mask of broken rules (bit ``i`` for ``rules[i]``; 0 = a valid row);
    ``only`` restricts it to some of the rules (by position)."""
    positions = range(len(rules)) if only is None else list(only)
    terms = [f"CASE WHEN {rules[i].condition} THEN {1 << i} ELSE 0 END" for i in positions]
    return "(" + (" + ".join(terms) if terms else "0") + ")"


def raise_first_violation(source: DuckDBSource, rules: Sequence[RowRule],
                          counts: Mapping[int, int]) -> None:
    """Raise for the first rule (in order) that some row breaks; ``counts`` maps bit masks of
    broken rules to numbers of rows (mask 0 = valid rows). Looks the offending row up."""
    broken = 0
    for mask, rows in counts.items():
        if mask and rows:
            broken |= int(mask)
    for i, rule in enumerate(rules):
        if broken >> i & 1:
            row, value = source.first_row(rule.condition, rule.value)
            raise ContractError(rule.message(row, value))


def check_codes(source: DuckDBSource, cols: ColumnSQL, column: str, found: Iterable[Any],
                table: Mapping[str, Any] | None, originals: Iterable[Any], hint: str) -> None:
    """Raise for the first code of ``column`` that ``table`` (keyed by :func:`normal_code`) lacks.

    ``found`` are the distinct texts of the column; ``originals`` the codes as the user wrote
    them (for the suggestion). ``table`` None accepts every code.
    """
    if table is None:
        return
    unknown = [v for v in found if v is not None and normal_code(v) not in table]
    if not unknown:
        return
    listed = ", ".join(sql_text(v) for v in unknown)
    text = cols.text(column)
    row, value = source.first_row(f"{text} IN ({listed})", text)
    shown = {normal_code(o): str(o) for o in originals}
    suggestion = closest(normal_code(value), list(shown))
    for key, original in shown.items():
        suggestion = suggestion.replace(f"'{key}'", f"'{original}'")
    raise ContractError(f"column '{cols.name(column)}' has the unknown code {str(value)!r} in "
                        f"{row_label(row)}{suggestion}; {hint}")


def split_codes(text: str, separator: str = SEPARATOR) -> list[str]:
    """The disease codes of one ``ocsd`` cell, trimmed (empty codes kept, to be refused).

    Examples
    --------
    >>> split_codes(" DM; hypertension ")
    ['DM', 'hypertension']
    """
    return [part.strip() for part in str(text).split(separator)]


def check_ocsd_texts(source: DuckDBSource, cols: ColumnSQL, texts: Iterable[str],
                     allowed: Iterable[str] | None, separator: str = SEPARATOR) -> None:
    """Refuse empty codes, other separators, codes not in ``allowed`` (None: any code) and codes
    listed twice; ``texts`` are the distinct non-empty texts of the ``ocsd`` column."""
    name = cols.name("ocsd")
    allowed_codes = None if allowed is None else {str(c).strip().lower(): str(c) for c in allowed}
    text_sql = cols.text("ocsd")

    def fail(text: str, message: Callable[[int], str]) -> None:
        row, _ = source.first_row(f"{text_sql} = {sql_text(text)}")
        raise ContractError(message(row))

    for text in sorted(texts):
        codes = split_codes(text, separator)
        if "" in codes:
            fail(text, lambda r, t=text: (
                f"column '{name}' has an empty disease code in {row_label(r)} ({t!r}); separate "
                f"codes with a single {separator!r} and no {separator!r} at the end"))
        for code in codes:
            other = next((s for s in _OTHER_SEPARATORS if s in code and s != separator), None)
            if other is not None:
                fail(text, lambda r, c=code, o=other: (
                    f"column '{name}' has {c!r} in {row_label(r)}; separate disease codes with "
                    f"{separator!r} (not {o!r}), or set ocsd_separator={o}"))
            if allowed_codes is not None and code.lower() not in allowed_codes:
                shown = list(allowed_codes.values())
                fail(text, lambda r, c=code, s=shown: (
                    f"column '{name}' has the disease code {c!r} in {row_label(r)}"
                    f"{closest(c, s)}, which the diseases file does not list; add it to the file "
                    "or correct the row"))
        lowered = [c.lower() for c in codes]
        if len(set(lowered)) < len(lowered):
            twice = next(c for c in codes if lowered.count(c.lower()) > 1)
            fail(text, lambda r, c=twice: (
                f"column '{name}' lists {c!r} more than once in {row_label(r)}; list each disease "
                "once"))


INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
                 "HUGEINT")
"""DuckDB types of integer person identifiers (the fast duplicate screen applies to them)."""

DENSE_KEYS_LIMIT = 1 << 28
"""Largest key space (persons' identifier range x years) screened with bitmaps: 2**28 bits."""


def _duplicates_in_dense_keys(source: DuckDBSource, cols: ColumnSQL) -> bool | None:
    """Whether a person appears twice in a year, by marking each identifier in one bitmap a year.

    Applies to integer identifiers in Parquet files and data frames (whose minimum and maximum
    cost nothing to find) whose range times the number of years is at most 16 times the rows (and
    :data:`DENSE_KEYS_LIMIT`): DuckDB's ``bitstring_agg`` sets one bit per identifier in each
    year, and a year has a duplicate when it has more rows than bits set. One read of the two
    columns, about twice as fast as hashing every pair. Returns None where it does not apply
    (text identifiers, sparse ranges, text files, which would be parsed twice), leaving the
    check to the hash aggregate.
    """
    if cols.type("person_id").upper() not in INTEGER_TYPES or source.kind not in ("parquet", "frame"):
        return None
    pid = cols.raw("person_id")
    year = (cols.raw("year") if cols.type("year").upper() in INTEGER_TYPES
            else f"CAST({cols.number('year')} AS BIGINT)")  # plain columns: minimum and maximum from metadata
    low, high, rows, first, last = source.query(
        f"SELECT min({pid}), max({pid}), count(*), min({year}), max({year}) FROM raw").fetchone()
    if rows == 0:
        return False
    width = int(high) - int(low) + 1
    if width * (int(last) - int(first) + 1) > min(16 * rows, DENSE_KEYS_LIMIT):
        return None
    return bool(source.query(
        f"SELECT bool_or(bit_count(bits) < n) FROM (SELECT bitstring_agg(CAST({pid} - {int(low)} AS "
        f"BIGINT), 0, {width - 1}) AS bits, count(*) AS n FROM raw GROUP BY {year})").fetchone()[0])


def check_duplicates(source: DuckDBSource, cols: ColumnSQL) -> None:
    """Refuse a person who appears twice in a year.

    Dense integer identifiers are screened with a bitmap (:func:`_duplicates_in_dense_keys`),
    others with one hash aggregate over the two key columns; only when a duplicate is found is
    the first one looked up, with its rows.
    """
    pid, year = cols.raw("person_id"), cols.number("year")
    found = _duplicates_in_dense_keys(source, cols)
    if found is None:
        found = source.query(f"SELECT count(*) - count(DISTINCT hash({pid}, {year})) FROM raw"
                             ).fetchone()[0]
    if not found:
        return
    duplicate = source.query(
        f"SELECT {pid}, {year}, min(__row), max(__row), count(*) FROM raw_numbered "
        f"GROUP BY {pid}, {year} HAVING count(*) > 1 ORDER BY min(__row) LIMIT 1").fetchone()
    if duplicate is None:  # two keys with the same hash: no duplicate after all
        return
    person, year_found, first, last, times = duplicate
    where = (f"{row_label(first)} and {row_label(last)}" if times == 2 else
             f"{times} times, first in {row_label(first)}, last in {row_label(last)}")
    raise ContractError(
        f"person {str(person)!r} appears more than once in year {int(year_found)} ({where}); "
        "keep one row per person and year")


@dataclass(frozen=True, eq=False)
class PersonYearData:
    """A person-year data set that satisfies the contract.

    Attributes
    ----------
    source
        ``"DataFrame"`` or the file path.
    rows
        Number of person-year rows.
    columns
        Contract name -> column name in the data (None for an optional column left out).
    counts
        Persons and total fund expenditure per scheme code and year (aggregates only).
    """

    source: str
    rows: int
    columns: dict[str, str | None]
    counts: pd.DataFrame

    @property
    def years(self) -> tuple[int, ...]:
        """Years present."""
        return tuple(sorted(int(y) for y in self.counts["year"].unique()))

    def table(self) -> pd.DataFrame:
        """Persons and fund expenditure (RMB) per scheme and year."""
        return self.counts.copy()


def validate_person_years(
    data: pd.DataFrame | str | os.PathLike,
    *,
    columns: Mapping[str, str | None] | None = None,
    years: Sequence[int] | None = None,
    diseases: Iterable[str] | None = None,
    scheme_codes: Mapping[str, str] | None = None,
    gender_codes: Mapping[str, int] = GENDER_CODES,
    separator: str = SEPARATOR,
    sheet: str | None = None,
    threads: int | None = None,
) -> PersonYearData:
    """Check person-year settlement records against the contract (:data:`CONTRACT`), alone.

    The capitation method runs the same checks inside its statistics pass
    (:func:`payreform.capitation.cell_statistics`); this function is for checking a file
    without analysing it. The data go through DuckDB, so a file of any size is checked without
    loading it; it is only read.

    Parameters
    ----------
    data
        A DataFrame, or the path of a CSV (UTF-8 or GBK), Excel or Parquet file.
    columns
        Contract name -> your column name, for columns named differently.
    years
        Years every scheme must have (None: no check).
    diseases
        The accepted disease codes (None: every code).
    scheme_codes
        Accepted scheme codes -> labels (None: every code).
    gender_codes
        Accepted gender codes.
    separator
        Separator of the disease codes.
    sheet
        Excel only: the sheet.
    threads
        DuckDB threads.

    Raises
    ------
    ContractError
        For the first rule the data break, naming the column, the row (header = row 1) and the fix.

    Examples
    --------
    >>> frame = pd.DataFrame({"person_id": [1, 2], "year": [2010, 2011], "scheme": ["A", "A"],
    ...     "gender": [1, 2], "age": [40, 41], "ocsd": ["", "D1;D2"],
    ...     "inpatient_prev_year": [0, 1], "los": [0, 6], "fund_exp": [120.5, 3000.0]})
    >>> validate_person_years(frame).rows
    2
    """
    with DuckDBSource(data, threads, sheet=sheet) as source:
        types = source.describe()
        cols = ColumnSQL(resolve_columns(list(types), columns), types)
        rules = row_rules(cols)
        text = {c: cols.text(c) for c in ("scheme", "gender", "ocsd")}
        summary = source.frame(
            f"SELECT {rule_mask_sql(rules)} AS bad, {text['scheme']} AS scheme, "
            f"CAST({cols.number('year')} AS BIGINT) AS year, {text['gender']} AS gender, "
            f"{text['ocsd']} AS ocsd, count(*) AS persons, "
            f"sum({cols.number('fund_exp')}) AS fund_exp FROM raw GROUP BY ALL")
        if summary.empty:
            raise ContractError("the data have no rows; export the person-year records again")
        raise_first_violation(source, rules, summary.groupby("bad")["persons"].sum().to_dict())
        if scheme_codes is not None:
            check_codes(source, cols, "scheme", summary["scheme"].unique(),
                        code_table(scheme_codes), scheme_codes,
                        "map every scheme code with schemes=CODE:LABEL,...")
        check_codes(source, cols, "gender", summary["gender"].unique(), code_table(gender_codes),
                    gender_codes, "use 1 (male) or 2 (female), or pass gender_codes")
        check_ocsd_texts(source, cols, summary["ocsd"].dropna().unique(), diseases, separator)
        check_duplicates(source, cols)
        counts = (summary.groupby(["scheme", "year"], as_index=False)[["persons", "fund_exp"]]
                  .sum().sort_values(["scheme", "year"]).reset_index(drop=True))
        rows = int(counts["persons"].sum())
    if years is not None:
        for scheme, part in counts.groupby("scheme"):
            present = set(part["year"])
            missing = [int(y) for y in years if int(y) not in present]
            if missing:
                have = ", ".join(str(y) for y in sorted(present))
                raise ContractError(
                    f"scheme {scheme} has no rows for year {missing[0]} (it has {have}); add that "
                    "year's records or set base_year and target_year to years you have")
    return PersonYearData(source.label, rows, dict(cols.mapping), counts)

