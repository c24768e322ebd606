"""What only the book's data of the ``sanming-itsa`` chapter show: the paper beside the estimates.

The synthetic Sanming series carry a known truth (the noise-free series, fitted the same way)
and sit beside Table 4 of Lin et al. This module computes the comparisons the book page shows
and glues, and checks the paper's published numbers against each other:

* :func:`implied_truth`: the coefficients the synthetic data carry;
* :func:`table4_consistency`: Table 4's printed P against its coefficient and standard error;
* :func:`text_against_table`: coefficients quoted in the text that differ from Table 4;
* :func:`synth.sanming.totals_consistency`: Table 4's slopes against Tables 1 and 3's totals.

Nothing here runs on a user's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from payreform import narrative, published, report
from payreform.itsa import segmented_regression
from payreform.synth import sanming

TERMS = ("beta1", "beta2", "beta3")
ROUNDING = 0.0005
"""Half the last printed digit of Table 4's coefficients and standard errors."""


def implied_truth(coding: str = sanming.CODING) -> pd.DataFrame:
    """Coefficients of the noise-free generated series: what the analysis should recover.

    The noise-free series (Table 4's line, corrected to the annual totals) is divided by its
    planted seasonal factors, logged (ln(Y + 1)) and fitted over January 2016 - November 2019.
    For the overall series the two institution types are added first. Compare with
    :func:`payreform.synth.sanming.truth` (Table 4's planted line) to see how far the totals
    pull the trends.

    Examples
    --------
    >>> truth = implied_truth().set_index(["group", "outcome", "term"])["value"]
    >>> sorted(set(truth.index.get_level_values("group")))
    ['community', 'hospital', 'overall']
    """
    frame = sanming.with_overall(sanming.generate(noise_scale=0.0))
    periods = pd.PeriodIndex(frame[sanming.TIME_COLUMN].unique(), freq="M")
    rows = []
    for group in (*sanming.GROUPS, "overall"):
        part = frame[frame[sanming.GROUP_COLUMN] == group]
        for outcome in sanming.OUTCOMES:
            deseasonalised = (part[outcome].to_numpy() + 1.0) / sanming.seasonal_factors(periods, outcome)
            series = pd.Series(np.log(deseasonalised), index=periods, name=outcome)
            result = segmented_regression(series, intervention=sanming.INTERVENTION, coding=coding, hac_lags=None)
            values = {t: float(result.params[t]) for t in ("beta1", "beta2", "beta3")}
            values["post_slope"] = values["beta1"] + values["beta3"]
            values["level_change_at_intervention"] = result.level_change_at_intervention().estimate
            rows += [{"group": group, "outcome": outcome, "term": t, "value": v} for t, v in values.items()]
    return pd.DataFrame(rows)


def _p_range(estimate: float, std_error: float, df: int) -> tuple[float, float]:
    """Smallest and largest two-sided P the rounded coefficient and SE allow (normal or t)."""
    size = abs(estimate)
    z_low = max(size - ROUNDING, 0.0) / (std_error + ROUNDING)
    z_high = (size + ROUNDING) / max(std_error - ROUNDING, 1e-12)
    low = min(2 * stats.norm.sf(z_high), 2 * stats.t.sf(z_high, df))
    high = max(2 * stats.norm.sf(z_low), 2 * stats.t.sf(z_low, df))
    return float(low), float(high)


