"""The whole capitation method on one data set: screening, grouping, standards, blending, checks.

:func:`analyse_capitation` runs every step on person-year records (or on cell statistics already
computed) and returns one :class:`CapitationAnalysis` whose :meth:`~CapitationAnalysis.estimates`
and :meth:`~CapitationAnalysis.diagnostics` hold everything a report publishes, with nothing
resting on fewer than ``min_cell_size`` persons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from payreform.capitation.blending import BlendingSimulation, simulate_blending
from payreform.capitation.cells import SPARK_MASTER, CellStatistics, cell_statistics
from payreform.capitation.evaluation import (
    FitStatistics,
    PredictiveRatios,
    fit_statistics,
    predictive_ratios,
)
from payreform.capitation.grouping import Grouping, group_age_bands, group_diseases
from payreform.capitation.schema import (
    MIN_CELL_SIZE,
    ProgressCallback,
    check_min_cell_size,
    paper_groupings,
    report,
)
from payreform.capitation.screening import ScreeningResult, screen_factors
from payreform.capitation.standards import PaymentStandards, payment_standards, two_latest_years
from payreform.errors import ParameterError, check_choice

__all__ = ["GROUP_SOURCES", "CapitationAnalysis", "analyse_capitation", "groups_for",
           "standard_name"]

GROUP_SOURCES = ("clustered", "paper", "file")
"""Where the groups of the payment model come from: clustered from the data, the GZ paper's
published groups (its Tables 3-6), or the ``group`` column of the diseases file (ages clustered)."""

_FIELDS = ["term", "estimate", "std_error", "p_value", "ci_low", "ci_high", "n_obs", "scheme",
           "year", "persons"]


def standard_name(gender: Any, age_group: Any, ocsd_group: Any, inpatient: Any) -> str:
    """Name of a cell's standard in ``results.json``.

    Examples
    --------
    >>> standard_name(2, 3, 0, 1)
    'g2-a3-ocsd0-inp1'
    """
    return f"g{gender}-a{age_group}-ocsd{ocsd_group}-inp{inpatient}"


@dataclass(frozen=True, eq=False)
class CapitationAnalysis:
    """Every step of the method on one data set (see :func:`analyse_capitation`)."""

    cells: CellStatistics = field(repr=False)
    screening: ScreeningResult = field(repr=False)
    age_groups: Grouping = field(repr=False)
    disease_groups: Grouping = field(repr=False)
    standards: PaymentStandards = field(repr=False)
    simulation: BlendingSimulation = field(repr=False)
    predictive_ratios: PredictiveRatios = field(repr=False)
    fit: FitStatistics = field(repr=False)
    parameters: dict[str, Any] = field(repr=False)

    @property
    def min_cell_size(self) -> int:
        """No published number rests on fewer persons."""
        return int(self.parameters["min_cell_size"])

    def standards_estimates(self) -> pd.DataFrame:
        """One row per cell's standard: the standard (floored at 0), its HC1 error and interval,
        ``n_obs`` (the cell's persons, empty under ``min_cell_size``), ``persons`` (the fewest
        persons behind any coefficient it adds up)."""
        grid = self.standards.standards_table()
        q = stats.norm.ppf(0.975)
        coefficients = self.standards.coefficients
        support = np.full(len(grid), np.nan)
        for (scheme, year), rows in grid.groupby(["scheme", "year"], sort=False):
            structure = self.standards.structures[scheme]
            design, terms = structure.design(*(rows[c].to_numpy() for c in (
                "gender", "age_group", "ocsd_group", "inpatient")))
            persons = (coefficients[(coefficients["scheme"] == scheme)
                                    & (coefficients["year"] == year)]
                       .set_index("term")["persons"].reindex(terms).to_numpy(float))
            support[rows.index.to_numpy()] = np.where(design != 0, persons[None, :],
                                                      np.inf).min(axis=1)
        return pd.DataFrame({
            "term": [standard_name(*r) for r in grid[["gender", "age_group", "ocsd_group",
                                                      "inpatient"]].itertuples(index=False)],
            "estimate": grid["standard"], "std_error": grid["std_error"], "p_value": np.nan,
            "ci_low": grid["standard"] - q * grid["std_error"],
            "ci_high": grid["standard"] + q * grid["std_error"],
            "n_obs": grid["persons"], "scheme": grid["scheme"], "year": grid["year"],
            "persons": support})

    def estimates(self) -> pd.DataFrame:
        """Every coefficient and every cell's standard in the ``results.json`` form.

        Columns: model (``screening``, ``payment model`` or ``standard``), outcome
        (``fund_exp``), term, estimate, std_error (HC1), p_value, ci_low, ci_high, n_obs, scheme,
        year and ``persons`` (the persons the number rests on; never under ``min_cell_size``
        for a number given). Standards are named ``g{gender}-a{age group}-ocsd{group}-inp{0/1}``.
        """
        screening = self.screening.coefficients[_FIELDS].assign(model="screening")
        model = self.standards.table()[_FIELDS].assign(model="payment model")
        cells = self.standards_estimates().assign(model="standard")
        table = pd.concat([screening, model, cells], ignore_index=True)
        table.insert(1, "outcome", "fund_exp")
        return table[["model", "outcome", *_FIELDS]]

    def table(self) -> pd.DataFrame:
        """Same as :meth:`estimates`."""
        return self.estimates()

    def diagnostics(self) -> dict[str, Any]:
        """Diagnostics for ``results.json`` (aggregates only, small cells suppressed)."""
        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return frame.replace({np.nan: None}).to_dict(orient="records")

        counts = self.cells.counts()
        small = counts["persons"] < self.min_cell_size
        counts.loc[small, ["persons", "fund_exp"]] = np.nan
        return {
            "persons": records(counts),
            "years": list(self.standards.years),
            "screening_fit": records(self.screening.fit),
            "r2_contributions": records(self.screening.contributions),
            "los_rule": self.screening.los_reason,
            "drop_los": self.screening.drop_los,
            "age_groups": records(self.age_groups.table()),
            "age_group_summary": records(self.age_groups.group_table()),
            "age_calinski_harabasz": records(self.age_groups.curve_table()),
            "age_rule": dict(self.age_groups.rule),
            "disease_groups": records(self.disease_groups.table()),
            "disease_group_summary": records(self.disease_groups.group_table()),
            "disease_calinski_harabasz": records(self.disease_groups.curve_table()),
            "disease_rule": dict(self.disease_groups.rule),
            "model_groups": self.standards.diagnostics()["groups"],
            "standards_fit": records(self.standards.fit),
            "simulation": records(self.simulation.table()),
            "fit_statistics": records(self.fit.table()),
            "predictive_ratios": records(self.predictive_ratios.table()),
            "pooled": [*self.age_groups_notes(), *self.standards.notes],
            "floored_cells": self.standards.diagnostics()["floored_cells"],
            "notes": list(self.screening.notes),
            "min_cell_size": self.min_cell_size,
        }

    def age_groups_notes(self) -> list[str]:
        """What the grouping steps pooled, per scheme."""
        notes = []
        for grouping in (self.age_groups, self.disease_groups):
            for scheme, items in grouping.pooled.items():
                notes += [f"{scheme}: {note}" for note in items]
        return notes

    def summary(self) -> str:
        """The steps' summaries, one paragraph each."""
        return "\n\n".join([repr(self.cells), self.screening.summary(),
                            self.age_groups.summary(), self.disease_groups.summary(),
                            self.standards.summary(), self.simulation.summary()])

    def __repr__(self) -> str:
        base, target = self.standards.years
        return (f"CapitationAnalysis({self.cells.rows:,} person-years; schemes "
                f"{', '.join(self.standards.schemes)}; standards {base} and {target}; "
                f"{self.simulation.summary()})")


