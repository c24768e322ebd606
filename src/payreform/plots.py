"""Shared figure styles, so every chapter's figures look alike.

Functions draw on a Matplotlib ``Axes`` (created if not given) and return the figure; they do
not call ``plt.show()`` or change global settings. Notebooks call :func:`set_theme` once.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

COLORS = {
    "observed": "#8c8c8c",
    "adjusted": "#1f4e79",
    "pre": "#1f77b4",
    "post": "#d62728",
    "counterfactual": "#555555",
    "intervention": "#2ca02c",
    "band": "#d62728",
}
FIGSIZE = (7.5, 4.0)


CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
             "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Droid Sans Fallback",
             "Arial Unicode MS")
"""Fonts with Chinese characters, in order of preference (Linux, Windows, macOS)."""


def chinese_font() -> str | None:
    """The first installed font of :data:`CJK_FONTS`, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def set_theme() -> None:
    """Apply the handbook's figure theme (seaborn ``whitegrid``, readable sizes).

    Chinese column names in titles and labels need a font with Chinese characters: the first
    installed font of :data:`CJK_FONTS` is added as a fallback. Without one, such characters
    show as boxes (install for example Debian's ``fonts-noto-cjk``) and the per-glyph warnings
    are silenced so that they do not flood the report.
    """
    import logging
    import warnings

    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.95)
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "savefig.bbox": "tight",
                         "axes.titleweight": "bold", "axes.titlesize": 11})
    cjk = chinese_font()
    if cjk is not None:
        plt.rcParams["font.family"] = ["DejaVu Sans", cjk]  # per-glyph fallback to the CJK font
        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # no bold CJK weight: fine
    else:
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)


def _axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _x(periods: pd.PeriodIndex) -> np.ndarray:
    return periods.to_timestamp(how="start").to_numpy()


def itsa_figure(analysis, ax: Axes | None = None, title: str | None = None,
                ylabel: str | None = None) -> Figure:
    """Observed series, seasonally adjusted series, fitted segments, counterfactual, intervention.

    Parameters
    ----------
    analysis
        A :class:`payreform.itsa.SeriesAnalysis` (or a bare ``ITSAResult``/``PoissonITSAResult``).
    ax
        Axes to draw on.
    title, ylabel
        Labels (default: the outcome name).

    Examples
    --------
    >>> fig = itsa_figure(analysis)  # doctest: +SKIP
    """
    model = getattr(analysis, "model", analysis)
    seasonal = getattr(analysis, "seasonal", None)
    log = getattr(analysis, "log", False)
    fig, ax = _axes(ax)
    predictions = model.predictions()
    x = _x(predictions.index)
    if seasonal is not None and not log:
        raw = seasonal.adjusted * seasonal.indices.reindex(
            np.asarray(predictions.index.month if predictions.index.freqstr[0] == "M"
                       else predictions.index.quarter)).to_numpy()
        ax.plot(x, raw.to_numpy(), color=COLORS["observed"], lw=1, alpha=0.8, label="observed")
        ax.plot(x, predictions["observed"], "o", ms=3.5, color=COLORS["adjusted"],
                label="seasonally adjusted")
    else:
        ax.plot(x, predictions["observed"], "o-", ms=3.5, lw=0.8, color=COLORS["adjusted"],
                label="observed" if not log else "ln(y + 1)" + (", adjusted" if seasonal is not None else ""))
    pre = ~predictions["post"].to_numpy()
    ax.plot(x[pre], predictions["fitted"].to_numpy()[pre], color=COLORS["pre"], lw=2.2, label="fitted, before")
    ax.plot(x[~pre], predictions["fitted"].to_numpy()[~pre], color=COLORS["post"], lw=2.2, label="fitted, after")
    ax.plot(x[~pre], predictions["counterfactual"].to_numpy()[~pre], "--", color=COLORS["counterfactual"],
            lw=1.6, label="counterfactual (no reform)")
    start = model.intervention.to_timestamp(how="start")
    ax.axvline(start, color=COLORS["intervention"], lw=1.2, ls=":")
    ax.axvspan(start, x[-1], color=COLORS["band"], alpha=0.04)
    ax.text(start, 1.0, f" {model.intervention}", transform=ax.get_xaxis_transform(), va="top",
            ha="left", fontsize=8, color=COLORS["intervention"])
    ax.set_title(title or str(model.outcome))
    ax.set_ylabel(ylabel or str(model.outcome))
    ax.legend(fontsize=7.5, loc="best", frameon=True)
    return fig


