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
# (youxi-analysis)=
# # Youxi: the interrupted time-series analysis, step by step
#
# This page runs the whole analysis of the Youxi county hospitals: describe the series, remove
# seasonality, fit the segmented regression, check the residuals for autocorrelation, draw
# inference with Newey-West standard errors, and compare what happened with the counterfactual.
# The reform, the design and its limits are discussed in {doc}`../book/youxi_itsa`.
#
# By default the page runs on the **synthetic** Youxi series, whose true coefficients are the
# published estimates of Zhong et al. (2023, Table 3). Every results table therefore shows three
# numbers side by side: the planted truth, this estimate, and the paper's value. To run the same
# page on your own series, see {doc}`../book/running_on_your_data`.

# %% tags=["parameters"]
data = None  # path to a CSV or Parquet file; None means the synthetic Youxi series
seed = 20171001  # seed of the synthetic series
output_dir = "reports/youxi-itsa"  # results.json and figures/ go here
time_column = "month"
outcomes = None  # list of columns; None means every numeric column
intervention = "2017-10"  # first month under IMPM
coding = "one_at_intervention"  # the paper's coding of the post-reform time term
impact = "level_and_slope"
seasonal = "auto"  # ratio-to-moving-average for monthly/quarterly data
log = False
model = "ols"  # "ols" (Newey-West) or "quasipoisson"
offset = None
fourier = 2  # sine/cosine pairs in the quasi-Poisson fits
hac_lags = "auto"
bg_order = 1
horizon = None  # periods after the intervention for the effect; None means the last period

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from payreform import chapters, itsa, plots, published, report, trend
from payreform.contracts import validate_time_series
from payreform.synth import youxi

plots.set_theme()
pd.set_option("display.width", 120)
parameters = {k: globals()[k] for k in chapters.get("youxi-itsa").defaults()}
synthetic = data is None
labels = youxi.OUTCOME_LABELS
terms = {"beta0": "β0 level", "beta1": "β1 pre slope", "beta2": "β2 level change",
         "beta3": "β3 slope change", "post_slope": "β1+β3 post slope"}

# %% [markdown]
# ## 1. The data and its contract
#
# The data are checked against the chapter's data contract before anything is computed: one
# row per month (or quarter, or year) without gaps, numeric non-negative outcomes, and an
# intervention date with enough periods on both sides. A file that breaks a rule stops here
# with a one-line message.

# %%
frame, data_info = chapters.load_data(data, "youxi", seed)
ts = validate_time_series(frame, time_column=time_column, outcomes=outcomes,
                          intervention=intervention, offset=offset)
settings = chapters.itsa_analysis_settings(ts, parameters)
summary = pd.DataFrame({
    "first period": [str(ts.frame.index[0])], "last period": [str(ts.frame.index[-1])],
    "periods": [len(ts.frame)], "before reform": [ts.n_pre], "from reform on": [ts.n_post],
    "seasonal adjustment": [settings["seasonal"]], "Newey-West lag": [settings["hac_lags"]],
})
display(summary.style.hide(axis="index"))
display(ts.frame.describe().T.round(1))

# %% [markdown]
# ## 2. Look at the series first
#
# A plot comes before any model. It shows the level and trend before the reform, whether the
# series moves at the reform date, and the seasonal pattern: the Spring Festival dip in
# February, a winter peak. Seasonality matters because a reform that starts in October is
# followed by the winter months; without adjustment, the regression could take the seasonal
# rise for a reform effect.

# %%
fig = plots.series_grid(ts.frame, ts.outcomes, ts.intervention, labels)
plots.save(fig, output_dir, "series")
plt.show()

# %% [markdown]
# ## 3. Seasonal adjustment by the ratio-to-moving-average method
#
# The paper removed seasonality with the ratio-to-moving-average method. A centred 2×12
# moving average estimates the trend; each month's ratio to it estimates that month's seasonal
# effect; the ratios are averaged per calendar month and scaled to average 1; each observation
# is divided by its month's index. The indices below are estimated from the data; for the
# synthetic series the planted factors are shown beside them.

# %%
analyses = [itsa.analyse_series(ts.frame, outcome, **settings) for outcome in ts.outcomes]
if settings["seasonal"] != "none":
    indices = pd.DataFrame({a.outcome: a.seasonal.indices for a in analyses})
    fig = plots.seasonal_index_figure(indices)
    plots.save(fig, output_dir, "seasonal_indices")
    plt.show()
    shown = indices.copy()
    if synthetic:
        planted = youxi.seasonal_factors(ts.frame.index).groupby(ts.frame.index.month).mean()
        planted = planted / planted.mean()
        for outcome in ts.outcomes:
            shown[f"{outcome} (planted)"] = planted[outcome].to_numpy()
    display(shown.round(3))
