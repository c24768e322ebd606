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

# %% [markdown] tags=["book-voice"]
# (sanming-analysis)=
# # Sanming: the city-wide interrupted time series, step by step
#
# This page repeats the analysis of {cite:t}`lin_sanming` for Sanming city: monthly medical
# expenditure, outpatient and inpatient volumes of the public hospitals and the community
# health service institutions, January 2016 to November 2019, around the October 2017 reform.
# The reform, the design and its limits are discussed in {doc}`../book/sanming_itsa`; the
# budget rules behind the reform are simulated in {doc}`sanming_budget`.
#
# By default the page runs on **synthetic** monthly series built from the paper's published
# numbers (Table 4's coefficients, Tables 1 and 3's yearly totals). Each results table shows
# the truth the synthetic data carry, this estimate, and the paper's value. To run the same page
# on your own series, see {doc}`../book/running_on_your_data`.

# %% tags=["parameters"]
data = None  # path to a CSV, Excel or Parquet file in long format; None means the synthetic Sanming series
sheet = None  # Excel only: the sheet to read; None means the first
language = "en"  # "en" or "zh": language of report.docx, tables.xlsx and figure labels
seed = 20171002  # seed of the synthetic series
output_dir = "reports/sanming-itsa"  # results.json, tables/ and figures/ go here
time_column = "month"
group_column = None  # column naming each row's group; None: found in the data (the one text column)
outcomes = None  # list of columns; None means every numeric column
intervention = None  # first period under the reform; None means the study's (synthetic data only)
coding = None  # None: the paper's coding on the book's data, zero_at_intervention on yours
seasonal = "auto"  # ratio-to-moving-average for monthly or quarterly data of two years or more
log = True  # model ln(y + 1), as in the paper
inference = None  # None: the papers' newey_west on the book's data, calibrated on yours
hac_lags = "auto"
bg_order = 1
horizon = None  # periods after the intervention for the effect; None means the last period
compare = None  # two groups for the two-group model; None: the two groups if there are exactly two
add_overall = True  # also analyse the sum of the groups
placebos = None  # placebo dates in the pre-period; None: up to three, derived from the data
prepared_input = None  # set by `payreform run`: the input it has already read and checked

# %%
# %matplotlib inline
import os

import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from payreform import plots, report
from payreform.chapters import sanming_itsa as chapter
from payreform.deliverables import label_tables

plots.set_theme()
pd.set_option("display.width", 120)
language = os.environ.get("PAYREFORM_BOOK_LANGUAGE", language)  # set by the Chinese edition's build
label_tables(language)  # table headers shown in this language
result = chapter.run(chapter.prepare(data, chapter.CHAPTER.collect(globals())))
for key, value in result.glue_values().items():
    glue(key, value, display=False)


def show(name: str) -> None:
    """Draw a figure of the result, save it as figures/<name>.png and show that file."""
    display(plots.saved_image(plots.save(result.draw(name), output_dir, name, close=True)))


# %% [markdown]
# ## Summary of this run
#
# What was run and what it found, in sentences chosen by the computed numbers. The sections
# below show each step.

# %%
display(Markdown(result.data_line() + "\n\n" + result.summary()))
if result.warnings():
    display(Markdown("**Warnings**\n\n" + "\n".join(f"- {w}" for w in result.warnings())))
display(result.settings_table().style.hide(axis="index"))

# %% [markdown]
# ## 1. The data and their contract
#
# One row per period and group, every group with the same periods, no gaps, numeric
# non-negative outcomes, and an intervention with enough periods on both sides. A file that
# breaks a rule stops before anything is computed, with a one-line message. When more than one
# group is analysed, their sum, period by period, is analysed as one more series.

# %%
display(result.data_summary().style.hide(axis="index"))
display(pd.concat({name: ts.frame.describe().T[["mean", "min", "max"]] for name, ts in result.grouped.series.items()})
        .round(1))

