"""The sensitivity analysis of one outcome, as a chapter reports it.

:func:`sensitivity_analysis` runs HonestDiD under both restrictions (relative magnitudes with
the analyst's bounds, smoothness with the default grid), their breakdown values, and, when a
second fit with the year before the reference is given, the relative-magnitude analysis from
that reference too. Reforms often act in their adoption year, which the CCMC study uses as the
reference: the change from the year before to the adoption year then counts as a pre-reform
divergence, and the second reference shows how much the conclusion depends on it.
:func:`largest_pre_change` names the pre-reform change that sets the scale of Mbar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from payreform.did.event_study import EventStudyResult
from payreform.did.honest import HonestDiDResult, breakdown_value, honest_did
from payreform.errors import ParameterError

__all__ = ["SensitivityAnalysis", "largest_pre_change", "sensitivity_analysis"]

INTERVAL_COLUMNS = ["outcome", "target", "restriction", "bound", "ci_low", "ci_high", "method"]


@dataclass(frozen=True, eq=False)
class SensitivityAnalysis:
    """HonestDiD for one outcome (see :func:`sensitivity_analysis`).

    ``previous_*`` hold the analysis with the year before the reference as reference (None when
    not run); ``note`` says why nothing was run (empty when it was).
    """

    outcome: str
    target: str
    relative: HonestDiDResult | None = None
    smooth: HonestDiDResult | None = None
    breakdown_mbar: float = float("nan")
    breakdown_m: float = float("nan")
    previous_fit: EventStudyResult | None = None
    previous: HonestDiDResult | None = None
    previous_breakdown: float = float("nan")
    note: str = ""

    def intervals(self) -> pd.DataFrame:
        """Both restrictions' intervals (the original one first), one row per bound."""
        if self.relative is None:
            return pd.DataFrame(columns=INTERVAL_COLUMNS)
        parts = [self.relative.table(include_original=True), self.smooth.table()]
        return pd.concat(parts, ignore_index=True).assign(outcome=self.outcome, target=self.target)[INTERVAL_COLUMNS]

    def diagnostics(self) -> dict:
        """Breakdown values and the reason when nothing was run (for ``results.json``)."""
        return {"target": self.target, "breakdown_mbar": self.breakdown_mbar, "breakdown_m": self.breakdown_m,
                "previous_reference": self.previous_fit.did_base if self.previous is not None else None,
                "previous_breakdown_mbar": self.previous_breakdown if self.previous is not None else None,
                "note": self.note}

    def summary(self) -> str:
        """One line: the breakdown values."""
        if self.note:
            return f"{self.outcome}: not run ({self.note})"
        text = f"{self.outcome}, {self.target}: breakdown Mbar {self.breakdown_mbar:.3g}, M {self.breakdown_m:.3g}"
        if self.previous is not None:
            text += f"; with reference {self.previous_fit.did_base}: Mbar {self.previous_breakdown:.3g}"
        return text

    def __repr__(self) -> str:
        return f"SensitivityAnalysis(outcome={self.outcome!r}, target={self.target!r})"


def sensitivity_analysis(
    fit: EventStudyResult,
    *,
    post_term: str | None = None,
    mbar: Sequence[float] = (0, 0.5, 1, 1.5, 2),
    previous_fit: EventStudyResult | None = None,
) -> SensitivityAnalysis:
    """HonestDiD under both restrictions with breakdown values, and optionally a second reference.

    Parameters
    ----------
    fit
        A fitted :func:`payreform.did.event_study`.
    post_term
        The effect analysed (default: the first post-period term).
    mbar
        Relative-magnitude bounds.
    previous_fit
        The same model with the year before the reference as reference (``did_base - 1``); its
        analysis of the same ``post_term`` is added when that term is one of its post terms.

    Examples
    --------
    >>> from payreform.did import event_study
    >>> from payreform.synth import ccmc
    >>> keys = dict(outcome="income_primary_care_staff", unit="county_id", time="year", treated="treated")
    >>> panel = ccmc.generate(seed=1)
    >>> result = sensitivity_analysis(event_study(panel, **keys, did_base=2020), mbar=[0, 1],
    ...                               previous_fit=event_study(panel, **keys, did_base=2019))
    >>> result.target, result.previous_fit.did_base, result.breakdown_mbar > 1
    ('did2021', 2019, True)
    """
    target = post_term or (fit.post_terms[0] if fit.post_terms else "")
    relative = honest_did(fit, post_term=target, mbar=mbar)
    smooth = honest_did(fit, post_term=target, restriction="smoothness")
    out = {"relative": relative, "smooth": smooth, "breakdown_mbar": breakdown_value(relative),
           "breakdown_m": breakdown_value(smooth)}
    if previous_fit is not None and target in previous_fit.post_terms:
        try:
            previous = honest_did(previous_fit, post_term=target, mbar=mbar)
        except ParameterError:  # e.g. too few pre-periods from that reference: not run
            previous = None
        if previous is not None:
            out.update(previous_fit=previous_fit, previous=previous, previous_breakdown=breakdown_value(previous))
    return SensitivityAnalysis(fit.outcome, target, **out)


def largest_pre_change(fit: EventStudyResult) -> tuple[int, int, float] | None:
    """The largest change of the treated-control gap between consecutive periods up to the
    reference (from, to, change): the yardstick of the relative-magnitude bound. None without
    pre-period terms or with a gap in the periods.

    Examples
    --------
    >>> from payreform.did import event_study
    >>> from payreform.synth import ccmc
    >>> fit = event_study(ccmc.generate(noise_scale=0.0), outcome="income_county_hospital_staff",
    ...                   unit="county_id", time="year", treated="treated", did_base=2020)
    >>> frm, to, change = largest_pre_change(fit)
    >>> frm, to, round(change, 2)
    (2019, 2020, -2.17)
    """
    periods = [fit.interaction_periods[t] for t in fit.pre_terms] + [fit.reference]
    values = [float(fit.params[t]) for t in fit.pre_terms] + [0.0]
    if len(periods) < 2 or np.any(np.diff(periods) != 1):
        return None
    changes = np.diff(values)
    i = int(np.argmax(np.abs(changes)))
    return int(periods[i]), int(periods[i + 1]), float(changes[i])
