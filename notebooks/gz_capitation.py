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
# (gz-analysis)=
# # GZ: risk-adjusted capitation, step by step
#
# This page builds outpatient capitation standards from person-year settlement records, as
# Sun, He, Liu, Du and Xu did for GZ: screen the risk factors, group ages and diseases by exact
# one-dimensional k-means, estimate the payment standards, blend two years' standards, and
# simulate what the insurer would have paid. It then checks where the standards over- or
# under-pay (predictive ratios). The reform and the method are discussed in
# {doc}`../book/gz_capitation`.
#
# The default data are a **synthetic** city at 1% of GZ's size, whose true payment standards are
# the paper's Tables 7 and 8. Person-level records are confidential: this page never shows an
# individual record, and every table built from the data hides cells with fewer than
# `min_cell_size` persons.

# %% tags=["parameters"]
data = None  # path to a CSV or Parquet file of person-years; None means the synthetic city
seed = 20240101  # seed of the synthetic city
output_dir = "reports/gz-capitation"  # results.json and figures/ go here
scale = 0.01  # synthetic city only: 1 means the full city (about 18 million person-years)
person_id_column = "person_id"
year_column = "year"
scheme_column = "scheme"
gender_column = "gender"
age_column = "age"
ocsd_column = "ocsd"
inpatient_prev_year_column = "inpatient_prev_year"
los_column = "los"
fund_exp_column = "fund_exp"
base_year = 2023
target_year = 2024
groups = "paper"  # groupings used for the standards: "paper" (published) or "clustered" (ours)
weighting = "unweighted"  # clustering weights: "unweighted" or "persons"
k_age = 3
k_disease = ["UEBHI:4", "URRBHI:5"]
k_max = 10
omega_step = 0.1
min_cell_size = 10

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from payreform import capitation, chapters, plots, report
from payreform.synth import gz

plots.set_theme()
pd.set_option("display.width", 140)
parameters = {k: globals()[k] for k in chapters.get("gz-capitation").defaults()}
synthetic = data is None
settings = chapters.gz_settings(parameters)

# %% [markdown]
# ## 1. The records and their contract
#
# One row per person and year: scheme, gender, age, Class A outpatient chronic and special
# diseases (OCSD), hospitalisation in the previous year, length of stay and the insurance fund's
# outpatient expenditure. The contract is checked before anything is computed; a file is
# scanned by DuckDB, never loaded whole, so the same page runs on a city of 9 million insured.

# %%
source, data_info = chapters.person_year_source(data, seed, scale)
started = time.perf_counter()
analysis = capitation.analyse_capitation(source, **settings)
elapsed = time.perf_counter() - started
persons = analysis.standards.fit.pivot_table(index="scheme", columns="year", values="n_obs", aggfunc="sum")
display(persons.style.format("{:,.0f}"))
data_info["rows"] = int(persons.sum().sum())
glue("gz_persons_total", int(persons.sum().sum()), display=False)
glue("gz_method_seconds", float(elapsed), display=False)

# %% [markdown]
# ## 2. Step 1: which risk factors matter? Screening
#
# A linear regression of each person's annual outpatient fund expenditure on gender, age, any
# Class A OCSD, hospitalisation in the previous year and length of stay, per scheme and year,
# with heteroskedasticity-robust (HC1) standard errors. Each factor's contribution to R² is shown
# two ways: the R² lost when it alone is dropped, and its Shapley share (the average gain over all
# orders in which factors can enter; the shares add up to R²). Length of stay is dropped if it is
# not significant at 5% in a scheme, as in the paper.

# %%
screening = analysis.screening
display(screening.coefficients[["scheme", "year", "term", "estimate", "std_error", "p_value"]]
        .pivot_table(index=["scheme", "term"], columns="year", values=["estimate", "p_value"], sort=False)
        .round(4))
display(screening.contributions.pivot_table(index=["scheme", "factor"], columns="year", values="r2_shapley_share",
                                            sort=False).round(3))
display(Markdown(f"**Rule:** {screening.los_reason}."))
los_p = screening.coefficients.query("term == 'los' and scheme == 'UEBHI'")["p_value"]
if len(los_p):
    glue("gz_los_p_uebhi", float(los_p.iloc[-1]), display=False)

