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
# (ccmc-analysis)=
# # CCMC: the event-study difference-in-differences, step by step
#
# This page repeats the evaluation of bundled payment in close-knit county medical
# communities: 528 pilot counties, 2018-2022, counties that bundled their insurance payment in
# 2020 against those that did not. It then adds what the paper could not do: a joint test of
# parallel trends, a sensitivity analysis that says how large a violation would overturn each
# result, and the estimator for counties that adopted in different years. The reform and the
# design are discussed in {doc}`../book/ccmc_did`.
#
# By default the page runs on a **synthetic** panel whose true coefficients are the paper's
# published estimates (Tables 2 and 3), including the pre-reform trend difference that the paper
# found for staff income. Results tables show truth, this estimate and the paper's value.

# %% tags=["parameters"]
data = None  # path to a CSV or Parquet panel; None means the synthetic 528-county panel
seed = 20200101  # seed of the synthetic panel
output_dir = "reports/ccmc-did"  # results.json and figures/ go here
unit_column = "county_id"
time_column = "year"
treated_column = "treated"  # 0/1 treatment group, constant within a county
first_treated_column = None  # adoption year instead of treated_column, for staggered adoption
outcomes = None  # list of columns; None means every other numeric column
controls = ["log_population", "log_gdp_per_capita", "population_density", "insurance_fund_per_capita",
            "share_aged_65_plus"]
year_base = 2018  # year dummy left out
did_base = 2020  # interaction left out: the adoption year, as in the paper
cluster_column = None  # None means cluster by unit
honest_term = "did2021"  # the post-period effect for the sensitivity analysis
mbar = ["0", "0.5", "1", "1.5", "2"]  # relative-magnitude bounds

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from payreform import chapters, did, plots, report
from payreform.synth import ccmc

plots.set_theme()
pd.set_option("display.width", 140)
parameters = {k: globals()[k] for k in chapters.get("ccmc-did").defaults()}
synthetic = data is None
labels = ccmc.OUTCOME_LABELS | ccmc.CONTROL_LABELS
bounds = [float(b) for b in mbar]

# %% [markdown]
# ## 1. The panel and its contract
#
# One row per county and year; the treatment group indicator must not change within a county,
# and there must be treated and untreated counties. Counties are the clusters for the standard
# errors: outcomes of the same county are correlated across years.

# %%
frame, data_info = chapters.load_data(data, "ccmc", seed)
panel = chapters.did_panel(frame, parameters)
settings = chapters.did_settings(parameters)
summary = pd.DataFrame([{"units": panel.n_units, "treated units": panel.n_treated_units,
                         "control units": panel.n_control_units, "years": f"{min(panel.years)}-{max(panel.years)}",
                         "rows": len(panel.frame), "balanced": panel.balanced}])
display(summary.style.hide(axis="index"))
glue("ccmc_n_units", int(panel.n_units), display=False)
glue("ccmc_n_treated", int(panel.n_treated_units), display=False)
glue("ccmc_treated_share_pct", float(100 * panel.n_treated_units / panel.n_units), display=False)

# %% [markdown]
# ## 2. Were the groups alike before the reform? The balance table
#
# The paper's Table 1 compares the two groups' means in 2018 (before), 2020 and 2022 with
# independent-samples t-tests, and the treated counties' 2022 values with their own 2018 values.
# We use Welch's t-test (no equal-variance assumption) between groups and a paired t-test within
# the treated counties. Balance in *levels* is not what difference-in-differences needs (county
# fixed effects absorb level differences); it needs parallel *trends*, tested in section 4.

# %%
if treated_column is not None and first_treated_column is None:
    balance = did.balance_table(frame, unit=unit_column, time=time_column, treated=treated_column,
                                variables=list(panel.outcomes) + list(panel.controls),
                                years=tuple(y for y in (2018, 2020, 2022) if y in panel.years) or panel.years[:1])
    table = balance.table()
    shown = table.pivot_table(index="variable", columns=["year", "comparison"], values="p_value", sort=False)
    display(shown.round(3))
    density = table[(table["variable"] == "population_density") & (table["comparison"] == "treated vs control")]
    if not density.empty:
        glue("ccmc_density_2018_p", float(density.iloc[0]["p_value"]), display=False)
        glue("ccmc_density_2018_diff", float(density.iloc[0]["difference"]), display=False)

