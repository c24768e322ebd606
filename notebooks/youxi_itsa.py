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
data = None  # path to a CSV, Excel or Parquet file; None means the synthetic Youxi series
sheet = None  # Excel only: the sheet to read; None means the first
language = "en"  # "en" or "zh": language of report.docx, tables.xlsx and figure labels
seed = 20171001  # seed of the synthetic series
output_dir = "reports/youxi-itsa"  # results.json, tables/ and figures/ go here
time_column = "month"
outcomes = None  # list of columns; None means every numeric column
intervention = None  # first period under the reform; None means the study's (synthetic data only)
coding = None  # None: the paper's coding on the book's data, zero_at_intervention on yours
impact = "level_and_slope"
seasonal = "auto"  # ratio-to-moving-average for monthly/quarterly data of two years or more
log = False
model = "ols"  # "ols" (Newey-West) or "quasipoisson"
offset = None
fourier = 2  # sine/cosine pairs in the quasi-Poisson fits
inference = None  # None: the papers' newey_west on the book's data, calibrated on yours
hac_lags = "auto"
bg_order = 1
horizon = None  # periods after the intervention for the effect; None means the last period
exclude = None  # windows left out of the fit, e.g. ["2020-02..2020-04"]
lag = 0  # periods between each intervention date and its effective start
phase_in = 0  # periods from each start left out of the fit as a transition
placebos = None  # placebo dates in the pre-period; None means up to three chosen from the data
prepared_input = None  # set by `payreform run`: the input it has already read and checked

# %%
# %matplotlib inline
import os

import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from payreform import plots, report
from payreform.chapters import youxi_itsa as chapter
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
# ## 1. The data and its contract
#
# The data are checked against the chapter's data contract before anything is computed: one
# row per month (or quarter, or year) without gaps, numeric non-negative outcomes, and an
# intervention date with enough periods on both sides. A file that breaks a rule stops here
# with a one-line message.

# %%
display(result.data_summary().style.hide(axis="index"))
display(result.series.frame.describe().T.round(1))

# %% [markdown]
# ## 2. Look at the series first
#
# A plot comes before any model. It shows the level and trend before the intervention, whether
# the series moves at the intervention date, and any seasonal pattern. Seasonality matters
# because the months that follow an intervention may be seasonally high or low; without
# adjustment, the regression could take the seasonal swing for an effect.

# %% [markdown] tags=["book-voice"]
# In the Youxi series the Spring Festival dip in February and the winter peak stand out, and the
# reform starts in October, just before the winter months.

# %%
show("series")

# %% [markdown]
# ## 3. Seasonal adjustment by the ratio-to-moving-average method
#
# A centred moving average over one year (2×12 for months, 2×4 for quarters) estimates the
# trend; each period's ratio to it estimates that period's seasonal effect; the ratios are
# averaged per calendar month (or quarter) and scaled to average 1; each observation is divided
# by its season's index. The indices below are estimated from the data.

# %% [markdown] tags=["book-voice"]
# The paper removed seasonality this way. For the synthetic series, the planted factors are
# shown beside the estimated indices.

# %%
indices = result.seasonal_indices()
if not indices.empty:
    show("seasonal_indices")
    display(indices.round(3))
else:
    display(Markdown(f"No seasonal adjustment (setting `seasonal` = `{result.settings['seasonal']}`)."))

# %% [markdown]
# ## 4. The segmented regression with Newey-West standard errors
#
# For each outcome the model $Y_t = \beta_0 + \beta_1 T + \beta_2 X_t + \beta_3 XT_t$ is fitted
# by ordinary least squares, where $T$ counts the periods from the first one ($T = 1$), $X_t$ is 1
# from the intervention on and $XT_t$ counts the periods since the intervention. The standard
# errors are Newey-West (Bartlett kernel) with the small-sample factor $n/(n-k)$, and the
# intervals use the $t$ distribution with $n-k$ degrees of freedom, as Stata's `newey` does.

# %%
display(Markdown(chapter.model_text(result)))

# %% [markdown] tags=["book-voice"]
# The table shows the planted truth, this estimate with its 95% interval, and the paper's value
# (Table 3); the interaction is coded as in the paper (`one_at_intervention`).

# %%
if result.book is not None:
    table = report.compact_comparison(result.book.comparison, chapter.TERM_LABELS, result.labels)
else:
    table = report.compact_comparison(result.estimates().query("term in @chapter.TERM_LABELS"),
                                      chapter.TERM_LABELS, result.labels)
display(table.style.hide(axis="index"))

# %% [markdown] tags=["book-voice"]
# The next figure puts the same numbers on one scale per outcome: the estimate with its 95%
# interval, the planted truth and the paper's estimate. With 46 months and autocorrelated
# errors, an interval that misses the truth now and then is expected (see the Monte Carlo in
# {doc}`reproducibility`).

