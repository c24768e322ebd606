# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reproducibility and performance
#
# The figures below were measured by the scripts in the repository's `bench/` folder and stored
# as data in `bench/results/`, each with the machine, date, commit and command that produced it
# (shown under each table). `make bench` measures them all again on your machine; each script
# can also be run on its own, for example `python bench/itsa_coverage.py --reps 2000`. The book
# shows the stored figures instead of re-running the benchmarks at every build, which would take
# minutes.
#
# How the handbook checks itself:
#
# - **Independent implementations.** Coefficients, Newey-West standard errors, the
#   Breusch-Godfrey statistic, seasonal indices, the quasi-Poisson fit and the chi-square test
#   for trend are compared in the tests with reference values computed by R (`lm`,
#   `sandwich::NeweyWest`, `lmtest::bgtest`, `decompose`, `glm(quasipoisson)`,
#   `prop.trend.test`), stored in `tests/fixtures/` beside the R script that produced them, and
#   with brute-force computations written out in the tests. Agreement is required to 1e-6.
# - **Recovery.** The synthetic data have known true parameters; the tests check that the
#   analysis recovers them and the Monte Carlo below measures how often the intervals cover them.
# - **Every notebook** is executed through papermill with its defaults and with other
#   parameters (another seed, a user-style CSV with other column names and another reform date).
# - **The website** is built with warnings as errors and opened in a headless browser that
#   checks every page, figure and the search.

# %% tags=["parameters"]
output_dir = "reports/reproducibility"

# %%
# %matplotlib inline
import sys

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from payreform import plots, published

plots.set_theme()
sys.path.insert(0, str(published.data_directory().parents[1] / "bench"))
import _record  # noqa: E402


def provenance(name: str) -> dict:
    """The stored record of bench/<name>.py, with a line saying where its figures come from."""
    record = _record.read(name)
    m = record["machine"]
    display(Markdown(f"*Measured {record['date']} on {m['cores']} cores, {m['memory_gib']} GiB, Python "
                     f"{m['python']} ({m['platform']}), commit `{record['commit'][:12]}`, by "
                     f"`{record['command']}`.*"))
    return record


# %% [markdown]
# ## Coverage of 95% intervals in a short autocorrelated series
#
# `bench/itsa_coverage.py` draws many synthetic Youxi series (46 months, AR(1) errors with
# coefficient 0.7, seasonality), repeats the chapter's analysis on each, and counts how often
# the 95% interval for each coefficient of the admissions series contains the planted value.
# It compares conventional OLS errors, Newey-West errors at lags 0, 3 and 6, and feasible GLS
# with AR(1) errors.

# %%
record = provenance("itsa_coverage")
summary = _record.table(record, "summary")
display(summary.style.format(precision=3).hide(axis="index"))
figures = record["figures"]
glue("mc_reps", int(figures["reps"]), display=False)
glue("mc_nw_coverage_beta3_pct", float(100 * figures["nw_coverage_beta3"]), display=False)
glue("mc_nw_se_ratio_beta3", float(figures["nw_se_ratio_beta3"]), display=False)
glue("mc_gls_coverage_beta3_pct", float(100 * figures["gls_coverage_beta3"]), display=False)
fig, ax = plt.subplots(figsize=(7.5, 3.4))
methods = list(dict.fromkeys(summary["method"]))
summary.pivot(index="method", columns="term", values="coverage").loc[methods].plot.bar(ax=ax, rot=0)
ax.axhline(0.95, color="black", ls="--", lw=1)
ax.set_ylim(0, 1)
ax.set_ylabel("coverage of 95% intervals")
ax.set_xlabel("")
display(plots.saved_image(plots.save(fig, output_dir, "coverage", close=True)))

# %% [markdown]
# With Newey-West errors at the default lag, the interval for the slope change covers the truth
# in about {glue:text}`mc_nw_coverage_beta3_pct:.0f`% of {glue:text}`mc_reps:d` replications, not
# 95%: the average standard error is only {glue:text}`mc_nw_se_ratio_beta3:.2f` times the
# actual spread of the estimates. Modelling the autocorrelation (GLS with AR(1) errors) covers
# about {glue:text}`mc_gls_coverage_beta3_pct:.0f`%. The lesson for reading ITSA studies,
# including the Youxi paper: with a few dozen monthly points and clear autocorrelation, a nominal
# 95% interval covers much less often than 95%.

