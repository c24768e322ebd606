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


def ratchet_figure(ratchets: pd.DataFrame, saving_year: int, ax: Axes | None = None, unit: str = "") -> Figure:
    """Change in each year's budget after a one-year saving, one line per rule (the ratchet).

    ``ratchets`` is :func:`payreform.budget.ratchet` output (columns ``rule``, ``year``,
    ``budget_change``).
    """
    fig, ax = _axes(ax, (7.0, 3.4))
    for rule, part in ratchets.groupby("rule", sort=False):
        ax.plot(part["year"], part["budget_change"], "-o", ms=4, label=rule)
    ax.axvline(saving_year, color=COLORS["intervention"], ls=":", label="the year the coalition saved")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(f"change in budget ({unit})" if unit else "change in budget")
    ax.set_xticks(sorted(set(ratchets["year"])))
    ax.set_title("A saving this year changes next year's budget?")
    ax.legend(fontsize=8)
    return fig


def saving_account_figure(account: pd.DataFrame, unit: str = "", ax: Axes | None = None) -> Figure:
    """The whole account of a saving per rule: retained balance, over-spending borne, net gain.

    ``account`` is :func:`payreform.budget.saving_account` output. Bars above zero are gains of
    the coalition; the over-spending it bears is drawn with its sign reversed (more borne is a
    loss), so that the net bar is the sum of the other two.
    """
    fig, ax = _axes(ax, (7.0, 3.4))
    parts = [("retained_balance_change", "change in retained balance", 1.0),
             ("coalition_bears_change", "change in over-spending borne (as a loss)", -1.0),
             ("net_change", "net gain", 1.0)]
    width = 0.8 / len(parts)
    x = np.arange(len(account))
    for i, (column, label, sign) in enumerate(parts):
        ax.bar(x + (i - 1) * width, sign * account[column], width, label=label,
               color=["#2ca02c", "#d62728", "#1f4e79"][i], alpha=0.85)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x)
    ax.set_xticklabels(account["rule"])
    ax.set_ylabel(unit)
    ax.set_title("What the saving is worth to the coalition")
    ax.legend(fontsize=7.5)
    return fig