else:
    display(Markdown("No seasonal adjustment: the data are annual or the parameter `seasonal` is `none`."))

# %% [markdown]
# ## 4. The segmented regression with Newey-West standard errors
#
# For each outcome we fit $Y_t = \beta_0 + \beta_1 T + \beta_2 X_t + \beta_3 XT_t$ to the
# adjusted series by ordinary least squares. The standard errors are Newey-West (Bartlett
# kernel) with the small-sample factor $n/(n-k)$, and the intervals use the $t$ distribution
# with $n-k$ degrees of freedom, as Stata's `newey` does. The interaction is coded as in the
# paper: $XT_t$ counts October 2017 as 1 (`one_at_intervention`).

# %%
estimates = itsa.results_table(analyses)
if synthetic:
    comparison = report.side_by_side(estimates, youxi.truth(coding=settings["coding"]),
                                     youxi.published(coding=settings["coding"]))
    glue("youxi_n_covered", int(comparison["covers_truth"].sum()), display=False)
    glue("youxi_n_intervals", int(comparison["covers_truth"].notna().sum()), display=False)
else:
    comparison = estimates
display(report.compact_comparison(comparison, terms, labels).style.hide(axis="index"))
for row in estimates.itertuples():
    for suffix, value in (("", row.estimate), ("_lo", row.ci_low), ("_hi", row.ci_high), ("_p", row.p_value)):
        glue(f"youxi_{row.outcome}_{row.term}{suffix}", float(value), display=False)

# %% [markdown]
# The next figure puts the same numbers on one scale per outcome: the estimate with its 95%
# interval, the planted truth and the paper's estimate. With 46 months and autocorrelated
# errors, an interval that misses the truth now and then is expected (see the Monte Carlo in
# {doc}`reproducibility`).

# %%
fig = plots.coefficient_grid(comparison, labels={o: labels.get(o, o) for o in ts.outcomes})
plots.save(fig, output_dir, "coefficients")
plt.show()

# %% [markdown]
# ## 5. Is there autocorrelation? Residual plots and the Breusch-Godfrey test
#
# Ordinary least squares standard errors assume independent errors. Monthly health-service
# data rarely oblige: a busy month tends to follow a busy month. The residual plot, the
# autocorrelation function (ACF) and the partial autocorrelation function (PACF) show it; the
# Breusch-Godfrey test puts a p-value on it; the Durbin-Watson statistic (2 = none, below 2 =
# positive autocorrelation) is shown for readers who know it.

# %%
diagnostics = itsa.diagnostics_table(analyses)
display(diagnostics.dropna(axis=1, how="all").style.format(precision=4).hide(axis="index"))
glue("youxi_bg_p_max", float(diagnostics["bg_p_value"].max()), display=False)
ols_analyses = [a for a in analyses if a.model_name != "quasipoisson"]
for a in ols_analyses[:1]:
    fig = plots.residual_figure(a.model)
    plots.save(fig, output_dir, "residual_diagnostics")
    plt.show()

# %% [markdown]
# How much does the choice of lag matter? The table gives the standard error of the slope
# change β3 for Newey-West lags 0 to 6 (lag 0 is White's heteroskedasticity-robust error) and
# for conventional OLS. The default lag rule, $\lfloor 4 (n/100)^{2/9} \rfloor$, gives 3 for 46
# months.

# %%
if settings["impact"] != "level" and ols_analyses:
    display(pd.concat([itsa.lag_sensitivity(a) for a in ols_analyses]).style.format(precision=3).hide(axis="index"))

# %% [markdown]
# ## 6. What would have happened without the reform?
#
# The counterfactual is the pre-reform line carried forward, $\beta_0 + \beta_1 T$. The
# figures show the observed series, the seasonally adjusted series the model was fitted to, the
# fitted segments and the counterfactual. The table gives the effect at the end of the series
# (or at the `horizon` you chose): the fitted value minus the counterfactual, in units and as
# a percentage of the counterfactual, with a delta-method 95% interval.

# %%
fig = plots.itsa_grid(analyses, labels)
plots.save(fig, output_dir, "itsa_counterfactual")
plt.show()

effects = pd.concat([a.model.effect_at(horizon).table().assign(outcome=a.outcome) for a in ols_analyses],
                    ignore_index=True) if ols_analyses else pd.DataFrame()
