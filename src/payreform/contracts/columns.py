"""Cell-level rules shared by every data contract: columns that must exist, numbers, percentages.

Messages name the column, the row (spreadsheet numbering: the header is row 1) and the fix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from payreform.errors import ContractError, closest
from payreform.io.rules import THOUSANDS as _THOUSANDS
from payreform.periods import row_of

_PERCENT_SUFFIXES = ("_rate", "_pct", "_percent", "率", "(%)", "（%）", "%")


def require_column(frame: pd.DataFrame, column: str, parameter: str) -> None:
    """Raise :class:`ContractError` if ``column`` is not in ``frame``.

    The message suggests the closest existing column name and the ``--set`` key to change.

    Examples
    --------
    >>> require_column(pd.DataFrame({"month": []}), "month", "time_column")
    """
    if column not in frame.columns:
        listed = ", ".join(map(str, frame.columns[:12]))
        raise ContractError(
            f"column '{column}' not found{closest(column, frame.columns)}; the file has: {listed}; "
            f"rename the column or set {parameter}=<your column name>"
        )


def is_percent_column(name: str) -> bool:
    """True if the column name marks a percentage (``_rate``, ``_pct``, ``率``, ``(%)`` ...).

    Examples
    --------
    >>> is_percent_column("control_rate"), is_percent_column("hospitalizations")
    (True, False)
    """
    return str(name).strip().lower().endswith(_PERCENT_SUFFIXES)


def _to_number(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    text = values.astype("string").str.strip()
    text = text.where(~text.fillna("").str.match(_THOUSANDS), text.str.replace(",", "", regex=False))
    return pd.to_numeric(text, errors="coerce").astype(float)


def numeric_column(
    frame: pd.DataFrame,
    column: str,
    *,
    allow_missing: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    what: str = "values",
) -> pd.Series:
    """Return ``frame[column]`` as floats, or raise :class:`ContractError` naming the bad row.

    Thousands separators (``1,234``) are accepted. Text, missing values (unless
    ``allow_missing``) and values outside ``[minimum, maximum]`` are reported with their row.

    Examples
    --------
    >>> numeric_column(pd.DataFrame({"visits": ["1,200", "980"]}), "visits").tolist()
    [1200.0, 980.0]
    """
    raw = frame[column]
    numbers = _to_number(raw)
    present = raw.notna().to_numpy()
    bad = present & numbers.isna().to_numpy()
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise ContractError(
            f"column '{column}' has the non-numeric value {str(raw.iloc[position])!r} in "
            f"{row_of(frame.index, position)}; it must hold numbers only"
        )
    if not allow_missing and numbers.isna().any():
        position = int(np.flatnonzero(numbers.isna().to_numpy())[0])
        raise ContractError(
            f"column '{column}' is missing a value in {row_of(frame.index, position)}; fill it in or drop "
            "the row (missing values are not imputed)"
        )
    if not np.isfinite(numbers.dropna().to_numpy()).all():
        position = int(np.flatnonzero(~np.isfinite(numbers.fillna(0).to_numpy()))[0])
        raise ContractError(f"column '{column}' has an infinite value in {row_of(frame.index, position)}")
    if minimum is not None and (numbers < minimum).any():
        position = int(np.flatnonzero((numbers < minimum).to_numpy())[0])
        raise ContractError(
            f"column '{column}' has {numbers.iloc[position]:g} in {row_of(frame.index, position)}, below "
            f"{minimum:g}; {what} cannot be negative"
            if minimum == 0
            else f"column '{column}' has {numbers.iloc[position]:g} in {row_of(frame.index, position)}, "
            f"below the allowed minimum {minimum:g} for {what}"
        )
    if maximum is not None and (numbers > maximum).any():
        position = int(np.flatnonzero((numbers > maximum).to_numpy())[0])
        raise ContractError(
            f"column '{column}' has {numbers.iloc[position]:g} in {row_of(frame.index, position)}, above "
            f"{maximum:g}; {what} must lie between {minimum if minimum is not None else 0:g} "
            f"and {maximum:g}"
        )
    return numbers


def numeric_like(series: pd.Series) -> bool:
    """Mostly numbers: taken as an outcome by default, so that a stray text cell is reported
    rather than the whole column silently skipped."""
    values = series.dropna()
    if values.empty:
        return False
    return bool(_to_number(values).notna().mean() > 0.5)
