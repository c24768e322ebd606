"""Figures of the capitation chapter."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from payreform.plots.common import COLORS, FIGSIZE, _axes, _grid, _x  # noqa: F401


def calinski_harabasz_figure(grouping, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Calinski-Harabasz index against the number of groups, one line per scheme, the chosen k
    marked (the paper's Figures 2 and 3). ``grouping``: a :class:`payreform.capitation.Grouping`
    or :class:`payreform.capitation.GroupingComparison`.

    Examples
    --------
    >>> from payreform.capitation import cell_statistics, group_age_bands
    >>> from payreform.synth import gz
    >>> ages = group_age_bands(cell_statistics(gz.generate(seed=1, scale=0.002)))
    >>> len(calinski_harabasz_figure(ages).axes[0].lines) >= 2
    True
    """
    fig, ax = _axes(ax, (6.5, 3.8))
    curve = grouping.curve
    group_keys = ["scheme"] if "dimension" not in curve.columns else ["scheme", "dimension"]
    for key, part in curve.groupby(group_keys, sort=False):
        label = " ".join(map(str, key)) if isinstance(key, tuple) else str(key)
        line, = ax.plot(part["k"], part["calinski_harabasz"], marker="o", label=label)
        if "chosen" in part.columns and part["chosen"].any():
            chosen = part[part["chosen"]]
            ax.plot(chosen["k"], chosen["calinski_harabasz"], marker="o", markersize=12,
                    markerfacecolor="none", color=line.get_color())
    ax.set_xlabel("number of groups k")
    ax.set_ylabel("Calinski-Harabasz index")
    ax.set_xlim(left=1.5)
    ax.legend(frameon=False)
    if title is None and hasattr(grouping, "dimension"):
        title = ("Age bands" if grouping.dimension == "age_band" else "Single diseases") + \
            f", {grouping.year} ({grouping.weighting})"
    if title:
        ax.set_title(title)
    return fig


def standards_heatmap(standards, scheme: str, year: int, inpatient: int = 0,
                      ax: Axes | None = None) -> Figure:
    """Heat-map of the standards (RMB per person-year): rows gender x age group, columns OCSD
    group, for one inpatient status. Standards floored at 0 are marked with an asterisk.

    Examples
    --------
    >>> from payreform.capitation import cell_statistics, paper_groupings, payment_standards
    >>> from payreform.synth import gz
    >>> standards = payment_standards(cell_statistics(gz.generate(seed=1, scale=0.002)),
    ...                               *paper_groupings())
    >>> fig = standards_heatmap(standards, "UEBHI", standards.years[1])
    >>> fig.axes[0].images[0].get_array().shape
    (6, 7)
    """
    import textwrap

    table = standards.standards_table(scheme, year)
    table = table[table["inpatient"] == int(inpatient)]
    grid = table.pivot_table(index=["gender", "age_group"], columns="ocsd_group",
                             values="standard", sort=True)
    floored = table.pivot_table(index=["gender", "age_group"], columns="ocsd_group",
                                values="floored", sort=True, aggfunc="max")
    labels = table.drop_duplicates("ocsd_group").set_index("ocsd_group")["ocsd_label"]
    fig, ax = _axes(ax, (1.4 + 0.95 * grid.shape[1], 0.8 + 0.45 * grid.shape[0]))
    image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="viridis")
    ax.set_xticks(range(grid.shape[1]),
                  [f"{o}\n" + "\n".join(textwrap.wrap(str(labels[o]), 12)) for o in grid.columns],
                  fontsize=7)
    ax.set_yticks(range(grid.shape[0]), [f"{'male' if g == 1 else 'female'}, age group {a}"
                                         for g, a in grid.index], fontsize=8)
    values = grid.to_numpy()
    high = np.nanmax(values) if np.isfinite(values).any() else 0.0
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                mark = "*" if bool(floored.to_numpy()[i, j]) else ""
                ax.text(j, i, f"{values[i, j]:,.0f}{mark}", ha="center", va="center", fontsize=7,
                        color="black" if values[i, j] > 0.6 * high else "white")
    ax.set_xlabel("OCSD group")
    ax.set_title(f"{scheme} {year} standards (RMB), "
                 f"{'hospitalised' if inpatient else 'not hospitalised'} in the previous year",
                 fontsize=9)
    ax.grid(False)
    fig.colorbar(image, ax=ax, label="RMB per person-year")
    return fig


