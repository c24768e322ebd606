"""Data contracts: check a data set before any computation and say precisely what is wrong.

Each chapter states what its data must look like (columns, types, allowed values, one row per
what). The functions here check that and raise :class:`ContractError` with a one-line message
naming the column, the row (spreadsheet numbering: the header is row 1) and the fix. They
never modify the frame they are given; they return a cleaned copy.

The checks are written out here rather than with a schema library because most of them are
about the *series* (gaps, frequency, the intervention's position) rather than single cells,
and because the messages are aimed at analysts who know Excel or Stata better than Python.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from payreform.errors import ContractError, ParameterError, closest
from payreform.periods import (
    FREQUENCY_NAMES,
    frequency_of,
    parse_period,
    parse_periods,
    row_label,
    row_of,
)

__all__ = [
    "ContractError",
    "GroupedTimeSeriesData",
    "PanelData",
    "TimeSeriesData",
    "is_percent_column",
    "numeric_column",
    "require_column",
    "validate_grouped_time_series",
    "validate_panel",
    "validate_time_series",
]

_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
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


@dataclass(frozen=True)
class TimeSeriesData:
    """A validated single series: one row per period, no gaps, numeric outcomes.

    Attributes
    ----------
    frame
        Outcomes (and the offset, if any) as floats, indexed by a gap-free, sorted
        :class:`pandas.PeriodIndex` named ``period``.
    frequency
        ``"M"``, ``"Q"`` or ``"Y"``.
    outcomes
        The outcome columns, in the order given.
    intervention
        The first period under the intervention.
    offset
        The offset column (a population, for rates), if one was given.
    """

    frame: pd.DataFrame
    frequency: str
    outcomes: tuple[str, ...]
    intervention: pd.Period
    offset: str | None = None

    @property
    def n_pre(self) -> int:
        """Number of periods before the intervention."""
        return int((self.frame.index < self.intervention).sum())

    @property
    def n_post(self) -> int:
        """Number of periods from the intervention on."""
        return int((self.frame.index >= self.intervention).sum())


def numeric_like(series: pd.Series) -> bool:
    """Mostly numbers: taken as an outcome by default, so that a stray text cell is reported
    rather than the whole column silently skipped."""
    values = series.dropna()
    if values.empty:
        return False
    return bool(_to_number(values).notna().mean() > 0.5)


def validate_time_series(
    frame: pd.DataFrame,
    *,
    time_column: str = "month",
    outcomes: Sequence[str] | None = None,
    intervention: object,
    offset: str | None = None,
    min_pre: int = 3,
    min_post: int = 3,
) -> TimeSeriesData:
    """Check one interrupted time series against the ITSA data contract.

    Contract: one row per period (month, quarter or year) with no gaps and no duplicates; each
    outcome numeric, present in every row, zero or positive, and between 0 and 100 if its
    name marks a percentage (``_rate``, ``_pct``, ``率``, ``(%)``); the intervention period
    inside the data with at least ``min_pre`` periods before it and ``min_post`` from it on;
    the offset, if given, strictly positive.

    Parameters
    ----------
    frame
        The data as read (see :func:`payreform.io.read_table`); not modified.
    time_column
        Column holding the period of each row.
    outcomes
        Outcome columns; ``None`` takes every column except the time and offset columns whose
        values are mostly numbers (a text value in such a column is then reported, not skipped).
    intervention
        First period under the intervention, in the data's form (``"2017-10"``, ``"2017Q4"``, ``2017``).
    offset
        Optional column with the population at risk (used as log offset by count models).
    min_pre, min_post
        Fewest periods allowed before and after the intervention.

    Returns
    -------
    TimeSeriesData

    Raises
    ------
    ContractError
        For the first rule the data break.

    Examples
    --------
    >>> df = pd.DataFrame({"month": pd.period_range("2016-01", periods=24, freq="M").astype(str),
    ...                    "visits": range(24)})
    >>> ts = validate_time_series(df, outcomes=["visits"], intervention="2017-01")
    >>> ts.n_pre, ts.n_post
    (12, 12)
    """
    if not isinstance(frame, pd.DataFrame):
        raise ContractError("data must be a table (a pandas DataFrame or a CSV/Parquet file)")
    if frame.shape[0] == 0:
        raise ContractError("the data have no rows; export the series again")
    if len(set(frame.columns)) != len(frame.columns):
        duplicated = frame.columns[frame.columns.duplicated()][0]
        raise ContractError(f"column name '{duplicated}' appears twice; give each column its own name")
    require_column(frame, time_column, "time_column")
    if offset is not None:
        require_column(frame, offset, "offset")
    if outcomes is None or len(outcomes) == 0:
        skip = {time_column, offset}
        outcomes = [c for c in frame.columns if c not in skip and numeric_like(frame[c])]
        if not outcomes:
            raise ContractError(
                "no numeric outcome column found; name the outcomes with outcomes=col1,col2"
            )
    outcomes = [str(o).strip() for o in outcomes]
    if len(set(outcomes)) != len(outcomes):
        raise ParameterError("parameter 'outcomes' names a column twice; list each outcome once")
    for outcome in outcomes:
        require_column(frame, outcome, "outcomes")
        if outcome == time_column:
            raise ParameterError(
                f"'{outcome}' is both the time column and an outcome; list only outcome columns"
            )

    periods = parse_periods(frame[time_column], time_column)
    freq = frequency_of(periods)
    duplicated = periods.duplicated(keep=False)
    if duplicated.any():
        positions = np.flatnonzero(duplicated)
        first, second = int(positions[0]), int(positions[1])
        raise ContractError(
            f"period {periods[first]} appears twice in column '{time_column}' "
            f"({row_of(frame.index, first)} and {row_of(frame.index, second)}); keep one row per period"
        )
    order = np.argsort(periods.asi8, kind="stable")
    sorted_periods = periods[order]
    steps = np.diff(sorted_periods.asi8)
    if (steps != 1).any():
        where = int(np.flatnonzero(steps != 1)[0])
        missing = sorted_periods[where] + 1
        n_missing = int(steps[where] - 1)
        more = f" and {n_missing - 1} more" if n_missing > 1 else ""
        raise ContractError(
            f"the {FREQUENCY_NAMES[freq]} series has a gap: {missing}{more} missing after "
            f"{sorted_periods[where]} in column '{time_column}'; add the missing rows (values "
            "are not interpolated)"
        )

    cleaned = {}
    for outcome in outcomes:
        upper = 100.0 if is_percent_column(outcome) else None
        values = numeric_column(
            frame,
            outcome,
            minimum=0.0,
            maximum=upper,
            what="percentages" if upper else "counts and expenditures",
        )
        if values.nunique() < 2:
            raise ContractError(
                f"outcome '{outcome}' takes the same value in every row; there is nothing to model"
            )
        cleaned[outcome] = values.to_numpy()
    if offset is not None:
        values = numeric_column(frame, offset, what="populations")
        if (values <= 0).any():
            position = int(np.flatnonzero((values <= 0).to_numpy())[0])
            raise ContractError(
                f"offset column '{offset}' is {values.iloc[position]:g} in {row_of(frame.index, position)}; "
                "a population must be greater than 0"
            )
        cleaned[offset] = values.to_numpy()

    start = parse_period(intervention, freq, "intervention")
    first, last = sorted_periods[0], sorted_periods[-1]
    if not first < start <= last:
        raise ContractError(
            f"intervention {start} is outside the data ({first} to {last}); it must be a period "
            "after the first one in the file"
        )
    result_frame = pd.DataFrame(cleaned).iloc[order]
    result_frame.index = pd.PeriodIndex(sorted_periods, name="period")
    data = TimeSeriesData(result_frame, freq, tuple(outcomes), start, offset)
    if data.n_pre < min_pre or data.n_post < min_post:
        raise ContractError(
            f"intervention {start} leaves {data.n_pre} periods before and {data.n_post} from it on; "
            f"segmented regression needs at least {min_pre} before and {min_post} after "
            "(8 or more each is advisable)"
        )
    return data


@dataclass(frozen=True)
class GroupedTimeSeriesData:
    """Several validated series in long format: one row per period and group.

    Attributes
    ----------
    series
        One :class:`TimeSeriesData` per group, in the order the groups first appear.
    group_column
        The column that names the group.
    """

    series: dict[str, TimeSeriesData]
    group_column: str

    @property
    def groups(self) -> tuple[str, ...]:
        """Group names."""
        return tuple(self.series)

    @property
    def intervention(self) -> pd.Period:
        """The (common) first period under the intervention."""
        return next(iter(self.series.values())).intervention

    @property
    def outcomes(self) -> tuple[str, ...]:
        """Outcome columns (the same in every group)."""
        return next(iter(self.series.values())).outcomes

    @property
    def frequency(self) -> str:
        """``"M"``, ``"Q"`` or ``"Y"``."""
        return next(iter(self.series.values())).frequency

    def with_total(self, name: str = "overall") -> GroupedTimeSeriesData:
        """A copy with one more series: the sum of all groups, period by period.

        Examples
        --------
        >>> data.with_total().groups  # doctest: +SKIP
        ('hospital', 'community', 'overall')
        """
        if name in self.series:
            raise ParameterError(f"a group is already called '{name}'; rename it before adding the total")
        first = next(iter(self.series.values()))
        total = sum(ts.frame[list(first.outcomes)] for ts in self.series.values())
        summed = TimeSeriesData(total, first.frequency, first.outcomes, first.intervention, None)
        return GroupedTimeSeriesData(self.series | {name: summed}, self.group_column)


def validate_grouped_time_series(
    frame: pd.DataFrame,
    *,
    time_column: str = "month",
    group_column: str,
    outcomes: Sequence[str] | None = None,
    intervention: object,
    compare: Sequence[str] | None = None,
    min_pre: int = 3,
    min_post: int = 3,
) -> GroupedTimeSeriesData:
    """Check series in long format (one row per period and group) against the ITSA contract.

    Each group must satisfy :func:`validate_time_series` (no duplicate period within a group,
    no gaps, numeric outcomes ...), every group must cover the same periods, and the groups named
    in ``compare`` must exist. Rows are reported with their spreadsheet numbers in the file.

    Examples
    --------
    >>> long = pd.concat([df.assign(site="a"), df.assign(site="b")])  # doctest: +SKIP
    >>> data = validate_grouped_time_series(long, group_column="site", intervention="2017-01")  # doctest: +SKIP
    """
    if not isinstance(frame, pd.DataFrame) or frame.shape[0] == 0:
        raise ContractError("the data have no rows; export the series again")
    require_column(frame, group_column, "group_column")
    require_column(frame, time_column, "time_column")
    if outcomes is None or len(outcomes) == 0:
        skip = {time_column, group_column}
        outcomes = [c for c in frame.columns if c not in skip and numeric_like(frame[c])]
    labels = frame[group_column]
    if labels.isna().any() or (labels.astype(str).str.strip() == "").any():
        position = int(np.flatnonzero((labels.isna() | (labels.astype(str).str.strip() == "")).to_numpy())[0])
        raise ContractError(
            f"column '{group_column}' is empty in {row_of(frame.index, position)}; every row needs a group"
        )
    names = list(dict.fromkeys(labels.astype(str).str.strip()))
    if compare is not None:
        compare = [str(c).strip() for c in compare]
        if len(compare) != 2 or compare[0] == compare[1]:
            raise ParameterError(
                f"parameter 'compare' is {compare!r}; give two different groups, for example "
                f"compare={names[0]},{names[-1]}"
            )
        for name in compare:
            if name not in names:
                raise ParameterError(
                    f"parameter 'compare' names group '{name}', which is not in column '{group_column}'"
                    f"{closest(name, names)}; the groups are {', '.join(names)}"
                )
    series = {}
    for name in names:
        part = frame[labels.astype(str).str.strip() == name]
        try:
            series[name] = validate_time_series(part, time_column=time_column, outcomes=outcomes,
                                                intervention=intervention, min_pre=min_pre, min_post=min_post)
        except ContractError as error:
            raise ContractError(f"group '{name}': {error}") from None
    reference_name, reference = names[0], series[names[0]].frame.index
    for name in names[1:]:
        index = series[name].frame.index
        if not index.equals(reference):
            missing = reference.difference(index)
            if len(missing):
                raise ContractError(
                    f"group '{name}' has no row for {missing[0]} (group '{reference_name}' has one); "
                    "every group needs the same periods"
                )
            extra = index.difference(reference)
            raise ContractError(
                f"group '{reference_name}' has no row for {extra[0]} (group '{name}' has one); "
                "every group needs the same periods"
            )
    return GroupedTimeSeriesData(series, group_column)


# ----------------------------------------------------------------------------- unit-by-year panels (DID)


@dataclass(frozen=True, eq=False)
class PanelData:
    """A validated unit-by-year panel (see :func:`validate_panel`).

    Attributes
    ----------
    frame
        Columns ``unit``, ``year`` (int), ``cluster``, ``cohort`` (adoption year, NaN = never;
        only with ``first_treated``), ``treated`` (0/1: ever treated), then the outcomes and
        controls as floats (NaN where missing). One row per unit and year, sorted.
    unit, time, treated, first_treated, cluster
        The column names as given.
    outcomes, controls
        Column names of the outcomes and controls.
    years
        Sorted years present in the data.
    balanced
        True if every unit has a row for every year.
    """

    frame: pd.DataFrame = field(repr=False)
    unit: str
    time: str
    treated: str | None
    first_treated: str | None
    cluster: str
    outcomes: tuple[str, ...]
    controls: tuple[str, ...]
    years: tuple[int, ...]
    balanced: bool

    @property
    def n_units(self) -> int:
        """Number of units."""
        return int(self.frame["unit"].nunique())

    @property
    def n_treated_units(self) -> int:
        """Number of ever-treated units."""
        return int(self.frame.groupby("unit", sort=False)["treated"].first().sum())

    @property
    def n_control_units(self) -> int:
        """Number of never-treated units."""
        return self.n_units - self.n_treated_units

    @property
    def adoption_years(self) -> tuple[int, ...]:
        """Distinct adoption years of the treated units (empty without ``first_treated``)."""
        if "cohort" not in self.frame:
            return ()
        cohorts = self.frame["cohort"].dropna().unique()
        return tuple(sorted(int(c) for c in cohorts))


def _name(value: object) -> str:
    """A unit identifier as written in messages: 12, or 'A-12' for text."""
    value = value.item() if isinstance(value, np.generic) else value
    return repr(value) if isinstance(value, str) else str(value)


def _first_conflict(values: pd.Series, units: pd.Series) -> tuple[object, int, int] | None:
    """First unit whose ``values`` differ between its rows: (unit, row a, row b) positions."""
    unit_codes, unit_levels = pd.factorize(units)
    value_codes, _ = pd.factorize(values)  # missing values get code -1, so they count as a value
    low = np.full(len(unit_levels), np.iinfo(np.int64).max)
    high = np.full(len(unit_levels), np.iinfo(np.int64).min)
    np.minimum.at(low, unit_codes, value_codes)
    np.maximum.at(high, unit_codes, value_codes)
    varies = (low != high)[unit_codes]
    if not varies.any():
        return None
    position = int(np.flatnonzero(varies)[0])
    rows = np.flatnonzero(unit_codes == unit_codes[position])
    other = next(int(r) for r in rows if value_codes[r] != value_codes[position])
    first, second = sorted((position, other))
    return units.iloc[position], first, second


def validate_panel(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcomes: Sequence[str],
    treated: str | None = None,
    first_treated: str | None = None,
    controls: Sequence[str] = (),
    year_base: int | None = None,
    did_base: int | None = None,
    cluster: str | None = None,
    require_never_treated: bool = True,
) -> PanelData:
    """Check a unit-by-year panel against the DID data contract and return a clean copy.

    Contract: one row per unit and year; years are whole numbers; the treatment is either a 0/1
    column ``treated`` that is constant within each unit, or an adoption-year column
    ``first_treated`` (empty, NaN or 0 for never-treated units) that is constant within each
    unit; there are treated and control units; outcomes and controls hold numbers (empty cells
    are allowed and dropped fit by fit); every control changes within at least one unit (a
    control that never changes within a unit is absorbed by the unit fixed effects); the base
    years, if given, are years in the data; the cluster column, if given, is constant within
    each unit. Unbalanced panels are allowed.

    Parameters
    ----------
    data
        The panel as read; not modified.
    unit, time
        Unit identifier (county) and year columns.
    outcomes, controls
        Outcome and control columns.
    treated, first_treated
        Exactly one of them: the 0/1 treatment-group column, or the adoption-year column.
    year_base, did_base
        Base years to check (optional).
    cluster
        Cluster column (default: the unit).
    require_never_treated
        With ``first_treated``, whether never-treated units are required (False for
        comparisons with not-yet-treated units only).

    Returns
    -------
    PanelData

    Raises
    ------
    ContractError
        For the first rule the data break, in one line naming the column, row or parameter.

    Examples
    --------
    >>> df = pd.DataFrame({"county": [1, 1, 2, 2], "year": [2019, 2020, 2019, 2020],
    ...                    "treated": [1, 1, 0, 0], "cost": [10.0, 12.0, 9.0, 9.5]})
    >>> panel = validate_panel(df, unit="county", time="year", outcomes=["cost"], treated="treated")
    >>> panel.years, panel.balanced, panel.n_treated_units
    ((2019, 2020), True, 1)
    """
    if not isinstance(data, pd.DataFrame):
        raise ContractError("data must be a table (a pandas DataFrame or a CSV/Parquet file)")
    if data.shape[0] == 0:
        raise ContractError("the data have no rows; export the panel again")
    if len(set(data.columns)) != len(data.columns):
        duplicated = data.columns[data.columns.duplicated()][0]
        raise ContractError(f"column name '{duplicated}' appears twice; give each column its own name")
    if (treated is None) == (first_treated is None):
        raise ParameterError(
            "give exactly one of treated_column (0/1 treatment group) and first_treated_column "
            "(adoption year)"
        )
    outcomes = [str(o) for o in ([outcomes] if isinstance(outcomes, str) else outcomes)]
    controls = [str(c) for c in ([controls] if isinstance(controls, str) else controls)]
    if not outcomes:
        raise ParameterError("parameter 'outcomes' is empty; name at least one outcome column")
    for name, key in ((unit, "unit_column"), (time, "time_column")):
        require_column(data, name, key)
    if treated is not None:
        require_column(data, treated, "treated_column")
    else:
        require_column(data, first_treated, "first_treated_column")
    for outcome in outcomes:
        require_column(data, outcome, "outcomes")
    for control in controls:
        require_column(data, control, "controls")
    if cluster is not None:
        require_column(data, cluster, "cluster_column")
    special = {unit, time, treated, first_treated}
    for name in outcomes + controls:
        if name in special:
            raise ParameterError(f"column '{name}' is the unit, time or treatment column; it cannot also be an outcome or control")
    overlap = set(outcomes) & set(controls)
    if overlap:
        raise ParameterError(f"column '{sorted(overlap)[0]}' is listed as both an outcome and a control; list it once")

    frame = data.reset_index(drop=True)
    units = frame[unit]
    if units.isna().any():
        position = int(np.flatnonzero(units.isna().to_numpy())[0])
        raise ContractError(f"column '{unit}' is missing the unit identifier in {row_label(position)}; fill it in or drop the row")
    years = numeric_column(frame, time, what="years")
    if not np.all(np.equal(np.mod(years.to_numpy(), 1), 0)):
        position = int(np.flatnonzero(np.mod(years.to_numpy(), 1) != 0)[0])
        raise ContractError(
            f"column '{time}' has {years.iloc[position]:g} in {row_label(position)}; years must be "
            "whole numbers such as 2019"
        )
    years = years.astype(int)
    duplicated = pd.DataFrame({"u": units, "y": years}).duplicated(keep=False).to_numpy()
    if duplicated.any():
        first = int(np.flatnonzero(duplicated)[0])
        same = duplicated & (units == units.iloc[first]).to_numpy() & (years == years.iloc[first]).to_numpy()
        second = int(np.flatnonzero(same)[1])
        raise ContractError(
            f"unit {_name(units.iloc[first])} has two rows for year {years.iloc[first]} ({row_label(first)} "
            f"and {row_label(second)}); keep one row per unit and year"
        )

    out = pd.DataFrame({"unit": units.to_numpy(), "year": years.to_numpy()})
    if treated is not None:
        flag = numeric_column(frame, treated, what="treatment indicators")
        bad = ~flag.isin([0.0, 1.0]).to_numpy()
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            raise ContractError(
                f"column '{treated}' has {flag.iloc[position]:g} in {row_label(position)}; use 1 for "
                "treated units and 0 for control units"
            )
        conflict = _first_conflict(flag, units)
        if conflict is not None:
            who, a, b = conflict
            raise ContractError(
                f"column '{treated}' changes within unit {_name(who)} ({flag.iloc[a]:g} in {row_label(a)}, "
                f"{flag.iloc[b]:g} in {row_label(b)}); the treatment group must be fixed per unit "
                "(for adoption years use first_treated_column)"
            )
        out["treated"] = flag.to_numpy().astype(int)
    else:
        cohort = numeric_column(frame, first_treated, allow_missing=True, what="adoption years")
        cohort = cohort.where(cohort != 0)
        values = cohort.to_numpy()
        bad = np.isfinite(values) & (np.mod(values, 1) != 0)
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            raise ContractError(
                f"column '{first_treated}' has {values[position]:g} in {row_label(position)}; adoption "
                "years must be whole years (leave empty or 0 for never-treated units)"
            )
        conflict = _first_conflict(cohort, units)
        if conflict is not None:
            who, a, b = conflict
            show = lambda v: "empty" if pd.isna(v) else f"{v:g}"  # noqa: E731
            raise ContractError(
                f"column '{first_treated}' changes within unit {_name(who)} ({show(cohort.iloc[a])} in "
                f"{row_label(a)}, {show(cohort.iloc[b])} in {row_label(b)}); the adoption year must be "
                "the same in every row of a unit"
            )
        out["cohort"] = values
        out["treated"] = np.isfinite(values).astype(int)
    by_unit = out.groupby("unit", sort=False)["treated"].first()
    if by_unit.sum() == 0:
        raise ContractError(
            f"no treated unit: column '{treated or first_treated}' marks every unit as control; "
            "the comparison needs treated units"
        )
    if by_unit.sum() == len(by_unit) and (treated is not None or require_never_treated):
        raise ContractError(
            f"no control unit: column '{treated or first_treated}' marks every unit as treated; "
            "the comparison needs units that were never treated"
        )
    if cluster is not None and cluster != unit:
        clusters = frame[cluster]
        if clusters.isna().any():
            position = int(np.flatnonzero(clusters.isna().to_numpy())[0])
            raise ContractError(f"column '{cluster}' is missing the cluster in {row_label(position)}; fill it in")
        conflict = _first_conflict(clusters, units)
        if conflict is not None:
            who, a, b = conflict
            raise ContractError(
                f"column '{cluster}' changes within unit {_name(who)} ({row_label(a)}, {row_label(b)}); "
                "clusters must group whole units (a county belongs to one cluster)"
            )
        out["cluster"] = clusters.to_numpy()
    else:
        out["cluster"] = units.to_numpy()
        cluster = unit

    for name in outcomes:
        out[name] = numeric_column(frame, name, allow_missing=True, what="outcome values").to_numpy()
        if out[name].isna().all():
            raise ContractError(f"outcome '{name}' has no values; fill it in or drop it from outcomes")
    for name in controls:
        values = numeric_column(frame, name, allow_missing=True, what="control values")
        out[name] = values.to_numpy()
        grouped = values.groupby(units.to_numpy(), sort=False)
        spread = grouped.max() - grouped.min()
        if not (spread.fillna(0) > 1e-12 * (1 + values.abs().max())).any():
            raise ContractError(
                f"control '{name}' does not change within any unit, so the unit fixed effects absorb "
                "it; drop it from controls"
            )

    all_years = tuple(sorted(int(y) for y in out["year"].unique()))
    if len(all_years) < 2:
        raise ContractError(f"column '{time}' holds only one year ({all_years[0]}); a panel needs two or more")
    for name, value in (("year_base", year_base), ("did_base", did_base)):
        if value is not None and value not in all_years:
            raise ContractError(
                f"{name} {value} is not a year in column '{time}' ({all_years[0]}-{all_years[-1]}); "
                f"set {name} to one of {', '.join(map(str, all_years))}"
            )
    out = out.sort_values(["unit", "year"], kind="stable").reset_index(drop=True)
    counts = out.groupby("unit", sort=False).size()
    return PanelData(
        frame=out, unit=unit, time=time, treated=treated, first_treated=first_treated,
        cluster=cluster, outcomes=tuple(outcomes), controls=tuple(controls), years=all_years,
        balanced=bool((counts == len(all_years)).all()),
    )