if not effects.empty:
    display(report.compact_comparison(effects, outcome_labels=labels, digits=3).style.hide(axis="index"))

# %% [markdown]
# ## 7. Does the seasonal adjustment bias the level change?
#
# The ratio-to-moving-average method estimates the trend with a centred 12-month moving
# average. Around October 2017 that average mixes months before and after the reform, so it
# smooths the very break the model is looking for: the months just before the reform look
# "high" relative to the moving average and the months just after look "low", and these
# ratios leak into the seasonal indices. After adjustment, part of the level change is gone.
#
# The synthetic data let us check this exactly. The first table refits series generated
# **without noise**, so any gap from the truth is bias, not chance. The alternative is to
# estimate the season *inside* the regression with calendar-month indicators
# (`seasonal=season_dummies`), which keeps the break intact {cite:p}`bernal2017its`.

# %%
if synthetic and ts.frequency == "M":
    noiseless = validate_time_series(youxi.generate(noise_scale=0.0), outcomes=list(youxi.OUTCOMES),
                                     intervention=youxi.INTERVENTION)
    bias = pd.concat([itsa.seasonal_method_comparison(noiseless.frame, o, intervention=noiseless.intervention,
                                                      coding=settings["coding"], hac_lags=settings["hac_lags"])
                      for o in youxi.OUTCOMES], ignore_index=True)
    bias = bias.merge(youxi.truth(coding=settings["coding"]), on=["outcome", "term"])
    bias["estimate / truth"] = bias["estimate"] / bias["value"]
    display(bias.pivot_table(index=["outcome", "term"], columns="seasonal", values="estimate / truth")
            .round(3))
    shrink = bias.query("seasonal == 'ratio_to_moving_average' and term == 'beta2'")["estimate / truth"]
    glue("youxi_rma_beta2_shrink_min", float(100 * (1 - shrink.max())), display=False)
    glue("youxi_rma_beta2_shrink_max", float(100 * (1 - shrink.min())), display=False)

# %% [markdown]
# On the data analysed here, the two methods give:

# %%
if ts.frequency != "Y":
    methods = pd.concat([itsa.seasonal_method_comparison(ts.frame, o, intervention=ts.intervention,
                                                         coding=settings["coding"], hac_lags=settings["hac_lags"])
                         for o in ts.outcomes], ignore_index=True)
    display(methods.pivot_table(index=["outcome", "term"], columns="seasonal", values="estimate").round(2))

# %% [markdown]
# ## 8. Three codings of the interaction, one fitted line
#
# Papers code the post-reform time term differently, and β2 means something different in each.
# Below, the same series is fitted under all three codings. β1 and β3 are identical; β2
# changes, and converting one coding's β2 into another's (last column, from the paper's coding)
# reproduces the refitted value exactly, standard error included. Only under
# `zero_at_intervention` is β2 the jump at the reform month.

# %%
if settings["impact"] == "level_and_slope" and ols_analyses:
    codings = pd.concat([itsa.coding_comparison(a) for a in ols_analyses], ignore_index=True)
    display(codings.style.format(precision=2).hide(axis="index"))
    for row in codings[codings["outcome"] == ts.outcomes[0]].itertuples():
        glue(f"youxi_beta2_{row.coding}", float(row.beta2), display=False)

# %% [markdown]
# ## 9. Beyond the paper: a quasi-Poisson model for the counts
#
# Visits and admissions are counts. Bernal et al. (2017) recommend modelling them with a
# Poisson-type regression: the reform's effects become rate ratios (a level change of 0.95
# means 5% fewer visits from the reform month on), seasonality is modelled with Fourier terms
# instead of being removed beforehand, and over-dispersion is absorbed by the quasi-Poisson
# scale. The table compares the conclusions with the linear model above: does the direction of
# the level and slope changes agree, and are they significant in both?

# %%
count_outcomes = [o for o in ts.outcomes if (ts.frame[o] % 1 == 0).all()]
resolved = chapters.resolve_itsa_settings(ts.frequency, len(ts.frame), parameters)
poisson = [itsa.analyse_series(ts.frame, o, intervention=ts.intervention, model="quasipoisson",
                               coding=settings["coding"], impact=settings["impact"],
                               fourier=resolved["fourier"], offset=offset)
           for o in count_outcomes]
