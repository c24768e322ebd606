"""Figures of the interrupted time-series chapters."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from payreform.plots.common import COLORS, FIGSIZE, _axes, _grid, _x  # noqa: F401


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
    >>> from payreform import itsa
    >>> from payreform.contracts import validate_time_series
    >>> from payreform.synth import youxi
    >>> ts = validate_time_series(youxi.generate(seed=1), intervention="2017-10")
    >>> analysis = itsa.analyse_series(ts.frame, "hospitalizations", intervention=ts.intervention)
    >>> fig = itsa_figure(analysis)
    >>> [line.get_label() for line in fig.axes[0].lines][:2]
    ['observed', 'fitted, before']
    """
    model = getattr(analysis, "model", analysis)
    seasonal = getattr(analysis, "seasonal", None)
    fig, ax = _axes(ax)
    predictions = model.predictions()
    x = _x(predictions.index)
    included = predictions["included"].to_numpy()
    if seasonal is not None:
        raw = seasonal.adjusted * seasonal.indices.reindex(
            np.asarray(predictions.index.month if predictions.index.freqstr[0] == "M"
                       else predictions.index.quarter)).to_numpy()
        ax.plot(x, raw.to_numpy(), color=COLORS["observed"], lw=1, alpha=0.8, label="observed")
        ax.plot(x, predictions["observed"], "o", ms=3.5, color=COLORS["adjusted"],
                label="seasonally adjusted")
    else:
        ax.plot(x[included], predictions["observed"].to_numpy()[included], "o-", ms=3.5, lw=0.8,
                color=COLORS["adjusted"], label="observed")
    if not included.all():
        ax.plot(x[~included], predictions["observed"].to_numpy()[~included], "o", ms=4, color="#b0b0b0",
                label="left out of the fit")
    starts = [model.start_indices[k] - 1 for k in range(model.n_interruptions)] + [len(x)]
    fitted = predictions["fitted"].to_numpy()
    ax.plot(x[:starts[0]], fitted[:starts[0]], color=COLORS["pre"], lw=2.2, label="fitted, before")
    for k, (a, b) in enumerate(zip(starts, starts[1:], strict=False)):
        label = "fitted, after" if model.n_interruptions == 1 else f"fitted, segment {k + 2}"
        ax.plot(x[a:b], fitted[a:b], color=COLORS["post"], lw=2.2, alpha=1 - 0.3 * k, label=label)
    post = predictions["post"].to_numpy()
    ax.plot(x[post], predictions["counterfactual"].to_numpy()[post], "--", color=COLORS["counterfactual"],
            lw=1.6, label="counterfactual (no reform)" if model.n_interruptions == 1 else
            f"counterfactual without the change at {model.starts[0]}")
    for start in model.starts:
        stamp = start.to_timestamp(how="start")
        ax.axvline(stamp, color=COLORS["intervention"], lw=1.2, ls=":")
        ax.text(stamp, 1.0, f" {start}", transform=ax.get_xaxis_transform(), va="top", ha="left", fontsize=8,
                color=COLORS["intervention"])
    ax.axvspan(model.starts[0].to_timestamp(how="start"), x[-1], color=COLORS["band"], alpha=0.04)
    ax.set_title(title or str(model.outcome))
    ax.set_ylabel(ylabel or str(model.outcome))
    ax.legend(fontsize=7.5, loc="best", frameon=True)
    return fig


def residual_figure(result, lags: int = 15) -> Figure:
    """Residuals over time, their autocorrelation (ACF) and partial autocorrelation (PACF).

    Examples
    --------
    >>> from payreform import itsa
    >>> from payreform.contracts import validate_time_series
    >>> from payreform.synth import youxi
    >>> ts = validate_time_series(youxi.generate(seed=1), intervention="2017-10")
    >>> model = itsa.analyse_series(ts.frame, "hospitalizations", intervention=ts.intervention).model
    >>> [ax.get_title() for ax in residual_figure(model).axes]
    ['residuals', 'autocorrelation (ACF)', 'partial autocorrelation (PACF)']
    """
    from statsmodels.graphics.tsaplots import plot_acf, plot_pacf

    residuals = np.asarray(result.residuals, dtype=float)
    kept = ~np.isnan(residuals)  # periods left out of the fit have no residual
    periods, residuals = result.periods[kept], residuals[kept]
    lags = int(min(lags, len(residuals) // 2 - 1))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    axes[0].plot(_x(periods), residuals, "o-", ms=3, lw=0.8, color=COLORS["adjusted"])
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


def annual_indicator_figure(shares: pd.DataFrame, management: pd.DataFrame) -> Figure:
    """The Youxi paper's yearly indicators: visit shares (Table 4) and management rates (Table 5).

    ``shares`` has ``year``, ``primary_care_share_pct`` and ``hospital_share_pct``; ``management``
    has ``condition``, ``indicator`` and one column per year (the year as its name).
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.3))
    axes[0].plot(shares["year"], shares["primary_care_share_pct"], "o-", label="primary care")
    axes[0].plot(shares["year"], shares["hospital_share_pct"], "s-", label="hospitals")
    axes[0].set_title("Share of healthcare outpatient visits (%)")
    axes[0].legend(fontsize=8)
    years = [c for c in management.columns if str(c).isdigit()]
    for record in management.to_dict(orient="records"):
        axes[1].plot([int(y) for y in years], [record[y] for y in years], "o-",
                     label=f"{record['condition']}: {str(record['indicator']).replace('_', ' ')}")
    axes[1].set_title("Health management (%)")
    axes[1].legend(fontsize=7)
    for ax in axes:
        ax.set_xticks(sorted(set(shares["year"])))
    fig.tight_layout()
    return fig
