"""Chapter runner ``sanming-itsa``: interrupted time series of several series (groups) and their sum.

``prepare`` reads the long-format data once (one row per period and group), checks it against
the grouped contract and resolves every setting: the group column, the intervention and the
coding (the study's on the book's data; on a user's data the intervention must be given), the
two groups to compare and the placebo dates (derived from the data when not set). ``run`` fits
every group and outcome (and the summed series), the two-group comparison, the placebo
interventions and the sensitivity grid, computes the effects at the horizon on the outcome's
own scale, and, on the book's data only, the comparison with the truth the synthetic data carry
and with the paper (:mod:`payreform.chapters.sanming_paper`).

Examples
--------
>>> from payreform.chapters import sanming_itsa
>>> result = sanming_itsa.run(sanming_itsa.prepare())
>>> result.settings["compare"], len(result.analyses)
(['hospital', 'community'], 9)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from payreform import itsa, narrative, plots
from payreform.chapters import sanming_paper
from payreform.chapters.base import (
    COMMON_PARAMETERS,
    LANGUAGE_PARAMETER,
    RUNTIME_PARAMETERS,
    Chapter,
    Parameter,
    PreparedInput,
    check_language,
    load_frame,
    load_prepared,
    resolve,
)
from payreform.chapters.itsa_common import (
    USER_CODING,
    autocorrelation_handling,
    check_model_settings,
    hac_lags_for,
    inference_phrase,
    itsa_parameter,
    resolve_inference,
    resolve_seasonal,
)
from payreform.chapters.result import ChapterResult
from payreform.chapters.sanming_paper import findings_text, table4_text, totals_text  # noqa: F401 - re-exported
from payreform.contracts import (
    GroupedTimeSeriesData,
    TimeSeriesData,
    is_percent_column,
    numeric_like,
    require_column,
    validate_grouped_time_series,
    validate_time_series,
)
from payreform.errors import ContractError, ParameterError
from payreform.itsa.robustness import (
    PLACEBO_MIN_SIDE,
    placebo_analysis,
    placebo_dates,
    placebo_rejections,
)
from payreform.periods import FREQUENCY_NAMES, PERIODS_PER_YEAR, parse_period, parse_periods
from payreform.synth import sanming

NAME = "sanming-itsa"
OFF = "off"
"""``--set compare=off`` or ``--set placebos=off`` switches the two-group model or the placebos off."""
SINGLE = "all"
"""Name of the one series when the data have no group column."""

CONTRACT = """\
Long format: one row per period and group (for example hospitals and community institutions),
or one row per period for a single series.
- time_column (default `month`): `2015-01`, `2015年1月`, `2015Q1`, `2015` or an Excel date;
  every group has the same periods, no gaps, no period twice within a group.
- group_column: the column naming each row's group; by default the one text column besides
  the time column (none: a single series).
- outcomes: numeric, no missing values, >= 0 (modelled as ln(y + 1) by default); by default
  every numeric column.
- intervention: the first period under the reform, inside the data, with at least 3 periods
  before and 3 from it on (required for your data).
- compare: the two groups of the two-group model (the first against the second); by default
  the two groups when there are exactly two. With three or more, name two (or compare=off).