# %%
show("coefficients")

# %% [markdown]
# ## 5. Is there autocorrelation? Residual plots and the Breusch-Godfrey test
#
# Ordinary least squares standard errors assume independent errors. Monthly health-service
# data rarely oblige: a busy month tends to follow a busy month. The residual plot, the
# autocorrelation function (ACF) and the partial autocorrelation function (PACF) show it; the
# Breusch-Godfrey test puts a p-value on it; the Durbin-Watson statistic (2 = none, below 2 =
# positive autocorrelation) is shown for readers who know it.

# %%
display(result.diagnostics_table().dropna(axis=1, how="all").style.format(precision=4).hide(axis="index"))
display(Markdown(chapter.autocorrelation_text(result)))
for name in result.figure_names():
    if name.startswith("residuals_"):
        show(name)

# %% [markdown]
# How much does the choice of lag matter? The table gives the standard error of the slope
# change β3 for each Newey-West lag (lag 0 is White's heteroskedasticity-robust error) and for
# conventional OLS.

# %%
if not result.lag_table.empty:
    display(result.lag_table.style.format(precision=3).hide(axis="index"))
display(Markdown(chapter.lag_rule_text(result)))

# %% [markdown]
# ### Intervals that keep their promise
#
# Newey-West errors correct ordinary least squares after the fact, and in a short autocorrelated
# series they are too small. The methods below model the autocorrelation instead: Prais-Winsten
# (Stata's `prais`), GLS by restricted maximum likelihood (REML, as R's `nlme::gls`), REML with
# Satterthwaite degrees of freedom, maximum likelihood with AR(1) errors (as R's `arima`), and the
# **calibrated** method: a bootstrap-t built on the REML fit, with the autocorrelation corrected for
# its downward bias before the draws are made. The appendix measures how often each method's 95%
# interval covers the truth over series of 12 to 100 periods. The calibrated method is the default
# on a user's data; `inference=newey_west` gives the Newey-West intervals that most published
# studies report.

# %%
if not result.inference.empty:
    shown = result.inference.assign(
        interval=[f"{lo:,.2f} to {hi:,.2f}" for lo, hi in zip(result.inference["ci_low"], result.inference["ci_high"],
                                                              strict=True)])
    display(shown.pivot_table(index=["outcome", "term"], columns="inference", values="interval", aggfunc="first",
                              sort=False))
display(Markdown(chapter.inference_text(result)))

# %% [markdown] tags=["book-voice"]
# The paper's conclusions rest on Newey-West intervals from 46 months. Where the calibrated
# interval reaches zero, the synthetic data (built on the paper's estimates) cannot confirm the
# paper's verdict at the 5% level with an interval that keeps its coverage.

# %% [markdown]
# ## 6. What would have happened without the intervention?
#
# The counterfactual is the pre-intervention line carried forward, $\beta_0 + \beta_1 T$ (with
# the season, where it is modelled). The figures show the observed series, the adjusted series
# the model was fitted to, the fitted segments and the counterfactual. The table gives the
# effect at the `horizon`: the fitted value minus the counterfactual, in the outcome's units
# and as a share of the counterfactual, with 95% intervals. For a model of ln(y + 1) or a
# quasi-Poisson model the relative effect is $e^{d} - 1$, where $d$ is the difference on the
# log scale, and its interval is the transformed interval of $d$.

# %%
show("itsa_counterfactual")
display(result.effects_shown().style.hide(axis="index"))

# %% [markdown]
# ### Placebo interventions
#
# A placebo test pretends the intervention happened earlier and fits the model to the
# pre-intervention periods only. There was no intervention there, so each placebo level or slope
# change should be significant only by chance, about 5% of the time.

# %%
if not result.placebos.empty:
    display(result.placebos.style.format(precision=3).hide(axis="index"))
display(Markdown(chapter.placebo_text(result)))

# %% [markdown]
# ## 7. Does the seasonal adjustment bias the level change?
#
# The ratio-to-moving-average method estimates the trend with a centred moving average. Around
# the intervention that average mixes periods before and after it, so it smooths the very break
# the model is looking for: the periods just before look "high" relative to the moving average
# and those just after look "low", and these ratios leak into the seasonal indices. After
# adjustment, part of the level change is gone. The alternative is to estimate the season
# *inside* the regression with calendar indicators (`seasonal=season_dummies`), which keeps the
# break intact {cite:p}`bernal2017its`.

# %% [markdown] tags=["book-voice"]
# The synthetic data let us check this exactly. The table refits series generated **without
# noise**, so any gap from the truth is bias, not chance.

# %%
if result.book is not None and not result.book.seasonal_bias.empty:
    display(result.book.seasonal_bias.pivot_table(index=["outcome", "term"], columns="seasonal",
                                                  values="estimate / truth").round(3))

