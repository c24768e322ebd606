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
# (sanming-analysis)=
# # Sanming: the city-wide interrupted time series, step by step
#
# This page repeats the analysis of Lin, Liu, Xiang and Luo for Sanming city: monthly medical
# expenditure, outpatient and inpatient volumes of the public hospitals and the community
# health service institutions, January 2016 to November 2019, around the October 2017 reform.
# The reform, the design and its limits are discussed in {doc}`../book/sanming_itsa`; the
# budget rules behind the reform are simulated in {doc}`sanming_budget`.
#
# By default the page runs on **synthetic** monthly series built from the paper's published
# numbers (Table 4's coefficients, Tables 1 and 3's yearly totals). Each results table shows
# the truth carried by the synthetic data, this estimate, and the paper's value.

# %% tags=["parameters"]
data = None  # path to a CSV or Parquet file in long format; None means the synthetic Sanming series
seed = 20171002  # seed of the synthetic series
output_dir = "reports/sanming-itsa"  # results.json and figures/ go here
time_column = "month"
group_column = "institution"  # column naming each row's series; None means a single series
outcomes = None  # list of columns; None means every numeric column
intervention = "2017-10"
coding = "time_times_post"  # the paper's coding: XT is T itself after the reform
impact = "level_and_slope"
seasonal = "auto"  # ratio-to-moving-average for monthly or quarterly data, as in the paper
log = True  # model ln(y + 1), as in the paper
hac_lags = "auto"
bg_order = 1
compare = ["hospital", "community"]  # the two groups for the two-group test; None means no test
add_overall = True  # also analyse the sum of the groups
placebos = ["2016-10", "2017-01", "2017-04"]  # placebo reform dates inside the pre-period

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from payreform import chapters, itsa, plots, published, report
from payreform.synth import sanming

plots.set_theme()
pd.set_option("display.width", 120)
parameters = {k: globals()[k] for k in chapters.get("sanming-itsa").defaults()}
synthetic = data is None
labels = sanming.OUTCOME_LABELS | sanming.GROUP_LABELS
terms = {"beta0": "β0", "beta1": "β1 pre slope", "beta2": "β2 as coded", "beta3": "β3 slope change",
         "post_slope": "β1+β3", "level_change_at_intervention": "jump at reform"}
short = {"medical_expenditure": "expenditure", "outpatient_volume": "outpatients", "inpatient_volume": "admissions"}

# %% [markdown]
# ## 1. The published yearly figures
#
# The paper's Tables 1 to 3 are real published data (in `data/published/`). They show the
# direction of the reform: the community institutions' share of expenditure and outpatient
# visits rose every year, and the insurance fund's balance rate rose from 7.53% to 19.98%. The
# printed balance rate is (employee balance + resident balance + balance reward) / (employee
# total + resident total), which the last column recomputes.

# %%
table1 = published.load("sanming_table1_expenditure")
table2 = published.load("sanming_table2_fund")
table3 = published.load("sanming_table3_services")
fund = table2.assign(recomputed_balance_rate=100 * (table2["employee_balance_100m"] + table2["resident_balance_100m"]
                                                    + table2["balance_reward_100m"].fillna(0))
                     / (table2["employee_total_100m"] + table2["resident_total_100m"]))
display(fund[["year", "employee_total_100m", "resident_total_100m", "employee_balance_100m", "resident_balance_100m",
              "balance_reward_100m", "balance_rate_pct", "recomputed_balance_rate"]].style.format(precision=2).hide(axis="index"))
fig, axes = plt.subplots(1, 2, figsize=(11, 3.3))
axes[0].plot(table1["year"], table1["community_share_pct"], "o-", label="expenditure")
axes[0].plot(table3["year"], table3["community_outpatient_share_pct"], "s-", label="outpatient visits")
axes[0].plot(table3["year"], table3["community_inpatient_share_pct"], "^-", label="admissions")
axes[0].set_title("Community institutions' share (%)")
axes[0].legend(fontsize=8)
axes[1].plot(table2["year"], table2["balance_rate_pct"], "o-", color=plots.COLORS["post"])
axes[1].set_title("Insurance fund balance rate (%)")
for ax in axes:
    ax.set_xticks(table1["year"])