# %% [markdown]
# The table shows p-values. In the synthetic panel, as in the paper, only population density
# differs in 2018 (treated counties are less dense).

# %% [markdown]
# ## 3. Seven event studies in three domains
#
# For each outcome the model is (SPEC §12)
#
# $$Y_{it} = a + \sum_{t \ne 2018} \text{year}_t + \sum_{t \ne 2020} \text{did}_t \,(\text{treat}_i \times \text{year}_t)
#   + X_{it}'\theta + \mu_i + \varepsilon_{it},$$
#
# with county fixed effects $\mu_i$. The year terms are changes relative to 2018 common to all
# counties; the did terms are the treated-control gap relative to its 2020 value. did2021 and
# did2022 are the effects; did2018 and did2019 are the parallel-trend checks. Standard errors are
# clustered by county with the small-sample factor of Stata's `xtreg, fe vce(cluster)` and
# fixest, and t tests use G − 1 degrees of freedom.

# %%
results = {outcome: did.event_study(frame, outcome=outcome, **settings) for outcome in panel.outcomes}
estimates = pd.concat([r.table().assign(outcome=o, model="event_study_twfe", n_obs=r.diagnostics()["n_obs"])
                       for o, r in results.items()], ignore_index=True)
if synthetic:
    comparison = report.side_by_side(estimates, ccmc.truth())
    comparison = comparison.merge(ccmc.published_text(), on=["outcome", "term"], how="left")
    comparison["paper"] = comparison["paper"].fillna("")
    core = comparison[~comparison["term"].isin(panel.controls)]
    glue("ccmc_n_covered", int(core["covers_truth"].sum()), display=False)
    glue("ccmc_n_intervals", int(core["covers_truth"].notna().sum()), display=False)
else:
    comparison = estimates
for domain, members in (ccmc.DOMAINS.items() if synthetic else [("all outcomes", panel.outcomes)]):
    display(Markdown(f"**{domain.capitalize()}**"))
    rows = comparison[comparison["outcome"].isin(members) & ~comparison["term"].isin(panel.controls)]
    shown = report.compact_comparison(rows.drop(columns=["paper"], errors="ignore"),
                                      outcome_labels={o: o.replace("_", " ") for o in members}, digits=3)
    if synthetic:
        shown["paper"] = rows["paper"].to_numpy()
    display(shown.style.hide(axis="index"))
for row in estimates.itertuples():
    for suffix, value in (("", row.estimate), ("_lo", row.ci_low), ("_hi", row.ci_high), ("_p", row.p_value)):
        glue(f"ccmc_{row.outcome}_{row.term}{suffix}", float(value), display=False)

