"""``payreform plan itsa``: power and minimum detectable changes before the post-period exists.

Reads a pre-period series (or a longer series and the intervention, whose earlier periods are
used), checks it like the time-series chapters do, and runs :func:`payreform.itsa.plan_itsa`.
Changes are given in the outcome's units or as a percentage of the fitted level at the end of the
pre-period (``level_change=-10%``; ``slope_change=-0.5%`` per period).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from payreform.chapters.base import Chapter, Parameter, load_frame, resolve
from payreform.contracts import validate_time_series
from payreform.errors import ParameterError
from payreform.itsa.power import PLAN_METHODS, PowerPlan, plan_itsa
from payreform.periods import parse_period, parse_periods
from payreform.report import jsonable

PARAMETERS = (
    Parameter("sheet", "str", None, "Excel workbooks: the sheet to read; none = the first", optional=True),
    Parameter("time_column", "str", "month", "column holding the period of each row"),
    Parameter("outcome", "str", None, "the outcome column", optional=True, derived="the only numeric column"),
    Parameter("intervention", "str", None, "first period of the reform, if the file runs past it (the "
              "periods before it are the pre-period)", optional=True),
    Parameter("post_periods", "list", ["12", "24", "36"], "planned periods from the intervention on"),
    Parameter("level_change", "str", "-10%", "planned level change: a number in the outcome's units, or a "
              "percentage of the fitted level at the end of the pre-period"),
    Parameter("slope_change", "str", "0", "planned change in slope per period: a number, or a percentage of "
              "that level"),
    Parameter("inference", "str", "calibrated", "how each simulated series is analysed", choices=PLAN_METHODS),
    Parameter("reps", "int", 200, "simulated series per post-period length"),
    Parameter("rho", "float", None, "use this AR(1) correlation instead of the pre-period's", optional=True),
    Parameter("seed", "int", 20260101, "random seed"),
)

PLANNER = Chapter(name="plan-itsa", title="Power of an interrupted time series", notebook="", study="youxi",
                  contract="A pre-period series: one row per period, no gaps, a numeric outcome.",
                  parameters=PARAMETERS, prepare=lambda *a, **k: None, run=lambda p: None)
"""The planner's parameters, parsed like a chapter's (``--set KEY=VALUE``)."""


def _change(text: str, level: float, parameter: str) -> float:
    raw = str(text).strip()
    try:
        if raw.endswith("%"):
            return float(raw[:-1]) / 100 * level
        return float(raw)
    except ValueError:
        raise ParameterError(f"parameter '{parameter}' is {text!r}; give a number (-300) or a percentage "
                             "(-10%)") from None


def plan_from_data(data: Any, parameters: Mapping[str, Any] | None = None,
                   progress: Callable[[int, int], None] | None = None) -> tuple[PowerPlan, dict]:
    """Read and check the pre-period, then plan; returns the plan and a record for ``plan.json``."""
    given = dict(parameters or {})
    PLANNER.check_names(given)
    values = PLANNER.defaults() | given
    frame, info = load_frame(data, values["sheet"], lambda: None, {})
    periods = parse_periods(frame[values["time_column"]], values["time_column"]) \
        if values["time_column"] in frame.columns else None
    if periods is None:
        from payreform.contracts import require_column

        require_column(frame, values["time_column"], "time_column")
    if values["intervention"] is not None:
        start = parse_period(values["intervention"], periods.freqstr[0].replace("A", "Y"), "intervention")
        frame = frame[(periods < start)]
        if frame.empty:
            raise ParameterError(f"intervention {start} leaves no pre-period; the data start at {periods.min()}")
    outcomes = None if values["outcome"] is None else [values["outcome"]]
    # validate as a series; the intervention of the contract is the period after the last one
    last = parse_periods(frame[values["time_column"]], values["time_column"]).max()
    padded = pd.concat([frame, frame.iloc[[-1]].assign(**{values["time_column"]: str(last + 1)})], ignore_index=True)
    ts = validate_time_series(padded, time_column=values["time_column"], outcomes=outcomes,
                              intervention=str(last + 1), min_post=1)
    if len(ts.outcomes) != 1:
        raise ParameterError(f"the file has several numeric columns ({', '.join(ts.outcomes)}); name one with "
                             "outcome=<column>")
    series = ts.frame[ts.outcomes[0]].iloc[:-1]
    try:
        lengths = [int(p) for p in values["post_periods"]]
    except ValueError:
        raise ParameterError(f"parameter 'post_periods' is {values['post_periods']!r}; give whole numbers, for "
                             "example 12,24,36") from None
    from payreform.itsa.power import fit_preperiod

    level = fit_preperiod(series, seed=int(values["seed"])).level_at_end
    level_change = _change(values["level_change"], level, "level_change")
    slope_change = _change(values["slope_change"], level, "slope_change")
    plan = plan_itsa(series, lengths, level_change=level_change, slope_change=slope_change,
                     inference=values["inference"], reps=int(values["reps"]), rho=values["rho"],
                     seed=int(values["seed"]), progress=progress)
    settings = resolve(PARAMETERS, values, {"outcome": ts.outcomes[0]} if values["outcome"] is None else {})
    record = {"kind": "plan-itsa", "parameters": settings.values(), "data": info,
              "preperiod": {"first": str(series.index[0]), "last": str(series.index[-1]), "periods": len(series),
                            **{row.quantity: row.value for row in plan.preperiod.table().itertuples()}},
              "level_change": level_change, "slope_change": slope_change,
              "power": plan.table.to_dict(orient="records")}
    return plan, record


def write_plan(plan: PowerPlan, record: dict, out: str | Path) -> Path:
    """Write ``plan.json``, ``power.csv`` and ``figures/power.png`` into ``out``; return plan.json's path."""
    import matplotlib.pyplot as plt

    from payreform.plots import save

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plan.table.to_csv(out / "power.csv", index=False)
    fig = plan.figure()
    save(fig, out, "power")
    plt.close(fig)
    path = out / "plan.json"
    path.write_text(json.dumps(jsonable(record), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