fig.tight_layout()
plots.save(fig, output_dir, "published_shares")
plt.show()
growth = 100 * table1["hospital_expenditure_10k"].pct_change()
for year, value in zip(table1["year"].iloc[1:], growth.iloc[1:], strict=True):
    glue(f"sanming_hospital_expenditure_growth_{year}", float(value), display=False)
glue("sanming_balance_rate_2016", float(table2["balance_rate_pct"].iloc[0]), display=False)
glue("sanming_balance_rate_2019", float(table2["balance_rate_pct"].iloc[-1]), display=False)

# %% [markdown]
# ## 2. The monthly data and their contract
#
# One row per month and institution type, every type with the same months, no gaps, numeric
# outcomes. The "overall" series is the sum of the two types, month by month.

# %%
frame, data_info = chapters.load_data(data, "sanming", seed)
grouped = chapters.grouped_series(frame, parameters)
if add_overall and len(grouped.groups) > 1:
    grouped = grouped.with_total("overall")
first = next(iter(grouped.series.values()))
display(pd.DataFrame({"series": list(grouped.groups), "first period": str(first.frame.index[0]),
                      "last period": str(first.frame.index[-1]), "before reform": first.n_pre,
                      "from reform on": first.n_post}).style.hide(axis="index"))

# %% [markdown]
# For the synthetic data, the monthly values add up to the published yearly totals. The series
# were generated for January 2016 to December 2019 so that every calendar year matches Tables 1
# and 3; December 2019 was then dropped, as the paper's monthly analysis stops in November.

# %%
if synthetic:
    sums = sanming.annual_sums(sanming.generate(seed=seed, include_december_2019=True)).merge(sanming.published_totals())
    sums["ratio"] = sums["sum"] / sums["published"]
    display(sums.pivot_table(index=["institution", "outcome"], columns="year", values="ratio").round(4))
    glue("sanming_max_total_gap_pct", float(100 * (sums["ratio"] - 1).abs().max()), display=False)

# %%
fig, axes = plt.subplots(1, len(first.outcomes), figsize=(4.2 * len(first.outcomes), 3.2), squeeze=False)
for ax, outcome in zip(axes.flat, first.outcomes, strict=True):
    for name, ts in grouped.series.items():
        if name != "overall":
            ax.plot(ts.frame.index.to_timestamp(), ts.frame[outcome], "-", lw=1, label=labels.get(name, name))
    ax.axvline(first.intervention.to_timestamp(), color=plots.COLORS["intervention"], ls=":")
    ax.set_yscale("log")
    ax.set_title(labels.get(outcome, outcome), fontsize=9)
axes.flat[0].legend(fontsize=7)
fig.autofmt_xdate()
fig.tight_layout()
plots.save(fig, output_dir, "series")
plt.show()

# %% [markdown]
# ## 3. The ITSA as the paper ran it
#
# For each series: divide by the ratio-to-moving-average seasonal index, take ln(Y + 1), fit
# $\ln(Y_t + 1) = \beta_0 + \beta_1 T + \beta_2 X_t + \beta_3 T X_t$ by least squares, test the
# residuals with Breusch-Godfrey, and use Newey-West standard errors.
#
# The synthetic truth needs a word. The planted line is Table 4's, but the monthly values were
# then pulled towards the yearly totals of Tables 1 and 3, and those totals imply different
# trends (they show expenditure growth *accelerating* after 2017, while Table 4 reports a slower
# slope). The "truth" column is what the generated data actually carry: the coefficients of the
# noise-free series. The "paper" column is Table 4. The gap between them measures how far the
# paper's own tables disagree.

# %%
analyses = {}
for name, ts in grouped.series.items():
    settings = chapters.itsa_analysis_settings(ts, parameters)
    for outcome in ts.outcomes:
        analyses[(name, outcome)] = itsa.analyse_series(ts.frame, outcome, **settings)
