"""Event-study difference-in-differences on a unit-by-year panel, with the checks around it.

One module per method step, every public name re-exported here (``from payreform import did;
did.event_study(...)`` and ``from payreform.did import event_study`` both work):

:mod:`payreform.did.event_study`
    :func:`event_study` (within-unit OLS, CRV1 clustered errors), :class:`EventStudyResult`,
    :func:`term_label` (readable term names).
:mod:`payreform.did.defaults`
    design choices read from the panel (base year, adoption year, first post-period term,
    balance years): :func:`design_defaults`.
:mod:`payreform.did.checks`
    :func:`pretrend_test` (joint F test) and :func:`balance_table` (the paper's Table 1).
:mod:`payreform.did.honest`
    :func:`honest_did` and :func:`breakdown_value` (Rambachan and Roth 2023).
:mod:`payreform.did.staggered`
    :func:`callaway_santanna` and :func:`twfe_vs_callaway_santanna`.
:mod:`payreform.did.sensitivity`
    :func:`sensitivity_analysis` (both restrictions, breakdown values, a second reference year)
    and :func:`largest_pre_change`.
:mod:`payreform.did.tables`
    several outcomes' tests, controls and breakdown values side by side, for reading.
:mod:`payreform.did.sentences`
    sentences for reports chosen by the numbers (a test rejects or not, an effect's sign and
    significance, a breakdown value below or above 1).

Examples
--------
>>> from payreform import did
>>> from payreform.synth import ccmc
>>> fit = did.event_study(ccmc.generate(seed=1), outcome="patient_satisfaction", unit="county_id",
...                       time="year", treated="treated", did_base=2020)
>>> did.term_label(fit.post_terms[0]), did.pretrend_test(fit).df1
('treated × 2021', 2)
"""

from payreform.did.checks import BalanceTable, PretrendTest, balance_table, format_p, pretrend_test
from payreform.did.defaults import (
    DesignDefaults,
    adoption_year,
    adoption_years_in,
    balance_years,
    design_defaults,
    event_times,
)
from payreform.did.event_study import SE_TYPES, EventStudyResult, event_study, term_label
from payreform.did.honest import (
    RESTRICTIONS,
    HonestDiDResult,
    breakdown_value,
    honest_did,
    honest_did_from_estimates,
)
from payreform.did.sensitivity import SensitivityAnalysis, largest_pre_change, sensitivity_analysis
from payreform.did.sentences import (
    balance_sentence,
    breakdown_sentence,
    claims_sentence,
    digits_for,
    effect_sentence,
    pretrend_overview,
    pretrend_reference_sentence,
    pretrend_sentence,
    reference_sentence,
    staggered_sentence,
)
from payreform.did.staggered import (
    BASE_PERIODS,
    CONTROL_GROUPS,
    CallawaySantAnnaResult,
    StaggeredComparison,
    callaway_santanna,
    staggered_comparison,
    twfe_vs_callaway_santanna,
)
from payreform.did.tables import breakdown_table, controls_table, honest_table, pretrend_table

__all__ = [
    "BASE_PERIODS",
    "CONTROL_GROUPS",
    "RESTRICTIONS",
    "SE_TYPES",
    "BalanceTable",
    "CallawaySantAnnaResult",
    "DesignDefaults",
    "EventStudyResult",
    "HonestDiDResult",
    "PretrendTest",
    "SensitivityAnalysis",
    "StaggeredComparison",
    "adoption_year",
    "adoption_years_in",
    "balance_sentence",
    "balance_table",
    "balance_years",
    "breakdown_sentence",
    "breakdown_table",
    "breakdown_value",
    "callaway_santanna",
    "claims_sentence",
    "controls_table",
    "design_defaults",
    "digits_for",
    "effect_sentence",
    "event_study",
    "event_times",
    "format_p",
    "honest_did",
    "honest_did_from_estimates",
    "honest_table",
    "largest_pre_change",
    "pretrend_overview",
    "pretrend_reference_sentence",
    "pretrend_sentence",
    "pretrend_table",
    "pretrend_test",
    "reference_sentence",
    "sensitivity_analysis",
    "staggered_comparison",
    "staggered_sentence",
    "term_label",
    "twfe_vs_callaway_santanna",
]
