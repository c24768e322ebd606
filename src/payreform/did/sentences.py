"""Sentences chosen by the numbers of a difference-in-differences analysis.

Reports interpret results: a pre-trend test rejects or not, an effect is significant or not and
points up or down, a breakdown value is below or above 1. Each function here picks its words
from the computed values, so a sentence cannot contradict its number; tests flip each condition.
Numbers are written with :mod:`payreform.narrative`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from payreform import narrative
from payreform.did.checks import BalanceTable, PretrendTest
from payreform.did.event_study import term_label
from payreform.inference import LinearCombination

__all__ = ["balance_sentence", "breakdown_sentence", "claims_sentence", "digits_for", "effect_sentence",
           "pretrend_overview", "pretrend_reference_sentence",
           "pretrend_sentence", "reference_sentence", "staggered_sentence"]


def digits_for(scale: float) -> int:
    """Decimals that show about three significant digits of a standard error (at least two).

    Examples
    --------
    >>> digits_for(45.0), digits_for(0.031), digits_for(0.0004)
    (2, 3, 5)
    """
    if not math.isfinite(scale) or scale <= 0:
        return 2
    return int(min(8, max(2, 1 - math.floor(math.log10(abs(scale))))))


def effect_sentence(label: str, estimate: LinearCombination, alpha: float = narrative.ALPHA) -> str:
    """One post-period term: its value, interval and whether it differs from zero.

    ``estimate`` is a :class:`~payreform.inference.LinearCombination` (``fit.term(name)``).

    Examples
    --------
    >>> from payreform.inference import LinearCombination
    >>> effect_sentence("treated × 2021", LinearCombination("did2021", 2.1, 0.4, 527))
    'treated × 2021 = 2.10 (95% CI 1.31 to 2.89), significantly above zero (p < 0.001)'
    >>> effect_sentence("treated × 2021", LinearCombination("did2021", -0.3, 0.4, 527))
    'treated × 2021 = −0.30 (95% CI −1.09 to 0.49), not significantly different from zero (p = 0.45)'
    """
    low, high = estimate.interval(alpha)
    digits = digits_for(estimate.std_error)
    value = (f"{label} = {narrative.fmt(estimate.estimate, digits)} "
             f"({narrative.fmt_interval(low, high, digits)})")
    if narrative.significant(estimate.p_value, alpha):
        side = narrative.direction(estimate.estimate, "above", "below", "at")
        return f"{value}, significantly {side} zero ({narrative.fmt_p(estimate.p_value)})"
    return f"{value}, not significantly different from zero ({narrative.fmt_p(estimate.p_value)})"


def pretrend_sentence(test: PretrendTest, reference: str, alpha: float = narrative.ALPHA) -> str:
    """Whether the joint pre-trend test rejects, and what that means.

    Examples
    --------
    >>> t = PretrendTest(("did2018", "did2019"), 45.0, 90.0, 2, 527, 1e-18, ())
    >>> pretrend_sentence(t, "the reference year 2020")[:60]
    'The joint test of did2018 and did2019 rejects parallel pre-t'
    """
    terms = narrative.join(list(test.terms))
    stat = f"F({test.df1}, {test.df2}) = {narrative.fmt(test.statistic)}, {narrative.fmt_p(test.p_value)}"
    if test.rejects(alpha):
        return (f"The joint test of {terms} rejects parallel pre-trends ({stat}): before {reference} the "
                "treated and comparison units were already moving apart, so the post-period terms mix the "
                "reform with that difference.")
    return (f"The joint test of {terms} does not reject parallel pre-trends ({stat}): no evidence that the groups "
            f"were moving apart before {reference}, which does not prove that they were not.")


def pretrend_reference_sentence(main: PretrendTest, previous: PretrendTest, did_base: int,
                                alpha: float = narrative.ALPHA) -> str:
    """Compare the joint pre-trend test with the adoption year and with the year before as reference.

    With the adoption year as reference, the change from the year before to the adoption year
    is among the "pre-period" terms; if the reform acted in its first year, that change is part
    of the reform. The test measured from the year before leaves it out.

    Examples
    --------
    >>> a = PretrendTest(("did1", "did2"), 9.0, 18.0, 2, 40, 0.0001, ())
    >>> b = PretrendTest(("did1",), 0.5, 0.5, 1, 40, 0.48, ())
    >>> pretrend_reference_sentence(a, b, 2014)[:75]
    'Measured from 2013 instead, the earlier years show no evidence of diverging'
    """
    before = did_base - 1
    stat = f"{narrative.fmt_p(previous.p_value)}"
    if main.rejects(alpha) and not previous.rejects(alpha):
        return (f"Measured from {before} instead, the earlier years show no evidence of diverging trends ({stat}): "
                f"the rejection comes from the change between {before} and {did_base}, the adoption year, which "
                "may be the reform's own first-year effect.")
    if main.rejects(alpha):
        return f"Measured from {before} instead, the test rejects as well ({stat}): the divergence predates {before}."
    if previous.rejects(alpha):
        return (f"Measured from {before} instead, the test rejects ({stat}): the years before {before} diverge, "
                f"which the reference {did_base} hides.")
    return f"Measured from {before} instead, the test does not reject either ({stat})."


def pretrend_overview(tests: Mapping[str, PretrendTest], labels: Mapping[str, str],
                      alpha: float = narrative.ALPHA) -> str:
    """Which outcomes fail the joint pre-trend test and which pass (one sentence).

    Examples
    --------
    >>> tests = {"a": PretrendTest(("did1",), 9.0, 9.0, 1, 50, 0.004, ()),
    ...          "b": PretrendTest(("did1",), 0.2, 0.2, 1, 50, 0.66, ())}
    >>> pretrend_overview(tests, {"a": "cost", "b": "visits"})
    'The joint pre-trend test rejects for cost (p = 0.004) and not for visits (p = 0.66).'
    """
    failing = [f"{labels.get(o, o)} ({narrative.fmt_p(t.p_value)})" for o, t in tests.items() if t.rejects(alpha)]
    passing = [f"{labels.get(o, o)} ({narrative.fmt_p(t.p_value)})" for o, t in tests.items()
               if not t.rejects(alpha)]
    if not tests:
        return "No outcome has a pre-period term, so no pre-trend test was run."
    if not failing:
        return f"The joint pre-trend test rejects for no outcome: {narrative.join(passing)}."
    if not passing:
        return f"The joint pre-trend test rejects for every outcome: {narrative.join(failing)}."
    return (f"The joint pre-trend test rejects for {narrative.join(failing)} and not for "
            f"{narrative.join(passing)}.")


def breakdown_sentence(label: str, value: float) -> str:
    """What a relative-magnitude breakdown value says about the effect ``label``.

    Examples
    --------
    >>> breakdown_sentence("treated × 2021", 0.0)[:80]
    'HonestDiD: treated × 2021 is not significant even under exact parallel trends (b'
    >>> breakdown_sentence("treated × 2021", 0.4)[:90]
    'HonestDiD: treated × 2021 stays significant only if the post-reform divergence is at most '
    >>> breakdown_sentence("treated × 2021", 2.5)[:73]
    'HonestDiD: treated × 2021 stays significant unless the post-reform diverg'
    """
    if not math.isfinite(value):
        return (f"HonestDiD: {label} stays significant for every bound tried (M̄ up to 100): no plausible "
                "violation of parallel trends explains it away.")
    if value == 0:
        return f"HonestDiD: {label} is not significant even under exact parallel trends (breakdown M̄ = 0)."
    shown = narrative.fmt(value)
    if value < 1:
        return (f"HonestDiD: {label} stays significant only if the post-reform divergence is at most {shown} "
                "times the largest pre-reform one (breakdown M̄ < 1): a divergence smaller than the one already "
                "seen before the reform would explain it.")
    return (f"HonestDiD: {label} stays significant unless the post-reform divergence exceeds {shown} times the "
            "largest pre-reform one (breakdown M̄ ≥ 1).")


def reference_sentence(label: str, did_base: int, main: float, previous: float,
                       estimate: LinearCombination | None = None) -> str:
    """Compare the breakdown values with the adoption year and the year before as references.

    ``main`` and ``previous`` are the breakdown values of M̄ with ``did_base`` and with
    ``did_base - 1`` as reference; ``estimate`` the term measured from ``did_base - 1`` (a
    :class:`~payreform.inference.LinearCombination`), quoted when it decides the sentence.

    Examples
    --------
    >>> reference_sentence("treated × 2021", 2020, 0.8, 2.4)[-52:]
    'in its first year) makes the conclusion more robust.'
    >>> reference_sentence("treated × 2021", 2020, 0.8, 0.0)[-57:]
    'rests on the change between 2019 and 2020, a reform year.'
    """
    before = did_base - 1
    head = f"With {before} (the year before adoption) as reference instead of {did_base}"
    value = ""
    if estimate is not None:
        low, high = estimate.interval(narrative.ALPHA)
        digits = digits_for(estimate.std_error)
        value = f" ({narrative.fmt(estimate.estimate, digits)}, {narrative.fmt_interval(low, high, digits)})"
    if previous == 0 and main == 0:
        return f"{head}, {label}{value} is again not significant: neither reference year supports an effect."
    if previous == 0:
        return (f"{head}, {label}{value} is not significant even under exact parallel trends: its significance "
                f"with {did_base} as reference rests on the change between {before} and {did_base}, a reform "
                "year.")
    shown = (f"{head}, the breakdown value of {label}{value} is {narrative.fmt(previous)} instead of "
             f"{narrative.fmt(main)}")
    if not (math.isfinite(main) and math.isfinite(previous)) or abs(previous - main) < 0.05:
        return shown + ": the choice of reference year hardly matters here."
    if previous > main:
        return (shown + f": counting the change from {before} to {did_base} as part of the reform (if the reform "
                "acted in its first year) makes the conclusion more robust.")
    return shown + f": measured from {before}, the conclusion is less robust."


def balance_sentence(balance: BalanceTable, year: int, labels: Mapping[str, str] | None = None,
                     alpha: float = narrative.ALPHA) -> str:
    """Which variables differ between treated and comparison units in ``year``, and in which direction.

    Examples
    --------
    >>> from payreform.did import balance_table
    >>> from payreform.synth import ccmc
    >>> b = balance_table(ccmc.generate(), unit="county_id", time="year", treated="treated",
    ...                       variables=["population_density", "patient_satisfaction"], years=[2018])
    >>> balance_sentence(b, 2018)
    'In 2018 the treated units differ from the comparison units at the 5% level only in population_density (lower, p < 0.001).'
    """
    labels = labels or {}
    rows = balance.between()
    rows = rows[rows["year"] == year]
    different = rows[rows["p_value"] < alpha]
    if different.empty:
        return f"In {year} no variable differs between treated and comparison units at the {100 * alpha:g}% level."
    items = [f"{labels.get(r.variable, r.variable)} ({narrative.direction(r.difference, 'higher', 'lower', 'equal')}, "
             f"{narrative.fmt_p(r.p_value)})" for r in different.itertuples()]
    qualifier = "only in " if len(different) < len(rows) else "in every variable: "
    return (f"In {year} the treated units differ from the comparison units at the {100 * alpha:g}% level "
            f"{qualifier}{narrative.join(items)}.")


def staggered_sentence(side: pd.DataFrame) -> str:
    """How far the two-way fixed-effects terms are from Callaway-Sant'Anna (and from the truth and
    the noise-free TWFE when the data are synthetic).

    Examples
    --------
    >>> side = pd.DataFrame({"term": ["event-2", "event0"], "event_time": [-2, 0],
    ...                      "twfe_estimate": [3.0, 1.0], "twfe_std_error": [1.0, 1.0],
    ...                      "cs_estimate": [0.1, 2.0], "cs_std_error": [1.0, 1.0]})
    >>> staggered_sentence(side)[:77]
    'Before adoption the two-way fixed-effects terms reach 3.0 standard errors fro'
    """
    pre = side[(side["event_time"] < -1) & side["twfe_estimate"].notna()]
    post = side[(side["event_time"] >= 0) & side["twfe_estimate"].notna() & side["cs_estimate"].notna()]
    parts = []
    if not pre.empty:
        t = float((pre["twfe_estimate"] / pre["twfe_std_error"]).abs().max())
        cs_t = float((pre["cs_estimate"] / pre["cs_std_error"]).abs().max())
        verdict = ("a spurious pre-trend" if t > 1.96 and cs_t <= 1.96 else
                   "pre-trends in both estimators" if t > 1.96 else "no clear pre-trend in either")
        parts.append(f"Before adoption the two-way fixed-effects terms reach {narrative.fmt(t, 1)} standard errors "
                     f"from zero and the Callaway-Sant'Anna terms {narrative.fmt(cs_t, 1)}: {verdict}.")
    if not post.empty:
        gap = (post["twfe_estimate"] - post["cs_estimate"]).abs() / post["twfe_std_error"]
        worst = post.iloc[int(np.argmax(gap.to_numpy()))]
        digits = digits_for(float(worst["twfe_std_error"]))
        parts.append(f"After adoption the two differ by up to {narrative.fmt(float(gap.max()), 1)} standard errors "
                     f"({term_label(worst['term'])}: {narrative.fmt(worst['twfe_estimate'], digits)} against "
                     f"{narrative.fmt(worst['cs_estimate'], digits)}).")
    if {"twfe_noise_free", "cs_noise_free", "truth"} <= set(side.columns):
        bias = (side["twfe_noise_free"] - side["truth"]).abs() / side["twfe_std_error"]
        cs_bias = (side["cs_noise_free"] - side["truth"]).abs() / side["cs_std_error"]
        worst = side.iloc[int(np.argmax(bias.to_numpy()))]
        digits = digits_for(float(worst["twfe_std_error"]))
        cs_text = ("Callaway-Sant'Anna recovers it exactly" if float(cs_bias.max()) < 1e-6 else
                   f"Callaway-Sant'Anna misses it by up to {narrative.fmt(float(cs_bias.max()), 1)} standard errors")
        parts.append(f"On the same design without noise, where chance plays no part, two-way fixed effects miss "
                     f"the planted effect by up to {narrative.fmt(float(bias.max()), 1)} standard errors "
                     f"({term_label(worst['term'])}: {narrative.fmt(worst['twfe_noise_free'], digits)} against "
                     f"{narrative.fmt(worst['truth'], digits)}); {cs_text}.")
    return " ".join(parts)


def claims_sentence(staggered: bool) -> str:
    """What the design can and cannot claim (the same for every data set; the wording follows the design).

    Examples
    --------
    >>> claims_sentence(staggered=True)[:60]
    "These estimates are the change in the treated units' outcome"
    """
    what = ("the change in the treated units' outcomes from the year before adoption, minus the same change "
            "in units not (yet) treated" if staggered else
            "differences in how the treated and comparison units' outcomes changed relative to the reference year")
    return (f"These estimates are {what}. They are effects of the reform only if, without it, both groups would "
            "have moved in parallel; the design cannot separate the reform from anything else that changed in "
            "the treated units at the same time.")