# %% [markdown]
# ## Every inference method over the grid of Turner et al. (2021)
#
# `bench/itsa_grid.py` simulates series of 12, 24, 48 and 100 periods (half before the
# intervention, half from it on) with AR(1) errors of lag-1 correlation 0 to 0.8, and analyses
# each with every inference method of the time-series chapters and with the oracle (GLS that knows
# the true correlation). The heat map shows how often each method's 95% interval covers the true
# level change (β2) and slope change (β3); the table checks the calibrated method against its goal
# cell by cell: coverage within 0.93-0.97 where n ≥ 24 and ρ ≤ 0.6, at least 0.90 at ρ = 0.8 for
# n ≥ 48, median width at most 1.3 times the oracle's, and closer to 0.95 than every other method.

# %%
record = provenance("itsa_grid")
grid = _record.table(record, "summary")
methods = ["newey_west", "prais_winsten", "arima", "reml", "reml_satterthwaite", "calibrated", "oracle"]
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
for ax, term in zip(axes, ["beta2", "beta3"], strict=True):
    heat = grid[grid["term"] == term].pivot_table(index="method", columns=["n", "rho"], values="coverage")
    heat = heat.loc[[m for m in methods if m in heat.index]]
    image = ax.imshow(heat.to_numpy(), vmin=0.5, vmax=1.0, cmap="RdYlGn", aspect="auto")
    ax.grid(False)
    ax.set_yticks(range(len(heat.index)), heat.index)
    ax.set_xticks(range(heat.shape[1]), [f"{n}/{r:g}" for n, r in heat.columns], rotation=90, fontsize=7)
    ax.set_xlabel("series length / lag-1 correlation")
    ax.set_title(f"coverage of 95% intervals: {term}")
    for (i, j), value in np.ndenumerate(heat.to_numpy()):
        ax.text(j, i, f"{value:.2f}"[1:], ha="center", va="center", fontsize=5.5)
fig.colorbar(image, ax=axes, shrink=0.8)
display(plots.saved_image(plots.save(fig, output_dir, "inference_coverage", close=True)))
checked = _record.table(record, "goal")
display(checked.style.format(precision=3).hide(axis="index"))
figures = record["figures"]
for key in ("reps", "cells_meeting_coverage_goal", "cells_with_goal", "cells_meeting_width_goal", "cells",
            "cells_closest_to_nominal"):
    glue(f"grid_{key}", int(figures[key]), display=False)
glue("grid_calibrated_seconds", float(figures["calibrated_seconds_per_series"]), display=False)
nw = grid.query("method == 'newey_west' and n == 24")["coverage"]
glue("grid_nw_n24_min", float(nw.min()), display=False)
glue("grid_nw_n24_max", float(nw.max()), display=False)
short = checked[checked["coverage_goal"].notna() & (checked["coverage_goal"] == False)]  # noqa: E712
glue("grid_short_cells", ", ".join(f"n = {int(r.n)}, ρ = {r.rho:g} ({r.term}: {r.coverage:.3f})"
                                   for r in short.itertuples()) or "none", display=False)
wide = checked[~checked["width_goal"].astype(bool)]
glue("grid_wide_cells", ", ".join(f"n = {int(r.n)}, ρ = {r.rho:g} ({r.term}: {r.width_vs_oracle:.2f}×)"
                                  for r in wide.itertuples()) or "none", display=False)

# %% [markdown]
# With {glue:text}`grid_reps:d` series per cell, the calibrated intervals meet the coverage goal in
# {glue:text}`grid_cells_meeting_coverage_goal:d` of the {glue:text}`grid_cells_with_goal:d` cells
# where it applies, and the width goal in {glue:text}`grid_cells_meeting_width_goal:d` of
# {glue:text}`grid_cells:d`; they are closer to 95% than every other method in
# {glue:text}`grid_cells_closest_to_nominal:d` cells, at about
# {glue:text}`grid_calibrated_seconds:.2f` s per series. Cells short of the coverage goal:
# {glue:text}`grid_short_cells`. Cells wider than 1.3 times the oracle:
# {glue:text}`grid_wide_cells`. Newey-West intervals from 24 periods cover between
# {glue:text}`grid_nw_n24_min:.2f` and {glue:text}`grid_nw_n24_max:.2f`. The Monte Carlo error of a
# coverage near 0.95 is about 0.011 with 400 series per cell, so single cells near the bounds are
# within chance of them.

