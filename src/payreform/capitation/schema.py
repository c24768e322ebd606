"""What every step of the capitation method shares: constants, codes, bands, suppression, SQL.

Nothing here depends on a study's values: the insurance schemes, the disease codes and the years
are those of the data (or of a mapping the analyst gives). The age bands are the five- and
ten-year bands of the GZ study (its Figure 1), a common banding of Chinese insurance statistics;
the bands are only the items that the method groups, and empty bands are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from payreform.errors import ParameterError

__all__ = [
    "AGE_BANDS",
    "AGE_BAND_LOWER",
    "MIN_CELL_SIZE",
    "SCREENING_FACTORS",
    "WEIGHTINGS",
    "DiseaseCodes",
    "ProgressCallback",
    "age_band_of",
    "band_label",
    "paper_groupings",
    "parse_scheme_codes",
    "predicted_tenths",
    "standardise",
    "suppress",
]

AGE_BANDS = ("0-5", "6-10", "11-15", "16-25", "26-35", "36-45", "46-55", "56-60", "61-65",
             "66-70", "71-75", "76-80", "81-85", "86-90", "91-95", "96-100", "101+")
"""Age bands grouped by the method (ages in whole years; ``101+`` is open)."""

AGE_BAND_LOWER = (0, 6, 11, 16, 26, 36, 46, 56, 61, 66, 71, 76, 81, 86, 91, 96, 101)
"""First age of each band of :data:`AGE_BANDS`."""

MIN_CELL_SIZE = 10
"""No published number rests on fewer persons than this (the chapter's ``min_cell_size``)."""

WEIGHTINGS = ("unweighted", "persons")
"""How items are weighted in the 1-D clustering: each band or disease counts once
(``unweighted``), or each person counts once (``persons``)."""

SCREENING_FACTORS = ("gender", "age", "ocsd", "inpatient", "los")
"""Screening regressors: gender (1 if female), age (years), any disease (1/0), inpatient in the
previous year (1/0), length of stay (days)."""

ProgressCallback = Callable[[str, int, int], None]
"""``progress(step, done, total)``: called when a long step starts (``done < total``) and ends."""

FEN = 100.0
"""Expenditures are summed in fen (0.01 RMB) as exact integers."""

MOMENTS = ("persons", "sum_y", "sum_y2", "sum_los", "sum_los2", "sum_los3", "sum_los4",
           "sum_y_los", "sum_y_los2", "sum_y_los3", "sum_y2_los", "sum_y2_los2")
"""Sufficient statistics kept per atom (see :class:`payreform.capitation.CellStatistics`)."""

ATOM_KEYS = ("scheme", "year", "gender", "age", "n_diseases", "disease", "inpatient")
"""What makes an atom: every person of an atom has the same regressors except length of stay."""


def report(progress: ProgressCallback | None, step: str, done: int, total: int) -> None:
    """Call the progress callback if there is one."""
    if progress is not None:
        progress(step, done, total)


def age_band_of(age: Any) -> np.ndarray:
    """Index into :data:`AGE_BANDS` of each age (whole years; fractions are cut off).

    Examples
    --------
    >>> [AGE_BANDS[i] for i in age_band_of([0, 5, 6, 25.9, 26, 100, 101, 120])]
    ['0-5', '0-5', '6-10', '16-25', '26-35', '96-100', '101+', '101+']
    """
    years = np.floor(np.asarray(age, dtype=float))
    return np.searchsorted(np.asarray(AGE_BAND_LOWER, dtype=float), years, side="right") - 1


def band_label(bands: Sequence[str]) -> str:
    """The label of adjacent bands pooled together.

    Examples
    --------
    >>> band_label(["91-95", "96-100", "101+"]), band_label(["0-5", "6-10"]), band_label(["6-10"])
    ('91+', '0-10', '6-10')
    """
    positions = sorted(AGE_BANDS.index(b) for b in bands)
    if len(positions) == 1:
        return AGE_BANDS[positions[0]]
    lower = AGE_BAND_LOWER[positions[0]]
    if positions[-1] == len(AGE_BANDS) - 1:
        return f"{lower}+"
    return f"{lower}-{AGE_BAND_LOWER[positions[-1] + 1] - 1}"


def check_min_cell_size(min_cell_size: Any) -> int:
    """``min_cell_size`` as an int, or a one-line :class:`ParameterError`."""
    if isinstance(min_cell_size, bool) or not isinstance(min_cell_size, (int, np.integer)) \
            or min_cell_size < 1:
        raise ParameterError(
            f"parameter 'min_cell_size' is {min_cell_size!r}; use a whole number >= 1 (10 is "
            "usual)")
    return int(min_cell_size)


def suppress(frame: pd.DataFrame, count_column: str, value_columns: Sequence[str],
             min_cell_size: int) -> pd.DataFrame:
    """Blank ``count_column`` and ``value_columns`` where the count is below ``min_cell_size``.

    Adds a column ``suppressed``; ``frame.attrs["suppressed_cells"]`` counts the blanked rows.

    Examples
    --------
    >>> table = suppress(pd.DataFrame({"persons": [3, 12], "mean": [5.0, 6.0]}), "persons",
    ...                  ["mean"], 10)
    >>> table["mean"].tolist(), table.attrs["suppressed_cells"]
    ([nan, 6.0], 1)
    """
    frame = frame.copy()
    small = frame[count_column].to_numpy(dtype=float) < min_cell_size
    small |= np.isnan(frame[count_column].to_numpy(dtype=float))
    for column in [count_column, *value_columns]:
        if column in frame.columns:
            frame[column] = frame[column].astype(float).where(~small)
    frame["suppressed"] = small
    frame.attrs["min_cell_size"] = int(min_cell_size)
    frame.attrs["suppressed_cells"] = int(small.sum())
    return frame


def standardise(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """z-scores of ``x`` with frequency weights ``w`` (sample variance; centred if constant).

    Examples
    --------
    >>> standardise(np.array([1.0, 2.0, 3.0]), np.ones(3)).tolist()
    [-1.0, 0.0, 1.0]
    """
    total = w.sum()
    mean = np.sum(w * x) / total
    variance = np.sum(w * (x - mean) ** 2) / (total - 1) if total > 1 else 0.0
    return (x - mean) / math.sqrt(variance) if variance > 0 else x - mean


def predicted_tenths(predicted: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """Tenth (1-10) of predicted cost of each cell, persons with equal predictions kept together.

    Cells are ranked by their predicted cost; a cell goes to the tenth in which the middle of its
    persons falls. A cell holding more than a tenth of the persons fills its tenth alone and the
    tenths it covers stay empty, so fewer than ten groups can result.

    Examples
    --------
    >>> predicted_tenths(np.array([5.0, 1.0, 3.0]), np.array([10, 30, 60])).tolist()
    [10, 2, 7]
    """
    values, inverse = np.unique(np.asarray(predicted, dtype=float), return_inverse=True)
    n = np.bincount(np.ravel(inverse), weights=np.asarray(persons, dtype=float),
                    minlength=len(values))
    total = n.sum()
    middle = (np.cumsum(n) - n / 2) / total if total > 0 else np.zeros_like(n)
    tenths = np.minimum(10, np.floor(middle * 10).astype(int) + 1)
    return tenths[np.ravel(inverse)]


@dataclass(frozen=True)
class DiseaseCodes:
    """The disease codes of the ``ocsd`` column: their display names and, optionally, groups.

    Attributes
    ----------
    codes
        The codes as the data (or the mapping file) write them.
    names
        Code -> name (the code itself when no name is known).
    groups
        Code -> group number (as the mapping file numbers them) when the mapping file
        has a ``group`` column; empty otherwise.
    source
        ``data``, ``file`` or ``paper``.

    Examples
    --------
    >>> codes = DiseaseCodes.from_codes(["I10", "E11", "i10"])
    >>> codes.codes, codes.canonical("e11")
    (('E11', 'I10'), 'E11')
    """

    codes: tuple[str, ...]
    names: dict[str, str] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    source: str = "data"

    @classmethod
    def from_codes(cls, codes: Iterable[str], source: str = "data") -> DiseaseCodes:
        """Codes found in the data (case-insensitive; the first spelling in sorted order kept)."""
        canonical: dict[str, str] = {}
        for code in sorted(str(c).strip() for c in codes if str(c).strip()):
            canonical.setdefault(code.lower(), code)
        ordered = tuple(sorted(canonical.values(), key=str.lower))
        return cls(ordered, {c: c for c in ordered}, {}, source)

    def lookup(self) -> dict[str, str]:
        """Lower-case code -> code."""
        return {c.lower(): c for c in self.codes}

    def canonical(self, code: str) -> str:
        """The listed spelling of ``code`` (case-insensitive); KeyError if it is not listed."""
        return self.lookup()[str(code).strip().lower()]

    def name(self, code: str) -> str:
        """Display name of a code."""
        return self.names.get(code, code)


def parse_scheme_codes(items: Iterable[str] | Mapping[str, str] | None) -> dict[str, str] | None:
    """Scheme code -> label from ``["310:employees", "390:residents"]`` (or ``CODE=LABEL``).

    Examples
    --------
    >>> parse_scheme_codes(["310:employees", "390 = residents"])
    {'310': 'employees', '390': 'residents'}
    """
    if items is None:
        return None
    if isinstance(items, Mapping):
        return {str(k).strip(): str(v).strip() for k, v in items.items()}
    mapping = {}
    for item in items:
        text = str(item)
        separator = ":" if ":" in text else "=" if "=" in text else None
        code, _, label = text.partition(separator) if separator else (text, "", "")
        if not code.strip() or not label.strip():
            raise ParameterError(
                f"parameter 'schemes' has {item!r}; write CODE:LABEL for each scheme, for example "
                "310:employees,390:residents")
        mapping[code.strip()] = label.strip()
    return mapping


def paper_groupings() -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """The GZ paper's age categories (its Tables 3-4) and single-disease groups (Tables 5-6).

    Read from ``data/published``; returns ``(age_groups, disease_groups)``, each
    ``{scheme: {item: group}}``, for :func:`payreform.capitation.payment_standards`.

    Examples
    --------
    >>> ages, diseases = paper_groupings()
    >>> ages["UEBHI"]["26-35"], diseases["URRBHI"]["AS"]
    (1, 5)
    """
    from payreform import published

    bands = published.load("gz_table3_4_age_bands")
    diseases = published.load("gz_table5_6_diseases")
    ages = {s: dict(zip(p["band"], p["category"].astype(int), strict=True))
            for s, p in bands.groupby("scheme", sort=False)}
    groups = {s: dict(zip(p["disease"], p["group"].astype(int), strict=True))
              for s, p in diseases.groupby("scheme", sort=False)}
    return ages, groups


def paper_disease_codes() -> DiseaseCodes:
    """The 21 Class A OCSD codes of the GZ paper with their names (its section 3.1.1)."""
    from payreform import published

    table = published.load("gz_table5_6_diseases").drop_duplicates("disease")
    codes = tuple(table["disease"])
    return DiseaseCodes(codes, dict(zip(table["disease"], table["name"], strict=True)), {},
                        "paper")


# ----------------------------------------------------------------------------- typed SQL


def key_columns(cols: Any) -> list[str]:
    """The contract columns the statistics pass groups by (all but person_id and fund_exp)."""
    return [c for c in ("scheme", "year", "gender", "age", "ocsd", "inpatient_prev_year", "los")
            if cols.mapping.get(c) is not None]


def typed_sql(cols: Any, separator: str, mask: str, table: str = "person_cells") -> str:
    """SQL of the model's variables from the grouped table of the statistics pass.

    ``table`` holds the key columns under their names in the data (see :func:`key_columns`)
    and ``__n``, ``__sy``, ``__syy`` and ``__row_bad``, so that ``cols`` (a
    :class:`payreform.io.duckdb_source.ColumnSQL`) reads the keys as it reads the raw file:
    numbers and codes are parsed once per distinct combination, not once per person. ``mask``
    is the SQL of the broken rules that depend on the keys only. Output: ``bad`` (0 for valid
    rows), ``l`` (length of stay; 0 if missing or not recorded), ``n_diseases`` (0, 1, 2 or 3 =
    three or more), ``disease_code`` (lower-case code of a single disease), ``n``, ``sy``,
    ``syy`` and the codes.
    """
    los = cols.number("los") if cols.mapping.get("los") is not None else "0"
    sep = "'" + separator.replace("'", "''") + "'"
    inner = (
        f"SELECT __row_bad + {mask} AS bad, {cols.text('scheme')} AS scheme_code, "
        f"TRY_CAST({cols.number('year')} AS BIGINT) AS year, "
        f"{cols.text('gender')} AS gender_code, {cols.number('age')} AS age, "
        f"{cols.text('ocsd')} AS ocsd_text, "
        f"TRY_CAST({cols.number('inpatient_prev_year')} AS INTEGER) AS inpatient, "
        f"TRY_CAST(coalesce({los}, 0) AS BIGINT) AS l, __n AS n, __sy AS sy, __syy AS syy "
        f"FROM {table}")
    return (
        "SELECT *, "
        f"CASE WHEN ocsd_text IS NULL THEN 0 ELSE least(3, len(string_split(ocsd_text, {sep}))) "
        "END AS n_diseases, "
        f"CASE WHEN ocsd_text IS NOT NULL AND strpos(ocsd_text, {sep}) = 0 THEN lower(ocsd_text) "
        f"ELSE '' END AS disease_code FROM ({inner})")


MOMENT_SQL = {
    # over the per-(atom, length of stay) table: n persons, sy = sum of fen, syy = sum of fen²
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
MOMENT_SCALE = {"sum_y": FEN, "sum_y2": FEN**2, "sum_y_los": FEN, "sum_y_los2": FEN,
                "sum_y_los3": FEN, "sum_y2_los": FEN**2, "sum_y2_los2": FEN**2}