estimates = pd.concat([a.table(level_change=True).assign(group=g) for (g, _), a in analyses.items()],
                      ignore_index=True)
keys = ("group", "outcome", "term")
if synthetic:
    comparison = report.side_by_side(estimates, sanming.implied_truth(coding=settings["coding"]),
                                     sanming.published(coding=settings["coding"]), keys=keys)
    glue("sanming_n_covered", int(comparison["covers_truth"].sum()), display=False)
    glue("sanming_n_intervals", int(comparison["covers_truth"].notna().sum()), display=False)
    paper_terms = comparison.dropna(subset=["paper"])
    covers_paper = (paper_terms["ci_low"] <= paper_terms["paper"]) & (paper_terms["paper"] <= paper_terms["ci_high"])
    glue("sanming_n_cover_paper", int(covers_paper.sum()), display=False)
    glue("sanming_n_paper_terms", len(paper_terms), display=False)
else:
    comparison = estimates
shown = comparison[comparison["term"].isin(["beta1", "beta2", "beta3", "level_change_at_intervention"])]
display(report.compact_comparison(shown.assign(outcome=shown["group"] + " · " + shown["outcome"].map(short).fillna(shown["outcome"])),
                                  terms, digits=4).style.hide(axis="index"))
for row in estimates.itertuples():
    glue(f"sanming_{row.group}_{row.outcome}_{row.term}", float(row.estimate), display=False)
    glue(f"sanming_{row.group}_{row.outcome}_{row.term}_p", float(row.p_value), display=False)

# %%
diagnostics = pd.concat([itsa.diagnostics_table([a]).assign(group=g) for (g, _), a in analyses.items()],
                        ignore_index=True)
display(diagnostics[["group", "outcome", "bg_statistic", "bg_p_value", "durbin_watson", "hac_lags"]]
        .style.format(precision=4).hide(axis="index"))
fig = plots.itsa_grid([analyses[key] for key in analyses if key[0] != "overall"],
                      {o: f"{labels.get(g, g)}: {labels.get(o, o)}" for (g, o) in analyses})
plots.save(fig, output_dir, "itsa_fits")
plt.show()

# %% [markdown]
# ## 4. Reading the coefficients: codings and percentages
#
# Two things go wrong easily with this table.
#
# **β2 is not the jump at October 2017.** With the paper's coding the interaction is $T X_t$,
# so β2 is the gap between the post- and pre-reform lines extrapolated back to $T = 0$
# (December 2015), not the change at the reform. The jump at the reform month is
# $\beta_2 + \beta_3 T_0$ with $T_0 = 22$, and its standard error needs the covariance of β2 and
# β3. The same model refitted with `zero_at_intervention` coding reports it directly as β2.
#
# **Coefficients on the log scale are not percentages.** A coefficient $b$ multiplies $Y + 1$ by
# $e^b$: the percentage change is $100(e^b - 1)$, close to $100b$ only when $b$ is small.

# %%
pitfall = []
for (name, outcome), a in analyses.items():
    model = a.model
    zero = itsa.segmented_regression(a.analysed, intervention=model.intervention, coding="zero_at_intervention",
                                     hac_lags=model.hac_lags)
    jump = model.level_change_at_intervention()
    pitfall.append({"series": name, "outcome": outcome, "β2 as coded": model.params["beta2"],
                    "SE": model.term("beta2").std_error, "jump β2+β3·T0": jump.estimate, "SE of jump": jump.std_error,
                    "β2 refitted, zero coding": zero.params["beta2"], "SE refitted": zero.term("beta2").std_error})
pitfall = pd.DataFrame(pitfall)
paper = sanming.published().set_index(["group", "outcome", "term"])["estimate"]
t0 = first.n_pre + 1
paper_jump = paper["community", "inpatient_volume", "beta2"] + paper["community", "inpatient_volume", "beta3"] * t0
glue("sanming_paper_jump_community_inpatient", float(paper_jump), display=False)
glue("sanming_paper_jump_community_inpatient_pct", float(100 * np.expm1(paper_jump)), display=False)
display(pitfall.style.format(precision=4).hide(axis="index"))
percent = itsa.as_percent_change(estimates[estimates["term"].isin(["beta1", "beta3", "post_slope",
                                                                     "level_change_at_intervention"])])
