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
# (ccmc-analysis)=
# # CCMC: the event-study difference-in-differences, step by step
#
# This page repeats the evaluation of bundled payment in close-knit county medical
# communities ({cite:t}`ccmc_bundled`): pilot counties that bundled their insurance payment in
# one year against pilot counties that did not. It then adds what the paper could not do: a
# joint test of parallel trends, a sensitivity analysis that says how large a violation would
# overturn each result, and the estimator for counties that adopt in different years. The
# reform and the design are discussed in {doc}`../book/ccmc_did`.
#
# By default the page runs on a **synthetic** panel of
# {glue:text}`ccmc_n_units` counties observed from {glue:text}`ccmc_year_first` to
# {glue:text}`ccmc_year_last`,
# whose true coefficients are the paper's published estimates (Tables 2 and 3), including the
# pre-reform trend difference the paper found for staff income. Results tables show the
# planted truth, this estimate and the paper's reporting. To run the same page on your own
# panel, see {doc}`../book/running_on_your_data`.

# %% tags=["parameters"]
data = None  # path to a CSV, Excel or Parquet panel; None means the book's synthetic panel
sheet = None  # Excel only: the sheet to read; None means the first
language = "en"  # "en" or "zh": language of report.docx, tables.xlsx and figure labels
seed = 20200101  # seed of the synthetic panel
output_dir = "reports/ccmc-did"  # results.json, tables/ and figures/ go here
unit_column = "county_id"
time_column = "year"
treated_column = "treated"  # 0/1 treatment group, constant within a unit
first_treated_column = None  # adoption year instead; several years give the staggered design
outcomes = None  # list of columns; None means every other numeric column
controls = None  # None: the book's five controls on its data, none on yours
year_base = None  # year dummy left out; None means the first year
did_base = None  # reference year of the interactions; None means the adoption year
cluster_column = None  # None means cluster by unit
honest_term = None  # effect for the sensitivity analysis; None means the first post-period term
mbar = ["0", "0.5", "1", "1.5", "2"]  # relative-magnitude bounds
prepared_input = None  # set by `payreform run`: the input it has already read and checked

# %%
# %matplotlib inline
import os

import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from payreform import did, plots
from payreform.chapters import ccmc_did as chapter
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
# ## 1. The panel and its contract
#
# One row per unit and year. The treatment group (or the adoption year) must not change within
# a unit, and there must be treated units and units that were never treated. Units are the
# clusters of the standard errors, because outcomes of the same unit are correlated across
# years. A file that breaks a rule stops before any computation with a one-line message.

# %%
display(result.panel_summary().style.hide(axis="index"))

# %% [markdown]
# ## 2. Were the groups alike? The balance table
#
# For each variable the table gives the treated and the comparison units' mean (standard
# deviation), their difference and the p-value of Welch's t-test (no equal-variance
# assumption), in the first year, the adoption year and the last year; then the treated units'
# last year against their first, with a paired t-test. Balance in *levels* is not what
# difference-in-differences needs (unit fixed effects absorb level differences); it needs
# parallel *trends*, tested in section 4.

# %%
display(result.balance_shown().style.hide(axis="index"))
display(Markdown(result.balance_text()))

# %% [markdown] tags=["book-voice"]
# The paper's Table 1 compares the groups in 2018, 2020 and 2022 in the same way and finds in
# 2018 only population density different (treated counties less dense). The synthetic panel
# starts every treated-control gap at zero in 2018 to match that. The paper's event-study
# coefficients fix only how the gaps *change*: with a balanced 2018, its did2018 of
# {glue:text}`ccmc_paper_income_county_hospital_staff_did2018:.3f` for county-hospital income
# means that the treated counties' income gap was that much larger in 2018 than in 2020, so by
# 2020 the treated counties had fallen behind, and its non-significant did2022 keeps them
# behind in 2022. The paper's Table 1, which reports treated incomes *above* the control
# group's in 2022, cannot hold together with its own Table 3; the synthetic panel follows
# Table 3, and the sentences above follow the computed table.

# %% [markdown]
# ## 3. The event studies
#
# For each outcome the model, with the base years this run used, is

# %%
display(Markdown(f"$${result.model_formula()}$$\n\n{result.design_text()}"))