def table4_consistency(factor: float = 1.5) -> pd.DataFrame:
    """Can each printed P of Table 4 come from its printed coefficient and standard error?

    For every coefficient the P-values compatible with the printed coefficient and standard
    error are computed over their rounding (each could be up to 0.0005 off) and for a normal or
    a t reference (43 df: 47 months, 4 coefficients). A printed P more than ``factor`` times
    outside that range is flagged; a printed 0.001 is read as "P < 0.001", as in the text.

    Examples
    --------
    >>> flagged = table4_consistency().query("flagged")
    >>> [(r.group, r.outcome, r.term) for r in flagged.itertuples()]
    [('overall', 'medical_expenditure', 'beta2'), ('community', 'inpatient_volume', 'beta1')]
    """
    table = published.load(sanming.TABLE4)
    df = 47 - 4
    rows = []
    for row in table.itertuples():
        low, high = _p_range(row.estimate, row.std_error, df)
        printed = float(row.p_value)
        floor = 0.0 if printed <= 0.001 else printed
        flagged = bool(floor > factor * high or printed * factor < low)
        rows.append({"group": row.group, "outcome": row.outcome, "term": row.term, "estimate": row.estimate,
                     "std_error": row.std_error, "printed_p": printed,
                     "p_from_estimate": float(2 * stats.t.sf(abs(row.estimate) / row.std_error, df)),
                     "p_low": low, "p_high": high, "flagged": flagged})
    return pd.DataFrame(rows)


def text_against_table() -> pd.DataFrame:
    """Coefficients quoted in the paper's text that differ from the same cell of Table 4.

    Examples
    --------
    >>> text_against_table()[["outcome", "text_estimate", "table_estimate"]].values.tolist()
    [['inpatient_volume', 0.005, -0.005], ['inpatient_volume', -0.114, -0.004]]
    """
    table = published.load("sanming_text_itsa")
    return table[~np.isclose(table["text_estimate"], table["table_estimate"])].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class PaperComparison:
    """The book's data only: truth and paper beside the estimates, and the paper's tables checked."""

    comparison: pd.DataFrame
    totals: pd.DataFrame
    annual_sums: pd.DataFrame
    table4: pd.DataFrame
    text: pd.DataFrame
    fund: pd.DataFrame

    def strongest_misfit(self) -> pd.Series:
        """The institution-type series whose beta3 disagrees most with the yearly totals."""
        part = self.totals[(self.totals["term"] == "beta3") & (self.totals["group"] != "overall")]
        return part.loc[part["gap_in_se"].abs().idxmax()]

    def sign_agreement(self) -> dict[str, int]:
        """How many beta3 have the paper's sign: in this run's estimates and in the truth the data carry."""
        part = self.comparison[self.comparison["term"] == "beta3"].dropna(subset=["paper"])
        return {"series": int(len(part)),
                "estimates": int((np.sign(part["estimate"]) == np.sign(part["paper"])).sum()),
                "truth": int((np.sign(part["truth"]) == np.sign(part["paper"])).sum())}


def fund_table() -> pd.DataFrame:
    """Table 2 with the balance rate recomputed from its parts (balance reward included)."""
    fund = published.load("sanming_table2_fund")
    recomputed = 100 * (fund["employee_balance_100m"] + fund["resident_balance_100m"]
                        + fund["balance_reward_100m"].fillna(0)) / (fund["employee_total_100m"]
                                                                     + fund["resident_total_100m"])
    return fund.assign(recomputed_balance_rate=recomputed)


def paper_comparison(estimates: pd.DataFrame, coding: str, seed: int) -> PaperComparison:
    """Build the :class:`PaperComparison` for a run on the book's data (``estimates`` with a group column)."""
    keys = ("group", "outcome", "term")
    comparison = report.side_by_side(estimates, implied_truth(coding=coding), sanming.published(coding=coding),
                                     keys=keys)
    sums = sanming.annual_sums(sanming.generate(seed=seed, include_december_2019=True))
    sums = sums.merge(sanming.published_totals(), on=[sanming.GROUP_COLUMN, "year", "outcome"])
    sums["ratio"] = sums["sum"] / sums["published"]
    return PaperComparison(comparison=comparison, totals=sanming.totals_consistency(), annual_sums=sums,
                           table4=table4_consistency(), text=text_against_table(), fund=fund_table())