# %% [markdown]
# ## 3. Step 2: grouping the age bands
#
# The published age bands (0-5, 6-10, ..., 101+) are grouped by the per-capita expenditure of
# each band, standardised, with one-dimensional k-means. In one dimension the best k-means
# partition can be found exactly by dynamic programming (random-start k-means, as in most
# software, only finds a local optimum). The Calinski-Harabasz index is drawn for each k; the
# paper chose k at its "first peak".

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
plots.calinski_harabasz_figure(analysis.age_groups, ax=axes[0])
plots.calinski_harabasz_figure(analysis.disease_groups, ax=axes[1])
fig.tight_layout()
plots.save(fig, output_dir, "calinski_harabasz")
plt.show()
display(analysis.age_groups.group_table()[["scheme", "group", "items", "persons", "per_capita", "cv"]]
        .style.format({"persons": "{:,.0f}", "per_capita": "{:,.0f}", "cv": "{:.3f}"}).hide(axis="index"))

# %% [markdown]
# On the paper's own published band and disease means (Tables 3-6), the exact clustering can be
# compared with the paper's groups. The table says, per scheme and dimension, whether the first
# peak exists, how similar the paper's groups are to the exact optimum with the paper's k
# (adjusted Rand index, 1 = identical), and which items would move.

# %%
comparisons = pd.concat([capitation.compare_groupings(gz.published("groupings"), weighting=w).summary.assign(weighting=w)
                         for w in ("unweighted", "persons")], ignore_index=True)
display(comparisons[["weighting", "scheme", "dimension", "k_published", "first_peak_found", "adjusted_rand_index",
                     "items_moved", "published_is_optimal"]].style.format({"adjusted_rand_index": "{:.2f}"})
        .hide(axis="index"))
glue("gz_n_first_peak_found", int(comparisons["first_peak_found"].sum()), display=False)
glue("gz_n_published_optimal", int(comparisons["published_is_optimal"].sum()), display=False)
glue("gz_n_comparisons", len(comparisons), display=False)

# %% [markdown]
# ## 4. Step 3: grouping the diseases
#
# Patients with exactly one Class A OCSD are grouped by their disease's per-capita expenditure
# in the same way (4 groups for employees, 5 for residents in the paper). Patients with two
# diseases form one more group and those with three or more another.

# %%
display(analysis.disease_groups.group_table()[["scheme", "group", "items", "persons", "per_capita", "cv"]]
        .style.format({"persons": "{:,.0f}", "per_capita": "{:,.0f}", "cv": "{:.3f}"}).hide(axis="index"))

# %% [markdown]
# ## 5. Step 4: the payment standards
#
# The final regression has only categorical regressors: gender × age group, OCSD group and
# previous-year hospitalisation, with males of age group 1, no OCSD, not hospitalised as the
# reference. Because every regressor is categorical, the counts, sums and sums of squares of
# each cell give *exactly* the person-level OLS coefficients and HC1 standard errors (the tests
# check this against statsmodels on the person-level rows to 1e-8). A person's standard is the
# intercept plus the coefficients of their cells.
#
# The table compares, for the synthetic city, the planted standards (Tables 7-8), this
# estimate and the paper's value, with both standard errors. On this 1% city the standard errors
# are about ten times the full city's; even at full scale they are only half the paper's, which
# the paper's R² of about 0.2 cannot explain (see the chapter page).

# %%
model = analysis.standards.table()
keys = ("scheme", "year", "term")
if synthetic and groups == "paper":
    comparison = report.side_by_side(model.assign(outcome="fund_exp"), gz.truth("coefficients").assign(outcome="fund_exp"),
                                     gz.published("coefficients").assign(outcome="fund_exp"),
                                     keys=("outcome", *keys))
    target = comparison[comparison["year"] == target_year]
    shown = report.compact_comparison(target.assign(outcome=target["scheme"]), digits=1)
    published_se = gz.published("coefficients").set_index(list(keys))["std_error"]
    shown["paper SE"] = published_se.reindex(pd.MultiIndex.from_frame(target[list(keys)])).to_numpy()
    shown["this SE"] = target["std_error"].round(2).to_numpy()
    display(shown.style.hide(axis="index"))
    full_city_se = comparison["std_error"] * scale**0.5  # standard errors shrink with the square root of n
    se_ratio = float((full_city_se / published_se.reindex(pd.MultiIndex.from_frame(comparison[list(keys)])).to_numpy())
                     .median())
    glue("gz_se_ratio_full_city", se_ratio, display=False)
    glue("gz_variance_factor", 1 / se_ratio**2, display=False)
    glue("gz_n_covered", int(comparison["covers_truth"].sum()), display=False)
    glue("gz_n_intervals", int(comparison["covers_truth"].notna().sum()), display=False)
