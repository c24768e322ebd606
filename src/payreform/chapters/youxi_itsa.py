"""Chapter runner ``youxi-itsa``: single-series interrupted time-series analysis.

``prepare`` reads the series once, checks it against the data contract and resolves every
setting (the intervention and coding on the book's data come from the study; on a user's data
the intervention must be given). ``run`` fits every outcome (seasonal adjustment, segmented
regression with Newey-West errors or quasi-Poisson), computes the effects at the horizon on the
outcome's own scale, the diagnostics and the robustness tables, and, on the book's data only,
the comparison with the planted truth and the paper.

Examples
--------
>>> from payreform.chapters import youxi_itsa
>>> result = youxi_itsa.run(youxi_itsa.prepare())
>>> result.settings["intervention"], len(result.analyses)
('2017-10', 4)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from payreform import itsa, narrative, plots, published
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
    Schedule,
    autocorrelation_handling,
    check_model_settings,
    hac_lags_for,
    inference_phrase,
    itsa_parameter,
    resolve_fourier,
    resolve_inference,
    resolve_schedule,
    resolve_seasonal,
    split_interventions,
)
from payreform.chapters.result import ChapterResult
from payreform.chapters.youxi_book import BookComparison, book_comparison
from payreform.contracts import TimeSeriesData, require_column, validate_time_series
from payreform.errors import ParameterError
from payreform.itsa.design import full_design, is_full_rank
from payreform.itsa.robustness import PLACEBO_MIN_SIDE, placebo_analysis, placebo_dates
from payreform.periods import FREQUENCY_NAMES, parse_periods
from payreform.synth import youxi

NAME = "youxi-itsa"

CONTRACT = """\
One row per period (month, quarter or year), no gaps, no duplicate periods.
- time_column (default `month`): `2015-02`, `2015-02-01`, `2015年2月`, `2015Q1`, `2015` or an Excel date.
- outcomes: numeric, no missing values, >= 0; a column whose name ends in `_rate`, `_pct`,
  `率` or `(%)` is a percentage and must lie in [0, 100].
- intervention: the first period under the reform, inside the data, with at least 3 periods
  before and 3 from it on (required for your data).