def coverage(seeds: int = 40, first_seed: int = 1, hac_lags: int = 3) -> pd.DataFrame:
    """Monte Carlo: how often the 95% intervals of beta1..beta3 contain the truth the data carry.

    The chapter's analysis (ratio-to-moving-average adjustment, ln(Y + 1), the paper's coding,
    Newey-West errors at ``hac_lags``) is repeated on ``seeds`` synthetic cities. Returns one
    row per term: the share of intervals covering the truth, the median standard error and the
    spread (standard deviation) of the estimates, and their ratio (below 1: the Newey-West errors
    understate the sampling variation).

    Examples
    --------
    >>> table = coverage(seeds=3)
    >>> table["term"].tolist()
    ['beta1', 'beta2', 'beta3']
    """
    from payreform.contracts import validate_grouped_time_series
    from payreform.itsa import analyse_series

    truth = implied_truth().set_index(["group", "outcome", "term"])["value"]
    rows = []
    for seed in range(first_seed, first_seed + seeds):
        data = validate_grouped_time_series(sanming.generate(seed=seed), group_column=sanming.GROUP_COLUMN,
                                            intervention=sanming.INTERVENTION)
        for group, ts in data.series.items():
            for outcome in sanming.OUTCOMES:
                model = analyse_series(ts.frame, outcome, intervention=ts.intervention, log=True,
                                       seasonal="ratio_to_moving_average", coding=sanming.CODING,
                                       hac_lags=hac_lags).model
                for term in TERMS:
                    combo = model.term(term)
                    low, high = combo.interval()
                    rows.append({"group": group, "outcome": outcome, "term": term, "estimate": combo.estimate,
                                 "std_error": combo.std_error,
                                 "covers": bool(low <= truth[group, outcome, term] <= high)})
    fits = pd.DataFrame(rows)
    per_series = fits.groupby(["group", "outcome", "term"]).agg(std_error=("std_error", "median"),
                                                                spread=("estimate", "std"))
    per_series["ratio"] = per_series["std_error"] / per_series["spread"]
    summary = fits.groupby("term").agg(coverage=("covers", "mean")).join(
        per_series.groupby("term")["ratio"].median().rename("se_over_spread"))
    return summary.reset_index().assign(seeds=seeds)


def coverage_text(table: pd.DataFrame) -> str:
    """What the Monte Carlo of :func:`coverage` says about beta3's intervals, chosen by its numbers."""
    row = table.set_index("term").loc["beta3"]
    share, ratio = 100 * float(row["coverage"]), float(row["se_over_spread"])
    if share >= 92.5:
        verdict = "close to the nominal 95%"
    else:
        verdict = "well short of the nominal 95%" if share < 85 else "somewhat short of the nominal 95%"
    size = ("smaller than" if ratio < 0.9 else "larger than" if ratio > 1.1 else "about the same as")
    return (f"Over {int(row['seeds'])} draws, {narrative.fmt(share, 0)}% of the 95% intervals for β3 contain the "
            f"truth the data carry, {verdict}. The median Newey-West standard error is "
            f"{narrative.fmt(ratio, 2)} times the spread of the estimates, {size} it: "
            + ("with 47 months of autocorrelated noise the intervals are too narrow, as in the Youxi chapter."
               if ratio < 0.9 else "the intervals reflect the sampling variation."))


