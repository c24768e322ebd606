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
    >>> fig = calinski_harabasz_figure(ages)  # doctest: +SKIP
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
    group, for one inpatient status.

    Examples
    --------
    >>> fig = standards_heatmap(standards, "UEBHI", 2024)  # doctest: +SKIP
    """
    table = standards.standards_table(scheme, year)
    table = table[table["inpatient"] == int(inpatient)]
    grid = table.pivot_table(index=["gender", "age_group"], columns="ocsd_group",
                             values="standard", sort=True)
    labels = table.drop_duplicates("ocsd_group").set_index("ocsd_group")["ocsd_label"]
    fig, ax = _axes(ax, (1.0 + 0.85 * grid.shape[1], 0.6 + 0.45 * grid.shape[0]))
    image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="viridis")
    short = {"none": "none", "two diseases": "two", "three or more": "3+"}
    ax.set_xticks(range(grid.shape[1]),
                  [f"{o}\n{short[labels[o]]}" if labels[o] in short else str(o)
                   for o in grid.columns], fontsize=8)
    ax.set_yticks(range(grid.shape[0]), [f"{'male' if g == 1 else 'female'}, age group {a}"
                                         for g, a in grid.index], fontsize=8)
    values = grid.to_numpy()
    high = np.nanmax(values)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:,.0f}", ha="center", va="center", fontsize=7,
                        color="black" if values[i, j] > 0.6 * high else "white")
    ax.set_xlabel("OCSD group")
    ax.set_title(f"{scheme} {year} standards (RMB), "
                 f"{'hospitalised' if inpatient else 'not hospitalised'} in the previous year")
    ax.grid(False)
    fig.colorbar(image, ax=ax, label="RMB per person-year")
    return fig


def savings_figure(simulation, ax: Axes | None = None, published: pd.DataFrame | None = None,
                   percent: bool = True) -> Figure:
    """Savings against the weight on the target year, per scheme and in total, in percent of
    actual expenditure (``percent``, comparable at any scale) or in billion RMB; ``published``
    (columns scheme, omega, savings and actual, in RMB) adds the paper's points
    (``simulation``: :class:`payreform.capitation.BlendingSimulation`).

    Examples
    --------
    >>> fig = savings_figure(simulate_blending(standards))  # doctest: +SKIP
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


def predictive_ratio_figure(ratios: pd.DataFrame, dimensions: dict[str, str] | None = None) -> Figure:
    """Predictive ratios (actual / payment) on a log scale, one panel per dimension, one line per scheme.

    ``ratios``: rows of :meth:`payreform.capitation.PredictiveRatios.table` for one set of
    standards and year; suppressed rows are left out.
    """
    dimensions = dimensions or {"age_band": "by age band", "disease": "by single disease",
                                "expenditure_decile": "by decile of own expenditure"}
    fig, axes = plt.subplots(1, len(dimensions), figsize=(4.4 * len(dimensions), 3.6), squeeze=False)
    for ax, (dimension, title) in zip(axes.flat, dimensions.items(), strict=True):
        part = ratios[(ratios["dimension"] == dimension) & ~ratios["suppressed"].astype(bool)]
        for scheme, rows in part.groupby("scheme", sort=False):
            ax.plot(range(len(rows)), rows["ratio"], "o-", ms=3, label=scheme)
            if dimension != "disease":
                ax.set_xticks(range(len(rows)), rows["level"], rotation=90, fontsize=7)
        ax.axhline(1, color="black", lw=0.8)
        ax.set_title(f"Predictive ratio {title}", fontsize=9)
        ax.set_yscale("log")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
