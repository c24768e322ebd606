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
# This appendix is executed every time the book is built: the figures below are measured on
# the machine that built this copy of the book, by the scripts in the repository's `bench/`
# folder. Each script can be run on its own, for example
# `python bench/itsa_coverage.py --reps 2000`.
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
reps = 500  # Monte Carlo replications (ITSA)
did_reps = 500  # synthetic panels for the difference-in-differences coverage
gz_scale = 1.0  # fraction of the synthetic city for the capitation benchmarks (1 = about 18 million rows)
speed_repeat = 200  # repetitions in the speed comparison
time_notebooks = True  # execute each chapter notebook once and time it
output_dir = "reports/reproducibility"

# %%
# %matplotlib inline
import platform
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display
from myst_nb import glue

from payreform import plots, published

plots.set_theme()
sys.path.insert(0, str(published.data_directory().parents[1] / "bench"))
import did_coverage  # noqa: E402
import did_speed  # noqa: E402
import gz_run  # noqa: E402
import gz_scale as gz_bench  # noqa: E402
import itsa_coverage  # noqa: E402
import itsa_speed  # noqa: E402
import notebook_times  # noqa: E402

machine = pd.DataFrame([{"python": platform.python_version(), "platform": platform.platform(terse=True),
                         "processor": platform.machine(), "cores": __import__("os").cpu_count()}])
display(machine.style.hide(axis="index"))

# %% [markdown]
# ## Coverage of 95% intervals in a short autocorrelated series
#
# `bench/itsa_coverage.py` draws many synthetic Youxi series (46 months, AR(1) errors with
# coefficient 0.7, seasonality), repeats the chapter's analysis on each, and counts how often
# the 95% interval for each coefficient of the admissions series contains the planted value.
# It compares conventional OLS errors, Newey-West errors at lags 0, 3 and 6, and feasible GLS
# with AR(1) errors.

# %%
draws = itsa_coverage.coverage(reps=reps)
summary = itsa_coverage.summarise(draws)
display(summary.style.format(precision=3).hide(axis="index"))
nw3 = summary.query("term == 'beta3' and method == 'NW lag 3'").iloc[0]
gls = summary.query("term == 'beta3' and method == 'GLS AR(1)'").iloc[0]
glue("mc_reps", int(reps), display=False)
glue("mc_nw_coverage_beta3_pct", float(100 * nw3["coverage"]), display=False)
glue("mc_nw_se_ratio_beta3", float(nw3["se_ratio"]), display=False)
glue("mc_gls_coverage_beta3_pct", float(100 * gls["coverage"]), display=False)

fig, ax = plt.subplots(figsize=(7.5, 3.4))
pivot = summary.pivot(index="method", columns="term", values="coverage").loc[list(itsa_coverage.METHODS)]
pivot.plot.bar(ax=ax, rot=0)
ax.axhline(0.95, color="black", ls="--", lw=1)
ax.set_ylim(0, 1)
ax.set_ylabel("coverage of 95% intervals")
ax.set_xlabel("")
plots.save(fig, output_dir, "coverage")
plt.show()

# %% [markdown]
# With Newey-West errors at the default lag, the interval for the slope change covers the truth
# in about {glue:text}`mc_nw_coverage_beta3_pct:.0f`% of {glue:text}`mc_reps:d` replications, not
# 95%: the average standard error is only {glue:text}`mc_nw_se_ratio_beta3:.2f` times the
# actual spread of the estimates. Increasing the lag does not help, because with 46 points the
# longer-lag autocovariances are themselves estimated poorly. Modelling the autocorrelation
# (GLS with AR(1) errors) does better, at about {glue:text}`mc_gls_coverage_beta3_pct:.0f`%,
# but still falls short, because the AR coefficient is itself underestimated in a short series.
# The lesson for reading ITSA studies, including the Youxi paper: with a few dozen monthly
# points and clear autocorrelation, a nominal 95% interval is closer to a 60-80% interval.

# %% [markdown]
# ## Coverage of clustered intervals in the county panel
#
# `bench/did_coverage.py` draws {glue:text}`did_reps:d` synthetic CCMC panels (528 counties, five
# years, county AR(1) errors) and fits the chapter's event study to each of the seven outcomes.
# With 528 clusters, clustered standard errors work as advertised: the table shows how often the
# 95% intervals of did2021 and did2022 contain the planted effects (target 93-97%), and the ratio
# of the average standard error to the actual spread of the estimates.

# %%
did_draws = did_coverage.coverage(reps=did_reps)
did_summary = did_coverage.summarise(did_draws)
display(did_summary.style.format(precision=3).hide(axis="index"))
post = did_draws[did_draws["term"].isin(did_coverage.TERMS)]
glue("did_reps", int(did_reps), display=False)
glue("did_coverage_pct", float(100 * post["covered"].mean()), display=False)
glue("did_coverage_n", len(post), display=False)

# %% [markdown]
# Over all {glue:text}`did_coverage_n:d` intervals the coverage is
# {glue:text}`did_coverage_pct:.1f`%. The contrast with the interrupted time series above is the
# point: many independent clusters make robust standard errors reliable; a single short,
# autocorrelated series does not.