# %% [markdown] tags=["book-voice"]
# This is the paper's specification: year effects relative to 2018, interactions relative to
# 2020, the adoption year, and county fixed effects that absorb the treatment indicator. The
# tables group the seven outcomes in the paper's three domains and show the planted truth, this
# estimate with its 95% interval and how the paper reported the coefficient ("n.s." for not
# significant, "n/r" for not reported). Of the {glue:text}`ccmc_n_intervals` intervals for the
# year and did terms, {glue:text}`ccmc_n_covered` contain the planted value.

# %%
if result.book_data:
    groups = chapter.ccmc.DOMAINS.items()
else:
    groups = [("outcomes", result.prepared.outcomes)]
for domain, members in groups:
    for outcome in members:
        display(Markdown(f"**{result.label(outcome)}** ({domain})"))
        display(result.event_study_table(outcome).style.hide(axis="index"))

# %% [markdown]
# The figure shows the interaction terms with their 95% intervals; the reference period is zero
# by construction. Terms before the reference are the parallel-trend checks, terms after it the
# effects.

# %%
show("event_studies")

# %% [markdown]
# The control variables' coefficients (none if the run used no controls):

# %%
controls_table = result.controls_table()
if not controls_table.empty:
    display(controls_table.style.format(precision=3).hide(axis="index"))

# %% [markdown]
# ## 4. Parallel trends: the joint test
#
# Judging parallel trends by the individual t-tests of the pre-period terms is inconsistent:
# two individually non-significant coefficients can be jointly significant, and the reverse.
# The Wald test of all pre-period terms at once is an F test,
# $F = \hat b'(R \hat V R')^{-1} \hat b / q$ with $q$ restrictions and, for clustered errors,
# $G - 1$ denominator degrees of freedom ($G$ clusters), as Stata's `test` after
# `xtreg, fe vce(cluster)`. In a design with one adoption year used as the reference, the
# change from the year before adoption to the adoption year is among the tested terms; if the
# reform acted in its first year, that change is part of the reform. The test is therefore
# repeated with the year before adoption as reference (below the table, when the data allow).

# %%
pretrend_table = result.pretrend_table()
p_columns = [c for c in pretrend_table.columns if c.startswith("p ")]
display(pretrend_table.style.format(precision=3).format(did.format_p, subset=p_columns)
        .hide(axis="index"))
display(Markdown(result.pretrend_text()))

# %% [markdown] tags=["book-voice"]
# The paper judged parallel trends by the individual t-tests of did2018 and did2019 and
# concluded that the income effects "cannot be attributed" to the policy. Note the direction:
# with the interactions measured from 2020, a positive did2018 says that the treated-control
# gap was *larger* in 2018 and shrank towards 2020; the paper reads the same coefficients as
# treated incomes "growing faster" before the reform.

# %% [markdown]
# ## 5. How large a violation would overturn the result? (HonestDiD)
#
# Rambachan and Roth (2023) replace the assumption that trends are exactly parallel by a bound
# on how much they may diverge after the reform, relative to how much they diverged before:
#
# * **relative magnitudes** ($\bar M$): the post-reform change in the trend difference from one
#   period to the next is at most $\bar M$ times the largest pre-reform change. $\bar M = 0$ is
#   exact parallel trends; $\bar M = 1$ allows post-reform deviations as large as the worst
#   pre-reform one.
# * **smoothness** ($M$): the trend difference continues linearly, up to a change in slope of
#   at most $M$ per period.
#
# For each bound the robust 95% confidence set of the effect is computed; the **breakdown
# value** is the smallest bound at which the set includes zero. The analysis runs for every
# outcome, whatever its pre-trend test said: adjusting only the outcomes that fail a pre-test
# distorts inference (Roth 2022).

# %%
display(Markdown(f"Effect analysed: **{did.term_label(result.settings['honest_term'])}** "
                 f"(`{result.settings['honest_term']}`)."))
display(result.breakdown_table().style.format(precision=3, na_rep="")
        .format(did.format_p, subset=["p-value"]).hide(axis="index"))
display(Markdown(result.honest_text()))
if "honest_did" in result.figure_names():
    show("honest_did")

