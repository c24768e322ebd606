"""Figures of the difference-in-differences chapter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from payreform.plots.common import COLORS, FIGSIZE, _axes, _grid, _x  # noqa: F401


def event_study_figure(result, ax: Axes | None = None, *, alpha: float = 0.05, title: str | None = None,
                       ylabel: str | None = None, truth: dict[str, float] | None = None):
    """Interaction coefficients with their (1 - alpha) intervals, the reference period at zero.

    Pre-reference periods are shaded blue (parallel-trend checks), post-reference periods red
    (effects); the reference period is marked with an open circle on the zero line and a
    dotted vertical line. ``truth`` (term -> value) adds the planted values of synthetic data.

    Parameters
    ----------
    result
        A fitted :func:`payreform.did.event_study`.
    ax
        Matplotlib axes to draw on (created if None).
    alpha, title, ylabel, truth
        Interval level, labels and optional true values.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = event_study_figure(fit)  # doctest: +SKIP
    """
    fig, ax = _axes(ax)
    table = result.table(alpha).set_index("term")
    terms = result.interaction_terms
    x = np.array([result.interaction_periods[t] for t in terms], dtype=float)
    est = table.loc[terms, "estimate"].to_numpy()
    low, high = table.loc[terms, "ci_low"].to_numpy(), table.loc[terms, "ci_high"].to_numpy()
    ref = result.reference
    ax.axvspan(min(x.min(), ref) - 0.5, ref - 0.5, color=COLORS["pre"], alpha=0.07, lw=0)
    ax.axvspan(ref + 0.5, max(x.max(), ref) + 0.5, color=COLORS["post"], alpha=0.07, lw=0)
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(ref, color="#555555", lw=1, ls=":")
    pre = x < ref
    for mask, colour, label in ((pre, COLORS["pre"], "before the reference period"),
                                (~pre, COLORS["post"], "after the reference period")):
        if mask.any():
            ax.errorbar(x[mask], est[mask], yerr=[est[mask] - low[mask], high[mask] - est[mask]], fmt="o",
                        color=colour, capsize=3, label=label)
    ax.plot([ref], [0.0], "o", mfc="white", mec="black", ms=7,
            label=f"reference ({'year' if result.design == 'common_adoption' else 'event time'} {ref}) = 0")
    if truth:
        known = [t for t in terms if t in truth]
        ax.plot([result.interaction_periods[t] for t in known], [truth[t] for t in known], "D", color="black",
                ms=5, mfc="none", label="planted truth")
    ax.set_xticks(sorted(set(x.tolist()) | {ref}))
    ax.tick_params(axis="x", labelrotation=45 if len(x) > 8 else 0)
    ax.set_xlabel("year" if result.design == "common_adoption" else "years since adoption")
    ax.set_ylabel(ylabel or "treated - control, relative to the reference")
    ax.set_title(title or result.outcome)
    ax.legend(fontsize=7.5, loc="best")
    return fig


def event_study_grid(results: Sequence, labels: Mapping[str, str] | None = None,
                     truth: Mapping[str, Mapping[str, float]] | None = None, ncols: int = 2) -> Figure:
    """One :func:`event_study_figure` panel per fitted outcome, two per row.

    ``labels`` maps outcomes to titles; ``truth`` maps outcomes to planted values (term -> value).

    Examples
    --------
    >>> fig = event_study_grid([fit_a, fit_b], labels={"cost": "Cost per visit"})  # doctest: +SKIP
    """
    labels, truth = labels or {}, truth or {}
    n = len(results)
    ncols = min(ncols, n) or 1
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(6 * ncols, 3.4 * nrows), squeeze=False)
    for ax, result in zip(axes.flat, results, strict=False):
        event_study_figure(result, ax=ax, title=labels.get(result.outcome, result.outcome), ylabel="",
                           truth=truth.get(result.outcome))
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def honest_did_grid(intervals: Mapping[str, pd.DataFrame], breakdowns: Mapping[str, float],
                    labels: Mapping[str, str] | None = None, target: str = "", ncols: int = 3) -> Figure:
    """One :func:`honest_did_figure` panel per outcome (relative-magnitude sets and breakdown value)."""
    labels = labels or {}
    names = list(intervals)
    n = len(names)
    ncols = min(ncols, n) or 1
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.3 * nrows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        title = labels.get(name, name) + (f": {target}" if target else "")
        honest_did_figure(intervals[name], breakdowns.get(name, float("nan")), title, ax=ax)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def honest_did_figure(intervals: pd.DataFrame, breakdown: float, title: str = "", ax: Axes | None = None) -> Figure:
    """Robust confidence sets against the bound M̄, with the breakdown value marked.

    ``intervals``: the relative-magnitude rows of :meth:`payreform.did.HonestDiDResult.table`
    (columns ``bound``, ``ci_low``, ``ci_high``).
    """
    fig, ax = _axes(ax, (5.5, 3.4))
    centre = (intervals["ci_low"] + intervals["ci_high"]) / 2
    ax.errorbar(intervals["bound"], centre, yerr=(intervals["ci_high"] - intervals["ci_low"]) / 2, fmt="none",
                capsize=4, color=COLORS["post"], label="robust 95% confidence set")
    ax.axhline(0, color="black", lw=0.8)
    if np.isfinite(breakdown) and breakdown <= float(intervals["bound"].max()):
        ax.axvline(breakdown, color=COLORS["intervention"], ls=":", label=f"breakdown value {breakdown:.2f}")
    elif np.isfinite(breakdown):
        ax.plot([], [], " ", label=f"breakdown value {breakdown:.2f} (beyond the bounds shown)")
    ax.set_xlabel("M̄ (post-reform deviation relative to the largest pre-reform one)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return fig


def staggered_figure(comparison: pd.DataFrame, title: str = "", ax: Axes | None = None) -> Figure:
    """Two-way fixed effects against Callaway-Sant'Anna by years since adoption (95% intervals).

    ``comparison``: :func:`payreform.did.twfe_vs_callaway_santanna` output, optionally with a
    ``truth`` column and a ``twfe_noise_free`` column (the TWFE estimates on the same design
    without noise: what the estimator converges to, so its distance from the truth is bias).
    """
    fig, ax = _axes(ax, (7.5, 3.8))
    x = comparison["event_time"].to_numpy(dtype=float)
    ax.errorbar(x - 0.08, comparison["twfe_estimate"], yerr=1.96 * comparison["twfe_std_error"], fmt="o", capsize=3,
                label="two-way fixed effects")
    ax.errorbar(x + 0.08, comparison["cs_estimate"], yerr=1.96 * comparison["cs_std_error"], fmt="s", capsize=3,
                label="Callaway-Sant'Anna (never treated, same reference)")
    if "twfe_noise_free" in comparison:
        ax.plot(x, comparison["twfe_noise_free"], "-", color="C0", alpha=0.6, lw=1.5,
                label="two-way fixed effects, noise-free panel")
    if "truth" in comparison:
        ax.plot(x, comparison["truth"], "kD", mfc="none", label="planted truth")
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(-0.5, color=COLORS["intervention"], ls=":")
    ax.set_xlabel("years since adoption")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return fig