else:
    display(model[model["year"] == target_year][["scheme", "term", "estimate", "std_error", "p_value", "persons"]]
            .style.format(precision=2).hide(axis="index"))
display(analysis.standards.fit.style.format(precision=3).hide(axis="index"))
for row in analysis.standards.fit.itertuples():
    glue(f"gz_r2_{row.scheme}_{row.year}", float(row.r_squared), display=False)

# %%
grid = analysis.standards.standards_table()
hidden = int(grid["suppressed"].sum())
display(Markdown(f"Of the {len(grid):,} cells of the standards tables, {hidden:,} hold fewer than "
                 f"{min_cell_size} persons: their person counts and observed means are suppressed in every "
                 "table and in `results.json` (the standard itself, a sum of coefficients, is still given)."))
fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
for ax, scheme in zip(axes, capitation.SCHEMES, strict=True):
    plots.standards_heatmap(analysis.standards, scheme, target_year, ax=ax)
fig.tight_layout()
plots.save(fig, output_dir, "standards_heatmap")
plt.show()

# %% [markdown]
# ## 6. Step 5: blending two years and simulating the payment
#
# Standards estimated on one year lag the next year's costs. The paper blends them,
# $S = \omega S_{2024} + (1 - \omega) S_{2023}$, and pays the 2024 population with the blended
# standards: the saving is actual 2024 expenditure minus the capitation payment. With $\omega =
# 1$ the payment equals 2024 expenditure by construction (OLS with an intercept reproduces the
# total); smaller $\omega$ pays less.

# %%
simulation = analysis.simulation.table()
fig = plots.savings_figure(analysis.simulation, published=gz.published("simulation") if synthetic else None)
plots.save(fig, output_dir, "savings_by_omega")
plt.show()
half = simulation[simulation["omega"] == 0.5].set_index("scheme")
display(half[["actual", "payment", "savings", "savings_pct"]].style.format({"actual": "{:,.0f}", "payment": "{:,.0f}",
                                                                           "savings": "{:,.0f}",
                                                                           "savings_pct": "{:.2f}"}))
glue("gz_savings_pct_half", float(half.loc["total", "savings_pct"]), display=False)
glue("gz_savings_pct_uebhi_zero", float(simulation.query("scheme == 'UEBHI' and omega == 0")["savings_pct"].iloc[0]),
     display=False)
if synthetic:
    paper = gz.published("simulation")
    glue("gz_paper_savings_pct_half", float(100 * paper.query("scheme == 'total'")["savings"].iloc[0]
                                            / paper.query("scheme == 'total'")["actual"].iloc[0]), display=False)
    truth_half = gz.truth("simulation").query("scheme == 'total' and omega == 0.5")["savings_pct"]
    glue("gz_truth_savings_pct_half", float(truth_half.iloc[0]), display=False)

# %% [markdown]
# ## 7. Beyond the paper: where do the standards over- and under-pay?
#
# A predictive ratio is actual expenditure divided by the capitation payment for a group of
# persons. Below 1 the standards overpay for that group (a provider profits from enrolling such
# persons); above 1 they underpay (a provider loses, and has a reason to avoid them). Within the
# year and cells the standards were fitted on, the ratio is 1 for every cell by construction;
# it departs from 1 for finer groups (single age bands, single diseases), for persons ranked by
# their own expenditure, and out of sample (standards of one year judged on the next).

# %%
ratios = analysis.predictive_ratios.table()
blend = ratios[(ratios["omega"] == 1.0) & (ratios["year"] == target_year)]
fig = plots.predictive_ratio_figure(blend)
plots.save(fig, output_dir, "predictive_ratios")
plt.show()
deciles = blend[(blend["dimension"] == "expenditure_decile") & (blend["scheme"] == "UEBHI")]
if len(deciles):
    glue("gz_ratio_top_decile", float(deciles["ratio"].iloc[-1]), display=False)
    glue("gz_ratio_bottom_decile", float(deciles["ratio"].iloc[0]), display=False)