display(percent[["group", "outcome", "term", "estimate", "percent", "percent_low", "percent_high"]]
        .style.format(precision=3).hide(axis="index"))

# %% [markdown]
# ## 5. Hospitals against community institutions, tested formally
#
# The paper compares the two institution types by looking at two separate tables. A
# comparative interrupted time series puts both series in one regression (Linden 2015):
#
# $$Y = \beta_0 + \beta_1 T + \beta_2 X + \beta_3 XT + \beta_4 Z + \beta_5 ZT + \beta_6 ZX + \beta_7 ZXT,$$
#
# with $Z = 1$ for the first group. β6 tests whether the level change differs between the two
# series and β7 whether the slope change does. Newey-West errors are computed within each
# series (no lags across the two).

# %%
comparisons = {}
if compare and group_column is not None:
    group_name, reference_name = compare
    for outcome in grouped.outcomes:
        settings = chapters.itsa_analysis_settings(grouped.series[group_name], parameters)
        comparisons[outcome] = itsa.compare_series(grouped.series[group_name].frame,
                                                   grouped.series[reference_name].frame, outcome,
                                                   group=group_name, reference=reference_name, **settings)
    two_group = pd.concat([c.table().assign(outcome=o) for o, c in comparisons.items()], ignore_index=True)
    display(two_group[two_group["term"].isin(["beta5", "beta6", "beta7",
                                              "difference_in_level_change_at_intervention"])]
            [["outcome", "term", "estimate", "std_error", "p_value", "ci_low", "ci_high"]]
            .style.format(precision=4).hide(axis="index"))
    for row in two_group.itertuples():
        glue(f"sanming_compare_{row.outcome}_{row.term}_p", float(row.p_value), display=False)
else:
    two_group = pd.DataFrame()
    display(Markdown("No two-group comparison: set `compare` to two group names."))

# %% [markdown]
# ## 6. Robustness
#
# **Placebo reforms.** If the method finds "effects" at dates when nothing happened, its real
# findings deserve less trust. Each placebo fit uses only the months before October 2017 and
# pretends the reform started earlier.

# %%
if placebos:
    placebo = pd.concat([itsa.placebo_analysis(a.analysed, intervention=a.model.intervention, placebos=placebos,
                                               coding=a.model.coding, hac_lags=a.model.hac_lags)
                         .assign(group=g) for (g, _), a in analyses.items()], ignore_index=True)
    display(placebo[["group", "outcome", "placebo", "beta2", "beta2_p", "beta3", "beta3_p"]]
            .style.format(precision=4).hide(axis="index"))
    glue("sanming_placebo_n", len(placebo) * 2, display=False)
    glue("sanming_placebo_rejections", int((placebo["beta2_p"] < 0.05).sum() + (placebo["beta3_p"] < 0.05).sum()),
         display=False)

# %% [markdown]
# **Seasonal adjustment and Newey-West lag.** The slope change β3 of each series under three
# ways of handling the season (none, the paper's ratio to moving average, month indicators in
# the regression) and three Newey-West lags.

# %%
sensitivity = pd.concat([itsa.sensitivity_table(grouped.series[g].frame[o], intervention=grouped.intervention,
                                                coding=coding, log=log).assign(group=g)
                         for (g, o) in analyses if g != "overall"], ignore_index=True)
display(sensitivity.pivot_table(index=["group", "outcome"], columns=["seasonal", "hac_lags"], values="p_value")
        .round(3))

# %% [markdown]
# The table gives p-values of β3: a conclusion that holds only for one column is fragile.
#
# **The end of the series.** The data stop in November 2019 on purpose. From December 2019 the
# pandemic changed hospital use for reasons unrelated to payment; extending the series would
# attribute the collapse and recovery of 2020 to the reform's slope.

# %% [markdown]
# ## 7. Results file