if poisson:
    rate_ratios = itsa.results_table(poisson)
    display(report.format_numbers(rate_ratios[rate_ratios["term"].isin(["beta2", "beta3", "post_slope"])][
        ["outcome", "term", "rate_ratio", "rr_ci_low", "rr_ci_high", "p_value"]], 4).style.hide(axis="index"))
    by_outcome = {a.outcome: a for a in analyses}
    agreement = pd.concat([itsa.compare_conclusions(by_outcome[p.outcome], p) for p in poisson], ignore_index=True)
    display(agreement.style.format(precision=4).hide(axis="index"))
    glue("youxi_qp_dispersion", float(max(p.model.dispersion for p in poisson)), display=False)
    glue("youxi_qp_n_disagree", int((~agreement["same_conclusion"]).sum()), display=False)
else:
    display(Markdown("No count outcomes (whole numbers in every period): the quasi-Poisson comparison is skipped."))

# %% [markdown]
# ## 10. The annual indicators and the chi-square test for trend
#
# Some indicators exist only per year: the share of outpatient visits in primary care and the
# management and control rates of hypertension and diabetes (Tables 4 and 5 of the paper).
# These are real published figures. The paper tested them with a chi-square test for trend but
# did not print the denominators. For a trend test the statistic grows in proportion to the
# number of persons, so each published χ² tells us what equal yearly denominator it implies:

# %%
implied_table = trend.implied_denominator_table(youxi.annual_trend_tests())
display(implied_table.style.format(precision=0).hide(axis="index"))
for row in implied_table.itertuples():
    glue(f"youxi_implied_n_{row.indicator}", int(round(float(row.implied_n_per_group))), display=False)
table4 = published.load("youxi_table4_services")
table5 = published.load("youxi_table5_health_management")
visits_2016 = table4.loc[table4["year"] == 2016, "healthcare_outpatient_visits_10k"].item() * 10_000
glue("youxi_visits_2016", int(visits_2016), display=False)
share = table4["primary_care_share_pct"].to_numpy() / 100
actual_chi2 = trend.cochran_armitage(share * table4["healthcare_outpatient_visits_10k"].to_numpy() * 10_000,
                                     table4["healthcare_outpatient_visits_10k"].to_numpy() * 10_000).statistic
glue("youxi_chi2_with_visits", float(actual_chi2), display=False)

# %% [markdown]
# The primary-care share test is telling. Youxi recorded more than a million outpatient visits
# a year, yet the published χ² of 13.1 corresponds to about two hundred visits per year. Had the
# test used the visit counts themselves, the statistic would have been in the tens of
# thousands. Either the test was run on another scale, or on a sample; the paper does not say.
# For the management rates, the implied denominators are tens of thousands of patients, which
# is plausible for a county of 360,000 residents. The figure shows the rates.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.3))
axes[0].plot(table4["year"], table4["primary_care_share_pct"], "o-", label="primary care")
axes[0].plot(table4["year"], table4["hospital_share_pct"], "s-", label="hospitals")
axes[0].set_title("Share of healthcare outpatient visits (%)")
axes[0].legend(fontsize=8)
for row in table5.itertuples():
    axes[1].plot([2017, 2018, 2019], [row[3], row[4], row[5]], "o-", label=f"{row.condition}: {row.indicator.replace('_', ' ')}")
axes[1].set_title("Health management (%)")
axes[1].legend(fontsize=7)
for ax in axes:
    ax.set_xticks(sorted(set(table4["year"])))
fig.tight_layout()
plots.save(fig, output_dir, "annual_indicators")
plt.show()

# %% [markdown]
# ## 11. Results file
#
# Everything above is written to `results.json` (schema in {doc}`../book/running_on_your_data`),
# with the figures as PNG files beside it.

# %%
diagnostics_block = {
    "frequency": ts.frequency, "n_periods": len(ts.frame), "n_pre": ts.n_pre, "n_post": ts.n_post,
    "intervention": str(ts.intervention), "settings": settings,
    "outcomes": {a.outcome: itsa.diagnostics_record(a) for a in analyses},
    "quasipoisson": {p.outcome: itsa.diagnostics_record(p) for p in poisson},
    "effects": effects.to_dict(orient="records"),
    "implied_denominators": implied_table.to_dict(orient="records"),
}
all_estimates = pd.concat([estimates] + ([itsa.results_table(poisson)] if poisson else []), ignore_index=True)
path = report.write_results(output_dir, chapter="youxi-itsa", parameters=parameters, data=data_info,
                            estimates=all_estimates, diagnostics=diagnostics_block)
print(f"wrote {path} ({len(all_estimates)} estimates)")