- offset (optional, quasi-Poisson only): a population column, > 0.
CSV in UTF-8 (with or without BOM) or GBK, comma/semicolon/tab separated, Excel (.xlsx/.xls,
first sheet unless sheet=NAME) or Parquet."""

PARAMETERS = (
    *COMMON_PARAMETERS,
    LANGUAGE_PARAMETER,
    Parameter("seed", "int", youxi.DEFAULT_SEED, "seed of the synthetic data"),
    Parameter("output_dir", "str", "reports/youxi-itsa", "folder for results.json, tables/ and figures/"),
    itsa_parameter("time_column"),
    itsa_parameter("outcomes"),
    itsa_parameter("intervention"),
    itsa_parameter("coding"),
    itsa_parameter("impact"),
    itsa_parameter("seasonal"),
    itsa_parameter("log"),
    Parameter("model", "str", "ols", "ols (Newey-West) or quasipoisson", choices=itsa.MODELS),
    Parameter("offset", "str", None, "population column for quasi-Poisson rates", optional=True),
    Parameter("fourier", "int", 2, "sine/cosine pairs for seasonality in quasi-Poisson fits (at most 1 for "
              "quarters, none for years)"),
    itsa_parameter("inference"),
    itsa_parameter("hac_lags"),
    itsa_parameter("bg_order"),
    itsa_parameter("horizon"),
    itsa_parameter("exclude"),
    itsa_parameter("lag"),
    itsa_parameter("phase_in"),
    Parameter("placebos", "list", None, "earlier dates for placebo interventions inside the pre-period",
              optional=True, derived="up to three dates spread over the pre-period, 6 periods from either end"),
    *RUNTIME_PARAMETERS,
)

TERM_LABELS = {"beta0": "β0 level", "beta1": "β1 pre slope", "beta2": "β2 level change",
               "beta3": "β3 slope change", "post_slope": "β1+β3 post slope"}


@dataclass(frozen=True)
class YouxiPrepared(PreparedInput):
    """The validated series and the resolved settings."""

    series: TimeSeriesData = field(default=None, repr=False)
    schedule: Schedule = field(default=None, repr=False)


def _intervention_needed(frame: pd.DataFrame, time_column: str) -> ParameterError:
    require_column(frame, time_column, "time_column")
    periods = parse_periods(frame[time_column], time_column)
    return ParameterError(
        f"parameter 'intervention' is needed for your data: set the first period under the reform, for "
        f"example --set intervention={periods[len(periods) // 2]} (the data run from {periods.min()} to "
        f"{periods.max()})"
    )


def prepare(data: Any = None, parameters: Mapping[str, Any] | None = None) -> YouxiPrepared:
    """Read, hash and check the data once and resolve every setting (see the module docstring).

    Parameters
    ----------
    data
        None (the book's synthetic Youxi series), a file path (CSV, Excel or Parquet) or a DataFrame.
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
    frame, info = load_frame(data, values["sheet"], lambda: youxi.generate(seed=values["seed"]),
                             {"study": "youxi", "seed": values["seed"]})
    book = info["source"] == "synthetic"
    derived: dict[str, Any] = {}
    if values["intervention"] is None:
        if not book:
            raise _intervention_needed(frame, values["time_column"])
        derived["intervention"] = youxi.INTERVENTION
    intervention = values["intervention"] or derived["intervention"]
    ts = validate_time_series(frame, time_column=values["time_column"], outcomes=values["outcomes"],
                              intervention=split_interventions(intervention)[0], offset=values["offset"])
    schedule = resolve_schedule(ts.frame.index, intervention, values["exclude"], values["lag"], values["phase_in"])
    if values["outcomes"] is None:
        derived["outcomes"] = list(ts.outcomes)
    if values["coding"] is None:
        derived["coding"] = youxi.CODING if book else USER_CODING
    n = len(ts.frame)
    if values["seasonal"] == "auto":  # a count model takes the season as Fourier terms instead
        seasonal = "none" if values["model"] == "quasipoisson" else resolve_seasonal("auto", ts.frequency, n)
        if seasonal == "ratio_to_moving_average" and (schedule.n_excluded or len(schedule.starts) > 1):
            # the moving average cannot skip periods and would smooth every break: season in the model
            dummies = full_design(ts.frame.index, schedule.indices, values["coding"] or USER_CODING,
                                  values["impact"], seasonal_dummies=True)
            if is_full_rank(dummies[~schedule.exclude]):
                seasonal = "season_dummies"
            elif schedule.n_excluded:
                seasonal = "none"
        derived["seasonal"] = seasonal
    if values["hac_lags"] == "auto":
        derived["hac_lags"] = hac_lags_for("auto", n)
    derived |= resolve_inference(values, book)
    if values["model"] == "quasipoisson" and resolve_fourier(values["fourier"], ts.frequency) != values["fourier"]:
        derived["fourier"] = resolve_fourier(values["fourier"], ts.frequency)  # the frequency allows fewer pairs
    if values["horizon"] is None:  # up to the next interruption, or the last period
        end = schedule.indices[1] - 1 if len(schedule.indices) > 1 else n
        derived["horizon"] = end - schedule.indices[0]
    check_model_settings(ts, values | derived, schedule=schedule)
    first = schedule.starts[0]
    if values["placebos"] is None:
        derived["placebos"] = [str(p) for p in placebo_dates(ts.frame.index, first)]
    else:
        check_placebos(ts.frame.index, first, values["placebos"])
    return YouxiPrepared(chapter=NAME, settings=resolve(PARAMETERS, values, derived), data=info, series=ts,
                         schedule=schedule)


def check_placebos(index: pd.PeriodIndex, start: pd.Period, placebos: list[str]) -> None:
    """Each placebo date must leave 6 pre-intervention periods on either side (one-line error)."""
    from payreform.periods import frequency_of, parse_period

    side = PLACEBO_MIN_SIDE
    for item in placebos:
        date = parse_period(item, frequency_of(index), "placebos")
        before = int(((index < date)).sum())
        between = int(((index >= date) & (index < start)).sum())
        if before < side or between < side:
            raise ParameterError(
                f"parameter 'placebos' has {date}, which leaves {before} periods before it and {between} up to the "
                f"intervention {start}; a placebo date needs {side} on each side inside the pre-period"
            )


def analysis_settings(prepared: YouxiPrepared) -> dict[str, Any]:
    """Keyword arguments of :func:`payreform.itsa.analyse_series` from the resolved settings."""
    s = prepared.settings
    quasi = s["model"] == "quasipoisson"
    return {"intervention": prepared.schedule.intervention, "exclude": prepared.schedule.mask(),
            "inference": s["inference"] if not quasi else "newey_west", "seed": int(s["seed"]),
            "seasonal": s["seasonal"], "log": bool(s["log"]),
            "model": s["model"], "coding": s["coding"], "impact": s["impact"], "hac_lags": s["hac_lags"],
            "bg_order": int(s["bg_order"]), "offset": s["offset"] if quasi else None,
            "fourier": int(s["fourier"] or 0) if quasi else 0}


def effect_horizons(schedule: Schedule, n_periods: int, horizon: int) -> list[int]:
    """Horizon of each interruption's effect: ``horizon`` for the first, and for each later one the
    last period before the next interruption (or the last period of the data).

    Examples
    --------
    >>> import pandas as pd
    >>> index = pd.period_range("2015-01", periods=60, freq="M")
    >>> effect_horizons(resolve_schedule(index, "2016-01,2018-01"), 60, 5)
    [5, 23]
    """
    horizons = [int(horizon)]
    for k in range(1, len(schedule.indices)):
        end = schedule.indices[k + 1] - 1 if k + 1 < len(schedule.indices) else n_periods
        horizons.append(end - schedule.indices[k])
    return horizons


def _effects(analyses: tuple[itsa.SeriesAnalysis, ...], horizons: list[int]) -> pd.DataFrame:
    rows = []
    several = len(horizons) > 1
    for a in analyses:
        for k, horizon in enumerate(horizons, start=1):
            effect = a.model.effect_at(horizon, interruption=k)
            for estimate in (effect.absolute, effect.relative):
                row = estimate.row()
                if several:
                    row["term"] = f"{row['term']}_{k}"
                rows.append({"model": a.model_name, "outcome": a.outcome, **row, "period": str(effect.period),
                             "interruption": k, "horizon": effect.horizon, "fitted": effect.fitted,
                             "counterfactual": effect.counterfactual, "scale": effect.scale,
                             "n_obs": a.model.n_fitted})
    return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class YouxiResult(ChapterResult):
    """Everything the Youxi chapter computes (see :func:`run`)."""

    analyses: tuple[itsa.SeriesAnalysis, ...] = ()
    count_models: tuple[itsa.SeriesAnalysis, ...] = ()
    effects: pd.DataFrame = field(default_factory=pd.DataFrame)
    agreement: pd.DataFrame = field(default_factory=pd.DataFrame)
    lag_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    codings: pd.DataFrame = field(default_factory=pd.DataFrame)
    seasonal_methods: pd.DataFrame = field(default_factory=pd.DataFrame)
    placebos: pd.DataFrame = field(default_factory=pd.DataFrame)
    inference: pd.DataFrame = field(default_factory=pd.DataFrame)
    book: BookComparison | None = None

    chapter = NAME

    # ------------------------------------------------------------------ the series and its settings

    @property
    def series(self) -> TimeSeriesData:
        """The validated series."""
        return self.prepared.series

    @property
    def labels(self) -> dict[str, str]:
        """Readable outcome names (the study's labels on book data, column names otherwise)."""
        if self.book_data:
            return dict(youxi.OUTCOME_LABELS)
        return {o: o for o in self.series.outcomes}

    def data_summary(self) -> pd.DataFrame:
        """One row: first and last period, periods before and from the intervention, settings used."""
        ts, s = self.series, self.settings
        return pd.DataFrame({
            "first period": [str(ts.frame.index[0])], "last period": [str(ts.frame.index[-1])],
            "frequency": [FREQUENCY_NAMES[ts.frequency]], "periods": [len(ts.frame)],
            "before the intervention": [ts.n_pre], "from the intervention on": [ts.n_post],
            "intervention": [str(ts.intervention)], "seasonal adjustment": [s["seasonal"]],
            "inference": [s["inference"] or "quasi-likelihood"], "Newey-West lag": [s["hac_lags"]],
            "scale": ["ln(y + 1)" if s["log"] else "y"],
        })

    @property
    def ols(self) -> tuple[itsa.SeriesAnalysis, ...]:
        """The analyses fitted by OLS."""
        return tuple(a for a in self.analyses if a.model_name != "quasipoisson")

    # ------------------------------------------------------------------ results

    def estimates(self) -> pd.DataFrame:
        """Model terms of every fit (and the quasi-Poisson comparison), then the effects at the horizon."""
        parts = [itsa.results_table(list(self.analyses))]
        if self.count_models:
            parts.append(itsa.results_table(list(self.count_models)))
        effects = self.effects.drop(columns=["fitted", "counterfactual", "horizon", "scale"], errors="ignore")
        parts.append(effects)
        return pd.concat(parts, ignore_index=True)

    def diagnostics_table(self) -> pd.DataFrame:
        """Breusch-Godfrey, Durbin-Watson, R², lag and dispersion per fit."""
        return itsa.diagnostics_table(list(self.analyses) + list(self.count_models))

    def diagnostics(self) -> dict:
        """The ``diagnostics`` block of ``results.json``."""
        ts = self.series
        block = {
            "frequency": ts.frequency, "n_periods": len(ts.frame), "n_pre": ts.n_pre, "n_post": ts.n_post,
            "intervention": str(ts.intervention),
            "settings": {k: v for k, v in self.settings.values().items() if k not in ("data", "prepared_input")},
            "outcomes": {a.outcome: a.diagnostics() for a in self.analyses},
            "quasipoisson": {p.outcome: p.diagnostics() for p in self.count_models},
            "effects": self.effects.to_dict(orient="records"),
        }
        if self.book is not None:
            block["implied_denominators"] = self.book.implied_denominators.to_dict(orient="records")
        return block

    def tables(self) -> dict[str, pd.DataFrame]:
        """Estimates, effects, diagnostics and the robustness tables."""
        tables = {"estimates": self.estimates(), "effects": self.effects, "diagnostics": self.diagnostics_table(),
                  "settings": self.settings_table(), "data_summary": self.data_summary()}
        for name in ("lag_table", "codings", "seasonal_methods", "agreement", "placebos", "inference"):
            if not getattr(self, name).empty:
                tables[name] = getattr(self, name)
        return tables

    def effects_shown(self) -> pd.DataFrame:
        """The effects table for reading: outcome, period, effect, estimate and 95% interval."""
        rows = []
        for row in self.effects.itertuples():
            relative = row.term == "relative_effect"
            show = narrative.fmt_percent if relative else (lambda v: narrative.fmt(v, 2))
            rows.append({"outcome": self.labels.get(row.outcome, row.outcome), "period": row.period,
                         "effect": "relative" if relative else "absolute", "estimate": show(row.estimate),
                         "95% CI": f"{show(row.ci_low)} to {show(row.ci_high)}",
                         "p-value": narrative.fmt_p(row.p_value)[2:].strip("= ").replace("< ", "<")})
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ text

    def change_phrases(self, analysis: itsa.SeriesAnalysis, k: int = 1) -> list[str]:
        """The level and slope changes of interruption ``k``, sized and judged by their numbers."""
        model = analysis.model
        unit = FREQUENCY_NAMES[self.series.frequency].replace("ly", "").replace("annual", "year")
        log_scale = model.scale != "linear"
        level, slope = model.terms_of(k)
        parts = []
        if level in model.params.index:
            combo = model.level_change_at_intervention(k)
            low, high = combo.interval()
            if log_scale:
                size = (f"{narrative.fmt_percent(np.expm1(combo.estimate))} "
                        f"({narrative.fmt_interval(np.expm1(low), np.expm1(high), percent=True)})")
            else:
                size = f"{narrative.fmt(combo.estimate)} ({narrative.fmt_interval(low, high)})"
            parts.append(f"the level changed at {model.starts[k - 1]} by {size}, {narrative.significance(combo.p_value)}")
        if slope in model.params.index:
            combo = model.term(slope)
            low, high = combo.interval()
            if log_scale:
                size = (f"{narrative.fmt_percent(np.expm1(combo.estimate), 2)} per {unit} "
                        f"({narrative.fmt_interval(np.expm1(low), np.expm1(high), percent=True)})")
            else:
                size = f"{narrative.fmt(combo.estimate)} per {unit} ({narrative.fmt_interval(low, high)})"
            parts.append(f"the slope changed by {size}, {narrative.significance(combo.p_value)}")
        return parts

    def effect_phrase(self, analysis: itsa.SeriesAnalysis, k: int = 1) -> str:
        """Where the fitted series stood against the counterfactual at interruption ``k``'s horizon."""
        effects = self.effects[(self.effects["outcome"] == analysis.outcome)
                               & (self.effects["model"] == analysis.model_name)
                               & (self.effects["interruption"] == k)
                               & self.effects["term"].str.startswith("relative_effect")]
        if effects.empty:
            return ""
        e = effects.iloc[0]
        side = narrative.direction(e["estimate"], "above", "below", "at")
        without = "" if len(self.prepared.schedule.starts) == 1 else f" without the change at {analysis.model.starts[k - 1]}"
        return (f"In {e['period']} the fitted series was {narrative.fmt_percent(abs(e['estimate']))[1:]} {side} the "
                f"counterfactual{without} ({narrative.fmt_interval(e['ci_low'], e['ci_high'], percent=True)}).")

    def outcome_sentence(self, analysis: itsa.SeriesAnalysis) -> str:
        """What the model says about one outcome, in words chosen by the numbers."""
        label = self.labels.get(analysis.outcome, analysis.outcome)
        pieces = []
        for k in range(1, analysis.model.n_interruptions + 1):
            parts = self.change_phrases(analysis, k)
            text = "; ".join(parts) + "." if parts else ""
            effect = self.effect_phrase(analysis, k)
            pieces.append((text + " " + effect).strip())
        return f"**{label}**: " + " ".join(p[0].upper() + p[1:] if i else p for i, p in enumerate(pieces) if p)

    def summary(self) -> str:
        """What was run and what it found, in a few sentences generated from the numbers."""
        ts, s = self.series, self.settings
        freq = FREQUENCY_NAMES[ts.frequency]
        names = narrative.join([self.labels.get(o, o) for o in ts.outcomes])
        model = ("quasi-Poisson segmented regression (effects as rate ratios)" if s["model"] == "quasipoisson"
                 else f"segmented regression on {'ln(y + 1)' if s['log'] else 'y'} with {inference_phrase(s)}")
        schedule = self.prepared.schedule
        if len(schedule.starts) == 1:
            timing = f"{ts.n_pre} before the intervention in {ts.intervention} and {ts.n_post} from it on"
        else:
            timing = f"interruptions in {narrative.join([str(p) for p in schedule.starts])}"
        lines = [f"The {freq} series of {names} run from {ts.frame.index[0]} to {ts.frame.index[-1]} "
                 f"({len(ts.frame)} periods; {timing}). Each outcome was fitted by {model}"
                 + (", after seasonal adjustment by the ratio-to-moving-average method" if s["seasonal"] ==
                    "ratio_to_moving_average" else
                    ", with calendar-season indicators" if s["seasonal"] == "season_dummies" else "")
                 + "."]
        if schedule.n_excluded:
            lines[0] += (f" {schedule.n_excluded} periods were left out of the fit (excluded windows and "
                         "phase-in periods).")
        if len(schedule.starts) > 1:
            lines[0] += (" Each interruption has its own level and slope change; the effect of one is measured "
                         "against a counterfactual that keeps the others.")
        lines += [self.outcome_sentence(a) for a in self.analyses]
        lines.append("An interrupted time series attributes to the intervention any change that coincides "
                     "with it; it cannot separate the reform from other events at the same time.")
        return "\n\n".join(lines)

    def method_text(self, language: str = "en") -> str:
        """The method of this run in one paragraph (English or Chinese)."""
        s, schedule = self.settings, self.prepared.schedule
        several = len(schedule.starts) > 1
        starts = ", ".join(str(p) for p in schedule.starts)
        lag = s["hac_lags"]
        if language == "zh":
            errors = {"newey_west": f"普通最小二乘估计，Newey-West 稳健标准误（Bartlett 核，滞后 {lag} 阶，小样本校正）",
                      "prais_winsten": "Prais-Winsten 可行广义最小二乘（AR(1) 误差，迭代估计）",
                      "reml": "广义最小二乘，AR(1) 误差以限制性极大似然（REML）估计",
                      "reml_satterthwaite": "广义最小二乘，AR(1) 误差以 REML 估计，自由度按 Satterthwaite 近似",
                      "arima": "极大似然估计，AR(1) 误差",
                      "calibrated": "校准区间：以 REML 估计 AR(1) 误差并校正其小样本偏倚，再以参数 bootstrap-t 求置信区间"}
            model = ("拟泊松分段回归（系数为对数尺度，效应以率比表示）" if s["model"] == "quasipoisson" else
                     f"分段回归（{'对 ln(y + 1) 建模，' if s['log'] else ''}{errors[s['inference']]}）")
            seasonal = {"ratio_to_moving_average": "先用移动平均比率法剔除季节因素",
                        "season_dummies": "在回归中加入月份（或季度）虚拟变量以控制季节性",
                        "none": "未作季节调整"}[s["seasonal"]]
            text = (f"每个结局指标均按间断时间序列分析：{seasonal}，再以{model}估计 "
                    f"Y = β0 + β1·T + β2·X + β3·XT，其中 T 为时间序号，X 自干预时点（{starts}）起取 1，"
                    f"XT 为干预后的时间（编码方式 {s['coding']}）。")
            if several:
                text += "每个中断点各有其水平变化与斜率变化；某一中断点的效应以保留其他中断点的反事实为参照。"
            if schedule.n_excluded:
                text += f"共有 {schedule.n_excluded} 个时期未纳入拟合（排除窗口或过渡期）。"
            return text + ("反事实为干预前趋势的延续，效应为拟合值与反事实之差；以 Breusch-Godfrey 检验残差自相关。"
                           "对数尺度模型的相对效应为 e^d − 1。")
        errors = {"newey_west": f"ordinary least squares with Newey-West standard errors (Bartlett kernel, lag {lag}, "
                                "small-sample factor n/(n - k))",
                  "prais_winsten": "iterated Prais-Winsten feasible GLS with AR(1) errors",
                  "reml": "GLS with AR(1) errors estimated by restricted maximum likelihood (REML)",
                  "reml_satterthwaite": "GLS with AR(1) errors by REML and Satterthwaite degrees of freedom",
                  "arima": "maximum likelihood with AR(1) errors",
                  "calibrated": "GLS with AR(1) errors by REML, its autocorrelation corrected for small-sample bias "
                                "and the intervals taken from a parametric bootstrap-t (the calibrated method)"}
        model = ("quasi-Poisson segmented regression (coefficients on the log scale, effects as rate ratios)"
                 if s["model"] == "quasipoisson" else
                 f"{errors[s['inference']]}{' on ln(y + 1)' if s['log'] else ''}")
        seasonal = {"ratio_to_moving_average": "after removing the season by the ratio-to-moving-average method",
                    "season_dummies": "with calendar-month (or quarter) indicators for the season",
                    "none": "without seasonal adjustment"}[s["seasonal"]]
        text = (f"Each outcome was analysed as an interrupted time series {seasonal}: the segmented regression "
                f"Y = β0 + β1 T + β2 X + β3 XT was fitted by {model}, where T counts the periods, X is 1 from the "
                f"intervention ({starts}) on and XT counts the periods since (coding {s['coding']}).")
        if several:
            text += (" Each interruption has its own level and slope change; the effect of one is measured against a "
                     "counterfactual that keeps the others.")
        if schedule.n_excluded:
            text += f" {schedule.n_excluded} periods were left out of the fit (excluded windows or phase-in)."
        return text + (" The counterfactual is the pre-intervention trend carried forward; the effect is the fitted "
                       "value minus the counterfactual. The Breusch-Godfrey test checks the residuals for "
                       "autocorrelation. On log scales the relative effect is e^d − 1.")

    def limitations(self, language: str = "en") -> list[str]:
        """What an interrupted time series of one group cannot show, and this run's weak points."""
        s, ts = self.settings, self.series
        zh = language == "zh"
        items = [
            "单组设计、无对照序列：与干预同时发生的任何变化都会被归因于干预。" if zh else
            "A single group without a control series: any change that coincides with the intervention is "
            "attributed to it.",
            "反事实假定干预前的趋势本会延续；趋势估计所依据的时期越短，外推越不确定。" if zh else
            "The counterfactual assumes that the pre-intervention trend would have continued; the shorter the "
            "pre-period, the less certain the projection.",
        ]
        if s["model"] != "quasipoisson":
            items.append(("序列存在自相关时：" if zh else "When the series are autocorrelated: ")
                         + autocorrelation_handling(s, language))
        if s["seasonal"] == "ratio_to_moving_average":
            items.append(f"季节指数仅由 {len(ts.frame)} 个时期估计，且两步法的移动平均会平滑干预处的断点，使水平变化偏向零。"
                         if zh else
                         f"The seasonal indices are estimated from {len(ts.frame)} periods, and the two-step "
                         "method's moving average smooths the break, biasing the level change towards zero.")
        return items

    def warnings(self) -> list[str]:
        """Remaining autocorrelation, short segments, few periods for the seasonal indices."""
        out = []
        remaining = [f"'{a.outcome}' (Breusch-Godfrey {narrative.fmt_p(a.model.breusch_godfrey.p_value)})"
                     for a in self.analyses if getattr(a.model, "breusch_godfrey", None) is not None
                     and narrative.significant(a.model.breusch_godfrey.p_value)]
        if remaining:
            out.append(f"Residual autocorrelation remains in {narrative.join(remaining)}. "
                       + autocorrelation_handling(self.settings))
        ts, schedule = self.series, self.prepared.schedule
        bounds = [0, *[i - 1 for i in schedule.indices], len(ts.frame)]
        kept = [int((~schedule.exclude[a:b]).sum()) for a, b in zip(bounds, bounds[1:], strict=False)]
        if min(kept) < 8:
            out.append(f"Short segments: {narrative.join([str(k) for k in kept])} fitted periods between the "
                       "interruptions (8 or more in each segment are advisable).")
        for p in list(self.analyses) + list(self.count_models):
            dispersion = getattr(p.model, "dispersion", None)
            if dispersion is not None and dispersion > 1.5 and p.model_name == "quasipoisson":
                out.append(f"'{p.outcome}' is over-dispersed (dispersion {narrative.fmt(dispersion, 1)}): a plain "
                           "Poisson model would overstate precision; the quasi-Poisson errors allow for it.")
        return out

    def glue_values(self) -> dict[str, Any]:
        """Values the book page glues (prefix ``youxi_``)."""
        values: dict[str, Any] = {}
        for row in itsa.results_table(list(self.analyses)).itertuples():
            for suffix, value in (("", row.estimate), ("_lo", row.ci_low), ("_hi", row.ci_high),
                                  ("_p", row.p_value)):
                values[f"youxi_{row.outcome}_{row.term}{suffix}"] = float(value)
        diag = self.diagnostics_table()
        values["youxi_bg_p_max"] = float(diag["bg_p_value"].max()) if diag["bg_p_value"].notna().any() else float("nan")
        if not self.codings.empty:
            first = self.codings[self.codings["outcome"] == self.series.outcomes[0]]
            for row in first.itertuples():
                values[f"youxi_beta2_{row.coding}"] = float(row.beta2)
        if self.count_models:
            values["youxi_qp_dispersion"] = float(max(p.model.dispersion for p in self.count_models))
            values["youxi_qp_n_disagree"] = int((~self.agreement["same_conclusion"]).sum())
        if self.book is not None:
            comparison = self.book.comparison
            values["youxi_n_covered"] = int(comparison["covers_truth"].sum())
            values["youxi_n_intervals"] = int(comparison["covers_truth"].notna().sum())
            bias = self.book.seasonal_bias
            if not bias.empty:
                shrink = bias.query("seasonal == 'ratio_to_moving_average' and term == 'beta2'")["estimate / truth"]
                values["youxi_rma_beta2_shrink_min"] = float(100 * (1 - shrink.max()))
                values["youxi_rma_beta2_shrink_max"] = float(100 * (1 - shrink.min()))
            for row in self.book.implied_denominators.itertuples():
                values[f"youxi_implied_n_{row.indicator}"] = int(round(float(row.implied_n_per_group)))
            values["youxi_visits_first_year"] = int(self.book.visits_2016)
            values["youxi_chi2_with_visits"] = float(self.book.chi2_with_visits)
            statistic, p_value, dof = self.book.pearson_primary_care
            values["youxi_primary_pearson_chi2"] = float(statistic)
            values["youxi_primary_pearson_p"] = float(p_value)
            values["youxi_primary_pearson_df"] = int(dof)
            implied = self.book.implied_denominators.set_index("indicator")["implied_n_per_group"]
            values["youxi_hypertension_n_ratio"] = float(implied["hypertension_control_rate"]
                                                         / implied["hypertension_standardized_management_rate"])
            for row in self.book.pandemic.to_dict(orient="records"):
                stem = f"youxi_pandemic_{row['outcome']}_{row['term']}"
                values[f"{stem}_truth"] = float(row["truth"])
                values[f"{stem}_ignored"] = float(row["ignored (noise-free)"])
                values[f"{stem}_modelled"] = float(row["modelled (noise-free)"])
                values[f"{stem}_ignored_ratio"] = float(row["ignored (noise-free)"] / row["truth"])
        return values

    # ------------------------------------------------------------------ figures

    def figure_names(self) -> tuple[str, ...]:
        """series, seasonal_indices (if adjusted), coefficients, residuals_<n> per OLS outcome,
        itsa_counterfactual, and annual_indicators on the book's data."""
        names = ["series"]
        if any(a.seasonal is not None for a in self.analyses):
            names.append("seasonal_indices")
        names.append("coefficients")
        names += [f"residuals_{i + 1}" for i in range(len(self.ols))]
        names.append("itsa_counterfactual")
        if self.book is not None:
            names += ["annual_indicators", "pandemic"]
        return tuple(names)

    def seasonal_indices(self) -> pd.DataFrame:
        """Estimated seasonal indices per outcome (and the planted ones on the book's data)."""
        indices = pd.DataFrame({a.outcome: a.seasonal.indices for a in self.analyses if a.seasonal is not None})
        if self.book is not None and not indices.empty:
            for outcome in list(indices.columns):
                indices[f"{outcome} (planted)"] = self.book.planted_indices[outcome].to_numpy()
        return indices

    def figure(self, name: str) -> Figure:
        """Draw the named figure (see :meth:`figure_names`)."""
        ts = self.series
        if name == "series":
            return plots.series_grid(ts.frame, ts.outcomes, ts.intervention, self.labels)
        if name == "seasonal_indices":
            indices = pd.DataFrame({a.outcome: a.seasonal.indices for a in self.analyses if a.seasonal is not None})
            return plots.seasonal_index_figure(indices)
        if name == "coefficients":
            table = self.book.comparison if self.book is not None else \
                itsa.results_table(list(self.analyses))
            return plots.coefficient_grid(table, labels=self.labels)
        if name.startswith("residuals_"):
            analysis = self.ols[int(name.split("_")[1]) - 1]
            return plots.residual_figure(analysis.model)
        if name == "itsa_counterfactual":
            return plots.itsa_grid(list(self.analyses), self.labels)
        if name == "pandemic" and self.book is not None:
            ignored, modelled = self.book.pandemic_fits
            fig, axes = plots.common._grid(2, height=3.5)
            plots.itsa_figure(ignored, ax=axes[0], title="the shock ignored (one interruption)", ylabel="")
            plots.itsa_figure(modelled, ax=axes[1], title="the shock modelled (two interruptions)", ylabel="")
            fig.autofmt_xdate()
            fig.tight_layout()
            return fig
        if name == "annual_indicators" and self.book is not None:
            return plots.annual_indicator_figure(published.load("youxi_table4_services"),
                                                 published.load("youxi_table5_health_management"))
        raise KeyError(f"no figure '{name}'; available: {', '.join(self.figure_names())}")


def run(prepared: YouxiPrepared) -> YouxiResult:
    """Fit every outcome and compute effects, diagnostics and robustness tables (see the module docstring)."""
    ts, s = prepared.series, prepared.settings
    settings = analysis_settings(prepared)
    analyses = tuple(itsa.analyse_series(ts.frame, o, **settings) for o in ts.outcomes)
    schedule = prepared.schedule
    effects = _effects(analyses, effect_horizons(schedule, len(ts.frame), int(s["horizon"])))
    ols = [a for a in analyses if a.model_name != "quasipoisson"]
    count_models: tuple[itsa.SeriesAnalysis, ...] = ()
    agreement = pd.DataFrame()
    if s["model"] == "ols":
        counts = [o for o in ts.outcomes if (ts.frame[o] % 1 == 0).all() and (ts.frame[o] > 0).any()]
        fourier = resolve_fourier(2, ts.frequency)
        count_models = tuple(itsa.analyse_series(ts.frame, o, intervention=schedule.intervention,
                                                 exclude=schedule.mask(), model="quasipoisson",
                                                 coding=s["coding"], impact=s["impact"], fourier=fourier)
                             for o in counts)
        by_outcome = {a.outcome: a for a in analyses}
        if count_models:
            agreement = pd.concat([itsa.compare_conclusions(by_outcome[p.outcome], p) for p in count_models],
                                  ignore_index=True)
    lag_table = pd.DataFrame()
    if s["impact"] != "level" and ols:
        lags = tuple([None, *range(0, min(6, len(ts.frame) - 6) + 1)])
        slope = ols[0].model.terms_of(1)[1]
        lag_table = pd.concat([itsa.lag_sensitivity(a, lags=lags, term=slope) for a in ols], ignore_index=True)
    codings = pd.DataFrame()
    if s["impact"] == "level_and_slope" and ols:
        codings = pd.concat([itsa.coding_comparison(a) for a in ols], ignore_index=True)
    seasonal_methods = pd.DataFrame()
    if ts.frequency != "Y" and len(ts.frame) >= 2 * (12 if ts.frequency == "M" else 4) \
            and all((ts.frame[o] > 0).all() for o in ts.outcomes) and len(schedule.starts) == 1 \
            and not schedule.n_excluded:
        seasonal_methods = pd.concat([itsa.seasonal_method_comparison(ts.frame, o, intervention=ts.intervention,
                                                                      coding=s["coding"], hac_lags=s["hac_lags"])
                                      for o in ts.outcomes], ignore_index=True)
    placebos = pd.DataFrame()
    pre_excluded = prepared.schedule.exclude[: prepared.schedule.indices[0] - 1].any()
    dummies = s["seasonal"] == "season_dummies"
    pre = ts.frame.index[: schedule.indices[0] - 1]
    identified = [d for d in (s["placebos"] or [])
                  if is_full_rank(full_design(pre, int((pre < pd.Period(d, pre.freqstr)).sum()) + 1, s["coding"],
                                              s["impact"], seasonal_dummies=dummies))]
    if identified and ols and not pre_excluded:
        placebos = pd.concat([placebo_analysis(a.analysed, intervention=schedule.starts[0], placebos=identified,
                                               coding=s["coding"], hac_lags=s["hac_lags"], seasonal_dummies=dummies,
                                               inference=s["inference"] or "newey_west")
                              for a in ols], ignore_index=True)
    inference = pd.concat([itsa.inference_comparison(a, seed=int(s["seed"])) for a in ols], ignore_index=True) \
        if ols else pd.DataFrame()
    book = None
    if prepared.book_data:
        book = book_comparison(prepared, itsa.results_table(list(analyses)), s["coding"], int(s["hac_lags"]))
    return YouxiResult(prepared=prepared, analyses=analyses, count_models=count_models, effects=effects,
                       agreement=agreement, lag_table=lag_table, codings=codings,
                       seasonal_methods=seasonal_methods, placebos=placebos, inference=inference, book=book)


CHAPTER = Chapter(
    name=NAME,
    title="Youxi: integrated payment and interrupted time series",
    notebook="youxi_itsa.py",
    study="youxi",
    contract=CONTRACT,
    parameters=PARAMETERS,
    prepare=prepare,
    run=run,
    report_title="Interrupted time-series analysis",
)


from payreform.chapters.youxi_text import (  # noqa: E402 - the notebook calls them as chapter.<name>
    autocorrelation_text,
    count_model_text,
    inference_text,
    lag_rule_text,
    model_text,
    placebo_text,
)

__all__ = ["CHAPTER", "PARAMETERS", "YouxiPrepared", "YouxiResult", "autocorrelation_text", "count_model_text",
           "inference_text",
           "lag_rule_text", "model_text", "placebo_text", "prepare", "run"]
