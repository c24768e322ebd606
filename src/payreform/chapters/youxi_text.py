"""Sentences of the ``youxi-itsa`` chapter, each chosen by the numbers it describes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from payreform import itsa, narrative
from payreform.chapters.itsa_common import autocorrelation_handling, inference_phrase

if TYPE_CHECKING:
    from payreform.chapters.youxi_itsa import YouxiResult


def model_text(result: YouxiResult) -> str:
    """What the coding of the interaction makes of β2, for the coding and scale of this run."""
    s, ts = result.settings, result.series
    t0 = int(ts.n_pre + 1)
    meaning = {
        "zero_at_intervention": f"$XT_t$ is 0 in the intervention period ({ts.intervention}), so β2 is the jump "
                                "at the intervention",
        "one_at_intervention": f"$XT_t$ is 1 in the intervention period ({ts.intervention}), so β2 is the jump at "
                               "the intervention minus one period's slope change (the jump is β2 + β3)",
        "time_times_post": f"$XT_t = T$ from the intervention on, so β2 is the gap between the post- and "
                           f"pre-intervention lines at $T = 0$, not the jump (the jump is β2 + β3·{t0})",
    }[s["coding"]]
    text = f"In this run the interaction is coded `{s['coding']}`: {meaning}. The intervention period is $T_0 = {t0}$."
    if s["model"] == "quasipoisson":
        text += " The model is quasi-Poisson: coefficients are on the log scale and the tables add rate ratios."
    elif s["log"]:
        text += (" The outcome is modelled as ln(y + 1): each change is also shown as a percentage, "
                 "100 (e^β − 1).")
    return text


def autocorrelation_text(result: YouxiResult) -> str:
    """Which outcomes still show residual autocorrelation, by the Breusch-Godfrey p-values."""
    table = result.diagnostics_table()
    table = table[table["bg_p_value"].notna()]
    if table.empty:
        return "The Breusch-Godfrey test applies to the OLS fits; this run has none."
    order = int(table["bg_order"].iloc[0])
    rejected = table[table["bg_p_value"] < narrative.ALPHA]
    kept = table[table["bg_p_value"] >= narrative.ALPHA]
    name = {o: result.labels.get(o, o) for o in table["outcome"]}
    if kept.empty:
        return (f"The Breusch-Godfrey test of order {order} finds residual autocorrelation for every outcome "
                f"(largest p-value {narrative.fmt_p(table['bg_p_value'].max())[4:]}), so ordinary standard errors "
                "would be too small. " + autocorrelation_handling(result.settings))
    if rejected.empty:
        return (f"The Breusch-Godfrey test of order {order} does not find residual autocorrelation for any "
                f"outcome (smallest p-value {narrative.fmt_p(table['bg_p_value'].min())[4:]}). With few periods the "
                f"test has little power, so the intervals still allow for it ({inference_phrase(result.settings)}).")
    return (f"The Breusch-Godfrey test of order {order} finds residual autocorrelation for "
            f"{narrative.join([name[o] for o in rejected['outcome']])}, but not for "
            f"{narrative.join([name[o] for o in kept['outcome']])}.")


def lag_rule_text(result: YouxiResult) -> str:
    """Where this run's Newey-West lag came from."""
    n, lag = len(result.series.frame), result.settings["hac_lags"]
    if result.settings.source("hac_lags") == "from the data":
        return f"The default lag rule, $\\lfloor 4 (n/100)^{{2/9}} \\rfloor$, gives {lag} for {n} periods; this run uses it."
    return f"This run uses lag {lag}, set by hand (the default rule would give {itsa.newey_west_lags(n)} for {n} periods)."


def placebo_text(result: YouxiResult) -> str:
    """How many placebo level and slope changes came out significant, against the 5% expected by chance."""
    table = result.placebos
    if table.empty:
        return ("No placebo test: the pre-period is too short for dates with 6 periods on each side (with the "
                "season in the model, for dates whose terms can be told apart from the season), or part of it is "
                "left out of the fit.")
    p_values = pd.concat([table["beta2_p"], table["beta3_p"]]) if "beta2_p" in table else table["beta3_p"]
    p_values = p_values.dropna()
    hits = int((p_values < narrative.ALPHA).sum())
    expected = narrative.ALPHA * len(p_values)
    verdict = ("about what chance alone produces" if hits <= max(1, round(2 * expected)) else
               "more than chance alone would produce: either the pre-period already has breaks, or the standard "
               "errors are too small for a short, autocorrelated series; either way, read the intervention's "
               "p-values with caution")
    dates = narrative.join(sorted(set(table["placebo"])))
    return (f"Placebo interventions at {dates}, fitted to the pre-intervention periods only: {hits} of the "
            f"{len(p_values)} placebo level and slope changes are significant at the 5% level; {verdict}.")


def count_model_text(result: YouxiResult) -> str:
    """Whether the quasi-Poisson comparison ran and how often the two models disagree."""
    if result.settings["model"] == "quasipoisson":
        return "This run's main model is already quasi-Poisson; the linear comparison is not repeated."
    if not result.count_models:
        return "No outcome holds whole numbers in every period, so the quasi-Poisson comparison is skipped."
    n = len(result.agreement)
    disagree = int((~result.agreement["same_conclusion"]).sum())
    dispersion = max(p.model.dispersion for p in result.count_models)
    verdict = ("The two models agree on the sign and the 5% significance of every level and slope change."
               if disagree == 0 else
               f"The two models reach different conclusions at the 5% level for {disagree} of the {n} level and "
               "slope changes.")
    return (f"{verdict} The largest dispersion is {narrative.fmt(dispersion, 1)}"
            + (" (1 would be Poisson), so a plain Poisson model would overstate precision." if dispersion > 1.5
               else ", close to the Poisson value 1."))


def inference_text(result: YouxiResult) -> str:
    """Whether the calibrated intervals change any conclusion drawn with Newey-West's, term by term."""
    table = result.inference
    if table.empty:
        return "No OLS fit in this run, so the inference methods are not compared."
    pivot = table.pivot_table(index=["outcome", "term"], columns="inference", values="p_value", sort=False)
    if not {"newey_west", "calibrated"} <= set(pivot.columns):
        return ""
    changed, kept = [], 0
    for (outcome, term), row in pivot.iterrows():
        nw, cal = row["newey_west"], row["calibrated"]
        if narrative.significant(nw) != narrative.significant(cal):
            name = result.labels.get(outcome, outcome)
            changed.append(f"{term} of {name} ({narrative.fmt_p(nw)} with Newey-West, {narrative.fmt_p(cal)} "
                           "calibrated)")
        else:
            kept += 1
    widths = table.assign(width=table["ci_high"] - table["ci_low"]).pivot_table(
        index=["outcome", "term"], columns="inference", values="width", sort=False)
    ratio = float((widths["calibrated"] / widths["newey_west"]).median())
    text = (f"The calibrated intervals are a median {narrative.fmt(ratio, 1)} times as wide as Newey-West's. ")
    if not changed:
        return text + f"No conclusion at the 5% level changes: all {kept} level and slope changes keep their verdict."
    return text + (f"The verdict at the 5% level changes for {narrative.join(changed)}; "
                   f"{kept} other changes keep theirs.")