def standards_heatmaps(standards, year: int, inpatient: int = 0) -> Figure:
    """One standards heat-map per scheme, side by side (see :func:`standards_heatmap`)."""
    schemes = list(standards.schemes)
    widths = [1.4 + 0.95 * (standards.n_groups(s)[1] + 1) for s in schemes]
    fig, axes = plt.subplots(1, len(schemes), figsize=(sum(widths) + 1.5 * len(schemes), 4.4),
                             squeeze=False)
    for ax, scheme in zip(axes.flat, schemes, strict=True):
        standards_heatmap(standards, scheme, year, inpatient, ax=ax)
    fig.tight_layout()
    return fig


def savings_figure(simulation, ax: Axes | None = None, published: pd.DataFrame | None = None,
                   percent: bool = True) -> Figure:
    """Savings against the weight on the target year, per scheme and in total, in percent of
    actual expenditure (``percent``, comparable at any scale) or in billion RMB; ``published``
    (columns scheme, omega, savings and actual, in RMB) adds the paper's points
    (``simulation``: :class:`payreform.capitation.BlendingSimulation`).

    Examples
    --------
    >>> from payreform.capitation import (cell_statistics, paper_groupings, payment_standards,
    ...                                   simulate_blending)
    >>> from payreform.synth import gz
    >>> standards = payment_standards(cell_statistics(gz.generate(seed=1, scale=0.002)),
    ...                               *paper_groupings())
    >>> len(savings_figure(simulate_blending(standards)).axes[0].lines)
    4
    """
    fig, ax = _axes(ax, (6.5, 3.8))
    rows = simulation.table()
    colors = {}

    def value(frame: pd.DataFrame) -> pd.Series:
        return 100 * frame["savings"] / frame["actual"] if percent else frame["savings"] / 1e9

    for scheme, part in rows.groupby("scheme", sort=False):
        line, = ax.plot(part["omega"], value(part), marker="o", markersize=3, label=scheme,
                        linewidth=2.2 if scheme == "total" else 1.5)
        colors[scheme] = line.get_color()
    if published is not None:
        for scheme, part in published.groupby("scheme", sort=False):
            ax.scatter(part["omega"], value(part), marker="x", s=50, zorder=5,
                       color=colors.get(scheme, "black"), label=f"{scheme} (paper)")
    ax.axhline(0, color="#555555", linewidth=0.8)
    ax.set_xlabel(f"weight omega on the {simulation.target_year} standards")
    ax.set_ylabel("savings (% of actual expenditure)" if percent else "savings (billion RMB)")
    ax.set_title("Savings against actual expenditure")
    ax.legend(frameon=False, fontsize=8)
    return fig


def predictive_ratio_figure(ratios: pd.DataFrame, dimensions: dict[str, str] | None = None
                            ) -> Figure:
    """Predictive ratios (actual / payment) on a log scale, one panel per dimension, one line per
    scheme; suppressed rows (fewer than ``min_cell_size`` persons) are left out.

    ``ratios``: rows of :meth:`payreform.capitation.PredictiveRatios.table` for one set of
    standards and year.
    """
    dimensions = dimensions or {"age_band": "by age band", "disease": "by single disease",
                                "predicted_tenth": "by tenth of predicted cost"}
    fig, axes = plt.subplots(1, len(dimensions), figsize=(4.4 * len(dimensions), 3.6),
                             squeeze=False)
    for ax, (dimension, title) in zip(axes.flat, dimensions.items(), strict=True):
        part = ratios[(ratios["dimension"] == dimension) & ~ratios["suppressed"].astype(bool)]
        for scheme, rows in part.groupby("scheme", sort=False):
            ax.plot(range(len(rows)), rows["ratio"], "o-", ms=3, label=str(scheme))
            if dimension != "disease":
                ax.set_xticks(range(len(rows)), rows["level"], rotation=90, fontsize=7)
        ax.axhline(1, color="black", lw=0.8)
        ax.set_title(f"Predictive ratio {title}", fontsize=9)
        ax.set_yscale("log")
    if axes.flat[0].get_legend_handles_labels()[0]:
        axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
