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
n_out = len(ts.outcomes)
fig, axes = plt.subplots((n_out + 1) // 2, 2 if n_out > 1 else 1, figsize=(11, 3.2 * ((n_out + 1) // 2)),
                         squeeze=False)
for ax, outcome in zip(axes.flat, ts.outcomes, strict=False):
    ax.plot(ts.frame.index.to_timestamp(), ts.frame[outcome], "o-", ms=3, lw=0.8)
    ax.axvline(ts.intervention.to_timestamp(), color=plots.COLORS["intervention"], ls=":")
    ax.set_title(youxi.OUTCOME_LABELS.get(outcome, outcome))
for ax in list(axes.flat)[n_out:]:
    ax.set_visible(False)
fig.tight_layout()
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
labels = {"beta0": "β0 baseline level", "beta1": "β1 pre-reform slope", "beta2": "β2 level change",
          "beta3": "β3 slope change", "post_slope": "β1+β3 post-reform slope"}
if synthetic:
    comparison = report.side_by_side(estimates, youxi.truth(coding=settings["coding"]),
                                     youxi.published(coding=settings["coding"]))
    covered = comparison.dropna(subset=["truth"])
    glue("youxi_n_covered", int(covered["covers_truth"].sum()), display=False)
    glue("youxi_n_intervals", len(covered), display=False)
else:
    comparison = estimates[["outcome", "term", "estimate", "std_error", "ci_low", "ci_high", "p_value"]]
display(report.format_numbers(comparison.assign(term=comparison["term"].map(labels)), digits=2)
        .style.hide(axis="index"))
for row in estimates.itertuples():
    for suffix, value in (("", row.estimate), ("_lo", row.ci_low), ("_hi", row.ci_high), ("_p", row.p_value)):
        glue(f"youxi_{row.outcome}_{row.term}{suffix}", float(value), display=False)

# %% [markdown]
# The next figure puts the same numbers on one scale per outcome: the estimate with its 95%
# interval, the planted truth and the paper's estimate. With 46 months and autocorrelated
# errors, an interval that misses the truth now and then is expected (see the Monte Carlo in
# {doc}`reproducibility`).

# %%
if synthetic:
    fig, axes = plt.subplots(1, n_out, figsize=(3.2 * n_out, 3.0), squeeze=False)
    for ax, outcome in zip(axes.flat, ts.outcomes, strict=True):
        rows = comparison[(comparison["outcome"] == outcome) & comparison["term"].isin(["beta1", "beta2", "beta3"])]
        plots.coefficient_figure(rows.assign(label=rows["term"]), ax=ax)
        ax.set_title(youxi.OUTCOME_LABELS.get(outcome, outcome), fontsize=9)
        if ax is not axes.flat[0]:
            ax.get_legend().remove()
    fig.tight_layout()
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
diagnostics = pd.DataFrame([{
    "outcome": a.outcome,
    "Breusch-Godfrey LM": a.model.breusch_godfrey.statistic if hasattr(a.model, "breusch_godfrey") else float("nan"),
    "BG order": bg_order,
    "BG p-value": a.model.breusch_godfrey.p_value if hasattr(a.model, "breusch_godfrey") else float("nan"),
    "Durbin-Watson": a.model.durbin_watson if hasattr(a.model, "durbin_watson") else float("nan"),
    "R²": getattr(a.model, "r_squared", float("nan")),
} for a in analyses])
display(diagnostics.round(4).style.hide(axis="index"))
glue("youxi_bg_p_max", float(diagnostics["BG p-value"].max()), display=False)
first_ols = next((a for a in analyses if isinstance(a.model, itsa.ITSAResult)), None)
if first_ols is not None:
    fig = plots.residual_figure(first_ols.model)
    plots.save(fig, output_dir, "residual_diagnostics")
    plt.show()

# %% [markdown]
# How much does the choice of lag matter? The table gives the standard error of the slope
# change β3 for Newey-West lags 0 to 6 (lag 0 is White's heteroskedasticity-robust error) and
# for conventional OLS. The default lag rule, $\lfloor 4 (n/100)^{2/9} \rfloor$, gives 3 for 46
# months.