# %% [markdown] tags=["book-voice"]
# ### The published yearly figures
#
# The paper's Tables 1 to 3 are real published data (in `data/published/`). The community
# institutions' share of expenditure and of outpatient visits rose every year, and the insurance
# fund's balance rate rose from {glue:text}`sanming_balance_rate_first:.2f`% to
# {glue:text}`sanming_balance_rate_last:.2f`% (Table 2). The printed balance rate is (employee
# balance + resident balance + balance reward) / (employee total + resident total), which the
# last column recomputes.

# %% tags=["book-only"]
if result.book is not None:
    display(result.book.fund[["year", "employee_total_100m", "resident_total_100m", "employee_balance_100m",
                              "resident_balance_100m", "balance_reward_100m", "balance_rate_pct",
                              "recomputed_balance_rate"]].style.format(precision=2).hide(axis="index"))
    show("published_shares")

# %% [markdown] tags=["book-voice"]
# ### The synthetic series and the yearly totals
#
# The synthetic series were generated for January 2016 to December 2019 so that, without noise,
# every calendar year adds up to Tables 1 and 3; December 2019 was then dropped, as the paper's
# monthly analysis stops in November. The noise is added afterwards and keeps its
# autocorrelation, so a noisy year misses its total by a few percent; the largest gap in this
# draw is {glue:text}`sanming_max_total_gap_pct:.1f`%. The table gives each year's sum divided by
# the published total.

# %% tags=["book-only"]
if result.book is not None:
    display(result.book.annual_sums.pivot_table(index=["institution", "outcome"], columns="year",
                                                values="ratio").round(3))

# %% [markdown] tags=["book-voice"]
# Table 4's slopes and the yearly totals do not describe the same trends. Four yearly totals fix
# the four coefficients of a segmented line exactly; the table compares the slopes they imply
# with Table 4's, in units of Table 4's standard error.

# %% tags=["book-only"]
if result.book is not None:
    display(result.book.totals.style.format(precision=4).hide(axis="index"))
    display(Markdown(chapter.totals_text(result)))
    show("totals_consistency")

# %% [markdown]
# ## 2. Look at the series first
#
# A plot comes before any model: the level and trend before the intervention, whether the
# series move at the intervention, and the seasonal pattern (on a log scale, so that groups of
# different sizes fit in one panel).

# %%
show("series")

# %% [markdown]
# ## 3. The segmented regression on ln(Y + 1)
#
# For each series: divide by the ratio-to-moving-average seasonal index (when the data are
# monthly or quarterly and long enough), take ln(Y + 1), fit
# $\ln(Y_t + 1) = \beta_0 + \beta_1 T + \beta_2 X_t + \beta_3 XT_t$ by least squares, test the
# residuals with Breusch-Godfrey, and use Newey-West standard errors. $T$ counts the periods
# from 1, $X_t$ is 1 from the intervention on, and $XT_t$ is the post-intervention time term.

# %%
display(Markdown(chapter.model_text(result)))

# %% [markdown] tags=["book-voice"]
# The table shows, for β1 to β3 and the jump at the reform month, the truth the synthetic data
# carry, this estimate with its 95% interval, and Table 4's value. The "truth" is what the
# generated series carry (the coefficients of the noise-free series): Table 4's line bent
# towards the yearly totals. {glue:text}`sanming_n_covered:d` of the
# {glue:text}`sanming_n_intervals:d` intervals for β1 to β3 contain the truth in this draw, and
# {glue:text}`sanming_n_cover_paper:d` of {glue:text}`sanming_n_paper_terms:d` contain Table 4's value.

# %%
terms = list(chapter.TERM_LABELS)
if result.book is not None:
    shown = result.book.comparison[result.book.comparison["term"].isin(terms)]
else:
    shown = result.model_table()[lambda t: t["term"].isin(terms)]
shown = shown.assign(outcome=[result.series_label(g, o) for g, o in zip(shown["group"], shown["outcome"], strict=True)])
display(report.compact_comparison(shown, chapter.TERM_LABELS, digits=4).style.hide(axis="index"))

# %% tags=["book-only"]
if result.book is not None:
    display(Markdown(chapter.findings_text(result)))
    show("coefficients")

# %% [markdown]
# ## 4. Residual autocorrelation
#
# Service data rarely have independent errors: a busy period tends to follow a busy period.
# The Breusch-Godfrey test puts a p-value on it; the residual, ACF and PACF plots of each
# series show it.

