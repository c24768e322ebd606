"""Risk-adjusted outpatient capitation from person-year settlement records, at city scale.

The method follows the GZ study (Sun, He, Liu, Du and Xu, "Risk-adjusted capitation payment for
outpatient services in China's healthcare insurance"), per insurance scheme and year, one
module per step:

- :mod:`~payreform.capitation.cells`: the records checked against their contract and reduced
  to exact sufficient statistics in one DuckDB pass (:func:`cell_statistics`), or with
  ``engine="spark"`` in one Apache Spark pass (:mod:`~payreform.capitation.spark`, imported
  only then; the same statistics and the same contract errors);
- :mod:`~payreform.capitation.screening`: factor screening regressions (:func:`screen_factors`);
- :mod:`~payreform.capitation.kmeans1d`: exact 1-D k-means and the rules that choose k;
- :mod:`~payreform.capitation.grouping`: age bands and single diseases grouped
  (:func:`group_age_bands`, :func:`group_diseases`);
- :mod:`~payreform.capitation.standards`: payment standards with pooling of small groups
  (:func:`payment_standards`);
- :mod:`~payreform.capitation.blending`: two years' standards blended and the payment
  simulated (:func:`simulate_blending`);
- :mod:`~payreform.capitation.evaluation`: predictive ratios, fit, and the published groupings
  checked (:func:`predictive_ratios`, :func:`fit_statistics`, :func:`compare_groupings`);
- :mod:`~payreform.capitation.analysis`: every step at once (:func:`analyse_capitation`).

Confidentiality: nothing returns person-level rows, and nothing a table, figure or
``results.json`` shows rests on fewer than ``min_cell_size`` persons (default 10): small items
and groups are pooled with a documented neighbour, and what remains small is suppressed.
"""

from payreform.capitation.analysis import (
    GROUP_SOURCES,
    CapitationAnalysis,
    analyse_capitation,
    groups_for,
    standard_name,
)
from payreform.capitation.blending import BlendingSimulation, omega_grid, simulate_blending
from payreform.capitation.cells import (
    ENGINES,
    SPARK_MASTER,
    CellStatistics,
    Fit,
    cell_statistics,
    load_disease_file,
    ols_from_moments,
)
from payreform.capitation.evaluation import (
    FitStatistics,
    GroupingComparison,
    PredictiveRatios,
    adjusted_rand_index,
    compare_groupings,
    fit_statistics,
    paper_grouping_table,
    predictive_ratios,
)
from payreform.capitation.grouping import (
    OTHER_DISEASES,
    Grouping,
    group_age_bands,
    group_diseases,
)
from payreform.capitation.kmeans1d import (
    RULE_ELBOW,
    RULE_FIRST_PEAK,
    Clustering1D,
    calinski_harabasz,
    choose_k,
    elbow,
    first_peak,
    kmeans_1d,
    kmeans_path,
)
from payreform.capitation.schema import (
    AGE_BAND_LOWER,
    AGE_BANDS,
    MIN_CELL_SIZE,
    SCREENING_FACTORS,
    WEIGHTINGS,
    DiseaseCodes,
    age_band_of,
    band_label,
    paper_disease_codes,
    paper_groupings,
    parse_scheme_codes,
    predicted_tenths,
    standardise,
)
from payreform.capitation.screening import ScreeningResult, screen_factors
from payreform.capitation.standards import (
    ModelStructure,
    PaymentStandards,
    payment_standards,
    two_latest_years,
)
from payreform.contracts.person_years import (
    COLUMNS,
    CONTRACT,
    GENDER_CODES,
    PersonYearData,
    validate_person_years,
)

__all__ = [
    "AGE_BANDS", "AGE_BAND_LOWER", "COLUMNS", "CONTRACT", "ENGINES", "GENDER_CODES",
    "GROUP_SOURCES", "MIN_CELL_SIZE", "OTHER_DISEASES", "RULE_ELBOW", "RULE_FIRST_PEAK",
    "SCREENING_FACTORS", "SPARK_MASTER",
    "WEIGHTINGS", "BlendingSimulation", "CapitationAnalysis", "CellStatistics", "Clustering1D",
    "DiseaseCodes", "Fit", "FitStatistics", "Grouping", "GroupingComparison", "ModelStructure",
    "PaymentStandards", "PersonYearData", "PredictiveRatios", "ScreeningResult",
    "adjusted_rand_index", "age_band_of", "analyse_capitation", "band_label",
    "calinski_harabasz", "cell_statistics", "choose_k", "compare_groupings", "elbow",
    "first_peak", "fit_statistics", "group_age_bands", "group_diseases", "groups_for", "kmeans_1d",
    "kmeans_path", "load_disease_file", "ols_from_moments", "omega_grid", "paper_disease_codes",
    "paper_grouping_table", "paper_groupings", "parse_scheme_codes", "payment_standards",
    "predicted_tenths", "predictive_ratios", "screen_factors", "simulate_blending",
    "standard_name", "standardise", "two_latest_years", "validate_person_years",
]