# %% [markdown]
# ## Coverage of clustered intervals in the county panel
#
# `bench/did_coverage.py` draws synthetic CCMC panels (528 counties, five years, county AR(1)
# errors) and fits the chapter's event study to each outcome: how often do the 95% intervals of
# the post-period effects contain the planted effects (target 93-97%)?

# %%
record = provenance("did_coverage")
display(_record.table(record, "summary").style.format(precision=3).hide(axis="index"))
for key, value in record["figures"].items():
    glue(f"did_{key}", value, display=False)

# %% [markdown]
# Many independent clusters make robust standard errors reliable; a single short,
# autocorrelated series does not.

# %% [markdown]
# ## The capitation method at the scale of a city
#
# `bench/gz_scale.py` times the whole method of the GZ chapter on the synthetic city (about 18
# million person-years) against a single DuckDB GROUP BY pass over the same file (the floor: the
# data must be read once), and the payment model by cell statistics against statsmodels' formula
# OLS on the person-level rows; `bench/gz_run.py` times `payreform run gz-capitation` end to end.

# %%
for name in ("gz_scale", "gz_run"):
    record = provenance(name)
    shown = pd.DataFrame([{"measure": k, "value": v} for k, v in record["figures"].items()
                          if isinstance(v, (int, float))])
    display(shown.style.format({"value": "{:.4g}"}).hide(axis="index"))
    for key, value in record["figures"].items():
        if isinstance(value, (int, float)):
            glue(f"{name}_{key}", value, display=False)

# %% [markdown]
# ## Spark beside DuckDB
#
# `bench/gz_spark.py` computes the statistics of the capitation method with both engines
# (`engine=duckdb` and `engine=spark`, Spark in local mode on this machine's cores) on the city at
# a tenth of its size and at full size, checks that both give the same statistics and estimates,
# and prints the seconds, the rows per second and how the cost grows with the rows.

# %%
record = provenance("gz_spark")
sizes = _record.table(record, "sizes")
display(sizes.style.format({c: "{:,.0f}" if c == "rows" or c.endswith("per_s") else "{:.3g}" for c in sizes.columns})
        .hide(axis="index"))
for key, value in record["figures"].items():
    if isinstance(value, (int, float)):
        glue(f"gz_spark_{key}", value, display=False)

# %% [markdown]
# ## Speed
#
# `bench/itsa_speed.py` times one segmented-regression fit against the same fit written with the
# statsmodels formula interface; `bench/did_speed.py` the CCMC event study against pyfixest;
# `bench/notebook_times.py` executes each chapter notebook at its default parameters (target:
# under 30 s on two cores). Each comparison alternates the two sides in one process.
# `bench/build_times.py` (`make timings`) times this book's build from clean and the two test
# lanes of `make test`, one after the other.

# %%
for name in ("itsa_speed", "did_speed"):
    record = provenance(name)
    display(pd.DataFrame([record["figures"]]).style.format(precision=3).hide(axis="index"))
    for key, value in record["figures"].items():
        glue(f"{name}_{key}", value, display=False)
record = provenance("notebook_times")
display(_record.table(record, "times").style.format(precision=1).hide(axis="index"))
if (_record.RESULTS / "build_times.json").exists():  # absent only while it is being measured
    record = provenance("build_times")
    display(_record.table(record, "steps").style.format({"seconds": "{:.0f}", "target_seconds": "{:.0f}"},
                                                        na_rep="").hide(axis="index"))
else:
    display(Markdown("*No stored build times yet: run `make timings`.*"))

# %% [markdown]
# ## Calibration of the synthetic data
#
# `bench/calibrate_youxi.py` and `bench/calibrate_sanming.py` check that the synthetic series give
# intervals as wide as the papers' (the ratio of the median width over many seeds to the
# published width).

# %%
for name in ("calibrate_youxi", "calibrate_sanming"):
    record = provenance(name)
    display(pd.DataFrame([record["figures"]]).T.rename(columns={0: "value"}).style.format(precision=3))
