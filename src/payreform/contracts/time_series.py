"""The contract of interrupted time series: one row per period, no gaps, numeric outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from payreform.contracts.columns import (
    is_percent_column,
    numeric_column,
    numeric_like,
    require_column,
)
from payreform.errors import ContractError, ParameterError, closest
from payreform.periods import FREQUENCY_NAMES, frequency_of, parse_period, parse_periods, row_of


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
        >>> df = pd.DataFrame({"month": pd.period_range("2015-01", periods=8, freq="M").astype(str),
        ...                    "visits": range(1, 9)})
        >>> long = pd.concat([df.assign(site="a"), df.assign(site="b")])
        >>> data = validate_grouped_time_series(long, group_column="site", intervention="2015-05")
        >>> data.with_total().groups
        ('a', 'b', 'overall')
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
    >>> df = pd.DataFrame({"month": pd.period_range("2015-01", periods=8, freq="M").astype(str),
    ...                    "visits": range(1, 9)})
    >>> long = pd.concat([df.assign(site="a"), df.assign(site="b")])
    >>> data = validate_grouped_time_series(long, group_column="site", intervention="2015-05")
    >>> data.groups, data.series["a"].n_pre
    (('a', 'b'), 4)
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