# %% [markdown]
# ## The capitation method at the scale of a city
#
# `bench/gz_scale.py` writes the synthetic GZ city ({glue:text}`gz_rows:,d` person-years, two
# schemes, two years) to a Parquet file and times, in one process: (a) the whole method of the
# GZ chapter (screening, both groupings, payment standards for both schemes and years,
# blending, predictive ratios) on that file, against (b) a single DuckDB GROUP BY pass that
# computes each cell's count, sum and sum of squares (the floor: the data must be read once);
# and (c) the payment model for one scheme-year by cell statistics against statsmodels' formula
# OLS on the person-level rows. `bench/gz_run.py` then runs `payreform run gz-capitation` on the
# file, end to end.

# %%
city = Path(tempfile.gettempdir()) / "payreform_bench" / f"gz_city_{gz_scale:g}.parquet"
gz_bench.ensure_city(city, scale=gz_scale)
scale_figures = gz_bench.measure(city, repeat=3)
run_figures = gz_run.run_city(city)
shown = pd.DataFrame([
    {"measure": "(a) whole method, seconds", "value": scale_figures["method_s"]},
    {"measure": "(b) one GROUP BY pass, seconds", "value": scale_figures["group_by_s"]},
    {"measure": "(a) / (b)", "value": scale_figures["ratio"]},
    {"measure": "peak memory of the method, MB", "value": scale_figures["peak_method_mb"]},
    {"measure": "(c) statsmodels formula OLS, seconds", "value": scale_figures["person_level_formula_s"]},
    {"measure": "(c) cell statistics, seconds", "value": scale_figures["person_level_cells_s"]},
    {"measure": "(c) speed-up", "value": scale_figures["person_level_speedup"]},
    {"measure": "(c) largest coefficient difference", "value": scale_figures["person_level_max_coef_diff"]},
    {"measure": "payreform run end to end, seconds", "value": run_figures["seconds"]},
    {"measure": "payreform run peak memory, MB", "value": run_figures["peak_mb"]},
])
display(shown.style.format({"value": "{:.3g}"}).hide(axis="index"))
glue("gz_rows", int(scale_figures["rows"]), display=False)
for key in ("method_s", "group_by_s", "ratio", "peak_method_mb", "person_level_speedup",
            "person_level_speedup_dummies", "person_level_max_coef_diff", "person_level_rows"):
    glue(f"gz_bench_{key}", float(scale_figures[key]), display=False)
glue("gz_run_seconds", float(run_figures["seconds"]), display=False)
glue("gz_run_peak_mb", float(run_figures["peak_mb"]), display=False)

# %% [markdown]
# The whole method takes {glue:text}`gz_bench_method_s:.2f` s, {glue:text}`gz_bench_ratio:.1f`
# times a single GROUP BY pass over the same file, and needs {glue:text}`gz_bench_peak_method_mb:.0f`
# MB. On one scheme-year ({glue:text}`gz_bench_person_level_rows:,.0f` rows) the cell-statistics
# regression is {glue:text}`gz_bench_person_level_speedup:.0f` times faster than statsmodels'
# formula OLS on the rows, with coefficients equal to
# {glue:text}`gz_bench_person_level_max_coef_diff:.0e`; against statsmodels given ready-made 0/1
# columns the factor is {glue:text}`gz_bench_person_level_speedup_dummies:.0f`. The chapter's
# command, run as a user would on the full city, finishes in {glue:text}`gz_run_seconds:.0f` s
# with a peak of {glue:text}`gz_run_peak_mb:.0f` MB (targets: 5 s and 4× for the method, 30 s and
# 2 GB for the command).

# %% [markdown]
# ## Speed
#
# `bench/itsa_speed.py` times one segmented-regression fit (Newey-West errors and a
# Breusch-Godfrey test) against the same fit written with the statsmodels formula interface,
# alternating the two in one process; `bench/notebook_times.py` executes each chapter notebook
# with papermill at its default parameters (the target is under 30 s on two cores).

# %%
speed = itsa_speed.measure(speed_repeat)
display(pd.DataFrame([speed]).style.format(precision=3).hide(axis="index"))
glue("speed_ratio", float(speed["ratio"]), display=False)
panel_speed = did_speed.measure(30)
display(pd.DataFrame([panel_speed]).style.format(precision=3).hide(axis="index"))
glue("did_speed_ratio", float(panel_speed["ratio"]), display=False)
glue("did_speed_ms", float(panel_speed["payreform_ms"]), display=False)
if time_notebooks:
    times = pd.DataFrame([{"chapter": name, "seconds": notebook_times.time_notebook(name)}
                          for name in notebook_times.chapters.CHAPTERS])
    display(times.style.format(precision=1).hide(axis="index"))
    glue("youxi_notebook_seconds", float(times.set_index("chapter").loc["youxi-itsa", "seconds"]), display=False)

# %% [markdown]
# A payreform segmented-regression fit takes {glue:text}`speed_ratio:.2f` times as long as the
# formula version (below 1 means faster: the design matrix is built directly instead of parsing a
# formula). `bench/did_speed.py` fits the CCMC event study (528 counties x 5 years, clustered
# errors) with `payreform.did.event_study` and with pyfixest's `feols`, alternating, in one process:
# payreform takes {glue:text}`did_speed_ms:.1f` ms per fit, {glue:text}`did_speed_ratio:.2f` times
# pyfixest's time, with coefficients equal to the precision shown in the table. Either way a fit
# takes milliseconds; the chapter notebooks spend most of their time starting Python, importing
# libraries and drawing figures.