display(analysis.fit.table().style.format(precision=3).hide(axis="index"))
out_of_sample = analysis.fit.table()
oos = out_of_sample[(out_of_sample["kind"] == "out-of-sample") & (out_of_sample["scheme"] == "total")]
if len(oos):
    glue("gz_oos_ratio", float(oos.iloc[-1]["predictive_ratio"]), display=False)

# %% [markdown]
# ## 8. Results file
#
# `results.json` holds every regression coefficient, every cell's standard (named
# `g<gender>-a<age group>-ocsd<group>-inp<0/1>`) with its standard error, and the diagnostics
# (screening fit, groupings, Calinski-Harabasz curves, the simulation and the predictive
# ratios), all aggregated and suppressed below `min_cell_size` persons.

# %%
estimates = analysis.estimates()
path = report.write_results(output_dir, chapter="gz-capitation", parameters=parameters, data=data_info,
                            estimates=estimates, diagnostics=analysis.diagnostics() | {"seconds": elapsed})
print(f"wrote {path} ({len(estimates)} estimates)")

# %% [markdown] tags=["book-only"]
# ## Exercises
#
# ````{exercise} Weighted or unweighted clustering?
# :label: gz-ex-weights
#
# The paper does not say whether its K-means weighted the age bands by their number of persons.
# Rerun with `weighting = "persons"` and `groups = "clustered"`. Which age groups change for
# each scheme, and which choice reproduces the paper's published groups?
# ````
#
# ````{solution} gz-ex-weights
# :class: dropdown
#
# Weighted by persons, the few people aged 96+ count for little, so the bands with many
# middle-aged employees dominate the group boundaries. On the published means, the paper's
# UEBHI age groups are the exact optimum only with weights, its URRBHI age groups only without:
# the section 3 comparison table shows this. A method section should state the choice, because
# it changes who is paid how much.
# ````
#
# ````{exercise} The first peak
# :label: gz-ex-peak
#
# On the exact clustering the Calinski-Harabasz index keeps rising with k for the published
# means (section 3). Why can an exact optimum make the "first peak" rule fail, while a
# random-start K-means shows a peak? What rule would you use instead?
# ````
#
# ````{solution} gz-ex-peak
# :class: dropdown
#
# The exact partition for k + 1 groups is always at least as good as for k, so the between-group
# share of the variance rises steadily with k; with few items (14-21 bands or diseases) the
# Calinski-Harabasz index can then rise too. A random-start K-means can miss the optimum for some
# k and produce a dip that looks like a peak. Alternatives: choose k from the use (few groups are
# easier to administer), from a minimum group size, or from out-of-sample fit of the standards.
# ````
#
# ````{exercise} Who would a provider avoid?
# :label: gz-ex-selection
#
# Using the predictive ratios by decile of own expenditure, explain why even well-fitting
# standards leave a strong incentive to avoid the most expensive patients. Which additional
# risk factor would reduce it most, and why can the paper's data not include it?
# ````
#
# ````{solution} gz-ex-selection
# :class: dropdown
#
# With an R² around 0.2 most of the variation in spending is not predicted: the top decile costs
# many times its capitation payment and the bottom deciles far less. A provider who could tell
# in advance who will be expensive would gain by avoiding them. Diagnoses from previous years'
# claims (all conditions, not only the 21 Class A OCSD), prior-year spending, or pharmacy data
# would reduce this, but they reward coding and past utilisation; the paper's data hold only the
# variables of the settlement records.
# ````
#
# ````{exercise} The full city
# :label: gz-ex-city
#
# Write the full synthetic city with `payreform synth gz --scale 1.0 --out city.parquet` (about 18
# million rows) and run `payreform run gz-capitation --data city.parquet --out city`. How long
# does the whole method take, and how close are the standards to Tables 7-8 now?
# ````
#
# ````{solution} gz-ex-city
# :class: dropdown
#
# The method reads the file once per pass with DuckDB and works on cell statistics, so it takes
# a few seconds (the appendix measures it) and never holds the 18 million rows in memory. At full
# scale the standard errors shrink by a factor of 10 relative to this page's 1% city and the
# estimates sit within a few yuan of the planted standards.
# ````