# %% [markdown]
# The robust intervals for every bound, both restrictions (the first row of each outcome is the
# interval under exact parallel trends):

# %%
display(result.honest_table().style.format(precision=3, na_rep="").hide(axis="index"))

# %% [markdown]
# ### The choice of reference year
#
# With one adoption year, the reference year of the interactions is the adoption year. If the
# reform already acted in that year, the change in the gap from the year before to the adoption
# year is part of the reform, yet the relative-magnitude bound counts it as a pre-reform
# divergence. Measuring the terms from the year before adoption instead shows how much the
# conclusion depends on that choice:

# %%
display(Markdown(result.reference_text()))

# %% [markdown] tags=["book-voice"]
# In the paper 2020 is itself a treated year: the treated counties bundled their payment in
# 2020, and the interactions are measured from it. For county-hospital income the largest
# pre-reform change of the gap, the one that sets the scale of $\bar M$, is the change from
# {glue:text}`ccmc_income_county_hospital_staff_largest_pre_change_from` to
# {glue:text}`ccmc_income_county_hospital_staff_largest_pre_change_to`
# ({glue:text}`ccmc_income_county_hospital_staff_largest_pre_change:.2f`). If it ends in 2020,
# it may be the reform's first-year effect rather than a pre-existing trend. The sentences above
# give the sensitivity with 2019 as the reference.

# %% [markdown]
# ## 6. Units that adopted in different years
#
# When units adopt in different years, the two-way fixed-effects event study compares later
# adopters with earlier adopters whose effects are still growing, and its coefficients become
# weighted mixtures of effects that can even have the wrong sign (Sun and Abraham 2021).
# Callaway and Sant'Anna (2021) estimate each adoption cohort's effect in each year against
# clean comparisons (here: never-treated units) and then average them by years since adoption.
# Both are shown with the same reference, the year before adoption, so that the pre-adoption
# rows compare like with like.

# %% [markdown] tags=["book-voice"]
# The paper's counties adopted in one year. To show the problem, the book's run uses a synthetic
# staggered panel: adoption in 2019, 2020 or 2021, or never, with effects that build up over
# time and differ strongly between cohorts, and parallel trends that hold by construction. The
# table adds the planted effect and both estimators on the same panel generated **without
# noise**, where any gap from the truth is bias, not chance.

# %%
display(Markdown(result.staggered_text()))
if result.staggered is not None and result.staggered.sides:
    side = result.staggered.side()
    display(Markdown(f"Outcome shown: **{result.label(result.staggered.shown)}** "
                     f"({result.staggered.n_units} units, adoption in "
                     f"{', '.join(map(str, result.staggered.cohorts))})."))
    display(side.style.format(precision=3).hide(axis="index"))
    show("staggered")

# %% [markdown]
# ## 7. Results file
#
# Everything above is written to `results.json`, with the tables as CSV files and the figures
# as PNG files beside it.

# %%
path = result.write(output_dir, figures=False)
n_figures = len(result.figure_names())
print(f"wrote {path.name}: {len(result.estimates())} estimates, {n_figures} figures")

# %% [markdown] tags=["book-only"]
# ## Exercises
#
# ````{exercise} Two t-tests or one F-test?
# :label: ccmc-ex-joint
#
# Two pre-period terms have t statistics of 1.8 each (p ≈ 0.07). Can the joint F-test reject
# at 5%? Can it fail to reject when both individual tests reject? Work it out for correlations
# of −0.5 and +0.9 between the two estimates.
# ````
#
# ````{solution-start} ccmc-ex-joint
# :class: dropdown
# ````
#
# The F statistic combines the two estimates with their covariance:

# %% tags=["book-only"]
import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

rows = []
for t_value in (1.8, 2.2):
    for rho in (-0.5, 0.9):
        b = np.array([t_value, t_value])  # estimates in standard-error units
        v = np.array([[1.0, rho], [rho, 1.0]])
        f = float(b @ np.linalg.solve(v, b)) / 2
        rows.append({"t each": t_value, "p each": 2 * stats.t.sf(t_value, 527),
                     "correlation": rho, "F(2, 527)": f, "p joint": stats.f.sf(f, 2, 527)})
pd.DataFrame(rows).round(4)