# %%
lag_grid = [None, 0, 1, 2, 3, 4, 5, 6]
lag_rows = []
for a in analyses:
    if not isinstance(a.model, itsa.ITSAResult) or "beta3" not in a.model.params.index:
        continue
    row = {"outcome": a.outcome}
    for lag in lag_grid:
        refit = itsa.segmented_regression(a.analysed, intervention=ts.intervention, coding=settings["coding"],
                                          impact=settings["impact"], hac_lags=lag, bg_order=bg_order)
        row["OLS" if lag is None else f"NW lag {lag}"] = refit.term("beta3").std_error
    lag_rows.append(row)
if lag_rows:
    display(pd.DataFrame(lag_rows).round(3).style.hide(axis="index"))

# %% [markdown]
# ## 6. What would have happened without the reform?
#
# The counterfactual is the pre-reform line carried forward, $\beta_0 + \beta_1 T$. The
# figures show the observed series, the seasonally adjusted series the model was fitted to, the
# fitted segments and the counterfactual. The table gives the effect at the end of the series
# (or at the `horizon` you chose): the fitted value minus the counterfactual, in units and as
# a percentage of the counterfactual, with a delta-method 95% interval.

# %%
fig, axes = plt.subplots((n_out + 1) // 2, 2 if n_out > 1 else 1, figsize=(12, 3.6 * ((n_out + 1) // 2)),
                         squeeze=False)
for ax, a in zip(axes.flat, analyses, strict=False):
    plots.itsa_figure(a, ax=ax, title=youxi.OUTCOME_LABELS.get(a.outcome, a.outcome), ylabel="")
for ax in list(axes.flat)[n_out:]:
    ax.set_visible(False)
fig.tight_layout()
plots.save(fig, output_dir, "itsa_counterfactual")
plt.show()

effects = pd.concat([a.model.effect_at(horizon).table().assign(outcome=a.outcome)
                     for a in analyses if isinstance(a.model, itsa.ITSAResult)], ignore_index=True)
if not effects.empty:
    display(report.format_numbers(effects[["outcome", "term", "period", "estimate", "ci_low", "ci_high", "p_value"]], 3)
            .style.hide(axis="index"))

# %% [markdown]
# ## 7. Three codings of the interaction, one fitted line
#
# Papers code the post-reform time term differently, and β2 means something different in each.
# Below, the same series is fitted under all three codings. β1 and β3 are identical; β2
# changes, and converting one coding's β2 into another's (last column, from the paper's coding)
# reproduces the refitted value exactly, standard error included. Only under
# `zero_at_intervention` is β2 the jump at the reform month.

# %%
coding_rows = []
for a in analyses:
    if not isinstance(a.model, itsa.ITSAResult) or a.model.impact != "level_and_slope":
        continue
    for other in itsa.CODINGS:
        refit = itsa.segmented_regression(a.analysed, intervention=ts.intervention, coding=other,
                                          impact=settings["impact"], hac_lags=settings["hac_lags"],
                                          bg_order=bg_order)
        converted = a.model.beta2_in(other)
        coding_rows.append({"outcome": a.outcome, "coding": other,
                            "β1": refit.params["beta1"], "β2 refitted": refit.params["beta2"],
                            "SE(β2) refitted": refit.term("beta2").std_error, "β3": refit.params["beta3"],
                            f"β2 converted from {settings['coding']}": converted.estimate,
                            "SE converted": converted.std_error})
codings = pd.DataFrame(coding_rows)
if not codings.empty:
    display(codings.round(3).style.hide(axis="index"))
    visits = codings[codings["outcome"] == ts.outcomes[0]].set_index("coding")
    for name in itsa.CODINGS:
        glue(f"youxi_beta2_{name}", float(visits.loc[name, "β2 refitted"]), display=False)