# %% [markdown] tags=["book-only"]
# ## Exercises
#
# ````{exercise} Which coding did they use?
# :label: youxi-ex-coding
#
# A colleague reports, for the hospitalisation series, β2 = −286.0 and β3 = −18.1 with the
# intervention at T0 = 21. Using `ITSAResult.beta2_in` or the formula on this page, what is
# the jump in hospitalisations at October 2017 itself? What would β2 be under the Sanming
# paper's coding `time_times_post`?
# ````
#
# ````{solution} youxi-ex-coding
# :class: dropdown
#
# With XT counting October 2017 as 1, the jump at T0 is β2 + β3 = −286.0 − 18.1 = −304.1
# admissions. Under `time_times_post`, β2 = β2(zero) − β3·T0 = −304.1 + 18.1 × 21 = 76.0: a
# positive "level change" for the same fitted line, which is why a β2 must never be quoted
# without its coding. In code: `result.beta2_in("zero_at_intervention")` and
# `result.beta2_in("time_times_post")` on the fitted hospitalisation model.
# ````
#
# ````{exercise} A moving Spring Festival
# :label: youxi-ex-festival
#
# The synthetic series put the Spring Festival dip in February every year. In reality the
# festival fell in January in 2017. Generate the series with
# `youxi.generate(spring_festival="moving")`, run the analysis, and compare the Breusch-Godfrey
# p-values and the β3 estimates with the ones above. Why does a fixed calendar-month index
# cope badly with a moving holiday?
# ````
#
# ````{solution} youxi-ex-festival
# :class: dropdown
#
# ```python
# moving = youxi.generate(seed=seed, spring_festival="moving")
# ts_m = validate_time_series(moving, outcomes=list(youxi.OUTCOMES), intervention="2017-10")
# for o in youxi.OUTCOMES:
#     a = itsa.analyse_series(ts_m.frame, o, **chapters.itsa_analysis_settings(ts_m, parameters))
#     print(o, a.model.breusch_godfrey.p_value, a.model.term("beta3").estimate)
# ```
# The ratio-to-moving-average index averages each calendar month over the years, so a dip
# that sits in January one year and in February the next is spread over both months. The
# adjusted series keeps a spike in January 2017 and a bump in February 2017: large residuals of
# opposite sign in adjacent months. They mask the positive autocorrelation (the test loses
# power) and widen the intervals. Holiday regressors (as in X-13ARIMA-SEATS) handle this better.
# ````
#
# ````{exercise} Rates instead of counts
# :label: youxi-ex-offset
#
# Youxi's population grew from 358,000 to 363,000 (Table 2). Add the monthly population from
# `youxi.monthly_population()` to the series and refit the quasi-Poisson model of
# hospitalisations with `offset="population"`. How much do the rate ratios change, and why so
# little?
# ````
#
# ````{solution} youxi-ex-offset
# :class: dropdown
#
# ```python
# with_pop = youxi.generate(seed=seed).merge(youxi.monthly_population(), on="month")
# ts_p = validate_time_series(with_pop, outcomes=["hospitalizations"], intervention="2017-10",
#                             offset="population")
# a = itsa.analyse_series(ts_p.frame, "hospitalizations", intervention=ts_p.intervention,
#                         model="quasipoisson", coding="one_at_intervention", fourier=2,
#                         offset="population")
# a.table()
# ```
# The population grew by about 1.4% over four years, about 0.03% a month, so the offset
# changes the pre-reform slope's rate ratio by roughly that much and leaves the level and
# slope changes nearly untouched. Offsets matter when the population changes fast or
# unevenly, for example after a county merger.
# ````
#
# ````{exercise} How many months do you need?
# :label: youxi-ex-length
#
# Shorten the series to 12 months before and 12 after the reform (September 2016 to
# September 2018) and refit. Compare the width of the β3 interval with the full series. Then
# read the Monte Carlo in {doc}`reproducibility`: what does it say about trusting a 95% interval
# from a short, autocorrelated series?
# ````
#
# ````{solution} youxi-ex-length
# :class: dropdown
#
# ```python
# short = ts.frame.loc["2016-10":"2018-09"]
# a = itsa.analyse_series(short, "outpatient_emergency_visits", intervention="2017-10",
#                         seasonal="none", coding="one_at_intervention", hac_lags="auto")
# a.table()
# ```
# (Two years are the minimum for the seasonal indices, so the short fit here skips the
# adjustment or reuses the full-series indices.) The interval for β3 widens a lot: with 12
# points per segment each slope is estimated from little information, and Newey-West standard
# errors are themselves imprecise in short series, so the nominal 95% coverage is not reached.
# ````
