"""Shared figure styles, so every chapter's figures look alike.

Functions draw on a Matplotlib ``Axes`` (created if not given) and return the figure; they do
not call ``plt.show()`` or change global settings. Notebooks call :func:`set_theme` once.
"""

from payreform.plots.budget import budget_figure, ratchet_figure
from payreform.plots.capitation import (
    calinski_harabasz_figure,
    predictive_ratio_figure,
    savings_figure,
    standards_heatmap,
)
from payreform.plots.common import (
    CJK_FONTS,
    COLORS,
    FIGSIZE,
    chinese_font,
    save,
    saved_image,
    set_theme,
)
from payreform.plots.did import (
    event_study_figure,
    event_study_grid,
    honest_did_figure,
    honest_did_grid,
    staggered_figure,
)
from payreform.plots.itsa import (
    annual_indicator_figure,
    coefficient_figure,
    coefficient_grid,
    itsa_figure,
    itsa_grid,
    residual_figure,
    seasonal_index_figure,
    series_grid,
)

__all__ = [
    "CJK_FONTS", "COLORS", "FIGSIZE", "annual_indicator_figure", "budget_figure", "calinski_harabasz_figure", "chinese_font",
    "coefficient_figure", "coefficient_grid", "event_study_figure", "event_study_grid", "honest_did_grid", "honest_did_figure", "itsa_figure",
    "itsa_grid", "predictive_ratio_figure", "ratchet_figure", "residual_figure", "save", "saved_image", "savings_figure",
    "seasonal_index_figure", "series_grid", "set_theme", "staggered_figure", "standards_heatmap",
]
