"""Figures of the global-budget chapter."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from payreform.plots.common import COLORS, FIGSIZE, _axes, _grid, _x  # noqa: F401


def budget_figure(comparison: pd.DataFrame, unit: str = "") -> Figure:
    """Budget and spending by year under each rule (left) and where a balance goes (right).

    ``comparison`` is :func:`payreform.budget.compare_rules` output.
    """
    rules = list(dict.fromkeys(comparison["rule"]))
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.8))
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    first = comparison[comparison["rule"] == rules[0]]
    axes[0].plot(first["year"], first["spending"], "k-o", ms=4, lw=2, label="spending")
    for color, rule in zip(palette, rules, strict=False):
        part = comparison[comparison["rule"] == rule]
        axes[0].plot(part["year"], part["budget"], "--s", ms=4, color=color, label=f"budget: {rule}")
    axes[0].set_title("Budget and spending")
    axes[0].set_ylabel(unit)
    axes[0].legend(fontsize=7.5)
    width = 0.8 / len(rules)
    for i, (color, rule) in enumerate(zip(palette, rules, strict=False)):
        part = comparison[comparison["rule"] == rule]
        x = np.arange(len(part)) + i * width
        axes[1].bar(x, part["staff_pay"], width, color=color, label=f"staff pay: {rule}")
        axes[1].bar(x, part["other_uses"], width, bottom=part["staff_pay"], color=color, alpha=0.35,
                    label=f"other uses: {rule}")
        axes[1].bar(x, -part["coalition_bears"], width, color=color, alpha=0.8, hatch="//",
                    label=f"over-spending paid by coalition: {rule}")
    axes[1].axhline(0, color="black", lw=0.8)
    axes[1].set_xticks(np.arange(len(first)) + width * (len(rules) - 1) / 2)
    axes[1].set_xticklabels(first["year"])
    axes[1].set_title("Retained balance (up) and over-spending borne (down)")
    axes[1].legend(fontsize=6.5)
    fig.tight_layout()
    return fig


def ratchet_figure(ratchets: pd.DataFrame, saving_year: int, ax: Axes | None = None) -> Figure:
    """Change in each year's budget after a one-year saving, one line per rule (the ratchet)."""
    fig, ax = _axes(ax, (7.0, 3.4))
    for rule, part in ratchets.groupby("rule", sort=False):
        ax.plot(part["year"], part["budget_change"], "-o", ms=4, label=rule)
    ax.axvline(saving_year, color=COLORS["intervention"], ls=":", label="the year the coalition saved")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("change in budget")
    ax.set_title("A saving this year changes next year's budget?")
    ax.legend(fontsize=8)
    return fig