# %% [markdown]
# On the data analysed here, the two methods give:

# %%
if not result.seasonal_methods.empty:
    display(result.seasonal_methods.pivot_table(index=["outcome", "term"], columns="seasonal",
                                                values="estimate").round(2))
else:
    display(Markdown("Not applicable: the data are annual, shorter than two years, or have zeros."))

# %% [markdown]
# ## 8. Three codings of the interaction, one fitted line
#
# Papers code the post-intervention time term differently, and β2 means something different in
# each. Below, the same series is fitted under all three codings. β1 and β3 are identical; β2
# changes, and converting one coding's β2 into another's (last columns, from the coding used
# in this run) reproduces the refitted value exactly, standard error included. Only under
# `zero_at_intervention` is β2 the jump at the intervention period.

# %%
if not result.codings.empty:
    display(result.codings.style.format(precision=2).hide(axis="index"))

# %% [markdown]
# ## 9. Beyond the linear model: quasi-Poisson for counts
#
# Counts such as visits and admissions call for a count model. {cite:t}`bernal2017its` recommend modelling them with a
# Poisson-type regression: the effects become rate ratios, seasonality is modelled with Fourier
# terms instead of being removed beforehand, and over-dispersion is absorbed by the
# quasi-Poisson scale. Under the `zero_at_intervention` coding a rate ratio of 0.95 for β2 means
# 5% fewer events at the intervention period than the pre-intervention line predicts; under
# the other codings the jump is $e^{\beta_2}$ times $e^{\beta_3}$ raised to the coding's shift.
# The table compares the conclusions with the linear model above: do the directions of the
# level and slope changes agree, and are they significant in both?

# %%
if result.count_models:
    rates = result.estimates().query("model == 'quasipoisson' and term in ['beta2', 'beta3', 'post_slope']")
    display(report.format_numbers(rates[["outcome", "term", "rate_ratio", "rr_ci_low", "rr_ci_high",
                                         "p_value"]], 4).style.hide(axis="index"))
    display(result.agreement.style.format(precision=4).hide(axis="index"))
display(Markdown(chapter.count_model_text(result)))

# %% [markdown] tags=["book-voice"]
# ## 10. The annual indicators and the chi-square test for trend
#
# Some indicators exist only per year: the share of outpatient visits in primary care and the
# management and control rates of hypertension and diabetes (Tables 4 and 5 of the paper).
# These are real published figures. The paper tested them with a chi-square test for trend but
# did not print the denominators. For a trend test the statistic grows in proportion to the
# number of persons, so each published χ² tells us what equal yearly denominator it implies.
# The page {doc}`../book/youxi_itsa` discusses what these denominators say.

# %% tags=["book-only"]
if result.book is not None:
    display(result.book.implied_denominators.style.format(precision=0).hide(axis="index"))
    show("annual_indicators")

# %% [markdown] tags=["book-voice"]
# ## 11. A second interruption: the pandemic after the reform
#
# A county that adapts this chapter today has data well beyond 2019, and the COVID-19 shock of
# early 2020 sits inside them. The synthetic generator can extend the Youxi series to December
# 2023 with a shock planted in February 2020 (`youxi.generate(pandemic=True)`; the drop and
# recovery are our assumptions, listed in `payreform.synth.youxi.PANDEMIC_SHOCK`). Fitting one
# interruption through 2023 attributes the pandemic to the reform; giving the shock its own level
# and slope change (`intervention=2017-10,2020-02`) separates them. The first columns use series
# generated **without noise**, so their gap from the truth is bias; the last ones use a noisy
# draw and say whether its 95% interval covers the truth.

# %% tags=["book-only"]
if result.book is not None:
    display(result.book.pandemic.style.format(precision=1).hide(axis="index"))
    show("pandemic")

# %% [markdown] tags=["book-voice"]
# Ignoring the shock inflates the reform's level change of visits to
# {glue:text}`youxi_pandemic_outpatient_emergency_visits_beta2_ignored_ratio:.1f` times the planted
# value ({glue:text}`youxi_pandemic_outpatient_emergency_visits_beta2_ignored:,.0f` against
# {glue:text}`youxi_pandemic_outpatient_emergency_visits_beta2_truth:,.0f`); with the shock modelled
# the estimate is {glue:text}`youxi_pandemic_outpatient_emergency_visits_beta2_modelled:,.0f`. The
# same option works on your data, together with `exclude` for months that fit neither segment
# (see {doc}`../book/running_on_your_data`).

# %% [markdown]
# ## 12. Results file
#
# Everything above is written to `results.json` (schema in the handbook's page on running a
# chapter on your own data), with the tables as CSV files and the figures as PNG files beside it.

