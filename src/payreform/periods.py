"""Reading the time column of a series: months, quarters or years.

Analysts' exports write periods in many ways. These forms are understood:

========== =====================================================================
frequency  accepted values (examples)
========== =====================================================================
monthly    ``2016-02``, ``2016/2``, ``2016.02``, ``201602``, ``2016年2月``,
           dates such as ``2016-02-01`` or ``2016/2/15`` (the day is ignored)
quarterly  ``2016Q1``, ``2016-Q1``, ``2016 q1``, ``2016年1季度``
annual     ``2016``, ``2016年``
========== =====================================================================

Rows are reported as in a spreadsheet: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from payreform.errors import ContractError, ParameterError

FREQUENCY_NAMES = {"M": "monthly", "Q": "quarterly", "Y": "annual"}
PERIODS_PER_YEAR = {"M": 12, "Q": 4, "Y": 1}

_ANNUAL = re.compile(r"^(\d{4})\s*年?$")
_QUARTER = re.compile(r"^(\d{4})\s*(?:[-/ ]?\s*[Qq]\s*([1-4])|年\s*第?\s*([1-4])\s*季度?)$")
_MONTH = re.compile(r"^(\d{4})\s*(?:[-/.]\s*(\d{1,2})|(\d{2})|年\s*(\d{1,2})\s*月?)$")
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")


def row_label(position: int) -> str:
    """Spreadsheet row of the data row at 0-based ``position`` (header = row 1).

    Examples
    --------
    >>> row_label(0)
    'row 2'
    """
    return f"row {position + 2}"


def row_of(index: pd.Index, position: int) -> str:
    """Spreadsheet row of the row at ``position``, from the frame's original integer index.

    Frames read from a file carry their file order as a 0-based integer index, which subsets
    and re-orderings keep; other indexes are reported by label.

    Examples
    --------
    >>> row_of(pd.Index([5, 9]), 1)
    'row 11'
    """
    label = index[position]
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        return row_label(int(label))
    return f"the row labelled {label!r}"


def _parse_one(text: str) -> tuple[str, pd.Period] | None:
    text = text.strip()
    m = _ANNUAL.match(text)
    if m:
        return "Y", pd.Period(year=int(m.group(1)), freq="Y")
    m = _QUARTER.match(text)
    if m:
        quarter = int(m.group(2) or m.group(3))
        return "Q", pd.Period(year=int(m.group(1)), quarter=quarter, freq="Q")
    m = _DATE.match(text)
    if m:
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if 1 <= month <= 12 and 1 <= day <= 31:
            return "M", pd.Period(year=year, month=month, freq="M")
        return None
    m = _MONTH.match(text)
    if m:
        month = int(m.group(2) or m.group(3) or m.group(4))
        if 1 <= month <= 12:
            return "M", pd.Period(year=int(m.group(1)), month=month, freq="M")
    return None


def parse_periods(values: pd.Series, column: str) -> pd.PeriodIndex:
    """Parse a column of period labels into a :class:`pandas.PeriodIndex`.

    The frequency (monthly, quarterly or annual) is inferred and must be the same in every row.

    Parameters
    ----------
    values
        The time column as read from the file (strings, integers, dates or periods).
    column
        Its name, used in error messages.

    Raises
    ------
    ContractError
        If a value is missing or unreadable, or if the rows mix frequencies.

    Examples
    --------
    >>> parse_periods(pd.Series(["2016-02", "2016-03"]), "month")
    PeriodIndex(['2016-02', '2016-03'], dtype='period[M]')
    """
    if isinstance(values.dtype, pd.PeriodDtype):
        freq = values.dtype.freq.freqstr[0]
        return pd.PeriodIndex(values.to_numpy(), freq={"M": "M", "Q": "Q", "Y": "Y", "A": "Y"}[freq])
    if pd.api.types.is_datetime64_any_dtype(values):
        if values.isna().any():
            position = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise ContractError(
                f"column '{column}' is empty in {row_of(values.index, position)}; every row needs a period"
            )
        return pd.PeriodIndex(pd.DatetimeIndex(values).to_period("M"))
    parsed: list[pd.Period] = []
    first_freq: str | None = None
    index = values.index
    for position, value in enumerate(values.tolist()):
        if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
            raise ContractError(
                f"column '{column}' is empty in {row_of(index, position)}; every row needs a period"
            )
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        if isinstance(value, pd.Timestamp):
            result = ("M", value.to_period("M"))
        else:
            result = _parse_one(str(value))
        if result is None:
            raise ContractError(
                f"column '{column}' has {str(value)!r} in {row_of(index, position)}, which is not a "
                "month (2015-02), quarter (2015Q1) or year (2015); fix that value"
            )
        freq, period = result
        if first_freq is None:
            first_freq = freq
        elif freq != first_freq:
            raise ContractError(
                f"column '{column}' mixes {FREQUENCY_NAMES[first_freq]} and "
                f"{FREQUENCY_NAMES[freq]} periods ({str(value)!r} in {row_of(index, position)}); "
                "use one frequency throughout"
            )
        parsed.append(period)
    if not parsed:
        raise ContractError(f"column '{column}' has no rows; the file holds no data")
    return pd.PeriodIndex(parsed, freq=first_freq)


def parse_period(value: object, freq: str, parameter: str) -> pd.Period:
    """Parse one period given as a parameter (for example the intervention) at frequency ``freq``.

    Examples
    --------
    >>> parse_period("2017-10", "M", "intervention")
    Period('2017-10', 'M')
    """
    if isinstance(value, pd.Period):
        result = value
    else:
        if isinstance(value, (int, np.integer)):
            value = str(value)
        parsed = _parse_one(str(value)) if value is not None else None
        if parsed is None:
            raise ParameterError(
                f"parameter '{parameter}' is {value!r}, which is not a month (2015-10), "
                "quarter (2015Q4) or year (2015)"
            )
        result = parsed[1]
    result_freq = result.freqstr[0]
    if result_freq == "A":
        result_freq = "Y"
    if result_freq != freq:
        raise ParameterError(
            f"parameter '{parameter}' is {FREQUENCY_NAMES.get(result_freq, result_freq)} "
            f"({value}) but the data are {FREQUENCY_NAMES[freq]}; give it in the data's form"
        )
    return result


def frequency_of(index: pd.PeriodIndex) -> str:
    """``"M"``, ``"Q"`` or ``"Y"`` for a PeriodIndex.

    Examples
    --------
    >>> frequency_of(pd.period_range("2016Q1", periods=3, freq="Q"))
    'Q'
    """
    code = index.freqstr[0]
    return "Y" if code == "A" else code


def season_of(index: pd.PeriodIndex) -> np.ndarray:
    """Calendar month (1-12) or quarter (1-4) of each period; 1 for annual data.

    Examples
    --------
    >>> season_of(pd.period_range("2016-11", periods=3, freq="M")).tolist()
    [11, 12, 1]
    """
    freq = frequency_of(index)
    if freq == "M":
        return np.asarray(index.month)
    if freq == "Q":
        return np.asarray(index.quarter)
    return np.ones(len(index), dtype=int)