# %%
display(result.diagnostics_table()[["group", "outcome", "bg_statistic", "bg_p_value", "durbin_watson", "r_squared",
                                    "hac_lags"]].style.format(precision=4).hide(axis="index"))
display(Markdown(chapter.autocorrelation_text(result)))
for name in result.figure_names():
    if name.startswith("residuals_"):
        show(name)

# %% [markdown] tags=["book-voice"]
# How often do such intervals contain the truth? The synthetic city can be drawn many times.
# The table repeats the analysis on 40 other draws: the share of 95% intervals that contain the
# truth the data carry, and the median Newey-West standard error divided by the spread of the
# estimates over the draws.

# %% tags=["book-only"]
if result.book is not None:
    from payreform.chapters import sanming_paper

    monte_carlo = sanming_paper.coverage(seeds=40)
    display(monte_carlo.style.format(precision=3).hide(axis="index"))
    glue("sanming_mc_beta3_coverage_pct", float(100 * monte_carlo.set_index("term").loc["beta3", "coverage"]),
         display=False)
    glue("sanming_mc_beta3_se_ratio", float(monte_carlo.set_index("term").loc["beta3", "se_over_spread"]),
         display=False)
    display(Markdown(sanming_paper.coverage_text(monte_carlo)))

# %% [markdown]
# ## 5. Reading the coefficients: codings and percentages
#
# **β2 depends on the coding.** The same fitted line gives a different β2 under each coding of
# the post-intervention time term; β1 and β3 do not change. Only under `zero_at_intervention`
# is β2 the jump at the intervention period. The table refits every series under the three
# codings and converts this run's β2 into each of them: the conversion reproduces the refit
# exactly, standard error included.
#
# **Coefficients on the log scale are not percentages.** A coefficient $b$ multiplies $Y + 1$ by
# $e^b$: the percentage change is $100(e^b - 1)$, close to $100b$ only when $b$ is small.

# %%
display(result.codings[["group", "outcome", "coding", "beta2", "se_beta2", "beta2_converted", "se_beta2_converted",
                        "beta3"]].style.format(precision=4).hide(axis="index"))
if result.log:
    percent = result.model_table()[lambda t: t["term"].isin(["beta1", "beta3", "post_slope"])]
    display(percent[["group", "outcome", "term", "estimate", "percent_change", "percent_ci_low", "percent_ci_high"]]
            .style.format(precision=3).hide(axis="index"))

# %% [markdown]
# ## 6. What would have happened without the intervention?
#
# The counterfactual is the pre-intervention line carried forward. The figures show each
# series, the fitted segments and the counterfactual; the table gives the effect at the
# `horizon`, fitted minus counterfactual, in the outcome's units and as a share of the
# counterfactual. For ln(y + 1) models the relative effect is $e^d - 1$, where $d$ is the
# difference on the log scale, and its interval is the transformed interval of $d$.

# %%
show("itsa_counterfactual")
display(result.effects_shown().style.hide(axis="index"))

# %% [markdown]
# ## 7. Two groups tested against each other
#
# Reading two separate tables side by side does not say whether two groups changed
# *differently*: a significant change in one and a non-significant change in the other are
# compatible with identical changes. A comparative interrupted time series puts both series in
# one regression {cite:p}`linden2015its`:
#
# $$Y = \beta_0 + \beta_1 T + \beta_2 X + \beta_3 XT + \beta_4 Z + \beta_5 ZT + \beta_6 ZX + \beta_7 ZXT,$$
#
# with $Z = 1$ for the first group of `compare`. β6 tests whether the level change differs and
# β7 whether the slope change does. The Newey-West errors are computed within each series and
# ignore the covariance between the two series' errors; if the two move together (as two parts
# of one health system do), the errors of the differences are somewhat too large: conservative.

# %%
comparison = result.comparison_table()
if not comparison.empty:
    shown = comparison[comparison["term"].isin(["beta5", "beta6", "beta7", "difference_in_level_change_at_intervention"])]
    display(shown[["outcome", "term", "estimate", "std_error", "p_value", "ci_low", "ci_high"]]
            .style.format(precision=4).hide(axis="index"))
    show("comparison")
