"""Sentences of the capitation chapter chosen by the numbers, and the checks of the GZ paper.

Each ``*_sentence`` function takes computed numbers and returns the sentence that describes them
(its wording changes with the sign, the size or the rule that applied); the tests flip each
condition. The ``paper_*`` functions read the GZ paper's published tables (``data/published``)
and return what the book says about them: the printed 5.47% beside the recomputed share, what
the printed ± values are, the gender pattern of Tables 7-8 against the text, the two printed
p-values of length of stay, and the R² values compared like with like.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from payreform import narrative, published
from payreform.capitation import RULE_ELBOW, RULE_FIRST_PEAK, Grouping

__all__ = [
    "floor_sentence",
    "grouping_sentence",
    "los_sentence",
    "paper_gender_check",
    "paper_los_p_values",
    "paper_savings",
    "paper_se_ratio",
    "persons_sentence",
    "pooling_sentence",
    "savings_sentence",
    "selection_sentence",
    "suppression_sentence",
]

RULE_WORDS = {
    RULE_FIRST_PEAK: "the first peak of the Calinski-Harabasz index",
    RULE_ELBOW: "the elbow of the within-group sum of squares, because the Calinski-Harabasz "
                "index has no first peak",
    "given": "the number set for this run",
    "fewer than three items: each its own group": "one group per item, as there are fewer "
                                                  "than three",
}


def persons_sentence(counts: pd.DataFrame, years: Sequence[int], min_cell_size: int) -> str:
    """Persons per scheme in the base and target year (fewer than ``min_cell_size`` not shown).

    Examples
    --------
    >>> counts = pd.DataFrame({"scheme": ["A", "A"], "year": [2010, 2011], "persons": [900, 950]})
    >>> persons_sentence(counts, (2010, 2011), 10)
    'A: 900 persons in 2010 and 950 in 2011.'
    """
    parts = []
    for scheme, part in counts.groupby("scheme", sort=False):
        numbers = []
        for year in years:
            n = part.loc[part["year"] == year, "persons"].sum()
            shown = (f"{int(n):,}" if n >= min_cell_size else
                     "none" if n == 0 else f"fewer than {min_cell_size}")
            numbers.append((shown, year))
        first, *rest = numbers
        text = f"{scheme}: {first[0]} persons in {first[1]}"
        text += "".join(f" and {n} in {y}" for n, y in rest)
        parts.append(text)
    return "; ".join(parts) + "."


def grouping_sentence(grouping: Grouping) -> str:
    """How many groups each scheme got and which rule chose the number (schemes sharing a rule
    are named together).

    Examples
    --------
    >>> frame = pd.DataFrame({"person_id": range(120), "year": 2010, "scheme": "A", "gender": 1,
    ...     "age": 50, "ocsd": ["D1", "D2", "D3", "D4"] * 30, "inpatient_prev_year": 0, "los": 0,
    ...     "fund_exp": [900.0, 880.0, 200.0, 210.0] * 30})
    >>> from payreform.capitation import cell_statistics, group_diseases
    >>> grouping_sentence(group_diseases(cell_statistics(frame), k=2))
    'Single diseases: 2 groups for A, by the number set for this run.'
    """
    what = "Age bands" if grouping.dimension == "age_band" else "Single diseases"
    by_rule: dict[str, list[str]] = {}
    for scheme in grouping.schemes:
        by_rule.setdefault(grouping.rule[scheme], []).append(scheme)
    parts = []
    for rule, schemes in by_rule.items():
        counts = [f"{grouping.k(s)} group{'s' if grouping.k(s) != 1 else ''} for {s}"
                  if i == 0 else f"{grouping.k(s)} for {s}" for i, s in enumerate(schemes)]
        parts.append(f"{narrative.join(counts)}, by {RULE_WORDS.get(rule, rule)}")
    return f"{what}: " + "; ".join(parts) + "."


def los_sentence(drop: bool, p_values: Mapping[str, float], alpha: float = 0.05) -> str:
    """Whether length of stay stays in the payment model, and the p-value that decided.

    Examples
    --------
    >>> los_sentence(True, {"A 2011": 0.4, "B 2011": 0.001})
    'Length of stay is left out of the payment model: it is not significant in A 2011 (p = 0.40).'
    >>> print(los_sentence(False, {"A 2011": 0.01}))  # doctest: +NORMALIZE_WHITESPACE
    Length of stay is significant in every scheme and year (largest p = 0.010) and stays in the
    model.
    """
    finite = {k: v for k, v in p_values.items() if v is not None and np.isfinite(v)}
    if not finite:
        return ("Length of stay is left out of the payment model: too few persons had a stay (or "
                "the data have no length of stay) to judge it.")
    worst = max(finite, key=finite.get)
    if drop and finite[worst] > alpha:
        return (f"Length of stay is left out of the payment model: it is not significant in "
                f"{worst} ({narrative.fmt_p(finite[worst])}).")
    if drop:
        return "Length of stay is left out of the payment model, as set for this run."
    return (f"Length of stay is significant in every scheme and year (largest "
            f"{narrative.fmt_p(finite[worst])}) and stays in the model.")


def pooling_sentence(notes: Sequence[str], min_cell_size: int) -> str:
    """What was pooled so that every number rests on at least ``min_cell_size`` persons.

    Examples
    --------
    >>> pooling_sentence([], 10)
    'No age band, disease or group had to be pooled: each has at least 10 persons.'
    >>> notes = ["A: age bands 96-100 and 101+ pooled into 96+"]
    >>> print(pooling_sentence(notes, 10))  # doctest: +NORMALIZE_WHITESPACE
    1 pooling step keeps every number on at least 10 persons: A: age bands 96-100 and 101+
    pooled into 96+.
    """
    if not notes:
        return (f"No age band, disease or group had to be pooled: each has at least "
                f"{min_cell_size} persons.")
    steps = "pooling step keeps" if len(notes) == 1 else "pooling steps keep"
    return (f"{len(notes)} {steps} every number on at least {min_cell_size} persons: "
            + "; ".join(notes) + ".")


def suppression_sentence(suppressed: int, cells: int, min_cell_size: int) -> str:
    """How many cells of the standards tables hide their persons and observed mean.

    Examples
    --------
    >>> suppression_sentence(0, 84, 10)
    'Every one of the 84 cells of the standards tables holds at least 10 persons.'
    >>> print(suppression_sentence(5, 84, 10))  # doctest: +NORMALIZE_WHITESPACE
    5 of the 84 cells of the standards tables hold fewer than 10 persons: their persons and
    observed mean are not shown (their standard is, being a sum of coefficients that rest on at
    least 10 persons each).
    """
    if suppressed == 0:
        return (f"Every one of the {cells:,} cells of the standards tables holds at least "
                f"{min_cell_size} persons.")
    return (f"{suppressed:,} of the {cells:,} cells of the standards tables hold fewer than "
            f"{min_cell_size} persons: their persons and observed mean are not shown (their "
            f"standard is, being a sum of coefficients that rest on at least {min_cell_size} "
            "persons each).")


def floor_sentence(floored: int) -> str:
    """Whether any standard had to be floored at 0.

    Examples
    --------
    >>> floor_sentence(0)
    'No standard is negative.'
    >>> print(floor_sentence(2))  # doctest: +NORMALIZE_WHITESPACE
    2 cells add up to a negative standard and are paid 0 (floored); with omega = 1 the payment
    then exceeds actual expenditure slightly.
    """
    if floored == 0:
        return "No standard is negative."
    cells = "cell adds" if floored == 1 else "cells add"
    return (f"{floored} {cells} up to a negative standard and {'is' if floored == 1 else 'are'} "
            "paid 0 (floored); with omega = 1 the payment then exceeds actual expenditure "
            "slightly.")


def _saving_words(pct: float) -> str:
    if abs(pct) < 0.005:
        return "pays actual expenditure"
    return (f"pays {narrative.fmt(abs(pct), 2)}% {'less' if pct > 0 else 'more'} than actual "
            f"expenditure ({'a saving' if pct > 0 else 'a deficit'})")


def savings_sentence(simulation: pd.DataFrame, base_year: int, target_year: int) -> str:
    """The payment with each year's standards and with equal weights, against actual spending.

    ``simulation`` is :meth:`BlendingSimulation.table`; the total row is used.

    Examples
    --------
    >>> table = pd.DataFrame({"scheme": "total", "omega": [0.0, 0.5, 1.0],
    ...                       "savings_pct": [8.0, 4.0, 0.0]})
    >>> print(savings_sentence(table, 2010, 2011))  # doctest: +NORMALIZE_WHITESPACE
    Paying the 2011 persons with the 2010 standards pays 8.00% less than actual expenditure (a
    saving); with equal weights it pays 4.00% less than actual expenditure (a saving); with the
    2011 standards it pays actual expenditure.
    """
    total = simulation[simulation["scheme"] == "total"].set_index("omega")["savings_pct"]

    def at(omega: float) -> float:
        return float(total.iloc[int(np.argmin(np.abs(total.index.to_numpy() - omega)))])

    return (f"Paying the {target_year} persons with the {base_year} standards "
            f"{_saving_words(at(0.0))}; with equal weights it {_saving_words(at(0.5))}; with the "
            f"{target_year} standards it {_saving_words(at(1.0))}.")


def selection_sentence(tenths: pd.DataFrame, tolerance: float = 0.05) -> str:
    """What the predictive ratios by tenth of predicted cost say, per scheme.

    ``tenths``: rows of the predictive-ratio table for one set of standards, dimension
    ``predicted_tenth``, suppressed rows included (they are skipped).

    Examples
    --------
    >>> tenths = pd.DataFrame({"scheme": "A", "level": ["1", "5", "10"],
    ...                        "ratio": [1.02, 0.99, 1.01], "suppressed": False})
    >>> selection_sentence(tenths)
    'A: every tenth of predicted cost is paid within 5% of what it costs (ratios 0.99 to 1.02).'
    """
    parts = []
    for scheme, part in tenths[~tenths["suppressed"].astype(bool)].groupby("scheme", sort=False):
        part = part.assign(order=part["level"].astype(int)).sort_values("order")
        low, high = part["ratio"].min(), part["ratio"].max()
        if high - 1 <= tolerance and 1 - low <= tolerance:
            parts.append(f"{scheme}: every tenth of predicted cost is paid within "
                         f"{100 * tolerance:g}% of what it costs (ratios {low:.2f} to {high:.2f})")
            continue
        worst = part.loc[(part["ratio"] - 1).abs().idxmax()]
        side = "under-paid" if worst["ratio"] > 1 else "over-paid"
        which = ("the cheapest tenth" if worst["order"] == part["order"].min() else
                 "the dearest tenth" if worst["order"] == part["order"].max() else
                 f"tenth {worst['order']}")
        parts.append(f"{scheme}: {which} of predicted cost is {side} most (ratio "
                     f"{worst['ratio']:.2f}; all tenths {low:.2f} to {high:.2f})")
    if not parts:
        return "No tenth of predicted cost holds enough persons to show."
    return "; ".join(parts) + "."


# ----------------------------------------------------------------------------- the GZ paper


def paper_savings() -> dict[str, float]:
    """The printed share of savings at omega = 0.5 and the share its own numbers give.

    Examples
    --------
    >>> figures = paper_savings()
    >>> figures["printed_pct"], round(figures["recomputed_pct"], 2)
    (5.47, 5.43)
    """
    table = published.load("gz_section5_simulation").set_index(["scheme", "omega"])
    half = table.xs(0.5, level="omega")["savings_rmb"] / 1e9
    actual = table.xs(0.0, level="omega")["actual_rmb"] / 1e9
    # the largest share the printed figures allow: savings rounded down, totals rounded up
    most = (half["UEBHI"] + 0.0005 + half["URRBHI"] + 0.0005) / (actual["UEBHI"] - 0.0005
                                                                 + actual["URRBHI"] - 0.005)
    printed = published.load("gz_text_figures").set_index("quantity")
    return {"printed_pct": float(printed.loc["savings_share_pct_omega_half", "value"]),
            "savings_bn": float(half["total"]),
            "actual_bn": float(actual["UEBHI"] + actual["URRBHI"]),
            "recomputed_pct": 100 * float(half["total"]) / float(actual["UEBHI"]
                                                                + actual["URRBHI"]),
            "largest_by_rounding_pct": 100 * float(most)}


def paper_se_ratio(estimates: pd.DataFrame, scale: float) -> pd.DataFrame:
    """Full-city standard errors of the estimates over the paper's printed ± values.

    ``estimates``: the payment-model rows (scheme, year, term, std_error) estimated on a city of
    ``scale`` times the full size; standard errors shrink with the square root of the persons,
    so ``std_error * sqrt(scale)`` is the full city's. A median ratio near 1/1.96 = 0.51 says
    the ± values are 95% half-widths rather than standard errors.
    """
    printed = published.load("gz_table7_8_coefficients")
    merged = estimates.merge(printed[["scheme", "year", "term", "plus_minus"]],
                             on=["scheme", "year", "term"])
    merged["full_city_se"] = merged["std_error"] * np.sqrt(scale)
    merged["ratio"] = merged["full_city_se"] / merged["plus_minus"]
    return merged[["scheme", "year", "term", "std_error", "full_city_se", "plus_minus", "ratio"]]


def paper_gender_check() -> pd.DataFrame:
    """Per table, year and age category: do women's coefficients exceed men's?

    With gender 1 = male (Table 1) and men of age category 1 the reference, women's coefficient
    in category a is ``gender_age_2_a`` and men's ``gender_age_1_a`` (0 for a = 1).

    Examples
    --------
    >>> check = paper_gender_check()
    >>> check.groupby("scheme")["women_higher"].sum().to_dict()
    {'UEBHI': 6, 'URRBHI': 1}
    """
    table = published.load("gz_table7_8_coefficients").set_index(["scheme", "year", "term"])
    rows = []
    for (scheme, year), _ in table.groupby(level=[0, 1]):
        for a in (1, 2, 3):
            men = 0.0 if a == 1 else float(table.loc[(scheme, year, f"gender_age_1_{a}"),
                                                     "estimate"])
            women = float(table.loc[(scheme, year, f"gender_age_2_{a}"), "estimate"])
            rows.append({"scheme": scheme, "year": int(year), "age_category": a, "men": men,
                         "women": women, "women_higher": women > men})
    return pd.DataFrame(rows)


def paper_los_p_values() -> dict[str, float]:
    """The p-value of length of stay in the UEBHI model as printed in the text and in Table 2."""
    table = published.load("gz_text_figures").set_index("quantity")
    return {"text": float(table.loc["los_p_value_text", "value"]),
            "table": float(table.loc["los_p_value_table", "value"])}


def paper_screening_r2() -> tuple[float, float]:
    """The smallest and largest R² printed in Table 2 (the screening regressions)."""
    table = published.load("gz_text_figures")
    values = table[table["quantity"].str.startswith("screening_r_squared")]["value"]
    return float(values.min()), float(values.max())