# %%
path = result.write(output_dir, figures=False)
print(f"wrote {path.name}: {len(result.estimates())} estimates, {len(result.figure_names())} figures")

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
# ````{solution-start} youxi-ex-coding
# :class: dropdown
# ````
#
# With XT counting October 2017 as 1, the jump at T0 is β2 + β3 = −286.0 − 18.1 = −304.1
# admissions. Under `time_times_post`, β2 = β2(zero) − β3·T0 = −304.1 + 18.1 × 21 = 76.0: a
# positive "level change" for the same fitted line, which is why a β2 must never be quoted
# without its coding. On the fitted model:

# %% tags=["book-only"]
book = result if result.book_data else chapter.run(chapter.prepare())  # the book's synthetic series
hospital = next(a for a in book.analyses if a.outcome == "hospitalizations")
for target in ("zero_at_intervention", "time_times_post"):
    print(target, round(hospital.model.beta2_in(target).estimate, 1))

# %% [markdown] tags=["book-only"]
# ````{solution-end}
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
# ````{solution-start} youxi-ex-festival
# :class: dropdown
# ````

# %% tags=["book-only"]
from payreform.synth import youxi  # noqa: E402

moving = chapter.run(chapter.prepare(youxi.generate(seed=seed, spring_festival="moving"),
                                     {"intervention": youxi.INTERVENTION, "coding": youxi.CODING}))
compare = pd.DataFrame({
    "BG p (February)": [a.model.breusch_godfrey.p_value for a in book.analyses],
    "BG p (moving)": [a.model.breusch_godfrey.p_value for a in moving.analyses],
    "β3 (February)": [a.model.term("beta3").estimate for a in book.analyses],
    "β3 (moving)": [a.model.term("beta3").estimate for a in moving.analyses],
}, index=[a.outcome for a in book.analyses])
compare.round(3)

# %% [markdown] tags=["book-only"]
# The ratio-to-moving-average index averages each calendar month over the years, so a dip
# that sits in January one year and in February the next is spread over both months. The
# adjusted series keeps a spike in January 2017 and a bump in February 2017: large residuals of
# opposite sign in adjacent months, which blur the autocorrelation test and move the slopes.
# Holiday regressors (as in X-13ARIMA-SEATS) handle this better.
#
# ````{solution-end}
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
# ````{solution-start} youxi-ex-offset
# :class: dropdown
# ````

# %% tags=["book-only"]
with_population = youxi.generate(seed=seed).merge(youxi.monthly_population(), on="month")
rates = {}
for name, extra in (("without offset", {}), ("with offset", {"offset": "population"})):
    fit = chapter.run(chapter.prepare(with_population, {
        "intervention": youxi.INTERVENTION, "coding": youxi.CODING, "outcomes": ["hospitalizations"],
        "model": "quasipoisson", **extra}))
    rates[name] = fit.estimates().query("term in ['beta1', 'beta2', 'beta3']").set_index("term")["rate_ratio"]
pd.DataFrame(rates).round(5)

# %% [markdown] tags=["book-only"]
# The population grew by about 1.4% over four years, about 0.03% a month, so the offset
# changes the pre-reform slope's rate ratio by roughly that much and leaves the level and
# slope changes nearly untouched. Offsets matter when the population changes fast or
# unevenly, for example after a county merger.
#
# ````{solution-end}
# ````
#
# ````{exercise} How many months do you need?
# :label: youxi-ex-length
#
# Shorten the series to 12 months before and 12 after the reform (October 2016 to September
# 2018) and refit. Compare the width of the β3 interval with the full series. Then read the
# Monte Carlo in {doc}`reproducibility`: what does it say about trusting a 95% interval from a
# short, autocorrelated series?
# ````
#
# ````{solution-start} youxi-ex-length
# :class: dropdown
# ````

# %% tags=["book-only"]
full = youxi.generate(seed=seed)
months = pd.PeriodIndex(full["month"], freq="M")
start = pd.Period(youxi.INTERVENTION, "M")
short = full[(months >= start - 12) & (months <= start + 11)]  # 12 months before, 12 from the reform on
widths = {}
for name, frame in ((f"{len(full)} months", full), (f"{len(short)} months", short)):
    fit = chapter.run(chapter.prepare(frame, {"intervention": youxi.INTERVENTION, "coding": youxi.CODING,
                                              "seasonal": "none"}))
    beta3 = fit.estimates().query("term == 'beta3'").set_index("outcome")
    widths[name] = beta3["ci_high"] - beta3["ci_low"]
pd.DataFrame(widths).round(1)

# %% [markdown] tags=["book-only"]
# (Two years are the minimum for the seasonal indices, so both fits here skip the adjustment.)
# The interval for β3 widens a lot: with 12 points per segment each slope is estimated from
# little information, and Newey-West standard errors are themselves imprecise in short series,
# so the nominal 95% coverage is not reached.
#
# ````{solution-end}
# ````
