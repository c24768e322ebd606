"""Figures of the ``sanming-itsa`` chapter, drawn from a :class:`~payreform.chapters.sanming_itsa.SanmingResult`.

Each function returns a new Matplotlib figure; the result's :meth:`figure` calls them by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from payreform import plots
from payreform.plots.common import COLORS, _grid, _x
from payreform.synth import sanming

if TYPE_CHECKING:  # pragma: no cover
    from payreform.chapters.sanming_itsa import SanmingResult


def series_by_group(result: SanmingResult) -> Figure:
    """One panel per outcome: every group's raw series (log scale), the intervention marked."""
    outcomes = list(result.grouped.outcomes)
    fig, axes = plt.subplots(1, len(outcomes), figsize=(min(4.2 * len(outcomes), 13), 3.3), squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes, strict=True):
        for group, ts in result.grouped.series.items():
            if group == result.prepared.total_name:
                continue
            ax.plot(_x(ts.frame.index), ts.frame[outcome], "-", lw=1.1, label=result.group_label(group))
        ax.axvline(result.first.intervention.to_timestamp(how="start"), color=COLORS["intervention"], ls=":")
        if (result.first.frame[outcome] > 0).all():
            ax.set_yscale("log")
        ax.set_title(result.outcome_label(outcome), fontsize=9)
    if len(result.grouped.groups) > 1:
        axes.flat[0].legend(fontsize=7)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def fits_grid(analyses: list, titles: list[str]) -> Figure:
    """:func:`payreform.plots.itsa_figure` for every series, two per row, with the given titles."""
    fig, axes = _grid(len(analyses), height=3.3)
    for i, (ax, analysis, title) in enumerate(zip(axes, analyses, titles, strict=True)):
        plots.itsa_figure(analysis, ax=ax, title=title, ylabel="")
        if i:
            ax.get_legend().remove()
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def comparison_figure(result: SanmingResult) -> Figure:
    """β6 (difference in level change) and β7 (difference in slope change) per outcome, with 95% intervals."""
    table = result.comparison_table()
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.5 * len(result.comparisons) + 2.2))
    for ax, term, title in zip(axes, ("difference_in_level_change_at_intervention", "beta7"),
                               ("difference in the jump at the intervention", "difference in slope change (β7)"),
                               strict=True):
        part = table[table["term"] == term]
        y = np.arange(len(part))[::-1]
        ax.errorbar(part["estimate"], y, xerr=[part["estimate"] - part["ci_low"], part["ci_high"] - part["estimate"]],
                    fmt="o", color=COLORS["adjusted"], capsize=3)
        ax.axvline(0, color="black", lw=0.7)
        ax.set_yticks(y)
        ax.set_yticklabels([result.outcome_label(o) for o in part["outcome"]], fontsize=8)
        ax.set_title(title, fontsize=9)
    c = next(iter(result.comparisons.values()))
    fig.suptitle(f"{result.group_label(c.group)} minus {result.group_label(c.reference)}", fontsize=10)
    fig.tight_layout()
    return fig


def coefficients_figure(result: SanmingResult) -> Figure:
    """Book only: estimate with 95% interval, the truth the data carry and Table 4, per series and term."""
    comparison = result.book.comparison
    groups = [g for g in (*sanming.GROUPS, "overall") if g in set(comparison["group"])]
    fig, axes = plt.subplots(len(groups), len(sanming.OUTCOMES), figsize=(12, 2.3 * len(groups)), squeeze=False)
    for i, group in enumerate(groups):
        for j, outcome in enumerate(sanming.OUTCOMES):
            ax = axes[i, j]
            rows = comparison[(comparison["group"] == group) & (comparison["outcome"] == outcome)
                              & comparison["term"].isin(["beta1", "beta3"])]
            plots.coefficient_figure(rows.assign(label=rows["term"]), ax=ax, estimate_label="estimate")
            ax.set_title(f"{sanming.GROUP_LABELS[group].split(' health')[0]}: "
                         f"{sanming.OUTCOME_LABELS[outcome].split(' (')[0]}", fontsize=8.5)
            if (i, j) != (0, 0):
                ax.get_legend().remove()
            else:
                handles, labels = ax.get_legend_handles_labels()
                labels = ["truth the data carry" if label == "planted truth" else label for label in labels]
                ax.legend(handles, labels, fontsize=6.5, loc="best")
    fig.tight_layout()
    return fig


def published_shares_figure(result: SanmingResult) -> Figure:
    """Book only: the community institutions' shares (Tables 1 and 3) and the fund's balance rate (Table 2)."""
    from payreform import published

    table1 = published.load("sanming_table1_expenditure")
    table3 = published.load("sanming_table3_services")
    fund = result.book.fund
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.3))
    axes[0].plot(table1["year"], table1["community_share_pct"], "o-", label="expenditure (Table 1)")
    axes[0].plot(table3["year"], table3["community_outpatient_share_pct"], "s-", label="outpatient visits (Table 3)")
    axes[0].plot(table3["year"], table3["community_inpatient_share_pct"], "^-", label="admissions (Table 3)")
    axes[0].set_title("Community institutions' share (%)")
    axes[0].legend(fontsize=8)
    axes[1].plot(fund["year"], fund["balance_rate_pct"], "o-", color=COLORS["post"], label="printed")
    axes[1].plot(fund["year"], fund["recomputed_balance_rate"], "x--", color="black", label="recomputed")
    axes[1].set_title("Insurance fund balance rate (%), Table 2")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.set_xticks(table1["year"])
    fig.tight_layout()
    return fig


def totals_consistency_figure(result: SanmingResult) -> Figure:
    """Book only: how many Table 4 standard errors separate its slopes from those the yearly totals imply."""
    table = result.book.totals
    fig, ax = plt.subplots(figsize=(8, 3.6))
    labels = [f"{g}: {o.replace('_', ' ')}" for g, o in dict.fromkeys(zip(table["group"], table["outcome"],
                                                                          strict=True))]
    y = np.arange(len(labels))[::-1]
    for offset, term, color in ((0.15, "beta1", COLORS["pre"]), (-0.15, "beta3", COLORS["post"])):
        part = table[table["term"] == term]
        ax.barh(y + offset, part["gap_in_se"], height=0.3, color=color, label=term)
    for edge in (-2, 2):
        ax.axvline(edge, color="black", ls=":", lw=0.8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel("(slope implied by the yearly totals − Table 4) / Table 4's SE")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