def growth_text(yearly: pd.Series, before: float, after: float, hospital_gap: float, strongest: pd.Series) -> str:
    """Table 1's yearly growth of hospital expenditure against Table 4's slopes, chosen by the numbers."""
    first = float(yearly.iloc[0])
    later = [float(v) for v in yearly.iloc[1:]]
    faster = all(v > first for v in later)
    totals = ("The yearly totals grow faster after the reform than before it" if faster else
              "The yearly totals do not grow faster after the reform than before it")
    slopes = "slower" if after < before else "faster"
    within = abs(hospital_gap) < 2
    year = yearly.index[0]
    span = f" from {int(year) - 1} to {int(year)}" if isinstance(year, (int, np.integer)) and year > 1900 else ""
    return (f"{totals} ({narrative.fmt(first, 1)}%{span}, then "
            f"{narrative.join([narrative.fmt(v, 1) + '%' for v in later])}), while Table 4's slopes mean "
            f"{slopes} growth after it ({narrative.fmt(before, 1)}% a year before, {narrative.fmt(after, 1)}% after). "
            f"For hospital expenditure the gap is {narrative.fmt(abs(hospital_gap), 1)} of Table 4's standard errors, "
            + ("still within its uncertainty" if within else "beyond its uncertainty")
            + f"; for {strongest['group']} {strongest['outcome'].replace('_', ' ')} it is "
            f"{narrative.fmt(abs(float(strongest['gap_in_se'])), 1)}.")


def moved_text(beta3: pd.DataFrame) -> str:
    """What a fit with the intervention moved a year later finds, chosen by the count of significant slopes."""
    n = len(beta3)
    significant = int((beta3["p_value"] < narrative.ALPHA).sum())
    if significant == 0:
        return (f"With the break moved a year later, none of the {n} slope changes is significant at 5%: here the "
                "model does not invent a break where it was told to look.")
    return (f"With the break moved a year later, {significant} of the {n} slope changes are still \"significant\" at "
            "5%. The synthetic series bend at the real reform and again through the yearly totals, and their noise "
            "wanders slowly, so a segmented line with a break elsewhere still finds slope changes.")


# ----------------------------------------------------------------------------- glue and sentences

def book_glue(book: PaperComparison, t0: int) -> dict[str, Any]:
    """Values the book page glues from the paper comparison (prefix ``sanming_``)."""
    values: dict[str, Any] = {}
    comparison = book.comparison
    terms = comparison[comparison["term"].isin(["beta1", "beta2", "beta3"])]
    values["sanming_n_covered"] = int(terms["covers_truth"].sum())
    values["sanming_n_intervals"] = int(terms["covers_truth"].notna().sum())
    paper = terms.dropna(subset=["paper"])
    values["sanming_n_cover_paper"] = int(((paper["ci_low"] <= paper["paper"]) & (paper["paper"] <= paper["ci_high"])).sum())
    values["sanming_n_paper_terms"] = len(paper)
    agreement = book.sign_agreement()
    values["sanming_beta3_sign_estimates"] = agreement["estimates"]
    values["sanming_beta3_sign_truth"] = agreement["truth"]
    values["sanming_beta3_series"] = agreement["series"]
    values["sanming_max_total_gap_pct"] = float(100 * (book.annual_sums["ratio"] - 1).abs().max())
    strongest = book.strongest_misfit()
    values["sanming_misfit_series"] = f"{strongest['group']} {strongest['outcome'].replace('_', ' ')}"
    values["sanming_misfit_table4"] = float(strongest["table4"])
    values["sanming_misfit_table4_se"] = float(strongest["table4_se"])
    values["sanming_misfit_totals"] = float(strongest["from_totals"])
    values["sanming_misfit_gap_se"] = float(strongest["gap_in_se"])
    beta3 = book.totals[book.totals["term"] == "beta3"]
    values["sanming_n_misfit_2se"] = int((beta3["gap_in_se"].abs() >= 2).sum())
    values["sanming_n_misfit_series"] = len(beta3)
    table4 = sanming.published().set_index(["group", "outcome", "term"])["estimate"]
    jump = table4["community", "inpatient_volume", "beta2"] + table4["community", "inpatient_volume", "beta3"] * t0
    values["sanming_paper_jump_community_inpatient"] = float(jump)
    values["sanming_paper_jump_community_inpatient_pct"] = float(100 * np.expm1(jump))
    values["sanming_n_table4_flagged"] = int(book.table4["flagged"].sum())
    for row in book.table4[book.table4["flagged"]].itertuples():
        key = f"sanming_t4_{row.group}_{row.outcome}_{row.term}"
        values[f"{key}_p_printed"] = float(row.printed_p)
        values[f"{key}_p_high"] = float(row.p_high)
    fund = book.fund
    values["sanming_balance_rate_first"] = float(fund["balance_rate_pct"].iloc[0])
    values["sanming_balance_rate_last"] = float(fund["balance_rate_pct"].iloc[-1])
    insured = fund["employee_insured_10k"] + fund["resident_insured_10k"]
    values["sanming_insured_first_m"] = float(insured.iloc[0] / 100)
    values["sanming_insured_last_m"] = float(insured.iloc[-1] / 100)
    table1 = published.load("sanming_table1_expenditure")
    growth = 100 * table1["hospital_expenditure_10k"].pct_change()
    for year, value in zip(table1["year"].iloc[1:], growth.iloc[1:], strict=True):
        values[f"sanming_hospital_expenditure_growth_{year}"] = float(value)
    return values