display(Markdown(chapter.comparison_text(result)))

# %% [markdown]
# ## 8. Robustness
#
# **Placebo interventions.** If the method finds "effects" at dates when nothing happened, its
# real findings deserve less trust. Each placebo fit uses only the periods before the
# intervention and pretends it started earlier.

# %%
if not result.placebo.empty:
    display(result.placebo[["group", "outcome", "placebo", "beta2", "beta2_p", "beta3", "beta3_p"]]
            .style.format(precision=4).hide(axis="index"))
display(Markdown(chapter.placebo_text(result)))

# %% [markdown]
# **Seasonal adjustment and Newey-West lag.** The p-value of β3 of each series under each way
# of handling the season (none, the ratio to a moving average, season indicators in the
# regression) and three Newey-West lags. A conclusion that holds only in one column is fragile.

# %%
display(result.sensitivity.pivot_table(index=["group", "outcome"], columns=["seasonal", "hac_lags"],
                                       values="p_value").round(3))
display(Markdown(chapter.sensitivity_text(result)))

# %% [markdown] tags=["book-voice"]
# **The end of the series.** The data stop in November 2019 on purpose. From December 2019 the
# pandemic changed hospital use for reasons unrelated to payment; extending the series would
# attribute the collapse and recovery of 2020 to the reform's slope.
#
# ## 9. Does Table 4 agree with itself?
#
# A printed P-value should follow from its coefficient and standard error. Allowing for the
# rounding of both to three decimals and for either a normal or a t reference, the table gives
# the range of P-values each row allows, and flags the printed P-values outside it.

# %% tags=["book-only"]
if result.book is not None:
    display(result.book.table4.style.format(precision=4).hide(axis="index"))
    display(Markdown(chapter.table4_text(result)))
    display(result.book.text.style.hide(axis="index"))
    text_beta3 = result.book.text.set_index(["group", "outcome"]).loc[("community", "inpatient_volume"), "text_estimate"]
    glue("sanming_text_beta3_year_pct", float(-100 * np.expm1(12 * text_beta3)), display=False)

# %% [markdown] tags=["book-voice"]
# The last table lists the two slope changes the paper's text quotes differently from Table 4:
# overall inpatient volume (0.005 in the text, −0.005 in the table, which the text itself calls
# a decrease) and community inpatient volume (−0.114 in the text, −0.004 in the table, with the
# same P = 0.595). The table's values are the plausible ones: a slope change of −0.114 a month
# would cut admissions by {glue:text}`sanming_text_beta3_year_pct:.0f`% within a year.

# %% [markdown]
# ## 10. Results file
#
# Everything above is written to `results.json`, with the tables as CSV files and the figures
# as PNG files beside it.

# %%
path = result.write(output_dir, figures=False)
print(f"wrote {path.name}: {len(result.estimates())} estimates, {len(result.figure_names())} figures")

# %% [markdown] tags=["book-only"]
# ## Exercises
#
# ````{exercise} What changed at October 2017?
# :label: sanming-ex-jump
#
# Table 4 reports β2 = −0.154 for community inpatient volume with the coding $T X_t$, and
# β3 = −0.004. What is the jump in ln(admissions + 1) at October 2017 ($T_0 = 22$)? As a
# percentage? Why is "the reform cut community admissions by 15.4%" the wrong reading?
# ````
#
# ````{solution-start} sanming-ex-jump
# :class: dropdown
# ````
#
# The jump is β2 + β3·T0 = −0.154 − 0.004 × 22, a change of 100(e^jump − 1)%, computed below
# from Table 4 (`data/published/sanming_table4_itsa.csv`). β2 alone is the gap between the two
# lines at $T = 0$ (December 2015), a point 22 months before the reform that no one observed. Its
# standard error is also not the jump's: that needs Var(β2) + T0² Var(β3) + 2 T0 Cov(β2, β3),
# which the paper does not print; `level_change_at_intervention()` computes it from a fit.

# %% tags=["book-only"]
from payreform import published  # noqa: E402
from payreform.chapters import sanming_paper  # noqa: E402