# %% [markdown]
# ## 8. Beyond the paper: a quasi-Poisson model for the counts
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
    rr = itsa.results_table(poisson)
    display(report.format_numbers(rr[rr["term"].isin(["beta2", "beta3", "post_slope"])][
        ["outcome", "term", "rate_ratio", "rr_ci_low", "rr_ci_high", "p_value"]], 4).style.hide(axis="index"))
    agreement = []
    for p_analysis in poisson:
        linear = next(a for a in analyses if a.outcome == p_analysis.outcome).table().set_index("term")
        quasi = p_analysis.table().set_index("term")
        for term in [t for t in ("beta2", "beta3") if t in quasi.index and t in linear.index]:
            agreement.append({"outcome": p_analysis.outcome, "term": term,
                              "linear: sign": "+" if linear.loc[term, "estimate"] > 0 else "−",
                              "linear: p": linear.loc[term, "p_value"],
                              "quasi-Poisson: sign": "+" if quasi.loc[term, "estimate"] > 0 else "−",
                              "quasi-Poisson: p": quasi.loc[term, "p_value"],
                              "same conclusion at 5%": (linear.loc[term, "p_value"] < 0.05) == (quasi.loc[term, "p_value"] < 0.05)
                              and (linear.loc[term, "estimate"] > 0) == (quasi.loc[term, "estimate"] > 0)})
    agreement = pd.DataFrame(agreement)
    display(agreement.round(4).style.hide(axis="index"))
    glue("youxi_qp_dispersion", float(max(p.model.dispersion for p in poisson)), display=False)
    glue("youxi_qp_n_disagree", int((~agreement["same conclusion at 5%"]).sum()), display=False)
else:
    display(Markdown("No count outcomes (whole numbers in every period): the quasi-Poisson comparison is skipped."))

# %% [markdown]
# ## 9. The annual indicators and the chi-square test for trend
#
# Some indicators exist only per year: the share of outpatient visits in primary care and the
# management and control rates of hypertension and diabetes (Tables 4 and 5 of the paper).
# These are real published figures. The paper tested them with a chi-square test for trend but
# did not print the denominators. For a trend test the statistic grows in proportion to the
# number of persons, so each published χ² tells us what equal yearly denominator it implies:

# %%
tests = published.load("youxi_trend_tests")
table4 = published.load("youxi_table4_services")
table5 = published.load("youxi_table5_health_management")
implied_rows = []
for test in tests.itertuples():
    if test.table == 4:
        values = table4[test.column_or_row].to_numpy()
    else:
        condition, indicator = test.column_or_row.split("/")
        row = table5[(table5["condition"] == condition) & (table5["indicator"] == indicator)].iloc[0]
        values = row[["2017", "2018", "2019"]].to_numpy(dtype=float)
    implied = trend.implied_denominator(values, test.chi2_trend)
    implied_rows.append({"indicator": test.indicator, "years": test.years,
                         "percentages": ", ".join(f"{v:.1f}" for v in values), **implied.row()})
implied_table = pd.DataFrame(implied_rows)
display(implied_table.round(0).style.hide(axis="index"))
for row in implied_table.itertuples():
    glue(f"youxi_implied_n_{row.indicator}", int(round(float(row.implied_n_per_group))), display=False)
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
# ## 10. Results file
#
# Everything above is written to `results.json` (schema in {doc}`../book/running_on_your_data`),
# with the figures as PNG files beside it.

# %%
diagnostics_block = {
    "frequency": ts.frequency, "n_periods": len(ts.frame), "n_pre": ts.n_pre, "n_post": ts.n_post,
    "intervention": str(ts.intervention), "settings": settings,
    "outcomes": {a.outcome: {
        "seasonal_indices": a.seasonal.indices.to_dict() if a.seasonal is not None else None,
        "breusch_godfrey": vars(a.model.breusch_godfrey) if hasattr(a.model, "breusch_godfrey") else None,
        "durbin_watson": getattr(a.model, "durbin_watson", None),
        "hac_lags": getattr(a.model, "hac_lags", None),
        "dispersion": getattr(a.model, "dispersion", None),
        "level_change_at_intervention": a.model.level_change_at_intervention().row()
        if isinstance(a.model, itsa.ITSAResult) and "beta2" in a.model.params.index else None,
    } for a in analyses},
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