CSV in UTF-8 (with or without BOM) or GBK, comma/semicolon/tab separated, Excel (.xlsx/.xls,
first sheet unless sheet=NAME) or Parquet."""

PARAMETERS = (
    *COMMON_PARAMETERS,
    LANGUAGE_PARAMETER,
    Parameter("seed", "int", sanming.DEFAULT_SEED, "seed of the synthetic data"),
    Parameter("output_dir", "str", "reports/sanming-itsa", "folder for results.json, tables/ and figures/"),
    itsa_parameter("time_column"),
    Parameter("group_column", "str", None, "column naming the group (series) of each row", optional=True,
              derived="the book's data: institution; your data: the one text column besides the time column "
                      "(none: a single series)"),
    itsa_parameter("outcomes"),
    itsa_parameter("intervention"),
    itsa_parameter("coding"),
    itsa_parameter("seasonal"),
    itsa_parameter("log", default=True, help="model ln(y + 1) (the paper's scale); effects are reported on the "
                                              "original scale and changes as percentages"),
    itsa_parameter("inference"),
    itsa_parameter("hac_lags"),
    itsa_parameter("bg_order"),
    itsa_parameter("horizon"),
    Parameter("compare", "list", None, "two groups for the two-group (comparative) ITSA, the first against the "
              "second; off = no comparison", optional=True,
              derived="the book's data: hospital,community; your data: the two groups when there are exactly two"),
    Parameter("add_overall", "bool", True, "also analyse the sum of all groups, period by period"),
    Parameter("placebos", "list", None, "placebo intervention dates inside the pre-intervention periods; off = none",
              optional=True, derived=f"up to three dates evenly spaced in the pre-intervention periods, each leaving "
                                     f"{PLACEBO_MIN_SIDE} periods on either side (none if it is shorter)"),
    *RUNTIME_PARAMETERS,
)

TERM_LABELS = {"beta1": "β1 pre slope", "beta2": "β2 as coded", "beta3": "β3 slope change",
               "level_change_at_intervention": "jump at the intervention"}


@dataclass(frozen=True)
class SanmingPrepared(PreparedInput):
    """The validated series (one per group, plus their sum if asked for) and the resolved settings."""

    grouped: GroupedTimeSeriesData = field(default=None, repr=False)
    total_name: str | None = None


# ----------------------------------------------------------------------------- prepare


def _is_off(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 1 and str(value[0]).strip().lower() == OFF


def _guess_group_column(frame: pd.DataFrame, time_column: str, outcomes: list[str] | None) -> str | None:
    text = [c for c in frame.columns
            if c != time_column and c not in (outcomes or []) and not numeric_like(frame[c])]
    if len(text) > 1:
        raise ParameterError(
            f"parameter 'group_column' is needed: columns {', '.join(map(repr, text))} hold text; set "
            f"group_column=<the column naming each row's group>, for example group_column={text[0]}")
    return text[0] if text else None


def _intervention_needed(frame: pd.DataFrame, time_column: str) -> ParameterError:
    periods = parse_periods(frame[time_column], time_column).unique().sort_values()
    return ParameterError(
        f"parameter 'intervention' is needed for your data: set the first period under the reform, for "
        f"example --set intervention={periods[len(periods) // 2]} (the data run from {periods.min()} to "
        f"{periods.max()})")


def _validate(frame: pd.DataFrame, values: Mapping[str, Any], group_column: str | None, intervention: Any,
              compare: list[str] | None) -> GroupedTimeSeriesData:
    outcomes = values["outcomes"]
    if group_column is None:
        try:
            ts = validate_time_series(frame, time_column=values["time_column"], outcomes=outcomes,
                                      intervention=intervention)
        except ContractError as error:
            if "appears twice" in str(error):
                raise ContractError(f"{error}; if the file holds several series, set group_column=<the column "
                                    "naming each series>") from None
            raise
        return GroupedTimeSeriesData({SINGLE: ts}, "")
    if outcomes is None:
        skip = {values["time_column"], group_column}
        outcomes = [c for c in frame.columns if c not in skip and numeric_like(frame[c])]
        if not outcomes:
            raise ContractError("no numeric outcome column found; name the outcomes with outcomes=col1,col2")
    return validate_grouped_time_series(frame, time_column=values["time_column"], group_column=group_column,
                                        outcomes=outcomes, intervention=intervention, compare=compare)


def _derive_compare(groups: tuple[str, ...], book: bool) -> list[str] | None:
    if book:
        return list(sanming.GROUPS)
    if len(groups) == 2:
        return list(groups)
    if len(groups) > 2:
        listed = ", ".join(groups)
        raise ParameterError(
            f"parameter 'compare' is needed: the data have {len(groups)} groups ({listed}); set "
            f"compare={groups[0]},{groups[1]} (the group first, the reference second) or compare=off")
    return None


def _check_placebos(dates: list[Any], ts: TimeSeriesData, seasonal: str) -> list[str]:
    """Parse and check given placebo dates against the pre-intervention periods; return their labels."""
    before = ts.frame.index[ts.frame.index < ts.intervention]
    checked = []
    for date in dates:
        period = parse_period(date, ts.frequency, "placebos")
        n_pre, n_post = int((before < period).sum()), int((before >= period).sum())
        if n_pre < PLACEBO_MIN_SIDE or n_post < PLACEBO_MIN_SIDE:
            raise ParameterError(
                f"parameter 'placebos' has {period}, which leaves {n_pre} periods before it and {n_post} from it "
                f"to the intervention ({ts.intervention}); each placebo needs at least {PLACEBO_MIN_SIDE} on "
                f"each side (pre-intervention data: {before[0]} to {before[-1]}), or set placebos=off")
        checked.append(str(period))
    if checked and seasonal == "season_dummies" and ts.n_pre < 4 + PERIODS_PER_YEAR[ts.frequency] + 3:
        raise ParameterError(
            f"parameter 'placebos' needs more pre-intervention periods than {ts.n_pre} to fit season indicators "
            "in the pre-intervention data alone; set placebos=off or seasonal=ratio_to_moving_average")
    return checked


def prepare(data: Any = None, parameters: Mapping[str, Any] | None = None) -> SanmingPrepared:
    """Read, hash and check the data once and resolve every setting (see the module docstring).

    Parameters
    ----------
    data
        None (the book's synthetic Sanming series), a file path (CSV, Excel or Parquet) or a DataFrame.
    parameters
        Values of :data:`PARAMETERS` (missing ones take their defaults); a notebook passes
        ``CHAPTER.collect(globals())``.

    Raises
    ------
    ContractError, ParameterError
        One line naming the column, row or parameter at fault.
    """
    given = dict(parameters or {})
    if given.get("prepared_input"):
        return load_prepared(given["prepared_input"], NAME)
    CHAPTER.check_names(given)
    values = CHAPTER.defaults() | given
    check_language(values["language"])
    data = values["data"] if data is None else data
    frame, info = load_frame(data, values["sheet"], lambda: sanming.generate(seed=values["seed"]),
                             {"study": "sanming", "seed": values["seed"]})
    book = info["source"] == "synthetic"
    derived: dict[str, Any] = {}
    time_column = values["time_column"]
    require_column(frame, time_column, "time_column")
    group_column = values["group_column"]
    if group_column is None:
        group_column = sanming.GROUP_COLUMN if book else _guess_group_column(frame, time_column, values["outcomes"])
        derived["group_column"] = group_column
    if values["intervention"] is None:
        if not book:
            raise _intervention_needed(frame, time_column)
        derived["intervention"] = sanming.INTERVENTION
    intervention = values["intervention"] or derived["intervention"]
    compare_given = values["compare"]
    compare = None if compare_given is None or _is_off(compare_given) else [str(c).strip() for c in compare_given]
    if compare is not None and group_column is None:
        raise ParameterError("parameter 'compare' needs groups, but the data hold a single series; set "
                             "group_column=<the column naming each row's group> or compare=off")
    grouped = _validate(frame, values, group_column, intervention, compare)
    if values["outcomes"] is None:
        derived["outcomes"] = list(grouped.outcomes)
    if compare_given is None:
        derived["compare"] = _derive_compare(grouped.groups, book)
    compare = derived.get("compare", compare)
    if values["coding"] is None:
        derived["coding"] = sanming.CODING if book else USER_CODING
    first = next(iter(grouped.series.values()))
    n = len(first.frame)
    if values["seasonal"] == "auto":
        derived["seasonal"] = resolve_seasonal("auto", first.frequency, n)
    if values["hac_lags"] == "auto":
        derived["hac_lags"] = hac_lags_for("auto", n)
    derived |= resolve_inference(values, book)
    if values["horizon"] is None:
        derived["horizon"] = first.n_post - 1
    resolved = values | derived
    percent = [o for o in grouped.outcomes if is_percent_column(o)]
    add_overall = bool(values["add_overall"])
    if add_overall and (len(grouped.groups) < 2 or percent):
        if given.get("add_overall") and percent:
            raise ParameterError(f"parameter 'add_overall' is true but '{percent[0]}' is a percentage, which does "
                                 "not add up across groups; set add_overall=false")
        derived["add_overall"] = add_overall = False  # one series, or percentages: no sum
    for name, ts in grouped.series.items():
        try:
            check_model_settings(ts, resolved, n_terms=4)
        except ContractError as error:
            raise ContractError(f"group '{name}': {error}" if group_column else str(error)) from None
    placebos_given = values["placebos"]
    if placebos_given is None:
        dates = placebo_dates(first.frame.index, first.intervention)
        seasonal = resolved["seasonal"]
        if seasonal == "season_dummies" and first.n_pre < 4 + PERIODS_PER_YEAR[first.frequency] + 3:
            dates = []
        derived["placebos"] = [str(d) for d in dates] or None
    elif not _is_off(placebos_given):
        _check_placebos(list(placebos_given), first, resolved["seasonal"])
    total_name = None
    if add_overall:
        total_name = "overall" if "overall" not in grouped.groups else "sum of all groups"
        grouped = grouped.with_total(total_name)
    return SanmingPrepared(chapter=NAME, settings=resolve(PARAMETERS, values, derived), data=info, grouped=grouped,
                           total_name=total_name)


# ----------------------------------------------------------------------------- run


def analysis_settings(prepared: SanmingPrepared) -> dict[str, Any]:
    """Keyword arguments of :func:`payreform.itsa.analyse_series` from the resolved settings."""
    s = prepared.settings
    return {"intervention": prepared.grouped.intervention, "seasonal": s["seasonal"], "log": bool(s["log"]),
            "model": "ols", "coding": s["coding"], "impact": "level_and_slope", "hac_lags": s["hac_lags"],
            "bg_order": int(s["bg_order"]), "inference": s["inference"], "seed": int(s["seed"])}


def compared_groups(settings) -> list[str] | None:
    """The two groups of the two-group model, or None (``off``, or a single group)."""
    value = settings["compare"]
    return None if value is None or _is_off(value) else [str(v) for v in value]


def placebo_list(settings) -> list[str]:
    """The placebo dates used (empty if none or ``off``)."""
    value = settings["placebos"]
    return [] if value is None or _is_off(value) else [str(v) for v in value]


def _effects(analyses: Mapping[tuple[str, str], itsa.SeriesAnalysis], horizon: int) -> pd.DataFrame:
    rows = []
    for (group, outcome), a in analyses.items():
        effect = a.effect_at(horizon)
        for estimate in (effect.absolute, effect.relative):
            rows.append({"model": a.model_name, "group": group, "outcome": outcome, **estimate.row(),
                         "period": str(effect.period), "horizon": effect.horizon, "fitted": effect.fitted,
                         "counterfactual": effect.counterfactual, "scale": effect.scale, "n_obs": a.model.n_obs})
    return pd.DataFrame(rows)


def run(prepared: SanmingPrepared) -> SanmingResult:
    """Fit every series and compute comparisons, placebos, sensitivity and effects (see the module docstring)."""
    s, grouped = prepared.settings, prepared.grouped
    settings = analysis_settings(prepared)
    analyses = {(group, outcome): itsa.analyse_series(ts.frame, outcome, **settings)
                for group, ts in grouped.series.items() for outcome in ts.outcomes}
    effects = _effects(analyses, int(s["horizon"]))
    comparisons: dict[str, itsa.ComparativeITSAResult] = {}
    pair = compared_groups(s)
    if pair:
        first, second = (grouped.series[g] for g in pair)
        two_group = {k: v for k, v in settings.items() if k not in ("inference", "seed")}  # Newey-West, as Linden
        comparisons = {o: itsa.compare_series(first.frame, second.frame, o, group=pair[0], reference=pair[1],
                                              **two_group) for o in grouped.outcomes}
    placebo = pd.DataFrame()
    dates = placebo_list(s)
    if dates:
        placebo = pd.concat([placebo_analysis(a.analysed, intervention=grouped.intervention, placebos=dates,
                                              coding=s["coding"], hac_lags=s["hac_lags"], inference=s["inference"],
                                              seasonal_dummies=s["seasonal"] == "season_dummies").assign(group=g)
                             for (g, _), a in analyses.items()], ignore_index=True)
    sensitivity = pd.concat([itsa.sensitivity_table(grouped.series[g].frame[o], intervention=grouped.intervention,
                                                    coding=s["coding"], log=bool(s["log"])).assign(group=g)
                             for (g, o) in analyses], ignore_index=True)
    codings = pd.concat([itsa.coding_comparison(a).assign(group=g) for (g, _), a in analyses.items()],
                        ignore_index=True)
    book = None
    if prepared.book_data:
        table = pd.concat([a.table(level_change=True).assign(group=g) for (g, _), a in analyses.items()],
                          ignore_index=True)
        book = sanming_paper.paper_comparison(table, s["coding"], int(s["seed"]))
    return SanmingResult(prepared=prepared, analyses=analyses, comparisons=comparisons, effects=effects,
                         placebo=placebo, sensitivity=sensitivity, codings=codings, book=book)


# ----------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class SanmingResult(ChapterResult):
    """Everything the grouped ITSA chapter computes (see :func:`run`)."""

    analyses: dict[tuple[str, str], itsa.SeriesAnalysis] = field(default_factory=dict)
    comparisons: dict[str, itsa.ComparativeITSAResult] = field(default_factory=dict)
    effects: pd.DataFrame = field(default_factory=pd.DataFrame)
    placebo: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    codings: pd.DataFrame = field(default_factory=pd.DataFrame)
    book: sanming_paper.PaperComparison | None = None

    chapter = NAME

    # ------------------------------------------------------------------ data and labels

    @property
    def grouped(self) -> GroupedTimeSeriesData:
        """The validated series (with the sum of the groups if it was added)."""
        return self.prepared.grouped

    @property
    def first(self) -> TimeSeriesData:
        """The first group's series (every group has the same periods)."""
        return next(iter(self.grouped.series.values()))

    def group_label(self, group: str) -> str:
        """Readable group name (the study's labels on the book's data, the data's names otherwise)."""
        return sanming.GROUP_LABELS.get(group, group) if self.book_data else group

    def outcome_label(self, outcome: str) -> str:
        """Readable outcome name."""
        return sanming.OUTCOME_LABELS.get(outcome, outcome) if self.book_data else outcome

    def series_label(self, group: str, outcome: str) -> str:
        """``group: outcome`` (just the outcome for a single series)."""
        if len(self.grouped.groups) == 1:
            return self.outcome_label(outcome)
        return f"{self.group_label(group)}: {self.outcome_label(outcome)}"

    @property
    def log(self) -> bool:
        """True if the series were modelled as ln(y + 1)."""
        return bool(self.settings["log"])

    def data_summary(self) -> pd.DataFrame:
        """One row: groups, periods, intervention and the main settings."""
        ts, s = self.first, self.settings
        return pd.DataFrame({
            "groups": [", ".join(self.grouped.groups)], "first period": [str(ts.frame.index[0])],
            "last period": [str(ts.frame.index[-1])], "frequency": [FREQUENCY_NAMES[ts.frequency]],
            "periods": [len(ts.frame)], "before the intervention": [ts.n_pre], "from the intervention on": [ts.n_post],
            "intervention": [str(ts.intervention)], "seasonal adjustment": [s["seasonal"]],
            "Newey-West lag": [s["hac_lags"]], "scale": ["ln(y + 1)" if self.log else "y"],
        })

    # ------------------------------------------------------------------ results

    def model_table(self) -> pd.DataFrame:
        """β0..β3, post slope and the jump at the intervention of every series (with a group column)."""
        return pd.concat([a.table(level_change=True).assign(group=g) for (g, _), a in self.analyses.items()],
                         ignore_index=True)

    def comparison_table(self) -> pd.DataFrame:
        """The two-group model's terms per outcome (empty without a comparison)."""
        if not self.comparisons:
            return pd.DataFrame()
        rows = []
        for outcome, c in self.comparisons.items():
            table = c.table().assign(model=c.model_name, outcome=outcome, group=f"{c.group}-vs-{c.reference}",
                                     n_obs=c.n_obs)
            rows.append(table)
        return pd.concat(rows, ignore_index=True)

    def estimates(self) -> pd.DataFrame:
        """Model terms of every series, the effects at the horizon, then the two-group terms."""
        effects = self.effects.drop(columns=["fitted", "counterfactual", "horizon", "scale"], errors="ignore")
        parts = [self.model_table(), effects]
        if self.comparisons:
            parts.append(self.comparison_table())
        frame = pd.concat(parts, ignore_index=True)
        front = ["model", "group", "outcome", "term"]
        return frame[front + [c for c in frame.columns if c not in front]]

    def diagnostics_table(self) -> pd.DataFrame:
        """Breusch-Godfrey, Durbin-Watson and R² per series."""
        return pd.concat([itsa.diagnostics_table([a]).assign(group=g) for (g, _), a in self.analyses.items()],
                         ignore_index=True)

    def placebo_summary(self) -> dict:
        """Placebo rejections against chance (see :func:`payreform.itsa.robustness.placebo_rejections`)."""
        if self.placebo.empty:
            return {"tests": 0, "rejections": 0, "expected": 0.0, "tail_p": float("nan")}
        return placebo_rejections(self.placebo)

    def fragile(self) -> pd.DataFrame:
        """Series whose β3 is significant at 5% under some seasonal methods and lags but not under others."""
        table = self.sensitivity.assign(significant=self.sensitivity["p_value"] < narrative.ALPHA)
        counts = table.groupby(["group", "outcome"])["significant"].agg(["sum", "count"]).reset_index()
        return counts[(counts["sum"] > 0) & (counts["sum"] < counts["count"])]

    def diagnostics(self) -> dict:
        """The ``diagnostics`` block of ``results.json``."""
        ts = self.first
        block: dict[str, Any] = {
            "frequency": ts.frequency, "n_periods": len(ts.frame), "n_pre": ts.n_pre, "n_post": ts.n_post,
            "intervention": str(ts.intervention), "groups": list(self.grouped.groups),
            "total": self.prepared.total_name,
            "settings": {k: v for k, v in self.settings.values().items() if k not in ("data", "prepared_input")},
            "series": {f"{g}/{o}": a.diagnostics() for (g, o), a in self.analyses.items()},
            "comparison": {o: c.diagnostics() for o, c in self.comparisons.items()} or None,
            "effects": self.effects.to_dict(orient="records"),
            "placebos": self.placebo.to_dict(orient="records") if not self.placebo.empty else None,
            "placebo_rejections": self.placebo_summary(),
            "sensitivity": self.sensitivity.to_dict(orient="records"),
        }
        if self.book is not None:
            block["paper"] = {"table4_consistency": self.book.table4.to_dict(orient="records"),
                              "text_against_table": self.book.text.to_dict(orient="records"),
                              "totals_consistency": self.book.totals.to_dict(orient="records")}
        return block

    def tables(self) -> dict[str, pd.DataFrame]:
        """Estimates, effects, diagnostics, comparison, placebos, sensitivity and codings."""
        tables = {"estimates": self.estimates(), "effects": self.effects, "diagnostics": self.diagnostics_table(),
                  "settings": self.settings_table(), "data_summary": self.data_summary(),
                  "sensitivity": self.sensitivity, "codings": self.codings}
        if self.comparisons:
            tables["comparison"] = self.comparison_table()
        if not self.placebo.empty:
            tables["placebos"] = self.placebo
        if self.book is not None:
            tables["paper_comparison"] = self.book.comparison
            tables["table4_consistency"] = self.book.table4
            tables["totals_consistency"] = self.book.totals
        return tables

    def effects_shown(self) -> pd.DataFrame:
        """The effects at the horizon for reading: series, period, effect, estimate and 95% interval."""
        rows = []
        for row in self.effects.itertuples():
            relative = row.term == "relative_effect"
            show = narrative.fmt_percent if relative else (lambda v: narrative.fmt(v, 1))
            rows.append({"series": self.series_label(row.group, row.outcome), "period": row.period,
                         "effect": "relative" if relative else "absolute", "estimate": show(row.estimate),
                         "95% CI": f"{show(row.ci_low)} to {show(row.ci_high)}",
                         "p-value": narrative.fmt_p(row.p_value)[2:].strip("= ").replace("< ", "<")})
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ text

    def change_text(self, estimate: float, low: float, high: float) -> str:
        """The size of a slope change and its interval: percent a period on the log scale, units otherwise."""
        unit = {"M": "a month", "Q": "a quarter", "Y": "a year"}[self.first.frequency]
        if self.log:
            size, low, high = (100 * np.expm1(v) for v in (estimate, low, high))
            return (f"{narrative.fmt(abs(size), 2)}% {unit} (95% CI {narrative.fmt(low, 2)}% to "
                    f"{narrative.fmt(high, 2)}%)")
        return f"{narrative.fmt(abs(estimate), 2)} {unit} ({narrative.fmt_interval(low, high)})"

    def series_sentence(self, group: str, outcome: str) -> str:
        """The slope change of one series and its effect at the horizon, chosen by their numbers."""
        model = self.analyses[(group, outcome)].model
        beta3 = model.term("beta3")
        low, high = beta3.interval()
        trend = narrative.direction(beta3.estimate, "bent upwards", "bent downwards", "did not bend")
        text = (f"{self.series_label(group, outcome)}: the trend {trend} by {self.change_text(beta3.estimate, low, high)}"
                f", {narrative.significance(beta3.p_value)}")
        effect = self.effects[(self.effects["group"] == group) & (self.effects["outcome"] == outcome)
                              & (self.effects["term"] == "relative_effect")]
        if not effect.empty:
            e = effect.iloc[0]
            side = narrative.direction(e["estimate"], "above", "below", "at")
            text += (f"; in {e['period']} the fitted series was {narrative.fmt_percent(abs(e['estimate']))[1:]} {side} "
                     f"the counterfactual ({narrative.fmt_interval(e['ci_low'], e['ci_high'], percent=True)})")
        return text + "."

    def summary(self) -> str:
        """What was run and what it found, in a few sentences generated from the numbers."""
        ts, s = self.first, self.settings
        names = narrative.join([self.outcome_label(o) for o in self.grouped.outcomes])
        groups = [g for g in self.grouped.groups if g != self.prepared.total_name]
        who = (f" for {len(groups)} groups ({narrative.join(groups if not self.book_data else [self.group_label(g) for g in groups])})"
               + (" and their sum" if self.prepared.total_name else "")) if len(groups) > 1 else ""
        scale = "ln(y + 1)" if self.log else "y"
        season = {"ratio_to_moving_average": ", after seasonal adjustment by the ratio-to-moving-average method",
                  "season_dummies": ", with calendar-season indicators"}.get(s["seasonal"], "")
        lines = [f"The {FREQUENCY_NAMES[ts.frequency]} series of {names}{who} run from {ts.frame.index[0]} to "
                 f"{ts.frame.index[-1]} ({len(ts.frame)} periods: {ts.n_pre} before the intervention in "
                 f"{ts.intervention} and {ts.n_post} from it on). Each series was fitted by segmented regression on "
                 f"{scale} with {inference_phrase(s)}{season}. The change in trend "
                 "(β3) of each series:"]
        lines.append("\n".join(f"- {self.series_sentence(g, o)}" for (g, o) in self.analyses))
        if self.comparisons:
            lines.append(comparison_text(self))
        lines.append(placebo_text(self))
        lines.append("An interrupted time series attributes to the intervention any change that coincides with it; "
                     "it cannot separate the reform from other events at the same time, and when every series was "
                     "exposed, a comparison between them is not a comparison with an unexposed control.")
        return "\n\n".join(lines)

    def warnings(self) -> list[str]:
        """Remaining autocorrelation, short segments, placebo rejections beyond chance, fragile conclusions."""
        out = []
        rejected = [self.series_label(g, o) for (g, o), a in self.analyses.items()
                    if narrative.significant(a.model.breusch_godfrey.p_value)]
        if rejected:
            out.append(f"Residual autocorrelation remains in {len(rejected)} of {len(self.analyses)} series "
                       f"({narrative.join(rejected)}; Breusch-Godfrey p < 0.05). "
                       + autocorrelation_handling(self.settings))
        ts = self.first
        if min(ts.n_pre, ts.n_post) < 8:
            out.append(f"Short segments: {ts.n_pre} periods before and {ts.n_post} from the intervention on "
                       "(8 or more on each side are advisable).")
        summary = self.placebo_summary()
        if summary["tests"] and summary["tail_p"] < narrative.ALPHA:
            out.append(f"Placebo interventions: {summary['rejections']} of {summary['tests']} level and slope changes "
                       f"are significant at 5% where about {narrative.fmt(summary['expected'], 1)} would be by "
                       "chance: the straight-line model finds breaks where there were none.")
        fragile = self.fragile()
        if not fragile.empty:
            names = [self.series_label(r.group, r.outcome) for r in fragile.itertuples()]
            out.append(f"The significance of β3 depends on the seasonal method or the Newey-West lag for "
                       f"{narrative.join(names)}.")
        return out

    def glue_values(self) -> dict[str, Any]:
        """Values the book page glues (prefix ``sanming_``)."""
        values: dict[str, Any] = {}
        for row in self.model_table().itertuples():
            for suffix, value in (("", row.estimate), ("_lo", row.ci_low), ("_hi", row.ci_high), ("_p", row.p_value)):
                values[f"sanming_{row.group}_{row.outcome}_{row.term}{suffix}"] = float(value)
        for row in self.effects[self.effects["term"] == "relative_effect"].itertuples():
            values[f"sanming_{row.group}_{row.outcome}_effect_pct"] = float(100 * row.estimate)
        for row in self.comparison_table().itertuples():
            values[f"sanming_compare_{row.outcome}_{row.term}"] = float(row.estimate)
            values[f"sanming_compare_{row.outcome}_{row.term}_p"] = float(row.p_value)
        summary = self.placebo_summary()
        values["sanming_placebo_n"] = int(summary["tests"])
        values["sanming_placebo_rejections"] = int(summary["rejections"])
        values["sanming_n_series"] = len(self.analyses)
        values["sanming_n_bg_reject"] = int(sum(narrative.significant(a.model.breusch_godfrey.p_value)
                                                for a in self.analyses.values()))
        values["sanming_n_pre"], values["sanming_n_post"] = self.first.n_pre, self.first.n_post
        values["sanming_t0"] = int(self.first.n_pre + 1)
        if self.book is not None:
            values |= sanming_paper.book_glue(self.book, self.first.n_pre + 1)
        return values

    # ------------------------------------------------------------------ figures

    def figure_names(self) -> tuple[str, ...]:
        """series, itsa_counterfactual, residuals_<i> per series, comparison (two groups), and on the book's
        data coefficients, published_shares and totals_consistency."""
        names = ["series", "itsa_counterfactual", *(f"residuals_{i + 1}" for i in range(len(self.analyses)))]
        if self.comparisons:
            names.append("comparison")
        if self.book is not None:
            names += ["coefficients", "published_shares", "totals_consistency"]
        return tuple(names)

    def figure(self, name: str) -> Figure:
        """Draw the named figure (see :meth:`figure_names`)."""
        from payreform.chapters import sanming_figures as figures

        keys = list(self.analyses)
        if name == "series":
            return figures.series_by_group(self)
        if name == "itsa_counterfactual":
            return figures.fits_grid([self.analyses[k] for k in keys], [self.series_label(*k) for k in keys])
        if name.startswith("residuals_"):
            key = keys[int(name.split("_")[1]) - 1]
            fig = plots.residual_figure(self.analyses[key].model)
            fig.suptitle(self.series_label(*key), fontsize=10)
            return fig
        if name == "comparison" and self.comparisons:
            return figures.comparison_figure(self)
        if self.book is not None and name in ("coefficients", "published_shares", "totals_consistency"):
            return getattr(figures, f"{name}_figure")(self)
        raise KeyError(f"no figure '{name}'; available: {', '.join(self.figure_names())}")


# ----------------------------------------------------------------------------- sentences chosen by the numbers


def model_text(result: SanmingResult) -> str:
    """What the coding of the interaction makes of β2 here, with this run's intervention period."""
    s, ts = result.settings, result.first
    t0 = int(ts.n_pre + 1)
    meaning = {
        "zero_at_intervention": f"$XT_t$ is 0 in the intervention period ({ts.intervention}), so β2 is the jump at "
                                "the intervention",
        "one_at_intervention": f"$XT_t$ is 1 in the intervention period ({ts.intervention}), so β2 is the jump minus "
                               "one period's slope change (the jump is β2 + β3)",
        "time_times_post": f"$XT_t = T$ from the intervention on, so β2 is the gap between the post- and "
                           f"pre-intervention lines at $T = 0$, one period before the data start, not the jump at "
                           f"the intervention; the jump is β2 + β3·{t0}",
    }[s["coding"]]
    text = f"In this run the interaction is coded `{s['coding']}`: {meaning}. The intervention period is $T_0 = {t0}$."
    if result.log:
        text += (" The series are modelled as ln(y + 1): a coefficient b multiplies y + 1 by $e^b$, a change of "
                 "100 ($e^b$ − 1)%.")
    return text


def autocorrelation_text(result: SanmingResult) -> str:
    """How many series still show residual autocorrelation, by the Breusch-Godfrey p-values."""
    table, settings = result.diagnostics_table(), result.settings
    order = int(table["bg_order"].iloc[0])
    rejected = int((table["bg_p_value"] < narrative.ALPHA).sum())
    n = len(table)
    if rejected == 0:
        return (f"The Breusch-Godfrey test of order {order} does not find residual autocorrelation in any of the {n} "
                f"series (smallest p-value {narrative.fmt_p(table['bg_p_value'].min())[4:]}). With few periods the "
                f"test has little power, so the intervals still allow for autocorrelation ({inference_phrase(settings)}).")
    if rejected == n:
        return (f"The Breusch-Godfrey test of order {order} finds residual autocorrelation in every one of the {n} "
                "series, so ordinary standard errors would be too small. " + autocorrelation_handling(settings))
    return (f"The Breusch-Godfrey test of order {order} finds residual autocorrelation in {rejected} of the {n} "
            "series (p < 0.05). " + autocorrelation_handling(settings))


def comparison_text(result: SanmingResult) -> str:
    """Which outcomes' level or slope changes differ between the two groups (β6, β7), by their p-values."""
    if not result.comparisons:
        return "No two-group comparison was run (fewer than two groups, or compare=off)."
    c = next(iter(result.comparisons.values()))
    group, reference = result.group_label(c.group), result.group_label(c.reference)
    differ, same = [], []
    for outcome, comp in result.comparisons.items():
        beta7 = comp.term("beta7")
        (differ if narrative.significant(beta7.p_value) else same).append(
            f"{result.outcome_label(outcome)} (β7 {narrative.fmt(beta7.estimate, 4)}, {narrative.fmt_p(beta7.p_value)})")
    parts = []
    if differ:
        parts.append(f"the change in trend of {group} differs from that of {reference} at the 5% level for "
                     f"{narrative.join(differ)}")
    if same:
        parts.append(f"the difference is not statistically significant for {narrative.join(same)}")
    return "In the two-group model, " + "; ".join(parts) + "."


def placebo_text(result: SanmingResult) -> str:
    """Placebo rejections against what chance would give, or why there are none."""
    dates = placebo_list(result.settings)
    if not dates:
        if _is_off(result.settings["placebos"]):
            return "No placebo interventions were fitted (placebos=off)."
        return (f"No placebo interventions were fitted: the {result.first.n_pre} periods before the intervention "
                f"leave no date with {PLACEBO_MIN_SIDE} periods on each side.")
    summary = result.placebo_summary()
    verdict = ("more than chance would give, so the model finds breaks where nothing happened and its real "
               "findings deserve caution" if summary["tail_p"] < narrative.ALPHA else
               "no more than chance would give")
    return (f"Placebo interventions at {narrative.join(dates)}, fitted to the pre-intervention periods alone: "
            f"{summary['rejections']} of {summary['tests']} level and slope changes are significant at 5% "
            f"(about {narrative.fmt(summary['expected'], 1)} expected by chance), {verdict}.")


def sensitivity_text(result: SanmingResult) -> str:
    """Whether the 5% conclusion about β3 holds across seasonal methods and Newey-West lags."""
    fragile = result.fragile()
    n = len(result.analyses)
    if fragile.empty:
        return (f"For all {n} series the conclusion about β3 at the 5% level is the same under every seasonal "
                "method and Newey-West lag in the grid.")
    names = [result.series_label(r.group, r.outcome) for r in fragile.itertuples()]
    return (f"For {len(names)} of the {n} series ({narrative.join(names)}) β3 is significant at 5% under some "
            "choices and not under others: such a conclusion rests on the choice, not on the data.")


CHAPTER = Chapter(
    name=NAME,
    title="Sanming: city-wide interrupted time series, hospitals vs community institutions",
    notebook="sanming_itsa.py",
    study="sanming",
    contract=CONTRACT,
    parameters=PARAMETERS,
    prepare=prepare,
    run=run,
    report_title="Interrupted time series of several groups",
)