table4 = published.load("sanming_table4_itsa").set_index(["group", "outcome", "term"])["estimate"]
jump = table4["community", "inpatient_volume", "beta2"] + 22 * table4["community", "inpatient_volume", "beta3"]
print(f"jump on the log scale {jump:.3f}, as a percentage {100 * np.expm1(jump):.1f}%")
book = result if result.book_data else chapter.run(chapter.prepare())  # the book's synthetic series
fit = book.analyses[("community", "inpatient_volume")].model
print("this fit's jump with its standard error:", fit.level_change_at_intervention())

# %% [markdown] tags=["book-only"]
# ````{solution-end}
# ````
#
# ````{exercise} Do the paper's tables agree?
# :label: sanming-ex-totals
#
# Compute the yearly growth of hospital medical expenditure from Table 1
# (`published.load("sanming_table1_expenditure")`) and compare it with the monthly slopes of
# Table 4 before and after the reform, converted to yearly growth with $e^{12b} - 1$. What do
# you conclude, and what would you ask the authors?
# ````
#
# ````{solution-start} sanming-ex-totals
# :class: dropdown
# ````

# %% tags=["book-only"]
table1 = published.load("sanming_table1_expenditure")
yearly = (100 * table1.set_index("year")["hospital_expenditure_10k"].pct_change()).round(1).dropna()
before = 100 * np.expm1(12 * table4["hospital", "medical_expenditure", "beta1"])
after = 100 * np.expm1(12 * (table4["hospital", "medical_expenditure", "beta1"]
                             + table4["hospital", "medical_expenditure", "beta3"]))
print("yearly growth from Table 1 (%):", yearly.to_dict())
print(f"Table 4's slopes as yearly growth: {before:.1f}% before, {after:.1f}% after the reform")
gaps = book.book.totals.set_index(["group", "outcome", "term"])["gap_in_se"]
display(Markdown(sanming_paper.growth_text(yearly, before, after, float(gaps["hospital", "medical_expenditure", "beta3"]),
                                          book.book.strongest_misfit())))

# %% [markdown] tags=["book-only"]
# One would ask for the monthly data, or at least for the yearly sums of the monthly series that
# entered the analysis.
#
# ````{solution-end}
# ````
#
# ````{exercise} A more honest comparison group?
# :label: sanming-ex-control
#
# The two-group model compares hospitals with community institutions of the same city, both
# exposed to the reform. What does β7 estimate then, and what would a control series for a
# causal statement have to look like?
# ````
#
# ````{solution} sanming-ex-control
# :class: dropdown
#
# β7 is the difference between the two institution types' slope changes: whether the reform
# (and anything else that happened in October 2017) changed the trend of hospitals more than
# that of community institutions. It says nothing about what would have happened without the
# reform, because neither series is unexposed. A control series would need the same outcome in
# a comparable city that did not introduce the Sanming model in 2017 (or an outcome in Sanming
# that the reform cannot affect), observed over the same months; even then the other reforms of
# 2017 would have to have reached both.
# ````
#
# ````{exercise} Your own placebo
# :label: sanming-ex-placebo
#
# Move the intervention to October 2018 and rerun the chapter on the same synthetic series.
# Do you find "effects"? What does that tell you about reading significant β3 estimates in a
# series whose growth is not linear?
# ````
#
# ````{solution-start} sanming-ex-placebo
# :class: dropdown
# ````

# %% tags=["book-only"]
from payreform.synth import sanming  # noqa: E402

later = str(pd.Period(sanming.INTERVENTION, "M") + 12)  # a year after the real reform
moved = chapter.run(chapter.prepare(sanming.generate(seed=seed), {"intervention": later,
                                                                  "coding": "time_times_post"}))
beta3 = moved.model_table().query("term == 'beta3'")[["group", "outcome", "estimate", "p_value"]]
display(beta3.style.format(precision=4).hide(axis="index"))
display(Markdown(sanming_paper.moved_text(beta3)))

# %% [markdown] tags=["book-only"]
# Placebo dates, visual checks and alternative functional forms (for example a quadratic
# pre-trend) are the defence against reading a bend in a curved series as an effect.
#
# ````{solution-end}
# ````
