"""What only the book's synthetic Youxi data allow: truth and paper beside the estimates, the paper's
yearly tables and chi-square tests, the bias of the two-step seasonal adjustment, and the teaching
case of a second interruption (the pandemic)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from payreform import itsa, published, report, trend
from payreform.contracts import validate_time_series
from payreform.synth import youxi


@dataclass(frozen=True, eq=False)
class BookComparison:
    """What only the book's data allow: truth and paper beside the estimates, and the paper's tables."""

    comparison: pd.DataFrame
    planted_indices: pd.DataFrame
    seasonal_bias: pd.DataFrame
    implied_denominators: pd.DataFrame
    visits_2016: float
    chi2_with_visits: float
    pandemic: pd.DataFrame = field(default_factory=pd.DataFrame)
    pandemic_fits: tuple = ()
    pearson_primary_care: tuple[float, float, int] = (float("nan"), float("nan"), 0)


def book_comparison(prepared, estimates: pd.DataFrame, coding: str, hac_lags: int) -> BookComparison:
    ts = prepared.series
    comparison = report.side_by_side(estimates[estimates["model"] != "quasipoisson"],
                                     youxi.truth(coding=coding), youxi.published(coding=coding))
    planted = youxi.seasonal_factors(ts.frame.index).groupby(ts.frame.index.month).mean()
    planted = planted / planted.mean()
    bias = pd.DataFrame()
    if ts.frequency == "M":
        noiseless = validate_time_series(youxi.generate(noise_scale=0.0), outcomes=list(youxi.OUTCOMES),
                                         intervention=youxi.INTERVENTION)
        bias = pd.concat([itsa.seasonal_method_comparison(noiseless.frame, o, intervention=noiseless.intervention,
                                                          coding=coding, hac_lags=hac_lags)
                          for o in youxi.OUTCOMES], ignore_index=True)
        bias = bias.merge(youxi.truth(coding=coding), on=["outcome", "term"])
        bias["estimate / truth"] = bias["estimate"] / bias["value"]
    implied = trend.implied_denominator_table(youxi.annual_trend_tests())
    table4 = published.load("youxi_table4_services")
    first = table4.iloc[0]
    visits = float(first["healthcare_outpatient_visits_10k"]) * 10_000
    share = table4["primary_care_share_pct"].to_numpy() / 100
    totals = table4["healthcare_outpatient_visits_10k"].to_numpy() * 10_000
    chi2 = trend.cochran_armitage(share * totals, totals).statistic
    pearson = trend.pearson_chi_square(np.vstack([share * table4["healthcare_outpatient_visits_10k"].to_numpy(),
                                                  (1 - share) * table4["healthcare_outpatient_visits_10k"].to_numpy()]))
    pandemic, fits = pandemic_case(prepared.settings["seed"], coding)
    return BookComparison(comparison, planted, bias, implied, visits, float(chi2), pandemic, fits, pearson)


def pandemic_case(seed: int, coding: str) -> tuple[pd.DataFrame, tuple]:
    """The teaching case of a second interruption: the synthetic series extended to December 2023 with
    the COVID-19 shock of February 2020, fitted once ignoring the shock (one interruption) and once
    modelling it (two), with the planted truth beside both.

    Returns one row per outcome and reform term: the truth; the estimates on the series generated
    without noise (their gap from the truth is bias, not chance) under both models; the estimates
    with 95% intervals on the noisy series of ``seed``. Also returns the two noisy fits of the
    visits series (for the figure). Both models take the season as month indicators (a moving
    average would run through the shock).
    """
    truth = youxi.pandemic_truth(coding).set_index(["outcome", "term"])["value"]
    fits: dict[str, dict[str, itsa.SeriesAnalysis]] = {}
    for name, noise in (("noise-free", 0.0), ("noisy", 1.0)):
        ts = validate_time_series(youxi.generate(seed=seed, pandemic=True, noise_scale=noise),
                                  outcomes=list(youxi.OUTCOMES), intervention=youxi.INTERVENTION)
        for outcome in youxi.OUTCOMES:
            for model, interventions in (("ignored", youxi.INTERVENTION),
                                         ("modelled", [youxi.INTERVENTION, youxi.PANDEMIC])):
                fits.setdefault(name, {})[f"{outcome}/{model}"] = itsa.analyse_series(
                    ts.frame, outcome, intervention=interventions, coding=coding, seasonal="season_dummies")
    rows = []
    for outcome in youxi.OUTCOMES:
        for reform, modelled_term in (("beta2", "beta2_1"), ("beta3", "beta3_1")):
            row = {"outcome": outcome, "term": reform, "truth": truth[outcome, modelled_term]}
            for name in ("noise-free", "noisy"):
                ignored = fits[name][f"{outcome}/ignored"].model.term(reform)
                modelled = fits[name][f"{outcome}/modelled"].model.term(modelled_term)
                row[f"ignored ({name})"] = ignored.estimate
                row[f"modelled ({name})"] = modelled.estimate
                if name == "noisy":
                    row["ignored covers truth"] = bool(ignored.interval()[0] <= row["truth"] <= ignored.interval()[1])
                    row["modelled covers truth"] = bool(modelled.interval()[0] <= row["truth"]
                                                        <= modelled.interval()[1])
            rows.append(row)
    table = pd.DataFrame(rows)
    visits = youxi.OUTCOMES[0]
    return table, (fits["noisy"][f"{visits}/ignored"], fits["noisy"][f"{visits}/modelled"])


