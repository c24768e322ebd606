"""Sufficient statistics of person-year records, checked and aggregated in one pass.

Every regressor of the payment model is categorical, so per-cell counts, sums and sums of
squares give *exactly* the person-level OLS coefficients and HC1 standard errors; the screening
regression needs in addition, per cell, sums of powers of length of stay times 1, y and y²
(:func:`ols_from_moments`). The person-level table is never held in memory: DuckDB scans a
DataFrame, a CSV, Excel or Parquet file once, evaluating the person-year contract's rules on
every row in the same pass (:mod:`payreform.contracts.person_years`); an offending row is
looked up only when a rule is broken. Expenditures are summed in fen (0.01 RMB) as exact
integers, so the results do not depend on the order of summation and are identical for the same
data read from a DataFrame, a CSV file or a Parquet file. With ``engine="spark"`` the same pass
runs on Apache Spark (:mod:`payreform.capitation.spark`, for records on a cluster) and gives the
same atoms and the same contract errors.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from payreform.capitation.schema import (
    AGE_BANDS,
    ATOM_KEYS,
    MIN_CELL_SIZE,
    MOMENT_SCALE,
    MOMENT_SQL,
    MOMENTS,
    DiseaseCodes,
    ProgressCallback,
    age_band_of,
    check_min_cell_size,
    key_columns,
    report,
    suppress,
    typed_sql,
)
from payreform.contracts.person_years import (
    GENDER_CODES,
    SEPARATOR,
    PersonYearData,
    check_codes,
    check_duplicates,
    check_ocsd_texts,
    code_table,
    normal_code,
    raise_first_violation,
    resolve_columns,
    row_rules,
    rule_mask_sql,
    split_codes,
)
from payreform.errors import ContractError, ParameterError, check_choice, closest
from payreform.io import read_table
from payreform.io.duckdb_source import ColumnSQL, DuckDBSource
from payreform.io.spark_source import SPARK_MASTER

__all__ = ["ENGINES", "SPARK_MASTER", "CellStatistics", "Fit", "cell_statistics", "load_disease_file",
           "ols_from_moments"]

ENGINES = ("duckdb", "spark")
"""Engines of the statistics pass: embedded DuckDB (default) or Apache Spark
(:mod:`payreform.capitation.spark`, imported only when asked for)."""


@dataclass(frozen=True, eq=False)
class CellStatistics:
    """Exact sufficient statistics of person-year records, one row per *atom*.

    An atom is a (scheme, year, gender, age, number of diseases, single disease, inpatient)
    combination. Per atom: ``persons``, ``sum_y`` and ``sum_y2`` (fund expenditure, RMB, and its
    square), ``sum_los`` .. ``sum_los4`` (powers of length of stay), ``sum_y_los`` ..
    ``sum_y_los3`` and ``sum_y2_los``, ``sum_y2_los2``. ``n_diseases`` is 0, 1, 2 or 3 (three or
    more); ``disease`` is the code of single-disease atoms (empty otherwise). Every step of the
    method works from these; no person-level row is kept.

    Attributes
    ----------
    atoms
        The statistics (aggregates; small cells are *not* suppressed here: use :meth:`table`).
    source
        ``"DataFrame"`` or the file path.
    diseases
        The disease codes (found in the data or listed in a mapping file).
    schemes
        Scheme labels, in the order tables show them.
    validation
        Rows, column mapping and persons and expenditure per scheme and year.
    scheme_codes
        Code in the data (normalised) -> scheme label.
    reading
        How the file was read: ``encoding``, ``delimiter`` (text files), ``sheet`` and
        ``sha256`` (Excel workbooks, hashed as they were read); None where not applicable.
    """

    atoms: pd.DataFrame = field(repr=False)
    source: str
    diseases: DiseaseCodes = field(repr=False)
    schemes: tuple[str, ...]
    validation: PersonYearData = field(repr=False)
    scheme_codes: dict[str, str] = field(default_factory=dict, repr=False)
    reading: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def years(self) -> tuple[int, ...]:
        """Years present."""
        return tuple(sorted(int(y) for y in pd.unique(self.atoms["year"])))

    @property
    def rows(self) -> int:
        """Person-year rows read."""
        return self.validation.rows

    def counts(self) -> pd.DataFrame:
        """Persons and fund expenditure (RMB) per scheme and year."""
        return self.validation.table()

    def table(self, min_cell_size: int = MIN_CELL_SIZE) -> pd.DataFrame:
        """Persons and per-capita expenditure by scheme, year, gender, age band, number of
        diseases and inpatient status (cells under ``min_cell_size`` persons suppressed)."""
        min_cell_size = check_min_cell_size(min_cell_size)
        keys = ["scheme", "year", "gender", "age_band", "n_diseases", "inpatient"]
        frame = self.atoms.groupby(keys, as_index=False, sort=False)[["persons", "sum_y"]].sum()
        frame["age_band"] = pd.Categorical(frame["age_band"], AGE_BANDS, ordered=True)
        frame = frame.sort_values(keys).reset_index(drop=True)
        frame["age_band"] = frame["age_band"].astype(str)
        frame["per_capita"] = frame["sum_y"] / frame["persons"]
        frame = frame.rename(columns={"sum_y": "fund_exp"})
        return suppress(frame, "persons", ["fund_exp", "per_capita"], min_cell_size)

    def subset(self, scheme: str | None = None, year: int | None = None) -> pd.DataFrame:
        """Atoms of one scheme and/or year."""
        mask = np.ones(len(self.atoms), dtype=bool)
        if scheme is not None:
            mask &= (self.atoms["scheme"] == scheme).to_numpy()
        if year is not None:
            mask &= (self.atoms["year"] == int(year)).to_numpy()
        return self.atoms.loc[mask]

    def persons(self, scheme: str, year: int) -> int:
        """Persons of one scheme and year (0 if none)."""
        return int(self.subset(scheme, year)["persons"].sum())

    def __repr__(self) -> str:
        years = ", ".join(map(str, self.years))
        return (f"CellStatistics({self.rows:,} person-years from {self.source}; schemes "
                f"{', '.join(self.schemes)}; years {years}; {len(self.atoms):,} atoms; "
                f"{len(self.diseases.codes)} disease codes)")


def cell_statistics(
    data: pd.DataFrame | str | os.PathLike | CellStatistics,
    *,
    columns: Mapping[str, str | None] | None = None,
    diseases: DiseaseCodes | Sequence[str] | None = None,
    scheme_codes: Mapping[str, str] | None = None,
    gender_codes: Mapping[str, int] = GENDER_CODES,
    separator: str = SEPARATOR,
    validate: bool = True,
    sheet: str | None = None,
    progress: ProgressCallback | None = None,
    threads: int | None = None,
    memory_limit: str | None = None,
    engine: str = "duckdb",
    spark_master: str = SPARK_MASTER,
    spark_session: Any = None,
) -> CellStatistics:
    """Check person-year records against their contract and aggregate them, in one pass.

    Parameters
    ----------
    data
        A DataFrame, or the path of a CSV (UTF-8 or GBK), Excel or Parquet file (scanned, not
        loaded), or a :class:`CellStatistics` (returned unchanged); with ``engine="spark"``
        also a Spark DataFrame (a Hive table, files on HDFS or S3).
    columns
        Contract name -> your column name (``los`` may be None).
    diseases
        The disease codes accepted (a :class:`DiseaseCodes` from a mapping file, or a list);
        None accepts every code found, each as a disease.
    scheme_codes
        Scheme code -> label; None makes every code found a scheme, labelled by its code.
    gender_codes
        Accepted gender codes -> 1 (male) or 2 (female).
    separator
        Separator of the codes in the ``ocsd`` column.
    validate
        Check the contract (in the same pass). Switch off only for data already checked.
    sheet
        Excel only: the sheet to read.
    progress
        Optional ``progress(step, done, total)`` callback.
    threads, memory_limit
        DuckDB settings (default: all cores, DuckDB's memory limit).
    engine
        ``"duckdb"`` (embedded, the default) or ``"spark"`` (Apache Spark, for records on a
        cluster; needs the ``spark`` extra and Java 17+). Both give the same statistics and
        the same contract errors.
    spark_master
        Spark only: where Spark runs, ``local[2]`` (this machine, two cores), ``local[*]``,
        ``spark://HOST:7077`` or ``yarn``. A session started here is stopped before the
        function returns; a Spark session already active in the process (or ``spark_session``)
        is used and left running.
    spark_session
        Spark only: a ``SparkSession`` to use (left running).

    Returns
    -------
    CellStatistics

    Raises
    ------
    ContractError
        For the first contract rule the data break, naming the column, row and fix.

    Examples
    --------
    >>> frame = pd.DataFrame({"person_id": [1, 2, 3], "year": [2010, 2011, 2011],
    ...     "scheme": ["A"] * 3, "gender": [1, 2, 2], "age": [40, 41, 41],
    ...     "ocsd": ["", "D1", "D1"], "inpatient_prev_year": [0, 0, 0], "los": [0, 0, 0],
    ...     "fund_exp": [100.0, 200.0, 400.0]})
    >>> cells = cell_statistics(frame)
    >>> cells.atoms[["year", "disease", "persons", "sum_y"]].to_dict("records")[1]
    {'year': 2011, 'disease': 'D1', 'persons': 2, 'sum_y': 600.0}
    """
    if isinstance(data, CellStatistics):
        return data
    if not isinstance(separator, str) or len(separator.strip()) != 1:
        raise ParameterError(f"parameter 'ocsd_separator' is {separator!r}; give one character "
                             "such as ;")
    engine = check_choice("engine", engine, ENGINES)
    codes = _disease_codes(diseases)
    genders = code_table(gender_codes)
    report(progress, "reading and checking the records", 0, 1)
    if engine == "spark":
        from payreform.capitation.spark import spark_pass

        scanned, mapping, label, reading = spark_pass(
            data, columns=columns, separator=separator.strip(), validate=validate,
            diseases=None if codes is None else codes.codes, scheme_codes=scheme_codes,
            gender_codes=gender_codes, sheet=sheet, master=spark_master, session=spark_session)
    else:
        scanned, mapping, label, reading = _duckdb_pass(
            data, columns=columns, separator=separator.strip(), validate=validate, codes=codes,
            scheme_codes=scheme_codes, gender_codes=gender_codes, sheet=sheet, threads=threads,
            memory_limit=memory_limit)
    report(progress, "reading and checking the records", 1, 1)
    if codes is None:
        found = {c for text in scanned["ocsd_texts"] for c in split_codes(text, separator.strip())}
        codes = DiseaseCodes.from_codes(found)
    schemes = (code_table(scheme_codes) if scheme_codes is not None else
               {normal_code(c): str(c) for c in sorted(scanned["atoms"]["scheme_code"].unique())})
    atoms = _canonical_atoms(scanned["atoms"], schemes, genders, codes)
    counts = (atoms.groupby(["scheme", "year"], as_index=False)[["persons", "sum_y"]].sum()
              .rename(columns={"sum_y": "fund_exp"}))
    order = tuple(sorted(atoms["scheme"].unique(), key=str))
    validation = PersonYearData(label, int(scanned["rows"]), mapping, counts)
    return CellStatistics(atoms, label, codes, order, validation, schemes, reading)


def _duckdb_pass(data: Any, *, columns: Mapping[str, str | None] | None, separator: str,
                 validate: bool, codes: DiseaseCodes | None,
                 scheme_codes: Mapping[str, str] | None, gender_codes: Mapping[str, int],
                 sheet: str | None, threads: int | None, memory_limit: str | None
                 ) -> tuple[dict, dict[str, str | None], str, dict[str, Any]]:
    """The DuckDB pass: the scan (:func:`_scan`) and the contract's checks, in order."""
    with DuckDBSource(data, threads, sheet=sheet, memory_limit=memory_limit) as source:
        types = source.describe()
        cols = ColumnSQL(resolve_columns(list(types), columns), types)
        scanned = _scan(source, cols, separator, validate)
        if scanned["rows"] == 0:
            raise ContractError("the data have no rows; export the person-year records again")
        if validate:
            raise_first_violation(source, scanned["rules"], scanned["violations"])
            schemes_found = scanned["atoms"]["scheme_code"].unique()
            if scheme_codes is not None:
                check_codes(source, cols, "scheme", schemes_found, code_table(scheme_codes),
                            scheme_codes, "map every scheme code with schemes=CODE:LABEL,...")
            check_codes(source, cols, "gender", scanned["atoms"]["gender_code"].unique(),
                        code_table(gender_codes), gender_codes, "use 1 (male) or 2 (female)")
            check_ocsd_texts(source, cols, scanned["ocsd_texts"],
                             None if codes is None else codes.codes, separator)
            check_duplicates(source, cols)
        reading = {"encoding": source.encoding, "delimiter": source.delimiter,
                   "sheet": source.sheet, "sha256": source.sha256}
        return scanned, dict(cols.mapping), source.label, reading


def _disease_codes(diseases: Any) -> DiseaseCodes | None:
    if diseases is None or isinstance(diseases, DiseaseCodes):
        return diseases
    if isinstance(diseases, str):
        raise ParameterError("parameter 'diseases' must list codes (or be a DiseaseCodes); for a "
                             "file use payreform.capitation.load_disease_file")
    codes = [str(d).strip() for d in diseases]
    lowered = [c.lower() for c in codes]
    if not codes or "" in codes or len(set(lowered)) != len(lowered):
        raise ParameterError("parameter 'diseases' must list distinct, non-empty disease codes")
    return DiseaseCodes(tuple(codes), {c: c for c in codes}, {}, "given")


def _scan(source: DuckDBSource, cols: ColumnSQL, separator: str, validate: bool) -> dict:
    """The one pass over the data, then work on its small result.

    The pass groups the rows by the raw values of the key columns (:func:`key_columns`), with
    counts, exact sums of the expenditure in fen and the union (bitwise or) of the rules broken
    by rows of the group that need the whole row (person identifier, expenditure): any broken
    rule stops the run, and its first offending row is then looked up. Rules on the keys, the parsing of
    numbers and codes, and the atoms' moments are then computed on that table, once per
    distinct combination rather than once per person.
    """
    rules = row_rules(cols) if validate else []
    per_row = [i for i, r in enumerate(rules) if set(r.columns) & {"person_id", "fund_exp"}]
    per_key = [i for i in range(len(rules)) if i not in per_row]
    keys = ", ".join(cols.raw(c) for c in key_columns(cols))
    source.query(
        f"CREATE TEMP TABLE person_cells AS SELECT {keys}, bit_or({rule_mask_sql(rules, per_row)}) "
        "AS __row_bad, count(*) AS __n, sum(__c) AS __sy, sum(CAST(__c AS HUGEINT) * __c) AS "
        f"__syy FROM (SELECT *, TRY_CAST(round({cols.number('fund_exp')} * 100) AS BIGINT) AS "
        f"__c FROM raw) GROUP BY ALL")
    source.query(f"CREATE TEMP TABLE typed_cells AS "
                 f"{typed_sql(cols, separator, rule_mask_sql(rules, per_key))}")
    violations = dict(source.query(
        "SELECT bad, CAST(sum(n) AS BIGINT) FROM typed_cells GROUP BY bad").fetchall())
    texts = [r[0] for r in source.query(
        "SELECT DISTINCT ocsd_text FROM typed_cells WHERE ocsd_text IS NOT NULL").fetchall()]
    moments = ", ".join(f"CAST({MOMENT_SQL[m]} AS DOUBLE) AS {m}" for m in MOMENTS)
    atoms = source.frame(
        "SELECT scheme_code, year, gender_code, age, n_diseases, disease_code, inpatient, "
        f"{moments} FROM typed_cells WHERE bad = 0 GROUP BY ALL")
    return {"rules": rules, "violations": violations, "ocsd_texts": texts, "atoms": atoms,
            "rows": int(sum(violations.values()))}


def _canonical_atoms(raw: pd.DataFrame, schemes: dict[str, str], genders: dict[str, int],
                     codes: DiseaseCodes) -> pd.DataFrame:
    """Map raw codes to labels, merge atoms that then coincide, sort (alike for every source)."""
    frame = raw.sort_values(["scheme_code", "year", "gender_code", "age", "n_diseases",
                             "disease_code", "inpatient"], kind="stable").reset_index(drop=True)
    def each_once(column: pd.Series, label: Callable[[Any], Any]) -> pd.Series:
        return column.map({value: label(value) for value in column.unique()})  # once per code

    frame["scheme"] = each_once(frame["scheme_code"], lambda c: schemes.get(normal_code(c)))
    frame["gender"] = each_once(frame["gender_code"], lambda c: genders.get(normal_code(c)))
    lookup = codes.lookup()
    frame["disease"] = each_once(frame["disease_code"].fillna(""),
                                 lambda c: lookup.get(c, "?" if c else ""))
    bad = (frame["scheme"].isna() | frame["gender"].isna() | (frame["disease"] == "?")
           | frame[["year", "age", "inpatient"]].isna().any(axis=1))
    if bad.any():  # only reachable with validate=False
        raise ContractError("the data break the person-year contract (codes or numbers); run "
                            "the analysis with validate=True to find the row")
    frame["year"] = frame["year"].astype(int)
    frame["gender"] = frame["gender"].astype(int)
    frame["n_diseases"] = frame["n_diseases"].astype(int)
    frame["inpatient"] = frame["inpatient"].astype(int)
    keys = list(ATOM_KEYS)
    frame = frame[keys + list(MOMENTS)].groupby(keys, as_index=False, sort=True).sum()
    for moment, scale in MOMENT_SCALE.items():
        frame[moment] = frame[moment] / scale
    frame["persons"] = frame["persons"].astype(np.int64)
    frame.insert(4, "age_band", np.asarray(AGE_BANDS, dtype=object)[age_band_of(frame["age"])])
    return frame.reset_index(drop=True)


_FILE_COLUMNS = {"code": ("code", "编码", "代码", "病种编码", "疾病编码"),
                 "name": ("name", "名称", "病种名称", "疾病名称", "病种"),
                 "group": ("group", "组", "分组", "组别")}


def load_disease_file(path: str | Path) -> DiseaseCodes:
    """Read a disease mapping file: a CSV (or Excel) table of ``code,name[,group]``.

    ``code`` is the code as the ``ocsd`` column writes it; ``name`` is shown in tables and
    figures; ``group`` (optional, whole numbers 1, 2, ... without gaps) fixes the disease groups
    instead of clustering them. Chinese headers 编码/名称/分组 are understood.

    Raises
    ------
    ParameterError
        If the file is missing or unreadable, lacks a ``code`` column, lists a code twice or has
        groups that are not 1, 2, ... without gaps.
    """
    try:
        table = read_table(path)
    except (ParameterError, ContractError) as error:
        raise ParameterError(f"diseases file: {error}") from None
    frame = table.frame
    found: dict[str, str] = {}
    for key, aliases in _FILE_COLUMNS.items():
        for column in frame.columns:
            if str(column).strip().lower() in aliases:
                found[key] = column
                break
    name = Path(path).name
    if "code" not in found:
        raise ParameterError(
            f"diseases file '{name}' has no 'code' column{closest('code', frame.columns)}; its "
            "columns must be code,name[,group]")
    codes = frame[found["code"]].astype(str).str.strip()
    if (codes == "").any() or frame[found["code"]].isna().any():
        row = int(np.flatnonzero((codes == "").to_numpy() | frame[found["code"]].isna())[0])
        raise ParameterError(f"diseases file '{name}' has an empty code in row {row + 2}")
    lowered = codes.str.lower()
    if lowered.duplicated().any():
        twice = codes[lowered.duplicated()].iloc[0]
        raise ParameterError(f"diseases file '{name}' lists the code {twice!r} twice; list each "
                             "code once")
    names = (frame[found["name"]].astype(str).str.strip() if "name" in found else codes)
    groups: dict[str, int] = {}
    if "group" in found:
        values = pd.to_numeric(frame[found["group"]], errors="coerce")
        if values.isna().any() or (values != values.round()).any() or (values < 1).any():
            row = int(np.flatnonzero(values.isna() | (values != values.round()) | (values < 1))[0])
            raise ParameterError(
                f"diseases file '{name}' has the group {frame[found['group']].iloc[row]!r} in "
                f"row {row + 2}; groups are whole numbers 1, 2, ...")
        numbers = sorted(set(values.astype(int)))
        if numbers != list(range(1, len(numbers) + 1)):
            raise ParameterError(f"diseases file '{name}' numbers its groups {numbers}; number "
                                 "them 1, 2, ... without gaps")
        groups = dict(zip(codes, values.astype(int), strict=True))
    return DiseaseCodes(tuple(codes), dict(zip(codes, names, strict=True)), groups, "file")


# ----------------------------------------------------------------------------- OLS from moments


@dataclass(frozen=True, eq=False)
class Fit:
    """OLS fitted from sufficient statistics (see :func:`ols_from_moments`)."""

    terms: tuple[str, ...]
    params: np.ndarray
    cov_hc1: np.ndarray
    cov_conventional: np.ndarray
    n_obs: int
    rss: float
    tss: float
    gram: np.ndarray
    xty: np.ndarray
    yty: float
    sum_y: float

    @property
    def df_resid(self) -> int:
        """Residual degrees of freedom."""
        return self.n_obs - len(self.terms)

    @property
    def r_squared(self) -> float:
        """R² (NaN when y is constant)."""
        return 1.0 - self.rss / self.tss if self.tss > 0 else float("nan")

    def rows(self, cov_type: str = "HC1", alpha: float = 0.05) -> pd.DataFrame:
        """One row per term: estimate, std_error, statistic, p_value, ci_low, ci_high."""
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


def solve(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve the normal equations ``gram @ x = rhs``: columns equilibrated, then one step of
    iterative refinement with the residual in extended precision."""
    scale = np.sqrt(np.diag(gram)).copy()
    scale[scale == 0] = 1.0
    scaled = gram / np.outer(scale, scale)
    solution = np.linalg.solve(scaled, rhs / scale) / scale
    residual = (rhs.astype(np.longdouble)
                - gram.astype(np.longdouble) @ solution.astype(np.longdouble))
    correction = np.linalg.solve(scaled, np.asarray(residual, dtype=float) / scale) / scale
    return solution + correction


def ols_from_moments(design: np.ndarray, m: Mapping[str, np.ndarray], terms: Sequence[str],
                     include_los: bool) -> Fit:
    """OLS of y on ``[design, los]`` (los only if ``include_los``) from per-atom moments.

    ``design`` holds the regressors that are constant within an atom (one row per atom); length
    of stay varies within atoms and enters through its moments. HC1 meat: per atom
    ``sum_i x_i x_i' u_i^2`` with ``u_i = y_i - a - b * los_i`` expanded into the moments.

    Examples
    --------
    >>> m = {"persons": np.array([2.0, 2.0]), "sum_y": np.array([2.0, 8.0]),
    ...      "sum_y2": np.array([2.0, 34.0])}
    >>> fit = ols_from_moments(np.array([[1.0, 0.0], [1.0, 1.0]]), m, ["a", "b"], False)
    >>> fit.params.round(6).tolist()
    [1.0, 3.0]
    """
    n = m["persons"].astype(float)
    z = np.asarray(design, dtype=float)
    gram_zz = z.T @ (z * n[:, None])
    xty_z = z.T @ m["sum_y"]
    if include_los:
        cross = z.T @ m["sum_los"]
        gram = np.block([[gram_zz, cross[:, None]],
                         [cross[None, :], np.array([[m["sum_los2"].sum()]])]])
        xty = np.r_[xty_z, m["sum_y_los"].sum()]
    else:
        gram, xty = gram_zz, xty_z
    params = solve(gram, xty)
    a = z @ params[: z.shape[1]]
    b = params[-1] if include_los else 0.0
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
    rss = float(max(u0.sum(), 0.0))
    yty = float(m["sum_y2"].sum())
    sum_y = float(m["sum_y"].sum())
    tss = yty - sum_y * sum_y / n_obs
    cov_hc1 = bread @ meat @ bread * (n_obs / max(n_obs - k, 1))
    cov_conventional = bread * (rss / max(n_obs - k, 1))
    return Fit(tuple(terms), params, cov_hc1, cov_conventional, n_obs, rss, tss, gram, xty, yty,
               sum_y)


def subset_r_squared(fit: Fit, keep: Sequence[int]) -> float:
    """R² of the regression on the intercept (column 0) and the columns ``keep``."""
    columns = [0, *sorted(keep)]
    gram = fit.gram[np.ix_(columns, columns)]
    xty = fit.xty[columns]
    params = solve(gram, xty)
    rss = fit.yty - float(params @ xty)
    return 1.0 - rss / fit.tss
