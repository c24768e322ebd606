"""Risk-adjusted outpatient capitation: factor screening, 1-D grouping, payment standards and
multi-year weighting, from person-year settlement records at city scale.

The method follows the GZ study (Sun, He, Liu, Du and Xu, "Risk-adjusted capitation payment for
outpatient services in China's healthcare insurance"), per insurance scheme (UEBHI, URRBHI) and
year:

1. **Factor screening** (:func:`screen_factors`): OLS of annual outpatient fund expenditure on
   gender, age (years, continuous), Class A OCSD status (any of the listed diseases), inpatient
   status in the previous year and length of stay, with HC1 and conventional p-values and each
   factor's contribution to R²; length of stay is dropped when it is not significant in some
   scheme-year (the paper: p = 0.917 in UEBHI).
2. **Age groups** (:func:`group_age_bands`): the published age bands (:data:`AGE_BANDS`) are
   grouped by exact 1-D k-means (:func:`kmeans_1d`, dynamic programming) of their standardised
   per-capita expenditure; the number of groups is the first peak of the Calinski-Harabasz
   index (:func:`first_peak`).
3. **Disease groups** (:func:`group_diseases`): single-disease patients' diseases are grouped the
   same way; patients with two diseases and with three or more form two further groups.
4. **Payment standards** (:func:`payment_standards`): OLS on gender x age group, OCSD group and
   inpatient status; a cell's standard is the intercept plus its coefficients.
5. **Multi-year weighting** (:func:`simulate_blending`): ``omega * S_2024 + (1 - omega) * S_2023``
   applied to the 2024 population; savings against actual expenditure.
6. **Beyond the paper**: predictive ratios (:func:`predictive_ratios`), in-sample and
   out-of-sample R² (:func:`fit_statistics`) and a check of the published groupings
   (:func:`compare_groupings`).

Scale. All regressors of the payment model are categorical, so per-cell counts, sums and sums
of squares give *exactly* the person-level OLS coefficients and HC1 standard errors; the
screening regression needs in addition, per cell, sums of powers of length of stay times 1, y
and y² (see :func:`cell_statistics`). The person-level table is never held in memory: DuckDB
aggregates a DataFrame, a CSV file or a Parquet file in one pass (plus one to find the decile
cut points of expenditure when predictive ratios by decile are wanted). Expenditures are summed in fen (0.01 RMB) as exact integers, so the
results do not depend on the order of summation and are identical for the same data read from a
DataFrame, a CSV file or a Parquet file.

Confidentiality. Nothing here returns person-level rows. Tables built from data suppress the
counts and means of cells with fewer than ``min_cell_size`` persons (default 10): those values
are empty, the column ``suppressed`` is True, and ``frame.attrs["suppressed_cells"]`` counts them.
"""

from __future__ import annotations

import codecs
import itertools
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from payreform.errors import ContractError, ParameterError, check_choice, closest
from payreform.periods import row_label

__all__ = [
    "AGE_BANDS",
    "COLUMNS",
    "DISEASES",
    "SCHEMES",
    "BlendingSimulation",
    "CapitationAnalysis",
    "CellStatistics",
    "Clustering1D",
    "FitStatistics",
    "Grouping",
    "GroupingComparison",
    "PaymentStandards",
    "PersonYearData",
    "PredictiveRatios",
    "ScreeningResult",
    "adjusted_rand_index",
    "age_band_of",
    "analyse_capitation",
    "calinski_harabasz",
    "cell_statistics",
    "compare_groupings",
    "first_peak",
    "fit_statistics",
    "group_age_bands",
    "group_diseases",
    "kmeans_1d",
    "payment_standards",
    "predictive_ratios",
    "screen_factors",
    "simulate_blending",
    "validate_person_years",
]

# ----------------------------------------------------------------------------- constants

SCHEMES = ("UEBHI", "URRBHI")
"""Insurance schemes: Urban Employee and Urban-Rural Resident Basic Healthcare Insurance."""

SCHEME_CODES: dict[str, str] = {
    "UEBHI": "UEBHI", "310": "UEBHI", "职工医保": "UEBHI", "职工基本医疗保险": "UEBHI",
    "URRBHI": "URRBHI", "390": "URRBHI", "居民医保": "URRBHI", "城乡居民基本医疗保险": "URRBHI",
}
"""Accepted codes of the ``scheme`` column (case-insensitive). 310 is the paper's code for
UEBHI (its Table 1); 390 is the national insurance-type code for resident insurance."""

GENDER_CODES: dict[str, int] = {"1": 1, "2": 2, "M": 1, "F": 2, "male": 1, "female": 2,
                                "男": 1, "女": 2}
"""Accepted codes of the ``gender`` column (case-insensitive): 1 = male, 2 = female (SPEC §12)."""

DISEASES = ("epilepsy", "SLE", "BA", "PD", "CRI-ND", "CHD", "RA", "UC", "CG", "SCD", "DM",
            "hypertension", "COPD", "OA", "hyperlipidemia", "CHF", "CD", "LC", "hypothyroidism",
            "psoriasis", "AS")
"""The 21 Class A OCSDs of the paper's risk adjustment, with the paper's abbreviations (section
3.1.1); codes in the ``ocsd`` column are matched case-insensitively."""

DISEASE_NAMES = {
    "epilepsy": "epilepsy", "SLE": "systemic lupus erythematosus", "BA": "bronchial asthma",
    "PD": "Parkinson's disease", "CRI-ND": "chronic renal insufficiency (non-dialysis)",
    "CHD": "coronary heart disease", "RA": "rheumatoid arthritis", "UC": "ulcerative colitis",
    "CG": "chronic glomerulonephritis", "SCD": "sequelae of cerebrovascular disease",
    "DM": "diabetes mellitus", "hypertension": "hypertension",
    "COPD": "chronic obstructive pulmonary disease", "OA": "osteoarthritis",
    "hyperlipidemia": "hyperlipidemia", "CHF": "chronic heart failure", "CD": "Crohn's disease",
    "LC": "liver cirrhosis", "hypothyroidism": "hypothyroidism", "psoriasis": "psoriasis",
    "AS": "ankylosing spondylitis",
}

AGE_BANDS = ("0-5", "6-10", "11-15", "16-25", "26-35", "36-45", "46-55", "56-60", "61-65",
             "66-70", "71-75", "76-80", "81-85", "86-90", "91-95", "96-100", "101+")
"""The paper's age bands (Figure 1, Tables 3 and 4); ages are whole years, ``101+`` is open."""

AGE_BAND_LOWER = (0, 6, 11, 16, 26, 36, 46, 56, 61, 66, 71, 76, 81, 86, 91, 96, 101)
"""First age of each band of :data:`AGE_BANDS`."""

COLUMNS = ("person_id", "year", "scheme", "gender", "age", "ocsd", "inpatient_prev_year", "los",
           "fund_exp")
"""The person-year contract: one row per insured person and year (see :func:`validate_person_years`)."""

YEARS = (2023, 2024)
"""Base and target year of the multi-year weighting (the paper's 2023 and 2024)."""

MAX_AGE = 120
MIN_CELL_SIZE = 10
"""Cells with fewer persons than this are suppressed in tables built from data."""

WEIGHTINGS = ("unweighted", "persons")
"""How items are weighted in the 1-D clustering: each band/disease counts once (``unweighted``),
or each person counts once (``persons``: frequency weights, a band's persons all sit at its
per-capita value). The paper does not say which it used."""

SCREENING_FACTORS = ("gender", "age", "ocsd", "inpatient", "los")
"""Screening regressors: gender (1 if female), age (years), any Class A OCSD (1/0), inpatient
in the previous year (1/0), length of stay (days)."""

ProgressCallback = Callable[[str, int, int], None]
"""``progress(step, done, total)``: called when a long step starts (``done < total``) and ends."""

_FEN = 100.0  # expenditures are summed in fen (0.01 RMB)
_MOMENTS = ("persons", "sum_y", "sum_y2", "sum_los", "sum_los2", "sum_los3", "sum_los4",
            "sum_y_los", "sum_y_los2", "sum_y_los3", "sum_y2_los", "sum_y2_los2")
_ATOM_KEYS = ("scheme", "year", "gender", "age", "n_diseases", "disease", "inpatient")


def age_band_of(age: Any) -> np.ndarray:
    """Index into :data:`AGE_BANDS` of each age (whole years; fractions are cut off).

    Examples
    --------
    >>> [AGE_BANDS[i] for i in age_band_of([0, 5, 6, 25.9, 26, 100, 101, 120])]
    ['0-5', '0-5', '6-10', '16-25', '26-35', '96-100', '101+', '101+']
    """
    years = np.floor(np.asarray(age, dtype=float))
    return np.searchsorted(np.asarray(AGE_BAND_LOWER, dtype=float), years, side="right") - 1


def _report(progress: ProgressCallback | None, step: str, done: int, total: int) -> None:
    if progress is not None:
        progress(step, done, total)