# %%
diagnostics_block = {
    "frequency": grouped.frequency, "n_periods": len(first.frame), "n_pre": first.n_pre, "n_post": first.n_post,
    "intervention": str(grouped.intervention), "groups": list(grouped.groups),
    "series": {f"{g}/{o}": itsa.diagnostics_record(a) for (g, o), a in analyses.items()},
    "comparison": {"group": compare[0], "reference": compare[1]} if comparisons else None,
    "placebos": placebo.to_dict(orient="records") if placebos else None,
}
all_estimates = estimates.copy()
if not two_group.empty:
    comparison_rows = two_group.assign(model="comparative_ols_newey_west", group=f"{compare[0]}-vs-{compare[1]}",
                                       n_obs=[comparisons[o].n_obs for o in two_group["outcome"]])
    all_estimates = pd.concat([all_estimates, comparison_rows], ignore_index=True)
path = report.write_results(output_dir, chapter="sanming-itsa", parameters=parameters, data=data_info,
                            estimates=all_estimates, diagnostics=diagnostics_block)
print(f"wrote {path} ({len(all_estimates)} estimates)")

# %% [markdown] tags=["book-only"]
# ## Exercises
#
# ````{exercise} What changed at October 2017?
# :label: sanming-ex-jump
#
# Table 4 reports β2 = −0.154 for community inpatient volume with the coding $T X_t$, and
# β3 = −0.004. What is the estimated jump in ln(admissions + 1) at October 2017 ($T_0 = 22$)? As
# a percentage? Why is "the reform cut community admissions by 15.4%" the wrong reading?
# ````
#
# ````{solution} sanming-ex-jump
# :class: dropdown
#
# The jump is β2 + β3·T0 = −0.154 − 0.004 × 22 = −0.242 on the log scale, a change of
# 100(e^−0.242 − 1) = −21.5%, not −15.4%. β2 alone is the gap between the two lines at $T = 0$
# (December 2015), a point 22 months before the reform that no one observed. Its standard error
# is also not the jump's: that needs Var(β2) + T0² Var(β3) + 2 T0 Cov(β2, β3), which the paper
# does not print; `level_change_at_intervention()` computes it.
# ````
#
# ````{exercise} Do the paper's tables agree?
# :label: sanming-ex-totals
#
# Compute the yearly growth of hospital medical expenditure from Table 1
# (`published.load("sanming_table1_expenditure")`). Compare it with the monthly slopes of
# Table 4 before and after the reform (converted to yearly growth with $e^{12b} - 1$). What do
# you conclude, and what would you ask the authors?
# ````
#
# ````{solution} sanming-ex-totals
# :class: dropdown
#
# ```python
# t1 = published.load("sanming_table1_expenditure")
# t1["hospital_expenditure_10k"].pct_change() * 100   # 5.8%, 10.2%, 8.5%
# import numpy as np
# 100 * np.expm1(12 * 0.007), 100 * np.expm1(12 * (0.007 - 0.001))   # 8.7% before, 7.5% after
# ```
# The yearly totals grow faster *after* the reform (10.2% and 8.5% against 5.8% in 2016-2017),
# while Table 4 reports a slightly slower monthly slope after it. The two cannot both describe
# the same series unless the monthly data differ from the yearly report (the paper draws them
# from two different reports) or the within-year pattern is unusual. One would ask for the
# monthly data, or at least for the yearly sums of the monthly series that entered the ITSA.
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
# Run the chapter with the intervention moved to October 2018
# (`payreform run sanming-itsa --data sanming.csv --out out --set intervention=2018-10`, after
# `payreform synth sanming --out sanming.csv`). Do you find "effects"? What does that tell you
# about reading significant β3 estimates in a series whose growth is not linear?
# ````
#
# ````{solution} sanming-ex-placebo
# :class: dropdown
#
# The synthetic series bend at October 2017 and again through the yearly totals, so a
# segmented line with a break a year later still finds slope changes, some of them
# "significant". A piecewise-linear model fitted to a curved series will report a break
# wherever it is told to look. Placebo dates, visual checks and alternative functional forms
# (for example a quadratic pre-trend) are the defence.
# ````