def groups_for(source: Any, cells: CellStatistics, ages: Grouping, diseases: Grouping
                ) -> tuple[Any, Any]:
    """The age and disease groupings of the payment model: ``source`` is one of
    :data:`GROUP_SOURCES` or a pair of mappings; ``ages`` and ``diseases`` are the clusterings."""
    if isinstance(source, tuple):
        return source
    check_choice("groups", source, GROUP_SOURCES)
    if source == "clustered":
        return ages, diseases
    if source == "file":
        if not cells.diseases.groups:
            raise ParameterError("groups=file needs a diseases file with a 'group' column "
                                 "(code,name,group)")
        return ages, {s: dict(cells.diseases.groups) for s in cells.schemes}
    paper_ages, paper_diseases = paper_groupings()
    missing = [s for s in cells.schemes if s not in paper_ages]
    if missing:
        raise ParameterError(
            f"groups=paper uses the GZ paper's groups, which exist for the schemes "
            f"{' and '.join(paper_ages)}; the data's scheme '{missing[0]}' is not one of them "
            "(map the codes with schemes=CODE:UEBHI,... or use groups=clustered)")
    return ({s: paper_ages[s] for s in cells.schemes},
            {s: paper_diseases[s] for s in cells.schemes})


def analyse_capitation(
    data: Any,
    *,
    columns: Mapping[str, str | None] | None = None,
    base_year: int | None = None,
    target_year: int | None = None,
    groups: str | tuple[Any, Any] = "clustered",
    weighting: str = "unweighted",
    k_age: int | Mapping[str, int] | None = None,
    k_disease: int | Mapping[str, int] | None = None,
    k_max: int = 10,
    include_los: bool | None = False,
    alpha: float = 0.05,
    omegas: Sequence[float] | None = None,
    min_cell_size: int = MIN_CELL_SIZE,
    progress: ProgressCallback | None = None,
    engine: str = "duckdb",
    spark_master: str = SPARK_MASTER,
    **read_options: Any,
) -> CapitationAnalysis:
    """Run the whole method: screening, grouping, standards, weighting and predictive ratios.

    Parameters
    ----------
    data
        A DataFrame, a CSV, Excel or Parquet path, or :class:`CellStatistics`.
    columns
        Contract name -> your column name.
    base_year, target_year
        The two years of the weighting (default: the two latest years in the data); the target
        year is clustered and its population paid.
    groups
        ``"clustered"`` (from the data), ``"paper"`` (the GZ paper's published groups),
        ``"file"`` (the diseases file's ``group`` column; ages clustered), or a pair of mappings
        ``({scheme: {band: group}}, {scheme: {code: group}})``. The clustering is shown in any
        case.
    weighting, k_max
        Clustering options (:func:`group_age_bands`).
    k_age, k_disease
        Numbers of groups (None: first Calinski-Harabasz peak, else the elbow).
    include_los
        Keep length of stay in the payment model; None follows the screening rule.
    alpha
        Significance level (length-of-stay rule, intervals).
    omegas
        Weights of the simulation (default 0, 0.1, ..., 1).
    min_cell_size
        No published number rests on fewer persons.
    progress
        Optional ``progress(step, done, total)`` callback.
    engine, spark_master
        Engine of the pass over the records: ``"duckdb"`` (default) or ``"spark"`` on the
        Spark master ``spark_master`` (see :func:`cell_statistics`). Every later step works on
        the statistics and is the same for both.
    **read_options
        For :func:`cell_statistics` (``diseases``, ``scheme_codes``, ``gender_codes``,
        ``separator``, ``sheet``, ``validate``, ``threads``, ``spark_session``).

    Examples
    --------
    >>> from payreform.synth import gz
    >>> analysis = analyse_capitation(gz.generate(seed=1, scale=0.002))
    >>> analysis.simulation.at(0.5)["scheme"].tolist()
    ['UEBHI', 'URRBHI', 'total']
    """
    min_cell_size = check_min_cell_size(min_cell_size)
    steps = 6
    report(progress, "cell statistics", 0, steps)
    cells = data if isinstance(data, CellStatistics) else cell_statistics(
        data, columns=columns, engine=engine, spark_master=spark_master, **read_options)
    years = two_latest_years(cells, base_year, target_year)
    report(progress, "factor screening", 1, steps)
    screening = screen_factors(cells, years=years, alpha=alpha, min_cell_size=min_cell_size)
    report(progress, "grouping age bands and diseases", 2, steps)
    options = {"year": years[1], "weighting": weighting, "k_max": k_max,
               "min_cell_size": min_cell_size}
    ages = group_age_bands(cells, k=k_age, **options)
    diseases = group_diseases(cells, k=k_disease, **options)
    report(progress, "payment standards", 3, steps)
    los = (not screening.drop_los) if include_los is None else bool(include_los)
    age_map, disease_map = groups_for(groups, cells, ages, diseases)
    standards = payment_standards(cells, age_map, disease_map, years=years, include_los=los,
                                  alpha=alpha, min_cell_size=min_cell_size)
    report(progress, "multi-year weighting", 4, steps)
    simulation = simulate_blending(standards, omegas=omegas)
    report(progress, "predictive ratios", 5, steps)
    ratios = predictive_ratios(standards)
    fit = fit_statistics(standards)
    report(progress, "done", steps, steps)
    parameters = {"base_year": years[0], "target_year": years[1],
                  "groups": groups if isinstance(groups, str) else "given",
                  "weighting": weighting, "k_age": k_age, "k_disease": k_disease, "k_max": k_max,
                  "include_los": los, "alpha": alpha, "min_cell_size": min_cell_size}
    return CapitationAnalysis(cells, screening, ages, diseases, standards, simulation, ratios,
                              fit, parameters)