def _normal_code(value: Any) -> str:
    """Canonical text of a code: trimmed, lower case, ``2.0`` -> ``2``."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text.lower()
    if math.isfinite(number) and number.is_integer():
        return str(int(number))
    return text.lower()


def _code_table(codes: Mapping[str, Any]) -> dict[str, Any]:
    return {_normal_code(k): v for k, v in codes.items()}


def _suppress(frame: pd.DataFrame, count_column: str, value_columns: Sequence[str],
              min_cell_size: int) -> pd.DataFrame:
    """Blank ``count_column`` and ``value_columns`` where the count is below ``min_cell_size``."""
    frame = frame.copy()
    small = frame[count_column].to_numpy(dtype=float) < min_cell_size
    for column in [count_column, *value_columns]:
        if column in frame.columns:
            frame[column] = frame[column].astype(float).where(~small)
    frame["suppressed"] = small
    frame.attrs["min_cell_size"] = int(min_cell_size)
    frame.attrs["suppressed_cells"] = int(small.sum())
    return frame


def _check_min_cell_size(min_cell_size: int) -> int:
    if isinstance(min_cell_size, bool) or not isinstance(min_cell_size, (int, np.integer)) \
            or min_cell_size < 0:
        raise ParameterError(
            f"parameter 'min_cell_size' is {min_cell_size!r}; use a whole number >= 0 (10 is usual)")
    return int(min_cell_size)


# ----------------------------------------------------------------------------- reading data


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


class _Source:
    """A DuckDB connection with the data as view ``raw`` (and ``raw_numbered`` with ``__row``).

    CSV files are read with every cell as text (so that a bad value can be reported with its
    row); a CSV file that is not UTF-8 but GBK/GB18030 is transcoded once into a temporary
    UTF-8 copy (the input file is never modified).
    """

    def __init__(self, data: Any, threads: int | None = None):
        config = {} if threads is None else {"threads": int(threads)}
        self.con = duckdb.connect(config=config)
        self._tmpdir: str | None = None
        self._frame: pd.DataFrame | None = None
        if isinstance(data, pd.DataFrame):
            self.kind, self.label, self.path = "frame", "DataFrame", None
            # object columns (mixed numbers and text) are scanned as text, so that a stray
            # value is reported with its row instead of failing DuckDB's type guess
            mixed = [c for c in data.columns if data[c].dtype == object]
            self._frame = data.assign(**{
                str(c): data[c].where(data[c].isna(), data[c].astype(str)) for c in mixed
            }) if mixed else data
        elif isinstance(data, (str, os.PathLike)):
            path = Path(data)
            if not path.exists():
                raise ContractError(f"file '{path}' does not exist; check the path")
            if path.is_dir():
                raise ContractError(f"'{path}' is a folder; give the path of a CSV or Parquet file")
            suffix = path.suffix.lower()
            if suffix in (".parquet", ".pq"):
                self.kind = "parquet"
            elif suffix in (".csv", ".txt", ".tsv"):
                self.kind = "csv"
                if path.stat().st_size == 0:
                    raise ContractError(
                        f"file '{path.name}' is empty; export the person-year records again")
            elif suffix in (".xlsx", ".xls"):
                raise ContractError(
                    f"file '{path.name}' is an Excel workbook; save the sheet as 'CSV UTF-8' and "
                    "give that file")
            else:
                raise ContractError(
                    f"file '{path.name}' has the suffix '{suffix}'; give a .csv or .parquet file")
            self.label, self.path = str(path), path
        else:
            raise ContractError(
                "data must be a pandas DataFrame or the path of a CSV or Parquet file")
        self._create_views()

    def _create_views(self) -> None:
        con = self.con
        if self.kind == "frame":
            con.register("raw_input", self._frame)
            con.execute("CREATE OR REPLACE VIEW raw AS SELECT * FROM raw_input")
            con.execute("CREATE OR REPLACE VIEW raw_numbered AS "
                        "SELECT *, row_number() OVER () - 1 AS __row FROM raw_input")
        elif self.kind == "parquet":
            path = _sql_text(str(self.path))
            try:
                con.execute(f"CREATE OR REPLACE VIEW raw AS SELECT * FROM read_parquet({path})")
            except duckdb.Error as error:
                raise ContractError(
                    f"file '{self.path.name}' could not be read as Parquet "
                    f"({str(error).splitlines()[0]}); export it again") from None
            con.execute(
                "CREATE OR REPLACE VIEW raw_numbered AS SELECT * EXCLUDE (file_row_number), "
                f"file_row_number AS __row FROM read_parquet({path}, file_row_number = true)")
        else:
            path = _sql_text(str(self._csv_path()))
            reader = f"read_csv({path}, all_varchar = true, header = true)"
            try:
                con.execute(f"CREATE OR REPLACE VIEW raw AS SELECT * FROM {reader}")
            except duckdb.Error as error:
                if self._not_utf8(error):
                    self._transcode()
                    return self._create_views()
                raise ContractError(
                    f"file '{self.path.name}' could not be read as CSV "
                    f"({str(error).splitlines()[0]}); save it again as 'CSV UTF-8'") from None
            con.execute("CREATE OR REPLACE VIEW raw_numbered AS "
                        f"SELECT *, row_number() OVER () - 1 AS __row FROM {reader}")
        return None

    def _csv_path(self) -> Path:
        if self._tmpdir is not None:
            return Path(self._tmpdir) / "utf8.csv"
        return self.path

    @staticmethod
    def _not_utf8(error: Exception) -> bool:
        text = str(error).lower()
        return "utf-8" in text or "unicode" in text

    def _transcode(self) -> None:
        if self._tmpdir is not None:
            raise ContractError(
                f"file '{self.path.name}' is neither UTF-8 nor GBK text; save it again as "
                "'CSV UTF-8'")
        self._tmpdir = tempfile.mkdtemp(prefix="payreform_csv_")
        decoder = codecs.getincrementaldecoder("gb18030")()
        try:
            with open(self.path, "rb") as source, open(self._csv_path(), "w", encoding="utf-8",
                                                        newline="") as target:
                for block in iter(lambda: source.read(1 << 22), b""):
                    target.write(decoder.decode(block))
                target.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError:
            raise ContractError(
                f"file '{self.path.name}' is neither UTF-8 nor GBK text; save it again as "
                "'CSV UTF-8'") from None

    def query(self, sql: str) -> duckdb.DuckDBPyConnection:
        """Run ``sql``; the result is read with ``fetchone``, ``fetchall`` or ``df``."""
        try:
            return self.con.execute(sql)
        except duckdb.InvalidInputException as error:
            if self.kind == "csv" and self._not_utf8(error):
                self._transcode()
                self._create_views()
                return self.con.execute(sql)
            raise ContractError(
                f"the data could not be read ({str(error).splitlines()[0]}); check the file") \
                from None
        except (duckdb.ConversionException, duckdb.OutOfRangeException) as error:
            raise ContractError(
                f"a value could not be converted ({str(error).splitlines()[0]}); run "
                "validate_person_years on the data to find the row") from None

    def frame(self, sql: str) -> pd.DataFrame:
        """Run ``sql`` and return the (aggregated) result as a DataFrame."""
        return self.query(sql).df()

    def close(self) -> None:
        self.con.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> dict[str, str]:
        rows = self.query("DESCRIBE SELECT * FROM raw").fetchall()
        return {str(r[0]): str(r[1]).upper() for r in rows}


_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                  "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL")
_THOUSANDS_SQL = r"'^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$'"


def _number_sql(column: str, sql_type: str) -> str:
    """SQL of a column as DOUBLE (NULL if missing or not a number; thousands separators read)."""
    name = _ident(column)
    if sql_type.startswith(_NUMERIC_TYPES) or sql_type.startswith("DECIMAL"):
        return f"CAST({name} AS DOUBLE)"
    if sql_type == "BOOLEAN":
        return f"CAST(CAST({name} AS INTEGER) AS DOUBLE)"
    text = f"trim(CAST({name} AS VARCHAR))"
    return (f"coalesce(TRY_CAST({text} AS DOUBLE), CASE WHEN regexp_full_match({text}, "
            f"{_THOUSANDS_SQL}) THEN TRY_CAST(replace({text}, ',', '') AS DOUBLE) END)")


def _missing_sql(column: str, sql_type: str) -> str:
    name = _ident(column)
    if sql_type in ("FLOAT", "DOUBLE", "REAL"):
        return f"({name} IS NULL OR isnan({name}))"
    if sql_type.startswith(_NUMERIC_TYPES) or sql_type.startswith("DECIMAL") or sql_type == "BOOLEAN":
        return f"({name} IS NULL)"
    return f"({name} IS NULL OR trim(CAST({name} AS VARCHAR)) = '')"


def _text_sql(column: str, sql_type: str) -> str:
    name = _ident(column)
    if sql_type in ("FLOAT", "DOUBLE", "REAL"):
        return (f"CASE WHEN {name} = round({name}) THEN CAST(CAST({name} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST({name} AS VARCHAR) END")
    return f"trim(CAST({name} AS VARCHAR))"


def _resolve_columns(names: Sequence[str], columns: Mapping[str, str] | None) -> dict[str, str]:
    """Canonical name -> name in the data; raise ContractError for a missing column."""
    mapping = {c: c for c in COLUMNS}
    if columns:
        unknown = [k for k in columns if k not in COLUMNS]
        if unknown:
            raise ParameterError(
                f"parameter 'columns' has the key '{unknown[0]}'{closest(unknown[0], COLUMNS)}; "
                f"its keys are the contract's names: {', '.join(COLUMNS)}")
        mapping.update({k: str(v) for k, v in columns.items()})
    if len(set(names)) != len(names):
        duplicated = next(n for n in names if list(names).count(n) > 1)
        raise ContractError(
            f"column name '{duplicated}' appears twice; give each column its own name")
    for canonical, actual in mapping.items():
        if actual not in names:
            listed = ", ".join(map(str, list(names)[:12]))
            raise ContractError(
                f"column '{actual}' not found{closest(actual, names)}; the file has: {listed}; "
                f"rename the column or set {canonical}=<your column name>")
    return mapping


@dataclass(frozen=True)
class _Columns:
    """SQL expressions for the canonical columns of a source."""

    mapping: dict[str, str]
    types: dict[str, str]

    def raw(self, name: str) -> str:
        return _ident(self.mapping[name])

    def type(self, name: str) -> str:
        return self.types[self.mapping[name]]

    def number(self, name: str) -> str:
        return _number_sql(self.mapping[name], self.type(name))

    def missing(self, name: str) -> str:
        return _missing_sql(self.mapping[name], self.type(name))

    def text(self, name: str) -> str:
        return _text_sql(self.mapping[name], self.type(name))

    def ocsd(self) -> str:
        """The OCSD list as trimmed text, NULL when empty."""
        return f"NULLIF(trim(CAST({self.raw('ocsd')} AS VARCHAR)), '')"


def _columns_of(source: _Source, columns: Mapping[str, str] | None) -> _Columns:
    types = source.describe()
    mapping = _resolve_columns(list(types), columns)
    return _Columns(mapping, types)


# ----------------------------------------------------------------------------- data contract


@dataclass(frozen=True, eq=False)
class PersonYearData:
    """A person-year data set that satisfies the contract (see :func:`validate_person_years`).

    Attributes
    ----------
    source
        ``"DataFrame"`` or the file path.
    rows
        Number of person-year rows.
    columns
        Contract name -> column name in the data.
    years
        The base and target year of the weighting, or None if not checked.
    counts
        Persons and total fund expenditure per scheme and year (aggregates only).
    """

    source: str
    rows: int
    columns: dict[str, str]
    years: tuple[int, int] | None
    counts: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """Persons and fund expenditure (RMB) per scheme and year."""
        return self.counts.copy()


def _check_years(years: Sequence[int] | None) -> tuple[int, int] | None:
    if years is None:
        return None
    try:
        base, target = (int(y) for y in years)
    except (TypeError, ValueError):
        raise ParameterError(
            f"parameter 'years' is {years!r}; give the base and the target year, e.g. (2023, 2024)"
        ) from None
    if base == target or any(float(y) != int(y) for y in years):
        raise ParameterError(
            f"parameter 'years' is {years!r}; give two different whole years, e.g. (2023, 2024)")
    return base, target


def _check_diseases(diseases: Sequence[str]) -> tuple[str, ...]:
    codes = tuple(str(d).strip() for d in diseases)
    lowered = [c.lower() for c in codes]
    if not codes or any(not c for c in codes) or len(set(lowered)) != len(lowered):
        raise ParameterError(
            "parameter 'diseases' must list distinct, non-empty disease codes (default: DISEASES)")
    if any(";" in c for c in codes):
        raise ParameterError("parameter 'diseases' has a code containing ';', the separator")
    return codes


def _first_row(source: _Source, condition: str, value: str) -> tuple[int, Any]:
    row = source.query(
        f"SELECT __row, {value} FROM raw_numbered WHERE {condition} ORDER BY __row LIMIT 1"
    ).fetchone()
    return int(row[0]), row[1]


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else f"{value:g}" if isinstance(value, float) \
        else str(value)


def _map_codes(values: Iterable[Any], table: Mapping[str, Any]) -> tuple[dict[Any, Any], list[Any]]:
    mapped, unknown = {}, []
    for value in values:
        if value is None:
            continue
        key = _normal_code(value)
        if key in table:
            mapped[value] = table[key]
        else:
            unknown.append(value)
    return mapped, unknown


def validate_person_years(
    data: pd.DataFrame | str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    years: Sequence[int] | None = YEARS,
    diseases: Sequence[str] = DISEASES,
    scheme_codes: Mapping[str, str] = SCHEME_CODES,
    gender_codes: Mapping[str, int] = GENDER_CODES,
    progress: ProgressCallback | None = None,
    threads: int | None = None,
) -> PersonYearData:
    """Check person-year settlement records against the GZ capitation contract.

    Contract: one row per person and year with ``person_id``; ``year`` (whole number); ``scheme``
    (UEBHI/310 or URRBHI/390, see :data:`SCHEME_CODES`); ``gender`` (1 male, 2 female);
    ``age`` (years, 0 to 120); ``ocsd`` (Class A OCSD codes of :data:`DISEASES` separated by
    ``;``, empty for none); ``inpatient_prev_year`` (1 if hospitalised in the previous year,
    else 0); ``los`` (length of stay, whole days >= 0; may be empty when
    ``inpatient_prev_year`` is 0); ``fund_exp`` (annual outpatient fund expenditure, RMB, >= 0).
    Every scheme present must have rows for both ``years``. The data go through DuckDB, so a
    CSV or Parquet file of any size is checked without loading it; the file is only read.

    Parameters
    ----------
    data
        A DataFrame, or the path of a CSV (UTF-8 with or without BOM, or GBK) or Parquet file.
    columns
        Contract name -> your column name, for columns named differently.
    years
        Base and target year of the weighting (None: do not check).
    diseases, scheme_codes, gender_codes
        Accepted codes (defaults: the paper's).
    progress
        Optional ``progress(step, done, total)`` callback.
    threads
        DuckDB threads (default: all cores).

    Returns
    -------
    PersonYearData

    Raises
    ------
    ContractError
        For the first rule the data break, naming the column, the row (header = row 1) and the fix.

    Examples
    --------
    >>> frame = pd.DataFrame({"person_id": [1, 2], "year": [2023, 2024], "scheme": ["UEBHI"] * 2,
    ...     "gender": [1, 2], "age": [40, 41], "ocsd": ["", "DM;hypertension"],
    ...     "inpatient_prev_year": [0, 1], "los": [0, 6], "fund_exp": [120.5, 3000.0]})
    >>> validate_person_years(frame).rows
    2
    """
    years = _check_years(years)
    diseases = _check_diseases(diseases)
    schemes = _code_table(scheme_codes)
    genders = _code_table(gender_codes)
    with _Source(data, threads) as source:
        _report(progress, "validating", 0, 1)
        result = _validate(source, columns, years, diseases, schemes, genders)
        _report(progress, "validating", 1, 1)
    return result


def _validate(source: _Source, columns: Mapping[str, str] | None, years: tuple[int, int] | None,
              diseases: tuple[str, ...], schemes: dict[str, str],
              genders: dict[str, int]) -> PersonYearData:
    cols = _columns_of(source, columns)
    name = cols.mapping
    rows = source.query("SELECT count(*) FROM raw").fetchone()[0]
    if rows == 0:
        raise ContractError("the data have no rows; export the person-year records again")

    numbers = {c: cols.number(c) for c in ("year", "age", "inpatient_prev_year", "los", "fund_exp")}
    missing = {c: cols.missing(c) for c in COLUMNS if c != "ocsd"}
    rules: list[tuple[str, str, Callable[[int, Any], str]]] = []
    for column in ("person_id", "year", "scheme", "gender", "age", "inpatient_prev_year",
                   "fund_exp"):
        rules.append((f"missing {column}", missing[column], lambda r, v, c=column: (
            f"column '{name[c]}' is empty in {row_label(r)}; every row needs a value (fill it in "
            "or drop the row)")))
    for column, expr in numbers.items():
        rules.append((f"text {column}", f"NOT {missing[column]} AND {expr} IS NULL",
                      lambda r, v, c=column: (
                          f"column '{name[c]}' has the non-numeric value {str(v)!r} in "
                          f"{row_label(r)}; it must hold numbers only")))
        rules.append((f"infinite {column}", f"isinf({expr})", lambda r, v, c=column: (
            f"column '{name[c]}' has an infinite value in {row_label(r)}; give a finite number")))
    year, age, inpatient, los, fund = (numbers[c] for c in
                                       ("year", "age", "inpatient_prev_year", "los", "fund_exp"))
    rules += [
        ("year whole", f"{year} <> round({year})", lambda r, v: (
            f"column '{name['year']}' has {_show(v)} in {row_label(r)}; years must be whole "
            "numbers such as 2024")),
        ("age range", f"{age} < 0 OR {age} > {MAX_AGE}", lambda r, v: (
            f"column '{name['age']}' has {_show(v)} in {row_label(r)}, outside 0-{MAX_AGE}; "
            "give the age in years or drop the row")),
        ("inpatient code", f"{inpatient} NOT IN (0, 1)", lambda r, v: (
            f"column '{name['inpatient_prev_year']}' has {_show(v)} in {row_label(r)}; use 1 "
            "(hospitalised in the previous year) or 0")),
        ("los missing", f"{missing['los']} AND {inpatient} = 1", lambda r, v: (
            f"column '{name['los']}' is empty in {row_label(r)} although "
            f"'{name['inpatient_prev_year']}' is 1; give the length of stay in days")),
        ("los value", f"{los} < 0 OR {los} <> round({los})", lambda r, v: (
            f"column '{name['los']}' has {_show(v)} in {row_label(r)}; the length of stay must "
            "be whole days, 0 or more")),
        ("negative expenditure", f"{fund} < 0", lambda r, v: (
            f"column '{name['fund_exp']}' has {_show(v)} in {row_label(r)}, below 0; "
            "expenditures cannot be negative")),
    ]
    value_of = {**{f"missing {c}": "NULL" for c in missing},
                **{f"text {c}": cols.raw(c) for c in numbers},
                **{f"infinite {c}": numbers[c] for c in numbers},
                "year whole": year, "age range": age, "inpatient code": inpatient,
                "los missing": "NULL", "los value": los, "negative expenditure": fund}
    counts = source.query("SELECT " + ", ".join(
        f"count(*) FILTER (WHERE {condition}) AS {_ident(label)}"
        for label, condition, _ in rules) + " FROM raw").fetchone()
    for (label, condition, message), count in zip(rules, counts, strict=True):
        if count:
            row, value = _first_row(source, condition, value_of[label])
            raise ContractError(message(row, value))

    for column, table, hint in (
        ("scheme", schemes, "use UEBHI (or 310) or URRBHI (or 390), or pass scheme_codes"),
        ("gender", genders, "use 1 (male) or 2 (female), or pass gender_codes"),
    ):
        originals = {_normal_code(k): k for k in (SCHEME_CODES if column == "scheme"
                                                  else GENDER_CODES)}
        text = cols.text(column)
        values = [r[0] for r in source.query(f"SELECT DISTINCT {text} FROM raw").fetchall()]
        _, unknown = _map_codes(values, table)
        if unknown:
            listed = ", ".join(_sql_text(str(v)) for v in unknown)
            row, value = _first_row(source, f"{text} IN ({listed})", text)
            suggestion = closest(_normal_code(value), table)
            for key, original in originals.items():
                suggestion = suggestion.replace(f"'{key}'", f"'{original}'")
            raise ContractError(
                f"column '{name[column]}' has the unknown code {str(value)!r} in {row_label(row)}"
                f"{suggestion}; {hint}")

    _validate_ocsd(source, cols, diseases)

    pid, year_value = cols.raw("person_id"), numbers["year"]
    duplicates = source.query(
        f"SELECT count(*) FROM (SELECT 1 FROM raw GROUP BY {pid}, {year_value} "
        "HAVING count(*) > 1)").fetchone()[0]
    if duplicates:
        person, year_found, first, last, times = source.query(
            f"SELECT {pid}, {year_value}, min(__row), max(__row), count(*) FROM raw_numbered "
            f"GROUP BY {pid}, {year_value} HAVING count(*) > 1 ORDER BY min(__row) LIMIT 1"
        ).fetchone()
        where = (f"{row_label(first)} and {row_label(last)}" if times == 2 else
                 f"{times} times, first in {row_label(first)}, last in {row_label(last)}")
        raise ContractError(
            f"person {str(person)!r} appears more than once in year {int(year_found)} ({where}); "
            "keep one row per person and year")

    summary = source.frame(
        f"SELECT {cols.text('scheme')} AS scheme_code, CAST({year} AS INTEGER) AS year, "
        f"count(*) AS persons, sum(CAST(round({fund} * 100) AS BIGINT))::DOUBLE / 100 AS fund_exp "
        "FROM raw GROUP BY ALL")
    mapped, _ = _map_codes(summary["scheme_code"].unique(), schemes)
    summary["scheme"] = summary["scheme_code"].map(mapped)
    summary = (summary.groupby(["scheme", "year"], as_index=False)[["persons", "fund_exp"]].sum()
               .sort_values(["scheme", "year"]).reset_index(drop=True))
    if years is not None:
        for scheme in summary["scheme"].unique():
            present = set(summary.loc[summary["scheme"] == scheme, "year"])
            for wanted in years:
                if wanted not in present:
                    have = ", ".join(str(y) for y in sorted(present))
                    raise ContractError(
                        f"scheme {scheme} has no rows for year {wanted} (it has {have}); the "
                        f"multi-year weighting needs {years[0]} and {years[1]}: add that year's "
                        "records or set years to the two years you have")
    return PersonYearData(source.label, int(rows), dict(name), years, summary)


def _validate_ocsd(source: _Source, cols: _Columns, diseases: tuple[str, ...]) -> None:
    name = cols.mapping["ocsd"]
    ocsd = cols.ocsd()
    parts = f"list_transform(string_split({ocsd}, ';'), lambda x: lower(trim(x)))"
    found = [r[0] for r in source.query(
        f"SELECT DISTINCT unnest({parts}) FROM raw WHERE {ocsd} IS NOT NULL").fetchall()]
    allowed = {d.lower(): d for d in diseases}
    unknown = [code for code in found if code not in allowed]
    if unknown:
        listed = "[" + ", ".join(_sql_text(c) for c in unknown) + "]"
        row, value = _first_row(source, f"list_has_any({parts}, {listed})", ocsd)
        codes = [c.strip() for c in str(value).split(";")]
        if "" in codes:
            raise ContractError(
                f"column '{name}' has an empty disease code in {row_label(row)} ({str(value)!r}); "
                "separate codes with a single ';' and no ';' at the end")
        bad = next(c for c in codes if c.lower() not in allowed)
        separator = next((s for s in (",", "，", "；", "、", "|", "/") if s in bad), None)
        if separator is not None:
            raise ContractError(
                f"column '{name}' has {bad!r} in {row_label(row)}; separate disease codes with "
                f"';' (not {separator!r})")
        raise ContractError(
            f"column '{name}' has the unknown disease code {bad!r} in {row_label(row)}"
            f"{closest(bad, diseases)}; use the Class A OCSD codes ({', '.join(diseases[:4])}, "
            "... see payreform.capitation.DISEASES) separated by ';', or pass diseases")
    repeated = f"{ocsd} IS NOT NULL AND len(list_distinct({parts})) < len({parts})"
    if source.query(f"SELECT count(*) FROM raw WHERE {repeated}").fetchone()[0]:
        row, value = _first_row(source, repeated, ocsd)
        codes = [c.strip().lower() for c in str(value).split(";")]
        twice = next(c for c in codes if codes.count(c) > 1)
        raise ContractError(
            f"column '{name}' lists {allowed.get(twice, twice)!r} more than once in "
            f"{row_label(row)}; list each disease once")


# ----------------------------------------------------------------------------- cell statistics


def _typed_sql(cols: _Columns, years: Sequence[int] | None) -> str:
    """Person rows reduced to the model's variables (expenditure in whole fen)."""
    year = f"CAST({cols.number('year')} AS INTEGER)"
    where = f" WHERE {year} IN ({', '.join(str(int(y)) for y in years)})" if years else ""
    ocsd = cols.raw("ocsd")
    return (
        f"SELECT {cols.raw('scheme')} AS scheme_code, {year} AS year, "
        f"{cols.raw('gender')} AS gender_code, {cols.number('age')} AS age, "
        f"CASE WHEN {ocsd} IS NULL OR CAST({ocsd} AS VARCHAR) = '' THEN 0 "
        f"WHEN strpos(CAST({ocsd} AS VARCHAR), ';') = 0 THEN 1 ELSE least(3, 1 + "
        f"length(CAST({ocsd} AS VARCHAR)) - length(replace(CAST({ocsd} AS VARCHAR), ';', ''))) "
        "END AS n_diseases, "
        f"CASE WHEN strpos(CAST({ocsd} AS VARCHAR), ';') = 0 THEN CAST({ocsd} AS VARCHAR) "
        "ELSE '' END AS disease_code, "
        f"CAST({cols.number('inpatient_prev_year')} AS INTEGER) AS inpatient, "
        f"CAST(coalesce({cols.number('los')}, 0) AS BIGINT) AS l, "
        f"CAST(round({cols.number('fund_exp')} * 100) AS BIGINT) AS c "
        f"FROM raw{where}"
    )


_MOMENT_SQL = {
    # over the inner aggregate (n, sy = sum of fen, syy = sum of fen², l = length of stay)
    "persons": "sum(n)",
    "sum_y": "sum(sy)",
    "sum_y2": "sum(syy)",
    "sum_los": "sum(l * n)",
    "sum_los2": "sum(l * l * n)",
    "sum_los3": "sum(l * l * l * n)",
    "sum_los4": "sum(CAST(l AS HUGEINT) * l * l * l * n)",
    "sum_y_los": "sum(l * sy)",
    "sum_y_los2": "sum(l * l * sy)",
    "sum_y_los3": "sum(l * l * l * sy)",
    "sum_y2_los": "sum(l * syy)",
    "sum_y2_los2": "sum(l * l * syy)",
}
_MOMENT_SCALE = {"sum_y": _FEN, "sum_y2": _FEN**2, "sum_y_los": _FEN, "sum_y_los2": _FEN,
                 "sum_y_los3": _FEN, "sum_y2_los": _FEN**2, "sum_y2_los2": _FEN**2}


def _aggregate(source: _Source, cols: _Columns, *, years: Sequence[int] | None = None,
               moments: Sequence[str] = _MOMENTS, extra: str | None = None,
               both: bool = False) -> pd.DataFrame:
    """One pass over the data: exact integer moments per atom (scheme, year, gender, age,
    diseases, inpatient), optionally split by the ``extra`` expression (``both``: atoms and
    split in the same pass; ``atom_level`` is 1 for the atoms, 0 for the split).

    Rows are first counted per atom and length of stay (count, sum and sum of squares of the
    expenditure in fen, as exact integers); the powers of length of stay are then summed over
    that small table, so the pass costs about as much as counting cells.
    """
    plain = "scheme_code, year, gender_code, age, n_diseases, disease_code, inpatient"
    inner_keys = f"{plain}, l" + ("" if extra is None else f", {extra} AS extra")
    inner = (f"SELECT {inner_keys}, count(*) AS n, sum(c) AS sy, "
             f"sum(CAST(c AS HUGEINT) * c) AS syy FROM ({_typed_sql(cols, years)}) GROUP BY ALL")
    aggregates = ", ".join(f"CAST({_MOMENT_SQL[m]} AS DOUBLE) AS {m}" for m in moments)
    if extra is None:
        sql = f"SELECT {plain}, {aggregates} FROM ({inner}) GROUP BY {plain}"
    elif both:
        sql = (f"SELECT {plain}, extra, GROUPING(extra) AS atom_level, {aggregates} FROM "
               f"({inner}) GROUP BY GROUPING SETS (({plain}), ({plain}, extra))")
    else:
        sql = f"SELECT {plain}, extra, {aggregates} FROM ({inner}) GROUP BY {plain}, extra"
    return source.frame(sql)


def _canonical_atoms(raw: pd.DataFrame, schemes: dict[str, str], genders: dict[str, int],
                     diseases: tuple[str, ...], moments: Sequence[str],
                     extra: bool = False) -> pd.DataFrame:
    """Map raw codes to canonical ones, merge duplicates, sort (so every source gives the same)."""
    frame = raw.copy()
    scheme_map, bad_schemes = _map_codes(frame["scheme_code"].unique(), schemes)
    gender_map, bad_genders = _map_codes(frame["gender_code"].unique(), genders)
    for column, bad in (("scheme", bad_schemes), ("gender", bad_genders)):
        if bad or frame[f"{column}_code"].isna().any():
            shown = bad[0] if bad else None
            raise ContractError(
                f"column '{column}' has the unknown or empty code {shown!r}; run "
                "validate_person_years on the data to find the row")
    frame["scheme"] = frame["scheme_code"].map(scheme_map)
    frame["gender"] = frame["gender_code"].map(gender_map).astype(int)
    allowed = {d.lower(): d for d in diseases}
    text = frame["disease_code"].fillna("").astype(str).str.strip().str.lower()
    single = frame["n_diseases"].to_numpy() == 1
    blank = single & (text == "").to_numpy()
    frame.loc[blank, "n_diseases"] = 0
    codes = text.map(lambda c: allowed.get(c, "?" if c else ""))
    codes = codes.where(frame["n_diseases"] == 1, "")
    if (codes == "?").any():
        bad = text[codes == "?"].iloc[0]
        raise ContractError(
            f"column 'ocsd' has the unknown disease code {bad!r}; run validate_person_years on "
            "the data to find the row")
    frame["disease"] = codes
    if frame["year"].isna().any() or frame["age"].isna().any() or frame["inpatient"].isna().any():
        raise ContractError(
            "the data have missing or non-numeric years, ages or inpatient codes; run "
            "validate_person_years on the data to find the row")
    keys = list(_ATOM_KEYS) + (["extra"] if extra else [])
    frame["year"] = frame["year"].astype(int)
    frame["n_diseases"] = frame["n_diseases"].astype(int)
    frame["inpatient"] = frame["inpatient"].astype(int)
    frame = frame[keys + list(moments)].groupby(keys, as_index=False, sort=True).sum()
    for moment in moments:
        if moment in _MOMENT_SCALE:
            frame[moment] = frame[moment] / _MOMENT_SCALE[moment]
    frame["persons"] = frame["persons"].astype(np.int64)
    frame.insert(4, "age_band", np.asarray(AGE_BANDS, dtype=object)[age_band_of(frame["age"])])
    return frame.reset_index(drop=True)


def _schemes_in(frame: pd.DataFrame) -> tuple[str, ...]:
    present = set(pd.unique(frame["scheme"]))
    return tuple(s for s in SCHEMES if s in present)


def _years_in(frame: pd.DataFrame) -> tuple[int, ...]:
    return tuple(sorted(int(y) for y in frame["year"].unique()))


@dataclass(frozen=True, eq=False)
class CellStatistics:
    """Exact sufficient statistics of the person-year data, one row per *atom*.

    An atom is a (scheme, year, gender, age, number of diseases, single disease, inpatient)
    combination. Per atom: ``persons``, ``sum_y`` and ``sum_y2`` (fund expenditure, RMB, and its
    square), ``sum_los`` .. ``sum_los4`` (powers of length of stay), ``sum_y_los`` ..
    ``sum_y_los3`` and ``sum_y2_los``, ``sum_y2_los2``. ``n_diseases`` is 0, 1, 2 or 3 (three or
    more); ``disease`` names the disease of single-disease atoms (empty otherwise). Every step of
    the method works from these; the person-level rows are not kept.

    Attributes
    ----------
    atoms
        The statistics (aggregates; small cells are *not* suppressed here, use :meth:`table`).
    source
        ``"DataFrame"`` or the file path.
    diseases
        The disease codes accepted.
    validation
        The contract check, if it was run.
    deciles, decile_year, cutpoints
        With ``deciles=True``: persons, expenditure and length of stay per atom and decile of
        fund expenditure (within scheme) in ``decile_year``, and the decile cut points (RMB).
    """

    atoms: pd.DataFrame
    source: str
    diseases: tuple[str, ...]
    validation: PersonYearData | None = None
    deciles: pd.DataFrame | None = field(default=None, repr=False)
    decile_year: int | None = None
    cutpoints: dict[str, list[float]] | None = None
    data: Any = field(default=None, repr=False)
    columns: dict[str, str] | None = field(default=None, repr=False)
    scheme_codes: dict[str, str] = field(default_factory=dict, repr=False)
    gender_codes: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def schemes(self) -> tuple[str, ...]:
        """Schemes present, in :data:`SCHEMES` order."""
        return _schemes_in(self.atoms)

    @property
    def years(self) -> tuple[int, ...]:
        """Years present."""
        return _years_in(self.atoms)

    def table(self, min_cell_size: int = MIN_CELL_SIZE) -> pd.DataFrame:
        """Persons and per-capita expenditure by scheme, year, gender, age band, number of
        diseases and inpatient status (cells under ``min_cell_size`` persons suppressed)."""
        min_cell_size = _check_min_cell_size(min_cell_size)
        keys = ["scheme", "year", "gender", "age_band", "n_diseases", "inpatient"]
        frame = self.atoms.groupby(keys, as_index=False, sort=False)[["persons", "sum_y"]].sum()
        frame["age_band"] = pd.Categorical(frame["age_band"], AGE_BANDS, ordered=True)
        frame = frame.sort_values(keys).reset_index(drop=True)
        frame["age_band"] = frame["age_band"].astype(str)
        frame["per_capita"] = frame["sum_y"] / frame["persons"]
        frame = frame.rename(columns={"sum_y": "fund_exp"})
        return _suppress(frame, "persons", ["fund_exp", "per_capita"], min_cell_size)

    def subset(self, scheme: str | None = None, year: int | None = None) -> pd.DataFrame:
        """Atoms of one scheme and/or year."""
        mask = np.ones(len(self.atoms), dtype=bool)
        if scheme is not None:
            mask &= (self.atoms["scheme"] == scheme).to_numpy()
        if year is not None:
            mask &= (self.atoms["year"] == int(year)).to_numpy()
        return self.atoms.loc[mask]


def cell_statistics(
    data: pd.DataFrame | str | os.PathLike | CellStatistics,
    *,
    columns: Mapping[str, str] | None = None,
    years: Sequence[int] | None = YEARS,
    validate: bool = True,
    deciles: bool = False,
    diseases: Sequence[str] = DISEASES,
    scheme_codes: Mapping[str, str] = SCHEME_CODES,
    gender_codes: Mapping[str, int] = GENDER_CODES,
    progress: ProgressCallback | None = None,
    threads: int | None = None,
) -> CellStatistics:
    """Aggregate person-year records into exact cell statistics in one DuckDB pass.

    Parameters
    ----------
    data
        A DataFrame or the path of a CSV or Parquet file (read out of core), or a
        :class:`CellStatistics` (returned unchanged).
    columns
        Contract name -> your column name.
    years
        The base and target year of the weighting. Only they are aggregated; with ``validate``
        both must be present for every scheme. None aggregates every year.
    validate
        Check the data contract first (:func:`validate_person_years`); switch off only for data
        already checked.
    deciles
        Also split the last year's atoms by decile of fund expenditure within scheme (for
        :func:`predictive_ratios`): one more pass for the cut points, the split itself comes
        with the main pass.
    diseases, scheme_codes, gender_codes
        Accepted codes.
    progress
        Optional ``progress(step, done, total)`` callback.
    threads
        DuckDB threads (default: all cores).

    Returns
    -------
    CellStatistics

    Examples
    --------
    >>> frame = pd.DataFrame({"person_id": [1, 2, 3], "year": [2023, 2024, 2024],
    ...     "scheme": ["UEBHI"] * 3, "gender": [1, 2, 2], "age": [40, 41, 41],
    ...     "ocsd": ["", "DM", "DM"], "inpatient_prev_year": [0, 0, 0], "los": [0, 0, 0],
    ...     "fund_exp": [100.0, 200.0, 400.0]})
    >>> cells = cell_statistics(frame)
    >>> cells.atoms[["year", "disease", "persons", "sum_y"]].to_dict("records")[1]
    {'year': 2024, 'disease': 'DM', 'persons': 2, 'sum_y': 600.0}
    """
    if isinstance(data, CellStatistics):
        return data
    years = _check_years(years)
    diseases = _check_diseases(diseases)
    schemes = _code_table(scheme_codes)
    genders = _code_table(gender_codes)
    with _Source(data, threads) as source:
        validation = None
        steps = 2 if validate else 1
        if validate:
            _report(progress, "validating the data contract", 0, steps)
            validation = _validate(source, columns, years, diseases, schemes, genders)
        cols = _columns_of(source, columns)
        _report(progress, "aggregating cell statistics", steps - 1, steps)
        decile_year = cutpoints = bucket = None
        if deciles:
            decile_year = int(years[-1]) if years else int(source.query(
                f"SELECT max({cols.number('year')}) FROM raw").fetchone()[0])
            bucket, cutpoints = _decile_bucket(source, cols, decile_year, schemes)
        raw = _aggregate(source, cols, years=years, extra=bucket, both=True)
        _report(progress, "aggregating cell statistics", steps, steps)
    if raw.empty:
        raise ContractError(
            "the data have no rows for the years analysed; check the year column and years")
    decile_atoms = None
    if deciles:
        level = raw["atom_level"].to_numpy() == 1
        split = raw.loc[~level & (raw["extra"] > 0).to_numpy()].drop(columns="atom_level")
        decile_atoms = _canonical_atoms(split, schemes, genders, diseases,
                                        ("persons", "sum_y", "sum_los"), extra=True)
        decile_atoms = decile_atoms.rename(columns={"extra": "decile"})
        raw = raw.loc[level].drop(columns=["atom_level", "extra"])
    atoms = _canonical_atoms(raw, schemes, genders, diseases, _MOMENTS)
    return CellStatistics(atoms, source.label, diseases, validation, decile_atoms, decile_year,
                          cutpoints, data, dict(cols.mapping), schemes, genders)


def _cells_of(data: Any, **options: Any) -> CellStatistics:
    if isinstance(data, CellStatistics):
        return data
    return cell_statistics(data, **options)


# ----------------------------------------------------------------------------- OLS from moments



@dataclass(frozen=True, eq=False)
class _Fit:
    """OLS fitted from sufficient statistics."""

    terms: tuple[str, ...]
    params: np.ndarray
    cov_hc1: np.ndarray
    cov_conventional: np.ndarray
    n_obs: int
    rss: float
    tss: float
    gram: np.ndarray  # X'X
    xty: np.ndarray
    yty: float
    sum_y: float

    @property
    def df_resid(self) -> int:
        return self.n_obs - len(self.terms)

    @property
    def r_squared(self) -> float:
        return 1.0 - self.rss / self.tss if self.tss > 0 else float("nan")

    def rows(self, cov_type: str = "HC1", alpha: float = 0.05) -> pd.DataFrame:
        cov = self.cov_hc1 if cov_type == "HC1" else self.cov_conventional
        se = np.sqrt(np.maximum(np.diag(cov), 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            statistic = self.params / se
        df = max(self.df_resid, 1)
        p_value = 2 * stats.t.sf(np.abs(statistic), df)
        q = stats.t.ppf(1 - alpha / 2, df)
        return pd.DataFrame({"term": self.terms, "estimate": self.params, "std_error": se,
                             "statistic": statistic, "p_value": p_value,
                             "ci_low": self.params - q * se, "ci_high": self.params + q * se})


def _solve(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve the normal equations ``gram @ x = rhs``: columns equilibrated, then one step of
    iterative refinement with the residual in extended precision."""
    scale = np.sqrt(np.diag(gram)).copy()
    scale[scale == 0] = 1.0
    scaled = gram / np.outer(scale, scale)
    solution = np.linalg.solve(scaled, rhs / scale) / scale
    residual = rhs.astype(np.longdouble) - gram.astype(np.longdouble) @ solution.astype(np.longdouble)
    correction = np.linalg.solve(scaled, np.asarray(residual, dtype=float) / scale) / scale
    return solution + correction


def _ols_moments(design: np.ndarray, m: Mapping[str, np.ndarray], terms: Sequence[str],
                 include_los: bool) -> _Fit:
    """OLS of y on ``[design, los]`` (los only if ``include_los``) from per-atom moments.

    ``design`` holds the regressors that are constant within an atom (one row per atom); length
    of stay varies within atoms and enters through its moments. HC1 meat: per atom
    ``sum_i x_i x_i' u_i^2`` with ``u_i = y_i - a - b * los_i`` expanded into the moments.
    """
    n = m["persons"].astype(float)
    z = np.asarray(design, dtype=float)
    gram_zz = z.T @ (z * n[:, None])
    xty_z = z.T @ m["sum_y"]
    if include_los:
        gram = np.block([[gram_zz, (z.T @ m["sum_los"])[:, None]],
                         [(z.T @ m["sum_los"])[None, :], np.array([[m["sum_los2"].sum()]])]])
        xty = np.r_[xty_z, m["sum_y_los"].sum()]
    else:
        gram, xty = gram_zz, xty_z
    params = _solve(gram, xty)
    a = z @ params[: z.shape[1]]
    b = params[-1] if include_los else 0.0
    # sum over the atom's persons of los^k * u^2, k = 0, 1, 2
    u0 = m["sum_y2"] - 2 * a * m["sum_y"] + a * a * n
    if include_los:
        u0 = u0 - 2 * b * m["sum_y_los"] + 2 * a * b * m["sum_los"] + b * b * m["sum_los2"]
        u1 = (m["sum_y2_los"] - 2 * a * m["sum_y_los"] - 2 * b * m["sum_y_los2"]
              + a * a * m["sum_los"] + 2 * a * b * m["sum_los2"] + b * b * m["sum_los3"])
        u2 = (m["sum_y2_los2"] - 2 * a * m["sum_y_los2"] - 2 * b * m["sum_y_los3"]
              + a * a * m["sum_los2"] + 2 * a * b * m["sum_los3"] + b * b * m["sum_los4"])
        meat = np.block([[z.T @ (z * u0[:, None]), (z.T @ u1)[:, None]],
                         [(z.T @ u1)[None, :], np.array([[u2.sum()]])]])
    else:
        meat = z.T @ (z * u0[:, None])
    n_obs = int(n.sum())
    k = len(params)
    bread = np.linalg.inv(gram)
    bread = (bread + bread.T) / 2
    rss = float(u0.sum())
    yty = float(m["sum_y2"].sum())
    sum_y = float(m["sum_y"].sum())
    tss = yty - sum_y * sum_y / n_obs
    cov_hc1 = bread @ meat @ bread * (n_obs / max(n_obs - k, 1))
    cov_conventional = bread * (rss / max(n_obs - k, 1))
    return _Fit(tuple(terms), params, cov_hc1, cov_conventional, n_obs, rss, tss, gram, xty, yty,
                sum_y)


def _subset_r_squared(fit: _Fit, keep: Sequence[int]) -> float:
    """R² of the regression on the intercept (column 0) and the columns ``keep``."""
    columns = [0, *sorted(keep)]
    gram = fit.gram[np.ix_(columns, columns)]
    xty = fit.xty[columns]
    params = _solve(gram, xty)
    rss = fit.yty - float(params @ xty)
    return 1.0 - rss / fit.tss


# ----------------------------------------------------------------------------- factor screening


@dataclass(frozen=True, eq=False)
class ScreeningResult:
    """Factor screening regressions, one per scheme and year (see :func:`screen_factors`).

    Attributes
    ----------
    coefficients
        One row per scheme, year and term: estimate, HC1 standard error, t statistic, p-value
        and interval (``cov_type``), and the conventional standard error and p-value.
    contributions
        One row per scheme, year and factor: ``r2_drop_one`` (R² lost when the factor alone is
        left out) and ``r2_shapley`` (the factor's Shapley value of R², i.e. the LMG measure:
        its R² gain averaged over all orders of entry; the values add up to the model's R²).
    fit
        One row per scheme and year: persons, R², adjusted R².
    drop_los
        True if length of stay is dropped: its p-value exceeds ``alpha`` in some scheme-year.
    los_reason
        Which scheme-year decided, in words.
    """

    coefficients: pd.DataFrame
    contributions: pd.DataFrame
    fit: pd.DataFrame
    drop_los: bool
    los_reason: str
    alpha: float
    cov_type: str

    @property
    def kept_factors(self) -> tuple[str, ...]:
        """The factors kept for the payment model."""
        return tuple(f for f in SCREENING_FACTORS if not (f == "los" and self.drop_los))

    def table(self) -> pd.DataFrame:
        """Tidy: one row per scheme, year and term, with the R² contributions of each factor."""
        table = self.coefficients.merge(
            self.contributions.rename(columns={"factor": "term"}),
            on=["scheme", "year", "term"], how="left")
        return table.reset_index(drop=True)


def screen_factors(
    data: Any,
    *,
    alpha: float = 0.05,
    cov_type: str = "HC1",
    **read_options: Any,
) -> ScreeningResult:
    """Multiple linear regression of fund expenditure on the candidate risk factors.

    Per scheme and year: ``fund_exp ~ gender + age + ocsd + inpatient + los`` with gender = 1 for
    women, age in years, ocsd = 1 with any Class A OCSD, inpatient = 1 if hospitalised in the
    previous year, los in days. Computed exactly from :class:`CellStatistics`. Length of stay
    is dropped everywhere when its p-value exceeds ``alpha`` in at least one scheme-year (the
    paper: a region uses one set of factors; LOS had p = 0.917 in UEBHI).

    Parameters
    ----------
    data
        :class:`CellStatistics`, or data for :func:`cell_statistics`.
    alpha
        Significance level of the LOS rule and of the intervals.
    cov_type
        ``"HC1"`` (heteroskedasticity-robust, default) or ``"conventional"`` p-values for the rule.
    **read_options
        Passed to :func:`cell_statistics` when ``data`` is not already aggregated.

    Examples
    --------
    >>> screening = screen_factors(cells)  # doctest: +SKIP
    >>> screening.drop_los  # doctest: +SKIP
    True
    """
    check_choice("cov_type", cov_type, ["HC1", "conventional"])
    if not 0 < alpha < 1:
        raise ParameterError(f"parameter 'alpha' is {alpha!r}; use a number between 0 and 1")
    cells = _cells_of(data, **read_options)
    terms = ("intercept", *SCREENING_FACTORS)
    coefficient_rows, contribution_rows, fit_rows = [], [], []
    los_p = {}
    for scheme in cells.schemes:
        for year in cells.years:
            atoms = cells.subset(scheme, year)
            if atoms.empty:
                continue
            design = np.column_stack([
                np.ones(len(atoms)), (atoms["gender"] == 2).to_numpy(float),
                atoms["age"].to_numpy(float), (atoms["n_diseases"] > 0).to_numpy(float),
                atoms["inpatient"].to_numpy(float)])
            moments = {m: atoms[m].to_numpy(float) for m in _MOMENTS}
            fit = _ols_moments(design, moments, terms, include_los=True)
            rows = fit.rows(cov_type, alpha)
            other = fit.rows("conventional" if cov_type == "HC1" else "HC1", alpha)
            suffix = "conventional" if cov_type == "HC1" else "hc1"
            rows[f"std_error_{suffix}"] = other["std_error"]
            rows[f"p_value_{suffix}"] = other["p_value"]
            rows.insert(0, "year", year)
            rows.insert(0, "scheme", scheme)
            rows["n_obs"] = fit.n_obs
            coefficient_rows.append(rows)
            los_p[(scheme, year)] = float(rows.loc[rows["term"] == "los", "p_value"].iloc[0])
            r2 = fit.r_squared
            factors = list(range(1, len(terms)))
            subset_r2 = {(): 0.0}
            for size in range(1, len(factors) + 1):
                for subset in itertools.combinations(factors, size):
                    subset_r2[subset] = (r2 if size == len(factors)
                                         else _subset_r_squared(fit, subset))
            p = len(factors)
            for j in factors:
                others = [f for f in factors if f != j]
                shapley = 0.0
                for size in range(p):
                    weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
                    for subset in itertools.combinations(others, size):
                        with_j = tuple(sorted((*subset, j)))
                        shapley += weight * (subset_r2[with_j] - subset_r2[subset])
                contribution_rows.append({
                    "scheme": scheme, "year": year, "factor": terms[j],
                    "r2_drop_one": r2 - subset_r2[tuple(others)], "r2_shapley": shapley,
                    "r2_shapley_share": shapley / r2 if r2 > 0 else float("nan")})
            fit_rows.append({"scheme": scheme, "year": year, "n_obs": fit.n_obs, "r_squared": r2,
                             "adj_r_squared": 1 - (1 - r2) * (fit.n_obs - 1) / max(fit.df_resid, 1),
                             "los_p_value": los_p[(scheme, year)]})
    if not fit_rows:
        raise ContractError("the data have no rows to screen")
    worst = max(los_p, key=los_p.get)
    drop = los_p[worst] > alpha
    reason = (f"length of stay dropped: p = {los_p[worst]:.3g} > {alpha:g} in {worst[0]} {worst[1]}"
              if drop else f"length of stay kept: p <= {alpha:g} in every scheme and year")
    return ScreeningResult(pd.concat(coefficient_rows, ignore_index=True),
                           pd.DataFrame(contribution_rows), pd.DataFrame(fit_rows), bool(drop),
                           reason, float(alpha), cov_type)


# ----------------------------------------------------------------------------- 1-D clustering


def _weights_of(values: np.ndarray, weights: Any) -> np.ndarray:
    if weights is None:
        return np.ones_like(values)
    w = np.asarray(weights, dtype=float)
    if w.shape != values.shape:
        raise ParameterError("parameter 'weights' must have one weight per value")
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ParameterError("parameter 'weights' must be positive numbers")
    return w


def _values_of(values: Any) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ParameterError("parameter 'values' must be one or more finite numbers")
    return x


def calinski_harabasz(values: Any, labels: Any, weights: Any = None) -> float:
    """Calinski-Harabasz pseudo-F of a partition of 1-D values.

    ``CH = [B / (k - 1)] / [W / (n - k)]`` with ``B`` the (weighted) between-cluster and ``W``
    the within-cluster sum of squares; with weights, ``n`` is the sum of the weights (frequency
    weights). Infinite when ``W = 0``; undefined (NaN) for ``k = 1``.

    Examples
    --------
    >>> round(calinski_harabasz([1, 2, 10, 11], [0, 0, 1, 1]), 3)
    162.0
    """
    x = _values_of(values)
    w = _weights_of(x, weights)
    labels = np.asarray(labels).ravel()
    groups = np.unique(labels)
    k = len(groups)
    n = float(w.sum())
    if k < 2 or n <= k:
        return float("nan")
    mean = float(np.sum(w * x) / n)
    between = within = 0.0
    for g in groups:
        member = labels == g
        wg = w[member]
        center = float(np.sum(wg * x[member]) / wg.sum())
        between += float(wg.sum()) * (center - mean) ** 2
        within += float(np.sum(wg * (x[member] - center) ** 2))
    if within == 0:
        return float("inf")
    return (between / (k - 1)) / (within / (n - k))


@dataclass(frozen=True, eq=False)
class Clustering1D:
    """The exact k-means partition of 1-D values (see :func:`kmeans_1d`).

    ``labels`` are 0 .. k-1 in increasing order of the cluster centres.
    """

    values: np.ndarray
    weights: np.ndarray
    k: int
    labels: np.ndarray
    centers: np.ndarray
    within_ss: float
    between_ss: float

    @property
    def calinski_harabasz(self) -> float:
        """Calinski-Harabasz index of the partition (weighted if weights were given)."""
        return calinski_harabasz(self.values, self.labels, self.weights)

    def table(self) -> pd.DataFrame:
        """One row per value: value, weight, cluster (0-based, increasing centre)."""
        return pd.DataFrame({"value": self.values, "weight": self.weights, "cluster": self.labels})


def _segment_costs(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    n = len(x)
    cost = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            seg_x, seg_w = x[i:j + 1], w[i:j + 1]
            center = np.sum(seg_w * seg_x) / np.sum(seg_w)
            cost[i, j] = np.sum(seg_w * (seg_x - center) ** 2)
    return cost


def kmeans_1d(values: Any, k: int, weights: Any = None) -> Clustering1D:
    """Exact (globally optimal) k-means of 1-D values by dynamic programming.

    In one dimension the optimal clusters are contiguous runs of the sorted values, so the
    minimum within-cluster sum of squares over all partitions into ``k`` clusters is found
    exactly by ``D[m, j] = min_i D[m-1, i] + cost(i, j)`` over the sorted values, in
    ``O(k n^2)`` (Wang and Song 2011, *Ckmeans.1d.dp*). Ties between equally good partitions
    go to the one whose boundaries come first. With ``weights``, each value counts ``weight``
    times.

    Parameters
    ----------
    values
        The numbers to cluster (for example standardised per-capita expenditures).
    k
        Number of clusters, 1 <= k <= number of values.
    weights
        Optional positive weights (for example persons per age band).

    Examples
    --------
    >>> kmeans_1d([1.0, 9.0, 2.0, 10.0, 5.2], 2).labels.tolist()
    [0, 1, 0, 1, 0]
    """
    x = _values_of(values)
    w = _weights_of(x, weights)
    n = len(x)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ParameterError(f"parameter 'k' is {k!r}; use a whole number from 1 to {n}")
    return _kmeans_all(x, w, [int(k)])[int(k)]


def _kmeans_all(x: np.ndarray, w: np.ndarray, ks: Sequence[int]) -> dict[int, Clustering1D]:
    """Exact k-means for every k in ``ks`` from one dynamic-programming table."""
    n = len(x)
    k_max = max(ks)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cost = _segment_costs(xs, ws)
    best = np.full((k_max + 1, n + 1), np.inf)
    start = np.zeros((k_max + 1, n + 1), dtype=int)
    best[0, 0] = 0.0
    for m in range(1, k_max + 1):
        for j in range(m, n + 1):
            candidates = best[m - 1, m - 1:j] + cost[m - 1:j, j - 1]
            i = int(np.argmin(candidates))
            best[m, j] = candidates[i]
            start[m, j] = m - 1 + i
    mean = np.sum(w * x) / np.sum(w)
    result = {}
    for k in ks:
        sorted_labels = np.empty(n, dtype=int)
        j = n
        for m in range(k, 0, -1):
            i = start[m, j]
            sorted_labels[i:j] = m - 1
            j = i
        labels = np.empty(n, dtype=int)
        labels[order] = sorted_labels
        centers = np.array([np.sum(w[labels == g] * x[labels == g]) / np.sum(w[labels == g])
                            for g in range(k)])
        within = float(sum(np.sum(w[labels == g] * (x[labels == g] - centers[g]) ** 2)
                           for g in range(k)))
        between = float(sum(np.sum(w[labels == g]) * (centers[g] - mean) ** 2
                            for g in range(k)))
        result[int(k)] = Clustering1D(x, w, int(k), labels, centers, within, between)
    return result


def first_peak(ks: Sequence[int], index: Sequence[float]) -> tuple[int, bool]:
    """The paper's rule: the number of clusters at the first peak of the Calinski-Harabasz index.

    A peak is a ``k`` whose index is at least that of ``k - 1`` (or the first ``k``) and strictly
    greater than that of ``k + 1``. Returns ``(k, found)``; when the index never falls,
    ``found`` is False and the largest ``k`` is returned.

    Examples
    --------
    >>> first_peak([2, 3, 4, 5, 6], [10.0, 14.0, 12.0, 20.0, 25.0])
    (3, True)
    """
    ks = list(ks)
    index = [float(v) for v in index]
    if not ks or len(ks) != len(index):
        raise ParameterError("first_peak needs one index value per k")
    for position in range(len(ks) - 1):
        rises = position == 0 or index[position] >= index[position - 1]
        if rises and index[position] > index[position + 1]:
            return int(ks[position]), True
    return int(ks[-1]), False


# ----------------------------------------------------------------------------- grouping


@dataclass(frozen=True, eq=False)
class Grouping:
    """Age bands or single diseases grouped by exact 1-D k-means (see :func:`group_age_bands`).

    Age groups are numbered 1, 2, ... in increasing order of expenditure and disease groups in
    decreasing order, as in the paper (age category 1 is the cheapest; OCSD group 1 the
    dearest).

    Attributes
    ----------
    dimension
        ``"age_band"`` or ``"disease"``.
    year, weighting
        Year whose per-capita expenditure was clustered; ``"unweighted"`` or ``"persons"``.
    items
        One row per scheme and item: persons, fund_exp, per_capita, z (standardised
        per-capita), group.
    curve
        One row per scheme and k: Calinski-Harabasz index, within sum of squares (of z), chosen.
    groups
        One row per scheme and group: items, persons, per-capita (persons-weighted), centre
        (the cluster centre in RMB), ``cv`` (sample CV of the items' per-capita values, as the
        paper) and ``cv_weighted`` (persons-weighted).
    rule
        Per scheme, how k was chosen.
    """

    dimension: str
    year: int
    weighting: str
    items: pd.DataFrame
    curve: pd.DataFrame
    groups: pd.DataFrame
    rule: dict[str, str]
    min_cell_size: int = MIN_CELL_SIZE

    @property
    def schemes(self) -> tuple[str, ...]:
        present = set(pd.unique(self.items["scheme"]))
        return tuple(s for s in SCHEMES if s in present)

    def k(self, scheme: str) -> int:
        """Number of groups chosen for ``scheme``."""
        return int(self.groups.loc[self.groups["scheme"] == scheme, "group"].max())

    def mapping(self, scheme: str) -> dict[str, int]:
        """Item -> group for ``scheme``."""
        rows = self.items[self.items["scheme"] == scheme]
        return dict(zip(rows["item"], rows["group"].astype(int), strict=True))

    def nearest_group(self, scheme: str, per_capita: float) -> int:
        """The group whose centre (RMB) is closest to ``per_capita`` (for items not clustered)."""
        rows = self.groups[self.groups["scheme"] == scheme]
        position = int(np.argmin(np.abs(rows["center"].to_numpy() - per_capita)))
        return int(rows["group"].iloc[position])

    def table(self) -> pd.DataFrame:
        """Items with their group; persons, totals and means of small items suppressed."""
        return _suppress(self.items, "persons", ["fund_exp", "per_capita", "z"],
                         self.min_cell_size)

    def curve_table(self) -> pd.DataFrame:
        """Calinski-Harabasz index by scheme and k."""
        return self.curve.copy()

    def group_table(self) -> pd.DataFrame:
        """One row per scheme and group (small groups suppressed)."""
        return _suppress(self.groups, "persons", ["per_capita", "center", "cv", "cv_weighted"],
                         self.min_cell_size)


def _standardise(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    total = w.sum()
    mean = np.sum(w * x) / total
    variance = np.sum(w * (x - mean) ** 2) / (total - 1) if total > 1 else 0.0
    return (x - mean) / math.sqrt(variance) if variance > 0 else x - mean


def _check_k(k: Any, name: str) -> None:
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
        raise ParameterError(f"parameter '{name}' is {k!r}; use a whole number >= 1 or None "
                             "(first peak of the Calinski-Harabasz index)")


def _cluster_items(items: pd.DataFrame, scheme: str, dimension: str, weighting: str,
                   k: int | None, k_max: int, descending: bool,
                   k_name: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """Cluster one scheme's items (columns item, persons, fund_exp)."""
    items = items[items["persons"] > 0].reset_index(drop=True).copy()
    n = len(items)
    x = (items["fund_exp"] / items["persons"]).to_numpy(float)
    w = items["persons"].to_numpy(float) if weighting == "persons" else np.ones(n)
    z = _standardise(x, w)
    what = "age bands" if dimension == "age_band" else "single diseases"
    ks = list(range(2, min(k_max, n - 1) + 1))
    path = _kmeans_all(z, w, ks) if ks else {}
    curve = [{"scheme": scheme, "k": kk, "calinski_harabasz": path[kk].calinski_harabasz,
              "within_ss": path[kk].within_ss} for kk in ks]
    if k is None:
        if not ks:
            raise ContractError(
                f"only {n} {what} have persons in {scheme}; the Calinski-Harabasz rule needs at "
                f"least 3: set {k_name} to the number of groups you want")
        chosen, found = first_peak(ks, [c["calinski_harabasz"] for c in curve])
        rule = "first peak of the Calinski-Harabasz index" if found else (
            f"no peak up to k = {ks[-1]}: the largest k (raise k_max)")
    else:
        if k > n:
            raise ParameterError(
                f"parameter '{k_name}' is {k} but {scheme} has only {n} {what} with persons; "
                f"use at most {n}")
        chosen, rule = int(k), "given"
    clustering = kmeans_1d(z, chosen, w)
    rank = clustering.labels if not descending else chosen - 1 - clustering.labels
    items["per_capita"] = x
    items["z"] = z
    items["group"] = rank + 1
    items.insert(0, "scheme", scheme)
    groups = []
    for g in range(1, chosen + 1):
        member = items["group"] == g
        values, persons = x[member.to_numpy()], items.loc[member, "persons"].to_numpy(float)
        weighted_mean = float(np.sum(persons * values) / persons.sum())
        center = float(np.sum(w[member.to_numpy()] * values) / w[member.to_numpy()].sum())
        cv = (float(np.std(values, ddof=1) / np.mean(values))
              if len(values) > 1 and np.mean(values) > 0 else float("nan"))
        cv_weighted = (float(math.sqrt(np.sum(persons * (values - weighted_mean) ** 2)
                                       / persons.sum()) / weighted_mean)
                       if weighted_mean > 0 else float("nan"))
        groups.append({"scheme": scheme, "group": g,
                       "items": ", ".join(items.loc[member, "item"].astype(str)),
                       "n_items": int(member.sum()), "persons": float(persons.sum()),
                       "per_capita": weighted_mean, "center": center, "cv": cv,
                       "cv_weighted": cv_weighted})
    curve_frame = pd.DataFrame(curve, columns=["scheme", "k", "calinski_harabasz", "within_ss"])
    curve_frame["chosen"] = curve_frame["k"] == chosen
    return items, curve_frame, pd.DataFrame(groups), rule


def _grouping(cells: CellStatistics, dimension: str, year: int | None, weighting: str,
              k: int | Mapping[str, int] | None, k_max: int, min_cell_size: int,
              k_name: str) -> Grouping:
    check_choice("weighting", weighting, WEIGHTINGS)
    min_cell_size = _check_min_cell_size(min_cell_size)
    if isinstance(k_max, bool) or not isinstance(k_max, (int, np.integer)) or k_max < 2:
        raise ParameterError(f"parameter 'k_max' is {k_max!r}; use a whole number >= 2")
    year = max(cells.years) if year is None else int(year)
    if year not in cells.years:
        raise ParameterError(
            f"parameter 'year' is {year}; the data have {', '.join(map(str, cells.years))}")
    all_items, curves, groups, rules = [], [], [], {}
    for scheme in cells.schemes:
        atoms = cells.subset(scheme, year)
        if atoms.empty:
            continue
        if dimension == "age_band":
            items = atoms.groupby("age_band", sort=False)[["persons", "sum_y"]].sum()
            items = items.reindex([b for b in AGE_BANDS if b in items.index])
        else:
            single = atoms[atoms["n_diseases"] == 1]
            items = single.groupby("disease", sort=False)[["persons", "sum_y"]].sum()
            items = items.reindex([d for d in cells.diseases if d in items.index])
        items = items.rename(columns={"sum_y": "fund_exp"}).rename_axis("item").reset_index()
        scheme_k = k.get(scheme) if isinstance(k, Mapping) else k
        _check_k(scheme_k, k_name)
        result = _cluster_items(items, scheme, dimension, weighting, scheme_k, k_max,
                                descending=dimension == "disease", k_name=k_name)
        all_items.append(result[0])
        curves.append(result[1])
        groups.append(result[2])
        rules[scheme] = result[3]
    if not all_items:
        raise ContractError(f"the data have no rows for year {year}")
    return Grouping(dimension, year, weighting, pd.concat(all_items, ignore_index=True),
                    pd.concat(curves, ignore_index=True), pd.concat(groups, ignore_index=True),
                    rules, min_cell_size)


def group_age_bands(
    data: Any,
    *,
    year: int | None = None,
    weighting: str = "unweighted",
    k: int | Mapping[str, int] | None = None,
    k_max: int = 10,
    min_cell_size: int = MIN_CELL_SIZE,
    **read_options: Any,
) -> Grouping:
    """Group the age bands of each scheme by exact 1-D k-means of their per-capita expenditure.

    Each band's per-capita fund expenditure in ``year`` is standardised (z-score) and the bands
    are partitioned by :func:`kmeans_1d` for k = 2 .. ``k_max``; the number of groups is the
    first peak of the Calinski-Harabasz index (:func:`first_peak`) unless ``k`` is given. The
    paper clusters 2024 and applies the same groups to 2023.

    Parameters
    ----------
    data
        :class:`CellStatistics`, or data for :func:`cell_statistics`.
    year
        Year to cluster (default: the latest).
    weighting
        ``"unweighted"`` (each band counts once) or ``"persons"`` (each person counts once).
    k
        Number of groups (one for all schemes, or per scheme); None applies the first-peak rule.
    k_max
        Largest k evaluated.
    min_cell_size
        Suppression threshold of the tables.
    **read_options
        Passed to :func:`cell_statistics`.

    Examples
    --------
    >>> ages = group_age_bands(cells)  # doctest: +SKIP
    >>> ages.mapping("UEBHI")["26-35"]  # doctest: +SKIP
    1
    """
    cells = _cells_of(data, **read_options)
    return _grouping(cells, "age_band", year, weighting, k, k_max, min_cell_size, "k_age")


def group_diseases(
    data: Any,
    *,
    year: int | None = None,
    weighting: str = "unweighted",
    k: int | Mapping[str, int] | None = None,
    k_max: int = 10,
    min_cell_size: int = MIN_CELL_SIZE,
    **read_options: Any,
) -> Grouping:
    """Group the single diseases of each scheme by exact 1-D k-means of their per-capita
    expenditure among single-disease patients (groups numbered from the dearest).

    Patients with two diseases and with three or more form two further OCSD groups in the
    payment model (:func:`payment_standards`). Parameters as :func:`group_age_bands`.

    Examples
    --------
    >>> diseases = group_diseases(cells)  # doctest: +SKIP
    >>> diseases.k("UEBHI")  # doctest: +SKIP
    4
    """
    cells = _cells_of(data, **read_options)
    return _grouping(cells, "disease", year, weighting, k, k_max, min_cell_size, "k_disease")


# ----------------------------------------------------------------------------- payment standards


def _term_names(n_age_groups: int, n_disease_groups: int, include_los: bool) -> list[str]:
    terms = ["intercept"]
    terms += [f"gender_age_{g}_{a}" for g in (1, 2) for a in range(1, n_age_groups + 1)
              if (g, a) != (1, 1)]
    terms += [f"ocsd_{o}" for o in range(1, n_disease_groups + 3)]
    terms.append("inpatient_1")
    if include_los:
        terms.append("los")
    return terms


def _design_rows(gender: np.ndarray, age_group: np.ndarray, ocsd_group: np.ndarray,
                 inpatient: np.ndarray, terms: Sequence[str]) -> np.ndarray:
    """Rows of the payment model's design for cells (without the los column)."""
    columns = []
    for term in terms:
        if term == "intercept":
            columns.append(np.ones(len(gender)))
        elif term.startswith("gender_age_"):
            g, a = (int(v) for v in term.split("_")[2:])
            columns.append(((gender == g) & (age_group == a)).astype(float))
        elif term.startswith("ocsd_"):
            columns.append((ocsd_group == int(term.split("_")[1])).astype(float))
        elif term == "inpatient_1":
            columns.append((inpatient == 1).astype(float))
    return np.column_stack(columns)


def _mapping_of(groups: Grouping | Mapping[str, Mapping[str, int]], scheme: str,
                what: str) -> tuple[dict[str, int], Grouping | None]:
    if isinstance(groups, Grouping):
        if scheme not in groups.schemes:
            raise ParameterError(f"the {what} grouping has no scheme {scheme}; group that scheme too")
        return groups.mapping(scheme), groups
    if scheme not in groups:
        raise ParameterError(f"parameter '{what}' has no mapping for scheme {scheme}")
    mapping = {str(k): int(v) for k, v in groups[scheme].items()}
    values = sorted(set(mapping.values()))
    if values != list(range(1, len(values) + 1)):
        raise ParameterError(
            f"parameter '{what}' for {scheme} must number its groups 1, 2, ... without gaps")
    return mapping, None


def _assign(atoms: pd.DataFrame, key: str, mapping: dict[str, int], grouping: Grouping | None,
            scheme: str, what: str) -> tuple[np.ndarray, list[str]]:
    """Group of each atom's item; items missing from the mapping go to the nearest centre."""
    notes = []
    mapping = dict(mapping)
    missing = [i for i in atoms[key].unique() if i not in mapping and i != ""]
    for item in missing:
        rows = atoms[atoms[key] == item]
        if grouping is None:
            raise ParameterError(
                f"{what} '{item}' occurs in {scheme} but has no group in the mapping; add it")
        per_capita = float(rows["sum_y"].sum() / rows["persons"].sum())
        mapping[item] = grouping.nearest_group(scheme, per_capita)
        notes.append(f"{scheme}: {what} {item} has no persons in {grouping.year}; assigned to "
                     f"group {mapping[item]}, the nearest by per-capita expenditure")
    return atoms[key].map(mapping).fillna(0).to_numpy(int), notes


@dataclass(frozen=True, eq=False)
class PaymentStandards:
    """The payment-standard regressions and standards tables (see :func:`payment_standards`).

    Attributes
    ----------
    coefficients
        One row per scheme, year and term: estimate, HC1 standard error, t statistic, p-value,
        interval, conventional standard error, ``persons`` supporting the term and ``n_obs``.
    cells
        One row per scheme, year and occupied cell (gender, age_group, ocsd_group, inpatient):
        persons, fund expenditure and its square sum, and the fitted standard (aggregates).
    fit
        One row per scheme and year: persons, R², actual expenditure, terms without persons.
    age_groups, disease_groups
        Item -> group per scheme, as used.
    include_los
        Whether length of stay entered the model (the paper: no).
    notes
        Assignments of items that were not clustered, dropped terms.
    """

    coefficients: pd.DataFrame
    cells: pd.DataFrame
    fit: pd.DataFrame
    age_groups: dict[str, dict[str, int]]
    disease_groups: dict[str, dict[str, int]]
    include_los: bool
    notes: tuple[str, ...]
    min_cell_size: int
    atoms: pd.DataFrame = field(repr=False)
    cell_statistics: CellStatistics = field(repr=False)
    fits: dict[tuple[str, int], _Fit] = field(repr=False)

    @property
    def schemes(self) -> tuple[str, ...]:
        """Schemes present, in :data:`SCHEMES` order."""
        return _schemes_in(self.fit)

    @property
    def years(self) -> tuple[int, ...]:
        """Years present."""
        return _years_in(self.fit)

    def n_groups(self, scheme: str) -> tuple[int, int]:
        """(age groups, single-disease groups) of ``scheme``."""
        return (max(self.age_groups[scheme].values()), max(self.disease_groups[scheme].values()))

    def terms(self, scheme: str) -> list[str]:
        """All terms of the scheme's model (including any without persons)."""
        n_age, n_disease = self.n_groups(scheme)
        return _term_names(n_age, n_disease, self.include_los)

    def params(self, scheme: str, year: int) -> pd.Series:
        """Coefficients of one scheme-year by term (NaN for terms without persons)."""
        rows = self.coefficients[(self.coefficients["scheme"] == scheme)
                                 & (self.coefficients["year"] == int(year))]
        return rows.set_index("term")["estimate"].reindex(self.terms(scheme))

    def table(self) -> pd.DataFrame:
        """Tidy coefficients (one row per scheme, year and term); terms supported by fewer than
        ``min_cell_size`` persons have their estimate suppressed (it would reveal their mean)."""
        frame = self.coefficients.copy()
        small = frame["persons"].to_numpy(float) < self.min_cell_size
        for column in ("estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high",
                       "std_error_conventional"):
            frame[column] = frame[column].where(~small)
        frame["suppressed"] = small
        frame.attrs["min_cell_size"] = self.min_cell_size
        frame.attrs["suppressed_cells"] = int(small.sum())
        return frame

    def standards_table(self, scheme: str | None = None, year: int | None = None) -> pd.DataFrame:
        """Standards for every gender x age group x OCSD group x inpatient cell.

        ``standard`` = intercept + the cell's coefficients (RMB per person-year) with its HC1
        standard error; ``persons`` and ``observed_mean`` of cells under ``min_cell_size``
        persons are suppressed. With ``include_los`` the standard is for a length of stay of 0
        (add the ``los`` coefficient per day).
        """
        rows = []
        for s in self.schemes if scheme is None else [scheme]:
            n_age, n_disease = self.n_groups(s)
            for y in self.years if year is None else [int(year)]:
                if (s, y) not in self.fits:
                    continue
                grid = pd.DataFrame(list(itertools.product(
                    (1, 2), range(1, n_age + 1), range(0, n_disease + 3), (0, 1))),
                    columns=["gender", "age_group", "ocsd_group", "inpatient"])
                grid.insert(0, "year", y)
                grid.insert(0, "scheme", s)
                standard, se = self._standards(s, y, grid)
                grid["standard"] = standard
                grid["std_error"] = se
                observed = self.cells[(self.cells["scheme"] == s) & (self.cells["year"] == y)]
                grid = grid.merge(observed[["gender", "age_group", "ocsd_group", "inpatient",
                                            "persons", "sum_y"]],
                                  on=["gender", "age_group", "ocsd_group", "inpatient"], how="left")
                grid["persons"] = grid["persons"].fillna(0)
                grid["observed_mean"] = grid["sum_y"] / grid["persons"].where(grid["persons"] > 0)
                rows.append(grid.drop(columns="sum_y"))
        if not rows:
            raise ParameterError(f"no standards for scheme {scheme!r} and year {year!r}")
        table = pd.concat(rows, ignore_index=True)
        table.insert(4, "ocsd_label", table["ocsd_group"].map(lambda o: str(o)))
        for s in table["scheme"].unique():
            k = self.n_groups(s)[1]
            labels = {0: "none", k + 1: "two diseases", k + 2: "three or more"}
            mask = table["scheme"] == s
            table.loc[mask, "ocsd_label"] = table.loc[mask, "ocsd_group"].map(
                lambda o, labels=labels: labels.get(o, f"group {o}"))
        return _suppress(table, "persons", ["observed_mean"], self.min_cell_size)

    def _standards(self, scheme: str, year: int, cells: pd.DataFrame,
                   params: pd.Series | None = None) -> tuple[np.ndarray, np.ndarray]:
        terms = [t for t in self.terms(scheme) if t != "los"]
        design = _design_rows(cells["gender"].to_numpy(), cells["age_group"].to_numpy(),
                              cells["ocsd_group"].to_numpy(), cells["inpatient"].to_numpy(), terms)
        beta = (self.params(scheme, year) if params is None else params)[terms].to_numpy(float)
        used = design != 0
        contribution = np.where(used, design * np.nan_to_num(beta), 0.0)
        standard = contribution.sum(axis=1)
        standard[(used & np.isnan(beta)[None, :]).any(axis=1)] = np.nan
        fit = self.fits[(scheme, year)]
        index = [fit.terms.index(t) if t in fit.terms else -1 for t in terms]
        cov = np.zeros((len(terms), len(terms)))
        for i, a in enumerate(index):
            for j, b in enumerate(index):
                if a >= 0 and b >= 0:
                    cov[i, j] = fit.cov_hc1[a, b]
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", design, cov, design), 0.0))
        return standard, se

    def predict(self, atoms: pd.DataFrame, scheme: str, year: int) -> tuple[np.ndarray, float]:
        """Per-person standard of ``year`` for each atom (los-free part) and the los coefficient."""
        keys = ["gender", "age_group", "ocsd_group", "inpatient"]
        codes = atoms[keys].to_numpy(np.int64)
        combined = ((codes[:, 0] * 1000 + codes[:, 1]) * 1000 + codes[:, 2]) * 10 + codes[:, 3]
        _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        standard, _ = self._standards(scheme, year, pd.DataFrame(codes[first], columns=keys))
        los = float(self.params(scheme, year)["los"]) if self.include_los else 0.0
        return standard[np.ravel(inverse)], los


def payment_standards(
    data: Any,
    age_groups: Grouping | Mapping[str, Mapping[str, int]],
    disease_groups: Grouping | Mapping[str, Mapping[str, int]],
    *,
    include_los: bool = False,
    alpha: float = 0.05,
    min_cell_size: int = MIN_CELL_SIZE,
    **read_options: Any,
) -> PaymentStandards:
    """Fit the payment-standard regression per scheme and year, exactly from cell statistics.

    ``fund_exp ~ gender x age group + OCSD group + inpatient`` with the reference cell: men of
    age group 1, no OCSD, not hospitalised in the previous year. OCSD group 0 = none, 1..k =
    single-disease groups, k+1 = two diseases, k+2 = three or more (SPEC §12). Because every
    regressor is categorical, per-cell counts, sums and sums of squares give the person-level
    OLS coefficients and HC1 standard errors exactly (the HC1 meat of a cell is
    ``x_c x_c' * sum_i (y_i - yhat_c)^2``, from ``SS_c - 2 yhat_c S_c + n_c yhat_c^2``).

    Parameters
    ----------
    data
        :class:`CellStatistics`, or data for :func:`cell_statistics`.
    age_groups, disease_groups
        :class:`Grouping` results, or mappings ``{scheme: {item: group}}`` (for example the
        paper's published groupings). Items absent from a :class:`Grouping` (no persons in the
        clustered year) go to the group with the nearest centre, noted in ``notes``.
    include_los
        Add length of stay as a linear term (the paper drops it; see :func:`screen_factors`).
    alpha
        Level of the intervals.
    min_cell_size
        Suppression threshold of the tables.
    **read_options
        Passed to :func:`cell_statistics`.

    Examples
    --------
    >>> standards = payment_standards(cells, ages, diseases)  # doctest: +SKIP
    >>> standards.standards_table("UEBHI", 2024).head()  # doctest: +SKIP
    """
    min_cell_size = _check_min_cell_size(min_cell_size)
    cells = _cells_of(data, **read_options)
    coefficient_rows, cell_rows, fit_rows, notes, atom_parts = [], [], [], [], []
    fits: dict[tuple[str, int], _Fit] = {}
    age_maps, disease_maps = {}, {}
    for scheme in cells.schemes:
        age_map, age_grouping = _mapping_of(age_groups, scheme, "age_groups")
        disease_map, disease_grouping = _mapping_of(disease_groups, scheme, "disease_groups")
        atoms = cells.subset(scheme).copy()
        age_group, note = _assign(atoms, "age_band", age_map, age_grouping, scheme, "age band")
        notes += note
        single = atoms["disease"].where(atoms["n_diseases"] == 1, "")
        disease_group, note = _assign(atoms.assign(disease=single), "disease", disease_map,
                                      disease_grouping, scheme, "disease")
        notes += note
        n_age, n_disease = max(age_map.values()), max(disease_map.values())
        atoms["age_group"] = age_group
        n = atoms["n_diseases"].to_numpy()
        atoms["ocsd_group"] = np.select([n == 0, n == 1, n == 2], [0, disease_group, n_disease + 1],
                                        n_disease + 2)
        age_maps[scheme] = {b: int(g) for b, g in zip(atoms["age_band"], age_group, strict=True)}
        age_maps[scheme].update(age_map)
        disease_maps[scheme] = dict(disease_map)
        atom_parts.append(atoms)
        terms = _term_names(n_age, n_disease, include_los)
        keys = ["year", "gender", "age_group", "ocsd_group", "inpatient"]
        grouped = atoms.groupby(keys, as_index=False, sort=True)[list(_MOMENTS)].sum()
        for year in sorted(grouped["year"].unique()):
            part = grouped[grouped["year"] == year].reset_index(drop=True)
            design_terms = [t for t in terms if t != "los"]
            design = _design_rows(part["gender"].to_numpy(), part["age_group"].to_numpy(),
                                  part["ocsd_group"].to_numpy(), part["inpatient"].to_numpy(),
                                  design_terms)
            support = part["persons"].to_numpy(float) @ design
            present = [t for t, s in zip(design_terms, support, strict=True) if s > 0]
            empty = [t for t, s in zip(design_terms, support, strict=True) if s == 0]
            if empty:
                notes.append(f"{scheme} {year}: no persons for {', '.join(empty)}; those terms are "
                             "not estimated")
            columns = [design_terms.index(t) for t in present]
            moments = {m: part[m].to_numpy(float) for m in _MOMENTS}
            fit_terms = present + (["los"] if include_los else [])
            fit = _ols_moments(design[:, columns], moments, fit_terms, include_los)
            fits[(scheme, int(year))] = fit
            rows = fit.rows("HC1", alpha)
            rows["std_error_conventional"] = np.sqrt(np.maximum(np.diag(fit.cov_conventional), 0))
            los_support = float(part.loc[part["sum_los"] > 0, "persons"].sum())
            term_support = dict(zip(design_terms, support, strict=True)) | {"los": los_support}
            rows = rows.set_index("term").reindex(terms).reset_index()
            rows["persons"] = [term_support[t] if t != "intercept" else float(fit.n_obs)
                               for t in terms]
            rows["n_obs"] = fit.n_obs
            rows.insert(0, "year", int(year))
            rows.insert(0, "scheme", scheme)
            coefficient_rows.append(rows)
            beta = np.nan_to_num(rows.set_index("term")["estimate"].reindex(design_terms)
                                 .to_numpy(float))
            fitted = design @ beta
            part_cells = part[keys + ["persons", "sum_y", "sum_y2", "sum_los"]].copy()
            part_cells.insert(0, "scheme", scheme)
            part_cells["standard"] = fitted
            cell_rows.append(part_cells)
            fit_rows.append({"scheme": scheme, "year": int(year), "n_obs": fit.n_obs,
                             "r_squared": fit.r_squared, "actual": fit.sum_y,
                             "rss": fit.rss, "tss": fit.tss, "empty_terms": ", ".join(empty)})
    return PaymentStandards(
        pd.concat(coefficient_rows, ignore_index=True), pd.concat(cell_rows, ignore_index=True),
        pd.DataFrame(fit_rows), age_maps, disease_maps, bool(include_los), tuple(notes),
        min_cell_size, pd.concat(atom_parts, ignore_index=True), cells, fits)


# ----------------------------------------------------------------------------- weighting


@dataclass(frozen=True, eq=False)
class BlendingSimulation:
    """Capitation payments with blended standards against actual expenditure.

    ``table()`` has one row per scheme (and ``"total"``) and weight ``omega`` (on the target
    year): persons, actual expenditure, payment, savings (actual - payment, RMB) and savings in
    percent of actual expenditure.
    """

    rows: pd.DataFrame
    base_year: int
    target_year: int

    def table(self) -> pd.DataFrame:
        """One row per scheme and omega."""
        return self.rows.copy()

    def at(self, omega: float) -> pd.DataFrame:
        """Rows at one weight (nearest grid value)."""
        grid = self.rows["omega"].unique()
        nearest = grid[np.argmin(np.abs(grid - omega))]
        return self.rows[self.rows["omega"] == nearest].reset_index(drop=True)


def _blended_totals(standards: PaymentStandards, scheme: str, base_year: int, target_year: int,
                    evaluation_year: int) -> tuple[float, float, float, int]:
    """(payment with base standards, payment with target standards, actual, persons) over the
    evaluation year's persons."""
    cells = standards.cells[(standards.cells["scheme"] == scheme)
                            & (standards.cells["year"] == evaluation_year)]
    if cells.empty:
        raise ContractError(f"scheme {scheme} has no persons in {evaluation_year}")
    totals = []
    for year in (base_year, target_year):
        if (scheme, year) not in standards.fits:
            raise ContractError(f"scheme {scheme} has no standards for {year}; the weighting "
                                f"needs {base_year} and {target_year}")
        per_person, los = standards.predict(cells, scheme, year)
        if np.isnan(per_person).any():
            bad = cells.loc[np.isnan(per_person)].iloc[0]
            raise ContractError(
                f"{scheme}: the {year} standards cannot price {evaluation_year}'s persons in "
                f"gender {bad['gender']}, age group {bad['age_group']}, OCSD group "
                f"{bad['ocsd_group']} ({year} has no persons with that term)")
        totals.append(float(np.sum(cells["persons"].to_numpy(float) * per_person)
                            + los * cells["sum_los"].sum()))
    return totals[0], totals[1], float(cells["sum_y"].sum()), int(cells["persons"].sum())


def simulate_blending(
    standards: PaymentStandards,
    *,
    omegas: Sequence[float] | None = None,
    years: Sequence[int] | None = None,
) -> BlendingSimulation:
    """Total capitation payment on the target year's population with blended standards.

    The standard of every cell is ``omega * S_target + (1 - omega) * S_base`` (the paper:
    ``omega * S_2024 + (1 - omega) * S_2023``); the payment is the sum over the target year's
    persons; savings are actual expenditure minus payment, per scheme and in total.

    Parameters
    ----------
    standards
        Result of :func:`payment_standards` with both years.
    omegas
        Weights on the target year, each in [0, 1] (default 0, 0.1, ..., 1).
    years
        Base and target year (default: the two years of the standards).

    Examples
    --------
    >>> simulation = simulate_blending(standards)  # doctest: +SKIP
    >>> simulation.at(0.5)  # doctest: +SKIP
    """
    omegas = np.round(np.linspace(0, 1, 11), 10) if omegas is None else np.asarray(omegas, float)
    if omegas.size == 0 or np.any(~np.isfinite(omegas)) or np.any((omegas < 0) | (omegas > 1)):
        raise ParameterError("parameter 'omegas' must hold weights between 0 and 1")
    if years is None:
        if len(standards.years) < 2:
            raise ContractError("the weighting needs standards for two years; the data have "
                                f"{', '.join(map(str, standards.years))}")
        years = standards.years[-2:]
    base_year, target_year = _check_years(years)
    rows = []
    totals = np.zeros((len(omegas), 3))
    persons_total = 0
    for scheme in standards.schemes:
        base, target, actual, persons = _blended_totals(standards, scheme, base_year, target_year,
                                                        target_year)
        persons_total += persons
        for i, omega in enumerate(omegas):
            payment = omega * target + (1 - omega) * base
            totals[i] += (actual, payment, 0.0)
            rows.append({"scheme": scheme, "omega": float(omega), "persons": persons,
                         "actual": actual, "payment": payment, "savings": actual - payment,
                         "savings_pct": 100 * (actual - payment) / actual})
    for i, omega in enumerate(omegas):
        actual, payment = totals[i, 0], totals[i, 1]
        rows.append({"scheme": "total", "omega": float(omega), "persons": persons_total,
                     "actual": actual, "payment": payment, "savings": actual - payment,
                     "savings_pct": 100 * (actual - payment) / actual})
    return BlendingSimulation(pd.DataFrame(rows), base_year, target_year)


# ----------------------------------------------------------------------------- beyond the paper


def _label(omega: float, base_year: int, target_year: int) -> str:
    if omega == 1:
        return f"{target_year} standards"
    if omega == 0:
        return f"{base_year} standards"
    return f"{omega:g} x {target_year} + {1 - omega:g} x {base_year}"


def _atom_predictions(standards: PaymentStandards, atoms: pd.DataFrame, scheme: str,
                      omega: float, base_year: int, target_year: int) -> tuple[np.ndarray, float]:
    """Per-person blended standard of each atom and the blended los coefficient."""
    base, los_base = standards.predict(atoms, scheme, base_year) if omega < 1 else (0.0, 0.0)
    target, los_target = standards.predict(atoms, scheme, target_year) if omega > 0 else (0.0, 0.0)
    per_person = omega * np.asarray(target) + (1 - omega) * np.asarray(base)
    per_person = np.broadcast_to(per_person, (len(atoms),)).astype(float)
    return per_person, omega * los_target + (1 - omega) * los_base


def _residual_ss(atoms: pd.DataFrame, per_person: np.ndarray, los: float) -> float:
    """sum_i (y_i - a - los * los_i)^2 over the atoms' persons, from their moments."""
    a, n = per_person, atoms["persons"].to_numpy(float)
    value = (atoms["sum_y2"].to_numpy() - 2 * a * atoms["sum_y"].to_numpy() + a * a * n)
    if los:
        value = (value - 2 * los * atoms["sum_y_los"].to_numpy()
                 + 2 * a * los * atoms["sum_los"].to_numpy() + los * los
                 * atoms["sum_los2"].to_numpy())
    return float(value.sum())


@dataclass(frozen=True, eq=False)
class PredictiveRatios:
    """Actual over predicted expenditure by group (see :func:`predictive_ratios`).

    A ratio above 1 means the standards under-pay for that group (a provider loses on such
    patients and gains by avoiding them); below 1, they over-pay.
    """

    ratios: pd.DataFrame
    min_cell_size: int

    def table(self) -> pd.DataFrame:
        """One row per scheme, standards, dimension and level (small cells suppressed)."""
        return _suppress(self.ratios, "persons", ["actual", "predicted", "ratio"],
                         self.min_cell_size)


def _decile_bucket(source: _Source, cols: _Columns, year: int,
                   scheme_codes: dict[str, str]) -> tuple[str, dict[str, list[float]]]:
    """SQL of each row's decile (1-10) of fund expenditure within its scheme in ``year`` (0 in
    other years), from exact cut points (DuckDB ``quantile_disc``, one pass over ``year``)."""
    typed = _typed_sql(cols, [year])
    codes = source.frame(f"SELECT DISTINCT scheme_code FROM ({typed})")["scheme_code"]
    mapped, _ = _map_codes(codes, scheme_codes)
    literal = {v: (_sql_text(v) if isinstance(v, str) else str(v.item() if hasattr(v, "item")
                                                             else v)) for v in mapped}
    case = "CASE " + " ".join(f"WHEN scheme_code = {literal[v]} THEN {_sql_text(s)}"
                              for v, s in mapped.items()) + " END"
    probabilities = ", ".join(f"{q / 10:.1f}" for q in range(1, 10))
    cuts = source.query(f"SELECT {case} AS scheme, quantile_disc(c, [{probabilities}]) "
                        f"FROM ({typed}) GROUP BY 1").fetchall()
    branches = []
    for scheme, points in cuts:
        inner = " ".join(f"WHEN c <= {int(p)} THEN {i + 1}" for i, p in enumerate(points))
        branches.append(f"WHEN {case} = {_sql_text(scheme)} THEN CASE {inner} ELSE 10 END")
    bucket = f"CASE WHEN year <> {int(year)} THEN 0 " + " ".join(branches) + " ELSE 0 END"
    return bucket, {scheme: [p / _FEN for p in points] for scheme, points in cuts}


def _decile_atoms(standards: PaymentStandards, year: int,
                  progress: ProgressCallback | None, threads: int | None) -> pd.DataFrame:
    """Atoms split by decile of actual expenditure within scheme, with their model cells."""
    cells = standards.cell_statistics
    if cells.deciles is not None and cells.decile_year == year:
        atoms = cells.deciles
    else:
        if cells.data is None:
            raise ParameterError(
                "expenditure deciles need the person-level data; pass deciles=False")
        _report(progress, "expenditure deciles", 0, 1)
        with _Source(cells.data, threads) as source:
            cols = _columns_of(source, cells.columns)
            bucket, _ = _decile_bucket(source, cols, year, cells.scheme_codes)
            raw = _aggregate(source, cols, years=[year], moments=("persons", "sum_y", "sum_los"),
                             extra=bucket)
        _report(progress, "expenditure deciles", 1, 1)
        atoms = _canonical_atoms(raw, cells.scheme_codes, cells.gender_codes, cells.diseases,
                                 ("persons", "sum_y", "sum_los"), extra=True)
        atoms = atoms.rename(columns={"extra": "decile"})
    groups = standards.atoms[list(_ATOM_KEYS) + ["age_group", "ocsd_group"]]
    return atoms.merge(groups, on=list(_ATOM_KEYS), how="left", validate="many_to_one")


def predictive_ratios(
    standards: PaymentStandards,
    *,
    year: int | None = None,
    omegas: Sequence[float] = (1.0, 0.5, 0.0),
    deciles: bool = True,
    min_cell_size: int | None = None,
    progress: ProgressCallback | None = None,
    threads: int | None = None,
) -> PredictiveRatios:
    """Predictive ratios (actual / predicted expenditure) of the standards, by group.

    Groups: the whole scheme, age band, OCSD group, single disease, and decile of actual
    expenditure within the scheme (``deciles``; one more pass over the data, cut points by
    DuckDB's exact ``quantile_disc``, ties kept together so a decile can hold more or fewer than
    a tenth of persons). With standards fitted on the same year (``omega = 1`` for the target
    year) the ratio is exactly 1 for every age group x gender and OCSD group (OLS normal
    equations); age bands, single diseases and expenditure deciles show what the groups leave
    out. ``omega = 0`` judges the base-year standards on the target year (out of sample).

    Parameters
    ----------
    standards
        Result of :func:`payment_standards`.
    year
        Year whose persons are priced (default: the latest).
    omegas
        Weights on the latest year's standards to evaluate.
    deciles
        Include expenditure deciles (needs the data source).
    min_cell_size
        Suppression threshold (default: the standards').

    Examples
    --------
    >>> ratios = predictive_ratios(standards, deciles=False)  # doctest: +SKIP
    """
    min_cell_size = standards.min_cell_size if min_cell_size is None else _check_min_cell_size(
        min_cell_size)
    years = standards.years
    target_year, base_year = years[-1], years[0]
    year = target_year if year is None else int(year)
    if year not in years:
        raise ParameterError(f"parameter 'year' is {year}; the standards cover "
                             f"{', '.join(map(str, years))}")
    omegas = [float(o) for o in omegas]
    if any(not 0 <= o <= 1 for o in omegas):
        raise ParameterError("parameter 'omegas' must hold weights between 0 and 1")
    if base_year == target_year and any(o < 1 for o in omegas):
        omegas = [1.0]
    atoms = standards.atoms[standards.atoms["year"] == year]
    decile_atoms = _decile_atoms(standards, year, progress, threads) if deciles else None
    rows = []
    for scheme in standards.schemes:
        part = atoms[atoms["scheme"] == scheme].copy()
        for omega in omegas:
            per_person, los = _atom_predictions(standards, part, scheme, omega, base_year,
                                                target_year)
            part["predicted"] = per_person * part["persons"] + los * part["sum_los"]
            part["actual"] = part["sum_y"]
            label = _label(omega, base_year, target_year)
            k = max(standards.disease_groups[scheme].values())
            pieces = {
                "scheme": part.assign(level=scheme),
                "age_band": part.assign(level=part["age_band"]),
                "gender_age_group": part.assign(
                    level=part["gender"].astype(str) + "-" + part["age_group"].astype(str)),
                "ocsd_group": part.assign(level=part["ocsd_group"].map(
                    {0: "0 none", **{o: f"{o} single" for o in range(1, k + 1)},
                     k + 1: f"{k + 1} two diseases", k + 2: f"{k + 2} three or more"})),
                "disease": part[part["n_diseases"] == 1].assign(
                    level=lambda f: f["disease"]),
            }
            if decile_atoms is not None:
                d = decile_atoms[decile_atoms["scheme"] == scheme].copy()
                d_per_person, d_los = _atom_predictions(standards, d, scheme, omega, base_year,
                                                        target_year)
                d["predicted"] = d_per_person * d["persons"] + d_los * d["sum_los"]
                d["actual"] = d["sum_y"]
                pieces["expenditure_decile"] = d.assign(level=d["decile"].astype(int))
            for dimension, frame in pieces.items():
                summary = frame.groupby("level", sort=False)[["persons", "actual",
                                                              "predicted"]].sum()
                if dimension == "age_band":
                    summary = summary.reindex([b for b in AGE_BANDS if b in summary.index])
                elif dimension == "disease":
                    summary = summary.reindex([d for d in standards.cell_statistics.diseases
                                               if d in summary.index])
                else:
                    summary = summary.sort_index()
                for level, values in summary.iterrows():
                    rows.append({"scheme": scheme, "year": year, "standards": label,
                                 "omega": omega, "dimension": dimension, "level": str(level),
                                 "persons": float(values["persons"]),
                                 "actual": float(values["actual"]),
                                 "predicted": float(values["predicted"]),
                                 "ratio": (float(values["actual"] / values["predicted"])
                                           if values["predicted"] != 0 else float("nan"))})
    return PredictiveRatios(pd.DataFrame(rows), min_cell_size)


@dataclass(frozen=True, eq=False)
class FitStatistics:
    """R² and predictive ratio of standards fitted on one year and judged on another."""

    rows: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """One row per scheme (and ``total``), standards and evaluation year."""
        return self.rows.copy()


def fit_statistics(standards: PaymentStandards, *,
                   omegas: Sequence[float] = (1.0, 0.5, 0.0)) -> FitStatistics:
    """In-sample and out-of-sample fit of the standards.

    For each scheme and in total: the standards of each year judged on each year's persons
    (``kind`` in-sample when the years agree, out-of-sample otherwise, e.g. 2023 standards on
    2024), and the blends ``omegas`` judged on the latest year. R² = 1 - sum (y - standard)² /
    sum (y - mean y)² over the evaluation year's persons, from cell statistics.

    Examples
    --------
    >>> fit_statistics(standards).table()  # doctest: +SKIP
    """
    years = standards.years
    base_year, target_year = years[0], years[-1]
    cases = []
    for evaluated in years:
        cases += [(1.0 if fitted == target_year else 0.0, evaluated) for fitted in years]
        if evaluated == target_year and base_year != target_year:
            cases += [(float(o), evaluated) for o in omegas if 0 < o < 1]
    rows = []
    for omega, evaluated in cases:
        label = _label(omega, base_year, target_year)
        fitted_on = target_year if omega == 1 else base_year if omega == 0 else None
        kind = ("blend" if fitted_on is None else "in-sample" if fitted_on == evaluated
                else "out-of-sample")
        rss_total = actual_total = predicted_total = 0.0
        parts = []
        for scheme in standards.schemes:
            part = standards.atoms[(standards.atoms["scheme"] == scheme)
                                   & (standards.atoms["year"] == evaluated)]
            if part.empty:
                continue
            per_person, los = _atom_predictions(standards, part, scheme, omega, base_year,
                                                target_year)
            rss = _residual_ss(part, per_person, los)
            fit = standards.fits[(scheme, evaluated)]
            predicted = float(np.sum(per_person * part["persons"].to_numpy())
                              + los * part["sum_los"].sum())
            rows.append({"scheme": scheme, "standards": label, "omega": omega,
                         "evaluated_on": evaluated, "kind": kind, "persons": fit.n_obs,
                         "r_squared": 1 - rss / fit.tss, "actual": fit.sum_y,
                         "predicted": predicted, "predictive_ratio": fit.sum_y / predicted})
            rss_total += rss
            actual_total += fit.sum_y
            predicted_total += predicted
            parts.append((fit.n_obs, fit.sum_y, fit.yty))
        if len(parts) > 1:
            n = sum(p[0] for p in parts)
            tss = sum(p[2] for p in parts) - actual_total * actual_total / n
            rows.append({"scheme": "total", "standards": label, "omega": omega,
                         "evaluated_on": evaluated, "kind": kind, "persons": n,
                         "r_squared": 1 - rss_total / tss, "actual": actual_total,
                         "predicted": predicted_total,
                         "predictive_ratio": actual_total / predicted_total})
    return FitStatistics(pd.DataFrame(rows))


def adjusted_rand_index(labels_a: Sequence[Any], labels_b: Sequence[Any]) -> float:
    """Adjusted Rand index of two partitions of the same items (1 = identical, ~0 = chance).

    Examples
    --------
    >>> adjusted_rand_index([1, 1, 2, 2], [5, 5, 7, 7])
    1.0
    """
    a, b = list(labels_a), list(labels_b)
    if len(a) != len(b) or len(a) < 2:
        raise ParameterError("adjusted_rand_index needs two labelings of the same >= 2 items")
    table = pd.crosstab(pd.Series(a, dtype=str), pd.Series(b, dtype=str)).to_numpy()

    def pairs(counts: np.ndarray) -> float:
        return float(np.sum(counts * (counts - 1) / 2))

    index = pairs(table)
    rows, columns = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    total = len(a) * (len(a) - 1) / 2
    expected = rows * columns / total
    maximum = (rows + columns) / 2
    if maximum == expected:
        return 1.0 if index == expected else 0.0
    return float((index - expected) / (maximum - expected))


@dataclass(frozen=True, eq=False)
class GroupingComparison:
    """Our exact clustering of the paper's published means beside the paper's groupings."""

    items: pd.DataFrame
    summary: pd.DataFrame
    curve: pd.DataFrame
    groups: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """One row per scheme and dimension: k, agreement, items placed differently."""
        return self.summary.copy()

    def group_table(self) -> pd.DataFrame:
        """Per scheme, dimension, grouping (``published`` or ``found``) and group: items and
        within-group CV of the per-capita values (sample SD / mean, as the paper's tables)."""
        return self.groups.copy()


def compare_groupings(
    published: pd.DataFrame,
    *,
    weighting: str = "unweighted",
    k_max: int = 10,
) -> GroupingComparison:
    """Cluster the paper's published per-capita means and compare with its published groups.

    Parameters
    ----------
    published
        Columns ``scheme``, ``dimension`` (``age_band`` or ``disease``), ``item``, ``persons``,
        ``per_capita``, ``group`` (the paper's; e.g. ``payreform.synth.gz.published("groupings")``).
    weighting
        ``"unweighted"`` or ``"persons"``.
    k_max
        Largest k of the Calinski-Harabasz curve.

    Returns
    -------
    GroupingComparison
        ``summary``: per scheme and dimension, the paper's k, the first-peak k on the published
        means, the adjusted Rand index between the paper's groups and the exact k-means
        partition with the paper's k, how many items are placed differently (groups numbered
        in the same order of expenditure), and the within sum of squares (of z) of both.

    Examples
    --------
    >>> compare_groupings(gz.published("groupings")).table()  # doctest: +SKIP
    """
    check_choice("weighting", weighting, WEIGHTINGS)
    needed = ["scheme", "dimension", "item", "persons", "per_capita", "group"]
    missing = [c for c in needed if c not in published.columns]
    if missing:
        raise ContractError(f"the published table lacks column '{missing[0]}'; it needs "
                            f"{', '.join(needed)}")
    item_rows, summary_rows, curves, group_rows = [], [], [], []
    for (scheme, dimension), part in published.groupby(["scheme", "dimension"], sort=False):
        part = part.reset_index(drop=True)
        x = part["per_capita"].to_numpy(float)
        w = part["persons"].to_numpy(float) if weighting == "persons" else np.ones(len(part))
        z = _standardise(x, w)
        k_paper = int(part["group"].nunique())
        descending = dimension == "disease"
        ks = list(range(2, min(k_max, len(part) - 1) + 1))
        path = _kmeans_all(z, w, ks)
        index = [path[k].calinski_harabasz for k in ks]
        k_peak, found = first_peak(ks, index)
        curves.append(pd.DataFrame({"scheme": scheme, "dimension": dimension, "k": ks,
                                    "calinski_harabasz": index}))
        ours = kmeans_1d(z, k_paper, w)
        found_group = (k_paper - ours.labels if descending else ours.labels + 1)
        paper_group = part["group"].to_numpy(int)
        paper_labels = paper_group - 1
        centers = [np.sum(w[paper_labels == g] * z[paper_labels == g]) / np.sum(
            w[paper_labels == g]) for g in range(k_paper)]
        paper_within = float(sum(np.sum(w[paper_labels == g] * (z[paper_labels == g]
                                                                  - centers[g]) ** 2)
                                 for g in range(k_paper)))
        agrees = found_group == paper_group
        item_rows.append(part.assign(found_group=found_group, agrees=agrees))
        for grouping, labels in (("published", paper_group), ("found", found_group)):
            for g in range(1, k_paper + 1):
                values = x[labels == g]
                group_rows.append({
                    "scheme": scheme, "dimension": dimension, "grouping": grouping, "group": g,
                    "items": ", ".join(part.loc[labels == g, "item"].astype(str)),
                    "cv": (float(np.std(values, ddof=1) / np.mean(values)) if len(values) > 1
                           else float("nan"))})
        summary_rows.append({
            "scheme": scheme, "dimension": dimension, "n_items": len(part),
            "k_published": k_paper, "k_first_peak": k_peak, "first_peak_found": found,
            "adjusted_rand_index": adjusted_rand_index(paper_group, found_group),
            "items_moved": int((~agrees).sum()),
            "moved": ", ".join(f"{i} ({p}->{f})" for i, p, f, a in zip(
                part["item"], paper_group, found_group, agrees, strict=True) if not a),
            "within_ss_published": paper_within, "within_ss_optimal": ours.within_ss,
            "published_is_optimal": bool(paper_within <= ours.within_ss * (1 + 1e-12)),
            "ch_published": calinski_harabasz(z, paper_labels, w),
            "ch_optimal": ours.calinski_harabasz})
    return GroupingComparison(pd.concat(item_rows, ignore_index=True), pd.DataFrame(summary_rows),
                              pd.concat(curves, ignore_index=True), pd.DataFrame(group_rows))


# ----------------------------------------------------------------------------- whole analysis


@dataclass(frozen=True, eq=False)
class CapitationAnalysis:
    """Every step of the method on one data set (see :func:`analyse_capitation`)."""

    cells: CellStatistics
    screening: ScreeningResult
    age_groups: Grouping
    disease_groups: Grouping
    standards: PaymentStandards
    simulation: BlendingSimulation
    predictive_ratios: PredictiveRatios
    fit: FitStatistics
    parameters: dict[str, Any]

    def estimates(self) -> pd.DataFrame:
        """Every regression coefficient and every cell standard in the ``results.json`` form.

        Columns: model (``screening``, ``payment model`` or ``standard``), outcome
        (``fund_exp``), term, estimate, std_error (HC1), p_value, ci_low, ci_high, n_obs, then
        scheme and year. Standards are named ``g{gender}-a{age group}-ocsd{group}-inp{0/1}``;
        payment-model terms supported by too few persons are suppressed (empty).
        """
        fields = ["term", "estimate", "std_error", "p_value", "ci_low", "ci_high", "n_obs",
                  "scheme", "year"]
        screening = self.screening.coefficients[fields].assign(model="screening")
        model = self.standards.table()[fields].assign(model="payment model")
        grid = self.standards.standards_table()
        q = stats.norm.ppf(0.975)
        cells = pd.DataFrame({
            "term": ("g" + grid["gender"].astype(str) + "-a" + grid["age_group"].astype(str)
                     + "-ocsd" + grid["ocsd_group"].astype(str) + "-inp"
                     + grid["inpatient"].astype(str)),
            "estimate": grid["standard"], "std_error": grid["std_error"], "p_value": np.nan,
            "ci_low": grid["standard"] - q * grid["std_error"],
            "ci_high": grid["standard"] + q * grid["std_error"],
            "n_obs": grid["persons"], "scheme": grid["scheme"], "year": grid["year"],
            "model": "standard"})
        table = pd.concat([screening, model, cells], ignore_index=True)
        table.insert(1, "outcome", "fund_exp")
        return table[["model", "outcome", *fields]]

    def table(self) -> pd.DataFrame:
        """Same as :meth:`estimates`."""
        return self.estimates()

    def diagnostics(self) -> dict[str, Any]:
        """Chapter diagnostics for ``results.json`` (aggregates only, small cells suppressed)."""
        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return frame.replace({np.nan: None}).to_dict(orient="records")

        return {
            "screening_fit": records(self.screening.fit),
            "r2_contributions": records(self.screening.contributions),
            "los_rule": self.screening.los_reason,
            "drop_los": self.screening.drop_los,
            "age_groups": records(self.age_groups.table()),
            "age_group_summary": records(self.age_groups.group_table()),
            "age_calinski_harabasz": records(self.age_groups.curve_table()),
            "disease_groups": records(self.disease_groups.table()),
            "disease_group_summary": records(self.disease_groups.group_table()),
            "disease_calinski_harabasz": records(self.disease_groups.curve_table()),
            "standards_fit": records(self.standards.fit),
            "simulation": records(self.simulation.table()),
            "fit_statistics": records(self.fit.table()),
            "predictive_ratios": records(self.predictive_ratios.table()),
            "notes": list(self.standards.notes),
            "min_cell_size": self.standards.min_cell_size,
        }


def analyse_capitation(
    data: Any,
    *,
    columns: Mapping[str, str] | None = None,
    years: Sequence[int] = YEARS,
    weighting: str = "unweighted",
    k_age: int | Mapping[str, int] | None = None,
    k_disease: int | Mapping[str, int] | None = None,
    k_max: int = 10,
    age_groups: Mapping[str, Mapping[str, int]] | None = None,
    disease_groups: Mapping[str, Mapping[str, int]] | None = None,
    include_los: bool | None = False,
    alpha: float = 0.05,
    omegas: Sequence[float] | None = None,
    deciles: bool = True,
    min_cell_size: int = MIN_CELL_SIZE,
    validate: bool = True,
    progress: ProgressCallback | None = None,
    threads: int | None = None,
    **code_options: Any,
) -> CapitationAnalysis:
    """Run the whole method: screening, grouping, standards, weighting and predictive ratios.

    Parameters
    ----------
    data
        A DataFrame, a CSV or Parquet path, or :class:`CellStatistics`.
    columns
        Contract name -> your column name.
    years
        Base and target year (the paper: 2023, 2024); the target year is clustered.
    weighting, k_max
        Clustering options (:func:`group_age_bands`).
    k_age, k_disease
        Numbers of groups (None: first Calinski-Harabasz peak).
    age_groups, disease_groups
        Use these groupings ``{scheme: {item: group}}`` in the payment model instead of the
        clustering (for example the paper's published groups); the clustering is still shown.
    include_los
        Keep length of stay in the payment model; None follows the screening rule. The paper
        (and the default) leaves it out.
    alpha
        Significance level (LOS rule, intervals).
    omegas
        Weights of the simulation (default 0, 0.1, ..., 1).
    deciles
        Predictive ratios by expenditure decile (one more pass over the data).
    min_cell_size
        Suppression threshold of every table.
    validate
        Check the data contract first.
    progress
        Optional ``progress(step, done, total)`` callback.
    threads
        DuckDB threads.
    **code_options
        ``diseases``, ``scheme_codes``, ``gender_codes`` for :func:`cell_statistics`.

    Examples
    --------
    >>> from payreform.synth import gz
    >>> analysis = analyse_capitation(gz.generate(seed=1, scale=0.002), deciles=False)
    >>> analysis.simulation.at(0.5)["scheme"].tolist()
    ['UEBHI', 'URRBHI', 'total']
    """
    steps = 6
    _report(progress, "cell statistics", 0, steps)
    cells = _cells_of(data, columns=columns, years=years, validate=validate, deciles=deciles,
                      progress=None, threads=threads, **code_options)
    _report(progress, "factor screening", 1, steps)
    screening = screen_factors(cells, alpha=alpha)
    _report(progress, "grouping age bands and diseases", 2, steps)
    target = _check_years(years)[1]
    ages = group_age_bands(cells, year=target, weighting=weighting, k=k_age, k_max=k_max,
                           min_cell_size=min_cell_size)
    diseases = group_diseases(cells, year=target, weighting=weighting, k=k_disease, k_max=k_max,
                              min_cell_size=min_cell_size)
    _report(progress, "payment standards", 3, steps)
    los = (not screening.drop_los) if include_los is None else bool(include_los)
    standards = payment_standards(cells, ages if age_groups is None else age_groups,
                                  diseases if disease_groups is None else disease_groups,
                                  include_los=los, alpha=alpha, min_cell_size=min_cell_size)
    _report(progress, "multi-year weighting", 4, steps)
    simulation = simulate_blending(standards, omegas=omegas, years=years)
    _report(progress, "predictive ratios", 5, steps)
    ratios = predictive_ratios(standards, deciles=deciles, threads=threads)
    fit = fit_statistics(standards)
    _report(progress, "done", steps, steps)
    parameters = {"years": list(_check_years(years)), "weighting": weighting, "k_age": k_age,
                  "k_disease": k_disease, "k_max": k_max, "include_los": los, "alpha": alpha,
                  "min_cell_size": min_cell_size, "deciles": deciles,
                  "custom_age_groups": age_groups is not None,
                  "custom_disease_groups": disease_groups is not None}
    return CapitationAnalysis(cells, screening, ages, diseases, standards, simulation, ratios,
                              fit, parameters)
