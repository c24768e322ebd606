"""The contract of unit-by-year panels (difference-in-differences)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from payreform.contracts.columns import numeric_column, require_column
from payreform.errors import ContractError, ParameterError
from payreform.periods import row_label


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
            "whole numbers such as 2015"
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