# %% [markdown] tags=["book-only"]
# Yes to both. Two estimates of the same sign that are negatively correlated are strong joint
# evidence (each confirms the other although chance would make them disagree); positively
# correlated ones move together by chance and add little. Judging parallel trends term by term
# is therefore neither conservative nor liberal, just inconsistent.
#
# ````{solution-end}
# ````
#
# ````{exercise} Reading a breakdown value
# :label: ccmc-ex-breakdown
#
# Section 5 gives the breakdown value of $\bar M$ for each outcome. State in one sentence, for
# a policymaker, what it means for the county-hospital income effect. Would a breakdown value
# of 0.2 or of 3 make you more confident that the reform raised staff income?
# ````
#
# ````{solution-start} ccmc-ex-breakdown
# :class: dropdown
# ````

# %% tags=["book-only"]
if result.book_data:
    income = result.sensitivity["income_county_hospital_staff"]
    display(Markdown(did.breakdown_sentence(did.term_label(income.target), income.breakdown_mbar)))

# %% [markdown] tags=["book-only"]
# For a policymaker: "the effect remains statistically distinguishable from zero unless the
# treated and control counties' incomes diverged after the reference year by more than
# $\bar M$ times the largest divergence seen before it." A breakdown value of 3 means the
# conclusion survives even a post-reform divergence three times the worst pre-reform one; 0.2
# means that a divergence a fifth as large as what was already happening would explain the
# whole "effect".
#
# ````{solution-end}
# ````
#
# ````{exercise} When does two-way fixed effects go wrong?
# :label: ccmc-ex-twfe
#
# Generate the staggered panel without noise and with the same effect path for every cohort
# (`ccmc.generate(staggered=True, noise_scale=0, cohort_scale=...)` with the same value for
# every adoption year).
# Does the two-way fixed-effects event study still miss the truth? What does this tell you
# about when to worry?
# ````
#
# ````{solution-start} ccmc-ex-twfe
# :class: dropdown
# ````

# %% tags=["book-only"]
from payreform.synth import ccmc  # noqa: E402

keys = {"unit": ccmc.UNIT, "time": ccmc.TIME, "first_treated": ccmc.FIRST_TREATED,
        "outcome": ccmc.STAGGERED_OUTCOME}
same = {cohort: 1.0 for cohort in ccmc.COHORT_SCALE}  # one effect path for every cohort
same_path = ccmc.generate(staggered=True, noise_scale=0, cohort_scale=same)
cs_same = did.callaway_santanna(same_path, **keys, base_period="universal")
did.twfe_vs_callaway_santanna(did.event_study(same_path, **keys), cs_same).round(3)

# %% [markdown] tags=["book-only"]
# With the same effect path in every cohort, already-treated counties are valid comparisons
# (their outcomes move in parallel with the cohort's own path), and on the noise-free panel the
# two estimators agree exactly. The problem appears when effects differ across cohorts or
# change with time since adoption in cohort-specific ways. Payment reforms usually build up
# over years and differ by province, so with staggered adoption the heterogeneity-robust
# estimator should be the default.
#
# ````{solution-end}
# ````
#
# ````{exercise} Your own province
# :label: ccmc-ex-own
#
# Write the synthetic staggered panel to a CSV (`payreform synth ccmc --out ccmc.csv` writes
# the common-adoption one; `ccmc.generate(staggered=True)` the staggered one) and run the
# chapter on it with only its column names set. Which settings come from the data, and which
# sections of the report change?
# ````
#
# ````{solution-start} ccmc-ex-own
# :class: dropdown
# ````

# %% tags=["book-only"]
own_panel = ccmc.generate(staggered=True).drop(columns=list(ccmc.CONTROLS))
own = chapter.prepare(own_panel, {"first_treated_column": "first_treated",
                                  "outcomes": ["patient_satisfaction"]})
own.settings.table().query("source != 'default'")

# %% [markdown] tags=["book-only"]
# With an adoption-year column holding several years the event study switches to event time
# (terms `event-3` ... `event3`, reference `event-1`), the first post-period term becomes
# `event0`, the balance table compares ever-treated with never-treated units in the first and
# last year, and the staggered section runs on your data instead of the synthetic panel.
#
# ````{solution-end}
# ````
