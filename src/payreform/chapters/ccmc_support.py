"""Pieces of the ``ccmc-did`` runner: checks of the inputs made in ``prepare`` and the book-only
comparison with the planted truth and the paper's reporting."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from payreform import did, report
from payreform.contracts import PanelData, numeric_like
from payreform.did.honest import _honest_inputs_from_result
from payreform.errors import ParameterError
from payreform.synth import ccmc


def _years_text(years) -> str:
    return ", ".join(map(str, years))


def _parse_bounds(values) -> tuple[float, ...]:
    try:
        bounds = tuple(float(b) for b in (values or []))
    except (TypeError, ValueError):
        raise ParameterError(f"parameter 'mbar' is {values!r}; give numbers >= 0, for example 0,0.5,1") from None
    if not bounds or any(not math.isfinite(b) or b < 0 for b in bounds):
        raise ParameterError(f"parameter 'mbar' is {values!r}; give numbers >= 0, for example 0,0.5,1")
    return bounds


def _default_outcomes(frame: pd.DataFrame, skip: set, unit: str) -> list[str]:
    """Numeric columns other than the keys and controls that change within some unit."""
    outcomes = []
    for column in frame.columns:
        if column in skip or not numeric_like(frame[column]):
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        spread = values.groupby(frame[unit].to_numpy()).agg(lambda v: v.max() - v.min())
        if (spread.fillna(0) > 0).any():
            outcomes.append(str(column))
    return outcomes


def _check_outcomes_vary(panel: PanelData) -> None:
    frame = panel.frame
    for outcome in panel.outcomes:
        grouped = frame.groupby("unit", sort=False)[outcome]
        if not ((grouped.max() - grouped.min()).fillna(0) > 0).any():
            raise ParameterError(
                f"outcome '{outcome}' does not change within any unit, so the unit fixed effects absorb it; "
                "drop it from outcomes"
            )


def _honest_note(fit: did.EventStudyResult, term: str) -> str | None:
    """Why HonestDiD cannot run on this fit (None when it can); an unknown term is a user error."""
    if term != "average" and term not in fit.post_terms:
        raise ParameterError(
            f"parameter 'honest_term' is {term!r}, not a post-period term of the model for '{fit.outcome}'; "
            f"use one of {', '.join(fit.post_terms) or '(none)'} or average"
        )
    try:
        _honest_inputs_from_result(fit, term)
    except ParameterError as error:
        return str(error)
    return None


@dataclass(frozen=True, eq=False)
class BookComparison:
    """The book's data only: estimates beside the planted truth and the paper's reporting."""

    comparison: pd.DataFrame
    n_covered: int
    n_intervals: int


def _book_comparison(estimates: pd.DataFrame, controls: tuple[str, ...]) -> BookComparison:
    comparison = report.side_by_side(estimates, ccmc.truth())
    comparison = comparison.merge(ccmc.published_text(), on=["outcome", "term"], how="left")
    comparison["paper"] = comparison["paper"].fillna("")
    core = comparison[~comparison["term"].isin(controls)]
    return BookComparison(comparison, int(core["covers_truth"].sum()), int(core["covers_truth"].notna().sum()))


def paper_significance(mark: str) -> str:
    """The paper's significance mark in words ("**" -> "p < 0.01"; "n.s. (negative)" -> "negative,
    not significant").

    Examples
    --------
    >>> paper_significance("*"), paper_significance("n.s. (negative)"), paper_significance("p<0.1 (negative)")
    ('p < 0.05', 'negative, not significant', 'negative, p < 0.1')
    """
    words = {"**": "p < 0.01", "*": "p < 0.05", "p<0.1": "p < 0.1", "n.s.": "not significant",
             "n/r": "not reported"}
    base, _, note = mark.partition(" (")
    text = words.get(base, base)
    return f"{note.rstrip(')')}, {text}" if note else text
