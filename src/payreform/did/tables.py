"""Tables for reading: several outcomes' tests, controls and breakdown values side by side.

The result objects of the method steps each give a tidy ``.table()``; a report on several
outcomes wants one row per outcome. These functions build those tables from dictionaries
outcome -> result, with readable outcome names (``labels``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from payreform import narrative
from payreform.did.checks import PretrendTest, format_p
from payreform.did.event_study import EventStudyResult
from payreform.did.sensitivity import INTERVAL_COLUMNS, SensitivityAnalysis

__all__ = ["breakdown_table", "controls_table", "honest_table", "pretrend_table"]


def controls_table(fits: Mapping[str, EventStudyResult], labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The control coefficients of every outcome: outcome, control, estimate, 95% CI, p-value.

    Examples
    --------
    >>> from payreform.did import event_study
    >>> from payreform.synth import ccmc
    >>> fit = event_study(ccmc.generate(seed=1), outcome="cost_per_discharge", unit="county_id", time="year",
    ...                   treated="treated", did_base=2020, controls=["population_density"])
    >>> controls_table({"cost_per_discharge": fit})["control"].tolist()
    ['population_density']
    """
    labels = labels or {}
    rows = []
    for outcome, fit in fits.items():
        table = fit.table()
        for row in table[table["term"].isin(fit.controls)].itertuples():
            rows.append({"outcome": labels.get(outcome, outcome), "control": labels.get(row.term, row.term),
                         "estimate": row.estimate, "95% CI": narrative.fmt_interval(row.ci_low, row.ci_high, 3),
                         "p-value": format_p(row.p_value)})
    return pd.DataFrame(rows, columns=["outcome", "control", "estimate", "95% CI", "p-value"])


def pretrend_table(tests: Mapping[str, PretrendTest], labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Joint F test and the individual p-values of the pre-period terms, one row per outcome.

    Examples
    --------
    >>> t = PretrendTest(("did1",), 4.0, 4.0, 1, 50, 0.05, ())
    >>> pretrend_table({"visits": t}).columns.tolist()
    ['outcome', 'F', 'df', 'p (joint)']
    """
    labels = labels or {}
    rows = []
    for outcome, test in tests.items():
        row = {"outcome": labels.get(outcome, outcome), "F": test.statistic, "df": f"({test.df1}, {test.df2})",
               "p (joint)": test.p_value}
        row.update({f"p ({c.name})": c.p_value for c in test.individual})
        rows.append(row)
    return pd.DataFrame(rows)


def honest_table(analyses: Mapping[str, SensitivityAnalysis]) -> pd.DataFrame:
    """Every outcome's robust intervals (relative magnitudes then smoothness, the original first).

    Examples
    --------
    >>> honest_table({}).columns.tolist()
    ['outcome', 'target', 'restriction', 'bound', 'ci_low', 'ci_high', 'method']
    """
    parts = [a.intervals() for a in analyses.values() if a.relative is not None]
    if not parts:
        return pd.DataFrame(columns=INTERVAL_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def breakdown_table(analyses: Mapping[str, SensitivityAnalysis], fits: Mapping[str, EventStudyResult],
                    labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per outcome: the term analysed, its estimate and p-value, the breakdown values of Mbar and M,
    Mbar with the year before the reference (when run) and why an outcome was skipped.

    Examples
    --------
    >>> breakdown_table({}, {}).empty
    True
    """
    labels = labels or {}
    previous = {a.previous_fit.did_base for a in analyses.values() if a.previous is not None}
    rows = []
    for outcome, a in analyses.items():
        fit = fits[outcome]
        term = fit.term(a.target) if a.target in fit.params.index else None
        row = {"outcome": labels.get(outcome, outcome), "term": a.target,
               "estimate": term.estimate if term is not None else np.nan,
               "p-value": term.p_value if term is not None else np.nan,
               "breakdown M̄": a.breakdown_mbar, "breakdown M": a.breakdown_m}
        for year in previous:
            row[f"breakdown M̄, reference {year}"] = a.previous_breakdown
        if a.note:
            row["note"] = a.note
        rows.append(row)
    return pd.DataFrame(rows)