# %%
n = len(results)
fig, axes = plt.subplots((n + 1) // 2, 2, figsize=(12, 3.4 * ((n + 1) // 2)), squeeze=False)
truth_terms = ccmc.truth().pivot(index="outcome", columns="term", values="value") if synthetic else None
for ax, (outcome, result) in zip(axes.flat, results.items(), strict=False):
    planted = truth_terms.loc[outcome].dropna().to_dict() if synthetic else None
    plots.event_study_figure(result, ax=ax, title=labels.get(outcome, outcome), ylabel="", truth=planted)
for ax in list(axes.flat)[n:]:
    ax.set_visible(False)
fig.tight_layout()
plots.save(fig, output_dir, "event_studies")
plt.show()

# %% [markdown]
# ## 4. Parallel trends: the joint test the paper did not run
#
# The paper judged parallel trends by the individual t-tests of did2018 and did2019. Two
# individually non-significant coefficients can still be jointly significant, and two
# significant ones say more together than separately. The Wald test of all pre-period terms at
# once is an F test: $F = \hat b'(R V R')^{-1} \hat b / q$ with $q$ restrictions and, for
# clustered errors, $G - 1$ denominator degrees of freedom.

# %%
pretrends = {o: did.pretrend_test(r) for o, r in results.items()}
pretrend_table = pd.DataFrame([{"outcome": o, "F": t.statistic, "df": f"({t.df1}, {t.df2})", "p-value (joint)": t.p_value,
                                **{f"p({row.term})": row.p_value for row in t.table().itertuples()
                                   if not row.term.startswith("joint")}}
                               for o, t in pretrends.items()])
display(pretrend_table.style.format(precision=4).hide(axis="index"))
failing = [o for o, t in pretrends.items() if t.p_value < 0.05]
for o, t in pretrends.items():
    glue(f"ccmc_{o}_pretrend_F", float(t.statistic), display=False)
    glue(f"ccmc_{o}_pretrend_p", float(t.p_value), display=False)
glue("ccmc_n_failing_pretrend", len(failing), display=False)

# %% [markdown]
# Outcomes whose pre-period terms are jointly significant: the treated counties were already
# moving differently before 2020, so did2021 and did2022 mix the reform with that difference.
# The paper concluded that the income effects "cannot be attributed" to the policy. The next
# section turns this into a number.

# %% [markdown]
# ## 5. How large a violation would overturn the result? (HonestDiD)
#
# Rambachan and Roth (2023) replace the assumption that trends are exactly parallel by a bound on
# how much they may diverge after the reform, relative to how much they diverged before:
#
# * **relative magnitudes** ($\bar M$): the post-reform change in the trend difference from one
#   year to the next is at most $\bar M$ times the largest pre-reform change. $\bar M = 0$ is
#   exact parallel trends; $\bar M = 1$ allows post-reform deviations as large as the worst
#   pre-reform one.
# * **smoothness** ($M$): the trend difference continues linearly, up to a change in slope of at
#   most $M$ per year.
#
# For each bound the robust 95% confidence set for the effect is computed; the **breakdown
# value** is the smallest bound at which the set includes zero.

# %%
honest_outcomes = failing or list(panel.outcomes)[:1]
honest_rows, breakdowns = [], {}
for outcome in honest_outcomes:
    relative = did.honest_did(results[outcome], post_term=honest_term, mbar=bounds)
    smooth = did.honest_did(results[outcome], post_term=honest_term, method="smoothness")
    honest_rows.append(relative.table(include_original=True).assign(outcome=outcome))
    honest_rows.append(smooth.table().assign(outcome=outcome))
    breakdowns[outcome] = {"relative_magnitude": did.breakdown_value(relative), "smoothness": did.breakdown_value(smooth)}
honest = pd.concat(honest_rows, ignore_index=True)
display(honest[["outcome", "restriction", "bound", "ci_low", "ci_high", "method"]].style.format(precision=3).hide(axis="index"))
display(pd.DataFrame(breakdowns).T.rename(columns={"relative_magnitude": "breakdown M̄", "smoothness": "breakdown M"})
        .round(3))
for outcome, values in breakdowns.items():
    glue(f"ccmc_{outcome}_breakdown_mbar", float(values["relative_magnitude"]), display=False)
    glue(f"ccmc_{outcome}_breakdown_m", float(values["smoothness"]), display=False)

# %%
fig, axes = plt.subplots(1, len(honest_outcomes), figsize=(5.5 * len(honest_outcomes), 3.4), squeeze=False)
for ax, outcome in zip(axes.flat, honest_outcomes, strict=True):
    plots.honest_did_figure(honest[(honest["outcome"] == outcome) & (honest["restriction"] == "relative_magnitude")],
                            breakdowns[outcome]["relative_magnitude"], f"{labels.get(outcome, outcome)}: {honest_term}",
                            ax=ax)
fig.tight_layout()
plots.save(fig, output_dir, "honest_did")
plt.show()

# %% [markdown]
# ## 6. Counties that adopted in different years
#
# The paper's design has one adoption year. Many provinces rolled bundled payment out over
# several years. With staggered adoption, the two-way fixed-effects event study compares
# later adopters with earlier adopters whose effects are still growing, and its coefficients
# become weighted mixtures that can even have the wrong sign. Callaway and Sant'Anna (2021)
# estimate each adoption cohort's effect in each year against clean comparisons (never treated or
# not yet treated) and then average them by years since adoption.
#
# Below, the two estimators on the same data: a synthetic staggered panel (adoption in 2019,
# 2020 or 2021, or never; effects growing with time and larger for early adopters) unless your
# data have an adoption-year column.

# %%
if first_treated_column is not None:
    staggered, keys = frame, {"unit": unit_column, "time": time_column, "first_treated": first_treated_column}
    stagger_outcome, staggered_truth = list(panel.outcomes)[0], None
else:
    staggered, keys = ccmc.generate(seed=seed, staggered=True), {"unit": ccmc.UNIT, "time": ccmc.TIME,
                                                                  "first_treated": ccmc.FIRST_TREATED}
    stagger_outcome, staggered_truth = "cost_per_discharge", ccmc.truth(staggered=True)
twfe = did.event_study(staggered, outcome=stagger_outcome, **keys)
cs_never = did.callaway_santanna(staggered, outcome=stagger_outcome, control_group="never_treated", **keys)
cs_notyet = did.callaway_santanna(staggered, outcome=stagger_outcome, control_group="not_yet_treated", **keys)
side = did.twfe_vs_callaway_santanna(twfe, cs_never)
side = side.merge(cs_notyet.aggregate("dynamic")[["term", "estimate", "std_error"]]
                  .rename(columns={"estimate": "cs_not_yet_estimate", "std_error": "cs_not_yet_std_error"}),
                  on="term", how="left")
if staggered_truth is not None:
    side = side.merge(staggered_truth[staggered_truth["outcome"] == stagger_outcome][["term", "value"]]
                      .rename(columns={"value": "truth"}), on="term", how="left")
display(side.style.format(precision=2).hide(axis="index"))
fig = plots.staggered_figure(side, f"Staggered adoption: {labels.get(stagger_outcome, stagger_outcome)}")
plots.save(fig, output_dir, "staggered")
plt.show()
if staggered_truth is not None:
    late = side.dropna(subset=["truth"]).iloc[-1]
    glue("ccmc_stag_truth_last", float(late["truth"]), display=False)
    glue("ccmc_stag_twfe_last", float(late["twfe_estimate"]), display=False)
    glue("ccmc_stag_cs_last", float(late["cs_estimate"]), display=False)
    glue("ccmc_stag_event", int(late["event_time"]), display=False)
    pre = side[(side["event_time"] < -1) & side["twfe_estimate"].notna()]
    glue("ccmc_stag_twfe_pre_t", float((pre["twfe_estimate"] / pre["twfe_std_error"]).abs().max()), display=False)

# %% [markdown]
# ## 7. Results file

# %%
cs_table = cs_never.aggregate("dynamic").assign(model="callaway_santanna_never_treated",
                                                       outcome=stagger_outcome, n_obs=len(staggered))
all_estimates = pd.concat([estimates, cs_table[estimates.columns.intersection(cs_table.columns)]],
                          ignore_index=True)
diagnostics_block = {
    "panel": {"units": panel.n_units, "treated": panel.n_treated_units, "controls": panel.n_control_units,
              "balanced": panel.balanced, "years": list(panel.years)},
    "event_study": {o: r.diagnostics() for o, r in results.items()},
    "pretrend_tests": {o: {"F": t.statistic, "df1": t.df1, "df2": t.df2, "p_value": t.p_value}
                       for o, t in pretrends.items()},
    "honest_did": {"term": honest_term, "intervals": honest.to_dict(orient="records"), "breakdown": breakdowns},
    "staggered": {"source": "data" if first_treated_column else "synthetic staggered panel",
                  "outcome": stagger_outcome},
}
path = report.write_results(output_dir, chapter="ccmc-did", parameters=parameters, data=data_info,
                            estimates=all_estimates, diagnostics=diagnostics_block)
print(f"wrote {path} ({len(all_estimates)} estimates)")

# %% [markdown] tags=["book-only"]
# ## Exercises
#
# ````{exercise} Two t-tests or one F-test?
# :label: ccmc-ex-joint
#
# For an outcome with did2018 and did2019 individually at p = 0.08 and p = 0.09, can the joint
# F-test reject at 5%? Can it fail to reject when both individual tests reject? Use
# `did.pretrend_test` on the synthetic panel with `noise_scale` varied
# (`ccmc.generate(noise_scale=...)`) to find examples.
# ````
#
# ````{solution} ccmc-ex-joint
# :class: dropdown
#
# Yes to both. The F statistic combines the two estimates with their covariance: two estimates
# of the same sign that are positively correlated add up to strong joint evidence if they are
# *different* from what the correlation predicts, and weak evidence if they move together as the
# correlation suggests. With two pre-period terms measured against the same 2020 reference their
# estimates are positively correlated, so two marginal t statistics can give a joint F with a
# larger or a smaller p-value. Judging parallel trends term by term is therefore neither
# conservative nor liberal, just inconsistent.
# ````
#
# ````{exercise} Reading a breakdown value
# :label: ccmc-ex-breakdown
#
# The breakdown value of M̄ for the county-hospital income effect is shown in section 5. State
# in one sentence, for a policymaker, what it means. Would a breakdown value of 0.2 or of 3 make
# you more confident that the reform raised staff income?
# ````
#
# ````{solution} ccmc-ex-breakdown
# :class: dropdown
#
# "The 2021 income effect remains statistically distinguishable from zero unless the treated and
# control counties' incomes diverged after 2020 by more than M̄ times the largest divergence we
# saw between 2018 and 2020." A breakdown value of 3 means the conclusion survives even if the
# post-reform divergence were three times the worst pre-reform one; 0.2 means that a divergence
# a fifth as large as what was already happening would explain the whole "effect". Here the
# pre-reform divergence is as large as the estimated effect itself, so the breakdown value is
# small: the data cannot distinguish the reform from the trend the treated counties were on.
# ````
#
# ````{exercise} When does two-way fixed effects go wrong?
# :label: ccmc-ex-twfe
#
# In the staggered section, change the synthetic design so that every cohort has the same,
# constant effect (edit `ccmc.COHORT_SCALE` to 1 for every cohort and make `STAGGERED_EFFECT`
# apply only at event time 0 onward without growth). Does the TWFE event study still disagree
# with Callaway-Sant'Anna? What does this tell you about when to worry?
# ````
#
# ````{solution} ccmc-ex-twfe
# :class: dropdown
#
# With homogeneous, constant effects the already-treated counties are valid comparisons (their
# outcomes move in parallel after the one-time shift), and the two estimators agree up to noise.
# The TWFE problem appears when effects differ across cohorts or change with time since
# adoption, because already-treated units then serve as controls whose own effects are still
# changing. In practice effects of payment reforms usually build up over years, so with
# staggered adoption the heterogeneity-robust estimator should be the default.
# ````
#
# ````{exercise} Your own province
# :label: ccmc-ex-own
#
# Write a small CSV with `county_id, year, first_treated` and one outcome for your province (or
# use `payreform synth ccmc --out ccmc.csv` and recode `treated` into adoption years), then run
# `payreform run ccmc-did --data FILE --out DIR --set treated_column=none --set
# first_treated_column=first_treated --set controls=none --set honest_term=event1`. Which
# sections of the report change, and why?
# ````
#
# ````{solution} ccmc-ex-own
# :class: dropdown
#
# With an adoption-year column the event study switches to event time (terms `event-3` ...
# `event3`, reference `event-1`), the balance table is skipped (there is no single treatment
# group), and the staggered section runs on your data instead of the synthetic panel. The
# HonestDiD term must then be an event-time term such as `event1`.
# ````