def residual_figure(result, lags: int = 15) -> Figure:
    """Residuals over time, their autocorrelation (ACF) and partial autocorrelation (PACF).

    Examples
    --------
    >>> fig = residual_figure(analysis.model)  # doctest: +SKIP
    """
    from statsmodels.graphics.tsaplots import plot_acf, plot_pacf

    residuals = np.asarray(result.residuals)
    lags = int(min(lags, len(residuals) // 2 - 1))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    axes[0].plot(_x(result.periods), residuals, "o-", ms=3, lw=0.8, color=COLORS["adjusted"])
    axes[0].axhline(0, color="black", lw=0.8)
    axes[0].axvline(result.intervention.to_timestamp(how="start"), color=COLORS["intervention"], ls=":")
    axes[0].set_title("residuals")
    plot_acf(residuals, ax=axes[1], lags=lags, zero=False, auto_ylims=True)
    axes[1].set_title("autocorrelation (ACF)")
    plot_pacf(residuals, ax=axes[2], lags=lags, zero=False, method="ywm", auto_ylims=True)
    axes[2].set_title("partial autocorrelation (PACF)")
    fig.suptitle(str(result.outcome), fontsize=10)
    fig.tight_layout()
    return fig


def seasonal_index_figure(indices: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Seasonal indices, one line per outcome (``indices``: rows = month/quarter, columns = outcomes)."""
    fig, ax = _axes(ax, (7.5, 3.4))
    for column in indices.columns:
        ax.plot(indices.index, indices[column], "o-", ms=4, label=str(column))
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_xticks(list(indices.index))
    ax.set_xlabel(indices.index.name or "season")
    ax.set_ylabel("seasonal index")
    ax.legend(fontsize=7.5)
    return fig


def coefficient_figure(table: pd.DataFrame, estimate_label: str = "this estimate",
                       ax: Axes | None = None) -> Figure:
    """Estimates with 95% intervals beside the truth and the paper's value, one row per term.

    ``table`` comes from :func:`payreform.report.side_by_side` (columns ``label``, ``estimate``,
    ``ci_low``, ``ci_high`` and optionally ``truth`` and ``paper``).
    """
    fig, ax = _axes(ax, (6.5, 0.45 * len(table) + 1.2))
    y = np.arange(len(table))[::-1]
    ax.errorbar(table["estimate"], y, xerr=[table["estimate"] - table["ci_low"], table["ci_high"] - table["estimate"]],
                fmt="o", color=COLORS["adjusted"], capsize=3, label=estimate_label)
    if "truth" in table:
        ax.plot(table["truth"], y, "D", color=COLORS["post"], ms=5, label="planted truth")
    if "paper" in table:
        ax.plot(table["paper"], y + 0.18, "s", mfc="none", color="black", ms=5, label="paper")
    ax.set_yticks(y)
    ax.set_yticklabels(table["label"])
    ax.axvline(0, color="black", lw=0.6)
    ax.legend(fontsize=7.5, loc="best")
    return fig


def _grid(n: int, width: float = 11.5, height: float = 3.3) -> tuple[Figure, np.ndarray]:
    columns = 2 if n > 1 else 1
    rows = (n + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(width, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat[:n]


def series_grid(frame: pd.DataFrame, outcomes, intervention: pd.Period,
                labels: dict[str, str] | None = None) -> Figure:
    """One small panel per outcome: the raw series with the intervention marked."""
    labels = labels or {}
    fig, axes = _grid(len(outcomes), height=2.9)
    x = _x(frame.index)
    for ax, outcome in zip(axes, outcomes, strict=True):
        ax.plot(x, frame[outcome], "o-", ms=3, lw=0.8, color=COLORS["adjusted"])
        ax.axvline(intervention.to_timestamp(how="start"), color=COLORS["intervention"], ls=":")
        ax.set_title(labels.get(outcome, str(outcome)))
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def itsa_grid(analyses, labels: dict[str, str] | None = None) -> Figure:
    """:func:`itsa_figure` for several analyses, two per row."""
    labels = labels or {}
    fig, axes = _grid(len(analyses), height=3.5)
    for ax, analysis in zip(axes, analyses, strict=True):
        itsa_figure(analysis, ax=ax, title=labels.get(analysis.outcome, analysis.outcome), ylabel="")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def coefficient_grid(comparison: pd.DataFrame, terms=("beta1", "beta2", "beta3"),
                     labels: dict[str, str] | None = None) -> Figure:
    """:func:`coefficient_figure` per outcome of a :func:`payreform.report.side_by_side` table."""
    labels = labels or {}
    outcomes = list(dict.fromkeys(comparison["outcome"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(3.0 * len(outcomes), 2.8), squeeze=False)
    for i, (ax, outcome) in enumerate(zip(axes.flat, outcomes, strict=True)):
        rows = comparison[(comparison["outcome"] == outcome) & comparison["term"].isin(terms)]
        coefficient_figure(rows.assign(label=rows["term"]), ax=ax)
        ax.set_title(labels.get(outcome, outcome), fontsize=9)
        if i:
            ax.get_legend().remove()
    fig.tight_layout()
    return fig


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
    ax.set_xlabel("year" if result.design == "common_adoption" else "years since adoption")
    ax.set_ylabel(ylabel or "treated - control, relative to the reference")
    ax.set_title(title or result.outcome)
    ax.legend(fontsize=7.5, loc="best")
    return fig


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
    if np.isfinite(breakdown):
        ax.axvline(breakdown, color=COLORS["intervention"], ls=":", label=f"breakdown value {breakdown:.2f}")
    ax.set_xlabel("M̄ (post-reform deviation relative to the largest pre-reform one)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return fig


def staggered_figure(comparison: pd.DataFrame, title: str = "", ax: Axes | None = None) -> Figure:
    """Two-way fixed effects against Callaway-Sant'Anna by years since adoption (95% intervals).

    ``comparison``: :func:`payreform.did.twfe_vs_callaway_santanna` output, optionally with a
    ``truth`` column.
    """
    fig, ax = _axes(ax, (7.5, 3.8))
    x = comparison["event_time"].to_numpy(dtype=float)
    ax.errorbar(x - 0.08, comparison["twfe_estimate"], yerr=1.96 * comparison["twfe_std_error"], fmt="o", capsize=3,
                label="two-way fixed effects")
    ax.errorbar(x + 0.08, comparison["cs_estimate"], yerr=1.96 * comparison["cs_std_error"], fmt="s", capsize=3,
                label="Callaway-Sant'Anna (never treated)")
    if "truth" in comparison:
        ax.plot(x, comparison["truth"], "kD", mfc="none", label="planted truth")
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(-0.5, color=COLORS["intervention"], ls=":")
    ax.set_xlabel("years since adoption")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
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


def save(fig: Figure, directory: str | Path, name: str) -> str:
    """Save ``fig`` as ``directory/figures/name.png`` and return the path."""
    folder = Path(directory) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path)
    return str(path)