def totals_text(result) -> str:
    """The paper's tables against each other: the institution-type series whose β3 the totals contradict most."""
    if result.book is None:
        return ""
    row = result.book.strongest_misfit()
    beta3 = result.book.totals[result.book.totals["term"] == "beta3"]
    n_far = int((beta3["gap_in_se"].abs() >= 2).sum())
    side = "faster" if row["from_totals"] > row["table4"] else "slower"
    return (f"The clearest case is {sanming.GROUP_LABELS[row['group']].lower()}' "
            f"{sanming.OUTCOME_LABELS[row['outcome']].split(' (')[0].lower()}: the yearly totals, read as a segmented "
            f"line, imply β3 = {narrative.fmt(row['from_totals'], 4)} (growth {side} after the reform), while Table 4 "
            f"prints {narrative.fmt(row['table4'], 3)} (SE {narrative.fmt(row['table4_se'], 3)}), "
            f"{narrative.fmt(abs(row['gap_in_se']), 1)} standard errors apart. For {n_far} of the {len(beta3)} series "
            "the gap is 2 standard errors or more.")


def findings_text(result) -> str:
    """Does this run show the paper's direction of the slope changes, and can the synthetic data show it?"""
    if result.book is None:
        return ""
    agreement = result.book.sign_agreement()
    return (f"Table 4 reports a slower trend after the reform (β3 < 0) in all {agreement['series']} series. The "
            f"synthetic data, which must add up to the yearly totals, carry a negative β3 in "
            f"{agreement['truth']} of them; this run's estimates are negative in {agreement['estimates']}. "
            + ("The synthetic city therefore cannot reproduce the paper's findings series by series: where the totals "
               "say growth sped up, no draw of the noise makes it slow down on average."
               if agreement["truth"] < agreement["series"] else
               "The truth the data carry has the paper's direction everywhere."))


def table4_text(result) -> str:
    """Table 4's printed P-values that its coefficients and standard errors cannot produce."""
    if result.book is None:
        return ""
    flagged = result.book.table4[result.book.table4["flagged"]]
    if flagged.empty:
        return "Every printed P of Table 4 is compatible with its coefficient and standard error."
    items = [f"{r.group} {r.outcome.replace('_', ' ')} {r.term} ({narrative.fmt(r.estimate, 3)}, SE "
             f"{narrative.fmt(r.std_error, 3)}: P at most {narrative.fmt(r.p_high, 3)}, printed {narrative.fmt(r.printed_p, 3)})"
             for r in flagged.itertuples()]
    return (f"{len(flagged)} printed P-values of Table 4 cannot come from the printed coefficient and standard error, "
            f"even allowing for rounding: {narrative.join(items)}.")



__all__ = ["PaperComparison", "book_glue", "coverage", "findings_text", "table4_text", "totals_text", "coverage_text", "growth_text", "moved_text", "fund_table", "implied_truth", "paper_comparison", "table4_consistency",
           "text_against_table"]
