"""Step 5 of the method: blend two years' standards and simulate the capitation payment.

The standard of every cell is ``omega * S_target + (1 - omega) * S_base``; the payment is that
standard summed over the target year's persons; savings are actual expenditure minus payment,
per scheme and in total. With ``omega = 1`` an OLS standard with an intercept pays exactly the
target year's expenditure (unless a standard had to be floored at 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from payreform.capitation.standards import PaymentStandards
from payreform.errors import ParameterError

__all__ = ["BlendingSimulation", "omega_grid", "simulate_blending"]


def omega_grid(step: float = 0.1) -> list[float]:
    """Weights 0, step, ..., 1 (``step`` must divide 1 into whole steps).

    Examples
    --------
    >>> omega_grid(0.25)
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not 0 < step <= 1:
        raise ParameterError(f"parameter 'omega_step' is {step!r}; use a step between 0 and 1, "
                             "for example 0.1")
    count = int(round(1 / step))
    if abs(count * step - 1) > 1e-9:
        raise ParameterError(f"parameter 'omega_step' is {step}; use a step that divides 1 into "
                             "whole steps, such as 0.1, 0.2, 0.25 or 0.5")
    return [round(i / count, 10) for i in range(count + 1)]


@dataclass(frozen=True, eq=False)
class BlendingSimulation:
    """Capitation payments with blended standards against actual expenditure.

    ``table()`` has one row per scheme (and ``"total"``) and weight ``omega`` (on the target
    year): persons, actual expenditure, payment, savings (actual - payment, RMB) and savings in
    percent of actual expenditure.
    """

    rows: pd.DataFrame = field(repr=False)
    base_year: int
    target_year: int

    def table(self) -> pd.DataFrame:
        """One row per scheme and omega."""
        return self.rows.copy()

    def at(self, omega: float) -> pd.DataFrame:
        """Rows at one weight (the nearest on the grid)."""
        grid = self.rows["omega"].unique()
        nearest = grid[np.argmin(np.abs(grid - omega))]
        return self.rows[self.rows["omega"] == nearest].reset_index(drop=True)

    def diagnostics(self) -> dict[str, Any]:
        """Total savings (RMB and percent) at each weight."""
        total = self.rows[self.rows["scheme"] == "total"]
        return {"base_year": self.base_year, "target_year": self.target_year,
                "savings_pct": dict(zip(total["omega"].astype(str), total["savings_pct"],
                                        strict=True))}

    def summary(self) -> str:
        """Total savings at omega 0, 0.5 and 1."""
        parts = []
        for omega in (0.0, 0.5, 1.0):
            row = self.at(omega).set_index("scheme").loc["total"]
            parts.append(f"omega {row['omega']:g}: {row['savings_pct']:.2f}%")
        return (f"savings against actual {self.target_year} expenditure, weight omega on "
                f"{self.target_year}: " + ", ".join(parts))

    def __repr__(self) -> str:
        return f"BlendingSimulation({self.base_year} -> {self.target_year}; {self.summary()})"


def simulate_blending(
    standards: PaymentStandards,
    *,
    omegas: Sequence[float] | None = None,
) -> BlendingSimulation:
    """Total capitation payment on the target year's population with blended standards.

    Parameters
    ----------
    standards
        Result of :func:`payment_standards` (base and target year).
    omegas
        Weights on the target year, each in [0, 1] (default 0, 0.1, ..., 1).

    Examples
    --------
    >>> from payreform.capitation import cell_statistics, paper_groupings, payment_standards
    >>> from payreform.synth import gz
    >>> cells = cell_statistics(gz.generate(seed=1, scale=0.002))
    >>> standards = payment_standards(cells, *paper_groupings())
    >>> simulation = simulate_blending(standards, omegas=[0.0, 0.5, 1.0])
    >>> bool(simulation.at(1.0)["savings_pct"].abs().max() < 1e-9)  # OLS: the fitted year exactly
    True
    >>> bool(simulation.at(0.0).set_index("scheme").loc["total", "savings_pct"] > 0)
    True
    """
    omegas = np.asarray(omega_grid(0.1) if omegas is None else omegas, dtype=float)
    if omegas.size == 0 or np.any(~np.isfinite(omegas)) or np.any((omegas < 0) | (omegas > 1)):
        raise ParameterError("parameter 'omegas' must hold weights between 0 and 1")
    base_year, target_year = standards.years
    rows = []
    totals = np.zeros((len(omegas), 2))
    persons_total = 0
    for scheme in standards.schemes:
        cells = standards.cells[(standards.cells["scheme"] == scheme)
                                & (standards.cells["year"] == target_year)]
        n = cells["persons"].to_numpy(float)
        payments = []
        for year in (base_year, target_year):
            per_person, los = standards.predict(cells, scheme, year)
            payments.append(float(np.sum(n * per_person) + los * cells["sum_los"].sum()))
        actual, persons = float(cells["sum_y"].sum()), int(n.sum())
        persons_total += persons
        for i, omega in enumerate(omegas):
            payment = omega * payments[1] + (1 - omega) * payments[0]
            totals[i] += (actual, payment)
            rows.append({"scheme": scheme, "omega": float(omega), "persons": persons,
                         "actual": actual, "payment": payment, "savings": actual - payment,
                         "savings_pct": 100 * (actual - payment) / actual if actual else np.nan})
    for i, omega in enumerate(omegas):
        actual, payment = totals[i]
        rows.append({"scheme": "total", "omega": float(omega), "persons": persons_total,
                     "actual": actual, "payment": payment, "savings": actual - payment,
                     "savings_pct": 100 * (actual - payment) / actual if actual else np.nan})
    return BlendingSimulation(pd.DataFrame(rows), base_year, target_year)
