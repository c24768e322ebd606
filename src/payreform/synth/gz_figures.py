"""The GZ paper's figures used by the synthetic city, read from ``data/published`` (the single copy of
the paper's figures, with table and page). Split from :mod:`payreform.synth.gz`, which re-exports
every name."""

from __future__ import annotations

from payreform import published as _published


def _bands_2024() -> dict[str, dict[str, tuple[int, int, int]]]:
    table = _published.load("gz_table3_4_age_bands")
    return {s: {r.band: (int(r.persons), int(r.per_capita), int(r.category))
                for r in part.itertuples()} for s, part in table.groupby("scheme", sort=False)}


def _diseases_2024() -> dict[str, dict[str, tuple[int, int, int]]]:
    table = _published.load("gz_table5_6_diseases")
    return {s: {r.disease: (int(r.patients), int(r.per_capita), int(r.group))
                for r in part.itertuples()} for s, part in table.groupby("scheme", sort=False)}


def _group_cv(dimension: str) -> dict[str, tuple[float, ...]]:
    table = _published.load("gz_table3_6_group_cv").query("dimension == @dimension")
    return {s: tuple(part.sort_values("group")["cv"]) for s, part in
            table.groupby("scheme", sort=False)}


def _coefficients() -> dict[str, dict[str, dict[int, tuple[float, float]]]]:
    table = _published.load("gz_table7_8_coefficients")
    out: dict[str, dict[str, dict[int, tuple[float, float]]]] = {}
    for r in table.itertuples():
        out.setdefault(r.scheme, {}).setdefault(r.term, {})[int(r.year)] = (
            float(r.estimate), float(r.plus_minus))
    return out


def _text_figure(quantity: str, scheme: str | None = None) -> float:
    table = _published.load("gz_text_figures")
    rows = table[table["quantity"] == quantity]
    if scheme is not None:
        rows = rows[rows["scheme"] == scheme]
    return float(rows["value"].iloc[0])


BANDS_2024 = _bands_2024()
"""Tables 3 (UEBHI) and 4 (URRBHI), 2024: band -> (persons, per-capita fund expenditure RMB,
K-means category). UEBHI has no persons under 16."""

BAND_CV_2024 = _group_cv("age_band")
"""Within-category coefficients of variation printed in Tables 3 and 4."""

DISEASES_2024 = _diseases_2024()
"""Tables 5 (UEBHI) and 6 (URRBHI), 2024: disease -> (single-disease patients, per-capita RMB,
K-means group; group 1 is the dearest)."""

DISEASES = tuple(DISEASES_2024["URRBHI"])
"""The 21 Class A OCSDs, in the order of Table 6 (the order of the generator's random draws)."""

DISEASE_CV_2024 = _group_cv("disease")
"""Within-group coefficients of variation printed in Tables 5 and 6."""

COEFFICIENTS = _coefficients()
"""Tables 7 (UEBHI) and 8 (URRBHI): term -> {year: (coefficient, printed +- value)}. Columns
are read as 2023 then 2024 (the text quotes 789.63 for UEBHI inpatient status in 2024). OCSD
1..4 (UEBHI) / 1..5 (URRBHI) are the single-disease groups, then two diseases, then three or
more."""

_SIMULATION = _published.load("gz_section5_simulation")
PUBLISHED_SAVINGS = {(r.scheme, float(r.omega)): float(r.savings_rmb)
                     for r in _SIMULATION.itertuples()}
"""Section 5.2: savings (RMB) on the 2024 population with weight omega on the 2024 standards;
omega = 1 is "about break-even" (the text's 69.46 and 84.94 RMB)."""

PUBLISHED_SAVINGS_PCT_05 = _text_figure("savings_share_pct_omega_half")
"""Total savings at omega = 0.5 in percent as printed (section 5.2); 0.641 / 11.811 is 5.43%."""

SCREENING_R2 = tuple(_text_figure(f"screening_r_squared_{i}") for i in range(1, 9))
"""Table 2's R² values; which column is which model is ambiguous in the text."""

LOS_P_VALUE_UEBHI = _text_figure("los_p_value_text", "UEBHI")
"""p-value of length of stay in the UEBHI screening regression (abstract, section 4.1; Table 2
prints 0.0917)."""
