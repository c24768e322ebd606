"""Data contracts: check a data set before any computation and say precisely what is wrong.

Each chapter states what its data must look like (columns, types, allowed values, one row per
what). The functions here check that and raise :class:`ContractError` with a one-line message
naming the column, the row (spreadsheet numbering: the header is row 1) and the fix. They
never modify the frame they are given; they return a cleaned copy.

The checks are written out here rather than with a schema library because most of them are
about the *series* (gaps, frequency, the intervention's position) rather than single cells,
and because the messages are aimed at analysts who know Excel or Stata better than Python.
"""

from payreform.contracts.columns import (
    is_percent_column,
    numeric_column,
    numeric_like,
    require_column,
)
from payreform.contracts.panel import PanelData, validate_panel
from payreform.contracts.person_years import PersonYearData, validate_person_years
from payreform.contracts.time_series import (
    GroupedTimeSeriesData,
    TimeSeriesData,
    validate_grouped_time_series,
    validate_time_series,
)
from payreform.errors import ContractError

__all__ = [
    "ContractError",
    "GroupedTimeSeriesData",
    "PanelData",
    "PersonYearData",
    "TimeSeriesData",
    "is_percent_column",
    "numeric_column",
    "numeric_like",
    "require_column",
    "validate_grouped_time_series",
    "validate_panel",
    "validate_person_years",
    "validate_time_series",
]
